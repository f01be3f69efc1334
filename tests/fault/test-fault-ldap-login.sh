#!/usr/bin/env bash
# Fault injection over every libldap/liblber call of a fleet login (store = ldap): a private
# slapd (tests/ldap/slapd-rig.sh), one clerk enrolled with staff credentials, and the built
# module through the real PAM stack (tests/pam/pamcheck) on a terminal identity, with
# faultshim.so failing the Nth ldap_*/ber_* call the directory module (mfauth_store_ldap.so)
# makes, for N = 1 until the shim reaches no call N.  After each faulted login, without faults:
# a fresh code logs in, the code accepted before the fault is still a replay, the failure count
# moved by at most one and never back, and `mfauth check` (staff) finds the store and its
# records sound.  A correct code (over ldap:// with StartTLS) and a wrong one (over ldaps://)
# each go through every call; a locked clerk on a login that skips auth (an SSH key: only the
# account check) goes through every call of that check.  The stack puts pam_permit after the
# module, so a PAM_IGNORE would be a success too: either is a failure of this test.  A right
# code may survive a call that fails by design (tolerated_calls below: the state must then be
# that of a success).  One refusal may leave the state of a success ("committed, answer lost"):
# a read of the compare-and-swap modify's answer fails after the server applied it (answer_lost
# below); the login is refused, and the directory must then show exactly the success -- count
# 0, the code used, the next code good -- never a rewound watermark nor a lower count elsewhere.
# Needs root and slapd (skips without), addr2line (binutils) and the build's debug info.
set -uo pipefail

