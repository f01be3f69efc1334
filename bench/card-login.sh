#!/usr/bin/env bash
# Card logins on the virtual cards of tests/card: APDUs and wall time per login.
#
#   MFAUTH_BUILDDIR=build bench/card-login.sh [N]
#
# For each card type (JPKI, PIV RSA-2048, PIV P-256) it enrolls a user with
# the build's `mfauth enroll card`, then runs N (default 30) successful logins
# through the real PAM stack (tests/pam/pamcheck + the built module, a private
# pcscd with the vpcd driver, audit to a private /dev/log) and prints the APDUs
# of one login (from the card's event log), the median and 90th percentile
# wall time of a login (exec of pamcheck + PAM + card), and the median card
# session as the virtual card saw it (its first APDU to the reset that ends
# the session, from the event log's timestamps).  The card rig is always this
# tree's, so two builds can be compared on the same cards.  Wall times follow
# the machine's load; run it on a quiet machine.
set -uo pipefail

build=${MFAUTH_BUILDDIR:?set MFAUTH_BUILDDIR}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-30}
if [ -z "${MFAUTH_BENCH_INNER:-}" ]; then
	log=$(mktemp /tmp/mfauth-bench-audit.XXXXXX)
	MFAUTH_BENCH_INNER=$log "$build/tests/sinkrun" "$log" bash "$0" "$@"
	rc=$?
	rm -f "$log"
	exit $rc
fi
export MFAUTH_WAIT_CARD=${MFAUTH_WAIT_CARD:-$build/tests/card/wait_card}
T=$(mktemp -d /tmp/mfauth-bench-card.XXXXXX)
. "$src/tests/card/rig.sh"
rig_start "$T/rig" >/dev/null || exit $?
trap 'rig_stop "$T/rig" >/dev/null 2>&1; rm -rf "$T"' EXIT
conf=$T/mfauth.conf
printf 'store_dir = %s/store\nkey_file = %s/store.key\nfactors = card\ncard_wait = 2\n' "$T" "$T" >"$conf"
chmod 600 "$conf"
"$build/tools/mfauth" -c "$conf" init >/dev/null
mkdir "$T/pam.d"
printf 'auth required %s conf=%s\n' "$build/pam_module/.libs/pam_mfauth.so" "$conf" >"$T/pam.d/svc"

printf '%-8s %6s %10s %10s %14s\n' card APDUs median_ms p90_ms card_median_ms
for spec in "jpki 1234" "piv-rsa 123456" "piv-ec 123456"; do
	set -- $spec
	rig_card "$T/rig" "$1" --tries 3 >/dev/null || exit 1
	printf '%s\n' "$2" | "$build/tools/mfauth" -c "$conf" enroll card "u$1" --no-ca >/dev/null 2>&1 || {
		echo "enroll $1 failed"; exit 1; }
	times=()
	session=()
	for ((i = 0; i < n; i++)); do
		before=$(wc -l <"$T/rig/card0.log")
		t0=$(date +%s%N)
		printf '%s\n' "$2" | "$build/tests/pam/pamcheck" --confdir "$T/pam.d" --no-fail-delay \
			svc "u$1" >/dev/null 2>&1 || { echo "login $1 failed"; exit 1; }
		t1=$(date +%s%N)
		times+=($(((t1 - t0) / 1000)))
		apdus=$(tail -n +"$((before + 1))" "$T/rig/card0.log" | grep -c '^apdu ')
		session+=($(tail -n +"$((before + 1))" "$T/rig/card0.log" | awk '
			/^apdu / && !first { sub(/.*t=/, ""); first = $0 }
			/^reset/ && first && !done { sub(/.*t=/, ""); printf "%d\n", ($0 - first) * 1e6; done = 1 }'))
	done
	sorted=($(printf '%s\n' "${times[@]}" | sort -n))
	card=($(printf '%s\n' "${session[@]}" | sort -n))
	printf '%-8s %6s %10.1f %10.1f %14.2f\n' "$1" "$apdus" "$(echo "${sorted[$((n / 2))]} / 1000" | bc -l)" \
		"$(echo "${sorted[$((n * 9 / 10))]} / 1000" | bc -l)" \
		"$(echo "${card[$((${#card[@]} / 2))]:-0} / 1000" | bc -l)"
	rig_remove "$T/rig" >/dev/null 2>&1
done
