#!/usr/bin/env python3
"""Compare `mfauth report --format json` with gen_report_trail.py's truth.json.

    check_report_json.py REPORT.json TRUTH.json PART

PART is one of summary, lines, users, staff, findings, days, malformed;
exits 0 when every figure of that part equals the truth, 1 (saying which
figure differs) otherwise.

    check_report_json.py REPORT.json REPORT.csv csv
    check_report_json.py REPORT.json REPORT.txt text

check that the csv (every table) and the text (C locale: the summary, each
user's row and reasons, the staff and finding counts, the lines) say what
the json says.
"""
import collections
import csv
import io
import json
import sys


def fail(msg):
    print(msg)
    sys.exit(1)


def csv_tables(path):
    raw = open(path, "rb").read()
    if not raw.startswith(b"\xef\xbb\xbf"):
        fail("csv: no UTF-8 byte-order mark")
    text = raw[3:].decode("utf-8")
    if "\n" in text.replace("\r\n", ""):
        fail("csv: a bare LF line end")
    tables = {}
    for block in text.split("\r\n\r\n"):
        rows = list(csv.reader(io.StringIO(block.replace("\r\n", "\n"))))
        tables[rows[0][0]] = [dict(zip(rows[1], r)) for r in rows[2:]]
    return tables


def check_csv(rep, path):
    t = csv_tables(path)
    if sorted(t) != ["findings", "lines", "malformed", "self_inspection", "staff_actions",
                     "summary", "users"]:
        fail("csv tables: %s" % sorted(t))
    kv = {r["key"]: r["value"] for r in t["summary"]}
    s = rep["summary"]
    want = {"since": rep["period"]["since"], "until": rep["period"]["until"],
            "terminals": s["terminals"], "users_with_logins": s["users_with_logins"],
            "failures_total": s["failures_total"]}
    for k in ("lockouts", "staff_unlocks", "recovery_issued", "recovery_used", "enrollments",
              "revocations", "store_errors", "unknown_user_attempts"):
        want[k] = s[k]
    for f in ("totp", "recovery", "card"):
        want["success_" + f] = s["success"][f]
        want["failure_" + f] = s["failure"][f]
    if kv != {k: str(v) for k, v in want.items()}:
        fail("csv summary %s != %s" % (kv, want))
    users = [{"user": u["user"], "success": str(u["success"]), "failure": str(u["failure"]),
              "lockouts": str(u["lockouts"]), "recovery_used": str(u["recovery_used"]),
              "last_success": u["last_success"] or "",
              "failures_by_reason": " ".join("%s=%d" % kv for kv in
                                             u["failures_by_reason"].items()),
              "terminals": " ".join(u["terminals"])} for u in rep["users"]]
    if t["users"] != users:
        fail("csv users\n%s\n!=\n%s" % (t["users"], users))
    keys = ("time", "event", "result", "user", "operator", "reason", "terminal")
    if t["staff_actions"] != [{k: s[k] or "" for k in keys} for s in rep["staff_actions"]]:
        fail("csv staff_actions differ")
    fk = ("kind", "user", "time", "terminal", "value", "detail")
    if t["findings"] != [{k: str(f[k]) if f[k] is not None else "" for k in fk}
                         for f in rep["findings"]]:
        fail("csv findings differ")
    if {r["key"]: int(r["value"]) for r in t["lines"]} != rep["lines"]:
        fail("csv lines differ")
    if [(m["source"], int(m["line"]), m["reason"]) for m in t["malformed"]] != \
            [(m["source"], m["line"], m["reason"]) for m in rep["malformed"]]:
        fail("csv malformed differ")
    if rep["self_inspection"]["ran"] != bool(t["self_inspection"]):
        fail("csv self_inspection: %d rows, json ran=%s" % (len(t["self_inspection"]),
                                                            rep["self_inspection"]["ran"]))


