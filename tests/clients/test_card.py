#!/usr/bin/python3
"""Card logins through the real clients, over the directory store.  One
private slapd (directory.py) and one private pcscd with a virtual My Number
(JPKI) card (tests/card/rig.sh), the card on the terminal's reader.  Staff
enroll each clerk once with the tool (a TOTP seed and the card), over the
directory; the clients log in with the card:

  su CLERK     (service su, run by the unprivileged staff account) on a pty:
               the PIN prompt in English and in ja_JP.UTF-8; a wrong PIN
               (the message with the tries left, counted in the directory and
               on the card); the warning before the PIN when two tries are
               left; the PIN-lock guard at one try left (no PIN sent, the code
               prompt instead); the card pulled at the PIN prompt
  sshd         keyboard-interactive, ssh to the terminal itself (127.0.0.1):
               a remote login, so the card in the terminal's reader is not
               used (no connection to it), the code prompt with one line
               saying why, the TOTP code logs in; with card_remote=yes in the
               stack the card signs as before
  su in ssh    su with SSH_CONNECTION in its environment (run inside an ssh
               session): remote too, the card not used
  pamtester    run by the clerk (a screen locker's position): the module
               hands the card transaction to the setuid helper mfauth-verify
  pamtester    as root, on the files store (card_min_tries = 1): the warning
               at one try left, then the last try used

How the clients reach the private pcscd: libpcsclite's compiled-in socket
/run/pcscd/pcscd.comm, which this mount namespace binds to the rig's (the
sandbox's /run is a tmpfs of its own).  No client is given
PCSCLITE_CSOCK_NAME: sshd and the setuid helper would not pass it on.  The
rig's owner is this process: pcscd and the cards end with it, even when it
is killed.  The card scenarios share one reader, so they run one after the
other.  See tests/clients/README.md."""
import gettext
import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import directory  # noqa: E402
import sandbox  # noqa: E402
from sandbox import answer, finish, transcript, CODE_PROMPT, PASSWORD, PASSWORD_PROMPT  # noqa: E402

PIN = "1234"            # the virtual JPKI card's (tests/card/README.md)
WRONG_PIN = "9999"
PIN_PROMPT = "My Number card PIN (4-digit user authentication PIN): "
LOCKER = "mfauth-locker"        # pamtester run by the clerk: the setuid helper
FILES = "mfauth-files"          # pamtester as root, the files store
NO_CARD = "No card found: enter a code instead."
CARD_REMOTE = "The card can be used only at the terminal. Enter your authenticator code."
PULL_BOUND = 3.0        # seconds from the PIN typed on a pulled card to the code prompt
FAIL_DELAY_MAX = 2.5    # the module's 2 s, as Linux-PAM randomises it (up to +25 %)
CARD_CONF = "factors = totp,card\ncard_wait = 2\n"
VERIFY_WITH_PIN = "apdu 00 20 00 80 lc=4 "      # a JPKI VERIFY that carries a PIN


