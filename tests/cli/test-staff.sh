#!/usr/bin/env bash
# Security staff's commands through the real tool and the real PAM stack:
# recovery codes, unlock, root-only refusal, audit lines (captured from a
# private /dev/log), and key rotation -- including a rotation killed with
# SIGKILL at random points, after which logins and records must still work.
set -uo pipefail

build=${MFAUTH_BUILDDIR:?set MFAUTH_BUILDDIR}
if [ -z "${MFAUTH_STAFF_INNER:-}" ]; then
	log=$(mktemp /tmp/mfauth-staff-audit.XXXXXX)
	MFAUTH_STAFF_INNER=$log "$build/tests/sinkrun" "$log" bash "$0"
	rc=$?
	rm -f "$log"
	exit $rc
fi
audit=$MFAUTH_STAFF_INNER

T=$(mktemp -d /tmp/mfauth-staff.XXXXXX)
trap 'rm -rf "$T"' EXIT
conf=$T/mfauth.conf
printf 'store_dir = %s/store\nkey_file = %s/store.key\ndeny = 3\nunlock_time = 0\n' "$T" "$T" >"$conf"
chmod 600 "$conf"
mfauth() { "$build/tools/mfauth" -c "$conf" "$@"; }
mkdir "$T/pam.d"
module=$build/pam_module/.libs/pam_mfauth.so
printf 'auth required %s conf=%s\naccount required %s conf=%s\n' "$module" "$conf" "$module" "$conf" \
	>"$T/pam.d/svc"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$T/pam.d/other"

. "${MFAUTH_SRCDIR:-$(dirname "$0")/../..}/tests/checks.sh"
login() {    # login USER CODE -> exit 0 on PAM success
	"$build/tests/pam/pamcheck" --confdir "$T/pam.d" --account --no-fail-delay svc "$1" <<<"$2"
}
seed_of() { sed -n "s/^$1,//p" "$T/seeds"; }
code_of() { oathtool --totp -b -N "@$(($(date +%s) + ${2:-0}))" "$(seed_of "$1")"; }

mfauth init >/dev/null
for i in $(seq 1 30); do
	printf 'u%d,%s\n' "$i" "$(head -c 20 /dev/urandom | base32 | tr -d '=')"
done >"$T/seeds"
check "import 30 users" mfauth import csv <"$T/seeds"

# --- recovery codes
out=$(mfauth recovery u1 --ttl 1h --reason "lost phone") || true
code=$(printf '%s\n' "$out" | tail -n 1)
check "recovery code on the last line" grep -qE '^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$' <<<"$code"
check "recovery code logs in" login u1 "$code"
check "recovery code works once" bash -c '! "$0" --confdir "$1" --no-fail-delay svc u1 <<<"$2"' \
	"$build/tests/pam/pamcheck" "$T/pam.d" "$code"
check "recovery --ttl 8d refused (usage)" bash -c '"$0" -c "$1" recovery u1 --ttl 8d; [ $? -eq 2 ]' \
	"$build/tools/mfauth" "$conf"
check "recovery for an unknown user fails" bash -c '"$0" -c "$1" recovery nobody; [ $? -eq 1 ]' \
	"$build/tools/mfauth" "$conf"
sleep 0.2
check "audit: recovery_issued with operator and reason" \
	grep -q 'event=recovery_issued result=success user=u1 .*note="lost\\x20phone" op_uid=0' "$audit"
check "audit: recovery_used" grep -q 'event=recovery_used result=success user=u1' "$audit"
check "audit: the recovery code never logged" bash -c '! grep -qF "$0" "$1"' "$code" "$audit"
check "audit: no seed logged" bash -c '! grep -qF "$(cut -d, -f2 "$0" | head -n 1)" "$1"' "$T/seeds" "$audit"

# --- lockout and unlock (deny = 3, unlock_time = 0: only staff unlock)
for _ in 1 2 3; do login u2 000000 >/dev/null 2>&1; done
check "locked after 3 failures" grep -q '"locked":true' <<<"$(mfauth show u2 --json)"
check "locked until staff unlock" grep -q '"locked_until":null,"locked_until_staff":true' \
	<<<"$(mfauth show u2 --json)"
check "a good code is refused while locked" bash -c '! "$0" --confdir "$1" --no-fail-delay svc u2 <<<"$2"' \
	"$build/tests/pam/pamcheck" "$T/pam.d" "$(code_of u2)"
check "unlock" mfauth unlock u2 --reason "called the help desk"
check "unlocked in show" grep -q '"locked":false' <<<"$(mfauth show u2 --json)"
check "failures cleared" grep -q '"failures":0' <<<"$(mfauth show u2 --json)"
check "login after unlock" login u2 "$(code_of u2 30)"
sleep 0.2
check "audit: unlock with reason" \
	grep -q 'event=unlock result=success user=u2 .*note="called\\x20the\\x20help\\x20desk"' "$audit"
check "audit: lock event" grep -q 'event=lock result=locked user=u2' "$audit"
check "unlock --ttl refused (usage: only recovery takes it)" \
	bash -c '"$0" -c "$1" unlock u2 --ttl 1h 2>"$2"; [ $? -eq 2 ] &&
	    grep -qx "mfauth: usage: mfauth unlock USER \[--reason TEXT\]" "$2"' \
	"$build/tools/mfauth" "$conf" "$T/unlock-ttl.err"
