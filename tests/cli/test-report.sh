#!/usr/bin/env bash
# mfauth report (issue 15) through the built tool: a generated month of
# audit lines from three terminals (tests/cli/gen_report_trail.py: every
# event type, rotated .gz files, three syslog formats, a clock set back,
# malformed and forged lines) and its truth.json; every figure of
# --format json equals the truth (tests/cli/check_report_json.py), whatever
# the order of the files; dormant enrollments come from a real store; the
# options refuse what they cannot read; every run is audited (event=report).
set -uo pipefail

build=${MFAUTH_BUILDDIR:?set MFAUTH_BUILDDIR}
src=${MFAUTH_SRCDIR:-$(dirname "$0")/../..}
if [ -z "${MFAUTH_REPORT_INNER:-}" ]; then
	log=$(mktemp /tmp/mfauth-report-audit.XXXXXX)
	MFAUTH_REPORT_INNER=$log "$build/tests/sinkrun" "$log" bash "$0"
	rc=$?
	rm -f "$log"
	exit $rc
fi
audit=$MFAUTH_REPORT_INNER

T=$(mktemp -d /tmp/mfauth-report.XXXXXX)
trap 'rm -rf "$T"' EXIT
conf=$T/mfauth.conf
printf 'store_dir = %s/store\nkey_file = %s/store.key\n' "$T" "$T" >"$conf"
chmod 600 "$conf"
# The trail is in UTC: the report's local time must be too.
export TZ=UTC
mfauth() { "$build/tools/mfauth" -c "$conf" "$@"; }
. "$src/tests/checks.sh"

G=$T/trail
python3 "$src/tests/cli/gen_report_trail.py" "$G"
month=(--since 2026-11-01 --until 2026-11-30)
files=(--input "$G/auth.log" --input "$G/auth.log.1" --input "$G/auth.log.2.gz" --input "$G/collector.log")
rfiles=(--input "$G/collector.log" --input "$G/auth.log.2.gz" --input "$G/auth.log.1" --input "$G/auth.log")
cmp_json() { python3 "$src/tests/cli/check_report_json.py" "$T/r.json" "$G/truth.json" "$1"; }

mfauth init >/dev/null
mfauth report "${month[@]}" "${files[@]}" --format json >"$T/r.json"
check "report --format json exits 0" test $? -eq 0
check "json: one valid object" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/r.json"
check "json: period is November (until exclusive)" grep -q \
	'"period":{"since":"2026-11-01T00:00:00+00:00","until":"2026-12-01T00:00:00+00:00"}' "$T/r.json"
for part in summary lines users staff findings days malformed; do
	check "json: $part equals the generated truth" cmp_json "$part"
done
check "json: --input only: mfauth check not run (self_inspection.ran false)" grep -q '"self_inspection":{"ran":false}' "$T/r.json"
check "json: the forged user name stays one user" grep -q '"user":"x event=lock"' "$T/r.json"
check "json: the Japanese note of an unlock reads back" grep -q '"reason":"電話を紛失"' "$T/r.json"
mfauth report "${month[@]}" "${rfiles[@]}" --format json >"$T/r2.json"
# The malformed list names files in the order read; everything else is the same.
check "json: the same report whatever the order of the files" python3 -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for r in (a, b):
    r["malformed"] = sorted((m["source"], m["line"], m["reason"]) for m in r["malformed"])
sys.exit(0 if a == b else 1)' "$T/r.json" "$T/r2.json"

# csv and text say what json says.
mfauth report "${month[@]}" "${files[@]}" --format csv >"$T/r.csv"
check "csv: every table agrees with json (BOM, CRLF)" \
	python3 "$src/tests/cli/check_report_json.py" "$T/r.json" "$T/r.csv" csv
mfauth report "${month[@]}" "${files[@]}" --format text >"$T/r.txt"
check "text: summary, users, lists and lines agree with json" \
	python3 "$src/tests/cli/check_report_json.py" "$T/r.json" "$T/r.txt" text
# Hostile values from a log: a formula for the spreadsheet, an escape for the terminal.
printf '%s\n' 'Nov  3 10:00:00 t pam_mfauth[1]: event=auth result=fail user="=cmd|x" factor=totp reason=bad_code' \
	'Nov  3 10:00:01 t pam_mfauth[1]: event=auth result=fail user="a\x1b[2Jb" factor=totp reason=bad_code' \
	>"$T/hostile.log"
mfauth report "${month[@]}" --input "$T/hostile.log" --format csv >"$T/hostile.csv"
check "csv: a cell from a log that starts with = is not a formula" grep -q "^\"'=cmd|x\"," "$T/hostile.csv"
mfauth report "${month[@]}" --input "$T/hostile.log" --format text >"$T/hostile.txt"
check "text: an escape byte from a log shows as ?" grep -q 'a?\[2Jb' "$T/hostile.txt"
check "text: no escape byte reaches the terminal" bash -c '! grep -q $'"'"'\x1b'"'"' "$0"' "$T/hostile.txt"

