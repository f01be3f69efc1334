"""The shared sandbox of the real-client tests (tests/clients/README.md).

Every test_*.py here drives real programs -- OpenSSH's sshd and ssh, util-linux
su, sudo, shadow's login, pamtester -- against the built pam_mfauth.so, and
never touches the machine's own PAM files, sudoers or user database:

  outside   start() makes a temp dir T and re-runs the test under
            tests/sinkrun (a private /dev/log whose lines land in T/audit.log)
            and `unshare --mount --propagation private`;
  inside    private copies of /etc/pam.d, /etc/sudoers(.d), /etc/passwd,
            /etc/shadow, /etc/group and /etc/gshadow are bind-mounted over the
            real ones, tmpfs over /run and /var/log (utmp, wtmp, btmp,
            lastlog, sudo's timestamps), and the build's Japanese catalog
            appears at the module's LOCALEDIR through an overlay.  Test users
            exist only in the copies, their homes under T.  The module's
            config, key and store live in T (`mfauth init`, `enroll totp
            --secret-stdin --no-confirm`); codes come from oathtool.
            With store="ldap" (test_fleet.py) the store is a private slapd
            (directory.py): the tool's config is staff's, and each
            terminal_conf() is one terminal's identity in that directory.

Output: "ok   - ..." / "FAIL - ..." per check and a last line "N passed, N
failed" (what scripts/count-tests adds up).  Anything that cannot be set up
fails the test loudly; nothing is skipped.

Run one file alone:  MFAUTH_BUILDDIR=build python3 tests/clients/test_ssh.py
and only some scenarios:  ... test_ssh.py lockout pubkey_lock
"""
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

import directory

pexpect = None      # imported inside the sandbox only (it takes a while to load)

PASSWORD = "Sakura-2026!pw"
TIMEOUT = 20
CODE_PROMPT = r"Verification code: ?"
PASSWORD_PROMPT = r"(?i)password(?: for \S+)?: ?"
SUDO_PROMPT = r"\[sudo\] password for \S+: ?"
INNER = "MFAUTH_CLIENTS_DIR"
LDAP_TIMEOUT = 2    # seconds (ldap_timeout of every store = ldap config here)


def die(msg):
    print(f"FAIL - {msg}")
    print("0 passed, 1 failed")
    sys.exit(1)


