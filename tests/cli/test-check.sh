#!/bin/bash
# End-to-end tests of `mfauth check` with the built tool: a clean sandbox
# passes, then each finding is created on its own in a fresh sandbox and the
# exact severity, subject and exit status are asserted.  Everything lives in
# a private directory under /tmp (nothing under /etc touched; the PAM
# directory is passed with --pam-dir).
#
# Needs: root (the store is root-only), $MFAUTH_BUILDDIR (tools/mfauth,
# tests/pam/pamcheck and the module in it), faketime, oathtool, python3,
# unshare and OpenSSH's sshd and ssh-keygen (sshd -T is run, never started).
# Prints "N passed, N failed" and exits non-zero when anything failed
# (77 = skipped when not root, 99 = the test could not run).
set -euo pipefail

PY=/usr/bin/python3
SEED=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP

if [ -z "${MFAUTH_BUILDDIR:-}" ] || [ ! -x "$MFAUTH_BUILDDIR/tools/mfauth" ]; then
	echo "test-check: set MFAUTH_BUILDDIR to a build directory with tools/mfauth" >&2
	exit 99
fi
MFAUTH=$MFAUTH_BUILDDIR/tools/mfauth
PAMCHECK=$MFAUTH_BUILDDIR/tests/pam/pamcheck
MODULE=$MFAUTH_BUILDDIR/pam_module/.libs/pam_mfauth.so
if [ "$(id -u)" -ne 0 ]; then
	echo "test-check: SKIP: must run as root (the store is root-only)"
	exit 77
fi
for prog in "$PY" faketime oathtool "$PAMCHECK" ssh-keygen unshare /usr/sbin/sshd; do
	if ! command -v "$prog" >/dev/null; then
		echo "test-check: $prog is required" >&2
		exit 99
	fi
done
if [ ! -f "$MODULE" ]; then
	echo "test-check: $MODULE is missing (build first)" >&2
	exit 99
fi

T=$(mktemp -d /tmp/mfauth-check.XXXXXX)
trap 'rm -rf "$T"' EXIT
umask 022

. "${MFAUTH_SRCDIR:-$(dirname "$0")/../..}/tests/checks.sh"
on_check_failure() {    # what the tool printed in the last run
	echo "       exit=$RC"
	sed -n '1,40/^/       stdout: /p' "$T/out" 2>/dev/null || true
	sed -n '1,10/^/       stderr: /p' "$T/err" 2>/dev/null || true
}

# sandbox: a fresh store with alice and bob enrolled, a good PAM directory and
# a setuid-root copy of the built helper named by the config's `helper`.
# Sets S, CONF, KEY, STORE, PAMD, HELPER.
nsandbox=0
sandbox() {
	nsandbox=$((nsandbox + 1))
	S=$T/s$nsandbox
	CONF=$S/mfauth.conf
	KEY=$S/store.key
	STORE=$S/store
	PAMD=$S/pam.d
	HELPER=$S/libexec/mfauth-verify
	mkdir -m 0700 "$S"
	write_conf
	chmod 0600 "$CONF"
	mkdir -m 0755 "$S/libexec"
	install -m 4755 -o root "$MFAUTH_BUILDDIR/helper/mfauth-verify" "$HELPER"
	"$MFAUTH" -c "$CONF" init >/dev/null
	printf 'alice,%s\nbob,%s\n' "$SEED" "$SEED" | "$MFAUTH" -c "$CONF" import csv >/dev/null
	mkdir "$PAMD"
	good_login >"$PAMD/login"
}

write_conf() {    # the sandbox's config: its store, key and helper
	printf 'store_dir = %s\nkey_file = %s\nhelper = %s\n' "$STORE" "$KEY" "$HELPER" >"$CONF"
}

good_login() {
	cat <<EOF
# auth required pam_mfauth.so   (a comment is not a line)
auth     requisite   pam_unix.so
auth     required   $MODULE conf=$CONF
account  required   pam_unix.so
account  required   pam_mfauth.so conf=$CONF
EOF
}

# sshd settings for every run: the host's own sshd_config is never what a test
# sees (sshd -T runs only where a stack named sshd holds the module).
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey"
sshd_config() {    # FILE SETTING...: a config with a host key and these lines
	local f=$1
	shift
	printf '%s\n' "HostKey $T/hostkey" "$@" >"$f"
}
SSHD_OK=$T/sshd_ok
sshd_config "$SSHD_OK" 'UsePAM yes' 'KbdInteractiveAuthentication yes' \
    'PasswordAuthentication no'

