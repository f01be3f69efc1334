#!/usr/bin/env python3
"""Check that share/ldap/mfauth.schema (slapd.conf form) and mfauth.ldif
(cn=config form) define the same attribute types and object classes.

Both files are maintained by hand; this test is what keeps them one fact.
It compares each definition whole (OID, names, rules, syntax, flags), after
folding whitespace, and checks that every OID sits under the arc the files
name and that no OID or name is defined twice.  Prints "ok"/"FAIL" lines
and "N passed, N failed" (scripts/count-tests); exits 1 on any failure.

    schema-compare.py [SCHEMA LDIF]      default: the shipped pair
"""
import os
import re
import sys

ARC = "2.25.14219185350592675548593934168450652353"

here = os.path.dirname(os.path.abspath(__file__))
top = os.environ.get("MFAUTH_SRCDIR") or os.path.join(here, "..", "..")
if len(sys.argv) == 3:
    schema_path, ldif_path = sys.argv[1], sys.argv[2]
else:
    schema_path = os.path.join(top, "share", "ldap", "mfauth.schema")
    ldif_path = os.path.join(top, "share", "ldap", "mfauth.ldif")

passed = failed = 0


def check(what, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   - {what}")
    else:
        failed += 1
        print(f"FAIL - {what}" + (f": {detail}" if detail else ""))


def fold(text):
    return " ".join(text.split())


def parse_schema(path):
    """[(kind, definition)] from slapd.conf `attributetype`/`objectclass` statements."""
    out, cur = [], None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            # slapd.conf ends a statement at a line that is not indented.
            if cur and not line.strip():
                out.append(cur)
                cur = None
            continue
        if line[0] in " \t":
            if cur is None:
                raise SystemExit(f"{path}: continuation line without a statement: {line!r}")
            cur = (cur[0], cur[1] + " " + line)
            continue
        if cur:
            out.append(cur)
        word, _, rest = line.partition(" ")
        word = word.split("\t")[0]
        rest = line[len(word):]
        kind = {"attributetype": "attr", "objectclass": "class"}.get(word.lower())
        if kind is None:
            raise SystemExit(f"{path}: unexpected statement {word!r}")
        cur = (kind, rest)
    if cur:
        out.append(cur)
    return [(k, fold(d)) for k, d in out]


def parse_ldif(path):
    """[(kind, definition)] from olcAttributeTypes/olcObjectClasses values."""
    lines = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("#"):
            continue
        if line.startswith(" ") and lines:
            lines[-1] += line[1:]          # RFC 2849 folding: drop one space
        else:
            lines.append(line)
    out = []
    for line in lines:
        attr, sep, value = line.partition(":")
        if not sep or value.startswith(":"):
            continue                        # blank line or base64 (none expected)
        kind = {"olcattributetypes": "attr", "olcobjectclasses": "class"}.get(attr.lower())
        if kind:
            out.append((kind, fold(value)))
    return out


def key(defn):
    m = re.match(r"\(\s*([0-9.]+)\s", defn)
    return m.group(1) if m else None


def names(defn):
    m = re.search(r"NAME\s+(\(([^)]*)\)|'[^']*')", defn)
    return re.findall(r"'([^']*)'", m.group(1)) if m else []


schema = parse_schema(schema_path)
ldif = parse_ldif(ldif_path)
check("the schema file defines something", len(schema) > 0)
check("the ldif file defines something", len(ldif) > 0)

for label, defs in (("schema", schema), ("ldif", ldif)):
    oids = [key(d) for _, d in defs]
    all_names = [n.lower() for _, d in defs for n in names(d)]
    check(f"{label}: every definition starts with a numeric OID", None not in oids, str(oids))
    check(f"{label}: every OID is under {ARC}",
          all(o and o.startswith(ARC + ".") for o in oids), str(oids))
    check(f"{label}: no OID defined twice", len(set(oids)) == len(oids), str(oids))
    check(f"{label}: every definition has a name", all(names(d) for _, d in defs))
    check(f"{label}: no name defined twice", len(set(all_names)) == len(all_names), str(all_names))
    check(f"{label}: every attribute has EQUALITY octetStringMatch",
          all("EQUALITY octetStringMatch" in d for k, d in defs if k == "attr"))

s_map = {key(d): (k, d) for k, d in schema}
l_map = {key(d): (k, d) for k, d in ldif}
check("the same OIDs in both files", set(s_map) == set(l_map),
      f"only in schema: {sorted(set(s_map) - set(l_map))}, "
      f"only in ldif: {sorted(set(l_map) - set(s_map))}")
for oid in sorted(set(s_map) & set(l_map)):
    check(f"{oid} ({' '.join(names(s_map[oid][1]))}) is defined the same way",
          s_map[oid] == l_map[oid], f"\n  schema: {s_map[oid]}\n  ldif:   {l_map[oid]}")

expected = {"mfauthrecord": "attr", "mfauthstate": "attr", "mfauthuser": "class"}
got = {n.lower(): k for k, d in schema for n in names(d)}
check("mfauthRecord, mfauthState and mfauthUser are all there", got == expected, str(got))

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
