#!/usr/bin/env bash
# Fault injection into `mfauth unlock` of a user locked until staff unlock:
# each call the tool makes fails once.  Exit 0 means unlocked with the
# failures cleared; exit 1 means still locked (the state write is one pwrite
# + fdatasync, so a failure there may also have landed: then it must say
# unlocked and the next unlock still works).  The store loads, the next
# unlock works and the clerk logs in.  See fault-lib.sh.
set -uo pipefail
. "${MFAUTH_SRCDIR:-$(dirname "$0")/../..}/tests/fault/fault-lib.sh"

lock_bob() { for _ in 1 2 3; do login bob 000000; done; }
state_of() { mfauth show bob --json | grep -o '"locked":[a-z]*' | cut -d: -f2; }

enroll alice
enroll bob
lock_bob
[ "$(state_of)" = true ] && ok || fail "setup: bob not locked"
: >"$T/stdin"
K=$(count main "$MFAUTH_BIN" -c "$CONF" unlock bob --reason counting)
echo "unlock: $K calls to fail"
[ "$K" -gt 20 ] && ok || fail "only $K counted calls: is the shim working?"
n=0
for N in $(tried "$K"); do
	n=$((n + 1))
	next_round
	lock_bob
	shimmed "$N" main "$MFAUTH_BIN" -c "$CONF" unlock bob --reason fault >"$T/unlock.out" 2>&1
	rc=$?
	FN=$FAILED_FN
	[ -n "$FN" ] || fail "fault $N: nothing failed (the call sequence changed)"
	locked=$(state_of)
	case "$rc,$locked" in
	0,false) ok ;;
	1,true) ok ;;
	1,false)
		# Only the durability of the write failed (fdatasync after pwrite).
		[ "$FN" = fdatasync ] && ok || fail "fault $N ($FN): exit 1 but unlocked" ;;
	*) fail "fault $N ($FN): exit $rc, locked=$locked: $(head -n 2 "$T/unlock.out")" ;;
	esac
	store_loads "$N"
	mfauth unlock bob --reason again >/dev/null 2>&1 && [ "$(state_of)" = false ] && ok ||
		fail "fault $N ($FN): the next unlock fails"
	login bob "$(code_of bob)" && ok || fail "fault $N ($FN): no login after the unlock"
done
echo "unlock: tried $n of $K"
store_checks end
summary
