#!/usr/bin/env python3
"""Spec coverage: which SPEC.md clauses have conformance cases, and which cited ids are bogus.

Usage: spec_coverage.py SPEC.md CONFORMANCE_DIR

A clause is a paragraph starting with **[id]** (id: lowercase, dot-separated); its level is
the first of MUST/SHOULD/MAY in that paragraph; its profile is `core` unless a mark such as
`*(full)*` follows the id ([conv.profiles]; an unknown or malformed mark is an error). Cases cite clauses with
@pytest.mark.spec("id", ...), found by parsing the test files (ast), never by regex, so
comments and strings that merely mention a marker do not count. Chapter 1 (conv.*) states
conventions and needs no cases; a clause whose text starts "Withdrawn." needs none either.
Exit status 1 when a MUST clause lacks a case or on any error (duplicate id, clause without a
level, malformed id, cited id not in the spec, cited withdrawn clause).
"""
import ast
import re
import sys
from pathlib import Path

ID_RE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)+")
START_RE = re.compile(r"^\s*(?:[-*]\s+)?\*\*\[([^\]]*)\]\*\*")
LEVEL_RE = re.compile(r"\b(MUST|SHOULD|MAY)\b")
CHAPTER_RE = re.compile(r"^##\s+(\d+)\.")
HEADING_RE = re.compile(r"^#{2,3}\s+(.*\S)")
LEVELS = ("MUST", "SHOULD", "MAY")
# Profiles in order: a clause of a later profile extends the earlier ones ([conv.profiles]).
PROFILES = ("core", "full")
DEFAULT_PROFILE = "core"
# The profile mark right after the id: `**[cli.dump]** *(full)* ...`. Anything that starts
# like a mark (`*(`, `(` + word + `)*`) must be exactly one with a known profile.
MARK_RE = re.compile(r"\*\(([a-z]+)\)\*(?=\s|$)")
MARKISH_RE = re.compile(r"\*+\(|\(\w*\)\*")


def paragraphs(lines):
    """Yield (first line number, text, chapter, section heading) for each paragraph outside
    code fences."""
    chapter, section, fenced, start, buf = 0, "", False, 0, []
    for number, line in enumerate(lines + [""], 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        heading = CHAPTER_RE.match(line)
        # A new clause start also ends the paragraph: clauses in a list need no blank lines.
        if not line.strip() or line.startswith("#") or (START_RE.match(line) and buf):
            if buf:
                yield start, " ".join(buf), chapter, section
            buf = []
        if heading:
            chapter = int(heading.group(1))
        if HEADING_RE.match(line):
            section = HEADING_RE.match(line).group(1)
        if line.strip() and not line.startswith("#"):
            if not buf:
                start = number
            buf.append(line.strip())


def parse_spec(path):
    """Returns ({id: {"level", "profile", "line", "chapter", "section"}}, [errors]), clauses in
    document order."""
    clauses, errors = {}, []
    lines = Path(path).read_text().splitlines()
    for line, text, chapter, section in paragraphs(lines):
        m = START_RE.match(text)
        if not m:
            continue
        cid, where = m.group(1), "%s:%d" % (path, line)
        if not ID_RE.fullmatch(cid):
            errors.append("%s: malformed clause id [%s]" % (where, cid))
            continue
        if cid in clauses:
            errors.append("%s: duplicate clause id %s (first at line %d)" % (
                where, cid, clauses[cid]["line"]))
            continue
        body = text[m.end():].strip()
        profile = DEFAULT_PROFILE
        mark = MARK_RE.match(body)
        if mark and mark.group(1) in PROFILES:
            profile, body = mark.group(1), body[mark.end():].strip()
        elif mark or MARKISH_RE.match(body):
            errors.append("%s: clause %s has an unknown profile mark %r (known: %s, written "
                          "*(PROFILE)* right after the id)" % (
                              where, cid, body.split()[0], ", ".join(PROFILES)))
            # Still a clause (cases citing it are not errors too); counted in the default.
            body = body.split(None, 1)[1] if len(body.split(None, 1)) > 1 else ""
        level_m = LEVEL_RE.search(body)
        if body.startswith("Withdrawn."):
            level = "withdrawn"
        elif level_m:
            level = level_m.group(1)
        else:
            errors.append("%s: clause %s has no level (MUST, SHOULD or MAY)" % (where, cid))
            continue
        clauses[cid] = {"level": level, "profile": profile, "line": line, "chapter": chapter,
                        "section": section}
    return clauses, errors


def is_spec_attr(node):
    # pytest.mark.spec or mark.spec (after `from pytest import mark`)
    return (isinstance(node, ast.Attribute) and node.attr == "spec"
            and (isinstance(node.value, ast.Attribute) and node.value.attr == "mark"
                 or isinstance(node.value, ast.Name) and node.value.id == "mark"))


def spec_aliases(tree):
    """Module-level names bound to the marker: `spec = pytest.mark.spec`."""
    return {t.id for node in tree.body if isinstance(node, ast.Assign) and is_spec_attr(node.value)
            for t in node.targets if isinstance(t, ast.Name)}


def scan_cases(root):
    """Returns ({id: [where, ...]}, [warnings]) for every spec marker under root."""
    cited, warnings = {}, []
    for path in sorted(Path(root).rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(), str(path))
        except SyntaxError as exc:
            warnings.append("%s: cannot parse: %s" % (path, exc))
            continue
        aliases = spec_aliases(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (
                    is_spec_attr(node.func)
                    or isinstance(node.func, ast.Name) and node.func.id in aliases):
                for arg in node.args:
                    where = "%s:%d" % (path, node.lineno)
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        cited.setdefault(arg.value, []).append(where)
                    else:
                        warnings.append("%s: spec marker argument is not a string literal" % where)
    return cited, warnings


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    spec_path, root = argv[1], argv[2]
    clauses, errors = parse_spec(spec_path)
    cited, warnings = scan_cases(root)

    for cid, wheres in sorted(cited.items()):
        if cid not in clauses:
            errors.append("%s: cites %s, which is not a clause in %s" % (wheres[0], cid, spec_path))
        elif clauses[cid]["level"] == "withdrawn":
            errors.append("%s: cites withdrawn clause %s" % (wheres[0], cid))

    needing = {cid: c for cid, c in clauses.items()
               if c["level"] != "withdrawn" and c["chapter"] != 1 and not cid.startswith("conv.")}
    uncovered = {cid: c for cid, c in needing.items() if cid not in cited}
    for level in LEVELS:
        group = sorted((c["line"], cid) for cid, c in uncovered.items() if c["level"] == level)
        if group:
            print("%s clauses without cases (%d):" % (level, len(group)))
            for line, cid in group:
                print("  %s  (%s:%d)" % (cid, spec_path, line))
    for w in warnings:
        print("warning: %s" % w)
    for e in errors:
        print("error: %s" % e)
    must_uncovered = sum(1 for c in uncovered.values() if c["level"] == "MUST")
    print("spec coverage: %d clauses, %d covered, %d MUST uncovered" % (
        len(needing), len(needing) - len(uncovered), must_uncovered))
    print("profiles: %s" % ", ".join(
        "%s %d (%d MUST)" % (p, sum(1 for c in needing.values() if c["profile"] == p),
                            sum(1 for c in needing.values()
                                if c["profile"] == p and c["level"] == "MUST"))
        for p in PROFILES))
    return 1 if must_uncovered or errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
