#!/usr/bin/env bash
# A card login left open at its PIN prompt, finished after other failures
# (security review, finding 1): its failure must count with them, at the
# time it happens.  deny = 5: while the card login waits, the clock moves
# 100 s on, four wrong codes on a service that does not use the card, the
# clock 600 s further, then a wrong PIN: the fifth failure locks, and the
# lock (unlock_time 600) runs from the time the PIN was answered.
# Before the fix the card login counted its failure at the time it started:
# the count went back to 1 (the window reopened), or, with the count kept, a
# lock that had already ended.
set -uo pipefail

build=${MFAUTH_BUILDDIR:?set MFAUTH_BUILDDIR}
src=${MFAUTH_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export MFAUTH_WAIT_CARD=${MFAUTH_WAIT_CARD:-$build/tests/card/wait_card}

T=$(mktemp -d /tmp/mfauth-stall.XXXXXX)
. "$src/tests/card/rig.sh"
rig_start "$T/rig"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "cannot start a private pcscd (rig.sh exit $rc)"
	rm -rf "$T"
	exit "$rc"
fi
trap 'rig_stop "$T/rig" >/dev/null 2>&1; rm -rf "$T"' EXIT
. "$T/rig/env"
. "$src/tests/checks.sh"

conf=$T/mfauth.conf
printf 'store_dir = %s/store\nkey_file = %s/store.key\nfactors = totp,card\ncard_wait = 2\n' \
	"$T" "$T" >"$conf"
printf 'deny = 5\nunlock_time = 600\nfail_interval = 900\n' >>"$conf"
chmod 600 "$conf"
mfauth() { "$build/tools/mfauth" -c "$conf" "$@"; }
mfauth init >/dev/null
module=$build/pam_module/.libs/pam_mfauth.so
mkdir "$T/pam.d"
printf 'auth required %s conf=%s\naccount required %s conf=%s\n' "$module" "$conf" "$module" "$conf" \
	>"$T/pam.d/card"
printf 'auth required %s conf=%s factors=totp\n' "$module" "$conf" >"$T/pam.d/code"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$T/pam.d/other"

rig_card "$T/rig" jpki --tries 3 >/dev/null 2>"$T/rig.err" || { cat "$T/rig.err"; exit 1; }
check "enroll the card" bash -c 'printf "1234\n" | "$0" -c "$1" enroll card alice --no-ca' \
	"$build/tools/mfauth" "$conf"
check "enroll a TOTP token too" bash -c \
	'printf "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n" | "$0" -c "$1" enroll totp alice --secret-stdin --no-confirm' \
	"$build/tools/mfauth" "$conf"

"$build/tests/card/stall_login" "$T/pam.d" card code alice 9999 4 100 600 >"$T/out" 2>&1
cat "$T/out"
check "the four wrong codes failed" test "$(grep -c '^code [0-9]: Authentication failure' "$T/out")" = 4
check "the late wrong PIN failed" grep -q '^auth: Authentication failure' "$T/out"
check "five failures counted (the late one did not reopen the window)" \
	grep -q '"failures":5,' <<<"$(mfauth show alice --json)"
check "locked: account refused at the time the PIN was answered" \
	grep -q '^account: Permission denied' "$T/out"
summary
