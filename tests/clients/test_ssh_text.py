#!/usr/bin/python3
"""What an ssh client shows of the text a PAM conversation sends, in English
and in Japanese (Debian 12: OpenSSH 9.2 on both ends).  Two private sshd:

  OpenSSH host   sshd started in ja_JP.UTF-8, as systemd starts it on a
                 Japanese terminal; sshd never calls setlocale(), so the
                 module runs in the C locale and speaks English.
  Japanese host  the same sshd with tests/clients/host_locale.so preloaded
                 (setlocale(LC_ALL, "") before main): a host that runs PAM in
                 ja_JP.UTF-8, so the module speaks Japanese.

sshd's PAM service puts pam_echo.so (PAM_TEXT_INFO, Japanese text) before
and after the module, so every kind of message is seen: a message before a
prompt, the module's PAM_PROMPT_ECHO_OFF prompt, and messages after a
refusal (pam_echo's PAM_TEXT_INFO, the module's PAM_ERROR_MSG "already
used").  Each is checked under the client's LANG=C, C.UTF-8 and ja_JP.UTF-8.
su in ja_JP.UTF-8 is the control: the module's Japanese messages there.
Last, the module's option lang=ja on the OpenSSH host (PAM in C): the
prompt is Japanese all the same, the message after a refusal English.
See tests/clients/README.md and doc/DESIGN.md ("Language of the clerk's
text")."""
import gettext
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox  # noqa: E402
from sandbox import answer, as_ssh_shows, finish, transcript, PASSWORD  # noqa: E402

BEFORE = "MARK-BEFORE お知らせ：コードの前"     # pam_echo before the module
AFTER = "MARK-AFTER お知らせ：拒否の後"         # pam_echo after it
REPLAY = "This code was already used. Wait for the next code."
CODE = "Verification code: "
JA_LOCALE = {"LANG": "ja_JP.UTF-8", "LC_ALL": "ja_JP.UTF-8"}
NAMES = {"C": "c", "C.UTF-8": "cutf8", "ja_JP.UTF-8": "ja"}     # user names per client locale


def hosts(sb):
    """(OpenSSH host, Japanese host): the extra environment of each sshd."""
    shim = os.path.join(sb.build, "tests", "clients", ".libs", "host_locale.so")
    if not os.path.exists(shim):
        sandbox.die(f"{shim} is missing (make check builds it)")
    return dict(JA_LOCALE), dict(JA_LOCALE, LD_PRELOAD=shim)


def catalog(sb):
    return gettext.translation("mfauth", os.path.join(sb.build, "tests", "locale"), ["ja"])


def either(text):
    """A pattern for text as ssh shows it raw or escaped."""
    return f"(?:{re.escape(text)}|{re.escape(as_ssh_shows(text))})"


def used_then_replayed(sb, name, host, lang, code_prompt=CODE):
    """A login with a code, then the same code again, both over ssh
    keyboard-interactive to host with the client's LANG=lang.  Returns (the
    user, whether the first logged in, its transcript, the replay's status
    and transcript)."""
    u = sb.add_user(name)
    port = sb.sshd(host)[0]
    # pam_unix's prompt: Linux-PAM's own catalog, Japanese on the Japanese host.
    password = "(?:[Pp]assword|パスワード|" + re.escape(as_ssh_shows("パスワード")) + "): ?"
    code = sb.code(u)
    runs = []
    for _ in range(2):
        c = sb.ssh(u, port, "keyboard-interactive", prompts=1, env={"LANG": lang})
        answer(c, password, PASSWORD)
        answer(c, either(code_prompt.strip()), code)
        rc = finish(c)
        runs.append((rc, sandbox.became(rc, c, u.name), transcript(c)))
    (_, ok, first), (rc, _, out) = runs
    return u, ok, first, rc, out


def before_prompt(text, prompt):
    """sshd (9.2) joins a message sent before a prompt to that prompt: the
    client shows "(user@host) MESSAGE" and the prompt on the next line."""
    return re.compile(r"\(\S+@127\.0\.0\.1\) " + re.escape(text) + r"\r?\n" + re.escape(prompt.strip()))


def t_openssh_host(sb, lang):
    openssh, _ = hosts(sb)
    u, ok, first, rc, out = used_then_replayed(sb, "tx-os-" + NAMES[lang], openssh, lang)
    utf8 = lang != "C"
    sb.check(f"OpenSSH host in ja_JP.UTF-8, client LANG={lang}: the module's prompt is English "
             f"(sshd runs PAM in the C locale) and the login succeeds",
             ok and "Verification code:" in first, first)
    shown = BEFORE if utf8 else as_ssh_shows(BEFORE)
    sb.check(f"client LANG={lang}: a message before a prompt is shown with the prompt, "
             + ("UTF-8 as sent" if utf8 else "escaped (\\343\\201\\212...)"),
             before_prompt(shown, CODE).search(first) is not None, first)
    sb.check(f"client LANG={lang}: the module's PAM_ERROR_MSG after the refusal, English, "
             f"shown as sent ('{REPLAY}')", rc != 0 and REPLAY in out, out)
    sb.check(f"client LANG={lang}: a non-ASCII message after a refusal is escaped, "
             f"whatever the client's locale", as_ssh_shows(AFTER) in out and AFTER not in out, out)


