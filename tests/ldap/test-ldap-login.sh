#!/usr/bin/env bash
# The fleet store (store = ldap, lib/store_ldap.c) end to end against a private slapd
# (tests/ldap/slapd-rig.sh, the shipped schema and ACL): the tool with staff credentials
# enrolls, lists, shows, revokes, unlocks and issues recovery codes; the built module, through
# the real PAM stack (tests/pam/pamcheck with a private PAM config dir), logs clerks in on four
# terminal identities at once.  Replay, lockout and recovery codes hold across terminals
# (compare-and-swap); values moved, tampered or cut are refused; with the directory down or
# silent, logins fail closed within ldap_timeout + 1 s with the clerk's message and the audit
# line.  Everything runs in a private mount namespace (sinkrun: a private /dev/log, whose lines
# are the audit trail checked here, and private copies of /etc with the test clerks).
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
if [ -z "${MFAUTH_LDAP_INNER:-}" ]; then
	log=$(mktemp /tmp/mfauth-ldap-audit.XXXXXX)
	MFAUTH_LDAP_INNER=$log "$build/tests/sinkrun" "$log" bash "$0"
	rc=$?
	rm -f "$log"
	exit $rc
fi
audit=$MFAUTH_LDAP_INNER

T=$(mktemp -d /tmp/mfauth-ldap-login.XXXXXX)
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

