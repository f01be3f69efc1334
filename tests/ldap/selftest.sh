#!/bin/bash
# The private slapd rig (tests/ldap/slapd-rig.sh) and the shipped directory files under it:
# the schema in both forms loads, the sample ACL gives terminals, staff and everyone else
# exactly what share/ldap/mfauth-acl.conf says, compare-and-swap by value works, TLS trusts the
# rig's CA and no other, and the stop/restart/black-hole helpers do what the tests rely on.
# Everything through OpenLDAP's own command-line tools: no mfauth code is under test here.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${MFAUTH_SRCDIR:-$(cd "$here/../.." && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/mfauth-ldap-selftest.XXXXXX")
trap 'rm -rf "$T"' EXIT
. "$top/tests/checks.sh"
. "$here/slapd-rig.sh"

ldap_rig_start "$T/rig"
rc=$?
if ((rc == 99)); then
	echo "slapd-rig: prerequisites missing; the directory tests cannot run (77 = SKIP)"
	exit 77
fi
((rc == 0)) || { fail "the rig starts"; summary; exit 1; }
. "$T/rig/env"
echo "# slapd answered $(cat "$T/rig/start-ms") ms after it was started"
check "slapd answers within a second of its start" test "$(cat "$T/rig/start-ms")" -lt 1000

B=$LDAP_RIG_BASE
# as WHO CMD ARGS...: run an LDAP tool over ldaps with the rig's CA as that identity.
as() {
	local who=$1 cmd=$2
	shift 2
	case $who in
	anon) LDAPTLS_CACERT=$LDAP_RIG_CA "$cmd" -x -H "$LDAP_RIG_URI_LDAPS" "$@" ;;
	terminal) LDAPTLS_CACERT=$LDAP_RIG_CA "$cmd" -x -H "$LDAP_RIG_URI_LDAPS" \
		-D "$LDAP_RIG_TERM_DN_2" -w "$LDAP_RIG_TERM_PW" "$@" ;;
	staff) LDAPTLS_CACERT=$LDAP_RIG_CA "$cmd" -x -H "$LDAP_RIG_URI_LDAPS" \
		-D "$LDAP_RIG_STAFF_DN" -w "$LDAP_RIG_STAFF_PW" "$@" ;;
	clerk) LDAPTLS_CACERT=$LDAP_RIG_CA "$cmd" -x -H "$LDAP_RIG_URI_LDAPS" \
		-D "$LDAP_RIG_OTHER_DN" -w "$LDAP_RIG_OTHER_PW" "$@" ;;
	esac
}
# expect_rc RC CMD...: CMD exits with RC (an LDAP result code for ldapmodify/ldapadd).
expect_rc() {
	local want=$1 got
	shift
	"$@"
	got=$?
	[[ $got == "$want" ]] || { echo "exit status $got, expected $want"; return 1; }
}
# expect_rc_in "RC..." CMD...: CMD exits with one of the RCs.
expect_rc_in() {
	local want=$1 got
	shift
	"$@"
	got=$?
	[[ " $want " == *" $got "* ]] || { echo "exit status $got, expected one of $want"; return 1; }
}
# read_attrs WHO DN: the entry's mfauth attributes as WHO sees them (LDIF, base64 as is).
read_attrs() { as "$1" ldapsearch -LLL -o ldif-wrap=no -b "$2" -s base '(objectClass=*)' \
	mfauthRecord mfauthState 2>&1; }
# cas WHO DN OLD NEW: swap mfauthState from OLD to NEW in one modify.
cas() {
	printf 'dn: %s\nchangetype: modify\ndelete: mfauthState\nmfauthState: %s\n-\nadd: mfauthState\nmfauthState: %s\n-\n' \
		"$2" "$3" "$4" | as "$1" ldapmodify
}

# --- the schema ---------------------------------------------------------------------------------
check "the subschema lists mfauthUser, mfauthRecord and mfauthState" bash -c '
	out=$(ldapsearch -x -H "$LDAP_RIG_URI_LDAPI" -LLL -o ldif-wrap=no -b cn=Subschema -s base \
		"(objectClass=*)" attributeTypes objectClasses) || exit 1
	grep -q "NAME '"'"'mfauthUser'"'"'" <<<"$out" && grep -q "NAME '"'"'mfauthRecord'"'"'.*octetStringMatch" <<<"$out" &&
	grep -q "NAME '"'"'mfauthState'"'"'.*octetStringMatch" <<<"$out"'
mkdir -p "$T/cnconfig/d"
cat >"$T/cnconfig/config.ldif" <<EOF
dn: cn=config
objectClass: olcGlobal
cn: config

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif

