#!/usr/bin/env bash
# `make install DESTDIR=...` puts exactly the expected files in place, with the
# Debian layout given on the command line; a second install keeps an edited
# config; uninstall removes everything but an edited config.
set -uo pipefail

build=${MFAUTH_BUILDDIR:?set MFAUTH_BUILDDIR}
T=$(mktemp -d /tmp/mfauth-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
D=$T/dest
. "${MFAUTH_SRCDIR:-$(dirname "$0")/../..}/tests/checks.sh"
# Run make in the build tree, not in whatever make runs this test: no -j
# jobserver or variables of the caller leak in.
mk() {
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u DESTDIR ${MAKE:-make} -s -C "$build" \
		prefix=/usr sysconfdir=/etc localstatedir=/var pamdir=/lib/security \
		DESTDIR="$D" "$@"
}
files() { (cd "$D" && find . \( -type f -o -type l \) | sed 's|^\./|/|' | sort); }

src=${MFAUTH_SRCDIR:-$build/..}
expected() {
	printf '%s\n' /etc/mfauth/mfauth.conf \
		/lib/security/pam_mfauth.so /usr/sbin/mfauth /usr/share/man/man5/mfauth.conf.5 \
		/usr/share/man/man8/mfauth.8 /usr/share/man/man8/pam_mfauth.8 \
		/usr/share/man/man8/mfauth-verify.8 /usr/libexec/mfauth/mfauth-verify \
		/usr/lib/mfauth/mfauth_store_ldap.so \
		/usr/share/pam-configs/mfauth \
		/usr/share/mfauth/ldap/mfauth.schema /usr/share/mfauth/ldap/mfauth.ldif \
		/usr/share/mfauth/ldap/mfauth-acl.conf /usr/share/mfauth/ldap/mirror-mode.conf.sample
	# A catalog per language of po/LINGUAS, when built with translations.
	if [ -r "$src/po/LINGUAS" ] && grep -qs '^install-data: install-data-yes' "$build/po/Makefile"; then
		sed -e 's/#.*//' "$src/po/LINGUAS" | tr -s ' \t' '\n\n' | sed '/^$/d' |
			sed 's|.*|/usr/share/locale/&/LC_MESSAGES/mfauth.mo|'
	fi
}

check "make install DESTDIR" mk install
check "exactly the expected files" diff -u <(expected | sort) <(files)
check "config: the sample, every key commented out" bash -c \
	'! grep -qE "^[[:space:]]*[a-z_]+[[:space:]]*=" "$0"' "$D/etc/mfauth/mfauth.conf"
check "config: this build's paths" grep -qx '#key_file = /etc/mfauth/store.key' "$D/etc/mfauth/mfauth.conf"
check "config: mode 0644" test "$(stat -c %a "$D/etc/mfauth/mfauth.conf")" = 644
check "helper: setuid root, 4755" test "$(stat -c %a:%U "$D/usr/libexec/mfauth/mfauth-verify")" = 4755:root
check "config: the helper's path of this build" \
	grep -qx '#helper = /usr/libexec/mfauth/mfauth-verify' "$D/etc/mfauth/mfauth.conf"
check "config: the directory backend's module path of this build" \
	grep -qx '#ldap_module = /usr/lib/mfauth/mfauth_store_ldap.so' "$D/etc/mfauth/mfauth.conf"
check "the directory backend's module exports only its operations table" bash -c \
	'[ "$(nm -D --defined-only "$0" | awk "\$2 ~ /^[TDBWR]\$/ {print \$3}")" = mfa_store_ldap_ops ]' \
	"$D/usr/lib/mfauth/mfauth_store_ldap.so"
check "the module itself does not load libldap (the files store never needs it)" bash -c \
	'! objdump -p "$0" | grep -q "NEEDED.*libldap"' "$D/lib/security/pam_mfauth.so"
check "profile: installed unchanged" cmp "$D/usr/share/pam-configs/mfauth" \
	"$src/share/pam-configs/mfauth"
check "module: exports only pam_sm_*" bash -c \
	'! nm -D --defined-only "$0" | awk "\$2 ~ /^[TDBW]\$/ {print \$3}" | grep -v "^pam_sm_"' \
	"$D/lib/security/pam_mfauth.so"

echo 'deny = 3' >>"$D/etc/mfauth/mfauth.conf"
cp "$D/etc/mfauth/mfauth.conf" "$T/edited"
check "second make install" mk install
check "second install keeps the edited config" cmp "$T/edited" "$D/etc/mfauth/mfauth.conf"

check "make uninstall" mk uninstall
check "uninstall keeps only the edited config" diff -u - <(files) <<'EOF'
/etc/mfauth/mfauth.conf
EOF
rm "$D/etc/mfauth/mfauth.conf"
check "install again" mk install
check "make uninstall" mk uninstall
check "uninstall of an unedited install leaves no file" diff -u /dev/null <(files)

summary
