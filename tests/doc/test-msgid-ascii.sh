#!/usr/bin/env bash
# Every English message (msgid) is plain ASCII.  The English text is what a
# clerk reads wherever the host runs in the C locale -- sshd never calls
# setlocale(), so over ssh it is always the English one -- and OpenSSH's
# client up to 10.2 prints a keyboard-interactive message's non-ASCII bytes
# as octal escapes ("\342\200\224" for an em dash) under any locale
# (doc/DESIGN.md, "Language of the clerk's text").  Checked:
#  - the messages of the sources, extracted afresh with po/Makevars' keywords
#    (po/mfauth.pot is not read: it is generated, and in a working tree it
#    can be older than the sources, failing or passing for the wrong reason);
#  - every msgid and msgid_plural of po/ja.po.
set -uo pipefail

src=${MFAUTH_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}

T=$(mktemp -d /tmp/mfauth-msgid.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$src/tests/checks.sh"

for tool in xgettext msgcat; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "FAIL - $tool is not installed (apt-get install gettext)"
		exit 1
	fi
done

# The msgids of a catalog that hold a byte outside ASCII, one per line
# ("msgid ..." or "msgid_plural ..."), continuation lines joined.
non_ascii_msgids() {
	msgcat --no-wrap --no-location --sort-output "$1" | LC_ALL=C awk '
		/^msgid(_plural)? "/ { id = $0; inid = 1; if (id ~ /[\200-\377]/) print id; next }
		/^"/ && inid { if ($0 ~ /[\200-\377]/) print id " " $0; next }
		{ inid = 0 }'
}

# All msgids of a catalog, to show that the check read something.
count_msgids() {
	msgcat --no-wrap --no-location "$1" | grep -c '^msgid "'
}

# The sources' messages, extracted as po/Makevars does.
xgettext_opts=$(sed -n 's/^XGETTEXT_OPTIONS *= *//p' "$src/po/Makevars")
sources=$(grep -v '^#' "$src/po/POTFILES.in" | grep -v '^$')
# shellcheck disable=SC2086 # the options are words
(cd "$src" && xgettext $xgettext_opts --language=C --output="$T/fresh.pot" $sources) ||
	fail "xgettext over po/POTFILES.in"

catalogs="$T/fresh.pot $src/po/ja.po"

for cat in $catalogs; do
	name=${cat#"$T/"}
	name=${name#"$src/"}
	n=$(count_msgids "$cat")
	check "$name: holds messages ($n msgids)" test "$n" -gt 50
	non_ascii_msgids "$cat" >"$T/bad"
	check "$name: every msgid is plain ASCII" test ! -s "$T/bad"
	sed 's/^/       /' "$T/bad"
done

# The check itself finds a non-ASCII msgid (the em dash this test was written for).
printf 'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid ""\n"cannot be reached \342\200\224 contact staff."\nmsgstr ""\n' >"$T/probe.po"
check "the check finds an em dash in a msgid" test -n "$(non_ascii_msgids "$T/probe.po")"

summary
