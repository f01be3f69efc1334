#!/bin/bash
# End-to-end tests of `mfauth import pskc FILE --map CSV [--key-file KEYFILE]`
# with the built tool, in a private sandbox under /tmp (nothing under /etc
# touched).  PSKC files are made by gen_pskc.py next to this script (plain
# and AES-CBC + HMAC encrypted, RFC 6030), plus the RFC's own Figure 5.
# That an imported seed is the right one is proven by logging in through the
# real PAM stack (tests/pam/pamcheck + the built pam_mfauth.so) with a code
# from oathtool; audit lines are caught with tests/sinkrun.
#
# Needs: root, $MFAUTH_BUILDDIR (tools/mfauth, tests/pam/pamcheck,
# tests/sinkrun, pam_module/.libs/pam_mfauth.so), /usr/bin/python3 with
# python3-cryptography, oathtool.  Prints "N passed, N failed" and exits
# non-zero when anything failed (77 = skipped when not root, 99 = the test
# could not run).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
GEN="$PY $HERE/gen_pskc.py"

if [ -z "${MFAUTH_BUILDDIR:-}" ] || [ ! -x "$MFAUTH_BUILDDIR/tools/mfauth" ]; then
	echo "test-import-pskc: set MFAUTH_BUILDDIR to a build directory with tools/mfauth" >&2
	exit 99
fi
MFAUTH=$MFAUTH_BUILDDIR/tools/mfauth
PAMCHECK=$MFAUTH_BUILDDIR/tests/pam/pamcheck
SINKRUN=$MFAUTH_BUILDDIR/tests/sinkrun
MODULE=$MFAUTH_BUILDDIR/pam_module/.libs/pam_mfauth.so
if [ "$(id -u)" -ne 0 ]; then
	echo "test-import-pskc: SKIP: must run as root (the store is root-only)"
	exit 77
fi
for f in "$PAMCHECK" "$SINKRUN" "$MODULE"; do
	if [ ! -x "$f" ] && [ ! -f "$f" ]; then
		echo "test-import-pskc: $f is missing (run make first)" >&2
		exit 99
	fi
done
if ! command -v oathtool >/dev/null || ! "$PY" -c 'import cryptography' 2>/dev/null; then
	echo "test-import-pskc: oathtool and python3-cryptography are required" >&2
	exit 99
fi

T=$(mktemp -d /tmp/mfauth-pskc.XXXXXX)
trap 'rm -rf "$T"' EXIT
CONF=$T/mfauth.conf
printf 'store_dir = %s/store\nkey_file = %s/store.key\n' "$T" "$T" >"$CONF"
chown root:root "$CONF"
chmod 0600 "$CONF"
mkdir "$T/pam.d"
printf 'auth required %s conf=%s\naccount required %s conf=%s\n' \
    "$MODULE" "$CONF" "$MODULE" "$CONF" >"$T/pam.d/mfa-test"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$T/pam.d/other"

. "${MFAUTH_SRCDIR:-$(dirname "$0")/../..}/tests/checks.sh"
on_check_failure() {    # what the tool printed in the last run
	echo "       exit=$RC"
	sed -n '1,20/^/       stdout: /p' "$T/out" 2>/dev/null || true
	sed -n '1,20/^/       stderr: /p' "$T/err" 2>/dev/null || true
}

# run ARGS...: mfauth with our config; sets RC, stdout in $T/out, stderr in $T/err.
RC=0
run() {
	RC=0
	"$MFAUTH" -c "$CONF" "$@" >"$T/out" 2>"$T/err" || RC=$?
}
# audited ARGS...: as run, with the audit lines sent to syslog kept in $T/audit.
audited() {
	RC=0
	: >"$T/audit"
	"$SINKRUN" "$T/audit" "$MFAUTH" -c "$CONF" "$@" >"$T/out" 2>"$T/err" || RC=$?
}

rc_is() { [ "$RC" -eq "$1" ]; }
out_has() { grep -Eq -- "$1" "$T/out"; }
err_has() { grep -Eq -- "$1" "$T/err"; }
rc_and_err() { rc_is "$1" && [ -s "$T/err" ] && err_has "$2"; }
# Every argument is a whole line of stdout (stderr).
out_has_lines() {
	local l
	for l in "$@"; do
		grep -qxF -- "$l" "$T/out" || return 1
	done
}
err_has_lines() {
	local l
	for l in "$@"; do
		grep -qxF -- "$l" "$T/err" || return 1
	done
}
# None of the given fixed strings appears in stdout, stderr or the audit lines.
no_leak() {
	local s
	for s in "$@"; do
		if grep -qiF -- "$s" "$T/out" "$T/err" "$T/audit" 2>/dev/null; then
			return 1
		fi
	done
}
# A seed (hex) and its base64 and base32 spellings, for no_leak.
spellings() {
	$PY -c 'import base64,sys; b = bytes.fromhex(sys.argv[1]); print(sys.argv[1]); print(base64.b64encode(b).decode()); print(base64.b32encode(b).decode().rstrip("="))' "$1"
}
no_seed_leak() {
	local seed s
	for seed in "$@"; do
		while read -r s; do
			no_leak "$s" || return 1
		done < <(spellings "$seed")
	done
}

