#!/bin/bash
# End-to-end tests of `mfauth enroll totp` and `mfauth import csv` with the
# built tool, in a private sandbox under /tmp (nothing under /etc touched).
#
# Needs: root (the store is root-only), $MFAUTH_BUILDDIR (tools/mfauth in
# it), /usr/bin/python3 and oathtool.  The confirmation prompt is driven
# through a pseudo-terminal by pty_enroll.py next to this script.
# Prints "N passed, N failed" and exits non-zero when anything failed
# (77 = skipped when not root, 99 = the test could not run).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
PTY="$PY $HERE/pty_enroll.py"
RFC_SEED=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ       # RFC 6238 SHA1 test seed

if [ -z "${MFAUTH_BUILDDIR:-}" ] || [ ! -x "$MFAUTH_BUILDDIR/tools/mfauth" ]; then
	echo "test-enroll: set MFAUTH_BUILDDIR to a build directory with tools/mfauth" >&2
	exit 99
fi
MFAUTH=$MFAUTH_BUILDDIR/tools/mfauth
if [ "$(id -u)" -ne 0 ]; then
	echo "test-enroll: SKIP: must run as root (the store is root-only)"
	exit 77
fi
for prog in "$PY" oathtool; do
	if ! command -v "$prog" >/dev/null; then
		echo "test-enroll: $prog is required" >&2
		exit 99
	fi
done

T=$(mktemp -d /tmp/mfauth-enroll.XXXXXX)
trap 'rm -rf "$T"' EXIT
CONF=$T/mfauth.conf
printf 'store_dir = %s/store\nkey_file = %s/store.key\n' "$T" "$T" >"$CONF"
chown root:root "$CONF"
chmod 0600 "$CONF"

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

rc_is() { [ "$RC" -eq "$1" ]; }
out_has() { grep -Eq -- "$1" "$T/out"; }
err_has() { grep -Eq -- "$1" "$T/err"; }
# Neither stdout nor stderr contains any of the fixed strings given.
no_leak() {
	local s
	for s in "$@"; do
		if grep -qF -- "$s" "$T/out" "$T/err"; then
			return 1
		fi
	done
}
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
out_lines_are() { [ "$(grep -c '' "$T/out")" -eq "$1" ]; }
# A line of stdout is PREFIX + base32 + SUFFIX exactly.
out_has_fixed_prefix() {
	$PY -c 'import re,sys; sys.exit(0 if any(re.fullmatch(re.escape(sys.argv[2]) + "[A-Z2-7]+" + re.escape(sys.argv[3]), l) for l in open(sys.argv[1]).read().splitlines()) else 1)' \
	    "$T/out" "$1" "$2"
}
# No half-block glyph or escape sequence on stdout.
no_qr() { ! LC_ALL=C grep -q -e $'\xe2\x96' -e $'\x1b' "$T/out"; }
rc_and_out() { rc_is "$1" && out_has "$2"; }
rc_and_err() { rc_is "$1" && [ -s "$T/err" ] && err_has "$2"; }

# show_is USER PYTHON-EXPR: `show USER --json` exits 0 and EXPR holds for its object j.
show_is() {
	run show "$1" --json
	rc_is 0 && $PY -c 'import json,sys; j = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
	    "$T/out" "$2"
}
not_enrolled() { run show "$1" --json; rc_is 1 && err_has 'not enrolled'; }
# The users `list --json` names, one per line, into $T/users.
list_users() {
	run list --json
	rc_is 0 && $PY -c 'import json,sys; [print(u["user"]) for u in json.load(open(sys.argv[1]))]' \
	    "$T/out" >"$T/users"
}
listed() { grep -qxF -- "$1" "$T/users"; }
not_listed() { ! listed "$1"; }
rec_file() { echo "$T/store/$1.rec"; }

echo "# sandbox $T"
run init
check "init creates the store" rc_is 0

