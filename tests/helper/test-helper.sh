#!/usr/bin/env bash
# The setuid helper (mfauth-verify) end to end, as screen lockers use it:
# the built module loaded by a PAM application running as an unprivileged
# clerk (setpriv), the built helper copied to a file system without nosuid,
# owned by root, mode 4755.  Everything runs in a private mount namespace
# with private copies of /etc (so the test users exist only there: the
# machine's user database is never touched) and of the compiled-in
# configuration directory (the helper reads only that file).  Audit lines are
# captured from a private /dev/log.
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

. "$src/tests/helper/helper-lib.sh"
helper_stage "deny = 3" "unlock_time = 0" "window = 1"
. "$src/tests/checks.sh"

# --- an unprivileged clerk unlocks with a code
code=$(code_of mfa_a)
check "mfa_a (uid $(uid_of mfa_a)) unlocks with the current code" lock mfa_a mfa_a "$code"
check "audit: success through the helper, with the caller's uid" \
	audited "event=auth result=success user=mfa_a factor=totp .*helper=mfauth-verify caller_uid=61001"
check "the same code again is a replay" not lock mfa_a mfa_a "$code"
check "audit: replay through the helper" audited "event=auth result=replay user=mfa_a .*caller_uid=61001"
# lang=ja: the module words the helper's requests and messages in Japanese
# though the application runs in C (the build's catalog, as --catalogs binds it).
printf 'auth required %s helper=%s lang=ja\n' "$module" "$helper" >"$T/pam.d/lock_ja"
chmod a+r "$T/pam.d/lock_ja"
lock_in_c() { LC_ALL=C LANGUAGE='' lock "$@"; }
check "lang=ja, application in C: the replayed code refused through the helper" \
	not lock_in_c mfa_a mfa_a "$code" lock_ja "--catalogs $build/tests/locale"
check "lang=ja: the prompt is Japanese" grep -q "確認コード: " "$T/out"
check "lang=ja: the helper's replay message in Japanese" grep -q "このコードは既に使用されました" "$T/out"
# Where ja_JP.UTF-8 is missing (LOCPATH at an empty directory): the host's
# language, and one warning line to syslog.
mkdir -m 755 "$T/no-locales"
check "lang=ja without ja_JP.UTF-8: refused as before" \
	not env LOCPATH="$T/no-locales" LC_ALL=C LANGUAGE= bash -c \
	'setpriv --reuid="$1" --regid="$1" --init-groups "$2" --catalogs "$3" --confdir "$4" \
		--no-fail-delay lock_ja mfa_a <<<"$5" >"$6" 2>&1' _ "$(uid_of mfa_a)" \
	"$build/tests/pam/pamcheck" "$build/tests/locale" "$T/pam.d" "$code" "$T/out"
check "lang=ja without ja_JP.UTF-8: the host's (English) prompt" grep -q "Verification code: " "$T/out"
check "lang=ja without ja_JP.UTF-8: a warning line in syslog" \
	audited "pam_mfauth.*warning: lang = ja, but the locale ja_JP.UTF-8 is not installed"
# Those two replays counted (deny = 3): mfa_a starts the cases below unlocked, as before.
mfauth unlock mfa_a --reason test >/dev/null
# A caller's `ulimit -f 0` would kill a root process at its first state
# write: the helper raises the limit (CAP_SYS_RESOURCE) or, where root lacks
# that capability (some containers), refuses before reading any state.
ulimit_f0() {
	as mfa_c bash -c 'ulimit -f 0; exec "$0" --confdir "$1" --no-fail-delay lock mfa_c <<<"$2"' \
		"$build/tests/pam/pamcheck" "$T/pam.d" "$(code_of mfa_c)" | cat >"$T/out"
	return "${PIPESTATUS[0]}"
}
if (( 0x$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status) >> 24 & 1 )); then
	check "a caller's 'ulimit -f 0': the helper raises it and the state write succeeds" ulimit_f0
