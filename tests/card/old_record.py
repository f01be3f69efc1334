#!/usr/bin/python3
"""Turn a user's record into one written before card identifiers existed (tests only).

	old_record.py KEY_FILE RECORD_FILE USER

Written independently of the C code, from the format in include/mfauth/record.h:
"MFAR" | version | key id (8) | nonce (12) | AES-256-GCM ciphertext | tag (16), associated data
magic | version | key id | u16 len(USER) | USER; the plaintext is (u16 tag, u16 length, value)
fields. The card identifier's optional fields (tags 0x8028 and 0x8029) are dropped and the record
is sealed again under a fresh nonce, so it is byte for byte what an enrollment made before them
would have saved. Exits 1 if the record had no identifier to drop (the test would prove nothing).
"""

import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ID_TAGS = (0x8028, 0x8029)


def fields(pt):
	"""Split a plaintext into [(tag, value)]."""
	out, i = [], 0
	while i < len(pt):
		tag, n = struct.unpack(">HH", pt[i:i + 4])
		out.append((tag, pt[i + 4:i + 4 + n]))
		i += 4 + n
	return out


def main(key_file, record_file, user):
	key = open(key_file, "rb").read()
	data = open(record_file, "rb").read()
	header, nonce, sealed = data[:13], data[13:25], data[25:]
	if header[:4] != b"MFAR":
		sys.exit("%s: not a record" % record_file)
	aad = header + struct.pack(">H", len(user.encode())) + user.encode()
	pt = AESGCM(key).decrypt(nonce, sealed, aad)
	kept = [(t, v) for t, v in fields(pt) if t not in ID_TAGS]
	if len(kept) == len(fields(pt)):
		sys.exit("%s: no card identifier in the record" % record_file)
	new_pt = b"".join(struct.pack(">HH", t, len(v)) + v for t, v in kept)
	new_nonce = os.urandom(12)
	st = os.stat(record_file)
	tmp = record_file + ".old-format.tmp"
	with open(tmp, "wb") as f:
		f.write(header + new_nonce + AESGCM(key).encrypt(new_nonce, new_pt, aad))
	os.chown(tmp, st.st_uid, st.st_gid)
	os.chmod(tmp, st.st_mode & 0o7777)
	os.rename(tmp, record_file)
	return 0


if __name__ == "__main__":
	if len(sys.argv) != 4:
		sys.exit(__doc__)
	sys.exit(main(*sys.argv[1:]))