# --- enroll --no-confirm ---------------------------------------------------
run enroll totp alice --no-confirm --qr none
check "enroll --no-confirm exits 0" rc_is 0
check "URI on a line of its own with default parameters" out_has \
    '^otpauth://totp/mfauth:alice\?secret=[A-Z2-7]{32}&issuer=mfauth&algorithm=SHA1&digits=6&period=30$'
check "--qr none draws no QR code" no_qr
check "success message" out_has '^enrolled totp for alice '
check "show --json lists totp" show_is alice \
    'j["factors"] == ["totp"] and j["totp"]["algorithm"] == "sha1" and j["totp"]["digits"] == 6 and j["totp"]["period"] == 30'

NAME='taro yamada@市役所'
run enroll totp "$NAME" --no-confirm --qr none --issuer 'City Hall'
WANT=$($PY -c 'import sys, urllib.parse as u; q = lambda s: u.quote(s, safe=""); print("otpauth://totp/%s:%s?secret=" % (q("City Hall"), q(sys.argv[1])))' "$NAME")
check "user with space, @ and Japanese: exit 0" rc_is 0
check "label and issuer percent-encoded (RFC 3986 unreserved kept)" \
    out_has_fixed_prefix "$WANT" '&issuer=City%20Hall&algorithm=SHA1&digits=6&period=30'
check "that user is enrolled under the exact name" show_is "$NAME" 'j["user"] == "'"$NAME"'"'

run enroll totp piped --no-confirm
check "stdout not a terminal: stdout is the URI and the result only" out_lines_are 2
check "stdout not a terminal: no QR by default" no_qr

run enroll totp s256 --no-confirm --qr none --algorithm sha256 --digits 8 --period 60
check "sha256/8/60: URI parameters and a 32-byte seed" out_has \
    '^otpauth://totp/mfauth:s256\?secret=[A-Z2-7]{52}&issuer=mfauth&algorithm=SHA256&digits=8&period=60$'
check "sha256/8/60 in show --json" show_is s256 \
    'j["totp"]["algorithm"] == "sha256" and j["totp"]["digits"] == 8 and j["totp"]["period"] == 60'
check "show --json raw text has \"algorithm\":\"sha256\",\"digits\":8,\"period\":60" \
    out_has '"algorithm":"sha256","digits":8,"period":60'
run enroll totp s512 --no-confirm --qr none --algorithm SHA512
check "sha512: a 64-byte seed" out_has 'secret=[A-Z2-7]{103}&issuer=mfauth&algorithm=SHA512&digits=6&period=30$'

# --- the confirmation prompt on a terminal -----------------------------------
run_pty() {
	RC=0
	$PTY "$@" >"$T/out" 2>"$T/err" || RC=$?
	sed 's/^/       /' "$T/out"
}
run_pty -- "$MFAUTH" -c "$CONF" enroll totp carol --qr utf8
check "confirm with oathtool's code on a pty (utf8 QR checked)" rc_is 0
check "carol enrolled after confirmation" show_is carol '"totp" in j["factors"]'

run_pty --expect-qr utf8 --env LANG=C.UTF-8 -- "$MFAUTH" -c "$CONF" enroll totp carol2
check "default QR on a UTF-8 terminal is utf8" rc_is 0
run_pty --expect-qr ansi --env LANG=C -- "$MFAUTH" -c "$CONF" enroll totp carol3
check "default QR on a non-UTF-8 terminal is ansi" rc_is 0

run_pty --wrong --expect-qr none -- "$MFAUTH" -c "$CONF" enroll totp dave --qr none
check "three wrong codes: exit 1, nothing saved" rc_is 0
run show dave --json
check "dave not enrolled: show exits 1" rc_is 1
check "no record file for dave" test ! -e "$(rec_file dave)"

SUM=$(sha256sum "$(rec_file alice)")
run_pty --wrong --expect-qr none -- "$MFAUTH" -c "$CONF" enroll totp alice --qr none
check "re-enroll with wrong codes fails" rc_is 0
check "re-enroll with wrong codes leaves the old record untouched" \
    test "$(sha256sum "$(rec_file alice)")" = "$SUM"