# --- the stage: clerks in a private /etc, a key, one config per identity -----------------
cp -a /etc "$T/etc" && mount --bind "$T/etc" /etc || { echo "cannot bind a private /etc"; exit 1; }
for u in a:61101 b:61102 c:61103 d:61104 e:61105 f:61106 g:61107 m:61108 n:61109 \
	pskc_p:61110 pskc_q:61111; do
	name=fleet_${u%%:*} id=${u#*:}
	[[ $u == pskc_* ]] && name=${u%%:*}
	printf '%s:x:%s:%s::/nonexistent:/usr/sbin/nologin\n' "$name" "$id" "$id" >>/etc/passwd
	printf '%s:x:%s:\n' "$name" "$id" >>/etc/group
done
mkdir -m 755 "$T/pam.d"
module=$build/pam_module/.libs/pam_mfauth.so
# The directory backend's module as built (installed: $(pkglibdir)/mfauth_store_ldap.so).
ldap_module=$build/lib/.libs/mfauth_store_ldap.so
timeout=2
# conf NAME DN PASSWORD [URIS] [EXTRA LINES...]: $T/NAME.conf with its password file.
conf() {
	local name=$1 dn=$2 pw=$3 uris=${4:-$LDAP_RIG_URI_LDAPS}
	shift 4
	printf '%s' "$pw" >"$T/$name.secret" && chmod 600 "$T/$name.secret"
	{
		printf 'store = ldap\nkey_file = %s/store.key\nldap_uri = %s\n' "$T" "$uris"
		printf 'ldap_base = %s\nldap_bind_dn = %s\n' "$LDAP_RIG_BASE" "$dn"
		printf 'ldap_bind_pw_file = %s/%s.secret\nldap_ca_file = %s\n' "$T" "$name" "$LDAP_RIG_CA"
		printf 'ldap_timeout = %s\ndeny = 5\nunlock_time = 0\nwindow = 1\n' "$timeout"
		printf 'ldap_module = %s\n' "$ldap_module"
		printf '%s\n' "$@"
	} >"$T/$name.conf"
	chmod 644 "$T/$name.conf"
	printf 'auth required %s conf=%s/%s.conf\naccount required %s conf=%s/%s.conf\n' \
		"$module" "$T" "$name" "$module" "$T" "$name" >"$T/pam.d/$name"
}
conf staff "$LDAP_RIG_STAFF_DN" "$LDAP_RIG_STAFF_PW" ""
for i in 1 2 3 4; do
	dn=LDAP_RIG_TERM_DN_$i
	conf "t$i" "${!dn}" "$LDAP_RIG_TERM_PW" ""
done
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$T/pam.d/other"

mfauth() { "$build/tools/mfauth" -c "$T/staff.conf" "$@"; }
tmfauth() { "$build/tools/mfauth" -c "$T/t1.conf" "$@"; }
seed() { printf '%s' "$1" | sha256sum | head -c 32 | tr 0-9a-f A-P | tr -d '\n'; }
seed_of() { seed "$1-$T"; }
code_of() { oathtool --totp -b -N "@$(($(date +%s) + ${2:-0}))" "$(seed_of "$1")"; }
wrong_of() { local c; c=$(code_of "$1"); printf '%s%d' "${c:0:5}" $(((${c:5:1} + 5) % 10)); }
# login TERMINAL USER ANSWER: the PAM application on that terminal's identity; output $T/out.N
login() {
	"$build/tests/pam/pamcheck" --confdir "$T/pam.d" --no-fail-delay "$1" "$2" <<<"$3" \
		>"$T/out.$1" 2>&1
}
not() { ! "$@"; }
status_is() { local want=$1; shift; "$@"; [ $? -eq "$want" ]; }
listed() { mfauth list >"$T/list" && [ "$(grep -c '^fleet_' "$T/list")" -eq "$1" ]; }
show_json() { mfauth show "$1" --json; }
failures_of() { show_json "$1" | sed -n 's/.*"failures": *\([0-9]*\).*/\1/p'; }
locked_of() { show_json "$1" | grep -q '"locked": *true'; }
audited() { sleep 0.2; grep -q -- "$1" "$audit"; }
on_check_failure() { for f in "$T"/out.*; do sed "s|^|       $(basename "$f") |" "$f" | head -8; done; }
# The root DN: what a directory administrator could write (tampering tests).
ldapmod() { ldapmodify -x -H "$LDAP_RIG_URI_LDAPI" -D "$LDAP_RIG_ROOTDN" -w "$LDAP_RIG_ROOTPW" "$@"; }
value_of() {
	ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP_RIG_URI_LDAPI" -D "$LDAP_RIG_ROOTDN" \
		-w "$LDAP_RIG_ROOTPW" -b "cn=$1,$LDAP_RIG_BASE" -s base "$2" | sed -n "s/^$2:: //p"
}

# --- init and enrollment with staff credentials --------------------------------------------
init_says() { mfauth init >"$T/init.out" && cat "$T/init.out" && grep -q "^directory: *$LDAP_RIG_BASE" "$T/init.out"; }
check "mfauth init (staff) makes the key and adds the decoy entry" init_says
check "mfauth init again: the key is never overwritten" not mfauth init
check "the key is root's, 0400" test "$(stat -c %U:%a "$T/store.key")" = root:400
check "the decoy entry exists" test -n "$(value_of /decoy mfauthState)"
check "enroll totp (staff) over the directory" \
	mfauth enroll totp fleet_a --secret-stdin --no-confirm --qr none <<<"$(seed_of fleet_a)"
for u in fleet_b fleet_c fleet_d; do
	printf '%s,%s\n' "$u" "$(seed_of "$u")"
done >"$T/seeds.csv"
check "import csv (staff) over the directory" mfauth import csv <"$T/seeds.csv"
check "list shows the four users" listed 4
check "a terminal cannot enroll (the ACL: no add)" \
	not tmfauth enroll totp fleet_e --secret-stdin --no-confirm --qr none <<<"$(seed_of fleet_e)"

# --- mfauth check over the directory -----------------------------------------------------------
conf three "$LDAP_RIG_STAFF_DN" "$LDAP_RIG_STAFF_PW" \
	"$LDAP_RIG_URI_LDAPS ldap://127.0.0.1:$LDAP_RIG_PORT_LDAP/ $LDAP_RIG_URI_LDAPI"
"$build/tools/mfauth" -c "$T/three.conf" check --json --pam-dir "$T/pam.d" >"$T/check.json"
finding() { grep -q "\"check\":\"$1\",\"severity\":\"$2\",\"subject\":\"$3\",\"message\":\"$4" "$T/check.json"; }
check "check: ldaps:// reachable, TLS and bind" finding store ok "$LDAP_RIG_URI_LDAPS" "reachable, bind as"
check "check: ldap:// with StartTLS" finding store ok "ldap://127.0.0.1:$LDAP_RIG_PORT_LDAP/" "reachable"
check "check: ldapi://" finding store ok "$LDAP_RIG_URI_LDAPI" "reachable"
# The rig's certificate is valid for two days: well inside the 30 days' warning.
check "check: the ldaps:// server's certificate expires soon: a warning with its date" \
	finding store warning "$LDAP_RIG_URI_LDAPS" "the server's certificate expires on $(date -u +%Y)-"
check "check: the same for the StartTLS server" \
	finding store warning "ldap://127.0.0.1:$LDAP_RIG_PORT_LDAP/" "the server's certificate expires on"
check "check: no certificate finding for ldapi://" \
	not grep -q "\"subject\":\"$LDAP_RIG_URI_LDAPI\",\"message\":\"the server's certificate" "$T/check.json"
# The question "is this connection TLS?" failing (the fault shim fails the directory module's
# first ldap_get_option, the ldaps:// server's) is not "no TLS": a warning, never silence.
shim=$build/tests/fault/.libs/faultshim.so
LD_PRELOAD="$shim${LD_PRELOAD:+:$LD_PRELOAD}" MFAUTH_FAULT_AT=1 MFAUTH_FAULT_ONLY=ldap_get_option \
	MFAUTH_FAULT_SCOPE=mfauth_store_ldap.so MFAUTH_FAULT_TRACE="$T/shim.trace" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$build/tools/mfauth" -c "$T/three.conf" check --json --pam-dir "$T/pam.d" >"$T/check-fault.json"
check "check, TLS question failing: the shim failed it once" \
	test "$(grep -c '^[0-9]* ldap_get_option .* FAIL$' "$T/shim.trace" 2>/dev/null)" = 1
check "check, TLS question failing: the ldaps:// certificate unread is a warning" \
	grep -q "\"check\":\"store\",\"severity\":\"warning\",\"subject\":\"$LDAP_RIG_URI_LDAPS\",\"message\":\"the server's certificate has no readable end of validity" \
	"$T/check-fault.json"
check "check: base, schema and users" finding store ok "$LDAP_RIG_BASE" "base present, mfauthUser schema in use, 4 users"
check "check: every record decrypts" finding record ok "$LDAP_RIG_BASE" "4 records decrypt"
check "check: no store directory finding" not grep -q "$T/store\"\|var/lib/mfauth" "$T/check.json"
conf wrongca "$LDAP_RIG_STAFF_DN" "$LDAP_RIG_STAFF_PW" "$LDAP_RIG_URI_LDAPS" \
	"ldap_ca_file = $LDAP_RIG_OTHER_CA"
"$build/tools/mfauth" -c "$T/wrongca.conf" check --json --pam-dir "$T/pam.d" >"$T/check.json"
check "check: a wrong CA is a TLS error" finding store error "$LDAP_RIG_URI_LDAPS" "secure connection"
check "a wrong CA: the tool refuses to work" not "$build/tools/mfauth" -c "$T/wrongca.conf" list
conf plain "$LDAP_RIG_STAFF_DN" "$LDAP_RIG_STAFF_PW" "ldap://127.0.0.1:$LDAP_RIG_PORT_LDAP/" \
	"ldap_starttls = no"
# The backend's module is loaded only from a file as trusted as the key.
cp "$ldap_module" "$T/module.so" && chmod 666 "$T/module.so"
conf badmodule "$LDAP_RIG_STAFF_DN" "$LDAP_RIG_STAFF_PW" "" "ldap_module = $T/module.so"
"$build/tools/mfauth" -c "$T/badmodule.conf" list >"$T/bad.out" 2>&1
check "a backend module others can write is refused" test $? -ne 0
check "... and named" grep -q "module.so.*writable by group or others" "$T/bad.out"
check "... and the login refuses" not login badmodule fleet_a 000000
check "audit: store_error reason=unsafe" audited "event=store_error result=fail user=fleet_a factor=totp reason=unsafe"
chmod 644 "$T/module.so"
check "the same file, root-owned and 0644, is loaded" "$build/tools/mfauth" -c "$T/badmodule.conf" list
conf nomodule "$LDAP_RIG_STAFF_DN" "$LDAP_RIG_STAFF_PW" "" "ldap_module = $T/absent.so"
check "a missing backend module: the tool fails" not "$build/tools/mfauth" -c "$T/nomodule.conf" list
check "a missing backend module: the login fails closed (reason=config)" not login nomodule fleet_a 000000
check "audit: store_error reason=config" audited "event=store_error result=fail user=fleet_a factor=totp reason=config"
check "ldap:// with ldap_starttls = no works (plain text, as configured)" \
	"$build/tools/mfauth" -c "$T/plain.conf" list
chmod 644 "$T/staff.secret"
check "a password file others can read is refused" not mfauth list
chmod 600 "$T/staff.secret"

# --- logins on terminal credentials ---------------------------------------------------------
code=$(code_of fleet_a)
t0=$(date +%s%N)
check "fleet_a logs in on terminal 1 with a fresh code" login t1 fleet_a "$code"
t1=$(date +%s%N)
echo "# one successful login over ldaps on loopback: $(((t1 - t0) / 1000000)) ms (pamcheck, connect + TLS + bind + read + swap)"
check "audit: success on terminal 1" audited "event=auth result=success user=fleet_a factor=totp"
# The round trips of that login, from slapd's own log lines (it logs each operation with its
# connection number): after the bind, one search and one modify (DESIGN §4, the entry cache).
ops_of_login() {
	local conn
	conn=$(grep -o "conn=[0-9]* op=[0-9]* SRCH base=\"cn=fleet_a,$LDAP_RIG_BASE\"" "$audit" |
		tail -n 1 | cut -d' ' -f1)
	[ -n "$conn" ] || { echo "no search of fleet_a's entry in slapd's log"; return 1; }
	grep -oE "$conn op=[0-9]+ [A-Z]+" "$audit" | sort -u |
		awk '$3 ~ /^(BIND|SRCH|MOD|ADD|DEL|MODRDN|CMP|EXT|UNBIND)$/ { print $3 }' | sort | uniq -c |
		tr -s ' ' >"$T/ops"
	cat "$T/ops"
	[ "$(tr -d '\n' <"$T/ops")" = " 1 BIND 1 MOD 1 SRCH 1 UNBIND" ]
}
check "a successful login is bind, one search, one modify, unbind" ops_of_login
check "the same code on terminal 2 is a replay" not login t2 fleet_a "$code"
check "audit: replay on terminal 2" audited "event=auth result=replay user=fleet_a"
check "account (pam_acct_mgmt) reads the state over the directory" \
	"$build/tests/pam/pamcheck" --confdir "$T/pam.d" --no-fail-delay --account t2 fleet_a <<<"$(code_of fleet_a 30)"

# jobs TERMINALS... -- USER ANSWER: one login per terminal named, all at once; the number that
# succeeded in $T/won.
race() {
	local user=$1 answer=$2 n=0 pids=() t
	shift 2
	rm -f "$T"/race.*
	for t in "$@"; do
		n=$((n + 1))
		( "$build/tests/pam/pamcheck" --confdir "$T/pam.d" --no-fail-delay "$t" "$user" \
			<<<"$answer" >"$T/race.$n" 2>&1; echo $? >"$T/race.$n.rc" ) &
		pids+=($!)
	done
	wait "${pids[@]}"
	grep -lx 0 "$T"/race.*.rc 2>/dev/null | wc -l >"$T/won"
	rm -f "$T"/race.*.rc
}
won_is() { [ "$(cat "$T/won")" -eq "$1" ]; }
sixteen="t1 t2 t3 t4 t1 t2 t3 t4 t1 t2 t3 t4 t1 t2 t3 t4"

# --- one fresh code, 16 logins on 4 terminal identities at once -------------------------------
code=$(code_of fleet_b)
t0=$(date +%s%N)
race fleet_b "$code" $sixteen
t1=$(date +%s%N)
echo "# 16 concurrent logins (4 terminals), one code: $(((t1 - t0) / 1000000)) ms in all"
check "16 concurrent logins with one code: exactly 1 succeeds" won_is 1
# What the clerks read (the audit lines of a burst are not counted: the module sends them with
# MSG_DONTWAIT, so that a stalled syslog never hangs a login, and the test's sink, like any
# /dev/log, queues only net.unix.max_dgram_qlen of them).
check "the 15 others were told the code was already used, or the account locked" \
	test "$(grep -l "already used\|locked after too many" "$T"/race.* | wc -l)" -eq 15
for t in t1 t2 t3 t4; do
	check "the code is refused on $t afterwards" not login "$t" fleet_b "$code"
done

# --- deny = 5, failures spread over 3 terminals at once ---------------------------------------
bad=$(wrong_of fleet_c)
race fleet_c "$bad" t1 t2 t3 t1 t2 t3 t1 t2 t3 t1 t2 t3
check "12 concurrent wrong codes on 3 terminals: none succeeds" won_is 0
check "fleet_c is locked with exactly 5 failures" test "$(failures_of fleet_c)" = 5
check "fleet_c is locked (show --json)" locked_of fleet_c
check "locked on terminal 4 too, even with the right code" not login t4 fleet_c "$(code_of fleet_c)"
check "mfauth unlock (staff) over the directory" mfauth unlock fleet_c --reason "fleet test"
check "unlocked everywhere: terminal 4 lets fleet_c in" login t4 fleet_c "$(code_of fleet_c 30)"

# --- a recovery code raced on 4 terminals -----------------------------------------------------
check "mfauth recovery (staff) over the directory" bash -c \
	"'$build/tools/mfauth' -c '$T/staff.conf' recovery fleet_d --reason test >'$T/recovery'"
rcode=$(grep -oE '[0-9A-Z]{4}(-[0-9A-Z]{4})+' "$T/recovery" | head -n 1)
check "the tool printed a recovery code" test -n "$rcode"
race fleet_d "$rcode" t1 t2 t3 t4
check "a recovery code raced on 4 terminals works exactly once" won_is 1
check "the 3 others were refused" test "$(grep -l "Authentication failure" "$T"/race.* | wc -l)" -eq 3
check "the recovery code is refused afterwards" not login t2 fleet_d "$rcode"

# --- unknown users: the decoy entry, read and swapped as an enrolled user's would be ----------
decoy_before=$(value_of /decoy mfauthState)
check "an unknown user is refused after the prompt" not login t2 nosuchclerk 123456
check "audit: not_enrolled" audited "event=auth result=fail user=nosuchclerk factor=totp reason=not_enrolled"
check "the decoy's state was swapped" test "$(value_of /decoy mfauthState)" != "$decoy_before"
hostcheck() { "$build/tests/pam/pamcheck" --check-host --confdir "$T/pam.d" --no-fail-delay "$@"; }
check "a wrong code leaves no descriptor, child or signal change behind (--check-host)" \
	status_is 1 hostcheck t3 fleet_a <<<000000
check "an unknown user's login neither" status_is 1 hostcheck t3 nosuchclerk <<<000000

# --- memcheck: the module's directory path leaks nothing and touches no bad memory ---------------
# (pamcheck with the module loaded; a definite or indirect leak or any error fails.  Not in an
# AddressSanitizer build, which cannot run under valgrind.)
vg() {
	valgrind --quiet --error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect "$build/tests/pam/pamcheck" --confdir "$T/pam.d" \
		--no-fail-delay "$@" >"$T/vg.out" 2>&1
	local st=$?
	cat "$T/vg.out"
	[ $st -ne 97 ] && ! grep -q "==[0-9]*==" "$T/vg.out"
}
if ! command -v valgrind >/dev/null; then
	echo "# memcheck not run: valgrind is not installed"
elif nm "$build/tests/pam/pamcheck" 2>/dev/null | grep __asan_init >/dev/null; then
	echo "# memcheck not run: AddressSanitizer build"
else
	check "memcheck: a wrong code on terminal 3 (load, update by CAS)" vg t3 fleet_a <<<000000
	check "memcheck: an unknown user (the decoy)" vg t3 nosuchclerk <<<000000
	conf closed "$LDAP_RIG_TERM_DN_1" "$LDAP_RIG_TERM_PW" "ldaps://127.0.0.1:$(ldap_rig_closed_port)/"
	check "memcheck: no server reachable" vg closed fleet_a <<<000000
fi

# --- show, list, revoke over the directory ----------------------------------------------------
check "show fleet_a (staff)" bash -c "'$build/tools/mfauth' -c '$T/staff.conf' show fleet_a | grep -q totp"
check "show --json reports the state" bash -c "'$build/tools/mfauth' -c '$T/staff.conf' show fleet_a --json | grep -q '\"failures\"'"

# --- what a terminal may not do (the shipped ACL) ---------------------------------------------
rec_a=$(value_of fleet_a mfauthRecord)
term_modify() {
	ldapmodify -x -H "$LDAP_RIG_URI_LDAPI" -D "$LDAP_RIG_TERM_DN_1" -w "$LDAP_RIG_TERM_PW"
}
check "a terminal cannot replace a record (insufficient access)" not term_modify <<EOF2
dn: cn=fleet_b,$LDAP_RIG_BASE
changetype: modify
replace: mfauthRecord
mfauthRecord:: $rec_a
EOF2
check "a terminal cannot delete a record" not term_modify <<EOF2
dn: cn=fleet_b,$LDAP_RIG_BASE
changetype: modify
delete: mfauthRecord
EOF2
state_b=$(value_of fleet_b mfauthState)
check "fleet_b is locked before" locked_of fleet_b
check "a terminal cannot revoke through the tool" not tmfauth revoke fleet_b all
check "fleet_b's record is still there" test -n "$(value_of fleet_b mfauthRecord)"
check "... and its state untouched: record and state change in one modify, or not at all" \
	test "$(value_of fleet_b mfauthState)" = "$state_b"

# --- key rotation over the directory (every machine here shares the one key file) -------------
rec_before=$(value_of fleet_d mfauthRecord)
state_before=$(value_of fleet_b mfauthState)
cp "$T/store.key" "$T/old.key"
# Over the directory a rotation starts from a staged key (test-ldap-rekey.sh: the stages across
# machines with keys of their own); here every identity reads the one staged file at once.
check "mfauth rekey over the directory without a staged key is refused" not mfauth rekey
check "mfauth rekey --stage (staff)" mfauth rekey --stage
check "mfauth rekey (staff) over the directory" mfauth rekey
check "the key file holds a new key, and no .new or .next is left" \
	bash -c "! cmp -s '$T/store.key' '$T/old.key' && [ ! -e '$T/store.key.new' ] && [ ! -e '$T/store.key.next' ]"
check "records were re-sealed" test "$(value_of fleet_d mfauthRecord)" != "$rec_before"
check "states were re-sealed (fleet_b's lock too)" test "$(value_of fleet_b mfauthState)" != "$state_before"
check "fleet_b is still locked after the rotation" locked_of fleet_b
check "fleet_d logs in on terminal 2 after the rotation" login t2 fleet_d "$(code_of fleet_d)"

# --- mfauth import pskc over the directory (tests/cli/gen_pskc.py makes the files) -------------
if /usr/bin/python3 -c 'import cryptography' 2>/dev/null; then
	hexseed() { head -c "$1" /dev/urandom | xxd -p | tr -d '\n'; }
	b32() { printf '%s' "$1" | xxd -r -p | base32 | tr -d '='; }
	P1=$(hexseed 20) P2=$(hexseed 32) PSK=$(hexseed 16)
	/usr/bin/python3 "$src/tests/cli/gen_pskc.py" "$T/tokens.pskc" --psk "$PSK" \
		--token "serial=PS-1,secret=$P1" \
		--token "serial=PS-2,secret=$P2,digits=8,period=60,suite=HMAC-SHA256"
	printf '%s\n' "$PSK" >"$T/psk.key" && chmod 600 "$T/psk.key"
	printf 'PS-1,pskc_p\nPS-2,pskc_q\n' >"$T/tokens.map"
	tmfauth import pskc "$T/tokens.pskc" --map "$T/tokens.map" --key-file "$T/psk.key" >"$T/tpskc.out" 2>&1
	check "a terminal cannot import pskc (the ACL: no add)" test $? -ne 0
	check "... refused by the directory, not by the file" grep -q "imported 0, failed 2" "$T/tpskc.out"
	check "import pskc (staff, encrypted seeds) over the directory" \
		mfauth import pskc "$T/tokens.pskc" --map "$T/tokens.map" --key-file "$T/psk.key"
	check "... both tokens in the directory, each a record and a state" \
		test -n "$(value_of pskc_p mfauthRecord)" -a -n "$(value_of pskc_q mfauthState)"
	check "... listed" bash -c "'$build/tools/mfauth' -c '$T/staff.conf' list | grep -q '^pskc_q'"
	check "pskc_p (sha1, 6 digits, 30 s) logs in on terminal 3" \
		login t3 pskc_p "$(oathtool --totp -b "$(b32 "$P1")")"
	check "pskc_q (sha256, 8 digits, 60 s) logs in on terminal 4" \
		login t4 pskc_q "$(oathtool --totp=sha256 -d 8 -s 60 -b "$(b32 "$P2")")"
	check "audit: enroll source=import_pskc" \
		audited "event=enroll result=success user=pskc_q reason= factor=totp source=import_pskc serial=PS-2"
	check "a re-import replaces the records in place, as with files" \
		mfauth import pskc "$T/tokens.pskc" --map "$T/tokens.map" --key-file "$T/psk.key"
	check "... and pskc_p logs in with its seed after it" \
		login t1 pskc_p "$(oathtool --totp -b -N "@$(($(date +%s) + 30))" "$(b32 "$P1")")"
else
	echo "# SKIP import pskc: python3-cryptography missing (tests/cli/gen_pskc.py needs it)"
fi

# --- mfauth migrate: a terminal's files store into the directory --------------------------------
printf 'store_dir = %s/files\nkey_file = %s/files.key\ndeny = 5\nwindow = 1\n' "$T" "$T" >"$T/files.conf"
chmod 644 "$T/files.conf"
printf 'auth required %s conf=%s/files.conf\n' "$module" "$T" >"$T/pam.d/files"
fmfauth() { "$build/tools/mfauth" -c "$T/files.conf" "$@"; }
check "a terminal's own files store (its own key)" fmfauth init
printf 'fleet_m,%s\nfleet_n,%s\nfleet_a,%s\n' "$(seed_of fleet_m)" "$(seed_of fleet_n)" \
	"$(seed_of fleet_a)" | fmfauth import csv >/dev/null
check "fleet_n revoked there (a state without a record)" fmfauth revoke fleet_n all
mcode=$(code_of fleet_m)
check "fleet_m logs in on that terminal" login files fleet_m "$mcode"
check "... and fails once there" not login files fleet_m "$(wrong_of fleet_m)"
rec_a=$(value_of fleet_a mfauthRecord)
check "mfauth migrate --from the terminal's config" bash -c \
	"'$build/tools/mfauth' -c '$T/staff.conf' migrate --from '$T/files.conf' >'$T/migrate.out'"
cat "$T/migrate.out"
check "fleet_m copied" grep -qx "fleet_m: copied" "$T/migrate.out"
check "fleet_n's state copied alone" grep -qx "fleet_n: copied (state only: revoked)" "$T/migrate.out"
check "fleet_a already in the directory: left alone" \
	grep -qx "fleet_a: already in the directory: left alone" "$T/migrate.out"
check "fleet_a's record in the directory is untouched" test "$(value_of fleet_a mfauthRecord)" = "$rec_a"
check "fleet_n has a state and no record in the directory" \
	bash -c '[ -n "$0" ] && [ -z "$1" ]' "$(value_of fleet_n mfauthState)" "$(value_of fleet_n mfauthRecord)"
check "fleet_m's failure came along" test "$(failures_of fleet_m)" = 1
check "fleet_m's replay watermark came along: the code used on the old terminal is refused" \
	not login t2 fleet_m "$mcode"
check "fleet_m logs in on the fleet with the next code (sealed under the fleet's key now)" \
	login t2 fleet_m "$(code_of fleet_m 30)"
check "migrate again: nothing overwritten" bash -c \
	"'$build/tools/mfauth' -c '$T/staff.conf' migrate --from '$T/files.conf' | grep -qx '0 copied, 3 already in the directory, 0 failed'"
check "migrate refuses a directory config as its source" \
	not "$build/tools/mfauth" -c "$T/staff.conf" migrate --from "$T/t1.conf"
check "migrate into a files store is refused" \
	not "$build/tools/mfauth" -c "$T/files.conf" migrate --from "$T/files.conf"

# --- values moved, tampered or cut: refused, as with files -------------------------------------
check "enroll fleet_e (staff)" \
	mfauth enroll totp fleet_e --secret-stdin --no-confirm --qr none <<<"$(seed_of fleet_e)"
# set USER ATTR BASE64: what a directory administrator (the root DN) could write.
set_value() {
	ldapmod >/dev/null <<EOF2
dn: cn=$1,$LDAP_RIG_BASE
changetype: modify
replace: $2
$2:: $3
EOF2
}
b64_edit() { python3 -c 'import base64,sys; b=bytearray(base64.b64decode(sys.argv[1])); exec(sys.argv[2]); print(base64.b64encode(bytes(b)).decode())' "$@"; }
check "fleet_e logs in before" login t1 fleet_e "$(code_of fleet_e)"
check "root DN moves fleet_a's record onto fleet_e's entry" set_value fleet_e mfauthRecord "$(value_of fleet_a mfauthRecord)"
check "the moved record does not open: fleet_a's code is refused for fleet_e" \
	not login t2 fleet_e "$(code_of fleet_a 30)"
check "audit: store_error reason=corrupt for fleet_e" \
	audited "event=store_error result=fail user=fleet_e factor=totp reason=corrupt"
check "show refuses the moved record" not mfauth show fleet_e
check "root DN flips one byte of fleet_a's record" \
	set_value fleet_a mfauthRecord "$(b64_edit "$(value_of fleet_a mfauthRecord)" 'b[len(b)//2] ^= 1')"
check "the tampered record is refused" not login t3 fleet_a "$(code_of fleet_a 30)"
check "audit: store_error reason=corrupt for fleet_a" \
	audited "event=store_error result=fail user=fleet_a factor=totp reason=corrupt"
check "root DN cuts fleet_c's state to 100 bytes" \
	set_value fleet_c mfauthState "$(b64_edit "$(value_of fleet_c mfauthState)" 'b = b[:100]')"
check "the truncated state is refused" not login t4 fleet_c "$(code_of fleet_c 30)"
check "audit: store_error reason=corrupt for fleet_c" \
	audited "event=store_error result=fail user=fleet_c factor=totp reason=corrupt"
check "root DN moves fleet_d's state onto fleet_c's entry" \
	set_value fleet_c mfauthState "$(value_of fleet_d mfauthState)"
check "the moved state is refused" not login t4 fleet_c "$(code_of fleet_c 30)"

# --- revoke over the directory: the record goes, the state (watermark) stays -------------------
check "mfauth revoke (staff) over the directory" mfauth revoke fleet_d all
check "list no longer shows fleet_d" not grep -q '^fleet_d ' <(mfauth list)
check "fleet_d's entry keeps its state" test -n "$(value_of fleet_d mfauthState)"
check "fleet_d's record is gone" test -z "$(value_of fleet_d mfauthRecord)"

# --- failover and outage: fail closed within ldap_timeout + 1 s --------------------------------
# Without pipefail: the rig's `ldap_rig__listening | grep -q` takes the writer's SIGPIPE (when
# grep finds the port before the listing ends) for a failure under pipefail.
set +o pipefail
ldap_rig_blackhole "$T/rig" || fail "the black hole starts"
set -o pipefail
hole=ldaps://127.0.0.1:$LDAP_RIG_BLACKHOLE_PORT/
conf hole "$LDAP_RIG_TERM_DN_2" "$LDAP_RIG_TERM_PW" "$hole"
conf failover "$LDAP_RIG_TERM_DN_3" "$LDAP_RIG_TERM_PW" "$hole $LDAP_RIG_URI_LDAPS"
conf down "$LDAP_RIG_TERM_DN_4" "$LDAP_RIG_TERM_PW" \
	"$LDAP_RIG_URI_LDAPS ldap://127.0.0.1:$LDAP_RIG_PORT_LDAP/"
# timed TERMINAL USER ANSWER: login, its time in ms in $T/ms.
timed() {
	local t0 t1 st
	t0=$(date +%s%N)
	login "$@"
	st=$?
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000)) >"$T/ms"
	return $st
}
within() { [ "$(cat "$T/ms")" -le "$1" ] || { echo "took $(cat "$T/ms") ms, want <= $1"; return 1; }; }
check "enroll fleet_f (staff)" \
	mfauth enroll totp fleet_f --secret-stdin --no-confirm --qr none <<<"$(seed_of fleet_f)"
