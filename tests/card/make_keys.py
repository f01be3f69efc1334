#!/usr/bin/python3
"""Generate the key pairs and self-signed certificates the virtual cards use.

	make_keys.py --key-dir DIR [--force]

Writes, for each identity NAME in IDENTITIES (RSA-2048 or P-256):
	NAME.key.pem           PKCS#8 private key (unencrypted: test material only)
	NAME.pub.pem           SubjectPublicKeyInfo
	NAME.crt.der/.crt.pem  valid certificate (1 day ago .. 5 years ahead, like a JPKI certificate)
	NAME.expired.crt.der/.pem   same key, validity ended yesterday
	NAME.future.crt.der/.pem    same key, not valid before next year
and keys.json, a manifest that tests read for expected subjects, serials and fingerprints.

RSA generation costs ~0.25 s per key, so existing files are reused: run it once per test run and
share DIR between tests. Concurrent callers serialise on DIR/.lock, and every file is written to a
temporary name and renamed, so a reader never sees half a key.
"""

import argparse
import datetime
import fcntl
import hashlib
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

# name -> (algorithm, subject attributes). The "other-*" identities are a second card of the same
# type, for the "card enrolled for someone else / replaced card" tests.
# Real JPKI user-authentication certificates carry no name (only a random CN); a readable name
# here makes test output easier to follow, and the host must not depend on the subject anyway.
IDENTITIES = {
	"jpki": ("rsa", [(NameOID.COUNTRY_NAME, "JP"), (NameOID.ORGANIZATION_NAME, "JPKI"),
	(NameOID.ORGANIZATIONAL_UNIT_NAME, "JPKI for user authentication"),
	(NameOID.COMMON_NAME, "TANAKA TARO"),
	(NameOID.SERIAL_NUMBER, "JPKI-TEST-0001")]),
	"piv-rsa": ("rsa", [(NameOID.COUNTRY_NAME, "JP"), (NameOID.ORGANIZATION_NAME, "Example City"),
	(NameOID.ORGANIZATIONAL_UNIT_NAME, "Citizen Services"),
	(NameOID.COMMON_NAME, "TANAKA TARO"),
	(NameOID.SERIAL_NUMBER, "PIV-TEST-0001")]),
	"piv-ec": ("ec", [(NameOID.COUNTRY_NAME, "JP"), (NameOID.ORGANIZATION_NAME, "Example City"),
	(NameOID.ORGANIZATIONAL_UNIT_NAME, "Citizen Services"),
	(NameOID.COMMON_NAME, "TANAKA TARO"),
	(NameOID.SERIAL_NUMBER, "PIV-TEST-0002")]),
	"other-rsa": ("rsa", [(NameOID.COUNTRY_NAME, "JP"), (NameOID.ORGANIZATION_NAME, "Example City"),
	(NameOID.COMMON_NAME, "SUZUKI HANAKO"),
	(NameOID.SERIAL_NUMBER, "OTHER-TEST-0001")]),
	"other-ec": ("ec", [(NameOID.COUNTRY_NAME, "JP"), (NameOID.ORGANIZATION_NAME, "Example City"),
	(NameOID.COMMON_NAME, "SUZUKI HANAKO"),
	(NameOID.SERIAL_NUMBER, "OTHER-TEST-0002")]),
	}

DAY = datetime.timedelta(days=1)
# variant -> (not_before, not_after) relative to now
VARIANTS = {
	"": (-1 * DAY, 5 * 365 * DAY),
	"expired": (-6 * 365 * DAY, -1 * DAY),
	"future": (365 * DAY, 6 * 365 * DAY),
	}


def write_atomic(path, data):
	"""Write bytes to path via a temporary file and rename (readers see old or new, never half)."""
	tmp = "%s.tmp.%d" % (path, os.getpid())
	with open(tmp, "wb") as f:
		f.write(data)
	os.rename(tmp, path)