# Office hours: all day on weekdays leaves only the weekend's logins outside.
mfauth report "${month[@]}" "${files[@]}" --format json --hours 00:00-24:00 >"$T/h.json"
check "--hours 00:00-24:00: outside_hours = weekend successes" python3 -c '
import json, sys
r = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[2]))
n = sum(1 for f in r["findings"] if f["kind"] == "outside_hours")
sys.exit(0 if n == t["weekend_success"] and n > 0 else 1)' "$T/h.json" "$G/truth.json"

# A period of one day: only its lines are used.
mfauth report --since 2026-11-02 --until 2026-11-02 "${files[@]}" --format json >"$T/d.json"
check "--since/--until one day: the day's figures only" python3 -c '
import json, sys
r = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[2]))
d = t["days"]["1"]
ok = (len(r["days"]) == 1 and [r["days"][0][k] for k in ("success", "failure", "lockouts")] == d
      and r["summary"]["lockouts"] == d[2] and r["lines"]["used"] < t["lines"]["used"])
sys.exit(0 if ok else 1)' "$T/d.json" "$G/truth.json"

# Dormant enrollments, from the store: enrolled now, so dormant a year on.
printf 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n' | mfauth enroll totp dora --secret-stdin --no-confirm \
	--qr none >/dev/null 2>&1
next=$(date -d '+400 days' +%Y-%m-%d)
mfauth report --since "$(date -d '+399 days' +%Y-%m-%d)" --until "$next" "${files[@]}" --dormant 30 \
	--format json >"$T/dorm.json"
check "--dormant 30, a year on: dora is dormant, from the store" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
f = [x for x in r["findings"] if x["kind"] == "dormant"]
sys.exit(0 if r["store"]["checked"] and [x["user"] for x in f] == ["dora"] and f[0]["value"] >= 399 else 1)' "$T/dorm.json"
mfauth report --since "$(date -d '+399 days' +%Y-%m-%d)" --until "$next" "${files[@]}" --dormant 3650 \
	--format json >"$T/dorm2.json"
check "--dormant 3650: nobody is dormant" bash -c '! grep -q "\"kind\":\"dormant\"" "$0"' "$T/dorm2.json"
printf 'store_dir = %s/nostore\nkey_file = %s/nostore.key\n' "$T" "$T" >"$T/nostore.conf"
chmod 600 "$T/nostore.conf"
"$build/tools/mfauth" -c "$T/nostore.conf" report "${month[@]}" "${files[@]}" --format json \
	>"$T/nostore.json" 2>/dev/null
check "no store here (a collector): the report still comes, saying why" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if not r["store"]["checked"] and r["store"]["note"] and r["lines"]["used"] > 0 else 1)' "$T/nostore.json"

# --output: root's alone.
mfauth report "${month[@]}" "${files[@]}" --format json --output "$T/out.json"
check "--output writes the same report" cmp "$T/r.json" "$T/out.json"
check "--output is mode 0600" test "$(stat -c %a "$T/out.json")" = 600

# What the options refuse (exit 2) and what fails (exit 1).
expect_rc() { local want=$1; shift; "$@" >/dev/null 2>&1; [ $? -eq "$want" ]; }
check "--hours 20:00-08:00 refused" expect_rc 2 mfauth report "${files[@]}" --hours 20:00-08:00
check "--hours 8-20 refused" expect_rc 2 mfauth report "${files[@]}" --hours 8-20
check "--since 2026-13-01 refused" expect_rc 2 mfauth report "${files[@]}" --since 2026-13-01
check "--since 2026-11-01x refused" expect_rc 2 mfauth report "${files[@]}" --since 2026-11-01x
check "--until before --since refused" expect_rc 2 mfauth report "${files[@]}" --since 2026-11-05 \
	--until 2026-11-01
check "--format pdf refused" expect_rc 2 mfauth report "${files[@]}" --format pdf
check "--dormant 0 refused" expect_rc 2 mfauth report "${files[@]}" --dormant 0
check "a stray argument refused" expect_rc 2 mfauth report "${files[@]}" extra
check "a missing input file fails" expect_rc 1 mfauth report --input "$T/none.log"
check "a directory as input fails" expect_rc 1 mfauth report --input "$T"

# Audited, as every action of the tool.
check "audit: event=report with format and period" grep -q \
	'event=report result=success user= reason= format=json since=2026-11-01T00:00:00+00:00 until=2026-12-01T00:00:00+00:00 lines=' "$audit"
check "audit: a failed report too" grep -q 'event=report result=fail user= reason=input' "$audit"
summary