class CardRig:
    """tests/card/rig.sh's private pcscd in T/card, owned by this process, its
    socket bound at the compiled-in path.  One JPKI card, slot 0."""

    def __init__(self, sb):
        self.dir = os.path.join(sb.T, "card")
        self.rig = os.path.join(sb.src, "tests", "card", "rig.sh")
        self.env = dict(os.environ, MFAUTH_WAIT_CARD=os.path.join(sb.build, "tests", "card", "wait_card"))
        self.env.pop("PCSCLITE_CSOCK_NAME", None)
        t0 = time.time()
        self.command("start", "--owner", str(os.getpid()))
        self.started_ms = int((time.time() - t0) * 1000)
        with open(os.path.join(self.dir, "rundir")) as f:
            run = f.read().strip()
        self.pids = [self._pid(n) for n in ("keeper.pid", "pcscd.pid")]
        os.makedirs("/run/pcscd", mode=0o755, exist_ok=True)
        sandbox.run(["mount", "--bind", os.path.join(run, "pcscd"), "/run/pcscd"])

    def _pid(self, name):
        with open(os.path.join(self.dir, name)) as f:
            return int(f.read())

    def command(self, cmd, *args):
        return sandbox.run(["bash", self.rig, cmd, self.dir] + list(args), env=self.env)

    def insert(self, *opts):
        """A JPKI card in slot 0 (returns once pcscd reports it); its PIN
        tries persist in T/card/state.jpki across removals."""
        self.command("card", "jpki", *opts)

    def remove(self):
        """Returns once the reader is empty."""
        self.command("remove")

    def tries(self):
        with open(os.path.join(self.dir, "state.jpki")) as f:
            return json.load(f)["tries_left"]

    def log_mark(self):
        try:
            with open(os.path.join(self.dir, "card0.log")) as f:
                return len(f.readlines())
        except OSError:
            return 0

    def log_since(self, mark):
        with open(os.path.join(self.dir, "card0.log")) as f:
            return f.readlines()[mark:]

    def stop(self):
        """For sb.at_stop: (pcscd and its keeper are gone, detail)."""
        p = self.command("stop")
        live = [pid for pid in self.pids if directory.alive(pid)]
        return not live and p.returncode == 0, f"still running: {live}\n{p.stdout}"


def became(rc, child, user):
    return sandbox.became(rc, child, user.name)


def audited(sb, mark, user, *tokens):
    """(found, lines): one line about user since mark holding every regex of tokens."""
    return sb.audit_has(mark, user, "".join(f"(?=.*{t})" for t in tokens))


def su(sb, user, env=None):
    """su USER on this terminal, run by the unprivileged staff account."""
    return sb.spawn(["su", user.name, "-c", "id -un"], env=env, as_user=sb.staff)


def pamtester(sb, user, service, as_clerk=False):
    return sb.spawn(["pamtester", "-v", service, user.name, "authenticate", "acct_mgmt"],
                    as_user=user if as_clerk else None)


def clerk(sb, name):
    """A clerk enrolled by staff with a TOTP seed (sb.add_user) and the card."""
    u = sb.add_user(name)
    sb.mfauth("enroll", "card", u.name, "--no-ca", input=PIN + "\n")
    return u


def card_login(c, pin_prompt=PIN_PROMPT, password_prompt=PASSWORD_PROMPT, pin=PIN):
    """Password, then the PIN at exactly pin_prompt: (exit status, the text
    shown between the password and the PIN prompt)."""
    answer(c, password_prompt, PASSWORD)
    before = answer(c, re.escape(pin_prompt), pin)
    return finish(c), before


def reset_after(rig, mark):
    """The card was reset (or powered down) after the login's last APDU."""
    lines = rig.log_since(mark)
    last_apdu = max((i for i, l in enumerate(lines) if l.startswith("apdu ")), default=None)
    return last_apdu is not None and any(
        l.startswith(("reset", "power-down")) for l in lines[last_apdu + 1:]), "".join(lines)


def t_su(sb, rig):
    u = sb.clerk_su
    mark, card = sb.audit.mark(), rig.log_mark()
    c = su(sb, u)
    rc, before = card_login(c)
    sb.check(f"su: the PIN prompt, exactly {PIN_PROMPT!r}; the right PIN logs in",
             became(rc, c, u), transcript(c))
    sb.check("su: no code prompt, no message before the PIN prompt (three tries left)",
             "Verification code" not in transcript(c) and before.strip() == "", transcript(c))
    sb.check("audit: event=auth result=success factor=card service=su",
             *audited(sb, mark, u, "event=auth result=success ", "factor=card ", "service=su "))
    sb.check("the card was reset after the login", *reset_after(rig, card))
    sb.check("the card's counter is 3", rig.tries() == 3, rig.tries())


