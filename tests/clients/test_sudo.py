#!/usr/bin/python3
"""sudo 1.9 run by the clerk, with the sandbox's sudoers (passwd_tries=3,
timestamp_timeout=0: every sudo authenticates) and /etc/pam.d/sudo: a code
logs in; a wrong code counts and sudo's own retry then succeeds; sudo's three
tries at deny=3 lock the clerk.  See tests/clients/README.md."""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox  # noqa: E402
from sandbox import (answer, became, finish, login, transcript, CODE_PROMPT, PASSWORD,  # noqa: E402
                     PASSWORD_PROMPT)


def became_root(rc, child):
    return became(rc, child, "root")


def t_sudo(sb):
    u = sb.add_user("sudo-ok")
    mark = sb.audit.mark()
    c = sb.sudo(u)
    rc = login(c, sb.code(u), password_prompt=rf"\[sudo\] password for {u.name}: ?")
    sb.check("sudo: password + code runs the command as root", became_root(rc, c), transcript(c))
    sb.check("sudo: audit event=auth result=success service=sudo",
             *sb.audit_has(mark, u, "event=auth result=success .*service=sudo "))


def t_retry(sb):
    u = sb.add_user("sudo-retry")
    mark = sb.audit.mark()
    c = sb.sudo(u)
    answer(c, PASSWORD_PROMPT, PASSWORD)
    answer(c, CODE_PROMPT, sb.wrong_code(u))
    answer(c, r"Sorry, try again", None)
    rc = login(c, sb.code(u))
    sb.check("sudo: after a wrong code, sudo's retry with a good code succeeds",
             became_root(rc, c), transcript(c))
    sb.check("sudo: the wrong code is audited and counted (failures=1)",
             *sb.audit_has(mark, u, "event=auth result=fail .*service=sudo .*failures=1"))
    st = sb.show(u)
    sb.check("sudo: the success clears the failure count", st.get("failures") == 0, st)


def t_lock(sb):
    u = sb.add_user("sudo-lock")
    c = sb.sudo(u)
    for _ in range(3):
        answer(c, PASSWORD_PROMPT, PASSWORD)
        answer(c, CODE_PROMPT, sb.wrong_code(u))
    rc = finish(c)
    out = transcript(c)
    st = sb.show(u)
    sb.check("sudo: passwd_tries=3 wrong codes at deny=3 lock the clerk",
             rc != 0 and st.get("locked") is True and "incorrect password attempts" in out,
             out + str(st))


sb = sandbox.start("sudo")
sb.service("sudo", sb.stack())
sb.run_scenarios([("sudo", t_sudo), ("retry", t_retry), ("lock", t_lock)])
