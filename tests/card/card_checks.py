#!/usr/bin/python3
"""Scenario checks for the rig's selftest: talk to the virtual cards through the real pcscd.

	card_checks.py SCENARIO [options]       (after sourcing the rig's DIR/env)

Prints one "ok - ..." / "not ok - ..." line per check and "time NAME SECONDS" lines for
measurements; exits 1 if any check failed. The host side here does what mfauth's card code must
do (doc/DESIGN.md §5), so it doubles as an executable reading of the APDU tables.
"""

import argparse
import datetime
import gzip
import hashlib
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apdu_client as pc  # noqa: E402

from cryptography import x509  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils  # noqa: E402

JPKI_SELECT_AP = bytes.fromhex("00A4040C0AD392F000260100000001")
JPKI_SELECT_CERT = bytes.fromhex("00A4020C02000A")
JPKI_SELECT_PIN = bytes.fromhex("00A4020C020018")
JPKI_SELECT_KEY = bytes.fromhex("00A4020C020017")
VERIFY_QUERY = bytes.fromhex("00200080")
PIV_SELECT = bytes.fromhex("00A4040009A0000003080000100000")
PIV_GET_CERT = bytes.fromhex("00CB3FFF055C035FC10500")
DIGESTINFO_SHA256 = bytes.fromhex("3031300d060960864801650304020105000420")

failures = 0


def check(cond, desc):
	global failures
	print("%s - %s" % ("ok" if cond else "not ok", desc))
	if not cond:
		failures += 1
	return cond


def check_sw(got, want, desc):
	return check(got == want, "%s: SW %04X (want %04X)" % (desc, got, want))


def timing(name, seconds):
	print("time %s %.6f" % (name, seconds))


def xfer(card, apdu):
	"""Transmit and follow 61 xx with GET RESPONSE; return (data, sw, number of responses)."""
	data, sw = card.transmit(apdu)
	parts = 1
	while sw >> 8 == 0x61 and parts < 64:
		more, sw = card.transmit(bytes([0x00, 0xC0, 0x00, 0x00, sw & 0xFF]))
		data += more
		parts += 1
	return data, sw, parts


def load_manifest(keys):
	with open(os.path.join(keys, "keys.json")) as f:
		return json.load(f)


def expected_cert(keys, name, variant="valid"):
	with open(os.path.join(keys, load_manifest(keys)[name]["certs"][variant]["der"]), "rb") as f:
		return f.read()


def connect(reader):
	ctx = pc.Context()
	card = ctx.connect(reader)
	return ctx, card


def jpki_read_cert(card):
	"""Read EF 000A the way the host must: 4 bytes for the length, then chunks of at most 256."""
	head, sw = card.transmit(JPKI_SELECT_CERT)
	if sw != 0x9000:
		return None, sw
	head, sw = card.transmit(bytes.fromhex("00B0000004"))
	if sw != 0x9000 or len(head) != 4 or head[:2] != b"\x30\x82":
		return None, sw
	total = ((head[2] << 8) | head[3]) + 4
	out = bytearray(head)
	while len(out) < total:
		n = min(256, total - len(out))
		data, sw = card.transmit(bytes([0x00, 0xB0, len(out) >> 8, len(out) & 0xFF, n & 0xFF]))
		if sw != 0x9000 or not data or len(data) > n:
			return None, sw
		out += data
	return bytes(out), 0x9000


def jpki_verify_apdu(pin):
	return bytes([0x00, 0x20, 0x00, 0x80, len(pin)]) + pin.encode()


def piv_verify_apdu(pin):
	return bytes.fromhex("0020008008") + pin.encode().ljust(8, b"\xff")