check "failover: a silent first server, the second lets fleet_f in" \
	timed failover fleet_f "$(code_of fleet_f)"
echo "# failover past a silent server (ldap_timeout = $timeout): $(cat "$T/ms") ms"
check "failover: within ldap_timeout + 1 s" within $(((timeout + 1) * 1000))
check "a silent server only: refused" not timed hole fleet_f "$(code_of fleet_f 30)"
echo "# a silent server (ldap_timeout = $timeout): refused after $(cat "$T/ms") ms"
check "a silent server only: within ldap_timeout + 1 s" within $(((timeout + 1) * 1000))
check "a silent server: the clerk is told" grep -qF "cannot be reached. Contact security staff" "$T/out.hole"
check "audit: store_error reason=directory_unreachable" \
	audited "event=store_error result=fail user=fleet_f factor=totp reason=directory_unreachable"

# --- the setuid helper: a screen locker runs the module as the clerk ----------------------------
# The helper reads only the compiled-in configuration file: a private copy of that directory
# here (this namespace's), holding terminal 1's configuration.
sysconf=${MFAUTH_SYSCONFDIR:-}
helper_ok=
if [ -z "$sysconf" ] || [ ! -d "$sysconf" ]; then
	echo "# the setuid helper is not tested: MFAUTH_SYSCONFDIR ($sysconf) does not exist"
