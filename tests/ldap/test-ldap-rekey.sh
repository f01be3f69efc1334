#!/usr/bin/env bash
# A fleet's key rotation over the directory (store = ldap) against a private slapd
# (tests/ldap/slapd-rig.sh): a staff machine and four terminals, each with its OWN copy of the
# key file (a directory each: separate machines).  The staff machine stages a new key
# (`mfauth rekey --stage`), it is copied to three terminals, the staff machine re-seals the
# directory (`mfauth rekey`) -- killed with SIGKILL after some entries, then resumed -- and the
# terminals drop the old key (`mfauth rekey --retire`).  Logins through the real PAM stack
# succeed on every terminal at every stage: before the staged key reached them, after, while
# the re-seal is stopped midway, while the resumed run goes on, and after the retirement; a
# terminal holding the staged key never seals under it.  A terminal that skipped a stage is
# refused with a clear error, never let in: its login of a re-sealed entry fails closed
# (audit reason=key_id with the detail), and --retire refuses before the directory is
# re-sealed or without a staged key.  Afterwards every value is under the new key and
# `mfauth check` is clean.  `mfauth check` reports where each machine stands at every stage:
# the key ids of its key files, the decoy's key, the entries under the old and the new key, an
# error on the terminal that missed the copy (before its first login fails) and a warning to
# retire on one that still holds the staged key.  Private mount namespace (sinkrun), as
# test-ldap-login.sh.
set -uo pipefail

