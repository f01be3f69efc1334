#!/usr/bin/env bash
# Fault injection into `mfauth enroll totp --secret-stdin` (with the
# confirmation code): each call the tool makes fails once, for a new user
# and for replacing an existing user's seed.  Afterwards the enrollment is
# all or nothing: exit 0 means the new seed logs in and the confirmation code
# does not; a failure leaves the old seed (or none) working, or -- when only
# marking the confirmation code used failed, which the tool reports -- the new
# one.  The store loads, and enrolling again works.  See fault-lib.sh.
set -uo pipefail
. "${MFAUTH_SRCDIR:-$(dirname "$0")/../..}/tests/fault/fault-lib.sh"

# enroll_cli AT USER SEED: the command under test; its status.
enroll_cli() {
	printf '%s\n%s\n' "$3" "$(oathtool --totp -b -N "@$NOW" "$3")" >"$T/in"
	shimmed "$1" main "$MFAUTH_BIN" -c "$CONF" enroll totp "$2" --secret-stdin --qr none \
		<"$T/in" >"$T/enroll.out" 2>&1
}
# works USER SEED: a fresh code of SEED logs USER in.
works() {
	shimmed 0 main,pam_mfauth.so "$PAMCHECK" --confdir "$T/pam.d" --no-fail-delay svc "$1" \
		<<<"$(oathtool --totp -b -N "@$((NOW + 30))" "$2")" >/dev/null 2>&1
}
confirm_refused() {
	! shimmed 0 main,pam_mfauth.so "$PAMCHECK" --confdir "$T/pam.d" --no-fail-delay svc "$1" \
		<<<"$(oathtool --totp -b -N "@$NOW" "$2")" >/dev/null 2>&1
}
# When fsync of the store directory fails after the record's rename, the new
# seed is in place but not known to be durable: exit 1, a message that says
# so, and the confirmation code already spent.
saved_not_durable() {    # saved_not_durable N USER SEED
	grep -q 'the new seed was saved, but it could not be made durable' "$T/enroll.out" ||
		return 1
	confirm_refused "$2" "$3" || { fail "fault $1 ($FN): confirmation code logs in"; return 0; }
	works "$2" "$3" && ok || fail "fault $1 ($FN): saved, yet the new seed fails"
	return 0
}
record() { sed -i "/^$1,/d" "$SEEDS"; printf '%s,%s\n' "$1" "$2" >>"$SEEDS"; }

enroll alice
seed=$(new_seed)
printf '%s\n%s\n' "$seed" "$(oathtool --totp -b -N "@$NOW" "$seed")" >"$T/stdin"
K=$(count main "$MFAUTH_BIN" -c "$CONF" enroll totp counted --secret-stdin --qr none)
record counted "$seed"
echo "enroll (new user): $K calls to fail"
[ "$K" -gt 20 ] && ok || fail "only $K counted calls: is the shim working?"
n=0
for N in $(tried "$K"); do
	n=$((n + 1))
	next_round
	user=new$N
	seed=$(new_seed)
	enroll_cli "$N" "$user" "$seed"
	rc=$?
	FN=$FAILED_FN
	if [ "$rc" -eq 0 ]; then
		record "$user" "$seed"
		confirm_refused "$user" "$seed" && ok || fail "fault $N ($FN): confirmation code logs in"
		works "$user" "$seed" && ok || fail "fault $N ($FN): exit 0 but the new seed fails"
	elif [ "$rc" -eq 1 ]; then
		if mfauth show "$user" --json >/dev/null 2>&1; then
			# Saved; only marking the confirmation code used may have failed.
			record "$user" "$seed"
			if saved_not_durable "$N" "$user" "$seed"; then
				:
			elif grep -q 'could not be marked as used' "$T/enroll.out"; then
				works "$user" "$seed" && ok || fail "fault $N ($FN): half an enrollment"
			else
				fail "fault $N ($FN): exit 1, enrolled, and no word why: $(grep -v warning "$T/enroll.out" | tail -n 2)"
			fi
		else
			ok
			next_round
			enroll_cli 0 "$user" "$seed" && record "$user" "$seed" && works "$user" "$seed" &&
				ok || fail "fault $N ($FN): enrolling again fails"
		fi
	else
		fail "fault $N ($FN): exit $rc (crash?): $(tail -n 2 "$T/enroll.out")"
	fi
	[ -n "$FN" ] || fail "fault $N: nothing failed (the call sequence changed)"
	store_loads "$N"
done
echo "enroll (new user): tried $n of $K"

# Replacing a seed: the old one keeps working unless the new one fully replaced it.
old=$(seed_of alice)
seed=$(new_seed)
next_round
printf '%s\n%s\n' "$seed" "$(oathtool --totp -b -N "@$NOW" "$seed")" >"$T/stdin"
K=$(count main "$MFAUTH_BIN" -c "$CONF" enroll totp alice --secret-stdin --qr none)
record alice "$seed"
old=$seed
echo "enroll (replace): $K calls to fail"
n=0
for N in $(tried "$K"); do
	n=$((n + 1))
	next_round
	seed=$(new_seed)
	enroll_cli "$N" alice "$seed"
	rc=$?
	FN=$FAILED_FN
	if [ "$rc" -eq 0 ]; then
		works alice "$seed" && ok || fail "fault $N ($FN): exit 0 but the new seed fails"
		record alice "$seed"
		old=$seed
	elif [ "$rc" -eq 1 ]; then
		if works alice "$old"; then
			ok
		elif saved_not_durable "$N" alice "$seed" ||
		    { works alice "$seed" && grep -q 'could not be marked as used' "$T/enroll.out" && ok; }; then
			record alice "$seed"
			old=$seed
		else
			fail "fault $N ($FN): exit 1 and neither seed logs in: $(grep -v warning "$T/enroll.out" | tail -n 2)"
		fi
	else
		fail "fault $N ($FN): exit $rc (crash?): $(tail -n 2 "$T/enroll.out")"
	fi
	store_loads "$N"
done
echo "enroll (replace): tried $n of $K"
store_checks end
summary