else
	check "a caller's 'ulimit -f 0' (no CAP_SYS_RESOURCE here): refused, not killed" \
		not ulimit_f0
	check "audit: helper_limits" audited "reason=helper_limits .*caller_uid=61003"
	check "mfa_c's state untouched by the refusal" test "$(failures_of mfa_c)" -eq 0
fi

# --- one clerk cannot verify for another
before=$(failures_of mfa_b)
check "mfa_a cannot verify as mfa_b" not lock mfa_a mfa_b "$(code_of mfa_b)"
check "audit: helper_user_mismatch names the request" \
	audited "event=auth result=fail user=mfa_a .*reason=helper_user_mismatch .*caller_uid=61001 requested=mfa_b"
check "mfa_b's state untouched" test "$(failures_of mfa_b)" = "$before"
check "no prompt was shown for mfa_b" bash -c '! grep -q "Verification code" "$0"' "$T/out"

# --- lockout through the helper (deny = 3)
for i in 1 2 3; do
	lock mfa_b mfa_b "$(wrong_of mfa_b)"
done
check "three wrong codes lock mfa_b" locked_of mfa_b
check "audit: the lock event" audited "event=lock result=locked user=mfa_b .*reason=too_many_failures"
check "the clerk is told on the attempt that locks" grep -q "locked after too many failed" "$T/out"
check "a right code is refused while locked" not lock mfa_b mfa_b "$(code_of mfa_b)"
check "audit: locked attempt" audited "event=auth result=locked user=mfa_b .*caller_uid=61002"
check "account step (as the clerk) denies the locked user" not lock mfa_b mfa_b "" acct --account
check "account step: PAM_PERM_DENIED" grep -q "pam_acct_mgmt: Permission denied" "$T/out"
check "account step (as the clerk) lets an unlocked user in" lock mfa_a mfa_a "" acct --account
mfauth unlock mfa_b --reason test >/dev/null
check "after unlock mfa_b gets in" lock mfa_b mfa_b "$(code_of mfa_b)"

# --- a helper killed mid-check has spent the try (root runs the built,
# non-setuid helper with a shim that SIGKILLs it inside the code check)
shim=$build/tests/helper/.libs/killshim.so
# In the sanitizer build the shim goes first, ahead of ASan's runtime.
asan_opts=${ASAN_OPTIONS:-}
if [[ $(ldd "$build/helper/mfauth-verify" 2>/dev/null) == *libasan* ]]; then
	asan_opts="${asan_opts:+$asan_opts:}verify_asan_link_order=0"
fi
kill_run() {
	printf '6\n%s' "$(wrong_of mfa_c)" | ASAN_OPTIONS=$asan_opts LD_PRELOAD=$shim "$build/helper/mfauth-verify" \
		"--mfauth-helper-v2" auth mfa_c test tty "" local | cat >/dev/null
	return "${PIPESTATUS[1]}"
}
before=$(failures_of mfa_c)
kill_run
check "the shim killed the helper mid-check (status 137)" test $? -eq 137
check "the killed attempt is counted" test "$(failures_of mfa_c)" -eq $((before + 1))
kill_run; kill_run
check "three killed attempts: counted" test "$(failures_of mfa_c)" -eq 3
check "three killed attempts: not locked yet (no attempt has failed)" not locked_of mfa_c
check "the next attempt (even the right code) finds the lost tries and locks" \
	not lock mfa_c mfa_c "$(code_of mfa_c 30)"
check "mfa_c is locked" locked_of mfa_c
check "audit: the lock names too_many_failures" audited "event=lock result=locked user=mfa_c"
mfauth unlock mfa_c --reason test >/dev/null

# --- the caller cannot signal or drive the helper
check "the clerk cannot SIGKILL the running helper (all uids are 0)" \
	as mfa_a bash -c 'coproc H { exec "$0" --mfauth-helper-v2 auth mfa_a test tty "" local; }
		read -r -u "${H[0]}" line; [ "$line" = code ] || exit 2
		if kill -KILL "$H_PID" 2>/dev/null; then exit 1; fi
		printf "0\n" >&"${H[1]}"; wait "$H_PID"; [ $? -eq 1 ]' "$helper"