# show_is USER PYTHON-EXPR: `show USER --json` exits 0 and EXPR holds for its object j.
show_is() {
	run show "$1" --json
	rc_is 0 && $PY -c 'import json,sys; j = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
	    "$T/out" "$2"
}
totp_is() { show_is "$1" 'j["factors"] == ["totp"] and j["totp"]["algorithm"] == "'"$2"'" and j["totp"]["digits"] == '"$3"' and j["totp"]["period"] == '"$4"; }
not_enrolled() {
	"$MFAUTH" -c "$CONF" show "$1" --json >/dev/null 2>"$T/show.err" && return 1
	grep -q 'not enrolled' "$T/show.err"
}
rec_file() { echo "$T/store/$1.rec"; }

# login USER CODE: the code through the PAM stack; succeeds when PAM said yes.
login() {
	printf '%s\n' "$2" | "$PAMCHECK" --confdir "$T/pam.d" mfa-test "$1" >"$T/pam.out" 2>&1
}
# code HEXSEED ALG DIGITS PERIOD: the current code, from oathtool.
code() {
	oathtool --totp="$2" --digits="$3" --time-step-size="$4s" "$1"
}
logs_in() { login "$1" "$(code "$2" "$3" "$4" "$5")"; }
# A second login of a user within one time step would be a replay: use the
# next step's code, which the module's window (1 step) still accepts.
logs_in_again() {
	login "$1" "$(oathtool --totp="$3" --digits="$4" --time-step-size="$5s" \
	    -N "@$(($(date +%s) + $5))" "$2")"
}
# A code of the right shape from another seed must be refused.
refuses_other() { ! login "$1" "$(code "$OTHER" sha1 "$2" 30)"; }

seed() { $PY -c 'import os,sys; print(os.urandom(int(sys.argv[1])).hex())' "$1"; }
OTHER=$(seed 20)

# key file helper: HEX [MODE] -> $T/FILE
keyfile() {
	printf '%s\n' "$2" >"$T/$1"
	chown root:root "$T/$1"
	chmod "${3:-0600}" "$T/$1"
}

echo "# sandbox $T"
run init
check "init creates the store" rc_is 0

# --- a plain file: 3 tokens, three parameter sets ------------------------------
P1=$(seed 20)
P2=$(seed 32)
P3=$(seed 64)
$GEN "$T/plain.pskc" \
    --token "serial=PL-0001,secret=$P1" \
    --token "serial=PL-0002,secret=$P2,digits=8,period=60,suite=HMAC-SHA256,wrap=1" \
    --token "serial=PL-0003,secret=$P3,suite=hmac-sha512,period=30"
printf '# serial,user\r\nPL-0001,palice\r\n\r\n  PL-0002 , pbob\r\nPL-0003,p carol\r\n' >"$T/plain.map"
chmod 0600 "$T/plain.pskc"
audited import pskc "$T/plain.pskc" --map "$T/plain.map"
check "plain: exit 0" rc_is 0
check "plain: each key reported on stdout" out_has_lines \
    "key 1 (serial PL-0001): palice: enrolled" "key 2 (serial PL-0002): pbob: enrolled" \
    "key 3 (serial PL-0003): p carol: enrolled"
check "plain: summary" out_has_lines "imported 3, failed 0"
# These made-up users are not in the machine's user database: one warning each
# (issue 12 finding 2), and nothing else.
check "plain: nothing on stderr but 'not known' warnings (0600 file, clean map)" \
	bash -c '! grep -v "is not known to this system'"'"'s user database" "$0"' "$T/err"
check "plain: a 'not known' warning names the user" \
	grep -qF "'palice' is not known to this system's user database" "$T/err"
check "plain: sha1/6/30 (PSKC defaults)" totp_is palice sha1 6 30
check "plain: Suite HMAC-SHA256, Length 8, TimeInterval 60" totp_is pbob sha256 8 60
check "plain: Suite hmac-sha512 (any case)" totp_is "p carol" sha512 6 30
check "plain: palice logs in with oathtool's code" logs_in palice "$P1" sha1 6 30
check "plain: pbob logs in (sha256, 8 digits, 60 s; base64 wrapped over lines)" \
    logs_in pbob "$P2" sha256 8 60
