# Sourced by the helper tests (bash): the common stage, inside the private
# mount namespace sinkrun made.  helper_stage [CONFIG LINES...] sets T (the
# test's directory), conf, helper (the setuid copy), module, the PAM services
# lock (auth), acct (pam_permit + account), nohelper, notsetuid, and three
# clerks mfa_a/b/c (uids 61001-61003, TOTP seeds in $T/seeds) that exist only
# in this namespace's private /etc.  Exits 77 (SKIP) where a setuid helper
# cannot be tested.
helper_stage() {
	T=$(mktemp -d /tmp/mfauth-helper.XXXXXX)
	trap 'rm -rf "$T"' EXIT
	chmod 755 "$T"
	if findmnt -no OPTIONS -T "$T" | grep -qw nosuid; then
		echo "SKIP: $T is on a nosuid file system"
		exit 77
	fi
	if [ ! -d "$sysconf" ]; then
		echo "SKIP: $sysconf (the compiled-in configuration directory) does not exist to bind over"
		exit 77
	fi
	# sinkrun's namespace is ours: nothing mounted here is seen outside.
	cp -a /etc "$T/etc" && mount --bind "$T/etc" /etc || { echo "cannot bind a private /etc"; exit 1; }
	if [ "$sysconf" != /etc ]; then
		cp -a "$sysconf" "$T/sysconf" && mount --bind "$T/sysconf" "$sysconf" ||
			{ echo "cannot bind a private $sysconf"; exit 1; }
	fi
	# The module logs as the clerk: /dev/log is writable by all, as on any system.
	chmod 666 /dev/log
	for u in a:61001 b:61002 c:61003; do
		name=mfa_${u%%:*} id=${u#*:}
		printf '%s:x:%s:%s::/nonexistent:/usr/sbin/nologin\n' "$name" "$id" "$id" >>/etc/passwd
		printf '%s:x:%s:\n' "$name" "$id" >>/etc/group
		printf '%s:*:19000:0:99999:7:::\n' "$name" >>/etc/shadow
	done

	mkdir -p "$sysconf/mfauth"
	conf=$sysconf/mfauth/mfauth.conf
	printf 'store_dir = %s/store\nkey_file = %s/store.key\n' "$T" "$T" >"$conf"
	printf '%s\n' "$@" >>"$conf"
	chmod 644 "$conf"       # as installed: the module in a locker reads it as the clerk
	mfauth() { "$build/tools/mfauth" -c "$conf" "$@"; }
	mfauth init >/dev/null
	for u in a b c; do
		printf 'mfa_%s,%s\n' "$u" "$(head -c 20 /dev/urandom | base32 | tr -d '=')"
	done >"$T/seeds"
	mfauth import csv <"$T/seeds" >/dev/null || { echo "import failed"; exit 1; }

	mkdir "$T/bin" "$T/pam.d"
	helper=$T/bin/mfauth-verify
	cp "$build/helper/mfauth-verify" "$helper" && chown root:root "$helper" && chmod 4755 "$helper"
	cp "$build/helper/mfauth-verify" "$T/bin/not-setuid" && chmod 755 "$T/bin/not-setuid"
	module=$build/pam_module/.libs/pam_mfauth.so
	printf 'auth required %s helper=%s\n' "$module" "$helper" >"$T/pam.d/lock"
	printf 'auth required pam_permit.so\naccount required %s helper=%s\n' "$module" "$helper" \
		>"$T/pam.d/acct"
	printf 'auth required %s helper=%s/bin/absent\n' "$module" "$T" >"$T/pam.d/nohelper"
	printf 'auth required %s helper=%s/bin/not-setuid\n' "$module" "$T" >"$T/pam.d/notsetuid"
	printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$T/pam.d/other"
	chmod -R a+rX "$T/pam.d" "$T/bin"
}

# What the tests call (after helper_stage).
not() { ! "$@"; }
status_is() { local want=$1; shift; "$@"; [ $? -eq "$want" ]; }
uid_of() { id -u "$1"; }
seed_of() { sed -n "s/^$1,//p" "$T/seeds"; }
code_of() { oathtool --totp -b -N "@$(($(date +%s) + ${2:-0}))" "$(seed_of "$1")"; }
wrong_of() { local c; c=$(code_of "$1"); printf '%s%d' "${c:0:5}" $(((${c:5:1} + 5) % 10)); }
# as CALLER CMD...: run as that clerk, as a locker would.
as() { local u=$1; shift; setpriv --reuid="$(uid_of "$u")" --regid="$(uid_of "$u")" --init-groups "$@"; }
# lock CALLER USER ANSWER [SERVICE [OPTIONS]]: the PAM application as CALLER; output in $T/out.
lock() {
	as "$1" "$build/tests/pam/pamcheck" ${5:-} --confdir "$T/pam.d" --no-fail-delay "${4:-lock}" \
		"$2" <<<"$3" >"$T/out" 2>&1
}
failures_of() { mfauth show "$1" --json | sed -n 's/.*"failures": *\([0-9]*\).*/\1/p'; }
locked_of() { mfauth show "$1" --json | grep -q '"locked": *true'; }
audited() { sleep 0.1; grep -q "$1" "$audit"; }
on_check_failure() { sed 's/^/       | /' "$T/out" 2>/dev/null | head -20; }
