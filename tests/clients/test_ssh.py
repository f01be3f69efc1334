#!/usr/bin/python3
"""OpenSSH end to end: a private sshd (tests/clients/sandbox.py) on two loopback
ports, one with keyboard-interactive, one configured as Debian 12 ships
(KbdInteractiveAuthentication no, PasswordAuthentication yes), UsePAM yes, the
service file /etc/pam.d/sshd of the sandbox.  See tests/clients/README.md."""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox  # noqa: E402
from sandbox import answer, finish, login, transcript, CODE_PROMPT, PASSWORD, PASSWORD_PROMPT  # noqa: E402,E501


def logged_in(rc, child, user):
    return sandbox.became(rc, child, user.name)


def t_kbdint(sb):
    kbd, _ = sb.sshd()
    u = sb.add_user("ssh-kbd")
    mark = sb.audit.mark()
    c = sb.ssh(u, kbd, "keyboard-interactive")
    rc = login(c, sb.code(u))
    sb.check("ssh keyboard-interactive: password + code logs in", logged_in(rc, c, u), transcript(c))
    sb.check("ssh: audit event=auth result=success service=sshd rhost=127.0.0.1",
             *sb.audit_has(mark, u, "event=auth result=success .*service=sshd .*rhost=127.0.0.1"))


def t_replay(sb):
    kbd, _ = sb.sshd()
    u = sb.add_user("ssh-replay")
    code = sb.code(u)
    c = sb.ssh(u, kbd, "keyboard-interactive", prompts=1)
    rc1 = login(c, code)
    mark = sb.audit.mark()
    c = sb.ssh(u, kbd, "keyboard-interactive", prompts=1)
    rc2 = login(c, code)
    out = transcript(c)
    sb.check("ssh: a replayed code is refused", rc1 == 0 and rc2 != 0, out)
    sb.check("ssh: audit result=replay", *sb.audit_has(mark, u, "event=auth result=replay"))
    sb.check("[issue16-5] ssh: a replayed code shows 'already used'", "already used" in out, out)


def t_lock_pubkey_unlock(sb):
    kbd, _ = sb.sshd()
    u = sb.add_user("ssh-lock")
    sb.authorize(u)
    c = sb.ssh(u, kbd, "publickey")
    sb.check("ssh public key: logs in while not locked", logged_in(finish(c), c, u), transcript(c))
    # One ssh run, three wrong codes (NumberOfPasswordPrompts 3) at deny = 3.
    mark = sb.audit.mark()
    c = sb.ssh(u, kbd, "keyboard-interactive")
    for i in range(3):
        answer(c, PASSWORD_PROMPT, PASSWORD)
        answer(c, CODE_PROMPT, sb.wrong_code(u))
    rc = finish(c)
    st = sb.show(u)
    sb.check("ssh: three wrong codes in one ssh run lock at deny=3",
             rc != 0 and st.get("locked") is True and st.get("failures") == 3, st)
    sb.check("ssh: audit event=lock", *sb.audit_has(mark, u, "event=lock result=locked"))
    mark = sb.audit.mark()
    c = sb.ssh(u, kbd, "publickey")
    rc = finish(c)
    sb.check("ssh public key: the account step denies the locked user",
             rc != 0 and not logged_in(rc, c, u), transcript(c))
    sb.check("ssh public key: audit event=account result=locked",
             *sb.audit_has(mark, u, "event=account result=locked .*service=sshd"))
    sb.mfauth("unlock", u.name, "--reason", "help desk call")
    c = sb.ssh(u, kbd, "publickey")
    sb.check("ssh public key: logs in again after mfauth unlock", logged_in(finish(c), c, u),
             transcript(c))
    c = sb.ssh(u, kbd, "keyboard-interactive", prompts=1)
    sb.check("ssh keyboard-interactive: a code logs in after mfauth unlock",
             logged_in(login(c, sb.code(u)), c, u), transcript(c))


def t_password_mode(sb):
    """issue 16 (1): sshd's password mode answers the code prompt with the password."""
    kbd, pw = sb.sshd()
    u = sb.add_user("ssh-pwmode")
    mark = sb.audit.mark()
    c = sb.ssh(u, pw, "password")
    for i in range(3):
        answer(c, PASSWORD_PROMPT, PASSWORD)
    rc = finish(c)
    sb.check("ssh password mode: refused (no code prompt reaches the clerk)", rc != 0, transcript(c))
    found, lines = sb.audit_has(mark, u, "event=auth result=fail .*reason=password_as_code")
    sb.check("[issue16-1] ssh password mode: audit event=auth result=fail reason=password_as_code",
             found, lines)
    sb.check("[issue16-1] ssh password mode: the password never logged",
             not any(PASSWORD in l for l in lines), lines)
    st = sb.show(u)
    sb.check("[issue16-1] ssh password mode: 3 attempts at deny=3 leave the clerk unlocked, "
             "no failure counted", st.get("locked") is False and st.get("failures") == 0, st)
    c = sb.ssh(u, kbd, "keyboard-interactive", prompts=1)
    sb.check("[issue16-1] ssh: the clerk then logs in with keyboard-interactive",
             logged_in(login(c, sb.code(u)), c, u), transcript(c))


def t_requisite(sb):
    """issue 16 (2): with `requisite` a wrong password never reaches the code prompt."""
    kbd, _ = sb.sshd()
    u = sb.add_user("ssh-wrongpw")
    mark = sb.audit.mark()
    c = sb.ssh(u, kbd, "keyboard-interactive", prompts=1)
    answer(c, PASSWORD_PROMPT, "not-the-password")
    i = c.expect([CODE_PROMPT, sandbox.pexpect.EOF])
    rc = finish(c)
    sb.check("ssh: a wrong password never reaches the code prompt", i == 1 and rc != 0, transcript(c))
    lines = sb.audit.since(mark, settle=0.5)
    sb.check("ssh: a wrong password leaves no pam_mfauth audit line",
             not any(f"user={u.name} " in l for l in lines), lines)
    st = sb.show(u)
    sb.check("ssh: a wrong password counts no second-factor failure", st.get("failures") == 0, st)


def t_check_required(sb):
    """issue 16 (2): mfauth check warns about `auth required pam_unix.so` before mfauth."""
    d = os.path.join(sb.T, "check-pam.d")
    os.makedirs(d)
    with open(os.path.join(d, "sshd"), "w") as f:
        f.write(sb.stack(password_control="required"))
    out = sb.mfauth("check", "--pam-dir", d, check=False).stdout
    sb.check("[issue16-2] mfauth check warns about a `required` password module in sshd's stack",
             any("sshd" in l and "required" in l and not l.startswith("ok")
                 for l in out.splitlines()), out)


sb = sandbox.start("ssh")
sb.service("sshd", sb.stack())
sb.sshd()       # from the main thread: setpriv's parent-death signal follows the thread that forked
sb.run_scenarios([("kbdint", t_kbdint), ("replay", t_replay), ("pubkey_lock", t_lock_pubkey_unlock),
                  ("password_mode", t_password_mode), ("requisite", t_requisite),
                  ("check_required", t_check_required)])