build=${MFAUTH_BUILDDIR:?set MFAUTH_BUILDDIR}
src=${MFAUTH_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (root-owned key and password files, a private mount namespace)"
	exit 77
fi
for p in oathtool setpriv xxd; do
	command -v "$p" >/dev/null || { echo "SKIP: $p is not installed"; exit 77; }
done
if [ -z "${MFAUTH_LDAP_INNER:-}" ]; then
	log=$(mktemp /tmp/mfauth-ldap-rekey.XXXXXX)
	MFAUTH_LDAP_INNER=$log "$build/tests/sinkrun" "$log" bash "$0"
	rc=$?
	rm -f "$log"
	exit $rc
fi
audit=$MFAUTH_LDAP_INNER

T=$(mktemp -d /tmp/mfauth-ldap-rekey.XXXXXX)
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

# --- the stage: clerks, one key directory and one config per machine ------------------------
# 40 clerks who log in (fleet_l01..) and BULK (fleet_b001..) who make the re-seal long enough
# to stop midway; the tool re-seals in name order, the bulk first.
BULK=300
cp -a /etc "$T/etc" && mount --bind "$T/etc" /etc || { echo "cannot bind a private /etc"; exit 1; }
for i in $(seq 1 40) $(seq 101 $((100 + BULK))); do
	name=$(printf 'fleet_l%02d' "$i")
	((i > 100)) && name=$(printf 'fleet_b%03d' $((i - 100)))
	printf '%s:x:%s:%s::/nonexistent:/usr/sbin/nologin\n' "$name" $((62000 + i)) $((62000 + i))
	printf '%s:x:%s:\n' "$name" $((62000 + i)) >&3
done >>/etc/passwd 3>>/etc/group
for u in fleet_n1:62901 fleet_n2:62902 fleet_n3:62903; do
	printf '%s:x:%s:%s::/nonexistent:/usr/sbin/nologin\n' "${u%%:*}" "${u#*:}" "${u#*:}" >>/etc/passwd
	printf '%s:x:%s:\n' "${u%%:*}" "${u#*:}" >>/etc/group
done
mkdir -m 755 "$T/pam.d"
module=$build/pam_module/.libs/pam_mfauth.so
ldap_module=$build/lib/.libs/mfauth_store_ldap.so
# conf NAME DN PASSWORD: machine NAME, its key in $T/NAME/store.key, its PAM service NAME.
conf() {
	local name=$1 dn=$2 pw=$3
	mkdir -m 700 "$T/$name"
	printf '%s' "$pw" >"$T/$name/ldap.secret" && chmod 600 "$T/$name/ldap.secret"
	{
		printf 'store = ldap\nkey_file = %s/%s/store.key\nldap_uri = %s\n' "$T" "$name" \
			"$LDAP_RIG_URI_LDAPS"
		printf 'ldap_base = %s\nldap_bind_dn = %s\n' "$LDAP_RIG_BASE" "$dn"
		printf 'ldap_bind_pw_file = %s/%s/ldap.secret\nldap_ca_file = %s\n' "$T" "$name" \
			"$LDAP_RIG_CA"
		printf 'ldap_timeout = 3\ndeny = 5\nunlock_time = 0\nwindow = 1\n'
		printf 'ldap_module = %s\n' "$ldap_module"
	} >"$T/$name.conf"
	chmod 644 "$T/$name.conf"
	printf 'auth required %s conf=%s/%s.conf\naccount required %s conf=%s/%s.conf\n' \
		"$module" "$T" "$name" "$module" "$T" "$name" >"$T/pam.d/$name"
}
conf staff "$LDAP_RIG_STAFF_DN" "$LDAP_RIG_STAFF_PW"
# Two more staff machines: staff2 gets the staged key like the terminals, staff3 never does.
conf staff2 "$LDAP_RIG_STAFF_DN" "$LDAP_RIG_STAFF_PW"
conf staff3 "$LDAP_RIG_STAFF_DN" "$LDAP_RIG_STAFF_PW"
TERMS="t1 t2 t3 t4"
for i in 1 2 3 4; do
	dn=LDAP_RIG_TERM_DN_$i
	conf "t$i" "${!dn}" "$LDAP_RIG_TERM_PW"
done
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$T/pam.d/other"

mfauth() { "$build/tools/mfauth" -c "$T/staff.conf" "$@"; }
on() { local m=$1; shift; "$build/tools/mfauth" -c "$T/$m.conf" "$@"; }
seed() { printf '%s' "$1" | sha256sum | head -c 32 | tr 0-9a-f A-P | tr -d '\n'; }
seed_of() { seed "$1-$T"; }
code_of() { oathtool --totp -b -N "@$(($(date +%s) + ${2:-0}))" "$(seed_of "$1")"; }
login() {
	"$build/tests/pam/pamcheck" --confdir "$T/pam.d" --no-fail-delay "$1" "$2" <<<"$3" \
		>"$T/out.$1" 2>&1
}
# clerk: $u, a clerk no login used before (a code is good once: replay protection).
next_clerk=0
clerk() { next_clerk=$((next_clerk + 1)); printf -v u 'fleet_l%02d' "$next_clerk"; }
# logins_ok WHAT MACHINES...: one fresh clerk logs in on each machine named.
logins_ok() {
	local what=$1 m u
	shift
	for m in "$@"; do
		clerk
		check "$what: $u logs in on $m" login "$m" "$u" "$(code_of "$u")"
	done
}
not() { ! "$@"; }
# keep CMD...: run it, its output also kept in $T/said (check's own log is rewritten by the next check).
keep() { "$@" >"$T/said" 2>&1; local rc=$?; cat "$T/said"; return $rc; }
said() { grep -q -- "$1" "$T/said"; }
audited() { sleep 0.2; grep -q -- "$1" "$audit"; }
# The 8-byte key id a key file's key seals under (seal.c: SHA-256("mfauth key id" || key)).
keyid_of_file() { { printf 'mfauth key id'; cat "$1"; } | sha256sum | cut -c1-16; }
# Every entry's values as "cn attribute keyid" lines (state slot and record: the id at byte 5).
ids_in_directory() {
	ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP_RIG_URI_LDAPI" -D "$LDAP_RIG_ROOTDN" \
		-w "$LDAP_RIG_ROOTPW" -b "$LDAP_RIG_BASE" -s one '(objectClass=mfauthUser)' \
		mfauthState mfauthRecord | python3 -c '
import base64, sys
cn = ""
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith("dn: cn="):
        cn = line[7:].split(",")[0]
    elif line.startswith(("mfauthState:: ", "mfauthRecord:: ")):
        attr, _, v = line.partition(":: ")
        print(cn, attr, base64.b64decode(v)[5:13].hex())
'
}
# under ID: how many values the directory holds under key id ID.
under() { ids_in_directory | awk -v id="$1" '$3 == id' | wc -l; }
value_id() { ids_in_directory | awk -v cn="$1" -v a="$2" '$1 == cn && $2 == a { print $3 }'; }
# checked MACHINE: `mfauth check --json` on MACHINE into $T/checked.json, its exit status in crc.
# Its PAM stacks: one that check finds sound ($T/pam.d's are bare, which check calls errors), so
# the exit status tells of the keys and the store.
mkdir -m 755 "$T/check-pam.d"
printf '%s\n' 'auth requisite pam_unix.so' 'auth required pam_mfauth.so' \
	'account required pam_unix.so' 'account required pam_mfauth.so' >"$T/check-pam.d/login"
checked() {
	"$build/tools/mfauth" -c "$T/$1.conf" check --json --pam-dir "$T/check-pam.d" \
		>"$T/checked.json" 2>"$T/checked.err"
	crc=$?
}
# key_says SEVERITY SUBJECT ERE: the last check has a "key" result of that severity and subject
# whose message matches ERE.
key_says() {
	python3 -c 'import json, re, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if any(r["check"] == "key" and r["severity"] == sys.argv[2] and r["subject"] == sys.argv[3]
                  and re.search(sys.argv[4], r["message"]) for r in j) else 1)' "$T/checked.json" "$@"
}
# exits_and_says RC SEVERITY SUBJECT ERE: the last check exited RC and has that "key" result.
exits_and_says() { test "$crc" -eq "$1" && key_says "${@:2}"; }
# key_clean: the last check's "key" results are all ok or info, and there is an ok one.
key_clean() {
	python3 -c 'import json, sys
k = [r["severity"] for r in json.load(open(sys.argv[1])) if r["check"] == "key"]
sys.exit(0 if "ok" in k and set(k) <= {"ok", "info"} else 1)' "$T/checked.json"
}
# entries_under ID: entries (the decoy not counted) whose state is under key id ID.
entries_under() { ids_in_directory | awk -v id="$1" '$1 != "/decoy" && $2 == "mfauthState" && $3 == id' | wc -l; }
on_check_failure() {
	for f in "$T"/out.*; do sed "s|^|       $(basename "$f") |" "$f" | head -4; done
	[ -e "$T/checked.json" ] && grep '"check":"key"' "$T/checked.json" | sed 's|^|       check: |'
}