def run(argv, check=True, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.STDOUT)
    kw.setdefault("text", True)
    p = subprocess.run(argv, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {p.returncode}: {p.stdout}")
    return p


def paths():
    build = os.environ.get("MFAUTH_BUILDDIR")
    if not build:
        die("set MFAUTH_BUILDDIR (make check does)")
    src = os.environ.get("MFAUTH_SRCDIR") or os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", ".."))
    return os.path.abspath(build), src


def start(name, store="files", conf_extra=""):
    """Outside: run this test again inside the sandbox and exit with its status.
    Inside: return the Sandbox, its store "files" or "ldap"; conf_extra: lines
    added to every module config it writes (test_card.py: the card factor)."""
    build, src = paths()
    if os.environ.get(INNER):
        global pexpect
        import pexpect
        return Sandbox(os.environ[INNER], build, src, name, store, conf_extra)
    if os.geteuid() != 0:
        die("the real-client tests need root (a mount namespace, sshd, users)")
    for prog in ("/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/sudo", "/usr/bin/pamtester",
                 "/usr/bin/su", "/usr/bin/login", "/usr/bin/oathtool", "/usr/bin/unshare"):
        if not os.access(prog, os.X_OK):
            die(f"{prog} is missing: run scripts/setup (it installs the client packages)")
    tmp = tempfile.mkdtemp(prefix=f"mfauth-clients-{name}.", dir="/tmp")
    os.chmod(tmp, 0o755)        # the test users reach their homes under it
    open(os.path.join(tmp, "audit.log"), "w").close()
    env = dict(os.environ, **{INNER: tmp, "PYTHONDONTWRITEBYTECODE": "1",
                              "MFAUTH_CLIENTS_HOST_NS": os.readlink("/proc/self/ns/mnt")})
    argv = [os.path.join(build, "tests", "sinkrun"), os.path.join(tmp, "audit.log"),
            "unshare", "--mount", "--propagation", "private",
            sys.executable, os.path.abspath(sys.argv[0])] + sys.argv[1:]
    try:
        rc = subprocess.call(argv, env=env)
    finally:
        if not os.environ.get("MFAUTH_CLIENTS_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")
    sys.exit(rc)


class Audit:
    """pam_mfauth's syslog lines, as sinkrun writes them to T/audit.log."""

    def __init__(self, path):
        self.path = path

    def mark(self):
        return os.path.getsize(self.path)

    def since(self, mark, settle=0.3):
        time.sleep(settle)          # sinkrun polls every 50 ms
        with open(self.path, encoding="utf-8", errors="replace") as f:
            f.seek(mark)
            return [l for l in f.read().splitlines() if "pam_mfauth" in l]

    def wait(self, mark, match, timeout=3.0):
        """The lines since mark once match(line) holds for one (all of them at timeout)."""
        end = time.time() + timeout
        while True:
            lines = self.since(mark, settle=0.1)
            if any(match(l) for l in lines) or time.time() > end:
                return lines


class User:
    def __init__(self, name, uid, home, seed):
        self.name, self.uid, self.home, self.seed = name, uid, home, seed
        self.last_step = -10


class Sandbox:
    def __init__(self, tmp, build, src, name, store="files", conf_extra=""):
        self.T, self.build, self.src, self.name, self.store = tmp, build, src, name, store
        self.conf_extra = conf_extra
        self.directory = None
        self.at_stop = []       # (what, function) run by stop(); function returns (ok, detail)
        self.t0 = time.time()
        self.module = os.path.join(build, "pam_module", ".libs", "pam_mfauth.so")
        self.mfauth_bin = os.path.join(build, "tools", "mfauth")
        self.conf = os.path.join(tmp, "mfauth.conf")
        self.audit = Audit(os.path.join(tmp, "audit.log"))
        self.passed = self.failed = 0
        self.local = threading.local()
        self.lock = threading.Lock()
        self.sshd_lock = threading.Lock()
        self.next_uid = 21000
        self.users = {}
        self.procs = []
        self.sshd_daemons = {}   # the daemon's extra environment -> its ports
        self.ssh_dir = os.path.join(tmp, "ssh")
        try:
            self._setup()
        except Exception:
            die("sandbox setup: " + traceback.format_exc())

    # --- bookkeeping (the same output as tests/checks.sh)
    def check(self, what, cond, detail=""):
        """Count one check; its lines go to the running scenario's output."""
        out = getattr(self.local, "out", None)
        lines = [f"ok   - {what}"] if cond else [f"FAIL - {what}"] + [
            f"       {line}" for line in str(detail).splitlines()[-40:]]
        with self.lock:
            if cond:
                self.passed += 1
            else:
                self.failed += 1
            if out is None:
                print("\n".join(lines), flush=True)
        if out is not None:
            out.extend(lines)
        return bool(cond)

    def _scenario(self, name, fn):
        self.local.out = [f"# {name}"]
        t0 = time.time()
        try:
            fn(self)
        except Exception:
            self.check(f"{name}: ran to the end", False, traceback.format_exc())
        out, self.local.out = self.local.out, None     # later checks print themselves
        out.append(f"# {name}: {time.time() - t0:.1f} s")
        return out

    def run_scenarios(self, scenarios, after=()):
        """scenarios: [(name, function)], each with users of its own, run side
        by side (most of a failed login is the PAM fail delay); then those of
        after, one at a time (one that stops the directory every scenario
        uses).  argv picks some by name.  Output stays in scenario order."""
        wanted = sys.argv[1:]
        every = list(scenarios) + list(after)
        unknown = [w for w in wanted if w not in dict(every)]
        if unknown:
            die(f"no scenario {unknown}; there are: {', '.join(n for n, _ in every)}")
        todo = [(n, f) for n, f in scenarios if not wanted or n in wanted]
        later = [(n, f) for n, f in after if not wanted or n in wanted]
        try:
            if todo:
                with ThreadPoolExecutor(max_workers=len(todo)) as pool:
                    for out in pool.map(lambda nf: self._scenario(*nf), todo):
                        print("\n".join(out), flush=True)
            for n, f in later:
                print("\n".join(self._scenario(n, f)), flush=True)
        finally:
            self.stop()
        print(f"# {self.name}: {time.time() - self.t0:.1f} s in all")
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(0 if self.failed == 0 and self.passed > 0 else 1)

    def audit_has(self, mark, user, pattern, timeout=3.0):
        """(found, lines): a pam_mfauth line about user since mark matching pattern."""
        rx = re.compile(pattern)
        mine = lambda l: f"user={user.name} " in l  # noqa: E731
        lines = self.audit.wait(mark, lambda l: mine(l) and rx.search(l), timeout)
        lines = [l for l in lines if mine(l)]
        return any(rx.search(l) for l in lines), lines

    def stop(self):
        for what, fn in self.at_stop:
            try:
                ok, detail = fn()
            except Exception:
                ok, detail = False, traceback.format_exc()
            self.check(what, ok, detail)
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        if self.directory is not None:
            pid = self.directory.slapd_pid()
            self.directory.close()
            self.check("the private slapd is stopped at the end", pid is None or not directory.alive(pid),
                       f"slapd pid {pid} still runs")

    # --- the namespace
    def _mount(self, *args):
        run(["mount"] + list(args))

    def _setup(self):
        etc = os.path.join(self.T, "etc")
        os.makedirs(etc)
        # Sanity: we must be in a mount namespace of our own, or we stop here.
        if os.readlink("/proc/self/ns/mnt") == os.environ.get("MFAUTH_CLIENTS_HOST_NS"):
            die("not in a private mount namespace: refusing to bind anything over /etc")
        for d in ("/run", "/var/log"):
            self._mount("-t", "tmpfs", "-o", "mode=0755", "clients-" + d.strip("/").replace("/", "-"), d)
        os.makedirs("/run/sshd", mode=0o755)
        shutil.copytree("/etc/pam.d", os.path.join(etc, "pam.d"), symlinks=True)
        self._mount("--bind", os.path.join(etc, "pam.d"), "/etc/pam.d")
        for f, mode in (("passwd", 0o644), ("group", 0o644), ("shadow", 0o640), ("gshadow", 0o640)):
            dst = os.path.join(etc, f)
            shutil.copy2("/etc/" + f, dst)
            st = os.stat("/etc/" + f)
            os.chown(dst, st.st_uid, st.st_gid)     # group shadow: unix_chkpwd, for a clerk's own PAM
            os.chmod(dst, mode)
            self._mount("--bind", dst, "/etc/" + f)
        os.makedirs(os.path.join(etc, "sudoers.d"), mode=0o755)
        with open(os.path.join(etc, "sudoers"), "w") as f:
            f.write("Defaults env_reset, passwd_tries=3, timestamp_timeout=0, lecture=never\n"
                    "Defaults secure_path=\"/usr/sbin:/usr/bin:/sbin:/bin\"\n"
                    "root ALL=(ALL:ALL) ALL\n#includedir /etc/sudoers.d\n")
        os.chmod(os.path.join(etc, "sudoers"), 0o440)
        if not os.path.exists("/etc/sudoers"):
            die("/etc/sudoers is missing: is sudo installed?")
        self._mount("--bind", os.path.join(etc, "sudoers"), "/etc/sudoers")
        self._mount("--bind", os.path.join(etc, "sudoers.d"), "/etc/sudoers.d")
        self.pam_dir = os.path.join(etc, "pam.d")
        self._locale()
        self._store()
        self.hash = run(["openssl", "passwd", "-6", "-stdin"], input=PASSWORD).stdout.strip()
        self.staff = self.add_user("staff", enroll=False)
        self._log_takes_everyone()

    def _log_takes_everyone(self):
        """The private /dev/log must take an unprivileged sender's lines (the
        module in a clerk's own process, unix_chkpwd), or a check that no line
        says something could not fail."""
        tag = f"mfauth-sandbox-probe-{os.getpid()}"
        run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "logger", "-t", tag, "probe"])
        end = time.time() + 3
        while time.time() < end:
            with open(self.audit.path, errors="replace") as f:
                if tag in f.read():
                    return
            time.sleep(0.05)
        die("the private /dev/log drops an unprivileged sender's lines (tests/syslog_sink.c)")

    def _locale(self):
        """The build's Japanese catalog at the module's LOCALEDIR, seen only here."""
        localedir = makefile_var(self.build, "localedir")
        self.catalog = os.path.join(self.build, "tests", "locale", "ja", "LC_MESSAGES", "mfauth.mo")
        if not os.path.exists(self.catalog):
            die(f"{self.catalog} is missing (make check builds it; NLS disabled?)")
        top = localedir
        while not os.path.isdir(top):
            top = os.path.dirname(top)
        if top in ("/", "/usr"):
            die(f"LOCALEDIR {localedir}: no directory of its own to lay the catalog over")
        ov = os.path.join(self.T, "overlay")
        os.makedirs(ov)
        self._mount("-t", "tmpfs", "-o", "mode=0755", "clients-locale", ov)
        os.makedirs(os.path.join(ov, "up"))
        os.makedirs(os.path.join(ov, "work"))
        self._mount("-t", "overlay", "clients-locale", "-o",
                    f"lowerdir={top},upperdir={ov}/up,workdir={ov}/work", top)
        target = os.path.join(localedir, "ja", "LC_MESSAGES")
        os.makedirs(target, exist_ok=True)
        shutil.copy(self.catalog, os.path.join(target, "mfauth.mo"))

    def _store(self):
        if self.store == "ldap":
            self._directory_store()
            return
        with open(self.conf, "w") as f:
            f.write(f"store_dir = {self.T}/store\nkey_file = {self.T}/store.key\n"
                    "deny = 3\nunlock_time = 0\n" + self.conf_extra)
        os.chmod(self.conf, 0o600)
        self.mfauth("init")

    def _directory_store(self):
        """store = ldap: one private slapd (directory.py, from this, the main
        thread); self.conf is staff's config, which `mfauth init` gives the
        fleet's key and the decoy entry."""
        try:
            self.directory = directory.Directory(self.src, os.path.join(self.T, "rig"))
        except directory.RigError as e:
            die(str(e))
        env = self.directory.env
        self.conf = self._ldap_conf("staff", env["LDAP_RIG_STAFF_DN"], env["LDAP_RIG_STAFF_PW"],
                                    os.path.join(self.T, "store.key"))
        self.mfauth("init")

    def terminal_conf(self, name, n, uris=None):
        """T/NAME.conf: a terminal bound as the rig's terminal-0N, with its own
        copy of the fleet's key (what distributing the key file gives).  uris:
        its ldap_uri (default: the rig's ldaps://, then its StartTLS ldap://,
        so that "stopped" means both refused)."""
        key = os.path.join(self.T, f"{name}.key")
        shutil.copy(os.path.join(self.T, "store.key"), key)
        os.chmod(key, 0o400)
        env = self.directory.env
        return self._ldap_conf(name, env[f"LDAP_RIG_TERM_DN_{n}"], env["LDAP_RIG_TERM_PW"], key, uris)

    def _ldap_conf(self, name, dn, password, key, uris=None):
        env = self.directory.env
        uris = uris or f"{env['LDAP_RIG_URI_LDAPS']} {env['LDAP_RIG_URI_LDAP']}"
        secret = os.path.join(self.T, f"{name}.secret")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(password)
        conf = os.path.join(self.T, f"{name}.conf")
        with open(conf, "w") as f:
            f.write(f"store = ldap\nkey_file = {key}\nldap_uri = {uris}\n"
                    f"ldap_base = {env['LDAP_RIG_BASE']}\nldap_bind_dn = {dn}\n"
                    f"ldap_bind_pw_file = {secret}\nldap_ca_file = {env['LDAP_RIG_CA']}\n"
                    f"ldap_starttls = yes\nldap_timeout = {LDAP_TIMEOUT}\n"
                    f"ldap_module = {self.build}/lib/.libs/mfauth_store_ldap.so\n"
                    "deny = 3\nunlock_time = 0\n" + self.conf_extra)
        os.chmod(conf, 0o600)
        return conf

    # --- users, codes, the tool
    def mfauth(self, *args, input=None, check=True, conf=None):
        """The tool on conf (None: self.conf, staff's on the directory store)."""
        return run([self.mfauth_bin, "-c", conf or self.conf] + list(args), input=input, check=check)

    def add_user(self, name, enroll=True):
        with self.lock:
            uid = self.next_uid
            self.next_uid += 1
            self._add_lines(name, uid)
        home = os.path.join(self.T, "home", name)
        seed = None
        if enroll:
            seed = base64.b32encode(os.urandom(20)).decode().rstrip("=")
            self.mfauth("enroll", "totp", name, "--secret-stdin", "--no-confirm", "--qr", "none",
                        input=seed + "\n")
        u = User(name, uid, home, seed)
        self.users[name] = u
        return u

    def _add_lines(self, name, uid):
        home = os.path.join(self.T, "home", name)
        os.makedirs(home)
        os.chown(home, uid, uid)
        with open("/etc/passwd", "a") as f:
            f.write(f"{name}:x:{uid}:{uid}:mfauth test:{home}:/bin/bash\n")
        with open("/etc/group", "a") as f:
            f.write(f"{name}:x:{uid}:\n")
        with open("/etc/shadow", "a") as f:
            f.write(f"{name}:{self.hash}:19000:0:99999:7:::\n")
        with open("/etc/gshadow", "a") as f:
            f.write(f"{name}:!::\n")

    def totp(self, user, step):
        return run(["oathtool", "--totp", "-b", "-N", f"@{step * 30}", user.seed]).stdout.strip()

    def code(self, user):
        """A code the module has not seen: the current step, or the next one."""
        now = int(time.time()) // 30
        step = max(now, user.last_step + 1)
        if step > now + 1:
            time.sleep((step - 1) * 30 - time.time() + 0.5)
        user.last_step = step
        return self.totp(user, step)

    def wrong_code(self, user):
        now = int(time.time()) // 30
        valid = {self.totp(user, s) for s in range(now - 3, now + 4)}
        for c in ("000000", "111111", "222222", "333333"):
            if c not in valid:
                return c
        raise RuntimeError("no wrong code found")

    def show(self, user):
        return json.loads(self.mfauth("show", user.name, "--json").stdout)

    # --- PAM stacks
    def stack(self, password_control="requisite", module_args="", conf=None):
        """conf: the module's conf= (None: self.conf; "": none, as a stack
        for the setuid helper has, which reads only the compiled-in file)."""
        conf = self.conf if conf is None else conf
        m = self.module + (f" conf={conf}" if conf else "")
        if module_args:
            m += " " + module_args
        return (f"auth     {password_control} pam_unix.so nodelay\n"
                f"auth     required  {m}\n"
                f"account  required  pam_unix.so\n"
                f"account  required  {m}\n"
                f"password required  pam_deny.so\n"
                f"session  required  pam_permit.so\n")

    def service(self, name, text):
        with open(os.path.join(self.pam_dir, name), "w") as f:
            f.write(text)

    # --- conversations on a pty
    def spawn(self, argv, env=None, as_user=None):
        e = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TERM": "dumb", "LANG": "C",
             "HOME": os.path.join(self.T, "clienthome")}
        os.makedirs(e["HOME"], exist_ok=True)
        if env:
            e.update(env)
        if as_user is not None:
            argv = ["setpriv", f"--reuid={as_user.uid}", f"--regid={as_user.uid}",
                    "--init-groups"] + argv
            e["HOME"] = as_user.home
        child = pexpect.spawn(argv[0], argv[1:], env=e, encoding="utf-8",
                              codec_errors="replace", timeout=TIMEOUT, echo=False)
        child.transcript = []
        child.logfile_read = _Tee(child.transcript)
        return child

    def sudo(self, user):
        """`sudo -k id -un` run by user, whom the sandbox's private sudoers.d
        lets run anything (every sudo authenticates: timestamp_timeout=0)."""
        rule = f"/etc/sudoers.d/{user.name}"
        if not os.path.exists(rule):
            with open(rule, "w") as f:
                f.write(f"{user.name} ALL=(ALL:ALL) ALL\n")
            os.chmod(rule, 0o440)
        return self.spawn(["sudo", "-k", "id", "-un"], as_user=user)

    # --- sshd: one daemon, two loopback ports
    def sshd(self, env=None):
        """Start a private sshd once per env (extra environment of the daemon,
        such as LD_PRELOAD; None: sshd as it runs from systemd); returns
        (kbdint_port, password_port).  Call it first from the main thread:
        the parent-death signal is sent when the thread that started sshd
        ends, not the process."""
        key = tuple(sorted((env or {}).items()))
        with self.sshd_lock:
            if key not in self.sshd_daemons:
                self.sshd_daemons[key] = self._start_sshd(env or {}, len(self.sshd_daemons))
        return self.sshd_daemons[key]

    def _start_sshd(self, env, n):
        """Daemon n: its own config and log; keys and known_hosts shared."""
        d = self.ssh_dir
        if n == 0:
            os.makedirs(os.path.join(d, "authorized"))
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{d}/host_ed25519"])
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{d}/client"])
        ports = free_ports(2)
        hostkey = open(f"{d}/host_ed25519.pub").read().split()[:2]
        with open(f"{d}/known_hosts", "a") as f:
            for p in ports:
                f.write(f"[127.0.0.1]:{p} {hostkey[0]} {hostkey[1]}\n")
        config = f"{d}/sshd_config" + (f".{n}" if n else "")
        with open(config, "w") as f:
            f.write(f"""ListenAddress 127.0.0.1:{ports[0]}
ListenAddress 127.0.0.1:{ports[1]}
HostKey {d}/host_ed25519
PidFile none
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile {d}/authorized/%u
StrictModes no
PermitRootLogin no
UseDNS no
PrintMotd no
PrintLastLog no
MaxAuthTries 10
LogLevel VERBOSE
# Debian 12's shipped sshd_config: password authentication, no keyboard-interactive.
Match LocalPort {ports[1]}
	KbdInteractiveAuthentication no
	PasswordAuthentication yes
""")
        run(["/usr/sbin/sshd", "-t", "-f", config])
        logname = f"{d}/sshd" + (f".{n}" if n else "") + ".log"
        log = open(logname, "w")
        p = subprocess.Popen(["setpriv", "--pdeathsig", "TERM", "/usr/sbin/sshd", "-D", "-e",
                              "-f", config], stdout=log, stderr=log, env=dict(os.environ, **env))
        self.procs.append(p)
        end = time.time() + 10
        for port in ports:
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), 0.5).close()
                    break
                except OSError:
                    if p.poll() is not None or time.time() > end:
                        die(f"sshd did not start: {open(logname).read()}")
                    time.sleep(0.05)
        return ports

    # --- the setuid helper (a screen locker's position)
    def install_helper(self, conf):
        """The setuid helper of a terminal: a copy of mfauth-verify, setuid root,
        in T, and conf as the compiled-in file, which is the only one it reads
        (a private copy of SYSCONFDIR, bound over it in this namespace).
        Returns the helper's path, for the module's helper= option."""
        sysconf = makefile_var(self.build, "sysconfdir")
        if not os.path.isdir(sysconf):
            die(f"SYSCONFDIR {sysconf} does not exist: nowhere for the helper's config")
        if "nosuid" in run(["findmnt", "-no", "OPTIONS", "-T", self.T]).stdout.strip().split(","):
            die(f"{self.T} is on a nosuid file system: the setuid helper cannot run there")
        copy = os.path.join(self.T, "sysconf")
        shutil.copytree(sysconf, copy, symlinks=True)
        self._mount("--bind", copy, sysconf)
        os.makedirs(os.path.join(sysconf, "mfauth"), exist_ok=True)
        installed = os.path.join(sysconf, "mfauth", "mfauth.conf")
        shutil.copy(conf, installed)
        os.chmod(installed, 0o644)  # the clerk's module reads it too; the secrets are in files it names
        os.makedirs(os.path.join(self.T, "bin"), mode=0o755)
        helper = os.path.join(self.T, "bin", "mfauth-verify")
        shutil.copy(os.path.join(self.build, "helper", "mfauth-verify"), helper)
        os.chmod(helper, 0o4755)
        return helper

    def authorize(self, user):
        shutil.copy(f"{self.ssh_dir}/client.pub", f"{self.ssh_dir}/authorized/{user.name}")

    def ssh(self, user, port, method, command="id -un", prompts=3, env=None):
        """ssh USER@127.0.0.1 COMMAND on a pty, with one authentication method
        (env: the client's, such as its LANG)."""
        argv = ["ssh", "-F", "/dev/null", "-p", str(port),
                "-o", f"UserKnownHostsFile={self.ssh_dir}/known_hosts",
                "-o", "StrictHostKeyChecking=yes", "-o", f"NumberOfPasswordPrompts={prompts}",
                "-o", f"PreferredAuthentications={method}", "-o", "ConnectTimeout=10"]
        if method == "publickey":
            argv += ["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                     "-i", f"{self.ssh_dir}/client"]
        else:
            argv += ["-o", "PubkeyAuthentication=no"]
        return self.spawn(argv + [f"{user.name}@127.0.0.1", command], env=env)


class _Tee:
    def __init__(self, sink):
        self.sink = sink

    def write(self, s):
        self.sink.append(s)

    def flush(self):
        pass


def as_ssh_shows(text):
    """text as OpenSSH's client up to 10.2 (Debian 12: 9.2) prints a
    keyboard-interactive name or instruction -- through its log function,
    which escapes every byte outside printable ASCII as a backslash and three
    octal digits whatever the locale -- and a prompt in a locale that is not
    UTF-8 (LANG=C)."""
    return "".join(ch if ord(ch) < 128 else "".join(f"\\{b:03o}" for b in ch.encode()) for ch in text)


def transcript(child):
    return "".join(child.transcript)


def finish(child, timeout=TIMEOUT):
    """Read to the end; returns the exit status (signal -> 128 + n)."""
    try:
        child.expect(pexpect.EOF, timeout=timeout)
    except pexpect.TIMEOUT:
        child.terminate(force=True)
    child.close()
    if child.exitstatus is not None:
        return child.exitstatus
    return 128 + (child.signalstatus or 0)


def makefile_var(build, name):
    """A directory variable of the build's Makefile, ${...} expanded."""
    vars_ = {}
    with open(os.path.join(build, "Makefile")) as f:
        for line in f:
            m = re.match(r"^([A-Za-z_]+) = (.*)$", line.rstrip("\n"))
            if m:
                vars_[m.group(1)] = m.group(2).strip()
    value = vars_[name]
    for _ in range(10):
        value = re.sub(r"\$[{(]([A-Za-z_]+)[})]", lambda m: vars_.get(m.group(1), ""), value)
    return value


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def answer(child, pattern, reply):
    """Wait for pattern, then type reply (None: type nothing).  Returns the text
    seen before the match; pexpect.TIMEOUT/EOF propagate as failures."""
    child.expect(pattern)
    before = child.before
    if reply is not None:
        child.sendline(reply)
    return before


def login(child, code, password=PASSWORD, password_prompt=PASSWORD_PROMPT):
    """Password, then code; returns the exit status once the client ends."""
    answer(child, password_prompt, password)
    answer(child, CODE_PROMPT, code)
    return finish(child)


def became(rc, child, name):
    """The client ended with status 0 and its command (`id -un`) printed name
    on a line of its own: the login, su or sudo really gave that account."""
    return rc == 0 and re.search(rf"(?m)^{re.escape(name)}\r?$", transcript(child)) is not None


def mfauth_lines(lines, pattern):
    return [l for l in lines if re.search(pattern, l)]
