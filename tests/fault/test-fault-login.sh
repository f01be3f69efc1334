#!/usr/bin/env bash
# Fault injection into a TOTP login through the real PAM stack (pamcheck +
# the built module): each call our code makes (the module's files, locks,
# allocations, OpenSSL, liboath, and the application's conversation) fails
# once.  The login must fail, the store must still load, and the next login
# with a fresh code must succeed.  A locked user must stay locked whatever
# fails.  See fault-lib.sh.
set -uo pipefail
. "${MFAUTH_SRCDIR:-$(dirname "$0")/../..}/tests/fault/fault-lib.sh"

# A slot that fails to authenticate is, by design, a torn write: the other
# slot is used (store.h).  Failing EVP_DecryptFinal_ex on a state slot is
# exactly that, so the login may go on with the other slot.
by_design() { [ "$1" = EVP_DecryptFinal_ex ]; }

enroll alice
enroll bob
# Both state slots in use, as on any real system after the first login.
login alice "$(code_of alice)" || fail "setup: first login"
next_round

code_of alice >"$T/stdin"
K=$(count main,pam_mfauth.so "$PAMCHECK" --confdir "$T/pam.d" --account --no-fail-delay svc alice)
next_round
echo "login: $K calls to fail"
[ "$K" -gt 20 ] && ok || fail "only $K counted calls: is the shim working?"
n=0
for N in $(tried "$K"); do
	n=$((n + 1))
	next_round
	login alice "$(code_of alice)" "$N"
	rc=$?
	FN=$FAILED_FN
	if [ -z "$FN" ]; then
		fail "fault $N: nothing failed (the call sequence changed)"
	elif [ "$rc" -eq 0 ] && ! by_design "$FN"; then
		fail "fault $N ($FN): login succeeded"
	elif [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
		fail "fault $N ($FN): pamcheck exit $rc (crash?): $(tail -n 3 "$T/login.out")"
	else
		ok
	fi
	store_loads "$N"
	if login alice "$(code_of alice 30)"; then ok; else fail "fault $N ($FN): next login fails"; fi
done
echo "login: tried $n of $K"
store_checks end

# A user locked until staff unlock: no failure anywhere lets a valid code in.
for _ in 1 2 3; do login bob 000000; done
mfauth show bob --json | grep -q '"locked":true' && ok || fail "setup: bob not locked"
code_of bob >"$T/stdin"
K=$(count main,pam_mfauth.so "$PAMCHECK" --confdir "$T/pam.d" --account --no-fail-delay svc bob)
echo "locked login: $K calls to fail"
n=0
for N in $(tried "$K"); do
	n=$((n + 1))
	next_round
	login bob "$(code_of bob)" "$N"
	rc=$?
	FN=$FAILED_FN
	if by_design "$FN"; then
		# A corrupt newest slot rolls back one update, the lock included: lock again.
		mfauth show bob --json | grep -q '"locked":true' ||
			for _ in 1 2 3; do login bob 000000; done
		continue
	fi
	if [ "$rc" -eq 1 ]; then ok; else fail "fault $N ($FN): locked user got exit $rc"; fi
	if mfauth show bob --json | grep -q '"locked":true'; then
		ok
	else
		fail "fault $N ($FN): the lock is gone"
		for _ in 1 2 3; do login bob 000000; done
	fi
done
echo "locked login: tried $n of $K"
summary
