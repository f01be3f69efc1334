#!/usr/bin/env python3
"""Journal export-format entries with known counts for tests/cli/test-report-journal.sh.

    gen_report_journal.py FILE.export TRUTH.json

Entries of November 2026 (UTC) from two terminals (_HOSTNAME term-j1,
term-j2): root's (_UID=0) module and tool lines, which count; forged ones
with our SYSLOG_IDENTIFIER sent by uid 1000 or with no _UID at all, which
must be counted as untrusted and change no figure; a root entry whose
MESSAGE is not an audit line (malformed); and entries after the period
(outside_period).  systemd-journal-remote turns the file into a journal
file; trusted fields are written as given (doc: the export format).
"""
import calendar
import json
import sys

SINCE = calendar.timegm((2026, 11, 1, 0, 0, 0))


def main():
    export, truth_path = sys.argv[1], sys.argv[2]
    ents = []
    t = SINCE + 3 * 86400 + 9 * 3600
    truth = {"success": 0, "failures_total": 0, "lockouts": 0, "staff_unlocks": 0,
             "used": 0, "untrusted": 0, "malformed": 0, "outside_period": 0}

    def add(uid, ident, host, msg, dt=60):
        nonlocal t
        t += dt
        ents.append((t, uid, ident, host, msg))

    for i in range(12):
        host = "term-j1" if i % 2 else "term-j2"
        add("0", "pam_mfauth", host, "event=auth result=success user=u%d factor=totp reason= "
            "service=login tty=tty1 rhost=" % i)
        truth["success"] += 1
        add("0", "pam_mfauth", host, "event=auth result=fail user=u%d factor=totp "
            "reason=bad_code service=login tty=tty1 rhost= failures=1" % i)
        truth["failures_total"] += 1
        truth["used"] += 2
    add("0", "pam_mfauth", "term-j1", "event=lock result=locked user=u1 factor=totp "
        "reason=too_many_failures service=login tty=tty1 rhost= locked_until=staff")
    add("0", "mfauth", "term-j1", "event=unlock result=success user=u1 reason= "
        "note=\"phone\\x20call\" op_uid=0 op_sudo_user=sato op_loginuid=1000")
    truth["lockouts"] += 1
    truth["staff_unlocks"] += 1
    truth["used"] += 2
    # A clerk's `logger -t pam_mfauth` / `-t mfauth`: same identifier, not root.
    for ident, msg in (
            ("pam_mfauth", "event=lock result=locked user=u2 factor=totp reason=too_many_failures"),
            ("pam_mfauth", "event=auth result=success user=boss factor=totp reason="),
            ("mfauth", "event=unlock result=success user=u3 reason= op_uid=0")):
        add("1000", ident, "term-j2", msg)
        truth["untrusted"] += 1
    ents.append((t + 1, None, "pam_mfauth", "term-j2",
                 "event=auth result=success user=nouid factor=totp reason="))
    truth["untrusted"] += 1
    add("0", "pam_mfauth", "term-j2", "Authentication failure for u4")
    truth["malformed"] += 1
    add("0", "pam_mfauth", "term-j2", "event=auth result=success user=late factor=totp reason=",
        dt=40 * 86400)
    truth["outside_period"] += 1
    with open(export, "w", encoding="utf-8") as f:
        for i, (ts, uid, ident, host, msg) in enumerate(ents):
            f.write("__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n"
                    "_BOOT_ID=0123456789abcdef0123456789abcdef\n" % (ts * 1000000, (i + 1) * 1000000))
            if uid is not None:
                f.write("_UID=%s\n" % uid)
            f.write("SYSLOG_IDENTIFIER=%s\n_HOSTNAME=%s\nMESSAGE=%s\n\n" % (ident, host, msg))
    truth["read"] = len(ents)
    with open(truth_path, "w") as f:
        json.dump(truth, f)


if __name__ == "__main__":
    main()