def sc_jpki_basic(args):
	"""Selection, certificate reading, error status words, PIN query; no PIN is tried."""
	ctx, card = connect(args.reader)
	card.begin()
	check_sw(card.transmit(bytes.fromhex("00A4020C02000A"))[1], 0x6A82, "EF before the AP is selected")
	check_sw(card.transmit(JPKI_SELECT_AP)[1], 0x9000, "SELECT JPKI AP")
	check_sw(card.transmit(bytes.fromhex("00A4040C0AD392F000260100000099"))[1], 0x6A82,
		"SELECT unknown AID")
	cert, sw = jpki_read_cert(card)
	want = expected_cert(args.keys, args.key_name, args.cert_variant)
	check(cert == want, "certificate read in chunks equals %s/%s (%d bytes)" % (
		args.key_name, args.cert_variant, len(want)))
	n = len(want)
	data, sw = card.transmit(bytes([0x00, 0xB0, n >> 8, n & 0xFF, 0x10]))
	check_sw(sw, 0x6B00, "READ BINARY at the end of the file")
	data, sw = card.transmit(bytes([0x00, 0xB0, (n - 10) >> 8, (n - 10) & 0xFF, 0x20]))
	check(sw == 0x6282 and data == want[-10:], "READ BINARY across the end: 10 bytes + 6282")
	check_sw(card.transmit(bytes.fromhex("00B0000000"))[1], 0x9000, "READ BINARY Le=00 (256)")
	check_sw(card.transmit(bytes.fromhex("00A4020C020099"))[1], 0x6A82, "SELECT unknown EF")
	check_sw(card.transmit(bytes.fromhex("00CA010100"))[1], 0x6D00, "unknown instruction")
	check_sw(card.transmit(bytes.fromhex("10A4020C02000A"))[1], 0x6884, "command chaining refused")
	check_sw(card.transmit(JPKI_SELECT_PIN)[1], 0x9000, "SELECT PIN EF")
	check_sw(card.transmit(VERIFY_QUERY)[1], 0x63C0 | args.tries, "tries left")
	check_sw(card.transmit(bytes.fromhex("0020008000"))[1], 0x6700, "VERIFY with Le, no data")
	check_sw(card.transmit(jpki_verify_apdu("12345"))[1], 0x6700, "5-digit PIN refused, no try used")
	check_sw(card.transmit(VERIFY_QUERY)[1], 0x63C0 | args.tries, "tries left unchanged")
	check_sw(card.transmit(JPKI_SELECT_KEY)[1], 0x9000, "SELECT key EF")
	digest_info = DIGESTINFO_SHA256 + hashlib.sha256(b"x").digest()
	check_sw(card.transmit(b"\x80\x2A\x00\x80\x33" + digest_info + b"\x00")[1], 0x6982,
		"SIGN before VERIFY")
	check_sw(card.transmit(b"\x80\x2A\x00\x80\x32" + digest_info[:50] + b"\x00")[1], 0x6700,
		"SIGN with Lc 50")
	check_sw(card.transmit(b"\x00\x2A\x00\x80\x33" + digest_info + b"\x00")[1], 0x6E00,
		"SIGN with CLA 00")
	card.end()
	card.disconnect(pc.SCARD_RESET_CARD)
	ctx.release()


def sc_jpki_tries(args):
	ctx, card = connect(args.reader)
	card.transmit(JPKI_SELECT_AP)
	card.transmit(JPKI_SELECT_PIN)
	want = {"blocked": 0x6983}.get(args.expect) or 0x63C0 | int(args.expect)
	check_sw(card.transmit(VERIFY_QUERY)[1], want, "JPKI tries left (%s)" % args.expect)
	card.disconnect(pc.SCARD_RESET_CARD)
	ctx.release()


def sc_jpki_verify(args):
	ctx, card = connect(args.reader)
	card.transmit(JPKI_SELECT_AP)
	card.transmit(JPKI_SELECT_PIN)
	check_sw(card.transmit(jpki_verify_apdu(args.pin))[1], int(args.expect, 16),
		"JPKI VERIFY %s PIN" % ("right" if args.pin == "1234" else "wrong"))
	card.disconnect(pc.SCARD_RESET_CARD)
	ctx.release()


