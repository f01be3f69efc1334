#!/bin/bash
# The long-lived host test (tests/pam/test_pam_longlived: 1,000 logins in one
# process) under valgrind memcheck: a definite or indirect leak, or any
# memory error, fails it.  "Still reachable" blocks (what libpam, liboath
# and OpenSSL keep for the life of the process) do not count.
#
# An AddressSanitizer build cannot run under valgrind (both replace malloc
# and own the shadow memory): there the test runs natively, where ASan's own
# leak checker and the test's descriptor check still apply, and this says so.
#
# tests/ldap/valgrind-longlived-ldap.sh runs this on the fleet store, with a private slapd
# and MFAUTH_TEST_STORE=ldap in the environment, and two more variables:
#   MFAUTH_LONGLIVED_VALGRIND_LOGINS  how many logins under valgrind (the test's default:
#                                     1,000), so that the run stays within its time
#   MFAUTH_LONGLIVED_NATIVE_DONE      the caller has just run the test natively: in an ASan
#                                     build, do not run it natively a second time
#
# Needs: $MFAUTH_BUILDDIR and $MFAUTH_SRCDIR (set by make check), valgrind.
# Exit: the test's status; 99 when it could not be run at all.
set -uo pipefail

if [ -z "${MFAUTH_BUILDDIR:-}" ] || [ -z "${MFAUTH_SRCDIR:-}" ]; then
	echo "valgrind-longlived: run through make check (MFAUTH_BUILDDIR, MFAUTH_SRCDIR)" >&2
	exit 99
fi
bin=$MFAUTH_BUILDDIR/tests/pam/test_pam_longlived
supp=$MFAUTH_SRCDIR/tests/pam/valgrind.supp
if [ ! -x "$bin" ]; then
	echo "valgrind-longlived: $bin is not built" >&2
	exit 99
fi

# -fsanitize=address leaves a reference to __asan_init in every object.  (Read
# all of nm's output: grep -q would quit early and, with pipefail, fail.)
if { nm "$bin"; nm -D "$bin"; } 2>/dev/null | grep '__asan_init' >/dev/null; then
	if [ -n "${MFAUTH_LONGLIVED_NATIVE_DONE:-}" ]; then
		echo "valgrind-longlived: AddressSanitizer build: not under valgrind (the caller ran it natively)"
		exit 0
	fi
	echo "valgrind-longlived: AddressSanitizer build: running natively, not under valgrind"
	exec "$bin"
fi

if ! command -v valgrind >/dev/null; then
	echo "valgrind-longlived: valgrind is required (apt-get install valgrind)" >&2
	exit 99
fi

if [ -n "${MFAUTH_LONGLIVED_VALGRIND_LOGINS:-}" ]; then
	export MFAUTH_LONGLIVED_LOGINS=$MFAUTH_LONGLIVED_VALGRIND_LOGINS
fi
start=$(date +%s)
MFAUTH_UNDER_VALGRIND=1 valgrind --quiet --tool=memcheck --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
	--error-exitcode=1 --num-callers=30 --suppressions="$supp" "$bin"
rc=$?
echo "valgrind-longlived: exit $rc after $(( $(date +%s) - start )) s under valgrind"
exit $rc