check "unlock of an unknown user fails" bash -c '"$0" -c "$1" unlock nobody; [ $? -eq 1 ]' \
	"$build/tools/mfauth" "$conf"

# --- where a failure came from is shown, never replayed to the terminal (issue 12 finding 5)
# PAM_SERVICE, PAM_TTY and PAM_RHOST are the application's (or a remote
# client's) bytes: ESC, BEL, CSI (C1 0x9b), invalid UTF-8, through a real failure.
hsvc=$'svc\e]0;pwned\a'
cp "$T/pam.d/svc" "$T/pam.d/$hsvc"
"$build/tests/pam/pamcheck" --confdir "$T/pam.d" --no-fail-delay --tty $'\e[2J\e[31mtty\a' \
	--rhost $'h\x9b31m\xff\xfe\xc3(\e[0m' "$hsvc" u3 <<<000000 >/dev/null 2>&1
mfauth show u3 >"$T/show.txt"
mfauth show u3 --json >"$T/show.json"
check "show: the failure is there" grep -q '^failures:      1 ' "$T/show.txt"
check "show: no control or non-ASCII byte in the text output" \
	bash -c '[ "$(LC_ALL=C tr -d "\n -~" <"$0" | wc -c)" -eq 0 ]' "$T/show.txt"
check "show: items shown with '?' for each unsafe byte" grep -qF \
	'service=svc?]0;pwned? tty=?[2J?[31mtty? rhost=h?31m???(?[0m)' "$T/show.txt"
check "show --json: no raw control byte, valid JSON, values escaped not lost" python3 -c '
import json, sys
raw = open(sys.argv[1], "rb").read()
assert not any(b < 0x20 and b != 0x0a or b == 0x7f for b in raw), raw
d = json.loads(raw.decode("utf-8"))
assert d["last_failure_service"] == "svc\x1b]0;pwned\x07", d
assert d["last_failure_tty"] == "\x1b[2J\x1b[31mtty\x07", d
assert d["last_failure_rhost"] == "h\ufffd31m\ufffd\ufffd\ufffd(\x1b[0m", d
' "$T/show.json"

# --- root only
check "non-root is refused with a message" bash -c \
	'out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$0" -c "$1" list 2>&1); [ $? -eq 1 ] && grep -q "must be run as root" <<<"$out"' \
	"$build/tools/mfauth" "$conf"

# --- key rotation
key_before=$(sha256sum <"$T/store.key")
check "rekey" mfauth rekey
check "key changed" bash -c '[ "$(sha256sum <"$0")" != "$1" ]' "$T/store.key" "$key_before"
check "no .new key left" test ! -e "$T/store.key.new"
check "key mode 0400" bash -c '[ "$(stat -c %a "$0")" = 400 ]' "$T/store.key"
check "every record loads after rekey" bash -c '[ "$("$0" -c "$1" list --json | grep -o "\"user\"" | wc -l)" = 30 ]' \
	"$build/tools/mfauth" "$conf"
check "login after rekey" login u3 "$(code_of u3)"

# Rekey killed at random points: records and logins keep working, and a
# final run completes.
next=4
for i in $(seq 1 12); do
	"$build/tools/mfauth" -c "$conf" rekey >/dev/null 2>&1 &
	pid=$!
	sleep "0.0$((RANDOM % 10))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if ! "$build/tools/mfauth" -c "$conf" list --json >/dev/null 2>&1; then
		failed=$((failed + 1))
		echo "FAIL: store unreadable after rekey killed (round $i)"
	fi
	if [ "$next" -le 30 ]; then
		if ! login "u$next" "$(code_of "u$next")" >/dev/null 2>&1; then
			failed=$((failed + 1))
			echo "FAIL: login u$next after rekey killed (round $i)"
		else
			passed=$((passed + 1))
		fi
		next=$((next + 1))
	fi
done
check "rekey completes after interruptions" mfauth rekey
check "no .new key after completion" test ! -e "$T/store.key.new"
check "all 30 records load" bash -c '[ "$("$0" -c "$1" list --json | grep -o "\"user\"" | wc -l)" = 30 ]' \
	"$build/tools/mfauth" "$conf"
check "login with the final key" login u30 "$(code_of u30 30)"
sleep 0.2
check "audit: rekey" grep -q 'event=rekey result=success user= reason= users=30' "$audit"

# A staged key (mfauth rekey --stage, for a fleet) on a files store: rekey takes it as its new
# key; --retire is a fleet's step, refused here.
check "rekey --stage" mfauth rekey --stage
check "the staged key is root's, 0400" bash -c '[ "$(stat -c %U:%a "$0")" = root:400 ]' "$T/store.key.next"
staged=$(sha256sum <"$T/store.key.next")
check "rekey --retire on a files store is a usage error" \
	bash -c '"$0" -c "$1" rekey --retire; [ $? -eq 2 ]' "$build/tools/mfauth" "$conf"
check "rekey takes the staged key" mfauth rekey
check "... which is the key now, nothing left beside it" bash -c \
	'[ "$(sha256sum <"$0")" = "$1" ] && [ ! -e "$0.next" ] && [ ! -e "$0.new" ]' "$T/store.key" "$staged"
check "login after the staged rotation" login u20 "$(code_of u20 30)"

summary