def sc_jpki_login(args):
	"""A whole login in one transaction, the signature verified on the host; then the reset
	must have cleared the verified state."""
	cert_der = expected_cert(args.keys, args.key_name)
	pub = x509.load_der_x509_certificate(cert_der).public_key()
	challenge = os.urandom(32)
	t0 = time.perf_counter()
	ctx, card = connect(args.reader)
	t1 = time.perf_counter()
	card.begin()
	ok = card.transmit(JPKI_SELECT_AP)[1] == 0x9000
	cert, sw = jpki_read_cert(card)
	ok = ok and cert == cert_der
	ok = ok and card.transmit(JPKI_SELECT_PIN)[1] == 0x9000
	tries_sw = card.transmit(VERIFY_QUERY)[1]
	verify_sw = card.transmit(jpki_verify_apdu(args.pin))[1]
	ok = ok and card.transmit(JPKI_SELECT_KEY)[1] == 0x9000
	digest_info = DIGESTINFO_SHA256 + hashlib.sha256(challenge).digest()
	sig, sign_sw = card.transmit(b"\x80\x2A\x00\x80\x33" + digest_info + b"\x00")
	card.end()
	card.disconnect(pc.SCARD_RESET_CARD)
	t2 = time.perf_counter()
	check(ok, "JPKI select/read certificate/select PIN+key")
	check_sw(tries_sw, 0x63C0 | args.tries, "tries left before login")
	check_sw(verify_sw, 0x9000, "VERIFY right PIN")
	check(sign_sw == 0x9000 and len(sig) == 256, "SIGN gives 256 bytes + 9000")
	try:
		pub.verify(sig, challenge, padding.PKCS1v15(), hashes.SHA256())
		good = True
	except InvalidSignature:
		good = False
	check(good, "signature verifies with the certificate's key (PKCS#1 v1.5, SHA-256)")
	timing("jpki_login_incl_connect", t2 - t0)
	timing("jpki_login_in_connection", t2 - t1)
	# the next session must start unverified (SCARD_RESET_CARD above)
	card = ctx.connect(args.reader)
	card.transmit(JPKI_SELECT_AP)
	card.transmit(JPKI_SELECT_KEY)
	check_sw(card.transmit(b"\x80\x2A\x00\x80\x33" + digest_info + b"\x00")[1], 0x6982,
		"SIGN after reset needs the PIN again")
	card.transmit(JPKI_SELECT_PIN)
	check_sw(card.transmit(VERIFY_QUERY)[1], 0x63C3, "right PIN restored the counter to 3")
	card.disconnect(pc.SCARD_RESET_CARD)
	ctx.release()


def sc_jpki_block(args):
	ctx, card = connect(args.reader)
	card.begin()
	card.transmit(JPKI_SELECT_AP)
	card.transmit(JPKI_SELECT_PIN)
	for left in (2, 1, 0):
		check_sw(card.transmit(jpki_verify_apdu("9999"))[1], 0x63C0 | left,
			"wrong PIN, %d left" % left)
	check_sw(card.transmit(VERIFY_QUERY)[1], 0x6983, "query on a blocked PIN")
	check_sw(card.transmit(jpki_verify_apdu("1234"))[1], 0x6983, "right PIN on a blocked card")
	card.end()
	card.disconnect(pc.SCARD_RESET_CARD)
	ctx.release()


def piv_parse_cert_object(obj):
	"""53 L { 70 L cert 71 01 info FE 00 } -> (cert DER, info byte); None on any malformation."""
	def tlv_at(buf, i):
		tag, n = buf[i], buf[i + 1]
		i += 2
		if n == 0x81:
			n, i = buf[i], i + 1
		elif n == 0x82:
			n, i = (buf[i] << 8) | buf[i + 1], i + 2
		return tag, buf[i:i + n], i + n
	try:
		tag, body, end = tlv_at(obj, 0)
		if tag != 0x53 or end != len(obj):
			return None
		fields, i = {}, 0
		while i < len(body):
			tag, value, i = tlv_at(body, i)
			fields[tag] = value
		cert = fields[0x70]
		info = fields[0x71][0]
		return (gzip.decompress(cert) if info == 1 else cert), info
	except (IndexError, KeyError, OSError):
		return None