# --- before: one key, on every machine ---------------------------------------------------------
check "mfauth init (staff) makes the fleet's key" mfauth init
for m in $TERMS staff2 staff3; do cp -p "$T/staff/store.key" "$T/$m/store.key"; done
check "each terminal holds its own copy (root, 0400)" \
	test "$(stat -c %U:%a "$T/t1/store.key")" = root:400
old=$(keyid_of_file "$T/staff/store.key")
{
	for i in $(seq 1 40); do u=$(printf 'fleet_l%02d' "$i") && printf '%s,%s\n' "$u" "$(seed_of "$u")"; done
	for i in $(seq 1 $BULK); do u=$(printf 'fleet_b%03d' "$i") && printf '%s,%s\n' "$u" "$(seed_of "$u")"; done
} >"$T/seeds.csv"
check "import csv (staff): $((40 + BULK)) clerks" mfauth import csv <"$T/seeds.csv"
entries=$((2 * (40 + BULK) + 1)) # a record and a state per clerk, and the decoy's state
check "every value is under the key ($entries)" test "$(under "$old")" -eq $entries
logins_ok "before the rotation" $TERMS
checked t1
check "check on t1 before the rotation: the directory is under t1's key, exit 0" \
	exits_and_says 0 ok "$LDAP_RIG_BASE" "^the directory is sealed under this machine's key $old\$"
check "... the key file named by its key id, every key result ok" \
	test -n "$(key_says ok "$T/t1/store.key" "loads; key $old\$" && key_clean && echo y)"

