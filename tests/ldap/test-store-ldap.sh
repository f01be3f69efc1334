#!/bin/bash
# The directory backend's retry contract against a private slapd: runs tests/ldap/test_store_ldap
# (two store handles on the rig, the second writing inside the first one's decision) with a
# staff configuration of store = ldap and a fresh key.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${MFAUTH_SRCDIR:-$(cd "$here/../.." && pwd)}
build=${MFAUTH_BUILDDIR:-$top/build}
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (root-owned key, password file and backend module)"
	exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/mfauth-store-ldap.XXXXXX")
trap 'rm -rf "$T"' EXIT
. "$top/tests/checks.sh"
. "$here/slapd-rig.sh"
prog=$build/tests/ldap/test_store_ldap
[ -x "$prog" ] || { echo "missing $prog (make check builds it)"; exit 99; }

ldap_rig_start "$T/rig"
rc=$?
if ((rc == 99)); then
	echo "slapd-rig: prerequisites missing; the directory tests cannot run (77 = SKIP)"
	exit 77
fi
((rc == 0)) || { fail "the rig starts"; summary; exit 1; }
. "$T/rig/env"
head -c 32 /dev/urandom >"$T/store.key" && chmod 400 "$T/store.key"
printf '%s' "$LDAP_RIG_STAFF_PW" >"$T/staff.secret" && chmod 600 "$T/staff.secret"
cat >"$T/staff.conf" <<EOF
store = ldap
key_file = $T/store.key
ldap_uri = $LDAP_RIG_URI_LDAPS
ldap_base = $LDAP_RIG_BASE
ldap_bind_dn = $LDAP_RIG_STAFF_DN
ldap_bind_pw_file = $T/staff.secret
ldap_ca_file = $LDAP_RIG_CA
ldap_module = $build/lib/.libs/mfauth_store_ldap.so
EOF

"$prog" "$T/staff.conf" >"$T/run.out" 2>&1
st=$?
cat "$T/run.out"
if out=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$T/run.out" | tail -n 1); then
	passed=$((passed + ${out%% *}))
	out=${out#*, }
	failed=$((failed + ${out%% *}))
	if ((st != 0)) && [[ $out == 0* ]]; then fail "$prog exited $st"; fi
else
	fail "$prog exited $st without counts"
fi
summary
