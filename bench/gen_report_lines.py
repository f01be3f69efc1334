#!/usr/bin/env python3
"""N audit lines of one month for bench/report.sh (`mfauth report` at scale).

    gen_report_lines.py N FILE

November 2026 (UTC), RFC 3164 as rsyslog writes auth.log, 50 terminals,
2,000 users; the module's mix of success, failure, replay and lock lines and
one staff action in 500, in time order.  Fast rather than realistic in
detail: the report's cost is per line, whatever the line says.
"""
import calendar
import random
import sys

N, path = int(sys.argv[1]), sys.argv[2]
since = calendar.timegm((2026, 11, 1, 0, 0, 0))
rng = random.Random(1)
kinds = [
    "event=auth result=success user=%s factor=totp reason= service=login tty=tty1 rhost=",
    "event=auth result=success user=%s factor=card reason= service=login tty=tty1 rhost=",
    "event=auth result=fail user=%s factor=totp reason=bad_code service=login tty=tty1 rhost= failures=1",
    "event=auth result=replay user=%s factor=totp reason=replay service=sshd tty=ssh rhost=10.0.0.7",
    "event=lock result=locked user=%s factor=totp reason=too_many_failures service=login tty=tty1 rhost= locked_until=1796000000",
]
weights = [60, 15, 20, 4, 1]
mon = "Nov"
step = (30 * 86400) / N
with open(path, "w") as f:
    for i in range(N):
        t = since + int(i * step)
        d, s = divmod(t - since, 86400)
        host = "term-%02d" % rng.randrange(50)
        user = "user%04d" % rng.randrange(2000)
        if i % 500 == 0:
            msg = ("event=unlock result=success user=%s reason= note=\"bench\" op_uid=0 "
                   "op_sudo_user=sato op_loginuid=1000" % user)
            ident = "mfauth"
        else:
            msg = rng.choices(kinds, weights)[0] % user
            ident = "pam_mfauth"
        f.write("%s %2d %02d:%02d:%02d %s %s[%d]: %s\n" % (
            mon, d + 1, s // 3600, s // 60 % 60, s % 60, host, ident, 1000 + i % 30000, msg))