# --- stage: a new key on the staff machine, read but never sealed under ---------------------
check "a terminal cannot retire without a staged key" not keep on t1 rekey --retire
check "... and says so" said "no staged key"
check "mfauth rekey --stage (staff)" keep mfauth rekey --stage
check "... says what to copy where" said "$T/staff/store.key.next"
check "the staged key file exists, root 0400" test "$(stat -c %U:%a "$T/staff/store.key.next")" = root:400
new=$(keyid_of_file "$T/staff/store.key.next")
check "stage again: the same staged key (idempotent)" \
	bash -c "cp '$T/staff/store.key.next' '$T/staged.copy' && '$build/tools/mfauth' -c '$T/staff.conf' rekey --stage && cmp -s '$T/staff/store.key.next' '$T/staged.copy'"
clerk
check "a staff change on the staged machine (unlock $u)" mfauth unlock "$u"
check "... is sealed under the old key, not the staged one" test "$(value_id "$u" mfauthState)" = "$old"
check "... so $u logs in on a terminal without the staged key" login t4 "$u" "$(code_of "$u")"
check "nothing in the directory is under the staged key" test "$(under "$new")" -eq 0
checked staff
check "check on the staging machine: the staged key, by its id" \
	key_says info "$T/staff/store.key.next" "^a staged key, $new: read with, never sealed under"
check "... and the directory not yet re-sealed under it" \
	key_says info "$LDAP_RIG_BASE" "^a key is staged \\($new\\); the directory is not yet re-sealed under it\$"
check "... no entry under it yet" \
	key_says info "$LDAP_RIG_BASE" "^entries under the old key $old: [0-9]+; under the new key $new: 0\$"

# --- the staged key reaches t1..t3 (t4 skips this stage) ---------------------------------------
for m in t1 t2 t3 staff2; do cp -p "$T/staff/store.key.next" "$T/$m/store.key.next"; done
logins_ok "staged key copied" $TERMS
clerk
check "$u logs in on t1, which holds the staged key" login t1 "$u" "$(code_of "$u")"
check "... and t1 sealed $u's state under the old key" test "$(value_id "$u" mfauthState)" = "$old"
check "... which t4 (old key only) opens: $u's next code there" login t4 "$u" "$(code_of "$u" 30)"
check "retire before the re-seal is refused" not keep on t1 rekey --retire
check "... with a clear error" said "not re-sealed under the new key yet"
check "... and t1 keeps both keys" test -e "$T/t1/store.key.next" -a "$(keyid_of_file "$T/t1/store.key")" = "$old"

# --- the re-seal, stopped midway, then killed ------------------------------------------------
"$build/tools/mfauth" -c "$T/staff.conf" rekey >"$T/rekey1.out" 2>&1 &
pid=$!
resealed=0
for _ in $(seq 1 400); do
	sleep 0.02
	kill -STOP "$pid" 2>/dev/null || break
	resealed=$(under "$new")
	((resealed >= 20)) && break
	kill -CONT "$pid"
done
check "the re-seal was stopped midway ($resealed of $entries values under the new key)" \
	test "$resealed" -ge 20 -a "$resealed" -lt "$entries"
check "the staff machine's staged key became its next key" \
	test -e "$T/staff/store.key.new" -a ! -e "$T/staff/store.key.next"
done_clerk=$(ids_in_directory | awk -v id="$new" '$2 == "mfauthState" && $3 == id && $1 ~ /^fleet_b/ && !found { print $1; found = 1 }')
check "a clerk already re-sealed ($done_clerk)" test -n "$done_clerk"
# mfauth check while the re-seal is stopped: before any login on t4 has failed.
n_old=$(entries_under "$old") n_new=$(entries_under "$new")
checked t4
check "check on t4 (skipped the copy), mid re-seal: an error naming the key it lacks and the count, exit 1" \
	exits_and_says 1 error "$LDAP_RIG_BASE" "^entries sealed under key $new, which this machine does not hold: $n_new \\(.*copy the staged key, $T/t4/store.key.next"
checked staff
check "check on the staging machine mid re-seal: the rotation running here, by the new key's id" \
	key_says warning "$T/staff/store.key.new" "^a rotation to key $new was interrupted or is running: run mfauth rekey to finish\$"
check "... $n_old entries under the old key, $n_new under the new" \
	key_says info "$LDAP_RIG_BASE" "^entries under the old key $old: $n_old; under the new key $new: $n_new\$"
check "... the decoy still under the old key, and no key error (it holds both keys): exit 0" \
	exits_and_says 0 info "$LDAP_RIG_BASE" "^the decoy entry is still under the old key $old"