# run_check [ARGS...]: mfauth check on the sandbox; RC, $T/out, $T/err.
RC=0
run_check() {
	RC=0
	"$MFAUTH" -c "$CONF" check --pam-dir "$PAMD" --sshd-config "$SSHD_OK" "$@" >"$T/out" \
	    2>"$T/err" || RC=$?
}
# run_check_sshd CONFIG [ARGS...]: the same with sshd settings from CONFIG, in a
# private mount namespace whose /run has the directory `sshd -T` insists on.
run_check_sshd() {
	local config=$1
	shift
	RC=0
	unshare -m bash -c 'mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd && exec "$@"' \
	    sshd-ns "$MFAUTH" -c "$CONF" check --pam-dir "$PAMD" --sshd-config "$config" "$@" \
	    >"$T/out" 2>"$T/err" || RC=$?
}
# run_check_at TIME [ARGS...]: the same under faketime.  faketime works by
# LD_PRELOAD, which an ASan build refuses unless told not to check the order.
run_check_at() {
	local when=$1
	shift
	RC=0
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    faketime "$when" "$MFAUTH" -c "$CONF" check --pam-dir "$PAMD" --sshd-config "$SSHD_OK" \
	    "$@" >"$T/out" 2>"$T/err" || RC=$?
}

rc_is() { [ "$RC" -eq "$1" ]; }
# keyid_of FILE: the key id of a key file's key (seal.c: SHA-256("mfauth key id" || key), 8 bytes).
keyid_of() { { printf 'mfauth key id'; cat "$1"; } | sha256sum | cut -c1-16; }
# not_in_out SECRET SHOWN: stdout has SHOWN and not SECRET.
not_in_out() { grep -qF -- "$2" "$T/out" && ! grep -qiF -- "$1" "$T/out"; }
# has SEVERITY SUBJECT [MESSAGE-ERE]: a line "SEVERITY: SUBJECT: MESSAGE".
has() {
	awk -v p="$1: $2: " 'index($0, p) == 1 { print substr($0, length(p) + 1) }' "$T/out" \
	    >"$T/msg"
	[ -s "$T/msg" ] && grep -Eq -- "${3:-}" "$T/msg"
}
# summary_is CRITICAL ERRORS WARNINGS: the last line counts exactly these.
summary_is() {
	local f=$(($1 + $2 + $3))
	tail -n 1 "$T/out" >"$T/last"
	grep -Eqx -- "[0-9]+ checks, $f findings \($1 critical, $2 errors, $3 warnings\)" "$T/last"
}
# finding SEV SUBJECT ERE RC C E W: the line, the exit status, and nothing else found.
finding() {
	has "$1" "$2" "$3" && rc_is "$4" && summary_is "$5" "$6" "$7"
}
# Only ok/info lines and a zero summary (no pipe: a SIGPIPE must not pass for success).
all_ok() {
	! grep -Evq -e '^(ok|info): ' \
	    -e '^[0-9]+ checks, 0 findings \(0 critical, 0 errors, 0 warnings\)$' "$T/out"
}
# json_is PYTHON-EXPR: stdout is JSON and EXPR holds for it as j.
json_is() {
	$PY -c 'import json,sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$T/out" "$1"
}
# Names, types, modes, link counts, sizes, mtimes and contents of the sandbox.
snapshot() {
	(
		cd "$S"
		find . -printf '%p %y %m %n %s %T@\n' | sort
		find . -type f -exec sha256sum {} + | sort
	)
}

# --- a clean sandbox ------------------------------------------------------------
sandbox
echo "# sandbox $S"
snapshot >"$T/before"
run_check
snapshot >"$T/after"
check "clean: exit 0" rc_is 0
check "clean: only ok lines and a zero summary" all_ok
check "clean: summary counts nothing" summary_is 0 0 0
check "clean: config checked" has ok "$CONF" 'root-owned'
check "clean: key checked, named by its key id" has ok "$KEY" "mode 0400, 32 bytes, loads; key $(keyid_of "$KEY")\$"
check "clean: the key's bytes are never printed, its id is" \
    not_in_out "$(od -An -tx1 -v "$KEY" | tr -d ' \n')" "$(keyid_of "$KEY")"
check "clean: store directory checked" has ok "$STORE" 'mode 0700'
check "clean: store files checked" has ok "$STORE" '^4 files, all regular'
check "clean: records decrypt" has ok "$STORE" \
    '^2 records decrypt and name a factor, 2 states load$'
check "clean: clock against the build date" has ok clock 'not before the build date'
check "clean: clock against the users" has ok clock 'any of 2 users'
check "clean: PAM stack found" has ok "$PAMD/login" 'pam_mfauth.so in auth and account$'
check "clean: setuid helper checked" has ok "$HELPER" '^root-owned, setuid, mode 4755, not on a nosuid'
check "check changes nothing in the sandbox" cmp -s "$T/before" "$T/after"
run_check --json
check "clean --json: exit 0" rc_is 0
check "clean --json: an array of check/severity/subject/message, all ok" json_is \
    'len(j) >= 8 and all(sorted(o) == ["check", "message", "severity", "subject"]
                         and o["severity"] == "ok" for o in j)'
check "clean --json: records line" json_is \
    'any(o["check"] == "record" and o["subject"] == "'"$STORE"'" for o in j)'

# --- usage ------------------------------------------------------------------------
run_check extra
check "extra argument: exit 2" rc_is 2
run_check --bogus
check "unknown option: exit 2" rc_is 2
RC=0
"$MFAUTH" -c "$CONF" check --pam-dir >"$T/out" 2>"$T/err" || RC=$?
check "--pam-dir without a value: exit 2" rc_is 2

