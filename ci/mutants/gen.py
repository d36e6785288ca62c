#!/usr/bin/env python3
"""Rewrites every ci/mutants/NNN-name.patch from ci/mutants/table.py against the current
tree: `python3 ci/mutants/gen.py` (from anywhere). Each table row replaces one exact,
unique string of one file (or a list of them); a row whose string no longer occurs stops
the run, so a stale mutant is fixed in the table, not by hand in its patch. Numbers follow
table order: append new rows at the end."""
import glob, os, subprocess, sys, tempfile
ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "../..")
OUT = os.path.join(ROOT, "ci/mutants")
M = []
EQ = {}
def m(name, fault, path, old, new, tests, unit="", equivalent=""):
    M.append((name, fault, path, old, new, tests, unit))
    EQ[name] = equivalent

exec(open(os.path.join(os.path.dirname(__file__), "table.py")).read())

for old_patch in glob.glob(os.path.join(OUT, "[0-9]*.patch")):
    os.unlink(old_patch)
for i, (name, fault, path, old, new, tests, unit) in enumerate(M, 1):
    src = open(os.path.join(ROOT, path)).read()
    olds, news = (old, new) if isinstance(old, list) else ([old], [new])
    mut = src
    for o, nw in zip(olds, news):
        n = mut.count(o)
        if n != 1:
            sys.exit(f"{name}: {n} matches of {o!r} in {path}")
        mut = mut.replace(o, nw)
    with tempfile.NamedTemporaryFile("w", delete=False) as f:
        f.write(mut)
    d = subprocess.run(["diff", "-u", "--label", "a/" + path, "--label", "b/" + path,
                        os.path.join(ROOT, path), f.name], capture_output=True, text=True).stdout
    os.unlink(f.name)
    import re
    tests = re.sub(r" (?=test_\w+\.py)", " ; ", tests)
    hdr = f"# fault: {fault}\n# tests: {tests}\n"
    if unit:
        hdr += f"# unit: {unit}\n"
    if EQ[name]:
        hdr += f"# equivalent: {EQ[name]}\n"
    open(os.path.join(OUT, f"{i:03d}-{name}.patch"), "w").write(hdr + d)
print(len(M), "patches")