checked t1
check "check on t1 (holds the staged key) mid re-seal: the same counts, no error, exit 0" \
	exits_and_says 0 info "$LDAP_RIG_BASE" "^entries under the old key $old: $n_old; under the new key $new: $n_new\$"
logins_ok "during the re-seal" t1 t2 t3
check "during the re-seal: $done_clerk (new key) logs in on t2" login t2 "$done_clerk" "$(code_of "$done_clerk")"
check "... and stays under the new key (t2 holds both: keeps the entry's key)" \
	test "$(value_id "$done_clerk" mfauthState)" = "$new"
# Another staff machine (both keys) enrolls while the re-seal is under way: the decoy is still
# under the old key, so the new entry is too; the resumed run must re-seal it.
check "during the re-seal: staff2 enrolls fleet_n3" \
	on staff2 enroll totp fleet_n3 --secret-stdin --no-confirm --qr none <<<"$(seed_of fleet_n3)"
check "... under the old key (the decoy's)" test "$(value_id fleet_n3 mfauthRecord)" = "$old"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
check "the killed rotation left the old key in place" \
	test "$(keyid_of_file "$T/staff/store.key")" = "$old" -a -e "$T/staff/store.key.new"
logins_ok "after the kill, before the resume" t1 t2 t3
check "t4 (skipped the stage): the re-sealed $done_clerk is refused" \
	not login t4 "$done_clerk" "$(code_of "$done_clerk" 30)"
check "audit: store_error reason=key_id, with what to do" \
	audited "user=$done_clerk factor=totp reason=key_id.*key_file.next"
check "retire after the kill is refused (the decoy is not re-sealed)" not keep on t2 rekey --retire
check "... with a clear error" said "the rotation has not finished"

# --- resumed, with logins on every terminal all along ---------------------------------------
# Clerks fleet_l25..l39, each twice at most: the second time with the next step's code.
(
	n=0
	while [ ! -e "$T/resumed.done" ] && ((n < 30)); do
		m=t$((n % 3 + 1)) u=$(printf 'fleet_l%02d' $((25 + n % 15)))
		if login "$m" "$u" "$(code_of "$u" $((n / 15 * 30)))"; then
			echo "$m $u" >>"$T/bg.ok"
		else
			echo "$m $u" >>"$T/bg.fail"
		fi
		n=$((n + 1))
	done
) &
bg=$!
check "mfauth rekey resumes and completes" keep mfauth rekey
check "... saying it resumed" said "resuming key rotation"
: >"$T/resumed.done"
wait "$bg"
check "logins on t1..t3 while the rotation resumed: $(wc -l <"$T/bg.ok" 2>/dev/null || echo 0) tried, none failed" \
	test ! -e "$T/bg.fail" -a -s "$T/bg.ok"
check "the staff machine's key is the staged key now, no .new left" \
	test "$(keyid_of_file "$T/staff/store.key")" = "$new" -a ! -e "$T/staff/store.key.new"
entries=$((entries + 2))
check "every value in the directory is under the new key ($entries), fleet_n3's too" \
	test "$(under "$new")" -eq $entries -a "$(value_id fleet_n3 mfauthRecord)" = "$new"
check "audit: rekey counted fleet_n3" audited "event=rekey result=success user= reason= users=$((41 + BULK))"
checked staff
check "check on the staging machine after the rotation: under its key, exit 0" \
	exits_and_says 0 ok "$LDAP_RIG_BASE" "^the directory is sealed under this machine's key $new\$"
check "... no .new left, every key result ok" \
	test -n "$(key_says ok "$T/staff/store.key" "loads; key $new\$" && key_clean && echo y)"
checked t1
check "check on t1 (staged key, not retired): the rotation finished, retire" \
	key_says warning "$LDAP_RIG_BASE" "^the rotation finished in the directory \\(sealed under the staged key $new\\): run mfauth rekey --retire\$"
check "... every entry under the new key" \
	key_says info "$LDAP_RIG_BASE" "^entries under the old key $old: 0; under the new key $new: $(entries_under "$new")\$"