check "plain: 'p carol' logs in (sha512, 64-byte seed)" logs_in "p carol" "$P3" sha512 6 30
check "plain: a code from another seed is refused" refuses_other palice 6
check "plain: one audit line per user" test "$(grep -c 'event=enroll' "$T/audit")" -eq 3
check "plain: audit line fields" grep -Eq \
    'event=enroll result=success user=palice reason= factor=totp source=import_pskc serial=PL-0001( |$)' \
    "$T/audit"
check "plain: audit line for a user name with a blank" grep -Eq \
    'user="p\\x20carol" .*source=import_pskc serial=PL-0003' "$T/audit"
check "plain: no seed in output or audit (hex, base64, base32)" no_seed_leak "$P1" "$P2" "$P3"

chmod 0644 "$T/plain.pskc"
run import pskc "$T/plain.pskc" --map "$T/plain.map"
check "plain, world-readable file: re-import exits 0" rc_is 0
check "plain, world-readable file: warned" err_has 'holds unencrypted seeds and is readable by group or others'

# --- encrypted: AES-128-CBC + HMAC-SHA1, the RFC 6030 6.1.1 scheme ---------------
PSK=$(seed 16)
keyfile psk.key "$PSK"
E1=$(seed 20)
E2=$(seed 20)
E3=$(seed 32)
$GEN "$T/enc.pskc" --psk "$PSK" \
    --token "serial=EN-1,secret=$E1" \
    --token "serial=EN-2,secret=$E2,digits=8" \
    --token "serial=EN-3,secret=$E3,suite=HMAC-SHA256,period=60"
printf 'EN-1,edave\nEN-2,eerin\nEN-3,efrank\n' >"$T/enc.map"
check "encrypted: fixture has EncryptedValue, ValueMAC and MACMethod, no PlainValue secret" \
    $PY -c 'import sys; t = open(sys.argv[1]).read(); sys.exit(not (t.count("<EncryptedValue>") == 3 and t.count("<ValueMAC>") == 3 and "hmac-sha1" in t and "aes128-cbc" in t and "<Secret>\n          <PlainValue>" not in t))' "$T/enc.pskc"

# A wrong pre-shared key first: nothing may be saved.
keyfile wrong.key "$(seed 16)"
run import pskc "$T/enc.pskc" --map "$T/enc.map" --key-file "$T/wrong.key"
check "wrong key: exit 1" rc_is 1
check "wrong key: every key fails the MAC check" test "$(grep -c ': MAC check failed' "$T/err")" -eq 3
check "wrong key: summary" out_has_lines "imported 0, failed 3"
for u in edave eerin efrank; do
	check "wrong key: $u not enrolled" not_enrolled "$u"
done
check "wrong key: no record files written" test -z "$(ls "$T/store" | grep -E '^e(dave|erin|frank)\.')"

audited import pskc "$T/enc.pskc" --map "$T/enc.map" --key-file "$T/psk.key"
check "encrypted: exit 0" rc_is 0
check "encrypted: summary" out_has_lines "imported 3, failed 0"
check "encrypted: edave sha1/6/30" totp_is edave sha1 6 30
check "encrypted: eerin sha1/8/30" totp_is eerin sha1 8 30
check "encrypted: efrank sha256/6/60" totp_is efrank sha256 6 60
check "encrypted: edave logs in (seed decrypted right)" logs_in edave "$E1" sha1 6 30
check "encrypted: eerin logs in" logs_in eerin "$E2" sha1 8 30
check "encrypted: efrank logs in" logs_in efrank "$E3" sha256 6 60
check "encrypted: a code from another seed is refused" refuses_other edave 6
check "encrypted: audit lines" test "$(grep -c 'event=enroll result=success .*source=import_pskc' "$T/audit")" -eq 3
check "encrypted: no seed or pre-shared key in output or audit" no_seed_leak "$E1" "$E2" "$E3" "$PSK"

# Wrong key again, now over existing enrollments: records untouched.
SUM=$(cat "$(rec_file edave)" "$(rec_file eerin)" "$(rec_file efrank)" | sha256sum)
run import pskc "$T/enc.pskc" --map "$T/enc.map" --key-file "$T/wrong.key"
check "wrong key over enrolled users: exit 1" rc_and_err 1 'MAC check failed'
check "wrong key over enrolled users: records unchanged" \
    test "$(cat "$(rec_file edave)" "$(rec_file eerin)" "$(rec_file efrank)" | sha256sum)" = "$SUM"
check "wrong key over enrolled users: edave still logs in with the old seed" \
    logs_in_again edave "$E1" sha1 6 30

# Tampered ciphertext: that key alone fails, the others are imported.
T1=$(seed 20)
T2=$(seed 20)
T3=$(seed 20)
$GEN "$T/tamper.pskc" --psk "$PSK" \
    --token "serial=TA-1,secret=$T1" --token "serial=TA-2,secret=$T2,tamper=1" \
    --token "serial=TA-3,secret=$T3"
