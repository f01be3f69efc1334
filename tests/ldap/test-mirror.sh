#!/bin/bash
# share/ldap/mirror-mode.conf.sample as shipped, run twice: two private providers replicating to
# each other with delta-syncrepl over ldaps on loopback (paths, ports, IDs and passwords
# substituted, nothing else).  Checks that changes flow both ways, that a compare-and-swap on
# the first reaches the second, that the second takes writes while the first is down, and that
# the first converges when it returns; prints the replication delay it measured (the window in
# which a change accepted by one provider is missing on the other).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${MFAUTH_SRCDIR:-$(cd "$here/../.." && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/mfauth-ldap-mirror.XXXXXX")
trap 'rm -rf "$T"' EXIT
. "$top/tests/checks.sh"
. "$here/slapd-rig.sh"
ldap_rig__check_prereqs || { echo "slapd-rig: prerequisites missing (77 = SKIP)"; exit 77; }
for m in syncprov accesslog; do
	[ -r "/usr/lib/ldap/$m.la" ] || { echo "slapd module $m missing (77 = SKIP)"; exit 77; }
done

ROOTPW=root-$RANDOM$RANDOM
REPL_PW=repl-$RANDOM$RANDOM
ldap_rig__keys "$T" || { fail "test certificates"; summary; exit 1; }
mapfile -t ports < <(ldap_rig__free_ports 4)
# Provider N listens on ldap://ports[2N-2] and ldaps://ports[2N-1]; its consumer pulls from the
# other's ldaps port, checking the certificate against the test CA.
for n in 1 2; do
	o=$((3 - n))
	mkdir -p "$T/p$n/accesslog" "$T/p$n/main"
	sed -e "s|/usr/share/mfauth/ldap/|$top/share/ldap/|g" \
		-e "s|/var/lib/ldap/accesslog|$T/p$n/accesslog|" -e "s|/var/lib/ldap/main|$T/p$n/main|" \
		-e "s|/run/slapd/|$T/p$n/|g" -e "s|/etc/ldap/tls/ca.pem|$T/tls/ca.pem|g" \
		-e "s|/etc/ldap/tls/dir1.pem|$T/tls/server.pem|" -e "s|/etc/ldap/tls/dir1.key|$T/tls/server.key|" \
		-e "s|^serverID\t1$|serverID\t$n|" -e "s|rid=001|rid=00$n|" \
		-e "s|provider=ldaps://dir2.example.lg.jp|provider=ldaps://127.0.0.1:${ports[2 * o - 1]}/|" \
		-e "s|credentials=CHANGE-ME|credentials=$REPL_PW|" \
		-e "s|^rootdn\t\t\"cn=admin,dc=example,dc=lg,dc=jp\"$|&\nrootpw\t\t$ROOTPW|" \
		"$top/share/ldap/mirror-mode.conf.sample" >"$T/p$n/slapd.conf"
	echo "${ports[2 * n - 2]} ${ports[2 * n - 1]}" >"$T/p$n/ports"
done
check "the sample's substitutions took (serverID, provider, credentials, rootpw)" bash -c '
	grep -q "^serverID	2$" "$1/p2/slapd.conf" && grep -q "provider=ldaps://127.0.0.1:" "$1/p2/slapd.conf" &&
	! grep -q "CHANGE-ME\|provider=ldaps://dir2" "$1/p1/slapd.conf" && grep -q "^rootpw" "$1/p1/slapd.conf"' _ "$T"

cat >"$T/data.ldif" <<EOF
dn: dc=example,dc=lg,dc=jp
objectClass: dcObject
objectClass: organization
dc: example
o: mfauth mirror test

dn: ou=mfauth,dc=example,dc=lg,dc=jp
objectClass: organizationalUnit
ou: mfauth

dn: cn=replicator,dc=example,dc=lg,dc=jp
objectClass: person
cn: replicator
sn: replicator
userPassword: $REPL_PW
EOF
# The same base on both (each with its own server ID in the entries' change numbers).
for n in 1 2; do
	check "provider $n: slapadd the base" slapadd -q -S "$n" -f "$T/p$n/slapd.conf" \
		-b dc=example,dc=lg,dc=jp -l "$T/data.ldif"
