#!/usr/bin/python3
"""Fleet mode (store = ldap) through the real clients.  One private slapd
(directory.py over tests/ldap/slapd-rig.sh: the shipped schema and ACL), the
tool on staff's config, and two terminals bound as different identities of the
rig, each with its own copy of the fleet's key:

  terminal A  terminal-01   sshd (keyboard-interactive, public keys)
  terminal B  terminal-02   su, su -, sudo, login, pamtester as root, and
                            pamtester run by the clerk (the setuid helper,
                            which reads terminal B's config as the
                            compiled-in file)

One enrollment serves both; a code used on one is refused on the other; wrong
codes spread over both lock the clerk at exactly deny; staff unlock frees both.
Last, alone (the directory is everybody's): the directory stopped, every client
tells the clerk and fails closed within ldap_timeout + 1 s; started again, the
clerk logs in.  See tests/clients/README.md."""
import gettext
import os
import re
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox  # noqa: E402
from sandbox import (answer, finish, login, transcript, CODE_PROMPT, LDAP_TIMEOUT,  # noqa: E402
                     PASSWORD, PASSWORD_PROMPT, SUDO_PROMPT)

PAMTESTER = "mfauth-pamtester"      # pamtester as root
LOCKER = "mfauth-locker"            # pamtester run by the clerk, as a screen locker would
SILENT = "mfauth-silent"            # pamtester as root, terminal C: a server that never answers
FAILOVER = "mfauth-failover"        # ... terminal D: that server first, then the rig
# Plain ASCII, as every English message (tests/doc/test-msgid-ascii.sh): ssh shows it as
# written (a non-ASCII byte of a message sent with a refusal would be an octal escape there).
UNREACHABLE = "The authentication directory cannot be reached. Contact security staff."
FAIL_DELAY_MAX = 2.5    # the module's 2 s, as Linux-PAM randomises it (up to +25 %)


def became(rc, child, user):
    return sandbox.became(rc, child, user.name)


def ssh_code(sb, user):
    """ssh keyboard-interactive to terminal A, one try."""
    return sb.ssh(user, sb.sshd()[0], "keyboard-interactive", prompts=1)


def ssh_key(sb, user):
    return sb.ssh(user, sb.sshd()[0], "publickey")


def su(sb, user, env=None):
    """su USER on terminal B, run by the unprivileged staff account."""
    return sb.spawn(["su", user.name, "-c", "id -un"], env=env, as_user=sb.staff)


def pamtester(sb, user, as_clerk=False, service=None):
    service = service or (LOCKER if as_clerk else PAMTESTER)
    return sb.spawn(["pamtester", "-v", service, user.name, "authenticate", "acct_mgmt"],
                    as_user=user if as_clerk else None)


def password_then_message(c, user, message, password_prompt=PASSWORD_PROMPT):
    """Type the password, wait for message: (refused, seconds from the password
    to the message or None, seconds to the client's end, transcript)."""
    answer(c, password_prompt, PASSWORD)
    t0 = time.time()
    try:
        c.expect(re.escape(message))
        seen = time.time() - t0
    except (sandbox.pexpect.TIMEOUT, sandbox.pexpect.EOF):
        seen = None
    rc = finish(c)
    return rc != 0 and not became(rc, c, user), seen, time.time() - t0, transcript(c)


def audited(sb, mark, user, *tokens):
    """(found, lines): one line about user since mark holding every regex of tokens."""
    return sb.audit_has(mark, user, "".join(f"(?=.*{t})" for t in tokens))


def t_replay(sb):
    u = sb.add_user("fl-replay")
    code = sb.code(u)
    mark = sb.audit.mark()
    c = ssh_code(sb, u)
    sb.check("terminal A, sshd: password + code logs in (enrolled once, by staff)",
             became(login(c, code), c, u), transcript(c))
    sb.check("terminal A: audit event=auth result=success service=sshd",
             *audited(sb, mark, u, "event=auth result=success ", "service=sshd "))
    mark = sb.audit.mark()
    c = su(sb, u)
    rc = login(c, code)
    out = transcript(c)
    sb.check("terminal B, su: the code used on terminal A is refused, 'already used'",
             rc != 0 and not became(rc, c, u) and "already used" in out, out)
    sb.check("terminal B: audit event=auth result=replay service=su",
             *audited(sb, mark, u, "event=auth result=replay ", "service=su "))
    code = sb.code(u)
    c = su(sb, u)
    sb.check("terminal B, su: the next code logs in", became(login(c, code), c, u), transcript(c))
    mark = sb.audit.mark()
    c = ssh_code(sb, u)
    rc = login(c, code)
    out = transcript(c)
    sb.check("terminal A, sshd: the code used on terminal B is refused, 'already used'",
             rc != 0 and not became(rc, c, u) and "already used" in out, out)
    sb.check("terminal A: audit event=auth result=replay service=sshd",
             *audited(sb, mark, u, "event=auth result=replay ", "service=sshd "))


