# Fault injection, shared by tests/fault/test-fault-*.sh (sourced, bash).
#
# Each test runs one operation (a login, an enrollment, an unlock, a rekey)
# once to count the calls our code makes to the functions faultshim.so
# interposes (tests/fault/faultshim.c), then once per call N with call N
# failing, and checks after each: the result is a failure (or, for the admin
# commands, a complete success), the store loads, and the next normal
# operation works.  The clock is the shim's (MFAUTH_FAULT_NOW): every round
# gets time steps of its own, so no sleeping and no replays between rounds.
#
# Works in the sanitizer build too: the shim goes first in LD_PRELOAD, with
# ASan's link-order check off.  MFAUTH_FAULT_STRIDE=S tries every S-th call
# only: default 1 (every call), 3 in the sanitizer build (to keep it near a
# minute); the log says how many were tried.

build=${MFAUTH_BUILDDIR:?set MFAUTH_BUILDDIR}
SHIM=$build/tests/fault/.libs/faultshim.so
MFAUTH_BIN=$build/tools/mfauth
PAMCHECK=$build/tests/pam/pamcheck
MODULE=$build/pam_module/.libs/pam_mfauth.so

if [ ! -r "$SHIM" ]; then
	echo "faultshim not built: $SHIM"
	exit 99
fi
if ! command -v oathtool >/dev/null; then
	echo "oathtool missing (apt-get install oathtool)"
	exit 99
fi
# An ASan build refuses a preload ahead of its runtime unless told not to check.
# (Not `ldd | grep -q`: under pipefail, grep quitting early can SIGPIPE ldd
# and make the test think this is not an ASan build.)
if [[ $(ldd "$MFAUTH_BIN" 2>/dev/null) == *libasan* ]]; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	STRIDE=${MFAUTH_FAULT_STRIDE:-3}
fi
STRIDE=${STRIDE:-${MFAUTH_FAULT_STRIDE:-1}}

T=$(mktemp -d /tmp/mfauth-fault.XXXXXX)
trap 'rm -rf "$T"' EXIT
CONF=$T/mfauth.conf
printf 'store_dir = %s/store\nkey_file = %s/store.key\ndeny = 3\nunlock_time = 0\n' "$T" "$T" >"$CONF"
chmod 600 "$CONF"
mkdir "$T/pam.d" "$T/checkpam"
printf 'auth required %s conf=%s\naccount required %s conf=%s\n' "$MODULE" "$CONF" "$MODULE" "$CONF" \
	>"$T/pam.d/svc"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$T/pam.d/other"
# What `mfauth check` wants to see in a real stack (it reads, never runs, these).
printf 'auth required pam_unix.so\nauth required %s conf=%s\naccount required pam_unix.so\naccount required %s conf=%s\n' \
	"$MODULE" "$CONF" "$MODULE" "$CONF" >"$T/checkpam/login"

. "${MFAUTH_SRCDIR:-$(dirname "$0")/../..}/tests/checks.sh"

NOW=1900000000      # the shim's clock; rounds move it forward
SEEDS=$T/seeds      # USER,SEED of everyone enrolled

# shimmed AT SCOPE CMD...: run CMD under the shim, failing counted call AT (0: none).
# Trace of the counted calls in $T/trace; FAILED_FN is the function that failed.
shimmed() {
	local at=$1 scope=$2
	shift 2
	rm -f "$T/trace"
	LD_PRELOAD=$SHIM${LD_PRELOAD:+:$LD_PRELOAD} MFAUTH_FAULT_AT=$at MFAUTH_FAULT_SCOPE=$scope \
		MFAUTH_FAULT_NOW=$NOW MFAUTH_FAULT_TRACE=$T/trace "$@"
	local rc=$?
	FAILED_FN=$(sed -n 's/^[0-9]* \([^ ]*\) .* FAIL$/\1/p' "$T/trace" 2>/dev/null)
	return $rc
}

# The tool and the PAM application, on the shim's clock, without faults.
mfauth() { shimmed 0 main "$MFAUTH_BIN" -c "$CONF" "$@"; }
seed_of() { sed -n "s/^$1,//p" "$SEEDS"; }
code_of() { oathtool --totp -b -N "@$((NOW + ${2:-0}))" "$(seed_of "$1")"; }
# login USER CODE [AT]: 0 on PAM success.
login() {
	shimmed "${3:-0}" main,pam_mfauth.so "$PAMCHECK" --confdir "$T/pam.d" --account --no-fail-delay \
		svc "$1" <<<"$2" >"$T/login.out" 2>&1
}
# A fresh round: time steps nobody has used.
next_round() { NOW=$((NOW + 300)); }

# count SCOPE CMD...: how many counted calls CMD makes (its input from $T/stdin).
count() {
	shimmed 0 "$@" <"$T/stdin" >/dev/null 2>&1
	wc -l <"$T/trace"
}

new_seed() { head -c 20 /dev/urandom | base32 | tr -d '='; }

# enroll USER [SEED]: through import csv (no faults).
enroll() {
	local seed=${2:-$(new_seed)}
	sed -i "/^$1,/d" "$SEEDS" 2>/dev/null
	printf '%s,%s\n' "$1" "$seed" >>"$SEEDS"
	printf '%s,%s\n' "$1" "$seed" | mfauth import csv >/dev/null 2>&1
}

# store_loads N: every enrolled user's record and state load (list exits
# non-zero when one does not), and list names exactly the enrolled users.
store_loads() {
	local want got
	want=$(cut -d, -f1 "$SEEDS" | sort | tr '\n' ' ')
	if ! got=$(mfauth list --json 2>"$T/list.err"); then
		fail "fault $1 ($FN): list fails afterwards: $(head -n 2 "$T/list.err")"
		return 1
	fi
	got=$(grep -o '"user":"[^"]*"' <<<"$got" | cut -d'"' -f4 | sort | tr '\n' ' ')
	if [ "$want" != "$got" ]; then
		fail "fault $1 ($FN): list --json shows [$got], want [$want]"
		return 1
	fi
	ok
}

# store_checks N: mfauth check (self-inspection) finds nothing.
store_checks() {
	if mfauth check --pam-dir "$T/checkpam" >"$T/check.out" 2>&1; then
		ok
	else
		fail "fault $1 ($FN): mfauth check afterwards: $(grep -v '^ok' "$T/check.out" | head -n 3)"
	fi
}

# tried K: the N to try, every STRIDE-th of 1..K.
tried() { seq 1 "$STRIDE" "$1"; }

mfauth init >/dev/null || { echo "mfauth init failed"; exit 99; }
: >"$SEEDS"
