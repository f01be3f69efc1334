#!/usr/bin/env bash
# The Debian pam-auth-update profile (share/pam-configs/mfauth), run through
# the real pam-auth-update on a private root (--root) with a private debconf
# database (DEBCONF_SYSTEMRC): nothing under /etc, /var or /usr is touched.
#
#  - installing the profile changes nothing (Default: no), --enable puts
#    pam_mfauth.so in common-auth and common-account after the password
#    modules' success jump target, --disable takes it out again;
#  - the generated stacks, with pam_unix.so replaced by pam_permit.so (right
#    password) or pam_deny.so (wrong password) and pam_mfauth.so by the built
#    module, run through libpam: a wrong password never reaches the code
#    prompt, a right password alone is not enough, password + code is, and
#    the account stack refuses a locked user.
# Needs root (the store's trust rules) and pam-auth-update (libpam-runtime).
set -uo pipefail

src=${MFAUTH_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${MFAUTH_BUILDDIR:?set MFAUTH_BUILDDIR}
profile=$src/share/pam-configs/mfauth

if ! command -v pam-auth-update >/dev/null 2>&1 || [ ! -r /usr/share/pam/common-auth ] ||
	[ ! -r /usr/share/pam-configs/unix ]; then
	echo "SKIP: pam-auth-update or the stock unix profile not installed (Debian libpam-runtime)"
	exit 77
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (the store accepts root-owned files only)"
	exit 77
fi

T=$(mktemp -d /tmp/mfauth-pau.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
. "${MFAUTH_SRCDIR:-$(dirname "$0")/../..}/tests/checks.sh"
not() { ! "$@"; }

# --- a private root for pam-auth-update ---------------------------------------
R=$T/root
mkdir -p "$R/etc/pam.d" "$R/var/lib/pam" "$R/usr/share/pam-configs" "$T/debconf"
cp /usr/share/pam-configs/unix "$R/usr/share/pam-configs/"
for f in /usr/share/pam/common-*; do
	case $f in *.md5sums) ;; *) cp "$f" "$R/etc/pam.d/" ;; esac
done
cat >"$T/debconf.conf" <<EOF
Config: configdb
Templates: templatedb

Name: configdb
Driver: File
Filename: $T/debconf/config.dat

Name: templatedb
Driver: File
Filename: $T/debconf/templates.dat
EOF
pau() {
	DEBCONF_SYSTEMRC=$T/debconf.conf DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true \
		pam-auth-update --root "$R" "$@" >>"$T/pau.log" 2>&1
}
stack() {    # the module lines of a generated file, blanks squeezed
	grep -v '^[[:space:]]*#' "$R/etc/pam.d/common-$1" | sed '/^[[:space:]]*$/d' |
		tr -s ' \t' '  ' | sed 's/ $//'
}

# Is pam_mfauth.so in FILE's TYPE stack, required, after every password
# module and after every place their success jumps land?
after_jumps() {    # after_jumps TYPE
	local -a lines
	local i n target=-1 mf=-1 pw=-1
	mapfile -t lines < <(stack "$1")
	n=${#lines[@]}
	for ((i = 0; i < n; i++)); do
		case ${lines[i]} in
		*pam_mfauth.so*)
			[ "$mf" -lt 0 ] || return 1       # exactly once
			mf=$i
			[[ ${lines[i]} == "$1 required pam_mfauth.so" ]] || return 1
			;;
		*pam_unix.so* | *pam_sss.so*)
			pw=$i
			if [[ ${lines[i]} =~ success=([0-9]+) ]]; then
				((i + BASH_REMATCH[1] + 1 > target)) && target=$((i + BASH_REMATCH[1] + 1))
			fi
			;;
		esac
	done
	[ "$mf" -gt "$pw" ] && [ "$pw" -ge 0 ] && [ "$mf" -ge "$target" ]
}

check "baseline: pam-auth-update --force with the unix profile" pau --force
stack auth >"$T/auth.base"
stack account >"$T/account.base"

cp "$profile" "$R/usr/share/pam-configs/mfauth"
check "profile installed: pam-auth-update --package" pau --package
check "Default: no -- installing changes no auth stack" cmp "$T/auth.base" <(stack auth)
check "Default: no -- installing changes no account stack" cmp "$T/account.base" <(stack account)

check "pam-auth-update --enable mfauth" pau --enable mfauth
check "auth: pam_mfauth.so required, after the password jump target" after_jumps auth
check "account: pam_mfauth.so required, after the password jump target" after_jumps account
check "auth: exact generated stack" diff -u - <(stack auth) <<'EOF'
auth [success=1 default=ignore] pam_unix.so nullok
auth requisite pam_deny.so
auth required pam_permit.so
auth required pam_mfauth.so
EOF
check "account: exact generated stack" diff -u - <(stack account) <<'EOF'
account [success=1 new_authtok_reqd=done default=ignore] pam_unix.so
account requisite pam_deny.so
account required pam_permit.so
account required pam_mfauth.so
EOF
check "password and session stacks untouched" bash -c '! grep -q pam_mfauth "$0"/etc/pam.d/common-password "$0"/etc/pam.d/common-session*' "$R"
cp "$R/etc/pam.d/common-auth" "$T/common-auth.enabled"
cp "$R/etc/pam.d/common-account" "$T/common-account.enabled"