def t_japanese_host(sb, lang):
    _, japanese = hosts(sb)
    ja = catalog(sb)
    code_ja = ja.gettext(CODE)
    replay_ja = ja.gettext(REPLAY)
    u, ok, first, rc, out = used_then_replayed(sb, "tx-ja-" + NAMES[lang], japanese, lang,
                                               code_ja)
    utf8 = lang != "C"
    shown = code_ja.strip() if utf8 else as_ssh_shows(code_ja.strip())
    sb.check(f"Japanese host, client LANG={lang}: the module's Japanese prompt ({code_ja.strip()}) "
             + ("shown as sent (UTF-8)" if utf8 else "escaped"),
             ok and shown in first and "Verification code" not in first
             and code_ja != CODE, first)
    shown = BEFORE if utf8 else as_ssh_shows(BEFORE)
    sb.check(f"Japanese host, client LANG={lang}: a message before the Japanese prompt is shown "
             "with it, " + ("UTF-8 as sent" if utf8 else "escaped"),
             before_prompt(shown, code_ja if utf8 else as_ssh_shows(code_ja)).search(first)
             is not None, first)
    sb.check(f"Japanese host, client LANG={lang}: a non-ASCII message after a refusal is escaped",
             rc != 0 and as_ssh_shows(AFTER) in out and AFTER not in out, out)
    sb.check(f"Japanese host, client LANG={lang}: the module's message after the refusal is sent "
             f"in English over ssh ('{REPLAY}'), never as escaped Japanese",
             REPLAY in out and as_ssh_shows(replay_ja) not in out and replay_ja != REPLAY
             and not replay_ja.isascii(), out)


def t_lang_ja(sb):
    """lang=ja in the module's options: sshd still runs PAM in the C locale,
    the module reads its Japanese catalog itself.  Run alone (after the
    others): it rewrites the sshd service every daemon reads."""
    ja = catalog(sb)
    code_ja = ja.gettext(CODE)
    replay_ja = ja.gettext(REPLAY)
    openssh, _ = hosts(sb)
    lang_ja = "".join(l.replace("\n", " lang=ja\n") if "pam_mfauth" in l else l for l in SSHD_STACK)
    sb.service("sshd", lang_ja)
    try:
        u, ok, first, rc, out = used_then_replayed(sb, "tx-lang-ja", openssh, "C.UTF-8", code_ja)
    finally:
        sb.service("sshd", "".join(SSHD_STACK))
    sb.check(f"OpenSSH host (PAM in C), module lang=ja, client LANG=C.UTF-8: the Japanese code "
             f"prompt ({code_ja.strip()}) shown as sent, and the login succeeds",
             ok and code_ja.strip() in first and "Verification code" not in first
             and code_ja != CODE and lang_ja.count(" lang=ja\n") == 2, first)
    sb.check(f"module lang=ja over ssh: the message after the refusal is English ('{REPLAY}'), "
             "readable, never escaped Japanese",
             rc != 0 and REPLAY in out and as_ssh_shows(replay_ja) not in out
             and replay_ja not in out, out)


def t_su_japanese(sb):
    """The control: outside ssh the module's messages stay Japanese."""
    ja = catalog(sb)
    replay_ja = ja.gettext(REPLAY)
    u = sb.add_user("tx-su-ja")
    code = sb.code(u)
    env = {"LANG": "ja_JP.UTF-8"}
    runs = []
    for _ in range(2):
        c = sb.spawn(["su", u.name, "-c", "id -un"], env=env, as_user=sb.staff)
        answer(c, r"(パスワード|[Pp]assword): ?", PASSWORD)
        answer(c, re.escape(ja.gettext(CODE).strip()), code)
        runs.append((finish(c), transcript(c)))
    (rc1, _), (rc2, out) = runs
    sb.check("su in ja_JP.UTF-8: a replayed code is told in Japanese (the English text is for ssh only)",
             rc1 == 0 and rc2 != 0 and replay_ja in out and REPLAY not in out, out)


def t_check_ascii(sb):
    """The English text every ssh client shows as sent: the module's messages
    the clerk can see over ssh are plain ASCII."""
    ja = catalog(sb)
    for msg in (REPLAY, CODE, "The authentication directory cannot be reached. Contact security staff.",
                "This account is locked after too many failed attempts. Contact your security staff."):
        sb.check(f"'{msg}' is plain ASCII and has a Japanese translation",
                 msg.isascii() and ja.gettext(msg) != msg, ja.gettext(msg))


sb = sandbox.start("ssh_text")
with open(os.path.join(sb.T, "echo-before"), "w") as f:
    f.write(BEFORE)
with open(os.path.join(sb.T, "echo-after"), "w") as f:
    f.write(AFTER)
stack = sb.stack().splitlines(keepends=True)
mfauth_auth = next(i for i, l in enumerate(stack) if l.startswith("auth") and "pam_mfauth" in l)
stack.insert(mfauth_auth + 1, f"auth     optional  pam_echo.so file={sb.T}/echo-after\n")
stack.insert(mfauth_auth, f"auth     optional  pam_echo.so file={sb.T}/echo-before\n")
SSHD_STACK = stack
sb.service("sshd", "".join(stack))
sb.service("su", sb.stack())
for host in hosts(sb):      # from the main thread: setpriv's parent-death signal follows it
    sb.sshd(host)
sb.run_scenarios([("openssh_c", lambda s: t_openssh_host(s, "C")),
                  ("openssh_cutf8", lambda s: t_openssh_host(s, "C.UTF-8")),
                  ("openssh_ja", lambda s: t_openssh_host(s, "ja_JP.UTF-8")),
                  ("japanese_c", lambda s: t_japanese_host(s, "C")),
                  ("japanese_cutf8", lambda s: t_japanese_host(s, "C.UTF-8")),
                  ("japanese_ja", lambda s: t_japanese_host(s, "ja_JP.UTF-8")),
                  ("su_japanese", t_su_japanese), ("ascii", t_check_ascii)],
                 after=[("lang_ja", t_lang_ja)])