include: file://$top/share/ldap/mfauth.ldif

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
EOF
check "mfauth.ldif loads into a cn=config tree (slapadd -n 0, slaptest)" bash -c '
	slapadd -F "$1/d" -n 0 -l "$1/config.ldif" && slaptest -Q -F "$1/d" &&
	test -f "$1/d/cn=config/cn=schema/cn={1}mfauth.ldif"' _ "$T/cnconfig"
check "mfauth.schema and mfauth.ldif define the same things" \
	python3 "$here/schema-compare.py" "$top/share/ldap/mfauth.schema" "$top/share/ldap/mfauth.ldif"

# --- what staff may do ------------------------------------------------------------------------
U="cn=alice,$B"
check "staff add a user entry with a record and a state" bash -c '
	printf "dn: %s\nobjectClass: mfauthUser\ncn: alice\nmfauthRecord: record-1\nmfauthState: state-1\n" "$1" |
	LDAPTLS_CACERT=$LDAP_RIG_CA ldapadd -x -H "$LDAP_RIG_URI_LDAPS" -D "$LDAP_RIG_STAFF_DN" -w "$LDAP_RIG_STAFF_PW"' _ "$U"
check "an entry without cn is refused by the schema" bash -c '
	printf "dn: mfauthRecord=x,%s\nobjectClass: mfauthUser\nmfauthRecord: x\n" "$LDAP_RIG_BASE" |
	LDAPTLS_CACERT=$LDAP_RIG_CA ldapadd -x -H "$LDAP_RIG_URI_LDAPS" -D "$LDAP_RIG_STAFF_DN" -w "$LDAP_RIG_STAFF_PW"
	test $? = 65'
check "a second mfauthState value is refused (SINGLE-VALUE)" bash -c '
	printf "dn: %s\nchangetype: modify\nadd: mfauthState\nmfauthState: other\n" "$1" |
	LDAPTLS_CACERT=$LDAP_RIG_CA ldapmodify -x -H "$LDAP_RIG_URI_LDAPS" -D "$LDAP_RIG_STAFF_DN" -w "$LDAP_RIG_STAFF_PW"
	test $? = 19' _ "$U"
check "staff read both attributes" bash -c 'grep -qx "mfauthRecord: record-1" <<<"$1" && grep -qx "mfauthState: state-1" <<<"$1"' \
	_ "$(read_attrs staff "$U")"
check "staff change the record" expect_rc 0 as staff ldapmodify <<EOF
dn: $U
changetype: modify
replace: mfauthRecord
mfauthRecord: record-2
EOF
check "staff swap the state" expect_rc 0 cas staff "$U" state-1 state-2

# --- what a terminal may do -------------------------------------------------------------------
check "a terminal reads both attributes" bash -c 'grep -qx "mfauthRecord: record-2" <<<"$1" && grep -qx "mfauthState: state-2" <<<"$1"' \
	_ "$(read_attrs terminal "$U")"
check "a terminal swaps the state from its exact old value" expect_rc 0 cas terminal "$U" state-2 state-3
check "a swap from a stale value fails with noSuchAttribute (16)" expect_rc 16 cas terminal "$U" state-2 state-4
check "... and changes nothing" bash -c 'grep -qx "mfauthState: state-3" <<<"$1"' _ "$(read_attrs staff "$U")"
check "a terminal cannot change the record (insufficientAccess, 50)" expect_rc 50 as terminal ldapmodify <<EOF
dn: $U
changetype: modify
replace: mfauthRecord
mfauthRecord: planted
EOF
check "a terminal cannot swap the record either (50)" expect_rc 50 as terminal ldapmodify <<EOF
dn: $U
changetype: modify
delete: mfauthRecord
mfauthRecord: record-2
-
add: mfauthRecord
mfauthRecord: planted
EOF
check "a terminal cannot add a user entry (50)" expect_rc 50 as terminal ldapadd <<EOF
dn: cn=mallory,$B
objectClass: mfauthUser
cn: mallory
mfauthRecord: planted
EOF
check "a terminal cannot delete a user entry (50)" expect_rc 50 as terminal ldapdelete "$U"
check "a terminal cannot rename a user entry (50)" expect_rc 50 as terminal ldapmodrdn "$U" cn=bob
check "the record is still staff's" bash -c 'grep -qx "mfauthRecord: record-2" <<<"$1"' _ "$(read_attrs staff "$U")"

