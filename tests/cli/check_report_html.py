#!/usr/bin/env python3
"""Check `mfauth report --format html` against the json of the same report.

    check_report_html.py static PAGE.html          loads nothing from outside
    check_report_html.py dom DOM.html REPORT.json  the rendered page's numbers = json
    check_report_html.py pdf FILE.pdf PAGES        A4, PAGES pages (or "N+": at least N)
    check_report_html.py png FILE.png W H          a PNG of W x H pixels

Exit 0 when it holds, 1 saying what differs.
"""
import collections
import html.parser
import json
import re
import struct
import sys


def fail(msg):
    print(msg)
    sys.exit(1)


def static(path):
    text = open(path, encoding="utf-8").read()
    # Anything a browser would fetch: attributes naming a resource, CSS imports and urls,
    # scripts, links, frames, objects, meta refresh.
    bad = re.findall(r'(?i)\b(?:src|href|srcset|action|poster|data)\s*=|@import|url\s*\(|'
                     r'<\s*(?:script|link|iframe|object|embed|base|img|image)\b|http-equiv', text)
    if bad:
        fail("external references: %s" % bad[:5])


class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.k = {}
        self.users = collections.defaultdict(list)
        self.kinds = collections.Counter()
        self.rows = collections.Counter()
        self.lang = None
        self._key = self._user = self._list = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "table":
            self._list = a.get("data-list")
        if tag == "tr":
            self._user = a.get("data-user")
            if a.get("data-kind"):
                self.kinds[a["data-kind"]] += 1
            if a.get("class") == "row" and self._list:
                self.rows[self._list] += 1
        if tag == "td":
            self._key = a.get("data-k")
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            if self._key:
                self.k[self._key] = int(self._cell)
            elif self._user is not None:
                self.users[self._user].append(self._cell)
            self._cell = self._key = None


def dom(path, report):
    d = Dom()
    d.feed(open(path, encoding="utf-8").read())
    r = json.load(open(report, encoding="utf-8"))
    s = r["summary"]
    want = {"terminals": s["terminals"], "users_with_logins": s["users_with_logins"],
            "failures_total": s["failures_total"]}
    for k in ("lockouts", "staff_unlocks", "recovery_issued", "recovery_used", "enrollments",
              "revocations", "store_errors", "unknown_user_attempts"):
        want[k] = s[k]
    for f in ("totp", "recovery", "card"):
        want["success_" + f] = s["success"][f]
        want["failure_" + f] = s["failure"][f]
    want.update(r["lines"])
    if d.k != want:
        fail("page figures %s != json %s" % (d.k, want))
    if sorted(d.users) != sorted(u["user"] for u in r["users"]):
        fail("page users %s" % sorted(d.users))
    for u in r["users"]:
        cells = d.users[u["user"]]
        if [int(x) for x in cells[1:5]] != [u["success"], u["failure"], u["lockouts"],
                                            u["recovery_used"]]:
            fail("user %r: page %s" % (u["user"], cells))
    if dict(d.kinds) != dict(collections.Counter(f["kind"] for f in r["findings"])):
        fail("page findings %s" % dict(d.kinds))
    if d.rows["staff"] != len(r["staff_actions"]):
        fail("page staff actions %d != %d" % (d.rows["staff"], len(r["staff_actions"])))
    print("lang", d.lang)


def pdf(path, pages):
    data = open(path, "rb").read()
    n = len(re.findall(rb"/Type\s*/Page(?![s\w])", data))
    boxes = set(re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data))
    if not boxes or any(abs(float(w) - 595.3) > 1 or abs(float(h) - 841.9) > 1 for w, h in boxes):
        fail("not A4: %s" % boxes)
    if pages.endswith("+") and n < int(pages[:-1]) or not pages.endswith("+") and n != int(pages):
        fail("%d pages, want %s" % (n, pages))


def png(path, w, h):
    data = open(path, "rb").read(24)
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("not a PNG")
    if struct.unpack(">II", data[16:24]) != (int(w), int(h)):
        fail("size %s" % (struct.unpack(">II", data[16:24]),))


if __name__ == "__main__":
    {"static": static, "dom": dom, "pdf": pdf, "png": png}[sys.argv[1]](*sys.argv[2:])