def t_lockout(sb):
    """deny = 3: one wrong code on A (sshd), one on B (su), one on B (sudo)."""
    u = sb.add_user("fl-lock")
    sb.authorize(u)
    c = ssh_key(sb, u)
    sb.check("terminal A, ssh public key: logs in while not locked", became(finish(c), c, u),
             transcript(c))
    mark = sb.audit.mark()
    c = ssh_code(sb, u)
    rc = login(c, sb.wrong_code(u))
    st = sb.show(u)
    sb.check("terminal A, sshd: a wrong code is refused and counted (failures 1)",
             rc != 0 and st.get("failures") == 1 and st.get("locked") is False, st)
    c = su(sb, u)
    rc = login(c, sb.wrong_code(u))
    st = sb.show(u)
    sb.check("terminal B, su: a wrong code counts on top of terminal A's (failures 2, not locked)",
             rc != 0 and st.get("failures") == 2 and st.get("locked") is False, st)
    c = sb.sudo(u)
    answer(c, SUDO_PROMPT, PASSWORD)
    answer(c, CODE_PROMPT, sb.wrong_code(u))
    answer(c, r"Sorry, try again", None)
    answer(c, SUDO_PROMPT, None)
    c.sendintr()                # leave sudo's retry unused
    rc = finish(c)
    st = sb.show(u)
    sb.check("terminal B, sudo: the third wrong code locks the clerk at exactly deny = 3",
             rc != 0 and st.get("failures") == 3 and st.get("locked") is True, st)
    sb.check("audit: failures 1 on sshd, 2 on su, 3 on sudo",
             audited(sb, mark, u, "event=auth result=fail ", "service=sshd ", "failures=1")[0]
             and audited(sb, mark, u, "event=auth result=fail ", "service=su ", "failures=2")[0]
             and audited(sb, mark, u, "event=auth result=fail ", "service=sudo ", "failures=3")[0],
             sb.audit.since(mark))
    sb.check("audit: event=lock result=locked on sudo",
             *audited(sb, mark, u, "event=lock result=locked ", "service=sudo "))
    mark = sb.audit.mark()
    c = ssh_key(sb, u)
    rc = finish(c)
    sb.check("terminal A, ssh public key: the account step refuses the clerk locked on B",
             rc != 0 and not became(rc, c, u), transcript(c))
    sb.check("terminal A: audit event=account result=locked service=sshd",
             *audited(sb, mark, u, "event=account result=locked ", "service=sshd "))
    c = su(sb, u)
    rc = login(c, sb.code(u))
    out = transcript(c)
    sb.check("terminal B, su: a good code is refused while locked, with the lock message",
             rc != 0 and not became(rc, c, u) and "locked" in out, out)
    sb.mfauth("unlock", u.name, "--reason", "help desk call")      # staff's config
    st = sb.show(u)
    sb.check("mfauth unlock (staff): unlocked, failures 0",
             st.get("locked") is False and st.get("failures") == 0, st)
    c = ssh_key(sb, u)
    sb.check("terminal A, ssh public key: logs in again after the unlock", became(finish(c), c, u),
             transcript(c))
    c = su(sb, u)
    sb.check("terminal B, su: a code logs in again after the unlock",
             became(login(c, sb.code(u)), c, u), transcript(c))


def t_login(sb):
    u = sb.add_user("fl-login")
    mark = sb.audit.mark()
    c = sb.spawn(["login"])
    answer(c, r"login: ?$", u.name)
    answer(c, PASSWORD_PROMPT, PASSWORD)
    answer(c, CODE_PROMPT, sb.code(u))
    c.sendline("echo WHO=$(id -un); exit")
    try:
        c.expect(r"WHO=(\S+)\r?\n")
        who = c.match.group(1)
    except (sandbox.pexpect.TIMEOUT, sandbox.pexpect.EOF):
        who = None
    finish(c)
    sb.check("terminal B, login on a pty: password + code gives the clerk's shell",
             who == u.name, transcript(c))
    sb.check("terminal B: audit event=auth result=success service=login tty=/dev/pts/",
             *audited(sb, mark, u, "event=auth result=success ", "service=login ", "tty=/dev/pts/"))


