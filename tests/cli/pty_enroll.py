#!/usr/bin/python3
"""Drive `mfauth enroll totp` through a pseudo-terminal, as a clerk would.

Usage: pty_enroll.py [--wrong] [--seed BASE32] [--expect-qr utf8|ansi|none]
                     [--env NAME=VALUE]... -- MFAUTH ARGS...

Spawns MFAUTH ARGS on a pty, reads until the otpauth:// URI line, checks it
and the QR code drawn after it, then answers the confirmation prompt:
  default   with the right code, computed by `oathtool` from the URI's
            secret and parameters; expects exit 0 and "enrolled".
  --wrong   three times with a code that matches no step in the window;
            expects exit 1, "nothing saved" and no "enrolled".
  --seed S  first types S as the seed (for --secret-stdin) and checks the
            URI carries that seed.
Prints what it checked and exits 0 when every expectation held, 1 otherwise.
Standard library only (pty, os), plus the oathtool program.
"""
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
import urllib.parse

TIMEOUT = 30.0
PROMPT_RE = re.compile(r"attempt (\d) of 3\): $")
HALF_BLOCKS = {" ": (0, 0), "\u2580": (1, 0), "\u2584": (0, 1), "\u2588": (1, 1)}
ANSI_CELL_RE = re.compile(r"\x1b\[(40|47)m  ")


class Failure(Exception):
    pass