def t_su_japanese(sb, rig):
    ja = gettext.translation("mfauth", os.path.join(sb.build, "tests", "locale"), ["ja"])
    prompt = ja.gettext(PIN_PROMPT)
    sb.check("the Japanese PIN prompt is a translation",
             prompt != PIN_PROMPT and "マイナンバーカード" in prompt, prompt)
    u = sb.clerk_ja
    mark = sb.audit.mark()
    c = su(sb, u, env={"LANG": "ja_JP.UTF-8"})
    rc, _ = card_login(c, pin_prompt=prompt, password_prompt=r"(パスワード|[Pp]assword): ?")
    sb.check(f"su in ja_JP.UTF-8: the PIN prompt, exactly {prompt!r}; the right PIN logs in",
             became(rc, c, u), transcript(c))
    sb.check("audit: a card success on su (ja_JP.UTF-8)",
             *audited(sb, mark, u, "event=auth result=success ", "factor=card ", "service=su "))


def t_wrong_pin(sb, rig):
    """A wrong PIN, the warning that follows, the guard at one try left."""
    u = sb.clerk_wrong
    mark = sb.audit.mark()
    c = su(sb, u)
    rc, _ = card_login(c, pin=WRONG_PIN)
    out = transcript(c)
    sb.check("su, a wrong PIN: refused with 'Wrong PIN. 2 tries left.'",
             rc != 0 and not became(rc, c, u) and "Wrong PIN. 2 tries left." in out, out)
    st = sb.show(u)
    sb.check("the directory counted it: failures 1, not locked",
             st.get("failures") == 1 and st.get("locked") is False, st)
    sb.check("the card's own counter went from 3 to 2", rig.tries() == 2, rig.tries())
    sb.check("audit: result=fail factor=card reason=bad_pin failures=1 tries_left=2",
             *audited(sb, mark, u, "event=auth result=fail ", "factor=card ", "reason=bad_pin ",
                      "service=su ", "failures=1", "tries_left=2"))
    c = su(sb, u)
    rc, before = card_login(c)
    warning = "Warning: 2 PIN tries left before the card locks."
    sb.check(f"su, two tries left: {warning!r} before the PIN prompt; the right PIN logs in",
             became(rc, c, u) and warning in before, transcript(c))
    st = sb.show(u)
    sb.check("the success cleared the failures; the card's counter is back at 3",
             st.get("failures") == 0 and rig.tries() == 3, f"{st} card {rig.tries()}")
    # One try left: with card_min_tries = 2 (the default) the PIN is not tried at all.
    rig.remove()
    rig.insert("--tries", "1")
    mark, card = sb.audit.mark(), rig.log_mark()
    c = su(sb, u)
    answer(c, PASSWORD_PROMPT, PASSWORD)
    before = answer(c, CODE_PROMPT, sb.code(u))
    rc = finish(c)
    guard = ("Only 1 PIN try is left on this card. To protect the card, the PIN is not tried "
             "here. Use your authenticator code or a recovery code, or contact security staff.")
    sb.check("su, one try left: the guard's message, no PIN prompt, the code prompt instead; "
             "the code logs in", became(rc, c, u) and guard in before and PIN_PROMPT not in
             transcript(c), transcript(c))
    sb.check("one try left: no VERIFY with a PIN reached the card, its counter is still 1",
             not any(l.startswith(VERIFY_WITH_PIN) for l in rig.log_since(card)) and rig.tries() == 1,
             "".join(rig.log_since(card)))
    sb.check("audit: the card skipped (reason=pin_tries), then a TOTP success",
             audited(sb, mark, u, "event=auth result=skip ", "factor=card ", "reason=pin_tries ")[0]
             and audited(sb, mark, u, "event=auth result=success ", "factor=totp ")[0],
             sb.audit.since(mark))
    rig.remove()
    rig.insert("--tries", "3")


def no_apdu_since(rig, mark):
    return not any(l.startswith("apdu ") for l in rig.log_since(mark))


