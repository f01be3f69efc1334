#!/usr/bin/python3
"""A virtual smartcard for the mfauth PC/SC test rig (tests/card/rig.sh starts it).

	vcard.py --port PORT --profile jpki|piv-rsa|piv-ec --key-dir DIR
		[--identity main|other] [--cert valid|expired|future | --expired] [--gzip-cert]
		[--pin PIN] [--tries N] [--max-tries N] [--state FILE] [--blocked-sw 6983|63c0]
		[--chuid present|absent|zero-guid] [--full-aid-only] [--tries-sw 63cx|630x]
		[--atr HEX] [--pull-after-apdus N] [--stall-on verify|sign]
		[--stall-seconds S] [--ready-file F] [--log F]
		[--connect-timeout S] [--verbose]

It connects to vpcd (the virtual reader driver inside pcscd) on 127.0.0.1:PORT and answers
exactly the APDUs of doc/DESIGN.md §5 with real status words; everything else gets the ISO 7816-4
error a careful card would give. Keys and certificates come from make_keys.py's --key-dir.

Card behaviour worth knowing when writing tests:
  * PIN tries live in --state FILE (JSON) and survive card restarts; without --state they live in
	memory. --tries N forces the counter to N at start; otherwise it comes from the file, or
	--max-tries (3) for a new card. A correct PIN resets the counter to --max-tries.
  * The verified state lasts for one card session: power down, reset (SCardDisconnect with
	SCARD_RESET_CARD / SCARD_UNPOWER_CARD), a failed VERIFY, or selecting another application
	clears it. Re-selecting the same application keeps it (the more permissive real-card
	behaviour, so a host that forgets to reset is caught by tests).
  * VERIFY with no data answers 90 00 when already verified (ISO 7816-4), 63 Cx otherwise, and
	--blocked-sw (69 83 by default, or 63 C0) when no tries are left.
  * JPKI PIN: exactly 4 bytes (other lengths 67 00, no try used), compared as given.
	PIV PIN: exactly 8 bytes of 6-8 ASCII digits padded with FF (else 67 00 / 6A 80, no try
	used). Default PINs: jpki 1234, piv 123456 (PIV requires 6-8 digits).
  * PIV CHUID (GET DATA 5FC102): the same FASC-N on every card (as YubiKeys ship it) and a
	GUID derived from the card's key, so "other" cards differ by GUID only; followed by a
	1 KiB issuer signature (3E) like a real CHUID, so the object needs 61 xx + GET RESPONSE
	and a host that reads only the head leaves the rest on the card. --chuid absent answers
	6A 82, --chuid zero-guid has a GUID of zeros ("no GUID").
  * --full-aid-only: SELECT accepts only the full PIV AID with version (A0000003080000100001 00),
	not the right-truncated one. --tries-sw 630x: tries are reported as 63 0X instead of
	63 CX (the quirk of some PIV cards), after a wrong PIN and to VERIFY without data.
  * Responses longer than Le (256 for Le=00) come back in pieces with 61 xx; GET RESPONSE
	(00 C0 00 00 xx) fetches the rest. PIV accepts command chaining (CLA 10); JPKI answers 68 84.
  * --log F appends one line per event: "apdu CLA INS P1 P2 lc=N le=N sw=XXXX data=HEX",
	"power-up", "power-down", "reset", "connected", "pulled", with t=epoch seconds at the end.
	The data of VERIFY is never logged, only its length.
  * --pull-after-apdus N closes the connection to vpcd right after answering the Nth APDU, as if
	the card was pulled out of the reader.
  * --stall-on verify|sign: the VERIFY that carries a PIN (verify) or the signature (sign) is
	acted on (a wrong PIN spends a try, the state file is written), logged, then answered only
	after --stall-seconds (5), as by a slow card: the host's transmit waits meanwhile. The log
	lines "stalled ins=XX" and "stall over" say when the host is waiting. (A card removed
	while pcscd still waited on it left the next card unseen by pcscd for over 10 s in most of
	our runs: hence a late answer, not none, and a test removes the card after "stall over".)

Exit status: 0 when vpcd closed the connection or the card was pulled, 2 usage, 3 vpcd
unreachable after --connect-timeout, 4 bad key/certificate files.
"""

import argparse
import gzip
import hashlib
import importlib.util
import json
import logging
import os
import socket
import struct
import sys
import time
import traceback

# Debian 12 installs the framework outside Python's path, and its crypto helper imports the
# PyCrypto name "Crypto" while Debian only ships pycryptodome as "Cryptodome" (doc/testing.md).
FRAMEWORK_DIR = "/usr/lib/python3/site-packages/virtualsmartcard"