printf 'TA-1,talice\nTA-2,tbob\nTA-3,tcarol\n' >"$T/tamper.map"
run import pskc "$T/tamper.pskc" --map "$T/tamper.map" --key-file "$T/psk.key"
check "tampered: exit 1" rc_is 1
check "tampered: key 2 fails the MAC check" err_has_lines \
    "key 2 (serial TA-2): tbob: MAC check failed: wrong pre-shared key (--key-file) or an altered file"
check "tampered: the others are imported" out_has_lines \
    "key 1 (serial TA-1): talice: enrolled" "key 3 (serial TA-3): tcarol: enrolled" \
    "imported 2, failed 1"
check "tampered: tbob not enrolled" not_enrolled tbob
check "tampered: tcarol logs in" logs_in tcarol "$T3" sha1 6 30

# AES-256 pre-shared key with an HMAC-SHA256 MAC.
PSK256=$(seed 32)
keyfile psk256.key "$PSK256" 0400
A1=$(seed 20)
$GEN "$T/aes256.pskc" --psk "$PSK256" --mac-alg sha256 --token "serial=AE-1,secret=$A1"
printf 'AE-1,aes256user\n' >"$T/aes256.map"
run import pskc "$T/aes256.pskc" --map "$T/aes256.map" --key-file "$T/psk256.key"
check "aes256-cbc + hmac-sha256, 0400 key file: exit 0" rc_is 0
check "aes256-cbc: logs in" logs_in aes256user "$A1" sha1 6 30
run import pskc "$T/aes256.pskc" --map "$T/aes256.map" --key-file "$T/psk.key"
check "aes256-cbc file with a 16-byte key: refused" rc_and_err 1 'aes256-cbc but --key-file holds a 16-byte key'

# Encrypted without --key-file, and without a MAC.
run import pskc "$T/enc.pskc" --map "$T/enc.map"
check "encrypted without --key-file: exit 1" rc_and_err 1 'give the pre-shared key with --key-file'
$GEN "$T/nomac.pskc" --psk "$PSK" --no-mac --token "serial=NM-1,secret=$(seed 20)"
printf 'NM-1,nomac\n' >"$T/nomac.map"
run import pskc "$T/nomac.pskc" --map "$T/nomac.map" --key-file "$T/psk.key"
check "encrypted without MACMethod/ValueMAC: refused" rc_and_err 1 'without a MAC is refused'
check "encrypted without MAC: not enrolled" not_enrolled nomac

# --- RFC 6030 Figure 5, byte for byte (PSK 1234...9012, seed "1234567890...") ----
cat >"$T/rfc6030-fig5.pskc" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0"
    xmlns="urn:ietf:params:xml:ns:keyprov:pskc"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">
    <EncryptionKey>
        <ds:KeyName>Pre-shared-key</ds:KeyName>
    </EncryptionKey>
    <MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1">
        <MACKey>
            <xenc:EncryptionMethod
            Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
            <xenc:CipherData>
                <xenc:CipherValue>
    ESIzRFVmd4iZABEiM0RVZgKn6WjLaTC1sbeBMSvIhRejN9vJa2BOlSaMrR7I5wSX
                </xenc:CipherValue>
            </xenc:CipherData>
        </MACKey>
    </MACMethod>
    <KeyPackage>
        <DeviceInfo>
            <Manufacturer>Manufacturer</Manufacturer>
            <SerialNo>987654321</SerialNo>
        </DeviceInfo>
        <CryptoModuleInfo>
            <Id>CM_ID_001</Id>
        </CryptoModuleInfo>
        <Key Id="12345678"
            Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
            <Issuer>Issuer</Issuer>
            <AlgorithmParameters>
                <ResponseFormat Length="8" Encoding="DECIMAL"/>
            </AlgorithmParameters>
            <Data>
                <Secret>
                    <EncryptedValue>
                        <xenc:EncryptionMethod
             Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
                        <xenc:CipherData>
                            <xenc:CipherValue>
        AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv
                            </xenc:CipherValue>
                        </xenc:CipherData>
                    </EncryptedValue>
                    <ValueMAC>Su+NvtQfmvfJzF6bmQiJqoLRExc=
                    </ValueMAC>
                </Secret>
                <Counter>
                    <PlainValue>0</PlainValue>
                </Counter>
            </Data>
        </Key>
    </KeyPackage>
</KeyContainer>
EOF
keyfile rfc.key 12345678901234567890123456789012
printf '987654321,rfcuser\n' >"$T/rfc.map"
run import pskc "$T/rfc6030-fig5.pskc" --map "$T/rfc.map" --key-file "$T/rfc.key"
check "RFC 6030 Figure 5 as published (HOTP): unsupported, exit 1" rc_is 1
check "RFC 6030 Figure 5 as published: HOTP reported" err_has_lines \
    "key 1 (serial 987654321): HOTP (counter-based) keys are not supported, only TOTP"