# --- (1) config ---------------------------------------------------------------------
sandbox
chmod 0620 "$CONF"
run_check
check "config group-writable: critical, exit 1" finding critical "$CONF" \
    'writable by group or others' 1 1 0 0
check "config group-writable: store checks skipped, said so" has info store 'not checked'
# Security review, finding 8b: a sticky world-writable directory holding the
# config or the key (anyone could plant KEY_FILE.new beside the key).
sandbox
mkdir -m 1777 "$S/etc"
chmod 1777 "$S/etc"
mv "$CONF" "$S/etc/mfauth.conf"
CONF=$S/etc/mfauth.conf
run_check
check "config in a sticky world-writable directory: critical, names it, exit 1" \
    finding critical "$CONF" "^$S/etc: the directory holding $CONF is writable" 1 1 0 0
sandbox
mkdir -m 1777 "$S/keys"
chmod 1777 "$S/keys"
mv "$KEY" "$S/keys/store.key"
KEY=$S/keys/store.key
write_conf
run_check
check "key in a sticky world-writable directory: critical, names it, exit 1" \
    has critical "$KEY" "^$S/keys: the directory holding $KEY is writable by group or others \(mode 1777\), sticky or not"
check "key in a sticky world-writable directory: exit 1" rc_is 1
sandbox
echo 'windoww = 3' >>"$CONF"
run_check
check "config with an unknown key: error, exit 1" finding error "$CONF" 'windoww' 1 0 1 0
sandbox
RC=0
"$MFAUTH" -c "$S/none.conf" check --pam-dir "$PAMD" >"$T/out" 2>"$T/err" || RC=$?
check "-c naming a missing file: error, exit 1" has error "$S/none.conf" 'does not exist'

# --- (2) key file -------------------------------------------------------------------
sandbox
chmod 0644 "$KEY"
run_check
check "key mode 0644: critical, exit 1" finding critical "$KEY" \
    'readable by group or others \(mode 0644\)' 1 1 0 0
check "key mode 0644: records not decrypted, said so" has info "$STORE" 'not decrypted'
sandbox
chmod 0600 "$KEY"
run_check
check "key mode 0600: warning, exit 0" finding warning "$KEY" '0400 preferred' 0 0 0 1
sandbox
truncate -s 31 "$KEY"
run_check
check "key of 31 bytes: error, exit 1" finding error "$KEY" '^31 bytes, want exactly 32$' 1 0 1 0
sandbox
# What an interrupted rekey leaves: a fresh next key beside the old one.
head -c 32 /dev/urandom >"$KEY.new"
chmod 0400 "$KEY.new"
run_check
check "KEYFILE.new left over: a warning naming the new key, exit 0" finding warning "$KEY.new" \
    "^a rotation to key $(keyid_of "$KEY.new") was interrupted or is running: run mfauth rekey to finish\$" \
    0 0 0 1
check "KEYFILE.new left over: the current key still named by its own id" has ok "$KEY" \
    "loads; key $(keyid_of "$KEY")\$"
check "KEYFILE.new left over: records still decrypt (read with both keys)" has ok "$STORE" \
    '^2 records decrypt'
chmod 0644 "$KEY.new"
run_check
check "KEYFILE.new readable by others: critical too" has critical "$KEY.new" \
    'readable by group or others'
check "KEYFILE.new readable by others: the store does not open, said so" has error "$STORE" \
    '^cannot open the store'
sandbox
# A staged key (mfauth rekey --stage): read with, never sealed under; nothing to do yet.
"$MFAUTH" -c "$CONF" rekey --stage >/dev/null
staged=$(keyid_of "$KEY.next")
run_check
check "KEYFILE.next staged: info naming the staged key, exit 0, nothing found" \
    finding info "$KEY.next" \
    "^a staged key, $staged: read with, never sealed under, until mfauth rekey rotates to it\$" \
    0 0 0 0
chmod 0440 "$KEY.next"
run_check
check "KEYFILE.next readable by the group: critical (and the store does not open: 1 error)" \
    finding critical "$KEY.next" 'readable by group or others \(mode 0440\)' 1 1 1 0
chmod 0400 "$KEY.next"
"$MFAUTH" -c "$CONF" rekey >/dev/null
run_check
check "after mfauth rekey: the key is the staged key, nothing found" \
    finding ok "$KEY" "loads; key $staged\$" 0 0 0 0
sandbox
rm "$KEY"
run_check
check "key missing: error, exit 1" finding error "$KEY" 'missing' 1 0 1 0

# --- (3) store directory -------------------------------------------------------------
sandbox
chmod 0755 "$STORE"
run_check
check "store 0755: warning, exit 0" finding warning "$STORE" 'mode 0755' 0 0 0 1
check "store 0755: records still decrypted" has ok "$STORE" '^2 records decrypt'
sandbox
chmod 0777 "$STORE"
run_check
check "store 0777: critical, exit 1" finding critical "$STORE" \
    'writable by group or others \(mode 0777\)' 1 1 0 0

# --- (8) the setuid helper (mfauth-verify, for PAM callers that are not root) ----
# The module refuses non-root callers unless the config's helper is a regular
# file owned by root, setuid, executable by others, not on a nosuid mount.
sandbox
rm "$HELPER"
run_check
check "helper missing: warning naming who is refused, exit 0" finding warning "$HELPER" \
    '^missing: PAM callers that are not root \(screen lockers, su or sudo run by a clerk\) are refused' \
    0 0 0 1
