#!/usr/bin/env bash
# Fleet logins across a failover: two providers from share/ldap/mirror-mode.conf.sample (as
# tests/ldap/test-mirror.sh runs them: paths, ports, IDs and passwords substituted), the rig's
# accounts and the shipped ACL on both, a terminal listing both URIs.  A login through the
# first; the first stopped: the code it accepted is refused through the second (the watermark
# was replicated), a fresh code logs in there within ldap_timeout; the first back: it converges
# to the second's state.  Prints the replication delay it waited for.  Runs in sinkrun's private
# mount namespace (a private /dev/log, a private /etc with the clerk).
set -uo pipefail

build=${MFAUTH_BUILDDIR:?set MFAUTH_BUILDDIR}
src=${MFAUTH_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (root-owned key and password files, a private mount namespace)"
	exit 77
fi
command -v oathtool >/dev/null || { echo "SKIP: oathtool is not installed"; exit 77; }
if [ -z "${MFAUTH_LDAP_FAILOVER_INNER:-}" ]; then
	log=$(mktemp /tmp/mfauth-ldap-failover-audit.XXXXXX)
	MFAUTH_LDAP_FAILOVER_INNER=$log "$build/tests/sinkrun" "$log" bash "$0"
	rc=$?
	rm -f "$log"
	exit $rc
fi
audit=$MFAUTH_LDAP_FAILOVER_INNER
T=$(mktemp -d /tmp/mfauth-ldap-failover.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$src/tests/checks.sh"
. "$src/tests/ldap/slapd-rig.sh"
ldap_rig__check_prereqs || { echo "SKIP: slapd-rig prerequisites missing"; exit 77; }
for m in syncprov accesslog; do
	[ -r "/usr/lib/ldap/$m.la" ] || { echo "SKIP: slapd module $m missing"; exit 77; }
done

# --- two providers in mirror mode, with the rig's accounts ----------------------------------------
ROOTPW=root-$RANDOM$RANDOM
REPL_PW=repl-$RANDOM$RANDOM
LDAP_RIG_TERM_PW=terminal-$RANDOM$RANDOM
LDAP_RIG_STAFF_PW=staff-$RANDOM$RANDOM
LDAP_RIG_OTHER_PW=clerk-$RANDOM$RANDOM
ldap_rig__keys "$T" || { fail "test certificates"; summary; exit 1; }
mapfile -t ports < <(ldap_rig__free_ports 4)
for n in 1 2; do
	o=$((3 - n))
	mkdir -p "$T/p$n/accesslog" "$T/p$n/main"
	sed -e "s|/usr/share/mfauth/ldap/|$src/share/ldap/|g" \
		-e "s|/var/lib/ldap/accesslog|$T/p$n/accesslog|" -e "s|/var/lib/ldap/main|$T/p$n/main|" \
		-e "s|/run/slapd/|$T/p$n/|g" -e "s|/etc/ldap/tls/ca.pem|$T/tls/ca.pem|g" \
		-e "s|/etc/ldap/tls/dir1.pem|$T/tls/server.pem|" -e "s|/etc/ldap/tls/dir1.key|$T/tls/server.key|" \
		-e "s|^serverID\t1$|serverID\t$n|" -e "s|rid=001|rid=00$n|" \
		-e "s|provider=ldaps://dir2.example.lg.jp|provider=ldaps://127.0.0.1:${ports[2 * o - 1]}/|" \
		-e "s|credentials=CHANGE-ME|credentials=$REPL_PW|" \
		-e "s|^rootdn\t\t\"cn=admin,dc=example,dc=lg,dc=jp\"$|&\nrootpw\t\t$ROOTPW|" \
		"$src/share/ldap/mirror-mode.conf.sample" >"$T/p$n/slapd.conf"
	echo "${ports[2 * n - 2]} ${ports[2 * n - 1]}" >"$T/p$n/ports"
done
ldap_rig__data "$T"
printf '\ndn: cn=replicator,dc=example,dc=lg,dc=jp\nobjectClass: person\ncn: replicator\nsn: r\nuserPassword: %s\n' \
	"$REPL_PW" >>"$T/data.ldif"
for n in 1 2; do
	slapadd -q -S "$n" -f "$T/p$n/slapd.conf" -b dc=example,dc=lg,dc=jp -l "$T/data.ldif" \
		>"$T/slapadd.$n" 2>&1 || { fail "provider $n: slapadd"; cat "$T/slapadd.$n"; summary; exit 1; }
done
ldap_rig__trap
# launch N: start provider N; once more after a pause if it did not answer (a loaded machine
# running the whole suite two tests at a time can keep slapd from answering within 5 s).
launch() {
	ldap_rig__launch "$T/p$1" || { sleep 1; ldap_rig__launch "$T/p$1"; } ||
		{ tail -n 20 "$T/p$1/slapd.log"; return 1; }
}
for n in 1 2; do
	launch "$n" || { fail "provider $n starts"; summary; exit 1; }
	LDAP_RIG_STARTED+=("$T/p$n")
done
S1=ldaps://127.0.0.1:${ports[1]}/
S2=ldaps://127.0.0.1:${ports[3]}/
BASE=ou=mfauth,dc=example,dc=lg,dc=jp

# --- the stage: a clerk, the staff and one terminal listing both providers -----------------------
cp -a /etc "$T/etc" && mount --bind "$T/etc" /etc || { echo "cannot bind a private /etc"; exit 1; }
printf 'fleet_x:x:61301:61301::/nonexistent:/usr/sbin/nologin\n' >>/etc/passwd
printf 'fleet_x:x:61301:\n' >>/etc/group
module=$build/pam_module/.libs/pam_mfauth.so
timeout=2
mkdir -m 755 "$T/pam.d"
conf() {
	printf '%s' "$3" >"$T/$1.secret" && chmod 600 "$T/$1.secret"
	cat >"$T/$1.conf" <<EOF
store = ldap
key_file = $T/store.key
ldap_uri = $S1 $S2
ldap_base = $BASE
ldap_bind_dn = $2
ldap_bind_pw_file = $T/$1.secret
ldap_ca_file = $T/tls/ca.pem
ldap_timeout = $timeout
ldap_module = $build/lib/.libs/mfauth_store_ldap.so
window = 1
EOF
	chmod 644 "$T/$1.conf"
	printf 'auth required %s conf=%s/%s.conf\n' "$module" "$T" "$1" >"$T/pam.d/$1"
}
conf staff cn=staff-01,ou=staff,dc=example,dc=lg,dc=jp "$LDAP_RIG_STAFF_PW"
conf t1 cn=terminal-01,ou=terminals,dc=example,dc=lg,dc=jp "$LDAP_RIG_TERM_PW"
printf 'auth required pam_deny.so\n' >"$T/pam.d/other"
mfauth() { "$build/tools/mfauth" -c "$T/staff.conf" "$@"; }
seed=$(head -c 20 /dev/urandom | base32 | tr -d '=')
code_of() { oathtool --totp -b -N "@$(($(date +%s) + ${1:-0}))" "$seed"; }
login() {
	"$build/tests/pam/pamcheck" --confdir "$T/pam.d" --no-fail-delay t1 fleet_x <<<"$1" >"$T/out" 2>&1
}
not() { ! "$@"; }
on_check_failure() { sed 's/^/       | /' "$T/out" 2>/dev/null | head -8; }
state_on() {
	ldapsearch -x -LLL -o ldif-wrap=no -H "$1" -D cn=admin,dc=example,dc=lg,dc=jp -w "$ROOTPW" \
		-b "cn=fleet_x,$BASE" -s base mfauthState 2>/dev/null | sed -n 's/^mfauthState:: //p'
}
# same_state A B MAX_MS: wait until both providers hold the same non-empty state; the ms in $T/ms.
same_state() {
	local t0 t s1
	t0=$(date +%s%N)
	while :; do
		t=$((($(date +%s%N) - t0) / 1000000))
		s1=$(state_on "$1")
		if [ -n "$s1" ] && [ "$s1" = "$(state_on "$2")" ]; then echo "$t" >"$T/ms"; return 0; fi
		((t > $3)) && { echo "$t" >"$T/ms"; return 1; }
		sleep 0.01
	done
}
export LDAPTLS_CACERT=$T/tls/ca.pem

check "mfauth init (staff) through the first provider" mfauth init
check "enroll fleet_x (staff)" mfauth enroll totp fleet_x --secret-stdin --no-confirm --qr none <<<"$seed"
check "the entry reaches the second provider" same_state "$S1" "$S2" 15000
echo "# enrollment on provider 2 after $(cat "$T/ms") ms (the consumer's first connection: up to the sample's 5 s retry)"
code=$(code_of)
check "fleet_x logs in through the first provider" login "$code"
check "the new state (its watermark) reaches the second" same_state "$S1" "$S2" 5000
echo "# a login's state on provider 2 after $(cat "$T/ms") ms"

ldap_rig_stop "$T/p1"
t0=$(date +%s%N)
check "first provider stopped: the code it accepted is refused through the second (replay)" \
	not login "$code"
t1=$(date +%s%N)
echo "# refused through provider 2 after $(((t1 - t0) / 1000000)) ms"
check "... told as a replay" grep -q "already used" "$T/out"
t0=$(date +%s%N)
check "a fresh code logs in through the second provider" login "$(code_of 30)"
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
echo "# a login with provider 1 down: $ms ms"
check "... within ldap_timeout + 1 s" test "$ms" -le $(((timeout + 1) * 1000))
check "audit: the success" bash -c 'sleep 0.2; grep -q "event=auth result=success user=fleet_x" "$0"' "$audit"

launch 1 || fail "the first provider restarts"
check "the first provider converges to the second's state" same_state "$S1" "$S2" 15000
echo "# provider 1 converged $(cat "$T/ms") ms after it answered again"
check "the code used through the second is refused through the first (replay)" \
	not login "$(code_of 30)"
check "... told as a replay" grep -q "already used" "$T/out"
summary
