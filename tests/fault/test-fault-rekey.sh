#!/usr/bin/env bash
# Fault injection into `mfauth rekey` (two users): each call the tool makes
# fails once.  Whatever fails, every record and state still loads and logins
# work (the store reads with the old and the new key while a rotation is
# unfinished); exit 0 means the new key is in place and nothing is left over;
# the next rekey completes, and `mfauth check` then finds nothing (no stray
# temp files, no leftover .new key).  See fault-lib.sh.
set -uo pipefail
. "${MFAUTH_SRCDIR:-$(dirname "$0")/../..}/tests/fault/fault-lib.sh"

enroll alice
enroll bob
: >"$T/stdin"
K=$(count main "$MFAUTH_BIN" -c "$CONF" rekey)
echo "rekey: $K calls to fail"
[ "$K" -gt 20 ] && ok || fail "only $K counted calls: is the shim working?"
users=(alice bob)
n=0
for N in $(tried "$K"); do
	n=$((n + 1))
	next_round
	key_before=$(sha256sum <"$T/store.key")
	shimmed "$N" main "$MFAUTH_BIN" -c "$CONF" rekey >"$T/rekey.out" 2>&1
	rc=$?
	FN=$FAILED_FN
	[ -n "$FN" ] || fail "fault $N: nothing failed (the call sequence changed)"
	if [ "$rc" -eq 0 ]; then
		[ ! -e "$T/store.key.new" ] && [ "$(sha256sum <"$T/store.key")" != "$key_before" ] &&
			ok || fail "fault $N ($FN): exit 0 but the key was not replaced"
	elif [ "$rc" -ne 1 ]; then
		fail "fault $N ($FN): exit $rc (crash?): $(tail -n 2 "$T/rekey.out")"
	fi
	store_loads "$N"
	u=${users[$((N % 2))]}
	login "$u" "$(code_of "$u")" && ok || fail "fault $N ($FN): $u cannot log in afterwards"
	mfauth rekey >"$T/rekey2.out" 2>&1 && [ ! -e "$T/store.key.new" ] && ok ||
		fail "fault $N ($FN): the next rekey fails: $(head -n 2 "$T/rekey2.out")"
	store_checks "$N"
done
echo "rekey: tried $n of $K"
summary