def code_login(c, password_prompt=PASSWORD_PROMPT):
    """Password, then a TOTP code at the code prompt: the text shown between
    the two prompts (sshd joins a message to the next prompt's text)."""
    answer(c, password_prompt, PASSWORD)
    c.expect(CODE_PROMPT)
    return c.before


def t_sshd(sb, rig):
    """ssh is a remote login, even to the terminal itself: the card in the
    terminal's reader is not used (card_remote = no, the default), the
    clerk gets the code prompt with one line saying why; with
    card_remote = yes the card signs for the ssh login as before."""
    u = sb.clerk_ssh
    mark, card = sb.audit.mark(), rig.log_mark()
    c = sb.ssh(u, sb.sshd()[0], "keyboard-interactive", prompts=1)
    before = code_login(c)
    c.sendline(sb.code(u))
    rc = finish(c)
    sb.check("sshd keyboard-interactive: password, no PIN prompt, the code prompt; the TOTP code "
             "logs in", became(rc, c, u) and PIN_PROMPT not in transcript(c), transcript(c))
    sb.check(f"sshd: the clerk is told {CARD_REMOTE!r} before the code prompt",
             CARD_REMOTE in before, transcript(c))
    sb.check("sshd: no APDU reached the card", no_apdu_since(rig, card),
             "".join(rig.log_since(card)))
    sb.check("audit: the card skipped (reason=card_remote, remote=rhost), then a TOTP success",
             audited(sb, mark, u, "event=auth result=skip ", "factor=card ", "reason=card_remote ",
                     "service=sshd ", "remote=rhost")[0]
             and audited(sb, mark, u, "event=auth result=success ", "factor=totp ", "service=sshd ")[0],
             sb.audit.since(mark))
    st = sb.show(u)
    sb.check("sshd: the card not used counted nothing", st.get("failures") == 0, st)
    # card_remote = yes: the old behaviour, the card on the terminal's reader signs for ssh.
    sb.service("sshd", sb.stack(conf=sb.terminal, module_args="card_remote=yes"))
    try:
        mark, card = sb.audit.mark(), rig.log_mark()
        c = sb.ssh(u, sb.sshd()[0], "keyboard-interactive", prompts=1)
        rc, _ = card_login(c)
        sb.check("sshd, card_remote=yes: password, the PIN prompt, the card on the terminal's "
                 "reader logs in", became(rc, c, u), transcript(c))
        sb.check("audit: event=auth result=success factor=card service=sshd (card_remote=yes)",
                 *audited(sb, mark, u, "event=auth result=success ", "factor=card ", "service=sshd "))
        sb.check("sshd, card_remote=yes: the card was reset after the login", *reset_after(rig, card))
    finally:
        sb.service("sshd", sb.stack(conf=sb.terminal))


def t_su_in_ssh(sb, rig):
    """su run inside an ssh session (SSH_CONNECTION in its environment, as
    the shell of an ssh login has it): remote, the card not used."""
    u = sb.clerk_su_ssh
    mark, card = sb.audit.mark(), rig.log_mark()
    c = su(sb, u, env={"SSH_CONNECTION": "192.0.2.7 50022 127.0.0.1 22",
                       "SSH_CLIENT": "192.0.2.7 50022 22"})
    before = code_login(c)
    c.sendline(sb.code(u))
    rc = finish(c)
    sb.check("su inside an ssh session: no PIN prompt, the code prompt; the TOTP code logs in",
             became(rc, c, u) and PIN_PROMPT not in transcript(c), transcript(c))
    sb.check(f"su inside an ssh session: {CARD_REMOTE!r} before the code prompt",
             CARD_REMOTE in before, transcript(c))
    sb.check("su inside an ssh session: no APDU reached the card", no_apdu_since(rig, card),
             "".join(rig.log_since(card)))
    sb.check("audit: reason=card_remote remote=ssh_env service=su",
             *audited(sb, mark, u, "event=auth result=skip ", "factor=card ", "reason=card_remote ",
                      "service=su ", "remote=ssh_env"))