sed 's/keyprov:pskc:hotp/keyprov:pskc:totp/' "$T/rfc6030-fig5.pskc" >"$T/rfc-totp.pskc"
run import pskc "$T/rfc-totp.pskc" --map "$T/rfc.map" --key-file "$T/rfc.key"
check "RFC 6030 Figure 5 as TOTP: its MAC verifies and it imports" out_has_lines \
    "key 1 (serial 987654321): rfcuser: enrolled" "imported 1, failed 0"
check "RFC 6030 Figure 5 as TOTP: 8 digits" totp_is rfcuser sha1 8 30
check "RFC 6030 Figure 5 as TOTP: logs in with the RFC 6238 seed" \
    logs_in rfcuser 3132333435363738393031323334353637383930 sha1 8 30
sed 's/Su+NvtQfmvfJzF6bmQiJqoLRExc=/Su+MvtQfmvfJzF6bmQiJqoLRExc=/' "$T/rfc-totp.pskc" >"$T/rfc-badmac.pskc"
printf '987654321,rfcuser2\n' >"$T/rfc2.map"
run import pskc "$T/rfc-badmac.pskc" --map "$T/rfc2.map" --key-file "$T/rfc.key"
check "RFC 6030 Figure 5 with one ValueMAC bit changed: MAC check fails" \
    rc_and_err 1 'rfcuser2: MAC check failed'
check "RFC 6030 Figure 5 with a bad MAC: not enrolled" not_enrolled rfcuser2

# --- bad entries cost themselves only --------------------------------------------
G1=$(seed 20)
G2=$(seed 20)
BADSEEDS=()
for i in 1 2 3 4 5 6 7; do BADSEEDS+=("$(seed 20)"); done
$GEN "$T/mixed.pskc" \
    --token "serial=MX-01,secret=$G1" \
    --token "serial=MX-02,secret=${BADSEEDS[0]},alg=hotp" \
    --token "serial=MX-03,secret=${BADSEEDS[1]},digits=7" \
    --token "serial=MX-04,secret=${BADSEEDS[2]},period=45" \
    --token "serial=MX-05,secret=${BADSEEDS[3]},suite=HMAC-MD5" \
    --token "serial=MX-06,secret=$(seed 8)" \
    --token "serial=MX-07,secret=${BADSEEDS[4]},badb64=1" \
    --token "id=NOSERIAL7,secret=${BADSEEDS[5]}" \
    --token "serial=MX-09,secret=${BADSEEDS[6]}" \
    --token "serial=MX-10,secret=$G2,manufacturer=,drift=3" \
    --token "serial=MX-11,secret=$(seed 20),alg=urn:example:ocra" \
    --token "serial=MX-12,secret=$(seed 20),digits=none" \
    --token "serial=MX-01,secret=$(seed 20)"
{
	echo 'MX-01,malice'
	for i in 02 03 04 05 06 07 11 12; do echo "MX-$i,mbad$i"; done
	echo 'MX-10,mzoe'
	echo 'MX-99,mghost'
} >"$T/mixed.map"
run import pskc "$T/mixed.pskc" --map "$T/mixed.map"
check "mixed: exit 1" rc_is 1
check "mixed: the good keys are imported" out_has_lines \
    "key 1 (serial MX-01): malice: enrolled" "key 10 (serial MX-10): mzoe: enrolled" \
    "imported 2, failed 11"
check "mixed: HOTP unsupported" err_has_lines \
    "key 2 (serial MX-02): HOTP (counter-based) keys are not supported, only TOTP"
check "mixed: Length 7" err_has_lines "key 3 (serial MX-03): digits must be 6 or 8 (ResponseFormat Length)"
check "mixed: TimeInterval 45" err_has_lines "key 4 (serial MX-04): period must be 30 or 60 (TimeInterval)"
check "mixed: Suite HMAC-MD5" err_has_lines \
    "key 5 (serial MX-05): Suite must be HMAC-SHA1, HMAC-SHA256 or HMAC-SHA512"
check "mixed: 8-byte seed" err_has_lines "key 6 (serial MX-06): mbad06: seed is shorter than 10 bytes"
check "mixed: bad base64" err_has_lines "key 7 (serial MX-07): mbad07: seed PlainValue is not valid base64"
check "mixed: no serial, named by Key Id" err_has '^key 8 \(Id NOSERIAL7\): no usable DeviceInfo/SerialNo'
check "mixed: serial not in the map" err_has_lines "key 9 (serial MX-09): serial not in the map (--map): skipped"
check "mixed: other algorithm URI" err_has '^key 11 \(serial MX-11\): Key Algorithm is not TOTP'
check "mixed: no ResponseFormat Length" err_has '^key 12 \(serial MX-12\): no AlgorithmParameters/ResponseFormat Length'
check "mixed: serial twice in the file: the second fails" err_has_lines \
    "key 13 (serial MX-01): malice: the file has this serial twice: key 1 already took its map line"
