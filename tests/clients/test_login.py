#!/usr/bin/python3
"""shadow's login(1) on a pseudo-terminal, run by root as getty would, with the
sandbox's /etc/pam.d/login: the login prompt, password, code, a shell; a wrong
code refused and counted, then login's own retry.  See tests/clients/README.md."""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox  # noqa: E402
from sandbox import answer, finish, transcript, CODE_PROMPT, PASSWORD, PASSWORD_PROMPT  # noqa: E402


def shell_as(sb, c, user):
    """In the shell login started: prints the user name, then leaves."""
    c.sendline("echo WHO=$(id -un); exit")
    try:
        c.expect(r"WHO=(\S+)\r?\n")
        who = c.match.group(1)
    except (sandbox.pexpect.TIMEOUT, sandbox.pexpect.EOF):
        who = None
    finish(c)
    return who == user.name


def t_login(sb):
    u = sb.add_user("login-ok")
    mark = sb.audit.mark()
    c = sb.spawn(["login"])
    answer(c, r"login: ?$", u.name)
    answer(c, PASSWORD_PROMPT, PASSWORD)
    answer(c, CODE_PROMPT, sb.code(u))
    sb.check("login on a pty: password + code gives the user's shell", shell_as(sb, c, u), transcript(c))
    sb.check("login: audit event=auth result=success service=login",
             *sb.audit_has(mark, u, "event=auth result=success .*service=login .*tty=/dev/pts/"))


def t_wrong_then_right(sb):
    u = sb.add_user("login-retry")
    mark = sb.audit.mark()
    c = sb.spawn(["login", u.name])
    answer(c, PASSWORD_PROMPT, PASSWORD)
    answer(c, CODE_PROMPT, sb.wrong_code(u))
    answer(c, r"Login incorrect", None)
    counted = sb.show(u).get("failures")
    answer(c, r"login: ?$", u.name)
    answer(c, PASSWORD_PROMPT, PASSWORD)
    answer(c, CODE_PROMPT, sb.code(u))
    ok = shell_as(sb, c, u)
    sb.check("login: a wrong code is refused (Login incorrect) and counted", counted == 1, transcript(c))
    sb.check("login: login's retry with a good code gives the shell", ok, transcript(c))
    sb.check("login: audit event=auth result=fail failures=1",
             *sb.audit_has(mark, u, "event=auth result=fail .*service=login .*failures=1"))


sb = sandbox.start("login")
sb.service("login", sb.stack())
sb.run_scenarios([("login", t_login), ("wrong_then_right", t_wrong_then_right)])