elif findmnt -no OPTIONS -T "$T" | grep -qw nosuid; then
	echo "# the setuid helper is not tested: $T is on a nosuid file system"
else
	if [ "$sysconf" != /etc ]; then
		cp -a "$sysconf" "$T/sysconf" && mount --bind "$T/sysconf" "$sysconf"
	fi
	mkdir -p "$sysconf/mfauth" && cp "$T/t1.conf" "$sysconf/mfauth/mfauth.conf" &&
		chmod 644 "$sysconf/mfauth/mfauth.conf"
	chmod 755 "$T"
	mkdir -m 755 "$T/bin"
	cp "$build/helper/mfauth-verify" "$T/bin/mfauth-verify" && chmod 4755 "$T/bin/mfauth-verify"
	printf 'auth required %s helper=%s/bin/mfauth-verify\n' "$module" "$T" >"$T/pam.d/lock"
	helper_ok=yes
fi
# as_clerk USER ANSWER: the PAM application as that clerk (a locker); output in $T/out.lock.
as_clerk() {
	setpriv --reuid="$(id -u "$1")" --regid="$(id -g "$1")" --clear-groups \
		"$build/tests/pam/pamcheck" --confdir "$T/pam.d" --no-fail-delay lock "$1" <<<"$2" \
		>"$T/out.lock" 2>&1
}
if [ -n "$helper_ok" ]; then
	check "enroll fleet_g (staff)" \
		mfauth enroll totp fleet_g --secret-stdin --no-confirm --qr none <<<"$(seed_of fleet_g)"
	code=$(code_of fleet_g)
	check "the clerk (not root) logs in through the setuid helper over the directory" \
		as_clerk fleet_g "$code"
	check "audit: success through the helper" \
		audited "event=auth result=success user=fleet_g factor=totp .*helper=mfauth-verify"
	check "the same code through the helper is a replay" not as_clerk fleet_g "$code"
	check "... and on terminal 2 too" not login t2 fleet_g "$code"
