#!/usr/bin/env python3
"""Audit trails with known counts for tests/cli/test-report.sh (`mfauth report`).

    gen_report_trail.py DIR

writes into DIR the syslog files of November 2026 (UTC) from three
terminals, and truth.json: every figure `mfauth report --format json
--since 2026-11-01 --until 2026-11-30` must give, computed here from the
events as they are written, independently of the C code.

  term-a  RFC 3164 (rsyslog's auth.log), rotated: auth.log.2.gz (days 1-10,
          and a line of 31 October), auth.log.1 (11-20, with the clock set
          back one hour on the 15th), auth.log (21-30, and a line of
          1 December); file times set so each stamp's year is found.
  term-b  RFC 5424 in collector.log, silent on days 12-20 (a gap of 9 days).
  term-c  rsyslog's RFC 3339 format in collector.log, silent after day 9
          (its trail stops: 21 days).
Every event type of doc/DESIGN.md §3 appears, values that need quoting
(a Japanese user name and note, a name with a blank and "event=lock"),
other programs' lines, and malformed lines of several kinds (a forged
second event=, a broken escape, a line of 5,000 bytes, a NUL byte, a bad
stamp, free text under our ident).
"""
import calendar
import gzip
import json
import os
import random
import sys

SINCE = calendar.timegm((2026, 11, 1, 0, 0, 0))
UNTIL = calendar.timegm((2026, 12, 1, 0, 0, 0))
DAY = 86400
HOURS = (8 * 60, 20 * 60)
USERS = ["alice", "bob", "carol", "dave", "erin", "\u7530\u4e2d"]
FACTORS = ["totp", "recovery", "card"]
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def quote(v):
    """lib/audit.c's rule: bare only with [A-Za-z0-9._@:/+-]."""
    b = v.encode()
    ok = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@:/+-")
    if all(c in ok for c in b):
        return v
    out = '"'
    for c in b:
        if c in (0x22, 0x5C):
            out += "\\" + chr(c)
        elif c <= 0x20 or c >= 0x7F:
            out += "\\x%02x" % c
        else:
            out += chr(c)
    return out + '"'


def fields(pairs):
    return " ".join("%s=%s" % (k, quote(v)) for k, v in pairs)


def iso(t):
    return "" if not t else \
        "%04d-%02d-%02dT%02d:%02d:%02d+00:00" % tuple(__import__("time").gmtime(t)[:6])