run_pty --seed "$RFC_SEED" --expect-qr none -- "$MFAUTH" -c "$CONF" enroll totp erin --secret-stdin --qr none
check "--secret-stdin with the RFC 6238 seed, confirmed on a pty" rc_is 0
check "erin enrolled" show_is erin '"totp" in j["factors"]'

# Seed and code on one piped stdin: the seed reader must not swallow the code.
CODE=$(oathtool --totp -b "$RFC_SEED")
run enroll totp frank --secret-stdin --qr none < <(printf '%s\n%s\n' "$RFC_SEED" "$CODE")
check "--secret-stdin then the code on the same pipe" rc_and_out 0 '^enrolled totp for frank .*confirmed'
check "URI carries the given seed" out_has "secret=$RFC_SEED&"
check "frank enrolled" show_is frank '"totp" in j["factors"]'

run enroll totp gina --secret-stdin --qr none < <(printf '%s\n' "$RFC_SEED")
check "end of input at the prompt: exit 1" rc_and_err 1 'no confirmation code'
check "gina not enrolled" not_enrolled gina

# --- usage errors: exit 2 with a message ----------------------------------------
for args in "hank --digits 7" "hank --algorithm md5" "hank --period 45" "" "../x" \
    "hank --bogus" "hank extra" "hank --qr sixel" "hank --issuer a:b" "hank --digits"; do
	# shellcheck disable=SC2086
	run enroll totp $args --no-confirm --qr none
	check "enroll totp ${args:-(no user)}: exit 2 with a message" rc_and_err 2 '.'
done
check "hank never enrolled" not_enrolled hank
check "nothing outside the store" test ! -e "$T/x.rec"
run enroll
check "enroll without a factor: exit 2" rc_and_err 2 'usage'
check "enroll without a factor: the usage names both factors" \
	err_has '^mfauth: usage: mfauth enroll totp[|]card USER \[OPTIONS\]$'
run enroll fido ivan
check "enroll fido: exit 2" rc_and_err 2 'unknown factor'
# No pcscd (or no reader) here: a clear error, exit 1, nothing saved.
PCSCLITE_CSOCK_NAME=/nonexistent/pcscd.comm run enroll card ivan
check "enroll card without pcscd: exit 1" rc_and_err 1 '^mfauth: no card: '
run enroll card ivan --profile foo
check "enroll card --profile foo: exit 2" rc_and_err 2 'jpki or piv'
# Issue 12 finding 6: a My Number card needs --ca FILE or an explicit --no-ca.
run enroll card ivan --profile jpki
check "enroll card --profile jpki without --ca or --no-ca: exit 2, says where the CA comes from" \
	rc_and_err 2 'JPKI user-authentication CA certificate that J-LIS publishes'
run enroll card ivan --profile jpki --ca /nonexistent.pem --no-ca
check "enroll card --ca with --no-ca: exit 2" rc_is 2
PCSCLITE_CSOCK_NAME=/nonexistent/pcscd.comm run enroll card ivan --profile jpki --no-ca
check "enroll card --profile jpki --no-ca: accepted (then no card: exit 1)" \
	rc_and_err 1 '^mfauth: no card: '

# --- bad seeds on stdin: exit 1, nothing saved, never echoed -------------------
BAD_B32='NOTBASE32!!SECRETXYZ1890'
run enroll totp ivan --secret-stdin --no-confirm --qr none <<<"$BAD_B32"
check "invalid base32: exit 1" rc_and_err 1 'not valid base32'
check "invalid base32 not echoed" no_leak "$BAD_B32"
check "ivan not enrolled" not_enrolled ivan
run enroll totp ivan --secret-stdin --no-confirm --qr none <<<'GEZDGNBVGY3TQ'
check "8-byte seed: exit 1" rc_and_err 1 'shorter than 10 bytes'
check "ivan still not enrolled" not_enrolled ivan
LONG=$(printf 'A%.0s' $(seq 120))
run enroll totp ivan --secret-stdin --no-confirm --qr none <<<"$LONG"
check "75-byte seed: exit 1" rc_and_err 1 'longer than 64 bytes'
run enroll totp ivan --secret-stdin --no-confirm --qr none </dev/null
check "no seed at all: exit 1" rc_and_err 1 'no seed'
check "ivan never enrolled" not_enrolled ivan