fi

# --- measured, not asserted: a wrong code of an enrolled user against an unknown user ----------
conf bench "$LDAP_RIG_TERM_DN_4" "$LDAP_RIG_TERM_PW" "" "deny = 0"
median_ms() {
	local user=$1 i t0 t1
	for ((i = 0; i < 15; i++)); do
		t0=$(date +%s%N)
		login bench "$user" 000000
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000))
	done | sort -n | sed -n 8p
}
echo "# median of 15 wrong-code logins, one pamcheck process each (us): enrolled $(median_ms fleet_f)," \
	"unknown $(median_ms nosuchclerk)"

ldap_rig_stop "$T/rig"
if [ -n "$helper_ok" ]; then
	check "server stopped: the helper refuses" not as_clerk fleet_g "$(code_of fleet_g 30)"
	check "server stopped: the clerk is told through the helper" \
		grep -qF "cannot be reached. Contact security staff" "$T/out.lock"
	check "audit: the helper's store_error reason=directory_unreachable" \
		audited "event=store_error result=fail user=fleet_g .*reason=directory_unreachable"
fi
check "server stopped: refused" not timed down fleet_f "$(code_of fleet_f 30)"
echo "# both URIs of a stopped server: refused after $(cat "$T/ms") ms"
check "server stopped: within ldap_timeout + 1 s" within $(((timeout + 1) * 1000))
check "server stopped: the clerk is told" grep -qF "cannot be reached. Contact security staff" "$T/out.down"
check "server stopped: pam_acct_mgmt fails closed too" \
	not "$build/tests/pam/pamcheck" --confdir "$T/pam.d" --no-fail-delay --account t1 fleet_f <<<"000000"