build=${MFAUTH_BUILDDIR:?set MFAUTH_BUILDDIR}
src=${MFAUTH_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (root-owned key and password files, a private mount namespace)"
	exit 77
fi
for p in oathtool setpriv; do
	command -v "$p" >/dev/null || { echo "SKIP: $p is not installed"; exit 77; }
done
SHIM=$build/tests/fault/.libs/faultshim.so
[ -r "$SHIM" ] || { echo "faultshim not built: $SHIM"; exit 99; }
if [ -z "${MFAUTH_LDAP_INNER:-}" ]; then
	log=$(mktemp /tmp/mfauth-fault-ldap.XXXXXX)
	MFAUTH_LDAP_INNER=$log "$build/tests/sinkrun" "$log" bash "$0"
	rc=$?
	rm -f "$log"
	exit $rc
fi
if [[ $(ldd "$build/tools/mfauth" 2>/dev/null) == *libasan* ]]; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
fi

T=$(mktemp -d /tmp/mfauth-fault-ldap.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$src/tests/checks.sh"
. "$src/tests/ldap/slapd-rig.sh"

ldap_rig_start "$T/rig"
rc=$?
if ((rc == 99)); then
	echo "SKIP: slapd-rig prerequisites missing"
	exit 77
fi
((rc == 0)) || { fail "the rig starts"; summary; exit 1; }
. "$T/rig/env"

cp -a /etc "$T/etc" && mount --bind "$T/etc" /etc || { echo "cannot bind a private /etc"; exit 1; }
printf 'fleet_a:x:61101:61101::/nonexistent:/usr/sbin/nologin\n' >>/etc/passwd
printf 'fleet_a:x:61101:\n' >>/etc/group
mkdir -m 755 "$T/pam.d"
module=$build/pam_module/.libs/pam_mfauth.so
# conf NAME DN PASSWORD URI: $T/NAME.conf, its password file and its PAM stack.
conf() {
	printf '%s' "$3" >"$T/$1.secret" && chmod 600 "$T/$1.secret"
	{
		printf 'store = ldap\nkey_file = %s/store.key\nldap_uri = %s\n' "$T" "$4"
		printf 'ldap_base = %s\nldap_bind_dn = %s\n' "$LDAP_RIG_BASE" "$2"
		printf 'ldap_bind_pw_file = %s/%s.secret\nldap_ca_file = %s\n' "$T" "$1" "$LDAP_RIG_CA"
		printf 'ldap_timeout = 2\ndeny = 5\nunlock_time = 0\nwindow = 1\n'
		printf 'ldap_module = %s\n' "$build/lib/.libs/mfauth_store_ldap.so"
	} >"$T/$1.conf"
	chmod 644 "$T/$1.conf"
	# pam_permit after the module: a PAM_IGNORE from it would let the clerk in.
	printf 'auth required %s conf=%s/%s.conf\nauth required pam_permit.so\n' "$module" "$T" "$1" \
		>"$T/pam.d/$1"
	printf 'account required %s conf=%s/%s.conf\naccount required pam_permit.so\n' \
		"$module" "$T" "$1" >>"$T/pam.d/$1"
}
conf staff "$LDAP_RIG_STAFF_DN" "$LDAP_RIG_STAFF_PW" "$LDAP_RIG_URI_LDAPS"
conf starttls "$LDAP_RIG_TERM_DN_1" "$LDAP_RIG_TERM_PW" "ldap://127.0.0.1:$LDAP_RIG_PORT_LDAP/"
conf ldaps "$LDAP_RIG_TERM_DN_2" "$LDAP_RIG_TERM_PW" "$LDAP_RIG_URI_LDAPS"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$T/pam.d/other"
mkdir -m 755 "$T/checkpam"
printf 'auth required pam_unix.so\nauth required %s conf=%s/staff.conf\naccount required pam_unix.so\naccount required %s conf=%s/staff.conf\n' \
	"$module" "$T" "$module" "$T" >"$T/checkpam/login"

# The shim's clock (MFAUTH_FAULT_NOW) starts now and moves a minute a round: fresh TOTP steps
# without sleeping, inside the rig certificate's two days (it starts being valid when the rig
# starts: never go back before that).
NOW=$(($(date +%s) / 30 * 30 + 60))
SEED=$(head -c 20 /dev/urandom | base32 | tr -d '=')
code_at() { oathtool --totp -b -N "@$1" "$SEED"; }
wrong_at() { local c; c=$(code_at "$1"); printf '%s%d' "${c:0:5}" $(((${c:5:1} + 5) % 10)); }

# shimmed AT CLOCK CMD...: CMD under the shim, failing the AT-th libldap/liblber call of the
# directory module (0: none); FAILED_FN names the call that failed (empty: no call AT).
shimmed() {
	local at=$1 clock=$2
	shift 2
	rm -f "$T/trace"
	LD_PRELOAD=$SHIM${LD_PRELOAD:+:$LD_PRELOAD} MFAUTH_FAULT_AT=$at \
		MFAUTH_FAULT_SCOPE=mfauth_store_ldap.so MFAUTH_FAULT_ONLY=ldap_,ber_ \
		MFAUTH_FAULT_NOW=$clock MFAUTH_FAULT_TRACE=$T/trace "$@"
	local rc=$?
	FAILED_FN=$(sed -n 's/^[0-9]* \([^ ]*\) .* FAIL$/\1/p' "$T/trace" 2>/dev/null)
	return $rc
}
# login TERMINAL CLOCK ANSWER [AT]: 0 on PAM success (auth and account); output in $T/out
login() {
	shimmed "${4:-0}" "$2" "$build/tests/pam/pamcheck" --confdir "$T/pam.d" --account \
		--no-fail-delay "$1" fleet_a <<<"$3" >"$T/out" 2>&1
}
mfauth() { shimmed 0 "$NOW" "$build/tools/mfauth" -c "$T/staff.conf" "$@"; }
failures() { mfauth show fleet_a --json | sed -n 's/.*"failures": *\([0-9]*\).*/\1/p'; }
last_success() { mfauth show fleet_a --json | sed -n 's/.*"last_success": *\([0-9]*\).*/\1/p'; }
# The store part of `mfauth check` (staff): the directory and the one record sound, no errors.
store_sound() {
	mfauth check --json --pam-dir "$T/checkpam" >"$T/check.json" 2>&1
	grep -q '"check":"record","severity":"ok","subject":"[^"]*","message":"1 record' "$T/check.json" &&
		grep -q '"check":"store","severity":"ok","subject":"'"$LDAP_RIG_BASE"'"' "$T/check.json" &&
		! grep -Eq '"check":"(store|record)","severity":"error"' "$T/check.json"
}
on_check_failure() { sed 's/^/       /' "$T/out" | tail -n 4; }

mfauth init >"$T/init.out" 2>&1 || { cat "$T/init.out"; fail "mfauth init (staff)"; summary; exit 1; }
mfauth enroll totp fleet_a --secret-stdin --no-confirm --qr none <<<"$SEED" >/dev/null 2>&1 ||
	{ fail "enroll fleet_a (staff)"; summary; exit 1; }
check "a login without faults (StartTLS terminal)" login starttls "$NOW" "$(code_at "$NOW")"
check "mfauth check (staff): the store is sound" store_sound
ACC=$NOW # the clock of the last accepted code

not() { ! "$@"; }
# annotate TRACE OUT: each counted call with its site in our code ("N FUNCTION SITE..."),
# from addr2line on the directory module (its debug info).
annotate() {
	local n fn loc
	while read -r n fn loc; do
		printf '%s %s %s\n' "$n" "$fn" "$(addr2line -f -i -s -e "$build/lib/.libs/mfauth_store_ldap.so" \
			"${loc##*+}" | paste -sd' ')"
	done <"$1" >"$2"
}
# The calls whose failure a right code may survive, by design (a login with them failing may
# succeed; the state must then be that of a success):
#  - LDAP_OPT_TCP_USER_TIMEOUT: not every kernel has it (set_handle_options says so);
#  - mfa_ldap_close: the fresh deadline for the unbind, the unbind's own reads and writes (the
#    deadline layer's calls after close's set_timeouts and before ldap_unbind_ext_s, which the
#    shim counts after the real call) and the unbind, after the work is done;
#  - the ldap_next_attribute that ends a walk of an entry's attribute names (the next call is
#    another function): its real answer is NULL as well, so its failure changes nothing (one
#    that fails earlier leaves bytes unread, and the read is an error).
# Not the deadline layer's calls anywhere else: without a descriptor it fails the read or write
# (a wait with no deadline otherwise), and the login fails closed.
tcp_user_timeout_line=$(grep -n 'LDAP_OPT_TCP_USER_TIMEOUT' "$src/lib/store_ldap_conn.c" | cut -d: -f1)
tolerated_calls() {
	awk -v tut="store_ldap_conn.c:$tcp_user_timeout_line" '
		{ fn[$1] = $2; line[$1] = $0; n = $1 }
		END {
			next_call = ""
			seen_st = 0 # a set_timeouts call lies between call i and the next other call
			for (i = n; i >= 1; i--) {
				ok = line[i] ~ (tut "( |$)") || line[i] ~ / mfa_ldap_close /
				st = fn[i] == "ldap_set_option" && line[i] ~ / set_timeouts /
				if (st && next_call == "ldap_unbind_ext_s")
					ok = 1
				if (fn[i] ~ /^ber_/ && next_call == "ldap_unbind_ext_s" && !seen_st)
					ok = 1
				if (fn[i] == "ldap_next_attribute" && fn[i + 1] != "ldap_next_attribute")
					ok = 1
				if (ok) print i
				if (st)
					seen_st = 1
				if (fn[i] !~ /^ber_/ && !st) {
					next_call = fn[i]
					seen_st = 0
				}
			}
		}' "$1"
}
# The calls whose failure loses the answer of a modify the server has applied: the deadline
# layer's reads inside ldap_modify_ext_s (which the shim counts on entry, so they follow it),
# i.e. after the request was written.  A failed write sends nothing; these are the only calls
# after which a refused login may show the state of a success.
answer_lost_calls() {
	awk '
		{
			st = $2 == "ldap_set_option" && $0 ~ / set_timeouts /
			if ($2 ~ /^ber_/ && op == "ldap_modify_ext_s" && $0 ~ / deadline_read /)
				print $1
			if ($2 !~ /^ber_/ && !st)
				op = $2
		}' "$1"
}
# A NULL from ldap_get_values_len or ldap_first_entry once read as "no record" / "no entry":
# the clerk looked not enrolled, and the account step let a locked clerk in (found by this
# test; the client layer now tells a value it cannot return from an absent one).

# The calls of one login, counted as the loop below counts them, and their sites.
NOW=$((ACC + 30))
shimmed 0 "$NOW" "$build/tests/pam/pamcheck" --confdir "$T/pam.d" --account --no-fail-delay \
	starttls fleet_a <<<"$(code_at "$NOW")" >/dev/null 2>&1
K=$(wc -l <"$T/trace")
ACC=$NOW
echo "# one login (StartTLS, auth + account) makes $K libldap/liblber calls:" \
	"$(cut -d' ' -f2 "$T/trace" | sort | uniq -c | tr -s ' ' | tr '\n' ',')"
check "a login makes libldap calls the shim sees" test "$K" -gt 10
annotate "$T/trace" "$T/sites"
tolerated_calls "$T/sites" >"$T/tolerated"
answer_lost_calls "$T/sites" >"$T/answer_lost"
check "addr2line names the sites" grep -q ' mfa_ldap_read ' "$T/sites"
check "the tolerated calls are found" test "$(wc -l <"$T/tolerated")" -gt 3
check "no call is both tolerated and answer-lost" \
	test -z "$(comm -12 <(sort "$T/tolerated") <(sort "$T/answer_lost"))"
check "the modify's answer reads are found" test -s "$T/answer_lost"
echo "# tolerated: $(paste -sd' ' "$T/tolerated"); answer lost: $(paste -sd' ' "$T/answer_lost")"
site_of() { sed -n "s/^$1 [^ ]* //p" "$T/sites"; }

# round TERMINAL KIND N: one faulted login (KIND right or wrong code, call N failing), then the
# state checks.  Returns 1 when the shim reached no call N (the login has fewer calls).
round() {
	local term=$1 kind=$2 n=$3 f0 f1 answer fn what
	# One wrong code first: a failure count of 1 that a fault must neither lose nor double.
	NOW=$((ACC + 30))
	login "$term" "$NOW" "$(wrong_at "$NOW")"
	f0=$(failures)
	if [ "$kind" = right ]; then answer=$(code_at "$NOW"); else answer=$(wrong_at "$NOW"); fi
	login "$term" "$NOW" "$answer" "$n"
	rc=$?
	fn=$FAILED_FN
	if [ -z "$fn" ]; then
		# No call N: the login ran unfaulted; a right code got in (that ends the loop).
		[ "$kind" = right ] && ((rc == 0)) && ACC=$NOW
		return 1
	fi
	what="$kind code, call $n ($fn)"
	f1=$(failures)
	if [ "$kind" = right ] && ((rc == 0)) && grep -qx "$n" "$T/tolerated"; then
		TOLERATED=$((TOLERATED + 1))
		check "$what: succeeded, by design ($(site_of "$n")): the count is reset" test "$f1" = 0
		check "$what: ... and the code is used (a replay now)" not login "$term" "$NOW" "$answer"
		ACC=$NOW
	elif [ "$kind" = right ] && grep -q '^pam_authenticate: Success' "$T/out"; then
		# The fault hit the account phase: the code was accepted (the count reset, the code
		# used) and the account check failed closed.
		check "$what fails in the account phase: no login ($(tail -n 1 "$T/out"))" test "$rc" -ne 0
		check "$what: the accepted code reset the count" test "$f1" = 0
		check "$what: ... and is used (a replay now)" not login "$term" "$NOW" "$answer"
		ACC=$NOW
	elif [ "$kind" = right ] && ((rc != 0)) && [ "$f1" = 0 ] && grep -qx "$n" "$T/answer_lost"; then
		# Committed, answer lost: the server applied the success, the client never read it
		# and refused (fail closed).  The state must be exactly that success: count 0 (the
		# branch), this login's time as the last success, the code used (a replay now), and
		# the next code good (below): the watermark is this code's step, not before, not after.
		ANSWER_LOST=$((ANSWER_LOST + 1))
		check "$what fails after the modify was applied: no login ($(tail -n 1 "$T/out"))" \
			test "$rc" -ne 0
		check "$what: ... the directory shows that success (last success at this login)" \
			test "$(last_success)" = "$NOW"
		check "$what: ... and the code is used (a replay now)" not login "$term" "$NOW" "$answer"
		ACC=$NOW
	else
		check "$what fails: no login ($(tail -n 1 "$T/out"))" test "$rc" -ne 0
		check "$what: failures $f0 -> $f1 (at most one more, never fewer)" \
			test -n "$f0" -a -n "$f1" -a "${f1:-0}" -ge "${f0:-1}" -a "${f1:-0}" -le "$((${f0:-0} + 1))"
		check "$what: the code accepted before is still a replay" \
			not login "$term" "$NOW" "$(code_at "$ACC")"
	fi
	NOW=$((NOW + 30))
	check "$what: a fresh code logs in" login "$term" "$NOW" "$(code_at "$NOW")"
	ACC=$NOW
	check "$what: the failure count is 0 after it" test "$(failures)" = 0
	check "$what: mfauth check (staff) finds the store sound" store_sound
	return 0
}

for kind_term in right:starttls wrong:ldaps; do
	kind=${kind_term%%:*} term=${kind_term#*:}
	N=1 TOLERATED=0 ANSWER_LOST=0
	while round "$term" "$kind" "$N"; do
		N=$((N + 1))
		((N < 2000)) || { fail "$kind code: more than 2000 calls?"; break; }
	done
	echo "# $kind code on $term: $((N - 1)) calls, each failed once; $TOLERATED survived by" \
		"design; $ANSWER_LOST refused after the server applied the success"
	check "$kind code: the shim failed more than 10 calls" test "$((N - 1))" -gt 10
done

# A locked clerk and a login that skips auth (an SSH key: pam_permit, then the module's account
# check): no failure anywhere lets the clerk in, and the lock stays.
printf 'auth required pam_permit.so\naccount required %s conf=%s/ldaps.conf\n' "$module" "$T" \
	>"$T/pam.d/sshkey"
for _ in 1 2 3 4 5; do
	NOW=$((NOW + 30))
	login ldaps "$NOW" "$(wrong_at "$NOW")"
done
locked() { mfauth show fleet_a --json | grep -q '"locked": *true'; }
check "locked: set up (five wrong codes)" locked
account() {
	shimmed "$1" "$NOW" "$build/tests/pam/pamcheck" --confdir "$T/pam.d" --account \
		--no-fail-delay sshkey fleet_a </dev/null >"$T/out" 2>&1
}
check "locked: the account check refuses without faults" not account 0
annotate "$T/trace" "$T/sites"
N=1
while NOW=$((NOW + 30)) && account "$N"; rc=$? && [ -n "$FAILED_FN" ]; do
	check "locked, call $N ($FAILED_FN) fails: refused ($(tail -n 1 "$T/out"))" test "$rc" -ne 0
	check "locked, call $N ($FAILED_FN): still locked" locked
	N=$((N + 1))
done
echo "# locked, account check only: $((N - 1)) calls, each failed once"
check "locked: the shim failed more than 10 calls" test "$((N - 1))" -gt 10
summary
