"""The private slapd of the fleet tests (tests/clients/README.md, test_fleet.py).

tests/ldap/slapd-rig.sh owns the server: its schema, the shipped ACL, the
accounts (terminal-01..04, staff-01) and the lifetimes.  A Python test cannot
source it, so it runs `ldap_rig_serve DIR` in a bash of its own and talks to it
through a pipe: "stop" and "start" lines, "ok" answers.  The pipe is also the
leash: when this process closes it or dies, that bash stops slapd (its EXIT
trap), and a killed bash takes slapd with it (parent-death SIGTERM).  Nothing
is ever killed by name.
"""
import os
import subprocess


class RigError(Exception):
    pass


class Directory:
    """One private slapd in DIR.  Start it from the main thread: setpriv's
    parent-death signal follows the thread that forked, not the process."""

    def __init__(self, src, dir_):
        self.dir = dir_
        self.log = open(os.path.join(os.path.dirname(dir_), "rig.log"), "w")
        rig = os.path.join(src, "tests", "ldap", "slapd-rig.sh")
        self.proc = subprocess.Popen(
            ["setpriv", "--pdeathsig", "TERM", "bash", "-c", '. "$1" && ldap_rig_serve "$2"',
             "slapd-rig", rig, dir_],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, bufsize=1,
            # loglevel 0: slapd's operation lines would crowd the module's audit
            # lines out of the sandbox's /dev/log (a datagram socket queues 10).
            env=dict(os.environ, MFAUTH_SRCDIR=src, LDAP_RIG_LOGLEVEL="0"))
        first = self._answer()
        if first != "ready":
            self.close()
            raise RigError(f"slapd-rig did not start ({first!r}): {self.log_text()}")
        self.env = self._read_env()
        self.started_ms = int(open(os.path.join(dir_, "start-ms")).read())

    def _answer(self):
        line = self.proc.stdout.readline()
        return line.strip() if line else "(the rig's shell ended)"

    def _command(self, cmd):
        try:
            self.proc.stdin.write(cmd + "\n")
            self.proc.stdin.flush()
        except OSError as e:
            raise RigError(f"{cmd}: {e}")
        got = self._answer()
        if got != "ok":
            raise RigError(f"{cmd}: {got}: {self.log_text()}")

    def _read_env(self):
        """The LDAP_RIG_* values of DIR/env (the rig's %q quoting, read by bash)."""
        env = os.path.join(self.dir, "env")
        out = subprocess.run(["bash", "-c", '. "$1" && env -0', "env", env],
                             stdout=subprocess.PIPE, check=True).stdout.decode()
        pairs = (kv.split("=", 1) for kv in out.split("\0") if "=" in kv)
        return {k: v for k, v in pairs if k.startswith("LDAP_RIG_")}

    def stop(self):
        """slapd ends; returns once it is gone (the rig waits for its pid)."""
        self._command("stop")

    def start(self):
        """The same database, ports and certificates again; returns once it answers."""
        self._command("start")

    def log_text(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()[-2000:]

    def close(self):
        """Stop slapd and end the rig's shell (idempotent)."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.terminate()       # its EXIT trap still stops slapd
                self.proc.wait(10)
        self.log.close()

    def slapd_pid(self):
        """The pid of the rig's running slapd, or None when it is stopped."""
        try:
            return int(open(os.path.join(self.dir, "slapd.job")).read())
        except (OSError, ValueError):
            return None


def alive(pid):
    """True if pid runs (a zombie does not count)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False