# --- what nobody else may do ------------------------------------------------------------------
for who in anon clerk; do
	check "$who sees neither attribute" bash -c '! grep -qi "^mfauth\\(Record\\|State\\)" <<<"$1"' _ "$(read_attrs $who "$U")"
	check "$who cannot even find the entry" bash -c '! grep -q "^dn:" <<<"$1"' \
		_ "$(as $who ldapsearch -LLL -b "$B" '(cn=alice)' cn 2>&1)"
	# anonymous: strongerAuthRequired (8), slapd's default for anonymous writes; clerk: 50.
	check "$who cannot swap the state (8 or 50)" expect_rc_in "8 50" cas $who "$U" state-3 state-x
done
check "anonymous cannot test a value by compare either" bash -c '
	LDAPTLS_CACERT=$LDAP_RIG_CA ldapcompare -x -H "$LDAP_RIG_URI_LDAPS" "$1" mfauthState:state-3
	rc=$?; test $rc != 6 && test $rc != 5' _ "$U"
for who in anon clerk terminal staff; do
	check "$who cannot read a userPassword" bash -c '! grep -qi "^userPassword" <<<"$1"' \
		_ "$(as $who ldapsearch -LLL -b "$LDAP_RIG_TERM_DN_1" -s base '(objectClass=*)' userPassword 2>&1)"
done
check "a wrong password does not bind (invalidCredentials, 49)" expect_rc 49 \
	env LDAPTLS_CACERT="$LDAP_RIG_CA" ldapwhoami -x -H "$LDAP_RIG_URI_LDAPS" -D "$LDAP_RIG_TERM_DN_1" -w wrong
check "staff delete the entry" expect_rc 0 as staff ldapdelete "$U"

# --- TLS ----------------------------------------------------------------------------------------
check "ldaps:// with the rig's CA" env LDAPTLS_CACERT="$LDAP_RIG_CA" ldapwhoami -x -H "$LDAP_RIG_URI_LDAPS" \
	-D "$LDAP_RIG_TERM_DN_1" -w "$LDAP_RIG_TERM_PW"
check "ldap:// + StartTLS with the rig's CA" env LDAPTLS_CACERT="$LDAP_RIG_CA" ldapwhoami -ZZ -x \
	-H "$LDAP_RIG_URI_LDAP" -D "$LDAP_RIG_TERM_DN_1" -w "$LDAP_RIG_TERM_PW"
check "ldaps:// with another CA fails" expect_rc 255 env LDAPTLS_CACERT="$LDAP_RIG_OTHER_CA" \
	ldapwhoami -x -H "$LDAP_RIG_URI_LDAPS" -D "$LDAP_RIG_TERM_DN_1" -w "$LDAP_RIG_TERM_PW"
check "StartTLS with another CA fails" bash -c '! LDAPTLS_CACERT="$LDAP_RIG_OTHER_CA" \
	ldapwhoami -ZZ -x -H "$LDAP_RIG_URI_LDAP" -D "$LDAP_RIG_TERM_DN_1" -w "$LDAP_RIG_TERM_PW"'
check "the server certificate names 127.0.0.1 (a name mismatch would be caught)" bash -c '
	openssl x509 -in "$LDAP_RIG_DIR/tls/server.pem" -noout -ext subjectAltName | grep -q "IP Address:127.0.0.1"'

# --- the helpers ------------------------------------------------------------------------------
check "ldapi:// as root DN (the rig's own access)" ldapwhoami -x -H "$LDAP_RIG_URI_LDAPI" \
	-D "$LDAP_RIG_ROOTDN" -w "$LDAP_RIG_ROOTPW"
ldap_rig_stop "$T/rig"
check "after ldap_rig_stop, nothing answers on its port" expect_rc 255 ldapwhoami -x -H "$LDAP_RIG_URI_LDAP"
check "... and the slapd process is gone" bash -c '! test -e "$1/slapd.job" && ! pgrep -F "$1/slapd.pid" >/dev/null 2>&1' \
	_ "$T/rig"
check "ldap_rig_restart brings it back with its data" bash -c '
	. "$1/slapd-rig.sh"; ldap_rig_restart "$2" || exit 1
	ldapsearch -x -H "$LDAP_RIG_URI_LDAPI" -D "$LDAP_RIG_ROOTDN" -w "$LDAP_RIG_ROOTPW" -LLL \
		-b "$LDAP_RIG_TERM_DN_1" -s base 1.1 | grep -q terminal-01
	rc=$?; ldap_rig_stop "$2"; exit $rc' _ "$here" "$T/rig"
