#!/usr/bin/env bash
# The call graph between the files of the PAM module and of the setuid
# helper, read from the built objects' symbol tables (nm: a file that leaves
# a symbol undefined calls the file of the same program that defines it):
#  - it has no cycle: no file calls back into a file that calls it;
#  - it is exactly the graph doc/DESIGN.md §4 draws ("Files of the module
#    and the helper"): every edge with its symbols, nothing more, nothing less,
#    so the picture cannot drift from the code unnoticed.
set -uo pipefail

src=${MFAUTH_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${MFAUTH_BUILDDIR:?set MFAUTH_BUILDDIR}

T=$(mktemp -d /tmp/mfauth-graph.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$src/tests/checks.sh"

# One line per edge: "program from.c to.c sym sym ..." (symbols sorted).
edges_of() {
	local prog=$1
	shift
	python3 - "$prog" "$@" <<'PY'
import os, re, subprocess, sys
prog, objs = sys.argv[1], sys.argv[2:]
defs, undefs = {}, {}
for o in objs:
    base = os.path.basename(o)[:-2]
    name = re.sub(r"^mfauth_verify-", "", base) + ".c"
    out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
    defs[name], undefs[name] = set(), set()
    for line in out.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == "U":
            undefs[name].add(f[1])
        elif len(f) == 3 and f[1] in "TDBRC":
            defs[name].add(f[2])
for a in sorted(defs):
    for b in sorted(defs):
        common = sorted(undefs[a] & defs[b]) if a != b else []
        if common:
            print(prog, a, b, " ".join(common))
PY
}

# The edges doc/DESIGN.md draws, in the same form.
edges_in_design() {
	python3 - "$src/doc/DESIGN.md" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
sec = text.split("### Files of the module and the helper", 1)[1]
block = sec.split("```", 2)[1]
prog = frm = to = None
edges = {}
for line in block.splitlines():
    m = re.match(r"^(pam_module|helper)/ ", line)
    if m:
        prog = m.group(1)
        continue
    m = re.match(r"^  (\S+\.c)?\s+-> (\S+\.c)\s+(.*)$", line)
    if m:
        frm = m.group(1) or frm
        to = m.group(2)
        edges.setdefault((prog, frm, to), set()).update(m.group(3).split())
        continue
    m = re.match(r"^\s{20,}(\S.*)$", line)
    if m and to is not None:
        edges[(prog, frm, to)].update(m.group(1).split())
        continue
    to = None
for (p, a, b), syms in sorted(edges.items()):
    print(p, a, b, " ".join(sorted(syms)))
PY
}

# A cycle in the edges on stdin, printed; exit 1 when there is one.
find_cycle() {
	python3 -c '
import sys
adj = {}
for line in sys.stdin:
    f = line.split()
    adj.setdefault(f[1], []).append(f[2])
    adj.setdefault(f[2], [])
state = {}
def visit(u, path):
    state[u] = 1
    for v in adj[u]:
        if state.get(v) == 1:
            print(" -> ".join(path[path.index(v):] + [v]))
            sys.exit(1)
        if v not in state:
            visit(v, path + [v])
    state[u] = 2
for u in sorted(adj):
    if u not in state:
        visit(u, [u])
'
}

mod_objs=("$build"/pam_module/.libs/*.o)
helper_objs=("$build"/helper/mfauth_verify-*.o)
check "pam_module: the objects are built (${#mod_objs[@]})" test -e "${mod_objs[0]}" -a ${#mod_objs[@]} -ge 2
check "helper: the objects are built (${#helper_objs[@]})" test -e "${helper_objs[0]}" -a ${#helper_objs[@]} -ge 2

edges_of pam_module "${mod_objs[@]}" >"$T/module.edges" 2>"$T/nm.err" || fail "nm on pam_module: $(cat "$T/nm.err")"
edges_of helper "${helper_objs[@]}" >"$T/helper.edges" 2>"$T/nm.err" || fail "nm on helper: $(cat "$T/nm.err")"
check "pam_module: files call each other (the graph is not empty)" test -s "$T/module.edges"
check "helper: files call each other (the graph is not empty)" test -s "$T/helper.edges"
check "pam_module: no cycle between files" find_cycle <"$T/module.edges"
check "helper: no cycle between files" find_cycle <"$T/helper.edges"

cat "$T/module.edges" "$T/helper.edges" | sort >"$T/nm.graph"
edges_in_design | sort >"$T/design.graph"
check "doc/DESIGN.md draws the graph nm finds (edges and symbols)" diff -u "$T/design.graph" "$T/nm.graph"

summary