check "direct invocation from a terminal is refused (exit 4)" \
	status_is 4 as mfa_a script -qec "$helper --mfauth-helper-v2 auth mfa_a test tty host local" /dev/null
grep -q "reason=helper_usage .*caller_uid=61001" "$audit" || sleep 2.5
check "audit: helper_usage for the terminal" audited "event=auth result=fail user= .*reason=helper_usage .*caller_uid=61001"
check "without the magic argument: refused (exit 4)" as mfa_a bash -c \
	'echo | "$0" auth mfa_a test tty x y z | cat; [ "${PIPESTATUS[1]}" -eq 4 ]' "$helper"
check "the v1 protocol (no RHOST, no PLACE): refused (exit 4)" as mfa_a bash -c \
	'echo | "$0" --mfauth-helper-v1 auth mfa_a test tty | cat; [ "${PIPESTATUS[1]}" -eq 4 ]' "$helper"
check "a PLACE that is neither local nor a remote signal: refused (exit 4)" as mfa_a bash -c \
	'echo | "$0" --mfauth-helper-v2 auth mfa_a test tty "" here | cat; [ "${PIPESTATUS[1]}" -eq 4 ]' "$helper"
check "conf= from a clerk: refused (exit 4)" as mfa_a bash -c \
	'echo | "$0" --mfauth-helper-v2 auth mfa_a test tty "" local conf=/tmp/x | cat; [ "${PIPESTATUS[1]}" -eq 4 ]' "$helper"

# --- the host is left as it was: no descriptor, no child, no signal disposition changed
check "host unchanged after a success (fds, children, SIGCHLD/SIGPIPE)" \
	lock mfa_a mfa_a "$(code_of mfa_a 30)" lock --check-host
check "host unchanged after a failure" status_is 1 lock mfa_a mfa_a "$(wrong_of mfa_a)" lock --check-host
check "host unchanged without a helper" status_is 1 lock mfa_a mfa_a 123456 nohelper --check-host
check "a host that ignores SIGCHLD (no exit status): the end line carries the verdict" \
	lock mfa_c mfa_c "$(code_of mfa_c)" lock "--check-host --ignore-sigchld"
check "... and a refusal stays a refusal" \
	status_is 1 lock mfa_c mfa_c "$(wrong_of mfa_c)" lock "--check-host --ignore-sigchld"

# --- where the helper cannot run, the audit and the clerk say why
check "no_new_privs: refused" bash -c '! setpriv --no-new-privs --reuid=61001 --regid=61001 --init-groups \
	"$0" --confdir "$1" --no-fail-delay lock mfa_a <<<123456 >"$2" 2>&1' \
	"$build/tests/pam/pamcheck" "$T/pam.d" "$T/out"
check "no_new_privs: the clerk is told" grep -q "no_new_privs" "$T/out"
check "audit: unprivileged_no_new_privs" audited "reason=unprivileged_no_new_privs"
check "no helper: refused" not lock mfa_a mfa_a 123456 nohelper
check "no helper: the clerk is told" grep -q "the mfauth helper is not installed" "$T/out"
check "audit: unprivileged_no_helper (missing)" audited "reason=unprivileged_no_helper .*detail=\"helper.x20missing\""
check "helper not setuid: refused" not lock mfa_a mfa_a 123456 notsetuid
check "audit: unprivileged_no_helper (not setuid)" audited "reason=unprivileged_no_helper .*detail=\"helper.x20not.x20setuid.x20root\""
check "no store_error io for an unprivileged caller" bash -c '! grep -q "store_error.*reason=io" "$0"' "$audit"
check "no code, PIN or seed in the audit" bash -c '! grep -qF "$0" "$1" && ! grep -qF "$(cut -d, -f2 "$2" | head -n 1)" "$1"' \
	"$code" "$audit" "$T/seeds"
[ "$failed" -eq 0 ] || sed "s/^/       audit| /" "$audit"
summary