ldap_rig_restart "$T/rig" || fail "restart in this shell"
check "a closed port is refused at once" bash -c '
	p=$(. "$1/slapd-rig.sh"; ldap_rig_closed_port); t0=$(date +%s%N)
	ldapwhoami -x -o nettimeout=2 -H "ldap://127.0.0.1:$p/"; rc=$?
	echo "rc=$rc after $((($(date +%s%N) - t0) / 1000000)) ms"
	test $rc = 255 && test $((($(date +%s%N) - t0) / 1000000)) -lt 1000' _ "$here"
ldap_rig_blackhole "$T/rig" || fail "the black hole starts"
check "the black hole accepts and never answers (a client without a timeout hangs)" bash -c '
	timeout 1 ldapwhoami -x -o nettimeout=1 -H "ldap://127.0.0.1:$1/"; test $? = 124' _ "$LDAP_RIG_BLACKHOLE_PORT"
# The network timeout covers the TCP connect only, and -l is a limit the server applies: against
# a server that accepted the connection, only a client-side operation timeout (LDAP_OPT_TIMEOUT,
# which lib/ldap_conn.c sets; the tools have no option for it) ends the wait.
check "... neither nettimeout nor a server time limit ends the wait" bash -c '
	timeout 2 ldapsearch -x -o nettimeout=1 -l 1 -H "ldap://127.0.0.1:$1/" -b "" -s base 1.1
	test $? = 124' _ "$LDAP_RIG_BLACKHOLE_PORT"

# --- ldap_rig_serve: the rig for a test in another language (tests/clients/directory.py) -------
# serve_steps DIR: start, "stop", "start", then the end of stdin; each step's effect on slapd.
serve_steps() {
	local dir=$1 line pid pid2 uri
	coproc SERVE { LDAP_RIG_LOGLEVEL=0 bash -c '. "$1/slapd-rig.sh" && ldap_rig_serve "$2"' _ "$here" "$dir"; }
	local in=${SERVE[1]} out=${SERVE[0]} shell=$SERVE_PID
	read -r -t 10 line <&"$out"
	[ "$line" = ready ] || { echo "first line: '$line'"; return 1; }
	grep -qx "loglevel	0" "$dir/slapd.conf" || { echo "LDAP_RIG_LOGLEVEL: no loglevel line"; return 1; }
	uri=$(. "$dir/env" && echo "$LDAP_RIG_URI_LDAPI")
	pid=$(cat "$dir/slapd.job")
	echo stop >&"$in"
	read -r -t 10 line <&"$out"
	[ "$line" = ok ] || { echo "stop: '$line'"; return 1; }
	! kill -0 "$pid" 2>/dev/null || { echo "stop: slapd $pid still runs"; return 1; }
	! LDAPNOINIT=1 ldapwhoami -x -H "$uri" 2>/dev/null || { echo "stop: something answers"; return 1; }
	echo start >&"$in"
	read -r -t 10 line <&"$out"
	[ "$line" = ok ] || { echo "start: '$line'"; return 1; }
	pid2=$(cat "$dir/slapd.job")
	LDAPNOINIT=1 ldapwhoami -x -H "$uri" >/dev/null || { echo "start: no answer"; return 1; }
	echo bogus >&"$in"
	read -r -t 10 line <&"$out"
	[[ $line == fail* ]] || { echo "an unknown command: '$line'"; return 1; }
	exec {in}>&-
	wait "$shell"
	! kill -0 "$pid2" 2>/dev/null || { echo "end of stdin: slapd $pid2 still runs"; return 1; }
	echo "stop, start, unknown command, end of stdin: as documented"
}
check "ldap_rig_serve: ready, stop, start, and slapd gone at the end of its stdin" serve_steps "$T/serve"

# --- the mirror-mode sample parses -------------------------------------------------------------
mkdir -p "$T/mirror/accesslog" "$T/mirror/main"
sed -e "s|/usr/share/mfauth/ldap/|$top/share/ldap/|g" -e "s|/var/lib/ldap/|$T/mirror/|g" \
	-e "s|/run/slapd/|$T/mirror/|g" -e "s|/etc/ldap/tls/ca.pem|$LDAP_RIG_CA|g" \
	-e "s|/etc/ldap/tls/dir1.pem|$LDAP_RIG_DIR/tls/server.pem|" \
	-e "s|/etc/ldap/tls/dir1.key|$LDAP_RIG_DIR/tls/server.key|" \
	"$top/share/ldap/mirror-mode.conf.sample" >"$T/mirror/slapd.conf"
check "share/ldap/mirror-mode.conf.sample passes slaptest (-u: no databases opened)" \
	slaptest -u -f "$T/mirror/slapd.conf"

summary