# A staff machine whose own rotation is past the decoy: staff2's staged key also as a running
# rotation's .new (what an interruption after the decoy leaves on the machine that ran it; the
# same key staged beside it, which the key ring allows).
cp -p "$T/staff2/store.key.next" "$T/staff2/store.key.new"
checked staff2
check "check with a rotation running here past the decoy: the decoy under the new key, no error" \
	exits_and_says 0 info "$LDAP_RIG_BASE" "^the decoy entry is re-sealed under the new key $new: the rotation running here is past its second pass\$"
rm "$T/staff2/store.key.new"
checked t4
check "check on t4 (skipped the copy) after the rotation: the directory is under a key it lacks, exit 1" \
	exits_and_says 1 error "$LDAP_RIG_BASE" "^the directory is sealed under key $new, which this machine does not hold: copy the staged key \\($T/t4/store.key.next\\)"
logins_ok "re-sealed, terminals still hold both keys" t1 t2 t3
# An enrollment on a staff machine that still holds both keys: the new entry takes the decoy's
# key (the new one), not the old key this machine still seals its own changes under.
check "staff2 (both keys, not retired) enrolls fleet_n1" \
	on staff2 enroll totp fleet_n1 --secret-stdin --no-confirm --qr none <<<"$(seed_of fleet_n1)"
check "... under the new key" test "$(value_id fleet_n1 mfauthState):$(value_id fleet_n1 mfauthRecord)" = "$new:$new"
check "staff3 (old key only: skipped the stage) cannot enroll fleet_n2" \
	not keep on staff3 enroll totp fleet_n2 --secret-stdin --no-confirm --qr none <<<"$(seed_of fleet_n2)"
check "... saying the key differs" said "sealed under a different key"
check "... and fleet_n2 has no entry" test -z "$(value_id fleet_n2 mfauthState)"
entries=$((entries + 2))

# --- retire: every terminal drops the old key ----------------------------------------------------
check "t4 without the staged key cannot retire" not keep on t4 rekey --retire
check "... and says so" said "no staged key"
checked staff3
check "check on staff3 (skipped the copy): the same error" \
	key_says error "$LDAP_RIG_BASE" "^the directory is sealed under key $new, which this machine does not hold"
cp -p "$T/staff/store.key" "$T/t4/store.key.next" # t4 catches up: the key, as staged
checked t4
check "check on t4 once it holds the key: no error (exit 0), retire" \
	exits_and_says 0 warning "$LDAP_RIG_BASE" "^the rotation finished in the directory \\(sealed under the staged key $new\\)"
logins_ok "t4 caught up" t4
for m in $TERMS staff2; do
	check "$m: mfauth rekey --retire" on "$m" rekey --retire
	check "$m: its key is the new key, the old one gone" \
		test "$(keyid_of_file "$T/$m/store.key")" = "$new" -a ! -e "$T/$m/store.key.next"
done
check "audit: retire" audited "event=rekey result=success user= reason= step=retire"
for m in $TERMS staff2; do
	checked "$m"
	check "check on $m after retiring: under its key $new, no staged key, all clean, exit 0" \
		test "$crc" -eq 0 -a -n "$(key_clean && key_says ok "$LDAP_RIG_BASE" "key $new\$" && echo y)"
done
logins_ok "after the rotation, old key gone everywhere" $TERMS
check "fleet_n1 (enrolled on staff2) logs in on t1" login t1 fleet_n1 "$(code_of fleet_n1)"
check "fleet_n3 (enrolled on staff2 during the re-seal) logs in on t2" login t2 fleet_n3 "$(code_of fleet_n3)"
check "every value still under the new key" test "$(under "$new")" -eq $entries
"$build/tools/mfauth" -c "$T/staff.conf" check --json --pam-dir "$T/pam.d" >"$T/check.json"
check "mfauth check: every record decrypts" \
	grep -q "\"check\":\"record\",\"severity\":\"ok\",\"subject\":\"$LDAP_RIG_BASE\",\"message\":\"$((42 + BULK)) records decrypt" "$T/check.json"
check "mfauth check: no record or store error" \
	not grep -qE '"check":"(record|store|state)","severity":"error"' "$T/check.json"
check "a second rotation needs a stage again" not mfauth rekey

summary