# --- import csv ---------------------------------------------------------------
S1=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
S2=$($PY -c 'import base64,os; print(base64.b32encode(os.urandom(32)).decode().rstrip("="))')
S3=$($PY -c 'import base64,os; print(base64.b32encode(os.urandom(64)).decode().rstrip("="))')
BAD1='ZZZZ!!!!NOTB32SEEDBADLINEONE'
BAD2=$($PY -c 'import base64,os; print(base64.b32encode(os.urandom(20)).decode())')
BAD3=$($PY -c 'import base64,os; print(base64.b32encode(os.urandom(20)).decode())')
{
	echo '# vendor seed list'
	echo ''
	echo "imp1,$S1"
	printf 'imp2,%s,8,sha256,60\r\n' "$S2"
	echo "badseed,$BAD1"
	echo "a/b,$BAD2"
	echo "bad7,$BAD3,7"
	echo "imp3,$S3,,sha512,"
	echo '   # indented comment'
} >"$T/import.csv"
run import csv <"$T/import.csv"
check "import: a bad line makes the exit status 1" rc_is 1
check "import: good lines reported" out_has_lines "line 3: imp1: enrolled" \
    "line 4: imp2: enrolled" "line 8: imp3: enrolled"
check "import: summary" out_has '^imported 3, failed 3$'
check "import: bad base32 reported with its user" err_has '^line 5: badseed: seed is not valid base32'
check "import: bad user reported" err_has_lines "line 6: user name not acceptable"
check "import: bad user name not printed" no_leak "a/b"
check "import: digits=7 reported" err_has '^line 7: bad7: digits must be 6 or 8$'
check "import: no secret of a bad line in the output" no_leak "$BAD1" "$BAD2" "$BAD3"
check "import: no secret of a good line in the output either" no_leak "$S1" "$S2" "$S3"
check "import: list --json" list_users
for u in imp1 imp2 imp3; do
	check "import: $u listed" listed "$u"
done
for u in badseed a/b bad7; do
	check "import: $u not listed" not_listed "$u"
done
check "import: per-line parameters (sha256/8/60)" show_is imp2 \
    'j["totp"]["algorithm"] == "sha256" and j["totp"]["digits"] == 8 and j["totp"]["period"] == 60'
check "import: empty field takes the default, algorithm from the line" show_is imp3 \
    'j["totp"]["algorithm"] == "sha512" and j["totp"]["digits"] == 6 and j["totp"]["period"] == 30'

printf 'imp4,%s\n' "$S1" >"$T/one.csv"
run import csv --digits 8 --algorithm sha256 --period 60 <"$T/one.csv"
check "import: all good lines: exit 0" rc_and_out 0 '^imported 1, failed 0$'
check "import: command-line defaults apply" show_is imp4 \
    'j["totp"]["algorithm"] == "sha256" and j["totp"]["digits"] == 8 and j["totp"]["period"] == 60'
{
	printf 'long,%s\n' "$(printf 'A%.0s' $(seq 5000))"
	printf 'imp5,%s\n' "$S1"
} >"$T/long.csv"
run import csv <"$T/long.csv"
check "import: an over-long line is reported" err_has_lines "line 1: longer than 4096 bytes"
check "import: the line after an over-long one is imported" out_has_lines "line 2: imp5: enrolled"
check "import: over-long line gives exit 1" rc_is 1
run import csv --digits 7 </dev/null
check "import csv --digits 7: exit 2" rc_and_err 2 'digits'
run import xml </dev/null
check "import xml: exit 2" rc_and_err 2 'unknown format'
run import pskc </dev/null
check "import pskc without a file: exit 2 (more in test-import-pskc.sh)" rc_and_err 2 'usage: mfauth import pskc'
run import </dev/null
check "import without a format: exit 2 with the csv usage line" \
	rc_and_err 2 '^mfauth: usage: mfauth import csv \[--digits 6[|]8\] .* < FILE$'

