#!/usr/bin/env bash
# Card logins on the fleet store: a private slapd (tests/ldap/slapd-rig.sh) and a private pcscd
# with a virtual My Number card (tests/card/rig.sh).  Staff enroll the card with the tool over
# the directory; clerks log in through the real PAM stack (tests/pam/pamcheck) on two terminal
# identities; a wrong PIN on one terminal is counted in the directory, so the other sees it;
# the card's own PIN counter agrees.  Runs in sinkrun's private mount namespace (a private
# /dev/log for the audit, a private /etc with the clerk).
set -uo pipefail

build=${MFAUTH_BUILDDIR:?set MFAUTH_BUILDDIR}
src=${MFAUTH_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (root-owned key and password files, a private mount namespace)"
	exit 77
fi
if [ -z "${MFAUTH_LDAP_CARD_INNER:-}" ]; then
	log=$(mktemp /tmp/mfauth-ldap-card-audit.XXXXXX)
	MFAUTH_LDAP_CARD_INNER=$log "$build/tests/sinkrun" "$log" bash "$0"
	rc=$?
	rm -f "$log"
	exit $rc
fi
audit=$MFAUTH_LDAP_CARD_INNER
export MFAUTH_WAIT_CARD=${MFAUTH_WAIT_CARD:-$build/tests/card/wait_card}

T=$(mktemp -d /tmp/mfauth-ldap-card.XXXXXX)
. "$src/tests/card/rig.sh"
rig_start "$T/card"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "cannot start a private pcscd (rig.sh exit $rc)"
	rm -rf "$T"
	exit "$rc"
fi
trap 'rig_stop "$T/card" >/dev/null 2>&1; rm -rf "$T"' EXIT
. "$T/card/env"
. "$src/tests/checks.sh"
. "$src/tests/ldap/slapd-rig.sh"
ldap_rig_start "$T/rig"
rc=$?
((rc == 99)) && { echo "SKIP: slapd-rig prerequisites missing"; exit 77; }
((rc == 0)) || { fail "the rig starts"; summary; exit 1; }
. "$T/rig/env"

cp -a /etc "$T/etc" && mount --bind "$T/etc" /etc || { echo "cannot bind a private /etc"; exit 1; }
printf 'fleet_card:x:61201:61201::/nonexistent:/usr/sbin/nologin\n' >>/etc/passwd
printf 'fleet_card:x:61201:\n' >>/etc/group
module=$build/pam_module/.libs/pam_mfauth.so
mkdir -m 755 "$T/pam.d"
# conf NAME DN PASSWORD: $T/NAME.conf (store = ldap, cards first) and its PAM service.
conf() {
	printf '%s' "$3" >"$T/$1.secret" && chmod 600 "$T/$1.secret"
	cat >"$T/$1.conf" <<EOF
store = ldap
key_file = $T/store.key
ldap_uri = $LDAP_RIG_URI_LDAPS
ldap_base = $LDAP_RIG_BASE
ldap_bind_dn = $2
ldap_bind_pw_file = $T/$1.secret
ldap_ca_file = $LDAP_RIG_CA
ldap_module = $build/lib/.libs/mfauth_store_ldap.so
factors = totp,card
card_wait = 2
deny = 10
EOF
	chmod 644 "$T/$1.conf"
	printf 'auth required %s conf=%s/%s.conf\naccount required %s conf=%s/%s.conf\n' \
		"$module" "$T" "$1" "$module" "$T" "$1" >"$T/pam.d/$1"
}
conf staff "$LDAP_RIG_STAFF_DN" "$LDAP_RIG_STAFF_PW"
conf t1 "$LDAP_RIG_TERM_DN_1" "$LDAP_RIG_TERM_PW"
conf t2 "$LDAP_RIG_TERM_DN_2" "$LDAP_RIG_TERM_PW"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$T/pam.d/other"
mfauth() { "$build/tools/mfauth" -c "$T/staff.conf" "$@"; }
# login TERMINAL PIN: the clerk's card login on that terminal; output in $T/out.
login() {
	printf '%s\n' "$2" | "$build/tests/pam/pamcheck" --confdir "$T/pam.d" --account \
		--no-fail-delay "$1" fleet_card >"$T/out" 2>&1
}
failures_of() { mfauth show fleet_card --json | sed -n 's/.*"failures": *\([0-9]*\).*/\1/p'; }
tries_on_card() { sed -n 's/.*"tries_left": *\([0-9]*\).*/\1/p' "$T/card/state.$1"; }
on_check_failure() { sed 's/^/       | /' "$T/out" 2>/dev/null | head -12; }

check "mfauth init (staff): the key and the decoy entry" mfauth init
rig_card "$T/card" jpki --tries 3 >/dev/null 2>"$T/card.err" || { fail "the card appears"; cat "$T/card.err"; }
check "enroll a My Number card (staff) over the directory" bash -c \
	'printf "1234\n" | "$0" -c "$1" enroll card fleet_card --no-ca' "$build/tools/mfauth" "$T/staff.conf"
check "show: a jpki card, read from the directory" \
	grep -q '"card":{"profile":"jpki"' <<<"$(mfauth show fleet_card --json)"
check "card login with the right PIN on terminal 1" login t1 1234
check "audit: a card success on terminal 1" \
	bash -c 'sleep 0.2; grep -q "event=auth result=success user=fleet_card factor=card .*service=t1" "$0"' "$audit"
not() { ! "$@"; }
check "a wrong PIN on terminal 2 is refused" not login t2 9999
check "the card counted it (2 tries left)" test "$(tries_on_card jpki)" = 2
check "the directory counted it: terminal 1's view says 1 failure" test "$(failures_of)" = 1
check "audit: reason=bad_pin on terminal 2" \
	bash -c 'sleep 0.2; grep -q "event=auth result=fail user=fleet_card factor=card reason=bad_pin.*service=t2" "$0"' "$audit"
check "the right PIN on terminal 1 again" login t1 1234
check "the card's counter is back at 3" test "$(tries_on_card jpki)" = 3
check "the success cleared the fleet's failure count" test "$(failures_of)" = 0
check "revoke all (staff) over the directory" mfauth revoke fleet_card all
check "the card no longer logs in, on any terminal" not login t2 1234
summary