def ber_len(n):
	return bytes([n]) if n < 0x80 else bytes([0x81, n]) if n < 0x100 else b"\x82" + n.to_bytes(2, "big")


def piv_general_authenticate(card, alg, block):
	"""GENERAL AUTHENTICATE 9A with command chaining (255-byte pieces); follows 61 xx."""
	inner = b"\x82\x00\x81" + ber_len(len(block)) + block
	body = b"\x7C" + ber_len(len(inner)) + inner
	pieces = [body[i:i + 255] for i in range(0, len(body), 255)]
	for piece in pieces[:-1]:
		_, sw = card.transmit(bytes([0x10, 0x87, alg, 0x9A, len(piece)]) + piece)
		if sw != 0x9000:
			return None, sw, len(pieces)
	data, sw, _ = xfer(card, bytes([0x00, 0x87, alg, 0x9A, len(pieces[-1])]) + pieces[-1] + b"\x00")
	return data, sw, len(pieces)


def piv_signature(resp):
	"""7C L 82 L sig -> sig (short or 81/82 lengths); None if malformed."""
	def take(buf, tag):
		if len(buf) < 2 or buf[0] != tag:
			return None
		n, i = buf[1], 2
		if n == 0x81:
			n, i = buf[2], 3
		elif n == 0x82:
			n, i = (buf[2] << 8) | buf[3], 4
		return buf[i:i + n] if i + n == len(buf) else None
	inner = take(resp, 0x7C)
	return take(inner, 0x82) if inner is not None else None