check "mixed: TimeDrift warned about" err_has '^mfauth: warning: key 10 \(serial MX-10\): TimeDrift 3 ignored'
check "mixed: the map line whose serial is not in the file is warned about" err_has_lines \
    "mfauth: warning: map line 11: serial MX-99 is not in $T/mixed.pskc"
check "mixed: no such warning for serials that are in the file but failed" \
    eval '[ "$(grep -c "is not in $T/mixed.pskc" "$T/err")" -eq 1 ]'
check "mixed: empty <Manufacturer/> (crashes libpskc 2.6.7) is fine" totp_is mzoe sha1 6 30
check "mixed: malice logs in with key 1's seed, not key 13's" logs_in malice "$G1" sha1 6 30
for u in mbad02 mbad03 mbad04 mbad05 mbad06 mbad07 mbad11 mbad12 mghost; do
	check "mixed: $u not enrolled" not_enrolled "$u"
done
check "mixed: no seed in the output" no_seed_leak "$G1" "$G2" "${BADSEEDS[@]}"

# --- the map ------------------------------------------------------------------------
M1=$(seed 20)
M2=$(seed 20)
M3=$(seed 20)
M4=$(seed 20)
M5=$(seed 20)
$GEN "$T/map.pskc" \
    --token "serial=MP-1,secret=$M1" --token "serial=MP-2,secret=$M2" \
    --token "serial=MP-3,secret=$M3" --token "serial=MP-4,secret=$M4" \
    --token "serial=MP-5,secret=$M5"
printf '\xef\xbb\xbfMP-1,uone\nMP-2,utwo\nMP-3,uone\nMP-4;ufour\nMP-5,ufive\nMP-5,usix\nMP-6,a,b\nMP-7,../x\n' \
    >"$T/map.map"
run import pskc "$T/map.pskc" --map "$T/map.map"
check "map: exit 1" rc_is 1
check "map: BOM skipped, first lines imported" out_has_lines \
    "key 1 (serial MP-1): uone: enrolled" "key 2 (serial MP-2): utwo: enrolled" \
    "imported 2, failed 3"
check "map: a user given twice: an error for the second line" err_has_lines \
    "map line 3: uone already gets serial MP-1 on map line 1: a user gets one token, so this line is not used" \
    "key 3 (serial MP-3): uone: already gets serial MP-1 (map line 1); map line 3 gives a second token: not imported"
check "map: uone has MP-1's seed" logs_in uone "$M1" sha1 6 30
check "map: malformed line reported" err_has_lines "map line 4: expected serial,user"
check "map: its key then is not in the map" err_has_lines \
    "key 4 (serial MP-4): serial not in the map (--map): skipped"
check "map: a serial given twice: neither line used" err_has_lines \
    "map line 6: serial MP-5 is also on map line 5: which user gets it is unclear, so neither line is used" \
    "key 5 (serial MP-5): serial is on map lines 5 and 6: which user gets it is unclear"
check "map: ufive and usix not enrolled" eval 'not_enrolled ufive && not_enrolled usix'
check "map: two commas refused" err_has_lines "map line 7: expected serial,user"
check "map: a bad user name refused, not echoed" err_has_lines "map line 8: user name not acceptable"
check "map: nothing outside the store" test ! -e "$T/x.rec"
check "map: bad lines counted (malformed 2, bad name, user twice, serial twice)" \
    err_has_lines "map: 5 lines not used (see above)"

