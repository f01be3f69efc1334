#!/usr/bin/python3
"""Write RFC 6030 (PSKC) test files for tests/cli/test-import-pskc.sh.

    gen_pskc.py OUT [--psk HEX] [--mac-key HEX] [--mac-alg sha1|sha256] [--no-mac]
                    --token SPEC [--token SPEC ...]
    gen_pskc.py OUT --bulk N --map-out MAP --seeds-out SEEDS [--psk HEX]

SPEC is a comma-separated list of key=value:
    secret=HEX      the seed (required)
    serial=S        DeviceInfo/SerialNo (omitted when not given)
    id=I            Key/@Id (default: k1, k2, ...)
    alg=totp|hotp|URI               Key/@Algorithm (default totp)
    digits=N        ResponseFormat/@Length (default 6; "none" leaves it out)
    period=N        Data/TimeInterval (left out when not given)
    suite=S         AlgorithmParameters/Suite (left out when not given)
    drift=N         Data/TimeDrift
    wrap=1          the PlainValue split over lines (vendors wrap base64)
    plain=1         a PlainValue even when --psk encrypts the others
    tamper=1        flip one ciphertext bit after the MAC was computed
    badb64=1        a PlainValue that is not base64
    manufacturer=   an empty <Manufacturer/> (libpskc 2.6.7 crashes on it)

With --psk every seed is an xenc EncryptedValue: AES-CBC (aes128-cbc for a
16-byte key, aes256-cbc for 32), CipherValue = IV || ciphertext with PKCS#7
padding, ValueMAC = HMAC(MAC key, IV || ciphertext), and the container's
MACMethod carries the MAC key encrypted under the same key (RFC 6030 6.1.1).
Bulk mode makes N TOTP tokens with random 20-byte seeds, serials BULK000000..,
a map "serial,bulkNNNN" and a seeds file "user hexseed" per line.
Needs python3-cryptography.
"""
import argparse
import base64
import hashlib
import hmac
import os
import sys

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PSKC = "urn:ietf:params:xml:ns:keyprov:pskc"
XENC = "http://www.w3.org/2001/04/xmlenc#"
DS = "http://www.w3.org/2000/09/xmldsig#"
MAC_URIS = {
    "sha1": (DS + "hmac-sha1", hashlib.sha1),
    "sha256": ("http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", hashlib.sha256),
}


def encrypt(key, plain):
    """IV || AES-CBC(key, PKCS#7(plain))."""
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    data = padder.update(plain) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + enc.update(data) + enc.finalize()


def cipher_uri(key):
    return XENC + ("aes128-cbc" if len(key) == 16 else "aes256-cbc")


def parse_spec(text, n):
    spec = {"id": "k%d" % n, "alg": "totp", "digits": "6"}
    for item in text.split(","):
        k, _, v = item.partition("=")
        spec[k] = v
    if "secret" not in spec:
        sys.exit("gen_pskc: token %d: secret=HEX is required" % n)
    return spec