check "server stopped: the tool fails with the reason" not mfauth list
LC_ALL=ja_JP.UTF-8 "$build/tests/pam/pamcheck" --catalogs "$build/tests/locale" \
	--confdir "$T/pam.d" --no-fail-delay down fleet_f <<<000000 >"$T/out.ja" 2>&1
check "server stopped: the Japanese message" grep -q "認証ディレクトリに接続できません。セキュリティ担当者に連絡してください。" "$T/out.ja"
ldap_rig_restart "$T/rig" || fail "the rig restarts"
check "server back: fleet_f logs in again, leaving nothing behind (--check-host)" \
	hostcheck t1 fleet_f <<<"$(code_of fleet_f 30)"

# An identity the ACL shows no entry (a wrong bind DN, a hiding ACL): every user would look not
# enrolled, and nullok would wave them through.  The decoy entry tells the two apart.
# The stack as a terminal has it: the password module first (pam_permit stands in), so that
# PAM_IGNORE from mfauth would be a login.
conf blind "$LDAP_RIG_OTHER_DN" "$LDAP_RIG_OTHER_PW" "" "nullok = yes"
sed -i '1i auth required pam_permit.so' "$T/pam.d/blind"
check "an identity that sees no entry, with nullok: an enrolled clerk is refused" \
	not login blind fleet_f "$(code_of fleet_f 30)"
check "audit: store_error reason=directory_denied" \
	audited "event=store_error result=fail user=fleet_f .*reason=directory_denied"

summary