# --- hostile and broken XML -------------------------------------------------------------
XS=$(seed 20)
XB64=$($PY -c 'import base64,sys; print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' "$XS")
echo 'XXESERIAL' >"$T/xxe-target.txt"
body() {   # body SERIAL-ELEMENT-CONTENT
	printf '<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage><DeviceInfo><SerialNo>%s</SerialNo></DeviceInfo><Key Id="x" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp"><AlgorithmParameters><ResponseFormat Length="6"/></AlgorithmParameters><Data><Secret><PlainValue>%s</PlainValue></Secret></Data></Key></KeyPackage></KeyContainer>\n' "$1" "$XB64"
}
printf 'XXESERIAL,xeve\nXX-OK,xok\n' >"$T/xxe.map"
{ echo '<?xml version="1.0"?>'; echo "<!DOCTYPE KeyContainer [ <!ENTITY xxe SYSTEM \"file://$T/xxe-target.txt\"> ]>"; body '&xxe;'; } >"$T/xxe.pskc"
run import pskc "$T/xxe.pskc" --map "$T/xxe.map"
check "XXE (external entity): refused, exit 1" rc_and_err 1 'has a DOCTYPE declaration: refused'
check "XXE: the entity's target was not used" not_enrolled xeve
{ echo '<?xml version="1.0"?>'; echo "<!DOCTYPE KeyContainer SYSTEM \"file://$T/xxe-target.txt\">"; body 'XX-OK'; } >"$T/xxe-dtd.pskc"
run import pskc "$T/xxe-dtd.pskc" --map "$T/xxe.map"
check "external DTD: refused, exit 1" rc_and_err 1 'DOCTYPE'
check "external DTD: nothing imported" not_enrolled xok
{ echo '<?xml version="1.0"?>'; echo '<!DOCTYPE KeyContainer [ <!ENTITY % pe SYSTEM "http://127.0.0.1:9/x.dtd"> %pe; ]>'; body 'XX-OK'; } >"$T/xxe-pe.pskc"
run import pskc "$T/xxe-pe.pskc" --map "$T/xxe.map"
check "external parameter entity over the network: refused" rc_and_err 1 'DOCTYPE|not well-formed'
{
	echo '<?xml version="1.0"?>'
	echo '<!DOCTYPE KeyContainer ['
	echo ' <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
	prev=a
	for e in b c d e f g h i j k; do   # 64 * 10^10 bytes if expanded
		printf ' <!ENTITY %s "%s">\n' "$e" "$(for n in 1 2 3 4 5 6 7 8 9 10; do printf '&%s;' "$prev"; done)"
		prev=$e
	done
	echo ']>'
	body '&k;'
} >"$T/lol.pskc"
START=$(date +%s%N)
run import pskc "$T/lol.pskc" --map "$T/xxe.map"
MS=$(( ($(date +%s%N) - START) / 1000000 ))
check "billion laughs: refused, exit 1" rc_and_err 1 'DOCTYPE|not well-formed'
check "billion laughs: refused in under 2 s (${MS} ms)" test "$MS" -lt 2000
body 'XX-OK' | head -c 250 >"$T/trunc.pskc"
run import pskc "$T/trunc.pskc" --map "$T/xxe.map"
check "truncated XML: exit 1" rc_and_err 1 'not well-formed XML \(line [0-9]+: .*\); nothing imported'
check "truncated XML: nothing imported" not_enrolled xok
body 'XX-OK' | sed 's/urn:ietf:params:xml:ns:keyprov:pskc"/urn:example:other"/' >"$T/otherns.pskc"
run import pskc "$T/otherns.pskc" --map "$T/xxe.map"
check "KeyContainer in another namespace: not a PSKC file" rc_and_err 1 'not a PSKC file'
body 'XX-OK' | sed 's/Version="1.0"/Version="2.0"/' >"$T/v2.pskc"
run import pskc "$T/v2.pskc" --map "$T/xxe.map"
check "Version 2.0: refused" rc_and_err 1 'Version is not 1.0'
printf '<?xml version="1.0"?>\n<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"/>\n' >"$T/empty.pskc"
run import pskc "$T/empty.pskc" --map "$T/xxe.map"
check "no KeyPackage: exit 1" rc_and_err 1 'no KeyPackage'
body 'XX-OK' | sed 's|<Secret>|<Secret><PlainValue>AAAA</PlainValue>|' >"$T/twosecrets.pskc"
run import pskc "$T/twosecrets.pskc" --map "$T/xxe.map"
check "two PlainValues in one Secret: refused" rc_and_err 1 'exactly one PlainValue or EncryptedValue'
body 'XX-OK' | sed 's|<SerialNo>XX-OK</SerialNo>|<SerialNo>XX-OK</SerialNo><SerialNo>XXESERIAL</SerialNo>|' >"$T/twoserials.pskc"
run import pskc "$T/twoserials.pskc" --map "$T/xxe.map"
check "two SerialNo elements: refused" rc_and_err 1 'no usable DeviceInfo/SerialNo'
check "two SerialNo elements: neither user enrolled" eval 'not_enrolled xok && not_enrolled xeve'
body 'XX-OK' >"$T/ok.pskc"
run import pskc "$T/ok.pskc" --map "$T/xxe.map"
check "the same file without tricks imports (the checks above can fail)" out_has_lines \
    "key 1 (serial XX-OK): xok: enrolled"