sandbox
chmod 0755 "$HELPER"
run_check
check "helper not setuid: error, exit 1" finding error "$HELPER" \
    '^mode 0755 is not setuid and executable by others: the module refuses it.*chmod 4755' \
    1 0 1 0
sandbox
chmod 4750 "$HELPER"
run_check
check "helper not executable by others: error, exit 1" finding error "$HELPER" \
    '^mode 4750 is not setuid and executable by others' 1 0 1 0
sandbox
chown 1:1 "$HELPER"
chmod 4755 "$HELPER"
run_check
check "helper owned by uid 1: error naming the owner, exit 1" finding error "$HELPER" \
    '^owned by uid 1, not root: the module refuses it' 1 0 1 0
sandbox
chmod 4757 "$HELPER"
run_check
check "helper writable by others: critical, exit 1" finding critical "$HELPER" \
    '^writable by group or others \(mode 4757\): anyone can replace the program' 1 1 0 0
sandbox
chmod 0777 "$S/libexec"
run_check
check "helper in a world-writable directory: critical naming the directory, exit 1" finding \
    critical "$HELPER" "^$S/libexec \(on the path of $HELPER\): directory writable by group or \
others: anyone who can write there can swap" \
    1 1 0 0
sandbox
rm "$HELPER"
mkdir -m 0755 "$HELPER"
run_check
check "helper a directory: error, exit 1" finding error "$HELPER" '^not a regular file' 1 0 1 0
sandbox
# A nosuid mount over the helper's directory, in a private mount namespace.
RC=0
unshare -m bash -c 'mount -t tmpfs -o nosuid,mode=0755 tmpfs "$1" &&
	install -m 4755 -o root "$2" "$1/mfauth-verify" && shift 2 && exec "$@"' \
    nosuid-ns "$S/libexec" "$MFAUTH_BUILDDIR/helper/mfauth-verify" \
    "$MFAUTH" -c "$CONF" check --pam-dir "$PAMD" --sshd-config "$SSHD_OK" >"$T/out" \
    2>"$T/err" || RC=$?
check "helper on a nosuid mount: error naming nosuid, exit 1" finding error "$HELPER" \
    '^on a file system mounted nosuid: the setuid bit has no effect' 1 0 1 0
sandbox
ln -s /nonexistent/mfauth-verify "$S/dangling"
HELPER=$S/dangling
write_conf
run_check
check "helper a dangling symbolic link: missing, warning" finding warning "$HELPER" '^missing' \
    0 0 0 1
sandbox
ln -s "$HELPER" "$S/link"
HELPER=$S/link
write_conf
run_check
check "helper through a symbolic link to a good file: ok" has ok "$HELPER" '^root-owned, setuid'
check "helper through a symbolic link to a good file: exit 0" all_ok

# --- (9) the language of the clerk's text (lang) -------------------------------------
# lang = ja reads the catalog through the locale ja_JP.UTF-8; without it the
# clerks read the host's language.  LOCPATH pointing at an empty directory
# makes glibc find no locale but its built-in ones, as on a machine where
# ja_JP.UTF-8 was never generated.
sandbox
run_check
check "lang unset: ok, the host's locale" finding ok lang '^auto: the clerk.s text follows' 0 0 0 0
echo 'lang = en' >>"$CONF"
run_check
check "lang = en: ok" finding ok lang '^en: the clerk.s text is English' 0 0 0 0
sandbox
echo 'lang = ja' >>"$CONF"
run_check
check "lang = ja with ja_JP.UTF-8 installed: ok" finding ok lang \
    '^ja: the locale ja_JP.UTF-8 is installed' 0 0 0 0
mkdir "$S/nolocales"
RC=0
LOCPATH=$S/nolocales "$MFAUTH" -c "$CONF" check --pam-dir "$PAMD" --sshd-config "$SSHD_OK" \
    >"$T/out" 2>"$T/err" || RC=$?
check "lang = ja without ja_JP.UTF-8: warning, exit 0" finding warning lang \
    '^ja, but the locale ja_JP.UTF-8 is not installed: clerks read the host.s language' 0 0 0 1

# --- (4) files in the store -----------------------------------------------------------
sandbox
$PY -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(40); b = f.read(1); f.seek(40); f.write(bytes([b[0] ^ 0xff]))' "$STORE/alice.rec"
run_check
check "corrupt record: error, exit 1" finding error "$STORE/alice.rec" \
    '^record of alice does not load' 1 0 1 0
run_check --json
check "corrupt record --json: the finding as an object" json_is \
    'any(o["check"] == "record" and o["severity"] == "error" and len(o) == 4
         and o["subject"] == "'"$STORE/alice.rec"'" for o in j)'
check "corrupt record --json: exit 1" rc_is 1

sandbox
rm "$STORE/alice.state"
run_check
check "record without a state: error, exit 1" finding error "$STORE/alice.rec" \
    '^record without a state file: alice cannot log in' 1 0 1 0

