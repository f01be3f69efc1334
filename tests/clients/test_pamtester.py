#!/usr/bin/python3
"""pamtester as root through the real Linux-PAM stack (pam_unix requisite, then
pam_mfauth): TOTP login, replay, a wrong code counted, lockout at deny with its
message, unlock, a recovery code, nullok, and codes typed as apps show them.
See tests/clients/README.md."""
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox  # noqa: E402
from sandbox import answer, finish, login, transcript  # noqa: E402

SERVICE = "mfauth-pamtester"


def pamtester(sb, user, service=SERVICE):
    return sb.spawn(["pamtester", "-v", service, user.name, "authenticate", "acct_mgmt"])


def t_login(sb):
    u = sb.add_user("pt-login")
    mark = sb.audit.mark()
    c = pamtester(sb, u)
    rc = login(c, sb.code(u))
    out = transcript(c)
    sb.check("pamtester: password + code logs in", rc == 0 and "successfully authenticated" in out, out)
    sb.check("pamtester: audit event=auth result=success service=mfauth-pamtester",
             *sb.audit_has(mark, u, f"event=auth result=success .*service={SERVICE}"))


def t_replay(sb):
    u = sb.add_user("pt-replay")
    code = sb.code(u)
    rc1 = login(pamtester(sb, u), code)
    mark = sb.audit.mark()
    c = pamtester(sb, u)
    rc2 = login(c, code)
    out = transcript(c)
    sb.check("pamtester: a replayed code is refused", rc1 == 0 and rc2 != 0, out)
    sb.check("pamtester: audit result=replay", *sb.audit_has(mark, u, "event=auth result=replay"))
    # issue 16 (5): tell the clerk why.
    sb.check("[issue16-5] pamtester: a replayed code shows 'already used'",
             "already used" in out, out)


def t_wrong_lock_unlock(sb):
    u = sb.add_user("pt-lock")
    mark = sb.audit.mark()
    c = pamtester(sb, u)
    rc = login(c, sb.wrong_code(u))
    sb.check("pamtester: a wrong code is refused", rc != 0, transcript(c))
    st = sb.show(u)
    sb.check("pamtester: a wrong code counts (failures 1)", st.get("failures") == 1, st)
    sb.check("pamtester: audit event=auth result=fail failures=1",
             *sb.audit_has(mark, u, "event=auth result=fail .*failures=1"))
    c = pamtester(sb, u)
    login(c, sb.wrong_code(u))
    c = pamtester(sb, u)
    rc = login(c, sb.wrong_code(u))
    third = transcript(c)
    st = sb.show(u)
    sb.check("pamtester: locked at deny=3", rc != 0 and st.get("locked") is True, st)
    # issue 16 (5): the attempt that locks says so.
    sb.check("[issue16-5] pamtester: the attempt that locks shows the lock message",
             re.search(r"(?i)locked", third) is not None, third)
    c = pamtester(sb, u)
    rc = login(c, sb.code(u))
    out = transcript(c)
    sb.check("pamtester: a good code is refused while locked, with the lock message",
             rc != 0 and "locked" in out, out)
    sb.mfauth("unlock", u.name, "--reason", "help desk call")
    c = pamtester(sb, u)
    rc = login(c, sb.code(u))
    sb.check("pamtester: mfauth unlock restores the login", rc == 0, transcript(c))


def t_recovery(sb):
    u = sb.add_user("pt-recovery")
    rec = sb.mfauth("recovery", u.name, "--ttl", "1h", "--reason", "lost phone").stdout.splitlines()[-1]
    mark = sb.audit.mark()
    c = pamtester(sb, u)
    rc = login(c, rec)
    sb.check("pamtester: a recovery code logs in", rc == 0, transcript(c))
    sb.check("pamtester: audit event=recovery_used",
             *sb.audit_has(mark, u, "event=recovery_used result=success"))
    c = pamtester(sb, u)
    rc = login(c, rec)
    sb.check("pamtester: a recovery code works once", rc != 0, transcript(c))


def t_nullok(sb):
    sb.service("mfauth-nullok", sb.stack(module_args="nullok"))
    u = sb.add_user("pt-nullok", enroll=False)
    mark = sb.audit.mark()
    c = pamtester(sb, u, "mfauth-nullok")
    answer(c, sandbox.PASSWORD_PROMPT, sandbox.PASSWORD)
    rc = finish(c)
    out = transcript(c)
    sb.check("pamtester: nullok lets an unenrolled user in on the password alone",
             rc == 0 and "Verification code" not in out, out)
    sb.check("pamtester: audit result=ignore reason=not_enrolled",
             *sb.audit_has(mark, u, "event=auth result=ignore .*reason=not_enrolled"))
    c = pamtester(sb, u)          # the same user without nullok: refused
    rc = login(c, "123456")
    sb.check("pamtester: without nullok the unenrolled user is refused", rc != 0, transcript(c))


def t_blanks(sb):
    """issue 16 (4): codes as authenticator apps show them."""
    u = sb.add_user("pt-blanks")
    for label, fmt in (("'123 456'", "{} {}"), ("leading and trailing blanks", "  {}{}  \t")):
        code = sb.code(u)
        c = pamtester(sb, u)
        rc = login(c, fmt.format(code[:3], code[3:]))
        sb.check(f"[issue16-4] pamtester: a code typed with {label} is accepted", rc == 0, transcript(c))
    st = sb.show(u)
    sb.check("[issue16-4] pamtester: no failure counted for blanks", st.get("failures") == 0, st)


sb = sandbox.start("pamtester")
sb.service(SERVICE, sb.stack())
sb.run_scenarios([("login", t_login), ("replay", t_replay), ("lockout", t_wrong_lock_unlock),
                  ("recovery", t_recovery), ("nullok", t_nullok), ("blanks", t_blanks)])