# --- usage errors: exit 2 -------------------------------------------------------------
run import pskc "$T/ok.pskc"
check "missing --map: exit 2" rc_and_err 2 '--map CSV .* is required'
run import pskc --map "$T/xxe.map"
check "missing FILE: exit 2" rc_and_err 2 'usage: mfauth import pskc FILE --map CSV'
run import pskc "$T/ok.pskc" "$T/ok.pskc" --map "$T/xxe.map"
check "two files: exit 2" rc_and_err 2 'exactly one PSKC file'
run import pskc "$T/ok.pskc" --map "$T/xxe.map" --map "$T/xxe.map"
check "--map twice: exit 2" rc_and_err 2 '--map given twice'
run import pskc "$T/ok.pskc" --map "$T/xxe.map" --bogus
check "unknown option: exit 2" rc_and_err 2 "unknown option"
run import pskc "$T/ok.pskc" --map
check "--map without a value: exit 2" rc_and_err 2 "missing value"

# --- file errors: exit 1, nothing imported ----------------------------------------------
printf 'EN-1,kdave\nEN-2,kerin\nEN-3,kfrank\n' >"$T/k.map"
keyfile open.key "$PSK" 0644
run import pskc "$T/enc.pskc" --map "$T/k.map" --key-file "$T/open.key"
check "key file mode 0644: exit 1" rc_and_err 1 'mode too open \(want 0600 or 0400\)'
check "key file mode 0644: nothing imported" not_enrolled kdave
keyfile nobody.key "$PSK"
chown nobody "$T/nobody.key"
run import pskc "$T/enc.pskc" --map "$T/k.map" --key-file "$T/nobody.key"
check "key file not owned by root: exit 1" rc_and_err 1 'not owned by root'
ln -s "$T/psk.key" "$T/link.key"
run import pskc "$T/enc.pskc" --map "$T/k.map" --key-file "$T/link.key"
check "key file is a symlink: exit 1" rc_and_err 1 'symbolic link'
ln "$T/psk.key" "$T/hard.key"
run import pskc "$T/enc.pskc" --map "$T/k.map" --key-file "$T/hard.key"
check "key file with two hard links: exit 1" rc_and_err 1 'more than one hard link'
rm -f "$T/hard.key"
keyfile notkey.key "not a hex key"
run import pskc "$T/enc.pskc" --map "$T/k.map" --key-file "$T/notkey.key"
check "key file not hex: exit 1" rc_and_err 1 'expected 32 or 64 hex digits'
keyfile short.key "$(seed 12)"
run import pskc "$T/enc.pskc" --map "$T/k.map" --key-file "$T/short.key"
check "key file of 24 hex digits: exit 1" rc_and_err 1 'expected 32 or 64 hex digits'
run import pskc "$T/enc.pskc" --map "$T/k.map" --key-file "$T/nonexistent.key"
check "missing key file: exit 1" rc_and_err 1 'does not exist'
check "no bad key file imported anything" eval 'not_enrolled kdave && not_enrolled kerin && not_enrolled kfrank'
(cd "$T" && "$MFAUTH" -c "$CONF" import pskc enc.pskc --map k.map --key-file psk.key >"$T/out" 2>"$T/err") && RC=0 || RC=$?
check "relative paths (key file checked from the working directory): exit 0" rc_is 0
check "relative paths: kdave logs in" logs_in kdave "$E1" sha1 6 30
run import pskc "$T/missing.pskc" --map "$T/k.map"
check "missing PSKC file: exit 1" rc_and_err 1 'missing.pskc: No such file'
run import pskc "$T" --map "$T/k.map"
check "PSKC path is a directory: exit 1" rc_and_err 1 'not a regular file'
run import pskc "$T/enc.pskc" --map "$T/missing.map"
check "missing map: exit 1" rc_and_err 1 'map .*missing.map: No such file'

# --- 1,000 encrypted tokens -----------------------------------------------------------
$GEN "$T/bulk.pskc" --psk "$PSK" --bulk 1000 --map-out "$T/bulk.map" --seeds-out "$T/bulk.seeds"
START=$(date +%s.%N)
run import pskc "$T/bulk.pskc" --map "$T/bulk.map" --key-file "$T/psk.key"
END=$(date +%s.%N)
SECS=$($PY -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$START" "$END")
echo "# import pskc of 1000 encrypted tokens took $SECS s"
check "bulk: 1000 imported, exit 0" eval 'rc_is 0 && out_has_lines "imported 1000, failed 0"'
check "bulk: under 60 s" $PY -c 'import sys; sys.exit(float(sys.argv[1]) >= 60)' "$SECS"
read -r BU BS < <(sed -n '777p' "$T/bulk.seeds")
check "bulk: $BU logs in with its seed" logs_in "$BU" "$BS" sha1 6 30
run list --json
check "bulk: all 1000 listed" test "$($PY -c 'import json,sys; print(sum(1 for u in json.load(open(sys.argv[1])) if u["user"].startswith("bulk")))' "$T/out")" -eq 1000

summary