class Trail:
    def __init__(self):
        self.rng = random.Random(15)
        self.events = []          # (t, host, ident, msg)
        self.t = {
            "success": dict.fromkeys(FACTORS, 0), "failure": dict.fromkeys(FACTORS, 0),
            "failures_total": 0, "lockouts": 0, "staff_unlocks": 0, "recovery_issued": 0,
            "recovery_used": 0, "enrollments": 0, "revocations": 0, "store_errors": 0,
            "unknown_user_attempts": 0,
        }
        self.users = {}
        self.staff = []
        self.kinds = {}
        self.faildays = {}        # (user, day) -> [failures, lockouts]
        self.unknown = set()
        self.days = {}
        self.weekend_success = 0  # outside_hours with --hours 00:00-24:00

    def user(self, name):
        return self.users.setdefault(name, {
            "success": 0, "failure": 0, "lockouts": 0, "recovery_used": 0,
            "last_success": 0, "terminals": set(), "reasons": {}})

    def finding(self, kind, n=1):
        self.kinds[kind] = self.kinds.get(kind, 0) + n

    def day(self, t):
        return self.days.setdefault((t - SINCE) // DAY, [0, 0, 0])

    def module(self, t, host, pairs):
        self.events.append((t, host, "pam_mfauth", fields(pairs)))
        if not SINCE <= t < UNTIL:
            return
        f = dict(pairs)
        ev, res, name = f["event"], f["result"], f["user"]
        u = self.user(name) if name else None
        if ev == "auth" and res == "success":
            self.t["success"][f["factor"]] += 1
            self.day(t)[0] += 1
            u["success"] += 1
            u["last_success"] = max(u["last_success"], t)
            u["terminals"].add(host)
            wd = __import__("time").gmtime(t).tm_wday  # Monday 0
            minute = (t % DAY) // 60
            if wd >= 5 or not HOURS[0] <= minute < HOURS[1]:
                self.finding("outside_hours")
            if wd >= 5:
                self.weekend_success += 1
        elif ev == "auth" and res in ("fail", "replay", "locked"):
            if f.get("factor") in FACTORS:
                self.t["failure"][f["factor"]] += 1
            self.t["failures_total"] += 1
            self.day(t)[1] += 1
            u["failure"] += 1
            why = f.get("reason") if res == "fail" else res
            u["reasons"][why] = u["reasons"].get(why, 0) + 1
            u["terminals"].add(host)
            if res != "locked":
                self.faildays.setdefault((name, (t - SINCE) // DAY), [0, 0])[0] += 1
            if f.get("reason") in ("no_user", "not_enrolled"):
                self.t["unknown_user_attempts"] += 1
                self.unknown.add(name)
        elif ev == "lock":
            self.t["lockouts"] += 1
            self.day(t)[2] += 1
            u["lockouts"] += 1
            self.faildays.setdefault((name, (t - SINCE) // DAY), [0, 0])[1] += 1
            self.finding("lockout")
        elif ev == "account" and f.get("reason") == "unknown_user":
            self.t["unknown_user_attempts"] += 1
            self.unknown.add(name)
        elif ev == "recovery_used":
            self.t["recovery_used"] += 1
            u["recovery_used"] += 1
        elif ev == "store_error":
            self.t["store_errors"] += 1
            self.finding("store_error")

    def tool(self, t, host, event, result, user, reason, extra, sudo="sato"):
        pairs = [("event", event), ("result", result), ("user", user), ("reason", reason)]
        pairs += extra + [("op_uid", "0"), ("op_sudo_user", sudo), ("op_loginuid", "1000")]
        self.events.append((t, host, "mfauth", fields(pairs)))
        if not SINCE <= t < UNTIL:
            return
        if user:
            self.user(user)
        ok = result == "success"
        key = {"enroll": "enrollments", "revoke": "revocations", "unlock": "staff_unlocks",
               "recovery_issued": "recovery_issued"}.get(event)
        if ok and key:
            self.t[key] += 1
        note = dict(extra).get("note", "")
        self.staff.append({"time": iso(t), "event": event, "result": result, "user": user,
                           "operator": sudo or "loginuid=1000", "reason": note or reason, "terminal": host})

    def login_src(self, host):
        return [("service", "login"), ("tty", "tty1"), ("rhost", "")]

    def random_day(self, host, d):
        base = SINCE + d * DAY
        for _ in range(self.rng.randint(3, 7)):
            t = base + self.rng.randint(5 * 3600, 23 * 3600)
            name = self.rng.choice(USERS)
            factor = "card" if self.rng.random() < 0.25 else "totp"
            roll = self.rng.random()
            src = self.login_src(host)
            if roll < 0.6:
                self.module(t, host, [("event", "auth"), ("result", "success"), ("user", name),
                                      ("factor", factor), ("reason", "")] + src)
            elif roll < 0.85:
                reason = self.rng.choice(["bad_pin", "wrong_card"] if factor == "card"
                                         else ["bad_code", "malformed_code", "expired"])
                self.module(t, host, [("event", "auth"), ("result", "fail"), ("user", name),
                                      ("factor", factor), ("reason", reason)] + src +
                            [("failures", "1")])
            elif roll < 0.93:
                self.module(t, host, [("event", "auth"), ("result", "replay"), ("user", name),
                                      ("factor", "totp"), ("reason", "replay")] + src)
            else:
                self.module(t, host, [("event", "auth"), ("result", "locked"), ("user", name),
                                      ("factor", factor), ("reason", "locked")] + src +
                            [("failures", "5")])

    def scripted(self):
        """The events each finding and staff action is about, at fixed times."""
        src = self.login_src("term-a")
        a = "term-a"
        at = lambda d, h, m=0: SINCE + (d - 1) * DAY + h * 3600 + m * 60
        # A lockout after five failures on day 2 (no repeated_failures finding that day).
        for i in range(5):
            self.module(at(2, 9, i), a, [("event", "auth"), ("result", "fail"), ("user", "alice"),
                                         ("factor", "totp"), ("reason", "bad_code")] + src +
                        [("failures", str(i + 1))])
        self.module(at(2, 9, 4), a, [("event", "lock"), ("result", "locked"), ("user", "alice"),
                                     ("factor", "totp"), ("reason", "too_many_failures")] + src +
                    [("locked_until", str(at(2, 9, 19)))])
        self.module(at(2, 10), a, [("event", "lock"), ("result", "locked"), ("user", "bob"),
                                   ("factor", "totp"), ("reason", "too_many_failures_total")] +
                    src + [("locked_until", "staff")])
        self.tool(at(2, 11), a, "unlock", "success", "bob", "",
                  [("note", "\u96fb\u8a71\u3092\u7d1b\u5931")])
        # Recovery: used at once (bob), used 26 hours later (carol), never used (dave).
        self.tool(at(3, 10), a, "recovery_issued", "success", "bob", "",
                  [("ttl", "24h"), ("note", "phone lost")])
        self.module(at(3, 10, 30), a, [("event", "recovery_used"), ("result", "success"),
                                       ("user", "bob"), ("factor", "recovery"), ("reason", "")] + src)
        self.module(at(3, 10, 30), a, [("event", "auth"), ("result", "success"), ("user", "bob"),
                                       ("factor", "recovery"), ("reason", "")] + src)
        self.tool(at(5, 9), a, "recovery_issued", "success", "carol", "",
                  [("ttl", "7d"), ("note", "card at home")])
        self.module(at(6, 11), a, [("event", "recovery_used"), ("result", "success"),
                                   ("user", "carol"), ("factor", "recovery"), ("reason", "")] + src)
        self.module(at(6, 11), a, [("event", "auth"), ("result", "success"), ("user", "carol"),
                                   ("factor", "recovery"), ("reason", "")] + src)
        self.finding("recovery_late")
        self.tool(at(24, 9), a, "recovery_issued", "success", "dave", "", [("ttl", "24h"),
                                                                           ("note", "")])
        self.finding("recovery_unused")
        # Staff actions of every kind, one refused.
        self.tool(at(1, 9), a, "init", "success", "", "", [("store_dir", "/var/lib/mfauth")])
        self.tool(at(1, 9, 5), a, "enroll", "success", "erin", "", [("factor", "totp")])
        self.tool(at(1, 9, 6), "term-b", "enroll", "success", "\u7530\u4e2d", "",
                  [("factor", "card"), ("profile", "jpki"), ("serial", "0A1B"),
                   ("card_check", "cert_serial")])
        self.tool(at(7, 14), a, "revoke", "fail", "erin", "last_factor", [("factor", "totp")])
        self.tool(at(7, 14, 1), a, "revoke", "success", "erin", "", [("factor", "all")])
        self.tool(at(25, 16), a, "rekey", "success", "", "", [("users", "6")], sudo="")
        self.module(at(8, 8), a, [("event", "store_error"), ("result", "fail"), ("user", "erin"),
                                  ("reason", "io"), ("detail", "/var/lib/mfauth/erin.state")])
        # Unknown names: at the account step and the decoy's auth lines.
        for i in range(3):
            self.module(at(4, 3, i), "term-b", [("event", "account"), ("result", "fail"),
                                                ("user", "ghost"), ("reason", "unknown_user"),
                                                ("service", "sshd"), ("tty", "ssh"),
                                                ("rhost", "10.0.0.9")])
        for name in ("ghost", "x event=lock"):
            self.module(at(4, 4), "term-b", [("event", "auth"), ("result", "fail"),
                                             ("user", name), ("factor", "totp"),
                                             ("reason", "not_enrolled"), ("service", "sshd"),
                                             ("tty", "ssh"), ("rhost", "10.0.0.9")])
        # Outside the period: counted as read, not used.
        self.events.append((SINCE - 3600, a, "pam_mfauth", fields([
            ("event", "auth"), ("result", "success"), ("user", "alice"), ("factor", "totp")])))
        self.events.append((UNTIL + 3600, a, "pam_mfauth", fields([
            ("event", "auth"), ("result", "success"), ("user", "alice"), ("factor", "totp")])))

    def build(self):
        for d in range(30):
            for host in ("term-a", "term-b", "term-c"):
                if host == "term-b" and 11 <= d <= 19:
                    continue
                if host == "term-c" and d >= 9:
                    continue
                self.random_day(host, d)
        self.scripted()
        self.kinds["trail_gap"] = 1
        self.kinds["trail_stops"] = 1
        self.kinds["clock_back"] = 1
        for (name, d), (fails, locks) in self.faildays.items():
            if fails >= 3 and locks == 0:
                self.finding("repeated_failures")
        self.finding("unknown_user", len(self.unknown))


def header3164(t, host, ident):
    tm = __import__("time").gmtime(t)
    return "%s %2d %02d:%02d:%02d %s %s[%d]: " % (MONTHS[tm.tm_mon - 1], tm.tm_mday, tm.tm_hour,
                                                  tm.tm_min, tm.tm_sec, host, ident, 4000 + tm.tm_mday)


def main():
    out = sys.argv[1]
    tr = Trail()
    tr.build()
    ev = sorted(tr.events, key=lambda e: (e[0], e[3]))
    files = {"auth.log.2.gz": [], "auth.log.1": [], "auth.log": [], "collector.log": []}
    counts = {"other": 0, "malformed": 0}
    for t, host, ident, msg in ev:
        if host == "term-a":
            d = (t - SINCE) // DAY
            name = "auth.log.2.gz" if d < 10 else "auth.log.1" if d < 20 else "auth.log"
            files[name].append(header3164(t, host, ident) + msg)
        elif host == "term-b":
            files["collector.log"].append("<86>1 %sZ %s %s %d - - %s" % (
                iso(t)[:19], host, ident, 99, msg))
        else:
            files["collector.log"].append("%s.000123+00:00 %s %s[7]: %s" % (iso(t)[:19], host,
                                                                             ident, msg))
    # The clock of term-a set back one hour on day 15, for two lines.
    t15 = SINCE + 14 * DAY + 12 * 3600
    back = [header3164(t15, "term-a", "pam_mfauth") + fields([
        ("event", "auth"), ("result", "success"), ("user", "dave"), ("factor", "totp"),
        ("reason", ""), ("service", "login"), ("tty", "tty1"), ("rhost", "")]),
        header3164(t15 - 3600, "term-a", "pam_mfauth") + fields([
            ("event", "auth"), ("result", "success"), ("user", "dave"), ("factor", "totp"),
            ("reason", ""), ("service", "login"), ("tty", "tty1"), ("rhost", "")])]
    for t in (t15, t15 - 3600):
        tr.module(t, "term-a", [("event", "auth"), ("result", "success"), ("user", "dave"),
                                ("factor", "totp"), ("reason", "")] + tr.login_src("term-a"))
        tr.events.pop()
    lines1 = files["auth.log.1"]
    # Before the first line at or after 12:00 (same month: the stamps sort as text).
    pos = next(i for i, l in enumerate(lines1) if l[:15] >= "Nov 15 12:00:00")
    lines1[pos:pos] = back
    # Other programs, and malformed lines.
    other = ["Nov 12 08:00:01 term-a sshd[811]: Accepted publickey for alice from 10.0.0.2",
             "Nov 12 08:17:01 term-a CRON[900]: pam_unix(cron:session): session opened",
             "Nov 12 08:20:00 term-a kernel: [ 12.0] usb 1-1: new device"]
    malformed = [
        "Nov 12 09:00:00 term-a pam_mfauth[1]: event=auth result=fail user=x event=lock",
        "Nov 12 09:00:01 term-a pam_mfauth[1]: event=auth result=fail user=\"a\\q\"",
        "Nov 12 09:00:02 term-a pam_mfauth[1]: " + "a" * 5000,
        "Nov 12 09:00:03 term-a pam_mfauth[1]: event=auth result=\x00fail user=a",
        "Nov 42 09:00:04 term-a pam_mfauth[1]: event=auth result=fail user=a",
        "Nov 12 09:00:05 term-a pam_mfauth[1]: Authentication failure for alice",
    ]
    lines1[1:1] = other + malformed
    counts["other"] = len(other)
    counts["malformed"] = len(malformed)
    os.makedirs(out, exist_ok=True)
    mtimes = {"auth.log.2.gz": SINCE + 10 * DAY + 600, "auth.log.1": SINCE + 20 * DAY + 600,
              "auth.log": UNTIL + 7200, "collector.log": UNTIL + 7200}
    read = 0
    for name, lines in files.items():
        data = ("\n".join(lines) + "\n").encode()
        read += len(lines)
        path = os.path.join(out, name)
        if name.endswith(".gz"):
            with gzip.open(path, "wb") as f:
                f.write(data)
        else:
            with open(path, "wb") as f:
                f.write(data)
        os.utime(path, (mtimes[name], mtimes[name]))
    used = sum(1 for e in tr.events if SINCE <= e[0] < UNTIL) + 2
    outside = sum(1 for e in tr.events if not SINCE <= e[0] < UNTIL)
    users = {}
    for name, u in tr.users.items():
        users[name] = {"success": u["success"], "failure": u["failure"],
                       "lockouts": u["lockouts"], "recovery_used": u["recovery_used"],
                       "last_success": iso(u["last_success"]) or None,
                       "terminals": sorted(u["terminals"]), "failures_by_reason": u["reasons"]}
    truth = {
        "summary": dict(tr.t, terminals=3,
                        users_with_logins=sum(1 for u in users.values() if u["success"])),
        "users": users,
        "staff_actions": sorted(tr.staff, key=lambda s: (s["time"], s["event"])),
        "findings": tr.kinds,
        "lines": {"read": read, "used": used, "malformed": counts["malformed"], "untrusted": 0,
                  "other": counts["other"], "outside_period": outside},
        "days": {str(d): v for d, v in sorted(tr.days.items())},
        "weekend_success": tr.weekend_success,
    }
    with open(os.path.join(out, "truth.json"), "w") as f:
        json.dump(truth, f, ensure_ascii=False, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