def t_locker(sb, rig):
    u = sb.clerk_locker
    mark, card = sb.audit.mark(), rig.log_mark()
    c = pamtester(sb, u, LOCKER, as_clerk=True)
    rc, _ = card_login(c)
    out = transcript(c)
    sb.check("pamtester run by the clerk: the setuid helper does the card, "
             "authenticate + acct_mgmt succeed", rc == 0 and "successfully authenticated" in out, out)
    sb.check("audit: the helper's card success (helper=mfauth-verify, the clerk's uid)",
             *audited(sb, mark, u, "event=auth result=success ", "factor=card ",
                      f"service={LOCKER} ", "helper=mfauth-verify", f"caller_uid={u.uid}"))
    sb.check("the helper: the card was reset after the login", *reset_after(rig, card))


def t_files(sb, rig):
    """The files store, card_min_tries = 1: at one try left the clerk is
    warned and the last try is used."""
    u = sb.clerk_files
    rig.remove()
    rig.insert("--tries", "1")
    mark = sb.audit.mark()
    c = pamtester(sb, u, FILES)
    rc, before = card_login(c)
    out = transcript(c)
    warning = "Warning: 1 PIN try left before the card locks."
    sb.check(f"files store, pamtester: {warning!r} before the PIN prompt; the right PIN "
             "logs in", rc == 0 and "successfully authenticated" in out and warning in before, out)
    sb.check("files store: the right PIN restored the card's counter to 3", rig.tries() == 3,
             rig.tries())
    sb.check("audit: a card success on the files store",
             *audited(sb, mark, u, "event=auth result=success ", "factor=card ", f"service={FILES} "))


def t_pulled(sb, rig):
    """The card pulled while the PIN prompt is shown: the PIN goes nowhere,
    the card path gives way to the code prompt (a missing card is no
    attempt), the clerk types no code.  Last: vpcd's reader stays wedged
    after the reset of a card that vanished (tests/card)."""
    u = sb.clerk_pull
    mark, card = sb.audit.mark(), rig.log_mark()
    c = su(sb, u)
    answer(c, PASSWORD_PROMPT, PASSWORD)
    answer(c, re.escape(PIN_PROMPT), None)
    rig.remove()
    t0 = time.time()
    c.sendline(PIN)
    told = prompted = None
    try:
        c.expect(re.escape(NO_CARD), timeout=PULL_BOUND)
        told = time.time() - t0
        c.expect(CODE_PROMPT, timeout=PULL_BOUND)
        prompted = time.time() - t0
        c.sendline("")
    except (sandbox.pexpect.TIMEOUT, sandbox.pexpect.EOF):
        pass
    rc = finish(c, timeout=PULL_BOUND + FAIL_DELAY_MAX)
    ended = time.time() - t0
    out = transcript(c)
    sb.local.out.append(f"# the card pulled at the PIN prompt: the message {told and told * 1000:.0f} ms, "
                        f"the code prompt {prompted and prompted * 1000:.0f} ms, the client's end "
                        f"{ended * 1000:.0f} ms after the PIN")
    sb.check(f"su, the card pulled at the PIN prompt: {NO_CARD!r}, then the code prompt, "
             f"both within {PULL_BOUND} s of the PIN", told is not None and prompted is not None, out)
    sb.check("the card pulled, no code typed: refused", rc != 0 and not became(rc, c, u), out)
    sb.check(f"the card pulled: the client ended within {PULL_BOUND} s + the fail delay",
             ended <= PULL_BOUND + FAIL_DELAY_MAX, f"{ended:.2f} s")
    sb.check("the card pulled: no VERIFY with the PIN reached the card, its counter is still 3",
             not any(l.startswith(VERIFY_WITH_PIN) for l in rig.log_since(card)) and rig.tries() == 3,
             "".join(rig.log_since(card)))
    sb.check("audit: the card skipped (reason=no_card), the empty code refused (reason=no_code)",
             audited(sb, mark, u, "event=auth result=skip ", "factor=card ", "reason=no_card ")[0]
             and audited(sb, mark, u, "event=auth result=fail ", "factor=totp ", "reason=no_code ")[0],
             sb.audit.since(mark))
    st = sb.show(u)
    sb.check("the card pulled: nothing counted (no attempt: no card, no code)",
             st.get("failures") == 0 and st.get("locked") is False, st)