def import_framework():
	"""Import the virtualsmartcard framework, working around Debian's packaging."""
	if FRAMEWORK_DIR not in sys.path and os.path.isdir(FRAMEWORK_DIR):
		sys.path.insert(0, FRAMEWORK_DIR)
	if importlib.util.find_spec("Crypto") is None:   # a real PyCrypto "Crypto" would win
		import Cryptodome
		sys.modules["Crypto"] = Cryptodome
	import virtualsmartcard.VirtualSmartcard as vs
	return vs


vs = import_framework()

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils  # noqa: E402

SW_OK = 0x9000
SW_EOF_BEFORE_LE = 0x6282
SW_WRONG_LENGTH = 0x6700
SW_CHAIN_LAST_EXPECTED = 0x6883
SW_CHAIN_UNSUPPORTED = 0x6884
SW_INCOMPATIBLE_FILE = 0x6981
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_BLOCKED = 0x6983
SW_CONDITIONS = 0x6985
SW_NO_CURRENT_EF = 0x6986
SW_WRONG_DATA = 0x6A80
SW_FUNC_UNSUPPORTED = 0x6A81
SW_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6A86
SW_REF_NOT_FOUND = 0x6A88
SW_WRONG_OFFSET = 0x6B00
SW_INS_UNSUPPORTED = 0x6D00
SW_CLA_UNSUPPORTED = 0x6E00
SW_NO_DIAGNOSIS = 0x6F00

MAX_CHAIN = 4096            # bytes a chained command may accumulate


class Sw(Exception):
	"""Abort the current command with a status word."""

	def __init__(self, sw):
		super().__init__("%04X" % sw)
		self.sw = sw


class Apdu:
	"""A parsed short command APDU. le is None when absent, 256 for a 00 Le byte."""

	__slots__ = ("cla", "ins", "p1", "p2", "data", "le")

	def __init__(self, cla, ins, p1, p2, data, le):
		self.cla, self.ins, self.p1, self.p2, self.data, self.le = cla, ins, p1, p2, data, le

	@classmethod
	def parse(cls, msg):
		"""Parse cases 1-4 of ISO 7816-3 short APDUs; extended length is not supported (67 00)."""
		if len(msg) < 4:
			raise Sw(SW_WRONG_LENGTH)
		cla, ins, p1, p2 = msg[0], msg[1], msg[2], msg[3]
		if len(msg) == 4:
			return cls(cla, ins, p1, p2, b"", None)
		if len(msg) == 5:
			return cls(cla, ins, p1, p2, b"", msg[4] or 256)
		lc = msg[4]
		if lc == 0:                          # extended length: not offered by our ATR
			raise Sw(SW_WRONG_LENGTH)
		if len(msg) == 5 + lc:
			return cls(cla, ins, p1, p2, bytes(msg[5:]), None)
		if len(msg) == 6 + lc:
			return cls(cla, ins, p1, p2, bytes(msg[5:5 + lc]), msg[-1] or 256)
		raise Sw(SW_WRONG_LENGTH)


def ber_len(n):
	"""BER-TLV length octets for n."""
	if n < 0x80:
		return bytes([n])
	if n < 0x100:
		return bytes([0x81, n])
	return bytes([0x82, n >> 8, n & 0xFF])


def tlv(tag, value):
	"""tag (bytes) + BER length + value."""
	return tag + ber_len(len(value)) + value


def parse_tlvs(buf):
	"""Split buf into [(tag, value)] with one-byte tags; raise 6A 80 on any malformed length."""
	out, i = [], 0
	while i < len(buf):
		if i + 2 > len(buf):
			raise Sw(SW_WRONG_DATA)
		tag, first = buf[i], buf[i + 1]
		i += 2
		if first < 0x80:
			n = first
		elif first == 0x81 and i + 1 <= len(buf):
			n = buf[i]
			i += 1
		elif first == 0x82 and i + 2 <= len(buf):
			n = (buf[i] << 8) | buf[i + 1]
			i += 2
		else:
			raise Sw(SW_WRONG_DATA)
		if i + n > len(buf):
			raise Sw(SW_WRONG_DATA)
		out.append((tag, bytes(buf[i:i + n])))
		i += n
	return out


def atr_with_tck(body):
	"""Append the TCK check byte (XOR of T0..last) to an ATR that offers T=1."""
	tck = 0
	for b in body[1:]:
		tck ^= b
	return body + bytes([tck])