def check_text(rep, path):
    text = open(path, encoding="utf-8").read()
    s = rep["summary"]
    want = [
        "  terminals:                  %d" % s["terminals"],
        "  users with logins:          %d" % s["users_with_logins"],
        "  successful logins:          %d (totp %d, recovery %d, card %d)" % (
            sum(s["success"].values()), s["success"]["totp"], s["success"]["recovery"],
            s["success"]["card"]),
        "  failed logins:              %d (totp %d, recovery %d, card %d)" % (
            s["failures_total"], s["failure"]["totp"], s["failure"]["recovery"],
            s["failure"]["card"]),
        "  lockouts:                   %d" % s["lockouts"],
        "  staff unlocks:              %d" % s["staff_unlocks"],
        "  recovery codes issued/used: %d / %d" % (s["recovery_issued"], s["recovery_used"]),
        "  enrollments/revocations:    %d / %d" % (s["enrollments"], s["revocations"]),
        "  store errors:               %d" % s["store_errors"],
        "  unknown-user attempts:      %d" % s["unknown_user_attempts"],
    ]
    l = rep["lines"]
    want.append("  read %d, used %d, malformed %d, untrusted %d, other programs %d, "
                "outside the period %d" % (l["read"], l["used"], l["malformed"], l["untrusted"],
                                           l["other"], l["outside_period"]))
    lines = text.split("\n")
    for w in want:
        if w not in lines:
            fail("text: no line %r" % w)
    for u in rep["users"]:
        row = [x for x in lines if x.startswith("  " + u["user"] + " ")]
        if not row or [int(x) for x in row[0][len(u["user"]) + 2:].split()[:4]] != \
                [u["success"], u["failure"], u["lockouts"], u["recovery_used"]]:
            fail("text: user row of %r: %r" % (u["user"], row))
        reasons = " ".join("%s=%d" % kv for kv in u["failures_by_reason"].items())
        if reasons and ("                   failures by reason: " + reasons) not in lines:
            fail("text: reasons of %r" % u["user"])
    sect = lambda name: text.split("\n" + name + "\n")[1].split("\n\n")[0].split("\n")
    if len(sect("Staff actions")) != max(1, len(rep["staff_actions"])):
        fail("text: staff actions %d" % len(sect("Staff actions")))
    if len(sect("Findings")) != max(1, len(rep["findings"])):
        fail("text: findings %d" % len(sect("Findings")))


def main():
    rep = json.load(open(sys.argv[1], encoding="utf-8"))
    part = sys.argv[3]
    if part == "csv":
        return check_csv(rep, sys.argv[2])
    if part == "text":
        return check_text(rep, sys.argv[2])
    truth = json.load(open(sys.argv[2], encoding="utf-8"))
    if part == "summary":
        if rep["summary"] != truth["summary"]:
            fail("summary %s != %s" % (rep["summary"], truth["summary"]))
    elif part == "lines":
        l = rep["lines"]
        if l != truth["lines"]:
            fail("lines %s != %s" % (l, truth["lines"]))
        if l["read"] != l["used"] + l["malformed"] + l["untrusted"] + l["other"] + \
                l["outside_period"]:
            fail("lines do not add up: %s" % l)
    elif part == "users":
        got = {u["user"]: u for u in rep["users"]}
        if sorted(got) != sorted(truth["users"]):
            fail("users %s != %s" % (sorted(got), sorted(truth["users"])))
        for name, t in truth["users"].items():
            u = got[name]
            for k in ("success", "failure", "lockouts", "recovery_used", "last_success",
                      "failures_by_reason"):
                if u[k] != t[k]:
                    fail("%s.%s %r != %r" % (name, k, u[k], t[k]))
            if sorted(u["terminals"]) != t["terminals"]:
                fail("%s.terminals %r != %r" % (name, u["terminals"], t["terminals"]))
            if sum(u["success_by_factor"].values()) != u["success"]:
                fail("%s: success_by_factor does not add up" % name)
    elif part == "staff":
        keys = ("time", "event", "result", "user", "operator", "reason", "terminal")
        got = [{k: s[k] for k in keys} for s in rep["staff_actions"]]
        if got != truth["staff_actions"]:
            fail("staff_actions\n%s\n!=\n%s" % (got, truth["staff_actions"]))
    elif part == "findings":
        got = dict(collections.Counter(f["kind"] for f in rep["findings"]))
        if got != truth["findings"]:
            fail("findings %s != %s" % (got, truth["findings"]))
        if any(not f["detail"] for f in rep["findings"]):
            fail("a finding without detail")
    elif part == "days":
        got = {str(i): [d["success"], d["failure"], d["lockouts"]]
               for i, d in enumerate(rep["days"]) if d["success"] or d["failure"] or d["lockouts"]}
        if got != truth["days"]:
            fail("days %s != %s" % (got, truth["days"]))
    elif part == "malformed":
        if len(rep["malformed"]) != rep["lines"]["malformed"]:
            fail("malformed listed %d, counted %d" % (len(rep["malformed"]),
                                                     rep["lines"]["malformed"]))
        whys = sorted(m["reason"] for m in rep["malformed"])
        want = sorted(["duplicate_key", "bad_quote", "too_long", "nul_byte", "bad_timestamp",
                       "bad_key"])
        if whys != want:
            fail("malformed reasons %s != %s" % (whys, want))
    else:
        fail("unknown part " + part)


if __name__ == "__main__":
    main()
