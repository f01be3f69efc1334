#!/usr/bin/env bash
# The card second factor through the setuid helper: an unprivileged clerk's
# PAM application, the helper doing the card transaction itself (as root,
# with an empty environment: it reaches pcscd at its compiled-in socket,
# which this private mount namespace points at the rig's private pcscd by
# binding the rig's /run over /run).
set -uo pipefail

build=${MFAUTH_BUILDDIR:?set MFAUTH_BUILDDIR}
src=${MFAUTH_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
sysconf=${MFAUTH_SYSCONFDIR:?set MFAUTH_SYSCONFDIR}
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (setuid helper, private mount namespace)"
	exit 77
fi
if [ -z "${MFAUTH_HELPER_INNER:-}" ]; then
	log=$(mktemp /tmp/mfauth-helper-audit.XXXXXX)
	MFAUTH_HELPER_INNER=$log "$build/tests/sinkrun" "$log" bash "$0"
	rc=$?
	rm -f "$log"
	exit $rc
fi
audit=$MFAUTH_HELPER_INNER
export MFAUTH_WAIT_CARD=${MFAUTH_WAIT_CARD:-$build/tests/card/wait_card}

. "$src/tests/helper/helper-lib.sh"
helper_stage "factors = totp,card" "card_wait = 2" "deny = 10"
. "$src/tests/card/rig.sh"
rig_start "$T/rig"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "cannot start a private pcscd (rig.sh exit $rc)"
	exit "$rc"
fi
trap 'rig_stop "$T/rig" >/dev/null 2>&1; rm -rf "$T"' EXIT
. "$T/rig/env"
run=${PCSCLITE_CSOCK_NAME%/pcscd/pcscd.comm}
mount --bind "$run" /run || { echo "cannot bind the rig's /run"; exit 1; }
. "$src/tests/checks.sh"
tries_on_card() { sed -n 's/.*"tries_left": *\([0-9]*\).*/\1/p' "$T/rig/state.$1"; }
insert() { rig_card "$T/rig" "$@" >/dev/null 2>"$T/rig.err" || { fail "card $* did not appear"; cat "$T/rig.err"; }; }

insert jpki --tries 3
check "enroll mfa_a's My Number card (as root)" bash -c 'printf "1234\n" | "$0" -c "$1" enroll card mfa_a --no-ca' \
	"$build/tools/mfauth" "$conf"
before=$(wc -l <"$T/rig/card0.log")
check "mfa_a unlocks with the card and its PIN" lock mfa_a mfa_a 1234
check "the PIN prompt names the 4-digit user authentication PIN" grep -q "4-digit user authentication PIN" "$T/out"
check "audit: card success through the helper" \
	audited "event=auth result=success user=mfa_a factor=card .*helper=mfauth-verify caller_uid=61001"
check "the card was reset after the login" bash -c 'tail -n +"$(($0 + 1))" "$1" | grep -q "^reset\|^power-down"' \
	"$before" "$T/rig/card0.log"
check "a wrong PIN is refused" not lock mfa_a mfa_a 9999
check "message: wrong PIN, 2 tries left" grep -q "Wrong PIN. 2 tries left" "$T/out"
check "the card's counter is 2" test "$(tries_on_card jpki)" = 2
check "the failure counted (once)" test "$(failures_of mfa_a)" -eq 1
check "audit: bad_pin through the helper" \
	audited "event=auth result=fail user=mfa_a factor=card reason=bad_pin .*caller_uid=61001 failures=1 tries_left=2"
check "the right PIN again: in, failures cleared" lock mfa_a mfa_a 1234
check "failures back to 0" test "$(failures_of mfa_a)" -eq 0
check "mfa_b cannot use mfa_a's card through the helper as mfa_a" not lock mfa_b mfa_a 1234
check "audit: helper_user_mismatch" audited "user=mfa_b .*reason=helper_user_mismatch .*requested=mfa_a"
# The failure that sets the lock is told at once, as the module tells it
# (report_attempt), not only at the next attempt.
sed -i 's/^deny = 10$/deny = 2/' "$conf"
check "deny = 2 in the config" grep -qx 'deny = 2' "$conf"
check "wrong PIN (1 of 2)" not lock mfa_a mfa_a 9999
check "wrong PIN (2 of 2): refused" not lock mfa_a mfa_a 9999
check "message: the failure that locked says so at once" grep -qi "locked" "$T/out"
check "audit: the lock through the helper" audited "event=lock .*user=mfa_a"
check "locked in the store" locked_of mfa_a

# --- card_min_tries = 1: the wrong PIN that blocks the card is a failed attempt,
# counted once by the helper (the clerk's locker) and once by the module (root).
mfauth unlock mfa_a --reason test >/dev/null
sed -i 's/^deny = 2$/deny = 10/' "$conf"
echo 'card_min_tries = 1' >>"$conf"
fresh_card() { rig_remove "$T/rig" >/dev/null 2>&1; insert jpki "$@"; }
# root_login USER ANSWER: the module's own path (root reads the store itself).
root_login() {
	"$build/tests/pam/pamcheck" --confdir "$T/pam.d" --no-fail-delay lock "$1" <<<"$2" >"$T/out" 2>&1
}
fresh_card --tries 1
check "helper, last try: the wrong PIN is refused" not lock mfa_a mfa_a 9999
check "helper, last try: the card is blocked now" test "$(tries_on_card jpki)" = 0
check "helper, last try: the clerk is told the PIN is now blocked" \
	grep -q "Wrong PIN. The card's PIN is now blocked: have it reset" "$T/out"
helper_count=$(failures_of mfa_a)
check "helper, last try: counted once" test "$helper_count" -eq 1
check "audit: bad_pin with no try left, through the helper" audited \
	"event=auth result=fail user=mfa_a factor=card reason=bad_pin .*caller_uid=61001 failures=1 tries_left=0"
check "helper, last try: no code prompt after the card attempt" not grep -q "Verification code" "$T/out"
mfauth unlock mfa_a --reason test >/dev/null
fresh_card --tries 1
check "module as root, last try: the wrong PIN is refused" not root_login mfa_a 9999
check "module as root, last try: the card is blocked now" test "$(tries_on_card jpki)" = 0
check "module as root, last try: the clerk is told the PIN is now blocked" \
	grep -q "Wrong PIN. The card's PIN is now blocked: have it reset" "$T/out"
module_count=$(failures_of mfa_a)
check "module as root, last try: counted once" test "$module_count" -eq 1
check "the helper and the module count the blocking wrong PIN alike ($helper_count = $module_count)" \
	test "$helper_count" -eq "$module_count"
check "audit: bad_pin with no try left, from the module" bash -c \
	'sleep 0.1; grep "event=auth result=fail user=mfa_a factor=card reason=bad_pin" "$0" | grep -v "helper=" |
	grep -q "failures=1 tries_left=0"' "$audit"
check "module as root, last try: no code prompt after the card attempt" \
	not grep -q "Verification code" "$T/out"
# A card blocked before the login: nothing is sent, nothing counts, the code prompt follows.
mfauth unlock mfa_a --reason test >/dev/null
check "helper, card blocked before: the code logs in" lock mfa_a mfa_a "$(code_of mfa_a)"
check "helper, card blocked before: the code prompt was shown" grep -q "Verification code" "$T/out"
check "helper, card blocked before: not counted" test "$(failures_of mfa_a)" -eq 0
check "module, card blocked before: a wrong code is refused" not root_login mfa_a "$(wrong_of mfa_a)"
check "module, card blocked before: only the wrong code counted" test "$(failures_of mfa_a)" -eq 1
check "audit: pin_blocked is a skip on both paths" bash -c \
	'sleep 0.1; [ "$(grep -c "event=auth result=skip user=mfa_a factor=card reason=pin_blocked" "$0")" -ge 2 ]' \
	"$audit"
mfauth unlock mfa_a --reason test >/dev/null

# --- a remote login through the helper (the locker's PAM_RHOST set, card_remote = no, the
# default): the card in the reader is not touched, the code prompt follows with one line.
fresh_card --tries 3
before=$(wc -l <"$T/rig/card0.log")
check "helper, remote login: the TOTP code logs in" lock mfa_a mfa_a "$(code_of mfa_a 30)" lock "--rhost 192.0.2.7"
check "helper, remote login: no PIN prompt" not grep -q "PIN" "$T/out"
check "helper, remote login: the clerk is told the card is only for the terminal" \
	grep -q "The card can be used only at the terminal. Enter your authenticator code." "$T/out"
check "helper, remote login: no APDU reached the card" bash -c \
	'! tail -n +"$(($0 + 1))" "$1" | grep -q "^apdu"' "$before" "$T/rig/card0.log"
check "helper, remote login: nothing counted" test "$(failures_of mfa_a)" -eq 0
check "audit: the card skipped for a remote login, through the helper" audited \
	"event=auth result=skip user=mfa_a factor=card reason=card_remote .*caller_uid=61001 remote=rhost"
# card_remote = yes in the helper's config (the locker's module arguments never reach it):
# the card again, for the same remote login.
echo 'card_remote = yes' >>"$conf"
before=$(wc -l <"$T/rig/card0.log")
check "helper, remote login, card_remote = yes: the card and its PIN log in" \
	lock mfa_a mfa_a 1234 lock "--rhost 192.0.2.7"
check "helper, card_remote = yes: the PIN prompt" grep -q "4-digit user authentication PIN" "$T/out"
check "helper, card_remote = yes: the card was used" bash -c \
	'tail -n +"$(($0 + 1))" "$1" | grep -q "^apdu"' "$before" "$T/rig/card0.log"
sed -i '/^card_remote = yes$/d' "$conf"

# --- the helper killed in the middle of the card check: the card stalls (5 s) on
# the VERIFY that carries the PIN (or on the signature), the test SIGKILLs the
# helper (root: the clerk cannot) while the module waits for it.  The module
# must refuse (PAM_AUTH_ERR), leave no descriptor or child in its host, the
# reserved attempt stays counted, and the card is usable again afterwards.
# helper_of PID: the helper process below PID (the locker), by its executable.
helper_of() {
	local c
	for c in $(pgrep -P "$1"); do
		if [ "$(readlink "/proc/$c/exe" 2>/dev/null)" = "$helper" ]; then
			echo "$c"
			return 0
		fi
		helper_of "$c" && return 0
	done
	return 1
}
# kill_mid STALL ANSWER: a locker login of mfa_a (--check-host) with the card stalling on
# STALL; the helper is killed once the card waits.  Sets killed_rc (pamcheck's exit).
# The card's log (appended by every card) is read from this card's first line.
card_log() { tail -n +"$((log_from + 1))" "$T/rig/card0.log"; }
kill_mid() {
	local job guard hp i
	fresh_card --tries 3 --stall-on "$1"
	log_from=$(grep -n "^connected" "$T/rig/card0.log" | tail -n 1 | cut -d: -f1)
	log_from=$((log_from - 1))
	: >"$T/out"
	lock mfa_a mfa_a "$2" lock --check-host &
	job=$!
	(sleep 60; kill -KILL "$job" 2>/dev/null) &
	guard=$!
	for ((i = 0; i < 200; i++)); do
		card_log | grep -q "^stalled" && hp=$(helper_of "$job") && break
		sleep 0.05
	done
	if [ -n "${hp:-}" ]; then
		kill -KILL "$hp"
	else
		fail "$1: the card did not stall or no helper was found"
	fi
	wait "$job"
	killed_rc=$?
	kill "$guard" 2>/dev/null
	wait "$guard" 2>/dev/null
	# The card answers the dead helper's command late; pcscd then ends that
	# client's session.  Only then is the card removed (one removed while pcscd
	# still waits on it can leave the reader blind to the next card).
	for ((i = 0; i < 300; i++)); do
		card_log | grep -q "^stall over" && break
		sleep 0.05
	done
	check "$1: the card answered the killed helper's command late" card_log_has "^stall over"
	rig_remove "$T/rig" >/dev/null 2>&1
}
card_log_has() { card_log | grep -q "$1"; }
before=$(failures_of mfa_a)
kill_mid verify 9999
check "helper killed during the PIN's VERIFY: refused (PAM_AUTH_ERR), host unchanged (exit 1, not 3)" \
	test "$killed_rc" -eq 1
check "... pam_authenticate said Authentication failure" grep -q "pam_authenticate: Authentication failure" "$T/out"
check "audit: helper_killed" audited "event=auth result=fail user=mfa_a .*reason=helper_killed"
check "... the card spent the try (2 left)" test "$(tries_on_card jpki)" = 2
check "... the reserved attempt is counted: store failures >= the card's spent tries" \
	test "$(failures_of mfa_a)" -eq $((before + 1))
kill_mid sign 1234
check "helper killed during the signature (right PIN): refused, host unchanged" test "$killed_rc" -eq 1
check "... the right PIN reset the card's counter (3 left)" test "$(tries_on_card jpki)" = 3
check "... the reserved attempt is counted (no signature, no login)" \
	test "$(failures_of mfa_a)" -eq $((before + 2))
check "... not locked by the lost attempts alone (deny = 10)" not locked_of mfa_a
fresh_card --tries 3
check "after the kills, the card logs in with its PIN" lock mfa_a mfa_a 1234 lock --check-host
check "... and the success clears the failures" test "$(failures_of mfa_a)" -eq 0
check "... the card was reset after that login" bash -c 'tail -n 3 "$0" | grep -q "^reset\|^power-down"' \
	"$T/rig/card0.log"

check "no PIN in the audit" not grep -qE '(=| )(1234|9999)( |$)' "$audit"
[ "$failed" -eq 0 ] || sed "s/^/       audit| /" "$audit"
summary