class EventLog:
	"""Line-oriented event log for tests (--log); never sees PIN bytes."""

	def __init__(self, path):
		self.f = open(path, "a", buffering=1) if path else None

	def write(self, text):
		if self.f:
			self.f.write("%s t=%.6f\n" % (text, time.time()))

	def apdu(self, msg, apdu, sw):
		if not self.f:
			return
		if apdu is None:
			self.write("apdu malformed len=%d sw=%04X" % (len(msg), sw))
			return
		data = ("<%d bytes not logged>" % len(apdu.data)) if apdu.ins == 0x20 else apdu.data.hex()
		self.write("apdu %02X %02X %02X %02X lc=%d le=%s sw=%04X data=%s" % (
			apdu.cla, apdu.ins, apdu.p1, apdu.p2, len(apdu.data),
			"-" if apdu.le is None else apdu.le, sw, data))


class Tries:
	"""The PIN retry counter, optionally persisted as JSON in a state file (atomic rename)."""

	def __init__(self, path, max_tries, force):
		self.path, self.max = path, max_tries
		self.left = max_tries
		if force is not None:
			self.left = force
			self.save()
		elif path and os.path.exists(path):
			with open(path) as f:
				self.left = int(json.load(f)["tries_left"])

	def set(self, n):
		self.left = n
		self.save()

	def save(self):
		if not self.path:
			return
		tmp = "%s.tmp.%d" % (self.path, os.getpid())
		with open(tmp, "w") as f:
			json.dump({"tries_left": self.left, "max_tries": self.max}, f)
			f.write("\n")
		os.rename(tmp, self.path)


# DigestInfo prefixes OpenSSL can rebuild from a bare hash (RFC 8017 section 9.2, note 1)
DIGESTINFO_PREFIXES = [
	(bytes.fromhex("3021300906052b0e03021a05000414"), hashes.SHA1()),
	(bytes.fromhex("3031300d060960864801650304020105000420"), hashes.SHA256()),
	(bytes.fromhex("3041300d060960864801650304020205000430"), hashes.SHA384()),
	(bytes.fromhex("3051300d060960864801650304020305000440"), hashes.SHA512()),
]