def t_pamtester(sb):
    u = sb.add_user("fl-pamtester")
    mark = sb.audit.mark()
    c = pamtester(sb, u)
    rc = login(c, sb.code(u))
    sb.check("terminal B, pamtester (root): authenticate + acct_mgmt succeed",
             rc == 0 and "successfully authenticated" in transcript(c), transcript(c))
    sb.check("terminal B: audit event=auth result=success service=mfauth-pamtester",
             *audited(sb, mark, u, "event=auth result=success ", f"service={PAMTESTER} "))
    code = sb.code(u)
    mark = sb.audit.mark()
    c = pamtester(sb, u, as_clerk=True)
    rc = login(c, code)
    out = transcript(c)
    sb.check("terminal B, pamtester run by the clerk: the setuid helper reads the directory, "
             "authenticate + acct_mgmt succeed", rc == 0 and "successfully authenticated" in out, out)
    sb.check("audit: the helper's success (helper=mfauth-verify, the clerk's uid)",
             *audited(sb, mark, u, "event=auth result=success ", f"service={LOCKER} ",
                      "helper=mfauth-verify", f"caller_uid={u.uid}"))
    mark = sb.audit.mark()
    c = ssh_code(sb, u)
    rc = login(c, code)
    out = transcript(c)
    sb.check("terminal A, sshd: the code the helper accepted is a replay",
             rc != 0 and "already used" in out, out)
    sb.check("terminal A: audit result=replay",
             *audited(sb, mark, u, "event=auth result=replay ", "service=sshd "))


def t_sudo(sb):
    u = sb.add_user("fl-sudo")
    mark = sb.audit.mark()
    c = sb.sudo(u)
    rc = login(c, sb.code(u), password_prompt=SUDO_PROMPT)
    sb.check("terminal B, sudo run by the clerk: password + code runs the command as root",
             sandbox.became(rc, c, "root"), transcript(c))
    found, lines = audited(sb, mark, u, "event=auth result=success ", "service=sudo ")
    sb.check("terminal B: audit event=auth result=success service=sudo", found, lines)
    # sudo is setuid root and calls PAM as root: the module reads the directory itself.
    sb.check("sudo: the module ran as root (no helper= in its line)",
             found and not any("helper=" in l for l in lines), lines)


def t_silent(sb):
    """A server that takes the connection and never answers: alone (terminal
    C) the login is refused after ldap_timeout, not sooner and not much later;
    listed first (terminal D) the login goes on through the rig."""
    u = sb.add_user("fl-silent")
    mark = sb.audit.mark()
    refused, seen, ended, out = password_then_message(pamtester(sb, u, service=SILENT), u,
                                                      UNREACHABLE)
    sb.check("terminal C, pamtester, a silent server only: refused with the message",
             refused and seen is not None, out)
    if seen is not None:
        sb.local.out.append(f"# a silent server: the message {seen * 1000:.0f} ms after the "
                            f"password (ldap_timeout = {LDAP_TIMEOUT})")
        sb.check(f"a silent server: refused after ldap_timeout and within ldap_timeout + 1 s "
                 f"({LDAP_TIMEOUT}-{LDAP_TIMEOUT + 1} s)",
                 LDAP_TIMEOUT - 0.2 <= seen <= LDAP_TIMEOUT + 1, f"{seen:.2f} s")
    sb.check("audit: store_error reason=directory_unreachable service=mfauth-silent",
             *audited(sb, mark, u, "event=store_error result=fail .*reason=directory_unreachable ",
                      f"service={SILENT} "))
    c = pamtester(sb, u, service=FAILOVER)
    answer(c, PASSWORD_PROMPT, PASSWORD)
    t0 = time.time()
    answer(c, CODE_PROMPT, sb.code(u))
    waited = time.time() - t0
    rc = finish(c)
    sb.local.out.append(f"# failover past a silent server: the code prompt {waited * 1000:.0f} ms "
                        "after the password")
    sb.check("terminal D, pamtester: past the silent server, the rig lets the clerk in, "
             f"within ldap_timeout + 1 s ({LDAP_TIMEOUT + 1} s)",
             rc == 0 and "successfully authenticated" in transcript(c) and waited <= LDAP_TIMEOUT + 1,
             f"{waited:.2f} s\n" + transcript(c))