def no_pin_in_audit(sb):
    """The PINs typed, as whole words, with each line's "ident[pid]:" taken off."""
    with open(sb.audit.path, errors="replace") as f:
        text = re.sub(r"(?m)^[^]]*\[[0-9]+\]: ", "", f.read())
    return not re.search(rf"\b({PIN}|{WRONG_PIN})\b", text), "a PIN in the audit"


sb = sandbox.start("card", store="ldap", conf_extra=CARD_CONF)
print(f"# private slapd answered {sb.directory.started_ms} ms after its start")
try:
    rig = CardRig(sb)
except RuntimeError as e:       # rig.sh: 99 a package missing, 77 no private pcscd possible here
    sandbox.die(f"the private pcscd (tests/card/rig.sh) did not start: {e}")
sb.at_stop.append(("the private pcscd and its keeper are stopped at the end", rig.stop))
print(f"# private pcscd ready {rig.started_ms} ms after its start")
sb.check("the clients get no PCSCLITE_CSOCK_NAME (the compiled-in socket only)",
         "PCSCLITE_CSOCK_NAME" not in os.environ)
t0 = time.time()
rig.insert("--tries", "3")
terminal = sb.terminal = sb.terminal_conf("terminal-a", 1)
for service in ("sshd", "su"):
    sb.service(service, sb.stack(conf=terminal))
sb.service(LOCKER, sb.stack(conf="", module_args="helper=" + sb.install_helper(terminal)))
sb.clerk_su, sb.clerk_ja, sb.clerk_wrong = (clerk(sb, n) for n in ("cd-su", "cd-ja", "cd-wrong"))
sb.clerk_ssh, sb.clerk_locker, sb.clerk_pull = (clerk(sb, n) for n in ("cd-ssh", "cd-locker", "cd-pull"))
sb.clerk_su_ssh = clerk(sb, "cd-su-ssh")
files_conf = os.path.join(sb.T, "files.conf")
with open(files_conf, "w") as f:
    f.write(f"store_dir = {sb.T}/files-store\nkey_file = {sb.T}/files.key\n"
            "deny = 3\nunlock_time = 0\ncard_min_tries = 1\n" + CARD_CONF)
os.chmod(files_conf, 0o600)
sb.mfauth("init", conf=files_conf)
sb.clerk_files = sb.add_user("cd-files", enroll=False)
sb.mfauth("enroll", "card", "cd-files", "--no-ca", input=PIN + "\n", conf=files_conf)
sb.service(FILES, sb.stack(conf=files_conf))
sb.sshd()       # from the main thread: setpriv's parent-death signal follows the thread that forked
print(f"# enrollments (8 cards, 7 seeds) and the stacks: {time.time() - t0:.1f} s")
sb.at_stop.insert(0, ("audit: no PIN anywhere", lambda: no_pin_in_audit(sb)))
sb.run_scenarios([], after=[(n, lambda s, f=f: f(s, rig)) for n, f in (
    ("su", t_su), ("su_japanese", t_su_japanese), ("wrong_pin", t_wrong_pin), ("sshd", t_sshd),
    ("su_in_ssh", t_su_in_ssh),
    ("locker", t_locker), ("files", t_files), ("pulled", t_pulled))])