def sc_piv_login(args):
	rsa_card = args.key_name in ("piv-rsa", "other-rsa")
	alg = 0x07 if rsa_card else 0x11
	cert_der = expected_cert(args.keys, args.key_name)
	pub = x509.load_der_x509_certificate(cert_der).public_key()
	challenge = os.urandom(32)
	digest = hashlib.sha256(challenge).digest()
	if rsa_card:
		k = pub.key_size // 8
		t = DIGESTINFO_SHA256 + digest
		block = b"\x00\x01" + b"\xff" * (k - 3 - len(t)) + b"\x00" + t
	else:
		block = digest
	t0 = time.perf_counter()
	ctx, card = connect(args.reader)
	card.begin()
	apt, sw, _ = xfer(card, PIV_SELECT)
	check(sw == 0x9000 and apt[:1] == b"\x61", "SELECT PIV returns the APT template + 9000")
	check_sw(card.transmit(VERIFY_QUERY)[1], 0x63C3, "PIV tries left")
	obj, sw, parts = xfer(card, PIV_GET_CERT)
	parsed = piv_parse_cert_object(obj) if sw == 0x9000 else None
	check(parsed is not None and parsed[0] == cert_der and parsed[1] == (1 if args.gzip else 0),
		"GET DATA 5FC105: certificate%s in 53/70/71/FE" % (" (gzip)" if args.gzip else ""))
	check(parts >= 2, "certificate object came in %d pieces via 61 xx / GET RESPONSE" % parts)
	_, sw, _ = piv_general_authenticate(card, alg, block)
	check_sw(sw, 0x6982, "GENERAL AUTHENTICATE before VERIFY")
	check_sw(card.transmit(piv_verify_apdu("1234"))[1], 0x6A80, "4-digit PIV PIN badly formatted")
	check_sw(card.transmit(VERIFY_QUERY)[1], 0x63C3, "no try used by the bad format")
	check_sw(card.transmit(piv_verify_apdu("99999999"))[1], 0x63C2, "wrong PIN")
	check_sw(card.transmit(piv_verify_apdu(args.pin))[1], 0x9000, "right PIN")
	check_sw(card.transmit(VERIFY_QUERY)[1], 0x9000, "query says verified")
	t1 = time.perf_counter()
	resp, sw, pieces = piv_general_authenticate(card, alg, block)
	t2 = time.perf_counter()
	sig = piv_signature(resp) if sw == 0x9000 else None
	check(sig is not None, "GENERAL AUTHENTICATE returns 7C/82 (%d command pieces)" % pieces)
	if rsa_card:
		check(pieces == 2, "RSA request needed command chaining")
	try:
		if rsa_card:
			pub.verify(sig or b"", challenge, padding.PKCS1v15(), hashes.SHA256())
		else:
			pub.verify(sig or b"", digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
		good = True
	except (InvalidSignature, ValueError):
		good = False
	check(good, "signature verifies with the certificate's key")
	check_sw(piv_general_authenticate(card, 0x11 if rsa_card else 0x07, block)[1], 0x6A86,
		"GENERAL AUTHENTICATE with the wrong algorithm")
	check_sw(card.transmit(bytes([0x00, 0x87, alg, 0x9C, 0x06]) + bytes.fromhex("7C0482008100"))[1], 0x6A88,
		"GENERAL AUTHENTICATE with key 9C (absent)")
	check_sw(card.transmit(bytes.fromhex("00CB3FFF055C035FC10A00"))[1], 0x6A82, "GET DATA 5FC10A")
	check_sw(card.transmit(bytes.fromhex("0020FF80"))[1], 0x9000, "VERIFY P1=FF resets the PIN")
	check_sw(piv_general_authenticate(card, alg, block)[1], 0x6982, "signing needs the PIN again")
	card.end()
	card.disconnect(pc.SCARD_RESET_CARD)
	timing("piv_%s_session" % ("rsa" if rsa_card else "ec"), time.perf_counter() - t0)
	timing("piv_%s_general_authenticate" % ("rsa" if rsa_card else "ec"), t2 - t1)
	card = ctx.connect(args.reader)
	xfer(card, PIV_SELECT)
	check_sw(card.transmit(VERIFY_QUERY)[1], 0x63C3, "new session: unverified, counter back to 3")
	card.disconnect(pc.SCARD_RESET_CARD)
	ctx.release()


def sc_piv_block(args):
	ctx, card = connect(args.reader)
	xfer(card, PIV_SELECT)
	for left in (2, 1, 0):
		check_sw(card.transmit(piv_verify_apdu("99999999"))[1], 0x63C0 | left,
			"PIV wrong PIN, %d left" % left)
	check_sw(card.transmit(VERIFY_QUERY)[1], 0x6983, "PIV query on a blocked PIN")
	check_sw(card.transmit(piv_verify_apdu(args.pin))[1], 0x6983, "PIV right PIN when blocked")
	card.disconnect(pc.SCARD_RESET_CARD)
	ctx.release()


def sc_cert(args):
	"""The card presents the expected certificate variant/identity (other card, expired...)."""
	ctx, card = connect(args.reader)
	if args.key_name.startswith("piv") or args.key_name == "other-ec":
		xfer(card, PIV_SELECT)
		obj, sw, _ = xfer(card, PIV_GET_CERT)
		parsed = piv_parse_cert_object(obj)
		der = parsed[0] if parsed else None
	else:
		card.transmit(JPKI_SELECT_AP)
		der, sw = jpki_read_cert(card)
	card.disconnect(pc.SCARD_RESET_CARD)
	ctx.release()
	want = expected_cert(args.keys, args.key_name, args.cert_variant)
	check(der == want, "card presents %s/%s" % (args.key_name, args.cert_variant))
	if der:
		cert = x509.load_der_x509_certificate(der)
		now = datetime.datetime.utcnow()
		valid = cert.not_valid_before <= now <= cert.not_valid_after
		check(valid == (args.cert_variant == "valid"),
			"certificate %s (not after %s)" % ("valid now" if valid else "not valid now",
			cert.not_valid_after))


def sc_pull(args):
	"""The card disconnects after N APDUs: the (N+1)th transmit fails as 'card gone'."""
	ctx, card = connect(args.reader)
	for i in range(args.n):
		check_sw(card.transmit(JPKI_SELECT_AP)[1], 0x9000, "APDU %d before the pull" % (i + 1))
	try:
		card.transmit(JPKI_SELECT_AP)
		check(False, "APDU after the pull must fail")
	except pc.PcscError as e:
		check(e.rv in pc.CARD_GONE, "APDU after the pull fails with a card-gone code: %s" % e)
	except ValueError as e:
		# vpcd races the closing socket now and then and hands back an empty
		# response instead of an error: still no answer from the card.
		check("shorter than a status word" in str(e), "APDU after the pull: %s" % e)
	t0 = time.monotonic()
	ctx.wait(args.reader, present=False, timeout_ms=3000)
	timing("pull_to_absent", time.monotonic() - t0)
	try:
		card.disconnect(pc.SCARD_RESET_CARD)
	except pc.PcscError:
		pass
	try:
		ctx.connect(args.reader)
		check(False, "connect after the pull must fail")
	except pc.PcscError as e:
		check(e.rv == pc.SCARD_E_NO_SMARTCARD, "connect after the pull: %s" % e)
	ctx.release()


def sc_removal(args):
	"""A card removed under an open handle: transmit fails, GetStatusChange reports it."""
	ctx, card = connect(args.reader)
	check_sw(card.transmit(JPKI_SELECT_AP)[1], 0x9000, "card answers before removal")
	t0 = time.monotonic()
	rc = subprocess.run([args.rig, "remove", args.dir], check=False).returncode
	check(rc == 0, "rig.sh remove waited until the reader was empty")
	timing("remove_to_absent", time.monotonic() - t0)
	try:
		card.transmit(JPKI_SELECT_AP)
		check(False, "transmit after removal must fail")
	except pc.PcscError as e:
		check(e.rv in pc.CARD_GONE, "transmit after removal: %s" % e)
	try:
		card.disconnect(pc.SCARD_LEAVE_CARD)
	except pc.PcscError:
		pass
	ctx.release()


def sc_rtt(args):
	ctx, card = connect(args.reader)
	card.begin()
	card.transmit(JPKI_SELECT_AP)
	t0 = time.perf_counter()
	for _ in range(args.n):
		card.transmit(JPKI_SELECT_AP)
	timing("apdu_round_trip", (time.perf_counter() - t0) / args.n)
	card.end()
	card.disconnect(pc.SCARD_RESET_CARD)
	ctx.release()


def sc_readers(args):
	ctx = pc.Context()
	readers = ctx.readers()
	check(readers == [os.environ["MFAUTH_RIG_READER0"], os.environ["MFAUTH_RIG_READER1"]],
		"pcscd lists exactly the two vpcd readers: %s" % readers)
	ctx.release()


SCENARIOS = {"jpki-basic": sc_jpki_basic, "jpki-tries": sc_jpki_tries,
	"jpki-verify": sc_jpki_verify, "jpki-login": sc_jpki_login,
	"jpki-block": sc_jpki_block, "piv-login": sc_piv_login, "piv-block": sc_piv_block,
	"cert": sc_cert, "pull": sc_pull, "removal": sc_removal, "rtt": sc_rtt,
	"readers": sc_readers}


def main(argv):
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	ap.add_argument("scenario", choices=sorted(SCENARIOS))
	ap.add_argument("--reader", default=os.environ.get("MFAUTH_RIG_READER0"))
	ap.add_argument("--keys", default=os.environ.get("MFAUTH_RIG_KEYS"))
	ap.add_argument("--key-name", default="jpki")
	ap.add_argument("--cert-variant", default="valid")
	ap.add_argument("--pin", default="1234")
	ap.add_argument("--tries", type=int, default=3)
	ap.add_argument("--expect", default="3")
	ap.add_argument("--gzip", action="store_true")
	ap.add_argument("--n", type=int, default=3)
	ap.add_argument("--rig")
	ap.add_argument("--dir", default=os.environ.get("MFAUTH_RIG_DIR"))
	args = ap.parse_args(argv)
	try:
		SCENARIOS[args.scenario](args)
	except (pc.PcscError, OSError, ValueError, TimeoutError) as e:
		check(False, "%s raised %s: %s" % (args.scenario, type(e).__name__, e))
	return 1 if failures else 0


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
