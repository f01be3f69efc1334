#!/usr/bin/env bash
# mfauth report --format html in a real browser (issue 15): Debian's headless
# Chromium renders the generated month (tests/cli/gen_report_trail.py) to a
# DOM, a PDF and a PNG.  The page loads nothing from outside and logs no
# console message; every figure in the rendered page equals the json of the
# same report; the PDF is A4 with each section on its own page; hostile
# names are text, not markup (tests/cli/check_report_html.py).
set -uo pipefail

build=${MFAUTH_BUILDDIR:?set MFAUTH_BUILDDIR}
src=${MFAUTH_SRCDIR:-$(dirname "$0")/../..}
T=$(mktemp -d /tmp/mfauth-report-html.XXXXXX)
trap 'rm -rf "$T"' EXIT
conf=$T/mfauth.conf
printf 'store_dir = %s/store\nkey_file = %s/store.key\n' "$T" "$T" >"$conf"
chmod 600 "$conf"
export TZ=UTC
mfauth() { "$build/tools/mfauth" -c "$conf" "$@"; }
. "$src/tests/checks.sh"
command -v chromium >/dev/null || { echo "no chromium: apt-get install chromium (scripts/setup)"; exit 1; }
# As root Chromium needs --no-sandbox; its own profile in $T, so no state is shared.
browser() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer \
		--user-data-dir="$T/profile" "$@"
}
chk() { python3 "$src/tests/cli/check_report_html.py" "$@"; }

G=$T/trail
python3 "$src/tests/cli/gen_report_trail.py" "$G"
month=(--since 2026-11-01 --until 2026-11-30)
files=(--input "$G/auth.log" --input "$G/auth.log.1" --input "$G/auth.log.2.gz" --input "$G/collector.log")
mfauth init >/dev/null
mfauth report "${month[@]}" "${files[@]}" --format json >"$T/r.json"
mfauth report "${month[@]}" "${files[@]}" --format html --output "$T/r.html"
check "report --format html writes a page" test -s "$T/r.html"
check "the page loads nothing from outside (no src, href, url(), @import, script, link)" \
	chk static "$T/r.html"
check "the charts are inline SVG (3)" test "$(grep -o '<svg ' "$T/r.html" | wc -l)" -eq 3
check "print CSS: A4, page breaks, a signature box" bash -c \
	'grep -q "@page{size:A4" "$0" && grep -q "page-break-before:always" "$0" && grep -q "class=\"sign\"" "$0"' "$T/r.html"

# The console canary: a page that logs an error must be seen, or the check below proves nothing.
printf '<!DOCTYPE html><html><body><script>console.error("canary-err")</script></body></html>' >"$T/canary.html"
browser --enable-logging=stderr --v=0 --dump-dom "file://$T/canary.html" >/dev/null 2>"$T/canary.err"
check "the console check sees a console.error (canary)" grep -q 'CONSOLE.*canary-err' "$T/canary.err"
browser --enable-logging=stderr --v=0 --dump-dom "file://$T/r.html" >"$T/dom.html" 2>"$T/console.err"
check "Chromium rendered the DOM" grep -q 'data-k="read"' "$T/dom.html"
check "no console message while loading" bash -c '! grep -q "CONSOLE" "$0"' "$T/console.err"
check "every figure in the rendered page equals the json" chk dom "$T/dom.html" "$T/r.json"
browser --print-to-pdf="$T/r.pdf" "file://$T/r.html" >/dev/null 2>&1
check "the PDF is A4, at least 6 pages" chk pdf "$T/r.pdf" 6+
browser --screenshot="$T/r.png" --window-size=900,1400 "file://$T/r.html" >/dev/null 2>&1
check "the screenshot is a 900x1400 PNG" chk png "$T/r.png" 900 1400

# A small report: exactly one page per section (summary and charts take two), and a
# name that is markup shows as text.
printf '%s\n' 'Nov  3 10:00:00 t1 pam_mfauth[1]: event=auth result=fail user="<b>x</b>&" factor=totp reason=bad_code' \
	'Nov  3 10:00:01 t1 pam_mfauth[1]: event=auth result=success user=sato factor=totp reason=' >"$T/small.log"
mfauth report "${month[@]}" --input "$T/small.log" --format json >"$T/s.json"
mfauth report "${month[@]}" --input "$T/small.log" --format html --output "$T/s.html"
browser --print-to-pdf="$T/s.pdf" "file://$T/s.html" >/dev/null 2>&1
check "small report: A4, 6 pages (summary and charts 2, users, staff, findings, lines and signature)" \
	chk pdf "$T/s.pdf" 6
browser --dump-dom "file://$T/s.html" >"$T/s.dom" 2>/dev/null
check "small report: the page's figures equal the json" chk dom "$T/s.dom" "$T/s.json"
check "a user name with markup is escaped, not rendered" bash -c \
	'grep -qF "data-user=\"&lt;b&gt;x&lt;/b&gt;&amp;\"" "$0" && ! grep -qF "<b>x</b>" "$0"' "$T/s.dom"
summary
