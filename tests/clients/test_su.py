#!/usr/bin/python3
"""util-linux su, run by an unprivileged user (the setuid binary, as a clerk
would): `su USER` (service su) and `su - USER` (service su-l, which includes su
as Debian ships it), a wrong code counted, Japanese prompts in ja_JP.UTF-8,
and codes typed with blanks.  See tests/clients/README.md."""
import gettext
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox  # noqa: E402
from sandbox import answer, finish, login, transcript, CODE_PROMPT, PASSWORD  # noqa: E402


def su(sb, user, dash=False, env=None):
    argv = ["su"] + (["-"] if dash else []) + [user.name, "-c", "id -un; echo HOME=$HOME"]
    return sb.spawn(argv, env=env, as_user=sb.staff)


def became(rc, child, user):
    return sandbox.became(rc, child, user.name)


def t_su(sb):
    u = sb.add_user("su-plain")
    mark = sb.audit.mark()
    c = su(sb, u)
    rc = login(c, sb.code(u))
    sb.check("su: password + code switches user", became(rc, c, u), transcript(c))
    sb.check("su: audit event=auth result=success service=su",
             *sb.audit_has(mark, u, "event=auth result=success .*service=su "))


def t_su_login(sb):
    u = sb.add_user("su-dash")
    mark = sb.audit.mark()
    c = su(sb, u, dash=True)
    rc = login(c, sb.code(u))
    out = transcript(c)
    sb.check("su -: password + code gives a login shell (HOME is the user's)",
             became(rc, c, u) and f"HOME={u.home}" in out, out)
    sb.check("su -: audit service=su-l", *sb.audit_has(mark, u, "event=auth result=success .*service=su-l "))


def t_wrong(sb):
    u = sb.add_user("su-wrong")
    mark = sb.audit.mark()
    c = su(sb, u)
    rc = login(c, sb.wrong_code(u))
    out = transcript(c)
    sb.check("su: a wrong code is refused", rc != 0 and "Authentication failure" in out, out)
    st = sb.show(u)
    sb.check("su: the wrong code counts", st.get("failures") == 1, st)
    sb.check("su: audit event=auth result=fail failures=1",
             *sb.audit_has(mark, u, "event=auth result=fail .*service=su .*failures=1"))


def t_japanese(sb):
    ja = gettext.translation("mfauth", os.path.join(sb.build, "tests", "locale"), ["ja"])
    prompt = ja.gettext("Verification code: ").strip()
    u = sb.add_user("su-ja")
    c = su(sb, u, env={"LANG": "ja_JP.UTF-8"})
    try:
        answer(c, r"(パスワード|[Pp]assword): ?", PASSWORD)
        answer(c, re.escape(prompt), sb.code(u))
        rc = finish(c)
        seen = True
    except (sandbox.pexpect.TIMEOUT, sandbox.pexpect.EOF):
        rc, seen = 1, False
    out = transcript(c)
    sb.check(f"su in ja_JP.UTF-8: the code prompt is Japanese ({prompt})",
             seen and prompt != "Verification code:" and "Verification code" not in out, out)
    sb.check("su in ja_JP.UTF-8: the login succeeds", became(rc, c, u), out)


def t_blanks(sb):
    """issue 16 (4): a code as authenticator apps show it, with blanks around."""
    u = sb.add_user("su-blanks")
    code = sb.code(u)
    c = su(sb, u)
    rc = login(c, f"  {code[:3]} {code[3:]}\t ")
    sb.check("[issue16-4] su: '  123 456<TAB> ' is accepted", became(rc, c, u), transcript(c))


sb = sandbox.start("su")
sb.service("su", sb.stack())
sb.run_scenarios([("su", t_su), ("su_login", t_su_login), ("wrong", t_wrong),
                  ("japanese", t_japanese), ("blanks", t_blanks)])
