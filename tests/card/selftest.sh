#!/bin/bash
# selftest.sh [WORKDIR] - prove the PC/SC rig works end to end, with our own clients only
# (card_checks.py/apdu_client.py on libpcsclite via ctypes, wait_card.c): a private pcscd,
# JPKI / PIV-RSA / PIV-EC virtual cards, PIN counters that persist across card restarts,
# signatures verified against the certificates, 61 xx and command chaining, removal and a card
# pulled mid-session, then a clean stop with no process left. Prints timings and
# "N passed, N failed"; exit 0 when everything passed, 1 otherwise, 77 when the rig cannot run
# here (no user namespaces and not root).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RIG=$HERE/rig.sh
PY=/usr/bin/python3
# shellcheck source=rig.sh
. "$RIG"

DIR=${1:-}
own_dir=
if [[ -z $DIR ]]; then
	DIR=$(mktemp -d "${TMPDIR:-/tmp}/mfauth-selftest.XXXXXX") || exit 99
	own_dir=1
fi
mkdir -p "$DIR" && DIR=$(cd "$DIR" && pwd) || exit 99
KEYS=$DIR/keys
passed=0 failed=0

pass() { passed=$((passed + 1)); echo "ok - $*"; }
fail() { failed=$((failed + 1)); echo "not ok - $*"; }
expect() { # expect DESC CMD...: the command must succeed
	local desc=$1; shift
	if "$@"; then pass "$desc"; else fail "$desc (status $?)"; fi
}
ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }
checks() { # run a card_checks.py scenario and count its ok / not ok lines
	local out line rc
	out=$("$PY" "$HERE/card_checks.py" "$@" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) passed=$((passed + 1)); echo "$line" ;;
		"not ok - "*) failed=$((failed + 1)); echo "$line" ;;
		"time "*) timings+=("${line#time }"); echo "# $line" ;;
		*) echo "# $line" ;;
		esac
	done <<<"$out"
	if ((rc != 0)) && ! grep -q '^not ok' <<<"$out"; then
		fail "card_checks.py $1 exited $rc"
	fi
}
timings=()
# stray_check DESC PATTERN: no pcscd / vcard / wait_card process mentions PATTERN any more
stray_check() {
	local f pid cmd found=()
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}; pid=${pid%/cmdline}
		[[ $pid == "$$" || $pid == "${BASHPID:-$$}" ]] && continue
		cmd=$(tr '\0' ' ' 2>/dev/null <"$f") || continue
		[[ $cmd == *"$2"* && $cmd =~ pcscd|vcard\.py|wait_card ]] && rig__alive "$pid" &&
			found+=("$pid:${cmd:0:80}")
	done
	if ((${#found[@]})); then fail "$1: ${found[*]}"; else pass "$1"; fi
}
cleanup() {
	rig_stop "$DIR" >/dev/null 2>&1
	[[ -n ${nobody_dir:-} ]] && rm -rf "$nobody_dir"
	[[ -n $own_dir ]] && rm -rf "$DIR"
}
trap cleanup EXIT

# Keys first, so that start time is the rig's own cost (generation runs once per test run).
t=$(ms); "$PY" "$HERE/make_keys.py" --key-dir "$KEYS" || exit 99
echo "# make_keys: $(($(ms) - t)) ms"

t=$(ms); MFAUTH_WAIT_CARD=$(rig__helper "$DIR") || exit 99
export MFAUTH_WAIT_CARD
echo "# wait_card helper: $MFAUTH_WAIT_CARD ($(($(ms) - t)) ms)"

t=$(ms)
rig_start "$DIR" --keys "$KEYS"
rc=$?
if ((rc == 77)); then echo "# SKIP: the rig cannot run here"; exit 77; fi
((rc == 0)) || { echo "not ok - rig_start failed ($rc)"; echo "0 passed, 1 failed"; exit 1; }
echo "# rig start (mode $MFAUTH_RIG_MODE, ports $MFAUTH_RIG_PORT/$((MFAUTH_RIG_PORT + 1))): $(($(ms) - t)) ms"
timings+=("rig_start_ms $(($(ms) - t))")
pass "rig started; PCSCLITE_CSOCK_NAME=$PCSCLITE_CSOCK_NAME"
checks readers

# --- JPKI ---
t=$(ms); expect "JPKI card inserted" rig_card "$DIR" jpki
timings+=("card_insert_ms $(($(ms) - t))")
checks rtt --n 1000
checks jpki-basic --tries 3
checks jpki-verify --pin 9999 --expect 63C2
expect "card removed" rig_remove "$DIR"
t=$(ms); expect "JPKI card re-inserted (new process, same state file)" rig_card "$DIR" jpki
timings+=("card_reinsert_ms $(($(ms) - t))")
checks jpki-tries --expect 2
if grep -q '"tries_left": 2' "$DIR/state.jpki"; then pass "state file keeps tries_left 2"; else fail "state file: $(cat "$DIR/state.jpki")"; fi
checks jpki-login --pin 1234 --tries 2
if awk '/^apdu 80 2A/ { s = 1 } s && /^(reset|power-down)/ { r = 1 } END { exit !r }' "$DIR/card0.log"; then
	pass "SCARD_RESET_CARD reached the card after SIGN (event log)"
else
	fail "no reset/power-down after SIGN in card0.log"
fi
if grep '^apdu 00 20' "$DIR/card0.log" | grep -qv 'not logged'; then
	fail "VERIFY data leaked into the card event log"
else
	pass "card event log never contains VERIFY data"
fi
checks removal --rig "$RIG" --dir "$DIR"

expect "JPKI card with a fresh counter" rig_card "$DIR" jpki --state "$DIR/state.block" --tries 3
checks jpki-block
expect "blocked card removed" rig_remove "$DIR"
expect "blocked card re-inserted" rig_card "$DIR" jpki --state "$DIR/state.block"
checks jpki-tries --expect blocked
expect "blocked card removed" rig_remove "$DIR"
expect "blocked card answering 63 C0" rig_card "$DIR" jpki --state "$DIR/state.block" --blocked-sw 63c0
checks jpki-tries --expect 0
expect "blocked card removed" rig_remove "$DIR"

expect "other JPKI card with an expired certificate" rig_card "$DIR" jpki --identity other --expired
checks cert --key-name other-rsa --cert-variant expired
expect "other card removed" rig_remove "$DIR"

# --- PIV: RSA in reader 0 and EC (gzip certificate) in reader 1 at the same time ---
expect "PIV RSA card inserted in reader 0" rig_card "$DIR" piv-rsa
expect "PIV EC card inserted in reader 1" rig_card "$DIR" piv-ec --slot 1 --gzip-cert
checks piv-login --key-name piv-rsa --pin 123456
checks piv-login --reader "$MFAUTH_RIG_READER1" --key-name piv-ec --pin 123456 --gzip
expect "PIV EC card removed from reader 1" rig_remove "$DIR" --slot 1
expect "PIV EC card with a fresh counter" rig_card "$DIR" piv-ec --slot 1 --state "$DIR/state.pivblock" --tries 3
checks piv-block --reader "$MFAUTH_RIG_READER1" --pin 123456
expect "PIV cards removed" rig_remove "$DIR" --slot 1
expect "PIV RSA card removed" rig_remove "$DIR"

# --- a card pulled mid-session ---
expect "JPKI card that is pulled after 3 APDUs" rig_card "$DIR" jpki --pull-after-apdus 3
checks pull --n 3
expect "pulled card's process is gone" "$MFAUTH_WAIT_CARD" gone -t 2000 "$(cat "$DIR/card0.pid")"
expect "reader 0 empty after the pull" rig_remove "$DIR"

# --- a card that cannot reach vpcd exits non-zero instead of hanging or exiting 0 ---
"$PY" "$HERE/vcard.py" --port 1 --profile jpki --key-dir "$KEYS" --connect-timeout 0.2 2>/dev/null
rc=$?
if ((rc == 3)); then pass "vcard exits 3 when vpcd is unreachable"; else fail "vcard unreachable vpcd: status $rc"; fi

# --- stop: everything gone ---
run=$(cat "$DIR/rundir")
t=$(ms); expect "rig stopped" rig_stop "$DIR"
timings+=("rig_stop_ms $(($(ms) - t))")
stray_check "no pcscd/vcard/wait_card left for $DIR" "$DIR"
if [[ -e $run ]]; then fail "private run dir $run left behind"; else pass "private run dir removed"; fi

# --- owner watch: a rig started for a process dies with it (command mode, as a C test would) ---
sleep 30 &
owner=$!
expect "rig started for owner $owner" "$RIG" start "$DIR/owned" --keys "$KEYS" --owner "$owner"
keeper=$(cat "$DIR/owned/keeper.pid" 2>/dev/null) pcscd=$(cat "$DIR/owned/pcscd.pid" 2>/dev/null)
kill "$owner"; wait "$owner" 2>/dev/null
expect "pcscd and keeper exit when the owner dies" "$MFAUTH_WAIT_CARD" gone -t 3000 "$keeper" "$pcscd"
stray_check "nothing left of the owned rig" "$DIR/owned"
"$RIG" stop "$DIR/owned" >/dev/null 2>&1

# --- a normal user gets a rig too (user namespace), and a refused one says so with 77 ---
if ((EUID == 0)) && id nobody >/dev/null 2>&1; then
	nobody_dir=$(mktemp -d /tmp/mfauth-selftest-nobody.XXXXXX)
	cp -r "$KEYS" "$nobody_dir/keys"
	chown -R nobody "$nobody_dir"
	as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups env -u MFAUTH_WAIT_CARD HOME=/ TMPDIR=/tmp)
	# shellcheck disable=SC2016  # expanded by the inner shells
	out=$("${as_nobody[@]}" bash -c '
		"$1" run "$2/rig" --keys "$2/keys" -- bash -c "
			\"\$0\" card \"\$MFAUTH_RIG_DIR\" jpki && /usr/bin/python3 \"\$1\" jpki-tries --expect 3" "$1" "$3"
		' sh "$RIG" "$nobody_dir" "$HERE/card_checks.py" 2>&1)
	rc=$?
	if ((rc == 0)) && grep -q '^ok - JPKI tries left' <<<"$out"; then
		pass "uid nobody: rig.sh run + card + query in a user namespace"
	else
		fail "uid nobody rig (status $rc): $(tr '\n' ' ' <<<"$out")"
	fi
	out=$("${as_nobody[@]}" env MFAUTH_RIG_MODE=mountns "$RIG" start "$nobody_dir/refused" 2>&1)
	rc=$?
	if ((rc == 77)) && grep -q 'cannot run a private pcscd' <<<"$out"; then
		pass "no usable isolation: loud message and exit 77"
	else
		fail "refused rig: status $rc: $out"
	fi
	stray_check "nothing left of the nobody rigs" "$nobody_dir"
fi

echo "# timings:"
for t in "${timings[@]}"; do echo "#   $t"; done
echo "$passed passed, $failed failed"
((failed == 0))
