#!/usr/bin/env bash
# The tool speaks the administrator's language: Japanese in ja_JP.UTF-8,
# English in C, while what scripts read (JSON, the recovery code on the last
# line, exit status) stays the same.  The catalog is the build tree's
# (tests/locale, compiled from po/ja.po by `make check`); a preloaded shim
# points the tool's bindtextdomain() at it.
set -uo pipefail

build=${MFAUTH_BUILDDIR:?set MFAUTH_BUILDDIR}
shim=$build/tests/cli/.libs/locale_shim.so
catalogs=$build/tests/locale

T=$(mktemp -d /tmp/mfauth-i18n.XXXXXX)
trap 'rm -rf "$T"' EXIT
conf=$T/mfauth.conf
printf 'store_dir = %s/store\nkey_file = %s/store.key\n' "$T" "$T" >"$conf"
chmod 600 "$conf"

. "${MFAUTH_SRCDIR:-$(dirname "$0")/../..}/tests/checks.sh"
# run LOCALE ARGS...: the tool in that locale; stdout in $T/out, stderr in $T/err.
run() {
	local lang=$1
	shift
	env -u LC_ALL -u LC_MESSAGES -u LANGUAGE LANG="$lang" \
		LD_PRELOAD="$shim" MFAUTH_TEST_LOCALEDIR="$catalogs" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$build/tools/mfauth" -c "$conf" "$@" >"$T/out" 2>"$T/err"
}
has() { grep -qF -- "$2" "$T/$1"; }
on_check_failure() { sed 's/^/       /' "$T/out" "$T/err" 2>/dev/null || true; }

[ -f "$shim" ] || { echo "no $shim: build with make check"; exit 1; }
[ -f "$catalogs/ja/LC_MESSAGES/mfauth.mo" ] || { echo "no catalog in $catalogs"; exit 1; }
locale -a | grep -ix 'ja_JP\.utf-\?8' >/dev/null ||
	{ echo "the ja_JP.UTF-8 locale is missing: run scripts/setup"; exit 1; }

run C init
check "init" test $? -eq 0

# An unknown user: the error in each language, the same exit status.
run ja_JP.UTF-8 show nobody
check "show nobody fails (ja)" test $? -eq 1
check "show nobody: Japanese error" has err "mfauth: nobody: 登録されていません"
run C show nobody
check "show nobody fails (C)" test $? -eq 1
check "show nobody: English error in C" has err "mfauth: nobody: not enrolled"
check "no Japanese in C" bash -c '! grep -qP "[^\x00-\x7f]" "$0"' "$T/err"

# A usage error, and a message with arguments.
run ja_JP.UTF-8 show
check "usage error exit 2 (ja)" test $? -eq 2
check "usage in Japanese" has err "使い方: mfauth show USER [--json]"
run ja_JP.UTF-8 revoke nobody dog
check "unknown factor in Japanese, with the argument" \
	has err "revoke: 認証要素 'dog' は不明です（totp、card、all のいずれかを指定してください）"

# An enrolled user: labels translated, JSON and the recovery code untouched.
printf 'alice,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n' >"$T/seed"
run ja_JP.UTF-8 import csv <"$T/seed"
check "import csv (ja)" has out "1 行目: alice: 登録しました"
run ja_JP.UTF-8 show alice
check "show: Japanese labels" has out "利用者:"
check "show: factor names stay tokens" has out "totp"
run ja_JP.UTF-8 show alice --json
check "show --json is not translated" \
	grep -q '^{"user":"alice","factors":\["totp"\],"failures":0,"failures_total":0,"locked":false,' "$T/out"
run ja_JP.UTF-8 recovery alice --ttl 1h
check "recovery: Japanese notice" has out "alice さんの一回限りの回復コードです"
check "recovery: the code alone on the last line" \
	bash -c 'tail -n 1 "$0" | grep -qE "^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$"' "$T/out"
run C recovery alice --ttl 1h
check "recovery: English in C" has out "One-time recovery code for alice, valid once until"

# mfauth report: the text in Japanese, the json the same in both languages.
printf '%s\n' 'Nov  3 10:00:00 t1 pam_mfauth[1]: event=auth result=success user=sato factor=totp reason=' \
	'Nov  3 10:00:05 t1 pam_mfauth[1]: event=lock result=locked user=sato factor=totp reason=too_many_failures locked_until=staff' \
	>"$T/trail.log"
rep=(report --since 2026-11-01 --until 2026-11-30 --input "$T/trail.log")
run ja_JP.UTF-8 "${rep[@]}" --format text
check "report text in Japanese: sections and a finding" bash -c 'grep -qF "概要" "$0" && grep -qF "要確認事項" "$0" && grep -qF "担当者が解除するまでロック" "$0"' "$T/out"
run ja_JP.UTF-8 "${rep[@]}" --format json
cp "$T/out" "$T/ja.json"
run C "${rep[@]}" --format json
check "report json: the same in both languages" cmp "$T/out" "$T/ja.json"
run ja_JP.UTF-8 "${rep[@]}" --format html
check "report html in Japanese: lang=ja, sections and the signature box" bash -c 'grep -qF "<html lang=\"ja\">" "$0" && grep -qF "概要" "$0" && grep -qF "点検者" "$0"' "$T/out"
run C "${rep[@]}" --format html
check "report html in English: lang=en" grep -qF '<html lang="en">' "$T/out"

summary