sandbox
rm "$STORE/bob.rec"
run_check
check "orphan state (a revoked user's watermark): info, exit 0" finding info "$STORE/bob.state" \
    '^state without a record: bob is not enrolled' 0 0 0 0

sandbox
install -m 0600 /dev/null "$STORE/.tmp.0123456789abcdef"
touch -d '2 hours ago' "$STORE/.tmp.0123456789abcdef"
run_check
check "stale temp file: warning, exit 0" finding warning "$STORE/.tmp.0123456789abcdef" \
    '^stale temp file' 0 0 0 1
sandbox
install -m 0600 /dev/null "$STORE/.tmp.fedcba9876543210"
run_check
check "fresh temp file: info only, exit 0" finding info "$STORE/.tmp.fedcba9876543210" \
    'in progress' 0 0 0 0

sandbox
ln "$STORE/alice.rec" "$S/alice.rec.copy"
run_check
check "hard-linked record: critical, exit 1" finding critical "$STORE/alice.rec" \
    '^has 2 hard links' 1 1 0 0

sandbox
install -m 0600 /dev/null "$STORE/bad%zz.rec"
run_check
check "undecodable file name: error, exit 1" finding error "$STORE/bad%zz.rec" \
    'does not decode to a user name' 1 0 1 0

sandbox
install -m 0600 /dev/null "$STORE/notes.txt"
run_check
check "unexpected file: warning, exit 0" finding warning "$STORE/notes.txt" \
    'unexpected file' 0 0 0 1

sandbox
install -m 0600 /dev/null "$STORE/alice.lock"
run_check
check "lock file: warning, exit 0" finding warning "$STORE/alice.lock" '^lock file' 0 0 0 1

sandbox
ln -s alice.rec "$STORE/carol.rec"
run_check
check "symlink in the store: critical, exit 1" has critical "$STORE/carol.rec" 'symbolic link'
check "symlink in the store: exit 1" rc_is 1

sandbox
install -m 0666 /dev/null "$STORE/dave.state"
run_check
check "store file writable by others: critical" has critical "$STORE/dave.state" \
    'writable by group or others'

# --- (5) clock --------------------------------------------------------------------------
sandbox
mkdir "$S/pam-run"
printf 'auth required %s conf=%s\naccount required %s conf=%s\n' "$MODULE" "$CONF" "$MODULE" \
    "$CONF" >"$S/pam-run/mfa"
RC=0
oathtool --totp -b "$SEED" | "$PAMCHECK" --confdir "$S/pam-run" mfa alice >"$T/out" 2>"$T/err" ||
    RC=$?
check "clock setup: alice logs in with a code" rc_is 0
RC=0
echo 000000 | "$PAMCHECK" --confdir "$S/pam-run" mfa bob >"$T/out" 2>"$T/err" || RC=$?
check "clock setup: bob fails once" rc_is 1
RC=0
echo 000000 | "$PAMCHECK" --confdir "$S/pam-run" mfa carol >"$T/out" 2>"$T/err" || RC=$?
check "clock setup: carol (not enrolled) fails" rc_is 1
check "clock setup: carol's refusal wrote the store's timing decoy" test -s "$STORE/.decoy"
run_check
check "after the logins, with the real clock: exit 0, all ok" all_ok
check "after the logins: the decoy is one of the store's files" has ok "$STORE" \
    '^5 files, all regular'
run_check_at '2020-01-01 00:00:00'
check "clock in 2020: critical for alice's last accepted code" has critical clock \
    "^clock jumped backwards past alice's last accepted code"
check "clock in 2020: critical for bob's last failure" has critical clock \
    "^clock jumped backwards past bob's last failed attempt"
check "clock in 2020: critical for the build date" has critical clock \
    'before this program.s build date'
check "clock in 2020: exit 1, three findings" summary_is 3 0 0
check "clock in 2020: exit 1" rc_is 1

# --- (6) PAM -------------------------------------------------------------------------------
sandbox
cat >"$PAMD/login" <<EOF
auth     requisite   pam_unix.so
#auth    required   pam_mfauth.so
account  required   pam_unix.so
EOF
printf 'auth required pam_deny.so\n' >"$PAMD/other"
run_check
check "module in no stack: error, exit 1" finding error "$PAMD" '^module not in any PAM stack' \
    1 0 1 0

sandbox
rm -r "$PAMD"
run_check
check "PAM directory missing: error, exit 1" finding error "$PAMD" 'cannot open' 1 0 1 0

sandbox
cat >"$PAMD/login" <<EOF
auth     requisite     pam_unix.so
auth     sufficient   pam_mfauth.so
account  required     pam_mfauth.so
EOF
run_check
check "auth sufficient: error at file:line, exit 1" finding error "$PAMD/login:2" \
    "^control 'sufficient'" 1 0 1 0

sandbox
cat >"$PAMD/login" <<EOF
auth     requisite     pam_unix.so
auth     optional     pam_mfauth.so
account  required     pam_mfauth.so
EOF
run_check
check "auth optional: error, exit 1" finding error "$PAMD/login:2" "^control 'optional'" 1 0 1 0