done
ldap_rig__trap
for n in 1 2; do
	if ldap_rig__launch "$T/p$n"; then
		LDAP_RIG_STARTED+=("$T/p$n")
		ok
		echo "ok   - provider $n starts from the sample ($(cat "$T/p$n/start-ms") ms)"
	else
		fail "provider $n starts from the sample"
		summary
		exit 1
	fi
done
U1=ldap://127.0.0.1:${ports[0]}/
U2=ldap://127.0.0.1:${ports[2]}/
DN=cn=u1,ou=mfauth,dc=example,dc=lg,dc=jp
admin() { local uri=$1; shift; "$@" -x -H "$uri" -D cn=admin,dc=example,dc=lg,dc=jp -w "$ROOTPW"; }
state_on() { admin "$1" ldapsearch -LLL -b "$DN" -s base mfauthState 2>/dev/null | sed -n 's/^mfauthState: //p'; }
swap_on() {
	printf 'dn: %s\nchangetype: modify\ndelete: mfauthState\nmfauthState: %s\n-\nadd: mfauthState\nmfauthState: %s\n' \
		"$DN" "$2" "$3" | admin "$1" ldapmodify >/dev/null
}
# wait_state URI VALUE MAX_MS: poll until URI holds VALUE; prints the milliseconds it took.
wait_state() {
	local t0 t
	t0=$(date +%s%N)
	while :; do
		t=$((($(date +%s%N) - t0) / 1000000))
		[[ $(state_on "$1") == "$2" ]] && { echo "$t"; return 0; }
		((t > $3)) && { echo "$t"; return 1; }
		sleep 0.005
	done
}

check "add an entry on provider 1" bash -c 'printf "dn: %s\nobjectClass: mfauthUser\ncn: u1\nmfauthState: s0\n" "$1" |
	ldapadd -x -H "$2" -D cn=admin,dc=example,dc=lg,dc=jp -w "$3"' _ "$DN" "$U1" "$ROOTPW"
# The first change each way waits for that consumer's first connection: a consumer that started
# before the other provider answered retries after the sample's 5 s.
ms=$(wait_state "$U2" s0 15000) && ok || fail "the entry reaches provider 2 (waited $ms ms)"
echo "# the first change reached provider 2 after $ms ms (the consumer's first connection)"
check "a swap on provider 2 (s0 -> s1)" swap_on "$U2" s0 s1
ms=$(wait_state "$U1" s1 15000) && ok || fail "... reaches provider 1 (waited $ms ms)"
echo "# the first change reached provider 1 after $ms ms"
max=0
for k in 2 3 4 5; do
	swap_on "$U1" "s$((k - 1))" "s$k" || { fail "swap $k on provider 1"; continue; }
	if ms=$(wait_state "$U2" "s$k" 2000); then
		ok
		((ms > max)) && max=$ms
	else
		fail "swap $k reaches provider 2 within 2 s (waited $ms ms)"
	fi
done
echo "# replication delay of a swap, provider 1 -> 2, loopback: at most $max ms over 4"
check "a swap from a replicated value works on provider 2 (s5 -> s6)" swap_on "$U2" s5 s6
ms=$(wait_state "$U1" s6 2000) && ok || fail "... and flows back to provider 1 (waited $ms ms)"
ldap_rig_stop "$T/p1"
check "provider 1 stopped: provider 2 takes a swap alone (s6 -> s7)" swap_on "$U2" s6 s7
stale_refused() { swap_on "$@"; test $? = 16; }
check "... and refuses a stale one (s6 -> s8: 16)" stale_refused "$U2" s6 s8
if ldap_rig__launch "$T/p1"; then
	ok
	ms=$(wait_state "$U1" s7 10000) && ok || fail "provider 1 converges to s7 after its return (waited $ms ms)"
	echo "# provider 1 held s7 $ms ms after it answered again"
else
	fail "provider 1 restarts"
fi
check "after convergence, a swap on provider 1 from s7 works" swap_on "$U1" s7 s8
summary