def silent_server():
    """A loopback port whose connections the kernel completes and nobody ever
    reads (listening, never accepting): to a client, a server that takes the
    connection and never answers.  Open until this process ends."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    return s


def t_outage(sb):
    """The directory stopped: every client refuses, tells the clerk, audits
    directory_unreachable; nothing falls back.  Run alone, last."""
    ja = gettext.translation("mfauth", os.path.join(sb.build, "tests", "locale"), ["ja"])
    unreachable_ja = ja.gettext(UNREACHABLE)
    u = sb.add_user("fl-outage")
    sb.authorize(u)
    mark = sb.audit.mark()
    sb.directory.stop()

    runs = {
        "terminal B, su": lambda: password_then_message(su(sb, u), u, UNREACHABLE),
        "terminal B, su in ja_JP.UTF-8": lambda: password_then_message(
            su(sb, u, env={"LANG": "ja_JP.UTF-8"}), u, unreachable_ja,
            r"(パスワード|[Pp]assword): ?"),
        "terminal A, sshd keyboard-interactive": lambda: password_then_message(
            ssh_code(sb, u), u, UNREACHABLE),
        "terminal B, pamtester run by the clerk (the helper)": lambda: password_then_message(
            pamtester(sb, u, as_clerk=True), u, UNREACHABLE),
    }
    with ThreadPoolExecutor(max_workers=len(runs) + 1) as pool:
        futures = {name: pool.submit(fn) for name, fn in runs.items()}
        key = pool.submit(lambda: (lambda c: (finish(c), transcript(c)))(ssh_key(sb, u)))
        results = {name: f.result() for name, f in futures.items()}
        key_rc, key_out = key.result()
    for name, (refused, seen, ended, out) in results.items():
        sb.check(f"directory stopped: {name} refuses and shows the clerk the message",
                 refused and seen is not None, out)
        if seen is None:
            continue
        sb.local.out.append(f"# {name}: the message {seen * 1000:.0f} ms after the password, "
                            f"the client's end after {ended * 1000:.0f} ms (the fail delay)")
        # sshd sends the message with the refusal, after Linux-PAM's fail delay.
        slack = FAIL_DELAY_MAX if "sshd" in name else 0
        bound = LDAP_TIMEOUT + 1 + slack
        sb.check(f"directory stopped: {name} refused within ldap_timeout + 1 s"
                 + (" after the fail delay" if slack else "") + f" ({bound} s)",
                 seen <= bound, f"{seen:.2f} s")
    sb.check("directory stopped: the Japanese message is a translation",
             unreachable_ja != UNREACHABLE and "認証ディレクトリ" in unreachable_ja, unreachable_ja)
    sb.check("directory stopped: terminal A, ssh public key refused (the account step fails "
             "closed)", key_rc != 0 and re.search(rf"(?m)^{re.escape(u.name)}\r?$", key_out) is None,
             key_out)
    unreachable = "event=store_error result=fail .*reason=directory_unreachable "
    sb.check("audit: store_error reason=directory_unreachable service=su",
             *audited(sb, mark, u, unreachable, "service=su "))
    sb.check("audit: the same from the helper (service=mfauth-locker helper=mfauth-verify)",
             *audited(sb, mark, u, unreachable, f"service={LOCKER} ", "helper=mfauth-verify"))
    lines = [l for l in sb.audit.since(mark) if f"user={u.name} " in l]
    on_sshd = [l for l in lines if re.search(unreachable + ".*service=sshd ", l)]
    sb.check("audit: two such lines on sshd, the keyboard-interactive login's and the "
             "public-key login's account step", len(on_sshd) == 2, lines)
    sb.check("directory stopped: no fallback, no success audited for the clerk",
             not any("result=success" in l for l in lines), lines)
    sb.directory.start()
    c = su(sb, u)
    sb.check("directory started again: terminal B, su with a code logs in",
             became(login(c, sb.code(u)), c, u), transcript(c))


sb = sandbox.start("fleet", store="ldap")
print(f"# private slapd answered {sb.directory.started_ms} ms after its start")
terminal_a = sb.terminal_conf("terminal-a", 1)
terminal_b = sb.terminal_conf("terminal-b", 2)
sb.service("sshd", sb.stack(conf=terminal_a))
for service in ("su", "sudo", "login", PAMTESTER):
    sb.service(service, sb.stack(conf=terminal_b))
sb.service(LOCKER, sb.stack(conf="", module_args="helper=" + sb.install_helper(terminal_b)))
hole = silent_server()
silent = f"ldaps://127.0.0.1:{hole.getsockname()[1]}/"
sb.service(SILENT, sb.stack(conf=sb.terminal_conf("terminal-c", 3, uris=silent)))
sb.service(FAILOVER, sb.stack(conf=sb.terminal_conf(
    "terminal-d", 4, uris=f"{silent} {sb.directory.env['LDAP_RIG_URI_LDAPS']}")))
sb.sshd()       # from the main thread: setpriv's parent-death signal follows the thread that forked
sb.run_scenarios([("replay", t_replay), ("lockout", t_lockout), ("login", t_login),
                  ("pamtester", t_pamtester), ("sudo", t_sudo), ("silent", t_silent)],
                 after=[("outage", t_outage)])
