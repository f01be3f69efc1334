#!/usr/bin/env bash
# The card second factor end to end: a private pcscd with virtual My Number
# (JPKI) and PIV cards (tests/card/rig.sh), `mfauth enroll card`, and logins
# through the real PAM stack with the built module.  Audit lines are captured
# from a private /dev/log.  Checks the PIN-lock guard against the card's own
# counter, wrong and other cards, a pulled card, no reader, no pcscd, an
# expired enrollment, and that every session ends with one card reset.
# Another card of the enrolled kind is told apart by its identifier (JPKI
# certificate head, PIV CHUID) before any PIN prompt: no VERIFY reaches it.
# Prints APDUs and wall time per login (README "Smartcards" quotes them).
set -uo pipefail

build=${MFAUTH_BUILDDIR:?set MFAUTH_BUILDDIR}
src=${MFAUTH_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${MFAUTH_CARD_INNER:-}" ]; then
	log=$(mktemp /tmp/mfauth-card-audit.XXXXXX)
	MFAUTH_CARD_INNER=$log "$build/tests/sinkrun" "$log" bash "$0"
	rc=$?
	rm -f "$log"
	exit $rc
fi
audit=$MFAUTH_CARD_INNER
export MFAUTH_WAIT_CARD=${MFAUTH_WAIT_CARD:-$build/tests/card/wait_card}

T=$(mktemp -d /tmp/mfauth-card.XXXXXX)
. "$src/tests/card/rig.sh"
rig_start "$T/rig"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "cannot start a private pcscd (rig.sh exit $rc)"
	rm -rf "$T"
	exit "$rc"
fi
trap 'rig_stop "$T/rig" >/dev/null 2>&1; rm -rf "$T"' EXIT
. "$T/rig/env"

conf=$T/mfauth.conf
printf 'store_dir = %s/store\nkey_file = %s/store.key\nfactors = totp,card\ncard_wait = 2\ndeny = 10\n' \
	"$T" "$T" >"$conf"
chmod 600 "$conf"
mfauth() { "$build/tools/mfauth" -c "$conf" "$@"; }
mfauth init >/dev/null
module=$build/pam_module/.libs/pam_mfauth.so
mkdir "$T/pam.d"
printf 'auth required %s conf=%s\naccount required %s conf=%s\n' "$module" "$conf" "$module" "$conf" \
	>"$T/pam.d/svc"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$T/pam.d/other"

. "${MFAUTH_SRCDIR:-$(dirname "$0")/../..}/tests/checks.sh"
# login USER ANSWER...: each answer is one line of the conversation; output in $T/out.
login() {
	local user=$1
	shift
	printf '%s\n' "$@" | "$build/tests/pam/pamcheck" --confdir "$T/pam.d" --account \
		--no-fail-delay svc "$user" >"$T/out" 2>&1
}
out_has() { grep -q -- "$1" "$T/out"; }
tries_on_card() { sed -n 's/.*"tries_left": *\([0-9]*\).*/\1/p' "$T/rig/state.$1"; }
insert() { rig_card "$T/rig" "$@" >/dev/null 2>"$T/rig.err" || { fail "card $* did not appear"; cat "$T/rig.err"; }; }
pull() { rig_remove "$T/rig" >/dev/null 2>&1; }
apdus_since() { tail -n +"$(($1 + 1))" "$T/rig/card0.log" | grep -c '^apdu '; }
resets_since() { tail -n +"$(($1 + 1))" "$T/rig/card0.log" | grep -c '^reset'; }
no_verify_since() { ! tail -n +"$(($1 + 1))" "$T/rig/card0.log" | grep -q '^apdu 00 20 '; }
lines() { wc -l <"$T/rig/card0.log" 2>/dev/null || echo 0; }
failures_of() { mfauth show "$1" --json | sed -n 's/.*"failures":\([0-9]*\).*/\1/p'; }
# timed_login NAME USER PIN: a successful login; prints its APDUs and wall time.
# Sets before= to the card log's length before the login, for checks after it.
timed_login() {
	local name=$1 t0 t1
	shift
	before=$(lines)
	t0=$(date +%s%N)
	if login "$@"; then ok; else fail "$name login"; cat "$T/out"; fi
	t1=$(date +%s%N)
	echo "$name login: $(apdus_since "$before") APDUs, $(((t1 - t0) / 1000)) us (exec + PAM + card)"
	check "$name: one card reset per session" test "$(resets_since "$before")" = 1
}
# other_card NAME USER PIN PROFILE [OTHER_PIN]: another person's card of the enrolled kind, with
# the same PIN (or its own OTHER_PIN: the clerk types theirs, which would cost the other a try).
other_card() {
	local name=$1 user=$2 pin=$3 profile=$4 other_pin=${5:-$3} before f0
	insert "$profile" --identity other --tries 3 --pin "$other_pin"
	f0=$(failures_of "$user")
	before=$(lines)
	if login "$user" "$pin"; then fail "$name: another person's card accepted"; else ok; fi
	check "$name: message: not the card enrolled" out_has "This is not the card enrolled for this account"
	check "$name: no PIN prompt for the other card" bash -c '! grep -q "PIN" "$0"' "$T/out"
	check "$name: no VERIFY reached the other card" no_verify_since "$before"
	check "$name: the other card's counter is untouched" test "$(tries_on_card "$profile.other")" = 3
	check "$name: counted as a failed login" test "$(failures_of "$user")" = $((f0 + 1))
	sleep 0.3
	check "$name: audit reason=wrong_card" grep -q "user=$user factor=card reason=wrong_card" "$audit"
	pull
}

# --- JPKI: enroll, then log in ------------------------------------------------
insert jpki --tries 3
# Issue 12 finding 6: a My Number card needs --ca FILE or an explicit --no-ca.
check "enroll a My Number card without --ca or --no-ca is refused, nothing saved" bash -c \
	'out=$(printf "1234\n" | "$0" -c "$1" enroll card zed 2>&1); [ $? -eq 1 ] &&
	grep -q "with --no-ca to skip" <<<"$out" && ! "$0" -c "$1" show zed >/dev/null 2>&1' \
	"$build/tools/mfauth" "$conf"
check "enroll a My Number card" bash -c 'printf "1234\n" | "$0" -c "$1" enroll card alice --no-ca' \
	"$build/tools/mfauth" "$conf"
check "show: jpki card with subject and serial" \
	grep -q '"card":{"profile":"jpki","subject":"[^"]' <<<"$(mfauth show alice --json)"
check "enrollment recorded the certificate's serial and issuer" \
	grep -q '"card_check":"cert_serial"' <<<"$(mfauth show alice --json)"
before=$(lines)
t0=$(date +%s%N)
if login alice 1234; then ok; else fail "JPKI login with the right PIN"; cat "$T/out"; fi
t1=$(date +%s%N)
echo "JPKI login (exec + PAM + card): $(((t1 - t0) / 1000)) us"
check "PIN prompt names the 4-digit user authentication PIN" out_has "4-digit user authentication PIN"
check "no error message on a successful card login" bash -c '! grep -q "^\[error\]" "$0"' "$T/out"
n=$(apdus_since "$before")
echo "APDUs per JPKI login: $n"
# 6 for the login itself, 2 for the identifier (SELECT EF 000A, READ BINARY of the head)
check "a JPKI login takes at most 8 APDUs (got $n)" test "$n" -le 8
check "the identifier was read before any VERIFY" bash -c 'tail -n +"$(($0 + 1))" "$1" |
	grep "^apdu" | sed -n "2,3p" | tr "\n" " " | grep -q "00 A4 02 0C .*data=000a .*00 B0 00 00 lc=0 le=256"' \
	"$before" "$T/rig/card0.log"
check "one card reset per session (got $(resets_since "$before"))" test "$(resets_since "$before")" = 1
check "card's PIN counter back at 3 after success" test "$(tries_on_card jpki)" = 3

# --- sshd's password mode: the PIN prompt answered with the password ------------
# (the password 1234 has the PIN's shape: it must never reach the card)
printf 'auth requisite %s password=1234\nauth required %s conf=%s\n' \
	"$build/tests/pam/.libs/password_stub.so" "$module" "$conf" >"$T/pam.d/sshpw"
before=$(lines)
if printf '1234\n1234\n' | "$build/tests/pam/pamcheck" --confdir "$T/pam.d" --no-fail-delay \
	sshpw alice >"$T/out" 2>&1; then fail "the password was taken as the card PIN"; else ok; fi
check "password at the PIN prompt: the clerk is told why" out_has "password was given where the card PIN"
check "password at the PIN prompt: no VERIFY with a PIN was sent" bash -c \
	'! tail -n +"$(($0 + 1))" "$1" | grep -q "apdu 00 20 00 80 lc=4"' "$before" "$T/rig/card0.log"
check "password at the PIN prompt: the card's counter is untouched" test "$(tries_on_card jpki)" = 3
check "password at the PIN prompt: not counted" grep -q '"failures":0' <<<"$(mfauth show alice --json)"
check "password at the PIN prompt: audited reason=password_as_code factor=card" \
	grep -q 'user=alice factor=card reason=password_as_code' "$audit"

# --- wrong PIN: the card's counter goes down, the failure counts --------------
if login alice 9999; then fail "wrong PIN accepted"; else ok; fi
check "message: wrong PIN, 2 tries left" out_has "Wrong PIN. 2 tries left"
check "card's counter is 2" test "$(tries_on_card jpki)" = 2
check "the failure counted" grep -q '"failures":1' <<<"$(mfauth show alice --json)"
if login alice 9999; then fail "wrong PIN accepted"; else ok; fi
check "card's counter is 1" test "$(tries_on_card jpki)" = 1
# --- one try left: refused without VERIFY, the counter is untouched -----------
before=$(lines)
if login alice 1234 000000; then fail "login with 1 try left went through"; else ok; fi
check "message: only 1 try left, PIN not tried" out_has "Only 1 PIN try is left"
check "card's counter still 1" test "$(tries_on_card jpki)" = 1
check "no VERIFY with a PIN was sent" bash -c '! tail -n +"$(($0 + 1))" "$1" | grep -q "apdu 00 20 00 80 lc=4"' \
	"$before" "$T/rig/card0.log"
check "the guard refusal did not count as a failure" grep -q '"failures":2' <<<"$(mfauth show alice --json)"
pull

# --- a blocked card ------------------------------------------------------------
insert jpki --tries 0
if login alice 1234; then fail "blocked card accepted"; else ok; fi
check "message: PIN blocked, municipal office" out_has "municipal office"
pull

# --- another card with the same PIN: refused before the PIN prompt ------------
other_card JPKI alice 1234 jpki

# --- card pulled in the middle of a login --------------------------------------
insert jpki --tries 3 --pull-after-apdus 4
if login alice 1234; then fail "login with a card pulled mid-way succeeded"; else ok; fi
check "the pulled card's session was still reset" bash -c 'tail -n 3 "$0" | grep -q "Error resetting card\|reset"' \
	"$T/rig/pcscd.log"
pull
# vpcd's reader stays wedged after a reset of a card that vanished (an emulator
# limit; real readers answer "no card"): the clerk uses the second reader.
rig_card "$T/rig" jpki --tries 3 --slot 1 >/dev/null 2>&1 || fail "card in the second reader"
if login alice 1234; then ok; else fail "login after the pulled card"; cat "$T/out"; fi
check "success resets the failures" grep -q '"failures":0' <<<"$(mfauth show alice --json)"
rig_remove "$T/rig" --slot 1 >/dev/null 2>&1
rig_stop "$T/rig" >/dev/null 2>&1
rig_start "$T/rig" >/dev/null 2>&1 || fail "rig restart"

# --- PIV: RSA and EC ------------------------------------------------------------
insert piv-rsa --tries 3
check "enroll a PIV RSA card" bash -c 'printf "123456\n" | "$0" -c "$1" enroll card bob --profile piv' \
	"$build/tools/mfauth" "$conf"
check "enrollment recorded the CHUID" grep -q '"card_check":"chuid"' <<<"$(mfauth show bob --json)"
timed_login PIV-RSA bob 123456
check "PIV prompt" out_has "Card PIN"
# 6 for the login itself, 1 for the CHUID's head (GET DATA; its 61xx rest is not fetched)
check "a PIV-RSA login takes at most 7 APDUs" test "$(apdus_since "$before")" -le 7
if login bob 654321; then fail "PIV wrong PIN accepted"; else ok; fi
check "PIV card's counter is 2 after a wrong PIN" test "$(tries_on_card piv-rsa)" = 2
# a PIN that is not 6-8 digits: refused on the host, no VERIFY with data, nothing counted
f0=$(failures_of bob)
before=$(lines)
if login bob 12345a; then fail "a non-digit PIV PIN accepted"; else ok; fi
check "message: the PIN is 6 to 8 digits" out_has "The PIN is 6 to 8 digits"
check "no VERIFY with a PIN for a non-digit PIN" bash -c '! tail -n +"$(($0 + 1))" "$1" | grep -q "apdu 00 20 00 80 lc=8"' \
	"$before" "$T/rig/card0.log"
check "a non-digit PIN is not counted as a failure" test "$(failures_of bob)" = "$f0"
check "the card's counter is untouched by a non-digit PIN" test "$(tries_on_card piv-rsa)" = 2
pull
other_card PIV-RSA bob 123456 piv-rsa 13572468
# a card that answers only to the full AID with version
insert piv-rsa --tries 3 --full-aid-only
before=$(lines)
if login bob 123456; then ok; else fail "PIV login on a full-AID-only card"; cat "$T/out"; fi
check "full-AID-only card: the second SELECT names the full AID" bash -c 'tail -n +"$(($0 + 1))" "$1" |
	grep -q "apdu 00 A4 04 00 lc=11 le=256 sw=9000 data=a000000308000010000100"' \
	"$before" "$T/rig/card0.log"
pull
# a card that reports tries as 63 0X: X tries left (the PIV quirk), counted as usual
insert piv-rsa --tries 3 --tries-sw 630x
if login bob 654321; then fail "PIV wrong PIN accepted (630x card)"; else ok; fi
check "630x card: wrong PIN, 2 tries left" out_has "Wrong PIN. 2 tries left"
if login bob 123456; then ok; else fail "PIV login on a 630x card"; cat "$T/out"; fi
pull
insert piv-ec --tries 3
check "enroll a PIV EC card" bash -c 'printf "123456\n" | "$0" -c "$1" enroll card carol' \
	"$build/tools/mfauth" "$conf"
timed_login PIV-EC carol 123456
check "a PIV-EC login takes at most 5 APDUs" test "$(apdus_since "$before")" -le 5
if login bob 123456; then fail "carol's card accepted for bob"; else ok; fi
pull
other_card PIV-EC carol 123456 piv-ec
# a PIV card without a CHUID: told apart by its certificate's public key
insert piv-ec --tries 3 --chuid absent --state "$T/rig/state.nochuid"
check "enroll a PIV card without a CHUID" bash -c 'printf "123456\n" | "$0" -c "$1" enroll card carol2' \
	"$build/tools/mfauth" "$conf"
check "enrollment without a CHUID compares the public key" \
	grep -q '"card_check":"public_key"' <<<"$(mfauth show carol2 --json)"
timed_login PIV-EC-no-CHUID carol2 123456
pull

# --- an enrollment made before card identifiers still works ----------------------
insert jpki --tries 3
check "enroll frank" bash -c 'printf "1234\n" | "$0" -c "$1" enroll card frank --no-ca' "$build/tools/mfauth" "$conf"
check "make frank's record an old-format one (no identifier)" /usr/bin/python3 "$src/tests/card/old_record.py" \
	"$T/store.key" "$T/store/frank.rec" frank
check "old record: show says legacy" grep -q '"card_check":"legacy_public_key"' <<<"$(mfauth show frank --json)"
timed_login JPKI-old-enrollment frank 1234
sleep 0.3
check "audit: old enrollment compared the public key" \
	grep -q 'result=success user=frank factor=card .*card_check=legacy_public_key' "$audit"
pull
other_card JPKI-old-enrollment frank 1234 jpki 5678

# --- card_profiles: a card type that is not allowed is not used ----------------
insert jpki --tries 3
printf 'auth required %s conf=%s card_profiles=piv\n' "$module" "$conf" >"$T/pam.d/pivonly"
printf '%s\n' 1234 | "$build/tests/pam/pamcheck" --confdir "$T/pam.d" --no-fail-delay pivonly alice \
	>"$T/out" 2>&1 && fail "a JPKI card was used with card_profiles=piv" || ok
check "card_profiles=piv: no PIN prompt for a JPKI card" bash -c '! grep -q "PIN" "$0"' "$T/out"
check "card_profiles=piv: the code prompt instead" out_has "Verification code"
pull

# --- the card only at the terminal: a remote login does not touch it -------------
# (card_remote = no, the default).  alice has only the card; remy the card and a TOTP seed.
insert jpki --tries 3
# remote_login USER "PAMCHECK OPTIONS" ANSWER...: output in $T/out.
remote_login() {
	local user=$1 opts=$2
	shift 2
	# shellcheck disable=SC2086 # the options are words
	printf '%s\n' "$@" | "$build/tests/pam/pamcheck" --confdir "$T/pam.d" --account --no-fail-delay \
		$opts "${svc:-svc}" "$user" >"$T/out" 2>&1
}
# No APDU since $1 (pcscd itself may power an idle card up or down: no application's doing).
not_touched() { test "$(apdus_since "$1")" = 0; }
f0=$(failures_of alice)
before=$(lines)
if remote_login alice "--rhost 192.0.2.7" 1234 000000; then fail "card-only, remote: logged in"; else ok; fi
check "card-only, remote (PAM_RHOST): refused, the reason told" \
	out_has "The card can be used only at the terminal, and this account has no authenticator code"
check "card-only, remote: no PIN prompt, no code prompt" bash -c '! grep -q "PIN: \|Verification code" "$0"' "$T/out"
check "card-only, remote: no APDU reached the card" not_touched "$before"
check "card-only, remote: the card's counter is untouched" test "$(tries_on_card jpki)" = 3
check "card-only, remote: not counted as a failure" test "$(failures_of alice)" = "$f0"
sleep 0.3
check "audit: result=fail reason=card_remote remote=rhost" \
	grep -q "event=auth result=fail user=alice factor=card reason=card_remote .*remote=rhost" "$audit"
before=$(lines)
if remote_login alice "--tty ssh" 1234; then fail "card-only, PAM_TTY ssh: logged in"; else ok; fi
check "card-only, PAM_TTY ssh: the card was not touched" not_touched "$before"
before=$(lines)
if SSH_CONNECTION="192.0.2.7 50000 192.0.2.1 22" remote_login alice "" 1234; then
	fail "card-only, su-like login inside an ssh session (SSH_CONNECTION): logged in"; else ok; fi
check "card-only, SSH_CONNECTION in the environment: the card was not touched" not_touched "$before"
sleep 0.3
check "audit: remote=ssh_env for the login inside an ssh session" \
	grep -q "user=alice factor=card reason=card_remote .*remote=ssh_env" "$audit"
# the card and a TOTP seed: the code prompt, with one line saying why
check "enroll remy's card" bash -c 'printf "1234\n" | "$0" -c "$1" enroll card remy --no-ca' \
	"$build/tools/mfauth" "$conf"
rseed=KRUGKIDROVUWG2ZAMJZG653OEBTG66BANJ2W24DTEBXXMZLSEB2GQZJAGRQXU6JAMRXWOCQ
printf 'remy,%s\n' "$rseed" | mfauth import csv >/dev/null
before=$(lines)
if remote_login remy "--rhost 192.0.2.7" "$(oathtool --totp -b "$rseed")"; then ok; else
	fail "card + TOTP, remote: the code did not log in"; cat "$T/out"; fi
check "card + TOTP, remote: the notice before the code prompt" \
	out_has "The card can be used only at the terminal. Enter your authenticator code."
check "card + TOTP, remote: no PIN prompt" bash -c '! grep -q "PIN: " "$0"' "$T/out"
check "card + TOTP, remote: the card was not touched" not_touched "$before"
sleep 0.3
check "audit: the card skipped (reason=card_remote), then a TOTP success" bash -c \
	'grep -q "event=auth result=skip user=remy factor=card reason=card_remote" "$0" &&
	grep -q "event=auth result=success user=remy factor=totp" "$0"' "$audit"
# card_remote = yes (module argument): the card again, for the same remote login
printf 'auth required %s conf=%s card_remote=yes\naccount required %s conf=%s\n' \
	"$module" "$conf" "$module" "$conf" >"$T/pam.d/remote"
before=$(lines)
if svc=remote remote_login alice "--rhost 192.0.2.7" 1234; then ok; else
	fail "card_remote=yes: the card did not log in"; cat "$T/out"; fi
check "card_remote=yes, remote: the PIN prompt, the card used" bash -c \
	'grep -q "4-digit user authentication PIN" "$0" && ! grep -q "only at the terminal" "$0"' "$T/out"
check "card_remote=yes, remote: APDUs reached the card" test "$(apdus_since "$before")" -gt 0
before=$(lines)
if login alice 1234; then ok; else fail "local login after the remote ones"; cat "$T/out"; fi
check "a local login (no PAM_RHOST, tty pts/demo) still uses the card" test "$(apdus_since "$before")" -gt 0
pull


insert jpki --tries 3 --cert expired
check "enroll refuses an expired certificate" bash -c '! printf "1234\n" | "$0" -c "$1" enroll card dave --no-ca' \
	"$build/tools/mfauth" "$conf"
check "nothing saved for dave" bash -c '! "$0" -c "$1" show dave' "$build/tools/mfauth" "$conf"
pull
insert jpki --tries 3
check "enroll refuses a wrong PIN" bash -c '! printf "0000\n" | "$0" -c "$1" enroll card erin --no-ca' \
	"$build/tools/mfauth" "$conf"
check "nothing saved for erin" bash -c '! "$0" -c "$1" show erin' "$build/tools/mfauth" "$conf"

# --- expired enrollment at login (the clock moved past notAfter) ------------------
if command -v faketime >/dev/null; then
	printf '%s\n' 1234 000000 | ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 faketime '+7 years' "$build/tests/pam/pamcheck" --confdir "$T/pam.d" \
		--no-fail-delay svc alice >"$T/out" 2>&1 && fail "expired enrollment accepted" || ok
	check "message: certificate expired, re-enroll" out_has "expired on"
else
	fail "faketime is missing (apt-get install faketime)"
fi
pull

# --- no card: a user with a TOTP factor too gets the code prompt -------------------
seed=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
printf 'alice,%s\n' "$seed" | mfauth import csv >/dev/null
if login alice "$(oathtool --totp -b "$seed")"; then ok; else fail "no card: TOTP fallback"; cat "$T/out"; fi
check "message: no card found, enter a code" out_has "No card found"
if login bob 123456 000000; then fail "card-only user without a card got in"; else ok; fi

# --- no pcscd at all ------------------------------------------------------------------
rig_stop "$T/rig" >/dev/null 2>&1
if login alice "$(oathtool --totp -b -N "@$(($(date +%s) + 30))" "$seed")"; then ok; else
	fail "no pcscd: TOTP fallback"; cat "$T/out"; fi
if login bob 123456 000000; then fail "no pcscd: card-only user got in"; else ok; fi
sleep 0.3
# The PINs typed above, as whole words, with each line's "ident[pid]:" taken off first
# (a pid such as 31234 is not a PIN) and times kept as numbers ("...9999" inside one).
check "audit: no PIN anywhere" bash -c \
	'! sed -E "s/^[^]]*\[[0-9]+\]: //" "$0" | grep -qwE "1234|123456|9999"' "$audit"
check "audit: card success with factor=card" grep -q 'event=auth result=success user=bob factor=card' "$audit"

summary
