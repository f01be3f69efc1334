#!/bin/bash
# The directory client layer (lib/store_ldap_conn.c) against a private slapd: runs
# tests/ldap/test_ldap_conn with the rig's LDAP_RIG_* variables, plus a closed port and a
# black hole; then the server stopped under open connections (no SIGPIPE may reach the process);
# (the "all" round also asserts, on slapd's stats log, that a listing stopped early releases its
# paged search); then three cases under the fault shim (a libldap NULL is never "absent");
# then again with a hostile ldap.conf (LDAPCONF: TLS_REQCERT never), which must not
# make a wrong CA pass; then a short round under valgrind.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${MFAUTH_SRCDIR:-$(cd "$here/../.." && pwd)}
build=${MFAUTH_BUILDDIR:-$top/build}
T=$(mktemp -d "${TMPDIR:-/tmp}/mfauth-ldap-conn.XXXXXX")
trap 'rm -rf "$T"' EXIT
. "$top/tests/checks.sh"
. "$here/slapd-rig.sh"
prog=$build/tests/ldap/test_ldap_conn
[ -x "$prog" ] || { echo "missing $prog (make check builds it)"; exit 99; }

# slapd's stats log: the listing's paged-search release is asserted on what the server logged.
LDAP_RIG_SLAPD_DEBUG=stats
ldap_rig_start "$T/rig"
rc=$?
if ((rc == 99)); then
	echo "slapd-rig: prerequisites missing; the directory tests cannot run (77 = SKIP)"
	exit 77
fi
((rc == 0)) || { fail "the rig starts"; summary; exit 1; }
. "$T/rig/env"
ldap_rig_blackhole "$T/rig" || { fail "the black hole starts"; summary; exit 1; }
export LDAP_RIG_BLACKHOLE_PORT
LDAP_RIG_CLOSED_PORT=$(ldap_rig_closed_port)
export LDAP_RIG_CLOSED_PORT

# The C program prints its own ok/FAIL lines and counts; add them to ours.
run() {
	local out
	"$@" >"$T/run.out" 2>&1
	local st=$?
	cat "$T/run.out"
	if out=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$T/run.out" | tail -n 1); then
		passed=$((passed + ${out%% *}))
		out=${out#*, }
		failed=$((failed + ${out%% *}))
		# A crash after its last count still fails.
		if ((st != 0)) && [[ $out == 0* ]]; then fail "$* exited $st"; fi
	else
		fail "$* exited $st without counts"
	fi
}

run "$prog" all
run "$prog" timing
# slapd stopped under open connections (the program stops it): fail closed, and no SIGPIPE.
run "$prog" server-gone
check "the rig restarts after server-gone" ldap_rig_restart "$T/rig"
# A NULL or an error from libldap read as "absent": the first call of one libldap function made
# by the program fails (tests/fault/faultshim.so); the trace must show the shim failed it.
shim=$build/tests/fault/.libs/faultshim.so
if [ -r "$shim" ]; then
	shim_env=()
	if [[ $(ldd "$prog" 2>/dev/null) == *libasan* ]]; then
		shim_env=(ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
	fi
	for case in fault-read:ldap_next_attribute fault-list:ldap_next_entry \
		fault-cert:ldap_get_option; do
		rm -f "$T/trace"
		run env "${shim_env[@]}" LD_PRELOAD="$shim${LD_PRELOAD:+:$LD_PRELOAD}" MFAUTH_FAULT_AT=1 \
			MFAUTH_FAULT_SCOPE=main MFAUTH_FAULT_ONLY="${case#*:}" MFAUTH_FAULT_TRACE="$T/trace" \
			"$prog" "${case%%:*}"
		check "${case%%:*}: the shim failed ${case#*:} once" \
			test "$(grep -c "^[0-9]* ${case#*:} .* FAIL$" "$T/trace" 2>/dev/null)" = 1
	done
else
	fail "the fault shim is not built ($shim)"
fi
printf 'TLS_REQCERT never\nTLS_REQSAN never\nTLS_CACERT %s\n' "$LDAP_RIG_OTHER_CA" >"$T/evil.conf"
run env LDAPCONF="$T/evil.conf" LDAPTLS_REQCERT=never "$prog" evil-conf
if command -v valgrind >/dev/null && ! grep -q 'fsanitize=address' "$build/Makefile" 2>/dev/null; then
	run valgrind -q --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite \
		--show-leak-kinds=definite "$build/tests/ldap/test_ldap_conn" quick
else
	echo "# valgrind not run (not installed, or a sanitizer build)"
fi
summary