sandbox
cat >"$PAMD/login" <<EOF
auth     required     pam_mfauth.so
auth     requisite     pam_unix.so
account  required     pam_mfauth.so
EOF
run_check
check "mfauth before pam_unix: error, exit 1" finding error "$PAMD/login:1" \
    '^no password module' 1 0 1 0

sandbox
cat >"$PAMD/common-auth" <<EOF
auth     [success=1 default=ignore]   pam_unix.so nullok
auth     requisite                    pam_deny.so
auth     required                     pam_permit.so
EOF
cat >"$PAMD/login" <<EOF
@include common-auth
auth     required     pam_mfauth.so
account  required     pam_mfauth.so
EOF
run_check
check "@include common-auth with pam_unix, then mfauth: ok, exit 0" finding ok "$PAMD/login" \
    'in auth and account$' 0 0 0 0

sandbox
# The README's layout: the module in the common files, services include them.
cat >"$PAMD/common-auth" <<EOF
auth    [success=1 default=ignore]  pam_unix.so nullok
auth    requisite                   pam_deny.so
auth    required                    pam_mfauth.so
EOF
printf 'account required pam_unix.so\naccount required pam_mfauth.so\n' >"$PAMD/common-account"
printf '@include common-auth\n@include common-account\n' >"$PAMD/login"
printf 'auth include common-auth\naccount substack common-account\n' >"$PAMD/sshd"
run_check
check "README layout (common-auth/common-account): exit 0, all ok" all_ok
check "README layout: login found through includes" has ok "$PAMD/login" 'through an include'
check "README layout: include/substack forms followed" has ok "$PAMD/sshd" 'auth and account'

sandbox
cat >"$PAMD/common-auth" <<EOF
auth    required    pam_mfauth.so
EOF
cat >"$PAMD/login" <<EOF
auth    requisite    pam_unix.so
@include common-auth
account required    pam_mfauth.so
EOF
run_check
check "fragment with the module, password module in its includer: exit 0" all_ok
printf '@include common-auth\naccount required pam_mfauth.so\n' >"$PAMD/su"
run_check
check "an includer without a password module before it: error at the fragment" finding error \
    "$PAMD/common-auth:1" '^no password module' 1 0 1 0

sandbox
cat >"$PAMD/login" <<EOF
auth     requisite     pam_unix.so
auth     required     pam_mfauth.so
account  required     pam_unix.so
EOF
run_check
check "no account line: error, exit 1" finding error "$PAMD/login" \
    '^pam_mfauth.so in auth but not in account' 1 0 1 0

sandbox
cat >"$PAMD/login" <<EOF
auth     requisite     pam_unix.so
auth     required     pam_mfauth.so nullok
account  required     pam_mfauth.so
EOF
run_check
check "nullok: warning, exit 0" finding warning "$PAMD/login:2" '^nullok' 0 0 0 1

sandbox
cat >"$PAMD/login" <<EOF
auth     requisite     pam_unix.so
auth     required     pam_mfauth.so nullok=yes
account  required     pam_mfauth.so
EOF
run_check
check "nullok=yes argument: warning, exit 0" finding warning "$PAMD/login:2" '^nullok' 0 0 0 1

sandbox
echo 'nullok = yes' >>"$CONF"
run_check
check "nullok = yes in the config: warning, exit 0" finding warning "$CONF" '^nullok = yes' 0 0 0 1

sandbox
echo 'card_remote = yes' >>"$CONF"
run_check
check "card_remote = yes in the config: warning, exit 0" finding warning "$CONF" '^card_remote = yes' 0 0 0 1

sandbox
cat >"$PAMD/login" <<EOF
auth     requisite     pam_unix.so
-auth    required     pam_mfauth.so
account  required     pam_mfauth.so
EOF
run_check
check "-auth: warning, exit 0" finding warning "$PAMD/login:2" "^'-auth'" 0 0 0 1

sandbox
cat >"$PAMD/login" <<EOF
auth     requisite     pam_unix.so
auth     [success=ok default=ignore]   pam_mfauth.so
account  required     pam_mfauth.so
EOF
run_check
check "[default=ignore]: error, exit 1" finding error "$PAMD/login:2" 'auth_err=ignore' 1 0 1 0