# --- import speed -----------------------------------------------------------------
$PY -c 'import base64,os
for i in range(1000):
    print("bulk%04d,%s" % (i, base64.b32encode(os.urandom(20)).decode()))' >"$T/bulk.csv"
START=$(date +%s.%N)
run import csv <"$T/bulk.csv"
END=$(date +%s.%N)
SECS=$($PY -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$START" "$END")
echo "# import of 1000 users took $SECS s"
check "import of 1000 users: exit 0, all imported" rc_and_out 0 '^imported 1000, failed 0$'
check "import of 1000 users under 30 s" $PY -c 'import sys; sys.exit(float(sys.argv[1]) >= 30)' "$SECS"
list_users || true
check "all 1000 listed" test "$(grep -c '^bulk[0-9]*$' "$T/users")" -eq 1000

# --- names are keyed by the account NSS returns (issue 12 finding 2) --------
# tests/fake_nss.c as the tool's user database: TANAKA and tanaka@example.lg.jp
# are tanaka (SSSD with a case-insensitive domain), broken fails to look up.
printf 'tanaka:tanaka\nTANAKA:tanaka\ntanaka@example.lg.jp:tanaka\nbroken:!EIO\n' >"$T/nss.db"
nssrun() {
	RC=0
	# (In the sanitizer build the shim is preloaded before the ASan runtime.)
	LD_PRELOAD=$MFAUTH_BUILDDIR/tests/.libs/fake_nss.so MFAUTH_TEST_NSS=$T/nss.db \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$MFAUTH" -c "$CONF" "$@" >"$T/out" 2>"$T/err" || RC=$?
}
nssrun enroll totp TANAKA --no-confirm --qr none
check "enroll TANAKA: exit 0" rc_is 0
check "enroll TANAKA: says it is the account tanaka" err_has "'TANAKA' is the account 'tanaka'"
check "enroll TANAKA: keyed as tanaka" test -f "$(rec_file tanaka)"
check "enroll TANAKA: nothing keyed as TANAKA" test ! -e "$(rec_file TANAKA)"
check "enroll TANAKA: the URI names tanaka" out_has '^otpauth://totp/mfauth:tanaka[?]'
nssrun show tanaka@example.lg.jp --json
check "show through an alias shows tanaka" \
	$PY -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["user"] != "tanaka")' "$T/out"
printf 'TANAKA,%s\n' "$RFC_SEED" >"$T/alias.csv"
nssrun import csv <"$T/alias.csv"
check "import csv TANAKA: keyed as tanaka" rc_and_out 0 '^line 1: tanaka: enrolled'
check "import csv TANAKA: nothing keyed as TANAKA" test ! -e "$(rec_file TANAKA)"
nssrun enroll totp newclerk --no-confirm --qr none
check "a name NSS does not know yet: enrolled as given, with a warning" \
	rc_and_err 0 "'newclerk' is not known to this system's user database"
check "a name NSS does not know yet: keyed as given" test -f "$(rec_file newclerk)"
nssrun enroll totp broken --no-confirm --qr none
check "a failing user database: enroll refused, nothing saved" rc_and_err 1 "cannot look up 'broken'"
check "a failing user database: no record" test ! -e "$(rec_file broken)"
nssrun unlock TANAKA
check "unlock TANAKA unlocks tanaka" rc_and_out 0 '^tanaka: '

summary
