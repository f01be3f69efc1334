#!/usr/bin/env bash
# `mfauth report` at scale (issue 15: one million lines in under 10 s, memory
# bounded).  Generates N lines of one month (bench/gen_report_lines.py), as
# a plain file and gzipped, and times `mfauth report --format json` over
# each with GNU time (wall seconds, maximum resident set); then a tenth and
# a tenth of a tenth of the lines, to show that memory does not grow with
# the trail.  Root (the tool needs it).
#
#   sudo bench/report.sh --builddir BUILD [--lines N]
set -euo pipefail

build= lines=1000000
while [ $# -gt 0 ]; do
	case $1 in
	--builddir) build=$2; shift 2 ;;
	--lines) lines=$2; shift 2 ;;
	*) echo "usage: $0 --builddir BUILD [--lines N]" >&2; exit 2 ;;
	esac
done
[ -n "$build" ] || { echo "usage: $0 --builddir BUILD [--lines N]" >&2; exit 2; }
src=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/mfauth-report-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
printf 'store_dir = %s/store\nkey_file = %s/store.key\n' "$T" "$T" >"$T/conf"
chmod 600 "$T/conf"
export TZ=UTC
"$build/tools/mfauth" -c "$T/conf" init >/dev/null

run() {   # run LABEL FILE: one timed report; prints "LABEL lines seconds maxrss_kib"
	/usr/bin/time -f '%e %M' -o "$T/time" "$build/tools/mfauth" -c "$T/conf" report \
		--since 2026-11-01 --until 2026-11-30 --input "$2" --format json >"$T/out.json"
	python3 - "$1" "$T/out.json" "$T/time" <<'PY'
import json, sys
r = json.load(open(sys.argv[2])); sec, rss = open(sys.argv[3]).read().split()
print("%-16s %9d lines used  %6.2f s  %7d KiB max RSS" % (sys.argv[1], r["lines"]["used"], float(sec), int(rss)))
PY
}
# What security staff do today without the command, on the same file in the
# same run: count the module's lines with grep, and tally successes and
# failures per user with awk (no period, office hours, findings or trust).
baseline() {   # baseline LABEL FILE
	local cat=cat
	case $2 in *.gz) cat="gzip -dc" ;; esac
	/usr/bin/time -f '%e %M' -o "$T/time" bash -c "$cat \"\$0\" | grep -c 'event=auth '" "$2" >/dev/null
	read -r sec rss <"$T/time"
	printf '%-16s %-22s %6.2f s  %7d KiB max RSS\n' "$1" "grep -c event=auth" "$sec" "$rss"
	/usr/bin/time -f '%e %M' -o "$T/time" bash -c "$cat \"\$0\" | awk '/event=auth /{
		u = \"\"; r = \"\"
		for (i = 1; i <= NF; i++) { if (\$i ~ /^user=/) u = \$i; if (\$i ~ /^result=/) r = \$i }
		n[u \" \" r]++ } END { for (k in n) print k, n[k] }'" "$2" >/dev/null
	read -r sec rss <"$T/time"
	printf '%-16s %-22s %6.2f s  %7d KiB max RSS\n' "$1" "awk per-user tally" "$sec" "$rss"
}
echo "mfauth report, $(nproc) cores, $(uname -r)"
for n in $((lines / 100)) $((lines / 10)) "$lines"; do
	python3 "$src/bench/gen_report_lines.py" "$n" "$T/auth.log"
	touch -d '2026-12-01 02:00' "$T/auth.log"
	run "plain $n" "$T/auth.log"
	baseline "plain $n" "$T/auth.log"
	if [ "$n" = "$lines" ]; then
		gzip -c "$T/auth.log" >"$T/auth.log.1.gz"
		touch -d '2026-12-01 02:00' "$T/auth.log.1.gz"
		run "gzip $n" "$T/auth.log.1.gz"
		baseline "gzip $n" "$T/auth.log.1.gz"
	fi
done
