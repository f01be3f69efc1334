#!/bin/bash
# The return-code matrix (tests/pam/test_pam_matrix: every way a login can fail, through the
# module alone and six PAM stacks) on the fleet store: the same program and table, in its ldap
# mode (MFAUTH_TEST_STORE=ldap, tests/pam/pamtest_ldap.h), against one private slapd for the
# whole run (tests/ldap/slapd-rig.sh: the shipped schema and ACL).  Each row gets a fresh base
# entry and key on it, seeded through store.h with staff credentials; the module logs in with
# terminal-01's.  The rows only the directory has (a stopped server, a wrong bind password, an
# identity the ACL shows nothing, a wrong CA...) point the terminal's configuration at a closed
# port, a wrong password or another account.
#
# Needs: root, $MFAUTH_BUILDDIR (make check), the rig's prerequisites (slapd, ldap-utils), oathtool.
# Exit: the program's status; 77 (SKIP) when the rig cannot run here.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${MFAUTH_SRCDIR:-$(cd "$here/../.." && pwd)}
build=${MFAUTH_BUILDDIR:-$top/build}
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (root-owned key, password files and backend module)"
	exit 77
fi
prog=$build/tests/pam/test_pam_matrix
[ -x "$prog" ] || { echo "missing $prog (make check builds it)"; exit 99; }
T=$(mktemp -d "${TMPDIR:-/tmp}/mfauth-matrix-ldap.XXXXXX")
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
export MFAUTH_TEST_STORE=ldap MFAUTH_TEST_LDAP_CLOSED_URI MFAUTH_BUILDDIR=$build

start=$(date +%s%N)
"$prog"
st=$?
echo "# test-pam-matrix-ldap: exit $st after $((($(date +%s%N) - start) / 1000000)) ms"
exit $st