sandbox
cat >"$PAMD/login" <<EOF
auth     requisite     pam_unix.so
auth     [success=ok  auth_err=die
account  required     pam_mfauth.so
EOF
run_check
check "'[' without ']': warning for the line" has warning "$PAMD/login:2" "'\\[' without '\\]'"

sandbox
cat >"$PAMD/login" <<EOF
auth     requisite     pam_unix.so   # the password
auth     [success=ok auth_err=die \\
          default=ignore]   \\
          $MODULE   # the code
account  required     pam_mfauth.so
EOF
run_check
check "[auth_err=die default=ignore] over continuation lines, comments: ok, exit 0" finding ok \
    "$PAMD/login" 'in auth and account$' 0 0 0 0
sed -i 's/auth_err=die/auth_err=ignore/' "$PAMD/login"
run_check
check "the continued line is checked and reported at its first line" finding error \
    "$PAMD/login:2" 'auth_err=ignore' 1 0 1 0

sandbox
{
	good_login
	printf 'session optional pam_env.so %s\n' "$(head -c 100000 /dev/zero | tr '\0' x)"
	printf 'session required pam_limits.so\n'
} >"$PAMD/login"
run_check
check "a 100 kB line: warning, the rest still checked, exit 0" finding warning "$PAMD/login:6" \
    '^line longer than' 0 0 0 1
check "a 100 kB line: the module still found" has ok "$PAMD/login" 'auth and account$'

# --- a password module whose failure still reaches the module (issue 16, item 2) ---------
# With `required` a wrong password still meets the code prompt: anyone can lock
# any clerk, and a wrong password with the right code spends the code.
sandbox
cat >"$PAMD/login" <<EOF
auth     required     pam_unix.so
auth     required     pam_mfauth.so
account  required     pam_mfauth.so
EOF
run_check
check "pam_unix required before mfauth: warning at the password line, exit 0" finding warning \
    "$PAMD/login:1" "^pam_unix.so 'required' in service login: a wrong password still reaches \
pam_mfauth.so \($PAMD/login:2\).*use requisite" 0 0 0 1
sed -i '1s/required /requisite/' "$PAMD/login"
run_check
check "the same stack with requisite: the finding is gone, all ok" all_ok
sed -i '1s/requisite/optional /' "$PAMD/login"
run_check
check "pam_unix optional: warning" finding warning "$PAMD/login:1" "^pam_unix.so 'optional'" \
    0 0 0 1
sed -i '1s/optional /sufficient/' "$PAMD/login"
run_check
check "pam_unix sufficient: error (its success skips the code), exit 1" finding error \
    "$PAMD/login:1" "^pam_unix.so 'sufficient'.*its success skips the second factor" 1 0 1 0

sandbox
# A jump form without the pam_deny line: the failure goes on to the module.
cat >"$PAMD/login" <<EOF
auth     [success=1 default=ignore]   pam_sss.so
auth     required                     pam_permit.so
auth     required                     pam_mfauth.so
account  required                     pam_mfauth.so
EOF
run_check
check "jump form without pam_deny: warning for pam_sss" finding warning "$PAMD/login:1" \
    "^pam_sss.so '\[success=1 default=ignore\]' in service login" 0 0 0 1

sandbox
# Debian's form with two password modules: either failing ends at pam_deny.
cat >"$PAMD/common-auth" <<EOF
auth     [success=2 default=ignore]   pam_unix.so nullok
auth     [success=1 default=ignore]   pam_sss.so use_first_pass
auth     requisite                    pam_deny.so
auth     required                     pam_permit.so
auth     required                     pam_mfauth.so
EOF
printf '@include common-auth\naccount required pam_mfauth.so\n' >"$PAMD/login"
run_check
check "pam_unix then pam_sss jumping over pam_deny: all ok" all_ok

sandbox
# The password line in an included file, the module in the service: named in both.
printf 'auth required pam_winbind.so\n' >"$PAMD/common-auth"
cat >"$PAMD/sshd" <<EOF
@include common-auth
auth     required     pam_mfauth.so
account  required     pam_mfauth.so
EOF
rm "$PAMD/login"
run_check
check "included pam_winbind required: warning at common-auth:1 naming service sshd" finding \
    warning "$PAMD/common-auth:1" "^pam_winbind.so 'required' in service sshd: .*\
\($PAMD/sshd:2\)" 0 0 0 1

# --- (7) sshd's settings, when the sshd stack runs the module (issue 16, item 1) ---------
# Debian's sshd_config: UsePAM yes, KbdInteractiveAuthentication no, passwords on.
# sshd's password mode answers the code prompt with the password.
sandbox
cat >"$PAMD/common-auth" <<EOF
auth     [success=1 default=ignore]   pam_unix.so
auth     requisite                    pam_deny.so
auth     required                     pam_permit.so
auth     required                     pam_mfauth.so
EOF
printf '@include common-auth\naccount required pam_mfauth.so\n' >"$PAMD/sshd"
sshd_config "$S/debian" 'UsePAM yes' 'KbdInteractiveAuthentication no'
run_check_sshd "$S/debian"
check "sshd with KbdInteractiveAuthentication no: warning naming the setting and the fix" \
    finding warning "$S/debian" "^KbdInteractiveAuthentication no with PasswordAuthentication \
yes and UsePAM yes: .*set KbdInteractiveAuthentication yes.*AuthenticationMethods \
publickey,keyboard-interactive" 0 0 0 1
sshd_config "$S/kbd" 'UsePAM yes' 'KbdInteractiveAuthentication yes'
run_check_sshd "$S/kbd"
check "sshd with KbdInteractiveAuthentication yes: ok line, all ok" finding ok "$S/kbd" \
    '^UsePAM yes' 0 0 0 0
sshd_config "$S/kbd-pw" 'UsePAM yes' 'KbdInteractiveAuthentication yes' \
    'AuthenticationMethods publickey,password'
run_check_sshd "$S/kbd-pw"
check "AuthenticationMethods publickey,password: warning" finding warning "$S/kbd-pw" \
    '^AuthenticationMethods publickey,password allows password without keyboard-interactive' \
    0 0 0 1
sshd_config "$S/pk-kbd" 'UsePAM yes' 'KbdInteractiveAuthentication yes' \
    'AuthenticationMethods publickey,keyboard-interactive'
run_check_sshd "$S/pk-kbd"
check "AuthenticationMethods publickey,keyboard-interactive: all ok" all_ok
sshd_config "$S/nopam" 'UsePAM no' 'KbdInteractiveAuthentication yes'
run_check_sshd "$S/nopam"
check "UsePAM no: error, exit 1" finding error "$S/nopam" \
    '^UsePAM no: sshd checks passwords itself' 1 0 1 0
# Match blocks (sshd -T alone prints only the settings outside them): each
# enrolled user is asked for with sshd -T -C user=NAME.  daemon is enrolled
# too: a user the system knows, in group daemon, for Match Group.
printf 'daemon,%s\n' "$SEED" | "$MFAUTH" -c "$CONF" import csv >/dev/null 2>&1
sshd_config "$S/grp" 'UsePAM yes' 'KbdInteractiveAuthentication yes' \
    'PasswordAuthentication no' 'Match Group daemon' '	KbdInteractiveAuthentication no' \
    '	PasswordAuthentication yes'
run_check_sshd "$S/grp"
check "Match Group of an enrolled user turning keyboard-interactive off: warning naming the user" \
    finding warning "$S/grp" "^for daemon \(a Match block\): KbdInteractiveAuthentication no \
with PasswordAuthentication yes" 0 0 0 1
check "Match Group: the settings outside the Match block are still judged ok" has ok "$S/grp" \
    '^UsePAM yes, the code prompt reaches the clerk'
sshd_config "$S/usr" 'UsePAM yes' 'KbdInteractiveAuthentication yes' \
    'PasswordAuthentication no' 'Match User alice,bob' '	PasswordAuthentication yes' \
    '	AuthenticationMethods publickey,password'
run_check_sshd "$S/usr"
check "Match User alice,bob with publickey,password: one warning naming both, exit 0" finding \
    warning "$S/usr" "^for alice, bob \(a Match block\): AuthenticationMethods \
publickey,password allows password without keyboard-interactive" 0 0 0 1
sshd_config "$S/carol" 'UsePAM yes' 'KbdInteractiveAuthentication yes' \
    'PasswordAuthentication no' 'Match User carol' '	PasswordAuthentication yes' \
    '	KbdInteractiveAuthentication no'
run_check_sshd "$S/carol"
check "Match User of a user not enrolled: all ok" all_ok
check "Match User of a user not enrolled: says the 3 enrolled users were asked for" has ok \
    "$S/carol" '^no Match block changes this for the 3 enrolled users'
check "without --sshd-match: an info line says address blocks were not applied" has info \
    "$S/carol" '^Match blocks on Address, Host.*--sshd-match'
sshd_config "$S/addr" 'UsePAM yes' 'KbdInteractiveAuthentication yes' \
    'PasswordAuthentication no' 'Match Address 10.0.0.0/8' '	PasswordAuthentication yes' \
    '	KbdInteractiveAuthentication no'
run_check_sshd "$S/addr"
check "Match Address without --sshd-match: not applied, exit 0" rc_is 0
run_check_sshd "$S/addr" --sshd-match addr=192.0.2.7 --sshd-match addr=10.1.2.3,host=pc1.example
check "Match Address with --sshd-match addr=10.1.2.3: warning for every user under that connection" \
    finding warning "$S/addr" "^for alice, bob, daemon connecting with addr=10.1.2.3,host=pc1.example \
\(a Match block\): KbdInteractiveAuthentication no" 0 0 0 1
check "Match Address with --sshd-match: no info line about unapplied blocks" \
    sh -c '! grep -q "^info: .*Match blocks on Address" "$1"' _ "$T/out"
# The reverse: a bad global setting that a Match block repairs for the clerks.
sshd_config "$S/fix" 'UsePAM yes' 'KbdInteractiveAuthentication no' \
    'Match Group daemon' '	KbdInteractiveAuthentication yes'
run_check_sshd "$S/fix"
check "global warning repaired by Match Group for daemon: the warning stays, daemon's ok said" \
    finding warning "$S/fix" '^KbdInteractiveAuthentication no' 0 0 0 1
check "global warning repaired by Match Group: an ok line for daemon" has ok "$S/fix" \
    '^for daemon \(a Match block\): UsePAM yes'
for bad in user=alice 'addr=1.2.3.4,user=root' 'addr=' 'addr=1.2.3.4 x' 'addr=a=b'; do
	run_check_sshd "$S/kbd" --sshd-match "$bad"
	check "--sshd-match '$bad': usage error, exit 2" rc_is 2
done
# Without the module in the sshd stack, sshd is none of mfauth's business.
printf 'auth requisite pam_unix.so\naccount required pam_unix.so\n' >"$PAMD/sshd"
rm "$PAMD/common-auth"
run_check_sshd "$S/debian"
check "sshd stack without the module: sshd not looked at" sh -c '! grep -q "$1" "$2"' _ \
    "$S/debian" "$T/out"
check "sshd stack without the module: exit 0" rc_is 0

summary