def load_or_make_key(path, alg):
	"""Return the private key stored at path, generating and storing it first if absent."""
	if os.path.exists(path):
		with open(path, "rb") as f:
			return serialization.load_pem_private_key(f.read(), password=None)
	if alg == "rsa":
		key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
	else:
		key = ec.generate_private_key(ec.SECP256R1())
	write_atomic(path, key.private_bytes(serialization.Encoding.PEM,
		serialization.PrivateFormat.PKCS8,
		serialization.NoEncryption()))
	return key


def make_cert(key, attrs, not_before, not_after):
	"""Self-signed end-entity certificate for key: digitalSignature only, like an auth cert."""
	name = x509.Name([x509.NameAttribute(oid, value) for oid, value in attrs])
	pub = key.public_key()
	builder = (x509.CertificateBuilder()
		.subject_name(name).issuer_name(name)
		.public_key(pub)
		.serial_number(x509.random_serial_number())
		.not_valid_before(not_before).not_valid_after(not_after)
		.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
		.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
		key_encipherment=False, data_encipherment=False,
		key_agreement=False, key_cert_sign=False,
		crl_sign=False, encipher_only=False,
		decipher_only=False), critical=True)
		.add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False))
	return builder.sign(key, hashes.SHA256())


def make_identity(key_dir, name, alg, attrs, force):
	"""Create the files of one identity (reusing what exists) and return its manifest entry."""
	base = os.path.join(key_dir, name)
	if force:
		for suffix in (".key.pem", ".pub.pem") + tuple(
				"%s.crt.%s" % ("." + v if v else "", e) for v in VARIANTS for e in ("der", "pem")):
			if os.path.exists(base + suffix):
				os.unlink(base + suffix)
	key = load_or_make_key(base + ".key.pem", alg)
	spki = key.public_key().public_bytes(serialization.Encoding.DER,
		serialization.PublicFormat.SubjectPublicKeyInfo)
	if not os.path.exists(base + ".pub.pem"):
		write_atomic(base + ".pub.pem", key.public_key().public_bytes(
			serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
	now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
	entry = {"algorithm": "rsa2048" if alg == "rsa" else "p256",
		"key": name + ".key.pem", "public_key": name + ".pub.pem",
		"spki_sha256": hashlib.sha256(spki).hexdigest(), "certs": {}}
	for variant, (before, after) in VARIANTS.items():
		stem = base + ("." + variant if variant else "") + ".crt"
		der_path = stem + ".der"
		if os.path.exists(der_path):
			cert = x509.load_der_x509_certificate(open(der_path, "rb").read())
			if cert.public_key().public_bytes(serialization.Encoding.DER,
					serialization.PublicFormat.SubjectPublicKeyInfo) != spki:
				cert = None          # left over from a replaced key
		else:
			cert = None
		if cert is None:
			cert = make_cert(key, attrs, now + before, now + after)
			write_atomic(stem + ".pem", cert.public_bytes(serialization.Encoding.PEM))
			write_atomic(der_path, cert.public_bytes(serialization.Encoding.DER))
		der = cert.public_bytes(serialization.Encoding.DER)
		entry["certs"][variant or "valid"] = {
			"der": os.path.basename(der_path),
			"pem": os.path.basename(stem + ".pem"),
			"subject": cert.subject.rfc4514_string(),
			"serial": "%x" % cert.serial_number,
			"not_before": int(cert.not_valid_before.replace(tzinfo=datetime.timezone.utc).timestamp()),
			"not_after": int(cert.not_valid_after.replace(tzinfo=datetime.timezone.utc).timestamp()),
			"sha256": hashlib.sha256(der).hexdigest(),
			"length": len(der),
			}
	return entry


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	ap.add_argument("--key-dir", required=True)
	ap.add_argument("--force", action="store_true", help="regenerate everything")
	args = ap.parse_args()
	os.makedirs(args.key_dir, mode=0o700, exist_ok=True)
	with open(os.path.join(args.key_dir, ".lock"), "w") as lock:
		fcntl.flock(lock, fcntl.LOCK_EX)
		manifest = {name: make_identity(args.key_dir, name, alg, attrs, args.force)
			for name, (alg, attrs) in IDENTITIES.items()}
		write_atomic(os.path.join(args.key_dir, "keys.json"),
			(json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
	return 0


if __name__ == "__main__":
	sys.exit(main())