def key_package(spec, psk, mac_key, mac_alg):
    alg = spec["alg"]
    if alg in ("totp", "hotp"):
        alg = "urn:ietf:params:xml:ns:keyprov:pskc:" + alg
    secret = bytes.fromhex(spec["secret"])
    out = ["  <KeyPackage>", "    <DeviceInfo>"]
    if "manufacturer" in spec:
        out.append("      <Manufacturer/>")
    else:
        out.append("      <Manufacturer>oath.example</Manufacturer>")
    if "serial" in spec:
        out.append("      <SerialNo>%s</SerialNo>" % spec["serial"])
    out.append("    </DeviceInfo>")
    out.append('    <Key Id="%s" Algorithm="%s">' % (spec["id"], alg))
    out.append("      <Issuer>mfauth test</Issuer>")
    out.append("      <AlgorithmParameters>")
    if "suite" in spec:
        out.append("        <Suite>%s</Suite>" % spec["suite"])
    if spec["digits"] != "none":
        out.append('        <ResponseFormat Length="%s" Encoding="DECIMAL"/>' % spec["digits"])
    out.append("      </AlgorithmParameters>")
    out.append("      <Data>")
    out.append("        <Secret>")
    if psk is None or spec.get("plain") == "1":
        b64 = base64.b64encode(secret).decode()
        if spec.get("badb64") == "1":
            b64 = "!!" + b64[2:]
        if spec.get("wrap") == "1":
            b64 = "\n".join(b64[i:i + 8] for i in range(0, len(b64), 8))
        out.append("          <PlainValue>%s</PlainValue>" % b64)
    else:
        ct = bytearray(encrypt(psk, secret))
        mac = hmac.new(mac_key, bytes(ct), MAC_URIS[mac_alg][1]).digest() if mac_key else None
        if spec.get("tamper") == "1":
            ct[20] ^= 0x01
        out.append("          <EncryptedValue>")
        out.append('            <xenc:EncryptionMethod Algorithm="%s"/>' % cipher_uri(psk))
        out.append("            <xenc:CipherData>")
        out.append("              <xenc:CipherValue>")
        out.append("                " + base64.b64encode(bytes(ct)).decode())
        out.append("              </xenc:CipherValue>")
        out.append("            </xenc:CipherData>")
        out.append("          </EncryptedValue>")
        if mac is not None:
            out.append("          <ValueMAC>%s</ValueMAC>" % base64.b64encode(mac).decode())
    out.append("        </Secret>")
    if "period" in spec:
        out.append("        <TimeInterval><PlainValue>%s</PlainValue></TimeInterval>"
                   % spec["period"])
    if "drift" in spec:
        out.append("        <TimeDrift><PlainValue>%s</PlainValue></TimeDrift>" % spec["drift"])
    out.append("        <Time><PlainValue>0</PlainValue></Time>")
    out.append("      </Data>")
    out.append("    </Key>")
    out.append("  </KeyPackage>")
    return out


def container(packages, psk, mac_key, mac_alg):
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<KeyContainer Version="1.0" xmlns="%s" xmlns:ds="%s" xmlns:xenc="%s">'
           % (PSKC, DS, XENC)]
    if psk is not None:
        out += ["  <EncryptionKey>", "    <ds:KeyName>Pre-shared-key</ds:KeyName>",
                "  </EncryptionKey>"]
        if mac_key is not None:
            out += ['  <MACMethod Algorithm="%s">' % MAC_URIS[mac_alg][0],
                    "    <MACKey>",
                    '      <xenc:EncryptionMethod Algorithm="%s"/>' % cipher_uri(psk),
                    "      <xenc:CipherData>",
                    "        <xenc:CipherValue>%s</xenc:CipherValue>"
                    % base64.b64encode(encrypt(psk, mac_key)).decode(),
                    "      </xenc:CipherData>",
                    "    </MACKey>",
                    "  </MACMethod>"]
    for p in packages:
        out += p
    out.append("</KeyContainer>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--psk")
    ap.add_argument("--mac-key")
    ap.add_argument("--mac-alg", default="sha1", choices=sorted(MAC_URIS))
    ap.add_argument("--no-mac", action="store_true")
    ap.add_argument("--token", action="append", default=[])
    ap.add_argument("--bulk", type=int)
    ap.add_argument("--map-out")
    ap.add_argument("--seeds-out")
    a = ap.parse_args()

    psk = bytes.fromhex(a.psk) if a.psk else None
    mac_key = None
    if psk is not None and not a.no_mac:
        mac_key = bytes.fromhex(a.mac_key) if a.mac_key else os.urandom(20)
    specs = [parse_spec(t, i + 1) for i, t in enumerate(a.token)]
    if a.bulk:
        with open(a.map_out, "w") as m, open(a.seeds_out, "w") as s:
            for i in range(a.bulk):
                seed = os.urandom(20).hex()
                serial = "BULK%06d" % i
                specs.append({"id": "b%d" % i, "alg": "totp", "digits": "6",
                              "serial": serial, "secret": seed})
                m.write("%s,bulk%04d\n" % (serial, i))
                s.write("bulk%04d %s\n" % (i, seed))
    packages = [key_package(s, psk, mac_key, a.mac_alg) for s in specs]
    with open(a.out, "w") as f:
        f.write(container(packages, psk, mac_key, a.mac_alg))


if __name__ == "__main__":
    main()
