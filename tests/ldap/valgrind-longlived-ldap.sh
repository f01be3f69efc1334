#!/bin/bash
# The long-lived host test (tests/pam/test_pam_longlived: many logins in one process, every
# outcome, half through a PAM stack, half through the module kept loaded) on the fleet store:
# its ldap mode (MFAUTH_TEST_STORE=ldap, tests/pam/pamtest_ldap.h) against one private slapd
# (tests/ldap/slapd-rig.sh).  Every login that reaches the store opens a directory connection
# over ldaps:// (libldap, GnuTLS), binds, searches, swaps and closes it.  Two runs:
#   1. natively, 1,000 logins: every return code, no descriptor left behind, and the heap in
#      use exactly the same after login 200 and at the end (the test runs without malloc's
#      per-thread cache for that).  In an AddressSanitizer build this is the ASan run, with
#      its leak checker at exit.
#   2. under valgrind memcheck through tests/pam/valgrind-longlived.sh (the same options and
#      suppressions file): a definite or indirect leak, or any memory error, fails it.
#
# The count under valgrind: measured on this 2-core machine, a run costs ~5 s of start-up
# (valgrind, the rig, seeding) and ~40 ms per login (a TLS handshake and a bind under memcheck):
# 100 logins 7.4 s, 200 11.8 s, 600 34 s with the machine otherwise idle, but 600 took 89 s
# beside a sanitizer build.  400 logins (20 rounds of the test's 20 kinds of login, every kind
# in both halves of its cycle) took 33 s at a load average of 6 (other builds and tests on the
# two cores): under a minute on a busy machine.  The native run makes the full 1,000.
#
# Needs: root, $MFAUTH_BUILDDIR and $MFAUTH_SRCDIR (make check), the rig's prerequisites,
# oathtool, valgrind.  Exit: 0 both passed, 1 a run failed, 77 (SKIP) the rig cannot run here.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${MFAUTH_SRCDIR:-$(cd "$here/../.." && pwd)}
build=${MFAUTH_BUILDDIR:-$top/build}
VALGRIND_LOGINS=400
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (root-owned key, password files and backend module)"
	exit 77
fi
prog=$build/tests/pam/test_pam_longlived
[ -x "$prog" ] || { echo "missing $prog (make check builds it)"; exit 99; }
T=$(mktemp -d "${TMPDIR:-/tmp}/mfauth-longlived-ldap.XXXXXX")
trap 'rm -rf "$T"' EXIT
. "$here/slapd-rig.sh"

ldap_rig_start "$T/rig"
rc=$?
if ((rc == 99)); then
	echo "SKIP: slapd-rig prerequisites missing"
	exit 77
fi
((rc == 0)) || { echo "FAIL: the rig does not start"; exit 1; }
. "$T/rig/env"
MFAUTH_TEST_LDAP_CLOSED_URI=ldaps://127.0.0.1:$(ldap_rig_closed_port)/
export MFAUTH_TEST_STORE=ldap MFAUTH_TEST_LDAP_CLOSED_URI MFAUTH_BUILDDIR=$build \
	MFAUTH_SRCDIR=$top

start=$(date +%s%N)
"$prog"
native=$?
echo "# native run: exit $native after $((($(date +%s%N) - start) / 1000000)) ms"

MFAUTH_LONGLIVED_VALGRIND_LOGINS=$VALGRIND_LOGINS MFAUTH_LONGLIVED_NATIVE_DONE=1 \
	bash "$top/tests/pam/valgrind-longlived.sh"
vg=$?
((native == 0 && vg == 0)) && exit 0
((vg == 99 && native == 0)) && exit 99
exit 1
