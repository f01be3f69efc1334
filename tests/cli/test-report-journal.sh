#!/usr/bin/env bash
# mfauth report reading the systemd journal (issue 15): a journal file built
# from export format with systemd-journal-remote (no journald needed), with
# root's entries and forged ones (our SYSLOG_IDENTIFIER from uid 1000, or
# no _UID); only root's count, the forged are counted and listed as
# untrusted (tests/cli/gen_report_journal.py holds the truth).  Built
# without libsystemd, the journal source must say so and fail.
set -uo pipefail

build=${MFAUTH_BUILDDIR:?set MFAUTH_BUILDDIR}
src=${MFAUTH_SRCDIR:-$(dirname "$0")/../..}
T=$(mktemp -d /tmp/mfauth-report-journal.XXXXXX)
trap 'rm -rf "$T"' EXIT
conf=$T/mfauth.conf
printf 'store_dir = %s/store\nkey_file = %s/store.key\n' "$T" "$T" >"$conf"
chmod 600 "$conf"
export TZ=UTC
mfauth() { "$build/tools/mfauth" -c "$conf" "$@"; }
. "$src/tests/checks.sh"
month=(--since 2026-11-01 --until 2026-11-30)

if ! grep -q '^#define HAVE_LIBSYSTEMD 1' "$build/config.h"; then
	mfauth report "${month[@]}" --input "$T/x.journal" --format json >"$T/out" 2>"$T/err"
	check "without libsystemd: a journal file fails (exit 1)" test $? -eq 1
	check "without libsystemd: it says why" grep -q 'built without libsystemd' "$T/err"
	mfauth report "${month[@]}" --format json >"$T/out" 2>"$T/err"
	check "without libsystemd: no --input (the journal) fails (exit 1)" test $? -eq 1
	check "without libsystemd: it names --input" grep -q 'built without libsystemd.*--input FILE' "$T/err"
	summary
	exit
fi
remote=/lib/systemd/systemd-journal-remote
[ -x "$remote" ] || { echo "no $remote: install systemd-journal-remote (scripts/setup)"; exit 1; }

python3 "$src/tests/cli/gen_report_journal.py" "$T/t.export" "$T/truth.json"
"$remote" --output="$T/t.journal" "$T/t.export" >"$T/remote.log" 2>&1
check "systemd-journal-remote wrote the journal file" test -s "$T/t.journal"
mfauth report "${month[@]}" --input "$T/t.journal" --format json >"$T/r.json"
check "report --input FILE.journal exits 0" test $? -eq 0
check "json: every figure equals the truth; the forged changed nothing" python3 -c '
import json, sys
r = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[2]))
s, l = r["summary"], r["lines"]
got = {"success": sum(s["success"].values()), "failures_total": s["failures_total"],
       "lockouts": s["lockouts"], "staff_unlocks": s["staff_unlocks"], "used": l["used"],
       "untrusted": l["untrusted"], "malformed": l["malformed"], "read": l["read"],
       "outside_period": l["outside_period"]}
if got != t or l["other"] != 0:
    print(got, t); sys.exit(1)' "$T/r.json" "$T/truth.json"
check "json: the forged names are no users" bash -c '! grep -qE "\"user\":\"(boss|nouid)\"" "$0"' "$T/r.json"
check "json: u2 has no lockout (only a forged one)" python3 -c '
import json, sys
u = {x["user"]: x for x in json.load(open(sys.argv[1]))["users"]}
sys.exit(0 if u["u2"]["lockouts"] == 0 and u["u1"]["lockouts"] == 1 else 1)' "$T/r.json"
check "json: each untrusted entry listed" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if sum(m["reason"] == "untrusted" for m in r["malformed"]) == r["lines"]["untrusted"] == 4 else 1)' "$T/r.json"
check "json: _HOSTNAME is the terminal" python3 -c '
import json, sys
sys.exit(0 if [x["terminal"] for x in json.load(open(sys.argv[1]))["terminals"]] == ["term-j1", "term-j2"] else 1)' "$T/r.json"
check "json: the unlock from the journal is a staff action with its note" \
	grep -q '"event":"unlock","result":"success","user":"u1","factor":"","operator":"sato","reason":"phone call","terminal":"term-j1"' "$T/r.json"
# The monthly unit (share/systemd/mfauth-report.*): systemd accepts both files, and its command,
# run here with the built tool, writes last month's html and json, root's alone.
units=("$src/share/systemd/mfauth-report.service" "$src/share/systemd/mfauth-report.timer")
check "systemd-analyze verify: the report units, without a warning" bash -c \
	'out=$(systemd-analyze verify --man=no "$@" 2>&1) && [ -z "$out" ]' _ "${units[@]}"
check "the timer fires on the 1st of each month" bash -c \
	'systemd-analyze calendar "$(sed -n "s/^OnCalendar=//p" "$0")" | grep -q "Next elapse: .*-01 02:30:00"' "${units[1]}"
python3 - "${units[0]}" "$build/tools/mfauth -c $conf" >"$T/unit-cmd.sh" <<'PY'
import re, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
cmd = re.search(r"^ExecStart=/bin/sh -c '(.*)'$", text, re.M).group(1)
print(cmd.replace("%%", "%").replace("/usr/sbin/mfauth", sys.argv[2]))
PY
mkdir -m 0700 "$T/state"
STATE_DIRECTORY=$T/state sh "$T/unit-cmd.sh"
check "the unit's command exits 0" test $? -eq 0
last=$(date -d "$(date +%Y-%m-01) -1 month" +%Y-%m)
check "it wrote last month's html and json, mode 0600" bash -c \
	'[ "$(stat -c %a "$0/mfauth-report-$1.html" "$0/mfauth-report-$1.json")" = "600
600" ]' "$T/state" "$last"
check "the json is last month's report" grep -q "\"period\":{\"since\":\"$last-01T00:00:00" \
	"$T/state/mfauth-report-$last.json"

# Without --input: this machine's journal (whatever it holds), read without error, and the
# current mfauth check in the report, as mfauth check itself says it.
mfauth init >/dev/null
mfauth report --format json >"$T/sys.json"
check "no --input: the system journal is read (exit 0, one json object)" \
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))["lines"]["read"]' "$T/sys.json"
mfauth check --json >"$T/check.json"
echo "$?" >"$T/check.rc"
check "no --input: self_inspection holds mfauth check --json, its results and exit status" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["self_inspection"]
c = json.load(open(sys.argv[2])); rc = int(open(sys.argv[3]).read())
drop = lambda l: [{k: v for k, v in x.items() if k != "message" or x["check"] != "clock"} for x in l]
sys.exit(0 if s["ran"] and s["exit"] == rc and drop(s["results"]) == drop(c) and
         any(x["check"] == "config" for x in c) else 1)' "$T/sys.json" "$T/check.json" "$T/check.rc"
mfauth report --format text >"$T/sys.txt"
check "no --input: the text report ends with mfauth check's lines and summary" bash -c \
	'grep -q "^Self-inspection (mfauth check)$" "$0" && grep -q "^  ok: .*: root-owned" "$0" && grep -q "^  [0-9]* checks, " "$0"' "$T/sys.txt"
summary