def rsa_raw(key, block):
	"""Raw RSA private operation on a block the size of the modulus; 6A 80 if m >= n.

	A PKCS#1 v1.5 block over a known DigestInfo is handed to OpenSSL instead (same bytes, the
	padding is deterministic; 0.3 ms instead of 6.5 ms of Python big-number arithmetic)."""
	if block[:2] == b"\x00\x01":
		sep = block.find(b"\x00", 2)
		if sep >= 10 and block[2:sep] == b"\xff" * (sep - 2):
			t = block[sep + 1:]
			for prefix, alg in DIGESTINFO_PREFIXES:
				if t.startswith(prefix) and len(t) == len(prefix) + alg.digest_size:
					return key.sign(t[len(prefix):], padding.PKCS1v15(), utils.Prehashed(alg))
	priv = key.private_numbers()
	n = priv.public_numbers.n
	m = int.from_bytes(block, "big")
	if m >= n:
		raise Sw(SW_WRONG_DATA)
	s1 = pow(m, priv.dmp1, priv.p)
	s2 = pow(m, priv.dmq1, priv.q)
	h = (priv.iqmp * (s1 - s2)) % priv.p
	s = s2 + h * priv.q
	return s.to_bytes((n.bit_length() + 7) // 8, "big")


def pkcs1_type1(digest_info, k):
	"""EMSA-PKCS1-v1_5 block of k bytes for digest_info, as a card applies it; 6A 80 if too long."""
	if len(digest_info) > k - 11:
		raise Sw(SW_WRONG_DATA)
	return b"\x00\x01" + b"\xff" * (k - 3 - len(digest_info)) + b"\x00" + digest_info


class VirtualCard(vs.SmartcardOS):
	"""Common ISO 7816-4 plumbing: APDU parsing, GET RESPONSE, chaining, session state, logging."""

	supports_chaining = False
	SIGN_INS = ()                            # the profile's signature instruction(s)

	def __init__(self, args, key, cert_der):
		self.key, self.cert_der = key, cert_der
		self.pin = args.pin.encode()
		self.blocked_query_sw = int(args.blocked_sw, 16)
		self.tries = Tries(args.state, args.max_tries, args.tries)
		self.log = EventLog(args.log)
		self.apdu_count = 0
		self.atr = bytes.fromhex(args.atr) if args.atr else self.default_atr
		self.tries_base = 0x6300 if args.tries_sw == "630x" else 0x63C0
		self.stall_on, self.stall_seconds = args.stall_on, args.stall_seconds
		self.clear_session()

	# -- SmartcardOS interface (called by VirtualICC.run) --
	def getATR(self):
		return self.atr

	def powerUp(self):
		self.log.write("power-up")
		self.clear_session()

	def powerDown(self):
		self.log.write("power-down")
		self.clear_session()

	def reset(self):
		self.log.write("reset")
		self.clear_session()

	def execute(self, msg):
		self.apdu_count += 1
		apdu = None
		try:
			apdu = Apdu.parse(msg)
			data, sw = self.dispatch(apdu)
		except Sw as e:
			data, sw = b"", e.sw
		except Exception:                    # a bug in the card must not kill the rig silently
			traceback.print_exc()
			data, sw = b"", SW_NO_DIAGNOSIS
		self.log.apdu(msg, apdu, sw)
		if apdu is not None and self.stalls_on(apdu):
			self.log.write("stalled ins=%02X" % apdu.ins)
			time.sleep(self.stall_seconds)
			self.log.write("stall over")
		return bytes(data) + struct.pack(">H", sw)

	def stalls_on(self, apdu):
		if self.stall_on == "verify":
			return apdu.ins == 0x20 and bool(apdu.data)
		if self.stall_on == "sign":
			return apdu.ins in self.SIGN_INS
		return False

	# -- plumbing --
	def clear_session(self):
		self.verified = False
		self.selected = False
		self.pending = b""                   # response bytes left for GET RESPONSE
		self.chain = None                    # (ins, p1, p2, bytearray) of a chain in progress

	def respond(self, data, le):
		"""Return (data, sw) honouring Le: the excess waits for GET RESPONSE behind 61 xx."""
		le = 256 if le is None else le
		if len(data) <= le:
			return data, SW_OK
		self.pending = data[le:]
		return data[:le], 0x6100 | (min(len(self.pending), 256) & 0xFF)

	def dispatch(self, apdu):
		pending, self.pending = self.pending, b""
		if apdu.ins == 0xC0 and apdu.cla == 0x00:
			if apdu.p1 or apdu.p2:
				raise Sw(SW_WRONG_P1P2)
			if not pending:
				raise Sw(SW_CONDITIONS)
			return self.respond(pending, apdu.le)
		if apdu.cla & 0x10:
			if not self.supports_chaining:
				raise Sw(SW_CHAIN_UNSUPPORTED)
			if self.chain and self.chain[:3] != (apdu.ins, apdu.p1, apdu.p2):
				self.chain = None
				raise Sw(SW_CHAIN_LAST_EXPECTED)
			if not self.chain:
				self.chain = (apdu.ins, apdu.p1, apdu.p2, bytearray())
			self.chain[3].extend(apdu.data)
			if len(self.chain[3]) > MAX_CHAIN:
				self.chain = None
				raise Sw(SW_WRONG_LENGTH)
			return b"", SW_OK
		if self.chain:
			chain, self.chain = self.chain, None
			if chain[:3] == (apdu.ins, apdu.p1, apdu.p2):
				apdu.data = bytes(chain[3]) + apdu.data
		return self.command(apdu)

	def command(self, apdu):
		raise Sw(SW_INS_UNSUPPORTED)

	def verify_pin(self, candidate):
		"""Compare a PIN, update the persistent counter; return the status word."""
		if self.tries.left <= 0:
			self.verified = False
			return SW_BLOCKED
		if candidate == self.pin:
			self.tries.set(self.tries.max)
			self.verified = True
			self.log.write("verify ok")
			return SW_OK
		self.verified = False
		self.tries.set(self.tries.left - 1)
		self.log.write("verify wrong tries_left=%d" % self.tries.left)
		return self.tries_base | self.tries.left

	def pin_status(self):
		"""Status word of a VERIFY without data."""
		if self.verified:
			return SW_OK
		if self.tries.left <= 0:
			return self.blocked_query_sw
		return self.tries_base | min(self.tries.left, 15)


class JpkiCard(VirtualCard):
	"""My Number card, JPKI application, user-authentication certificate/PIN/key."""

	AID = bytes.fromhex("D392F000260100000001")
	EF_CERT, EF_KEY, EF_PIN = 0x000A, 0x0017, 0x0018
	SIGN_INS = (0x2A,)                       # PSO: COMPUTE DIGITAL SIGNATURE
	# Contactless readers synthesize this ATR (PC/SC part 3, no historical bytes): the host must
	# find the card by SELECT, not by ATR. (The contact interface answers 3B E0 00 FF 81 31 FE 45 14.)
	default_atr = bytes.fromhex("3B80800101")

	def clear_session(self):
		super().clear_session()
		self.ef = None

	def command(self, apdu):
		if apdu.cla not in (0x00, 0x80):
			raise Sw(SW_CLA_UNSUPPORTED)
		if apdu.cla == 0x80:
			if apdu.ins != 0x2A:
				raise Sw(SW_INS_UNSUPPORTED)
			return self.sign(apdu)
		handler = {0xA4: self.select, 0xB0: self.read_binary, 0x20: self.verify}.get(apdu.ins)
		if handler is None:
			raise Sw(SW_CLA_UNSUPPORTED if apdu.ins == 0x2A else SW_INS_UNSUPPORTED)
		return handler(apdu)

	def select(self, apdu):
		if apdu.p2 not in (0x0C, 0x00):
			raise Sw(SW_WRONG_P1P2)
		if apdu.p1 == 0x04:
			if apdu.data != self.AID:
				raise Sw(SW_NOT_FOUND)
			if not self.selected:
				self.verified = False
			self.selected, self.ef = True, None
			return b"", SW_OK
		if apdu.p1 in (0x00, 0x02):
			if len(apdu.data) != 2:
				raise Sw(SW_WRONG_LENGTH)
			fid = (apdu.data[0] << 8) | apdu.data[1]
			if apdu.p1 == 0x00 and fid == 0x3F00:
				self.selected, self.ef, self.verified = False, None, False
				return b"", SW_OK
			if not self.selected or fid not in (self.EF_CERT, self.EF_KEY, self.EF_PIN):
				raise Sw(SW_NOT_FOUND)
			self.ef = fid
			return b"", SW_OK
		raise Sw(SW_WRONG_P1P2)

	def read_binary(self, apdu):
		if self.ef is None:
			raise Sw(SW_NO_CURRENT_EF)
		if self.ef != self.EF_CERT:
			raise Sw(SW_INCOMPATIBLE_FILE)
		if apdu.p1 & 0x80:                   # short EF identifier addressing: not offered
			raise Sw(SW_FUNC_UNSUPPORTED)
		if apdu.data or apdu.le is None:
			raise Sw(SW_WRONG_LENGTH)
		offset = (apdu.p1 << 8) | apdu.p2
		if offset >= len(self.cert_der):
			raise Sw(SW_WRONG_OFFSET)
		chunk = self.cert_der[offset:offset + apdu.le]
		return chunk, (SW_OK if len(chunk) == apdu.le else SW_EOF_BEFORE_LE)

	def verify(self, apdu):
		if apdu.p1 != 0x00 or apdu.p2 != 0x80:
			raise Sw(SW_WRONG_P1P2)
		if self.ef != self.EF_PIN:
			raise Sw(SW_NO_CURRENT_EF)
		if apdu.le is not None:              # VERIFY is case 1 or 3, never carries Le
			raise Sw(SW_WRONG_LENGTH)
		if not apdu.data:
			return b"", self.pin_status()
		if len(apdu.data) != 4:
			raise Sw(SW_WRONG_LENGTH)
		return b"", self.verify_pin(apdu.data)

	def sign(self, apdu):
		if apdu.p1 != 0x00 or apdu.p2 != 0x80:
			raise Sw(SW_WRONG_P1P2)
		if self.ef != self.EF_KEY:
			raise Sw(SW_NO_CURRENT_EF)
		if len(apdu.data) != 51 or apdu.le is None:
			raise Sw(SW_WRONG_LENGTH)
		if not self.verified:
			raise Sw(SW_SECURITY_NOT_SATISFIED)
		k = self.key.key_size // 8
		return self.respond(rsa_raw(self.key, pkcs1_type1(apdu.data, k)), apdu.le)


class PivCard(VirtualCard):
	"""PIV card application (SP 800-73-4): PIN, PIV Authentication certificate and key 9A."""

	supports_chaining = True
	SIGN_INS = (0x87,)                                   # GENERAL AUTHENTICATE
	AID = bytes.fromhex("A000000308000010000100")       # RID + PIX with version 01 00
	CERT_TAG = bytes.fromhex("5FC105")                   # PIV Authentication (key 9A)
	CHUID_TAG = bytes.fromhex("5FC102")
	# The FASC-N YubiKeys ship with (the same on every key): only the GUID tells cards apart
	FASCN = bytes.fromhex("d4e739da739ced39ce739d836858210842108421c84210c3eb")
	default_atr = atr_with_tck(bytes.fromhex("3B8880") + bytes([0x01]) + b"\x00mfa-PIV")

	def __init__(self, args, key, cert_der):
		super().__init__(args, key, cert_der)
		self.alg = 0x07 if isinstance(key, rsa.RSAPrivateKey) else 0x11
		body = gzip.compress(cert_der, mtime=0) if args.gzip_cert else cert_der
		info = b"\x01" if args.gzip_cert else b"\x00"
		self.cert_object = tlv(b"\x53", tlv(b"\x70", body) + tlv(b"\x71", info) + b"\xFE\x00")
		self.full_aid_only = args.full_aid_only
		self.chuid_object = self.make_chuid(args.chuid, key)
		self.apt = tlv(b"\x61", tlv(b"\x4F", self.AID[5:]) +
			tlv(b"\x79", tlv(b"\x4F", self.AID[:5])) +
			tlv(b"\x50", b"mfauth virtual PIV") +
			tlv(b"\xAC", tlv(b"\x80", bytes([self.alg])) + tlv(b"\x06", b"\x00")))

	def make_chuid(self, mode, key):
		"""The CHUID object (None = absent): FASC-N, GUID from the key, expiry, signature, LRC."""
		if mode == "absent":
			return None
		spki = key.public_key().public_bytes(serialization.Encoding.DER,
			serialization.PublicFormat.SubjectPublicKeyInfo)
		guid = bytes(16) if mode == "zero-guid" else hashlib.sha256(spki).digest()[:16]
		body = (tlv(b"\x30", self.FASCN) + tlv(b"\x34", guid) + tlv(b"\x35", b"20301231") +
			tlv(b"\x3E", hashlib.sha256(b"signature" + spki).digest() * 32) + b"\xFE\x00")
		return tlv(b"\x53", body)

	def command(self, apdu):
		if apdu.cla != 0x00:
			raise Sw(SW_CLA_UNSUPPORTED)
		if apdu.ins == 0xA4:
			return self.select(apdu)
		if not self.selected:
			raise Sw(SW_INS_UNSUPPORTED)
		handler = {0x20: self.verify, 0xCB: self.get_data, 0x87: self.general_authenticate}
		if apdu.ins not in handler:
			raise Sw(SW_INS_UNSUPPORTED)
		return handler[apdu.ins](apdu)

	def select(self, apdu):
		if apdu.p1 != 0x04 or apdu.p2 not in (0x00, 0x0C):
			raise Sw(SW_WRONG_P1P2)
		# SP 800-73-4 allows the right-truncated AID (no version); accept any prefix of 5+ bytes
		if len(apdu.data) < 5 or not self.AID.startswith(apdu.data):
			raise Sw(SW_NOT_FOUND)
		if self.full_aid_only and apdu.data != self.AID:
			raise Sw(SW_NOT_FOUND)
		self.selected = True
		return self.respond(self.apt if apdu.p2 == 0x00 else b"", apdu.le)

	def verify(self, apdu):
		if apdu.p2 != 0x80:
			raise Sw(SW_REF_NOT_FOUND)
		if apdu.le is not None:
			raise Sw(SW_WRONG_LENGTH)
		if apdu.p1 == 0xFF:                  # reset the security status of the PIN
			if apdu.data:
				raise Sw(SW_WRONG_LENGTH)
			self.verified = False
			return b"", SW_OK
		if apdu.p1 != 0x00:
			raise Sw(SW_WRONG_P1P2)
		if not apdu.data:
			return b"", self.pin_status()
		if len(apdu.data) != 8:
			raise Sw(SW_WRONG_LENGTH)
		pin = apdu.data.rstrip(b"\xff")
		if not (6 <= len(pin) <= 8 and pin.isdigit()):
			raise Sw(SW_WRONG_DATA)         # badly formatted: no try is used
		return b"", self.verify_pin(pin)

	def get_data(self, apdu):
		if (apdu.p1, apdu.p2) != (0x3F, 0xFF):
			raise Sw(SW_WRONG_P1P2)
		tags = parse_tlvs(apdu.data)
		if len(tags) != 1 or tags[0][0] != 0x5C or not 1 <= len(tags[0][1]) <= 3:
			raise Sw(SW_WRONG_DATA)
		if tags[0][1] == self.CHUID_TAG and self.chuid_object is not None:
			return self.respond(self.chuid_object, apdu.le)
		if tags[0][1] != self.CERT_TAG:
			raise Sw(SW_NOT_FOUND)
		return self.respond(self.cert_object, apdu.le)

	def general_authenticate(self, apdu):
		if apdu.p2 != 0x9A:
			raise Sw(SW_REF_NOT_FOUND)
		if apdu.p1 != self.alg:
			raise Sw(SW_WRONG_P1P2)
		if not self.verified:
			raise Sw(SW_SECURITY_NOT_SATISFIED)
		outer = parse_tlvs(apdu.data)
		if len(outer) != 1 or outer[0][0] != 0x7C:
			raise Sw(SW_WRONG_DATA)
		inner = dict(parse_tlvs(outer[0][1]))
		if inner.get(0x82) != b"" or 0x81 not in inner:
			raise Sw(SW_WRONG_DATA)
		challenge = inner[0x81]
		if self.alg == 0x07:
			if len(challenge) != self.key.key_size // 8:
				raise Sw(SW_WRONG_DATA)
			sig = rsa_raw(self.key, challenge)
		else:
			if len(challenge) != 32:
				raise Sw(SW_WRONG_DATA)
			sig = self.key.sign(challenge, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
		return self.respond(tlv(b"\x7C", tlv(b"\x82", sig)), apdu.le)


class VpcdLink(vs.VirtualICC):
	"""VirtualICC with a robust transport; run() (the framework's main loop) is reused as is.

	VirtualICC.__init__ is deliberately not called: it builds one of the framework's own card
	types and exits 0 when vpcd is unreachable. The two private transport methods are replaced
	(by their mangled names) to read exact-length frames and to set TCP_QUICKACK before every
	read: vpcd writes each frame in two pieces and a delayed ACK costs ~40 ms per APDU.
	"""

	def __init__(self, card, sock, port, pull_after):
		self.os, self.type = card, "mfauth"
		self.host, self.port = "127.0.0.1", port
		self.sock, self.server_sock = sock, None
		self.pull_after = pull_after

	def _recv_exact(self, n):
		buf = bytearray()
		while len(buf) < n:
			self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
			try:
				part = self.sock.recv(n - len(buf))
			except InterruptedError:
				continue
			if not part:
				logging.info("vpcd closed the connection")
				raise socket.error("vpcd closed the connection")
			buf += part
		return bytes(buf)

	def _VirtualICC__recvFromVPICC(self):
		size = struct.unpack("!H", self._recv_exact(2))[0]
		return size, (self._recv_exact(size) if size else None)

	def _VirtualICC__sendToVPICC(self, msg):
		self.sock.sendall(struct.pack("!H", len(msg)) + msg)
		if self.pull_after and self.os.apdu_count >= self.pull_after:
			self.os.log.write("pulled after %d apdus" % self.os.apdu_count)
			self.sock.close()
			raise SystemExit(0)


def connect_vpcd(port, timeout):
	"""Connect to vpcd, retrying until timeout (pcscd may still be starting); None on failure."""
	deadline = time.monotonic() + timeout
	delay = 0.005
	while True:
		try:
			sock = socket.create_connection(("127.0.0.1", port), timeout=2)
			sock.settimeout(None)
			sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
			return sock
		except OSError as e:
			if time.monotonic() + delay > deadline:
				print("vcard: cannot connect to vpcd at 127.0.0.1:%d: %s" % (port, e),
					file=sys.stderr)
				return None
			time.sleep(delay)
			delay = min(delay * 2, 0.2)


KEY_NAMES = {("jpki", "main"): "jpki", ("piv-rsa", "main"): "piv-rsa", ("piv-ec", "main"): "piv-ec",
	("jpki", "other"): "other-rsa", ("piv-rsa", "other"): "other-rsa",
	("piv-ec", "other"): "other-ec"}


def load_identity(args):
	"""Load (private key, certificate DER) for the profile/identity/validity from --key-dir."""
	name = KEY_NAMES[(args.profile, args.identity)]
	base = os.path.join(args.key_dir, name)
	with open(base + ".key.pem", "rb") as f:
		key = serialization.load_pem_private_key(f.read(), password=None)
	cert_path = base + ("" if args.cert == "valid" else "." + args.cert) + ".crt.der"
	with open(cert_path, "rb") as f:
		cert_der = f.read()
	cert = x509.load_der_x509_certificate(cert_der)
	spki = serialization.PublicFormat.SubjectPublicKeyInfo
	if (cert.public_key().public_bytes(serialization.Encoding.DER, spki) !=
			key.public_key().public_bytes(serialization.Encoding.DER, spki)):
		raise ValueError("%s does not match %s.key.pem" % (cert_path, base))
	want_rsa = args.profile in ("jpki", "piv-rsa")
	if want_rsa != isinstance(key, rsa.RSAPrivateKey):
		raise ValueError("%s.key.pem has the wrong algorithm for %s" % (base, args.profile))
	return key, cert_der


def parse_args(argv):
	ap = argparse.ArgumentParser(description="virtual JPKI/PIV card for vpcd")
	ap.add_argument("--port", type=int, required=True)
	ap.add_argument("--profile", choices=("jpki", "piv-rsa", "piv-ec"), required=True)
	ap.add_argument("--key-dir", required=True)
	ap.add_argument("--identity", choices=("main", "other"), default="main",
		help="'other' = a different card of the same type (other key pair)")
	ap.add_argument("--cert", choices=("valid", "expired", "future"), default="valid")
	ap.add_argument("--expired", action="store_const", const="expired", dest="cert")
	ap.add_argument("--gzip-cert", action="store_true", help="PIV: store the certificate gzipped")
	ap.add_argument("--pin")
	ap.add_argument("--tries", type=int, help="force the PIN retry counter to N at start")
	ap.add_argument("--max-tries", type=int, default=3)
	ap.add_argument("--state", help="JSON file keeping the retry counter across restarts")
	ap.add_argument("--blocked-sw", choices=("6983", "63c0", "63C0"), default="6983",
		help="answer of VERIFY-without-data when no tries are left")
	ap.add_argument("--chuid", choices=("present", "absent", "zero-guid"), default="present",
		help="PIV: the CHUID object (GET DATA 5FC102)")
	ap.add_argument("--full-aid-only", action="store_true",
		help="PIV: SELECT only by the full AID with version")
	ap.add_argument("--tries-sw", choices=("63cx", "630x"), default="63cx",
		help="how PIN tries left are reported")
	ap.add_argument("--atr", help="override the ATR (hex)")
	ap.add_argument("--pull-after-apdus", type=int, default=0)
	ap.add_argument("--stall-on", choices=("verify", "sign"),
		help="act on the PIN's VERIFY or the signature, then answer it late")
	ap.add_argument("--stall-seconds", type=float, default=5.0)
	ap.add_argument("--ready-file", help="written (our PID) once connected to vpcd")
	ap.add_argument("--log", help="append an event line per APDU/power event here")
	ap.add_argument("--connect-timeout", type=float, default=5.0)
	ap.add_argument("--verbose", action="store_true")
	args = ap.parse_args(argv)
	if args.pin is None:
		args.pin = "1234" if args.profile == "jpki" else "123456"
	if not 1 <= args.max_tries <= 15:
		ap.error("--max-tries must be 1..15 (63 Cx has 4 bits)")
	if args.tries is not None and not 0 <= args.tries <= args.max_tries:
		ap.error("--tries must be 0..--max-tries")
	if args.pull_after_apdus < 0:
		ap.error("--pull-after-apdus must be >= 1")
	return args


class LazyHexdump:
	"""Stand-in for the framework's hexdump: run() formats every response eagerly for an INFO
	log line (~0.19 ms per 264-byte answer, more than the APDU round trip); format only if shown."""

	def __init__(self, data, **kw):
		self.data, self.kw = data, kw

	def __str__(self):
		return vs.__dict__["_real_hexdump"](self.data, **self.kw)


def main(argv):
	args = parse_args(argv)
	logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
		format="vcard[%(process)d] %(levelname)s %(message)s")
	vs._real_hexdump = vs.hexdump
	vs.hexdump = LazyHexdump
	try:
		key, cert_der = load_identity(args)
	except (OSError, ValueError) as e:
		print("vcard: %s" % e, file=sys.stderr)
		return 4
	card = (JpkiCard if args.profile == "jpki" else PivCard)(args, key, cert_der)
	sock = connect_vpcd(args.port, args.connect_timeout)
	if sock is None:
		return 3
	card.log.write("connected port=%d profile=%s identity=%s cert=%s tries_left=%d" % (
		args.port, args.profile, args.identity, args.cert, card.tries.left))
	if args.ready_file:
		tmp = args.ready_file + ".tmp"
		with open(tmp, "w") as f:
			f.write("%d\n" % os.getpid())
		os.rename(tmp, args.ready_file)
	VpcdLink(card, sock, args.port, args.pull_after_apdus).run()
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