class Child:
    """A process on a pty, with everything it wrote kept in self.out."""

    def __init__(self, argv, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.out = ""
        self.status = None
        self.deadline = time.monotonic() + TIMEOUT

    def _read_some(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Failure("timed out; output so far:\n" + self.out)
        ready, _, _ = select.select([self.fd], [], [], left)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 4096)
        except OSError:         # EIO: the child closed the pty
            data = b""
        if not data:
            return False
        self.out += data.decode("utf-8", errors="replace").replace("\r\n", "\n")
        return True

    def expect(self, pattern, start=0):
        """Read until pattern matches the output after start; return the match."""
        while True:
            m = pattern.search(self.out, start)
            if m:
                return m
            if not self._read_some():
                raise Failure("output ended before %r; output:\n%s" % (pattern.pattern, self.out))

    def send(self, text):
        os.write(self.fd, text.encode())

    def wait(self):
        while self._read_some():
            pass
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        self.status = os.waitstatus_to_exitcode(status)
        return self.status

    def kill(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


def oath_code(params, when):
    """The code oathtool computes for the URI's parameters at time `when`."""
    alg = params["algorithm"].upper()
    cmd = ["oathtool", "--totp=" + alg, "--digits=" + params["digits"],
           "--time-step-size=" + params["period"] + "s", "-N", "@%d" % when,
           "-b", params["secret"]]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def parse_uri(uri):
    u = urllib.parse.urlsplit(uri)
    if u.scheme != "otpauth" or u.netloc != "totp":
        raise Failure("not an otpauth://totp URI: " + uri)
    q = dict(urllib.parse.parse_qsl(u.query, strict_parsing=True))
    for key in ("secret", "issuer", "algorithm", "digits", "period"):
        if key not in q:
            raise Failure("URI lacks %s: %s" % (key, uri))
    q["label"] = urllib.parse.unquote(u.path.lstrip("/"))
    return q


def utf8_matrix(lines):
    rows = []
    for line in lines:
        top, bottom = [], []
        for ch in line:
            if ch not in HALF_BLOCKS:
                raise Failure("unexpected character %r in the QR code" % ch)
            t, b = HALF_BLOCKS[ch]
            top.append(t)
            bottom.append(b)
        rows += [top, bottom]
    return rows


def ansi_matrix(lines):
    rows = []
    for line in lines:
        if not line.endswith("\x1b[0m"):
            raise Failure("QR line does not reset the colour: %r" % line)
        cells = ANSI_CELL_RE.findall(line[:-4])
        if "".join("\x1b[%sm  " % c for c in cells) != line[:-4]:
            raise Failure("unexpected bytes in an ANSI QR line: %r" % line)
        rows.append([1 if c == "40" else 0 for c in cells])
    return rows


def check_finder(m, x0, y0):
    """A 7x7 finder pattern at (x0, y0): dark ring, light ring, dark 3x3 centre."""
    for y in range(7):
        for x in range(7):
            ring = max(abs(x - 3), abs(y - 3))
            want = 0 if ring == 2 else 1
            if m[y0 + y][x0 + x] != want:
                raise Failure("finder pattern at (%d,%d) is wrong (dark must be drawn dark)"
                              % (x0, y0))


def check_qr(style, text):
    """The QR after the URI: square, quiet zone of 2, finders in 3 corners, dark = glyph."""
    lines = []
    for line in text.split("\n"):
        if style == "utf8" and line and set(line) <= set(HALF_BLOCKS):
            lines.append(line)
        elif style == "ansi" and line.startswith("\x1b["):
            lines.append(line)
        elif lines:
            break
    if style == "none":
        if any(c in text for c in "\u2580\u2584\u2588\x1b"):
            raise Failure("a QR code was drawn although none was expected")
        return "no QR code, as expected"
    if not lines:
        raise Failure("no %s QR code after the URI" % style)
    m = utf8_matrix(lines) if style == "utf8" else ansi_matrix(lines)
    size = len(m[0])
    if any(len(r) != size for r in m):
        raise Failure("QR rows of unequal width")
    width = size - 4
    if width < 21 or (width - 21) % 4 != 0:
        raise Failure("QR width %d is not a QR version size" % width)
    m = m[:size]                # utf8: an odd last row pairs with a blank one
    if len(m) != size:
        raise Failure("QR is not square: %d rows, %d columns" % (len(m), size))
    for i in range(size):
        for edge in (m[0][i], m[1][i], m[i][0], m[i][1], m[-1][i], m[-2][i], m[i][-1], m[i][-2]):
            if edge:
                raise Failure("quiet zone is not blank")
    check_finder(m, 2, 2)
    check_finder(m, size - 9, 2)
    check_finder(m, 2, size - 9)
    return "%s QR code, %dx%d modules, finder patterns in place" % (style, width, width)


def wrong_code(params):
    now = int(time.time())
    period = int(params["period"])
    used = {oath_code(params, now + d * period) for d in (-2, -1, 0, 1, 2)}
    for cand in ("0" * int(params["digits"]), "1" * int(params["digits"]), "2" * int(params["digits"])):
        if cand not in used:
            return cand
    raise Failure("could not pick a wrong code")


def run(opts, argv):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TERM": "xterm"}
    env.update(opts["env"])
    child = Child(argv, env)
    try:
        if opts["seed"] is not None:
            child.expect(re.compile(r"Base32 seed of the token: $"))
            child.send(opts["seed"] + "\n")
        m = child.expect(re.compile(r"^(otpauth://\S*)\n", re.M))
        params = parse_uri(m.group(1))
        print("uri: label=%s algorithm=%s digits=%s period=%s" % (
            params["label"], params["algorithm"], params["digits"], params["period"]))
        if opts["seed"] is not None and params["secret"] != opts["seed"].replace("=", "").upper():
            raise Failure("the URI does not carry the seed given on stdin")
        p = child.expect(PROMPT_RE, m.end())
        print(check_qr(opts["qr"], child.out[m.end():p.start()]))
        for attempt in range(1, 4):
            if attempt > 1:
                p = child.expect(PROMPT_RE, p.end())
            if p.group(1) != str(attempt):
                raise Failure("prompt says attempt %s, expected %d" % (p.group(1), attempt))
            code = wrong_code(params) if opts["wrong"] else oath_code(params, int(time.time()))
            child.send(code + "\n")
            if not opts["wrong"]:
                break
        status = child.wait()
    finally:
        child.kill()
    return check_end(opts, status, child.out)


def check_end(opts, status, out):
    if opts["wrong"]:
        if status != 1 or "nothing saved" not in out or "enrolled totp" in out:
            raise Failure("wrong codes: exit %s, output:\n%s" % (status, out))
        print("three wrong codes refused, exit 1, nothing saved")
    else:
        if status != 0 or "enrolled totp for" not in out or "confirmed" not in out:
            raise Failure("right code: exit %s, output:\n%s" % (status, out))
        print("code accepted, exit 0, enrolled")
    return 0


def main(args):
    opts = {"wrong": False, "seed": None, "qr": "utf8", "env": {}}
    while args and args[0] != "--":
        a = args.pop(0)
        if a == "--wrong":
            opts["wrong"] = True
        elif a == "--seed":
            opts["seed"] = args.pop(0)
        elif a == "--expect-qr":
            opts["qr"] = args.pop(0)
        elif a == "--env":
            k, v = args.pop(0).split("=", 1)
            opts["env"][k] = v
        else:
            print("pty_enroll.py: unknown option " + a, file=sys.stderr)
            return 2
    if not args or len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return run(opts, args[1:])
    except (Failure, subprocess.CalledProcessError) as e:
        print("FAIL: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