# A second password module (an SSSD-like Primary profile) shifts the jumps.
printf 'Name: test password module\nDefault: yes\nPriority: 128\nAuth-Type: Primary\nAuth:\n\t[success=end default=ignore]\tpam_sss.so use_first_pass\nAccount-Type: Primary\nAccount:\n\t[default=bad success=ok user_unknown=ignore]\tpam_sss.so\n' \
	>"$R/usr/share/pam-configs/zz-sss"
check "with a second password module: pam-auth-update --package" pau --package
check "auth with two password modules: mfauth after the jump target" after_jumps auth
check "account with two password modules: mfauth after the jump target" after_jumps account
rm "$R/usr/share/pam-configs/zz-sss"
check "pam-auth-update --remove of the test module" pau --remove zz-sss

check "pam-auth-update --disable mfauth" pau --disable mfauth
check "disabled: auth stack back to the baseline" cmp "$T/auth.base" <(stack auth)
check "disabled: account stack back to the baseline" cmp "$T/account.base" <(stack account)

# --- the enabled stacks through libpam ----------------------------------------
conf=$T/mfauth.conf
module=$build/pam_module/.libs/pam_mfauth.so
printf 'store_dir = %s/store\nkey_file = %s/store.key\ndeny = 3\nunlock_time = 0\n' "$T" "$T" >"$conf"
chmod 600 "$conf"
mfauth() { "$build/tools/mfauth" -c "$conf" "$@"; }
check "mfauth init" mfauth init
seed=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
check "enroll a user" bash -c 'printf "alice,%s\n" "$1" | "$0" -c "$2" import csv' \
	"$build/tools/mfauth" "$seed" "$conf"

# confdir PASSWORD_MODULE [MODULE_ARGS]: the enabled files, made runnable.
make_confdir() {
	local d=$T/pam-$1${2:+-args}
	mkdir -p "$d"
	sed -e "s|pam_unix\\.so.*|$1|" -e "s|pam_mfauth\\.so.*|$module conf=$conf ${2:-}|" \
		"$T/common-auth.enabled" >"$d/common-auth"
	sed -e "s|pam_unix\\.so.*|$1|" -e "s|pam_mfauth\\.so.*|$module conf=$conf ${2:-}|" \
		"$T/common-account.enabled" >"$d/common-account"
	# Absolute: libpam resolves a relative @include in /etc/pam.d, not in confdir.
	printf '@include %s/common-auth\n@include %s/common-account\n' "$d" "$d" >"$d/svc"
	printf 'auth required pam_permit.so\n@include %s/common-account\n' "$d" >"$d/acct"
	printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$d/other"
	echo "$d"
}
right=$(make_confdir pam_permit.so)
wrong=$(make_confdir pam_deny.so)
nullok=$(make_confdir pam_permit.so nullok)
login() {    # login CONFDIR SERVICE USER ANSWER -> pamcheck's status; stderr kept
	"$build/tests/pam/pamcheck" --confdir "$1" --account --no-fail-delay "$2" "$3" \
		<<<"$4" >"$T/login.out" 2>"$T/login.err"
}
code() { oathtool --totp -b "$seed"; }

check "wrong password: refused" not login "$wrong" svc alice "$(code)"
check "wrong password: no code prompt" bash -c '! grep -q "code" "$0"' "$T/login.err"
check "right password, no code: refused" not login "$right" svc alice ""
check "right password: the code is asked for" grep -q "Verification code" "$T/login.err"
c=$(code)
check "right password + code: success" login "$right" svc alice "$c"
check "right password + the same code again: refused (replay)" not \
	login "$right" svc alice "$c"
check "not enrolled, no nullok: refused" not login "$right" svc bob 123456
check "not enrolled, nullok: the password alone decides" login "$nullok" svc bob ""
check "enrolled, nullok: the code is still needed" not login "$nullok" svc alice ""

for _ in 1 2 3; do login "$right" svc alice 000000; done
check "locked after 3 failures" grep -q '"locked":true' <(mfauth show alice --json)
check "account stack: a locked user is refused" not login "$right" acct alice ""
check "account stack: refused by the account step" grep -q "pam_acct_mgmt: Permission denied" \
	"$T/login.out"
check "unlock" mfauth unlock alice --reason test
check "account stack: unlocked user passes" login "$right" acct alice ""
check "account stack: not enrolled passes" login "$right" acct bob ""

summary
