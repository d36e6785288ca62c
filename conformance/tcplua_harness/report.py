"""Per-clause reports a CI can gate on: report.json and report.md after every run.

Every clause of SPEC.md is listed with its level, profile, the cases citing it and their
outcomes, then the verdict per profile. Results are gathered from pytest_runtest_logreport on
the process that writes the report: the only process in a serial run, the controller under
pytest-xdist (workers forward their reports there; the per-case facts travel as the report's
`tcplua` attribute, set by plugin.py, because the controller never collects items).

A case's outcome folds its phases (setup, call, teardown) into the worst of them, in the order
of CASE_OUTCOMES; a clause's outcome is the worst of its cases', or "no case".
"""
import json
import re
import time
from pathlib import Path

import pytest

from .adapter import CONFORMANCE_DIR
from .plugin import load_spec, spec_profiles

# Best to worst. "not run" (a missing capability or host facility) proves nothing either way;
# an expected failure is a known deviation; an unexpected pass means a stale expectation (it
# fails the run until the line is removed); a failure is a deviation nobody expected.
CASE_OUTCOMES = ("pass", "not run", "expected failure", "unexpected pass", "fail")
NO_CASE = "no case"
RANK = {o: i for i, o in enumerate(CASE_OUTCOMES)}
SIGNATURE_MAX = 160


def pytest_addoption(parser):
    parser.getgroup("tcplua").addoption(
        "--spec-report", default=str(CONFORMANCE_DIR / "report.json"), metavar="PATH",
        help="where to write the per-clause JSON report; report.md goes beside it "
             "(default: conformance/report.json)")


# -- one line per failure --------------------------------------------------------------------
_NORMALISE = [
    # pytest's temporary directories: /tmp/pytest-of-root/pytest-12/test_x_y_0/srv0 -> <tmp>/srv0
    (re.compile(r"/\S*?/pytest-of-[^/\s]+/pytest-\d+/[^/\s'\"]+"), "<tmp>"),
    (re.compile(re.escape(str(CONFORMANCE_DIR.parent))), "<repo>"),
    # addresses with a port: 127.0.0.1:40123, [::1]:40123, *:40123, localhost:40123
    (re.compile(r"((?:\d{1,3}\.){3}\d{1,3}|\[[0-9a-fA-F:.]*\]|\*|localhost):\d{2,5}\b"),
     r"\1:PORT"),
    (re.compile(r"\b(port|pid|PID|process) \d+"), r"\1 N"),
    (re.compile(r"\b\d+#\d+: \*\d+ "), "PID#0: *N "),
]


def longrepr_lines(report):
    """Non-empty lines of the failure's own text: the exception's message when pytest has it,
    else the representation itself (not report.longreprtext, which under xdist starts with
    the worker's "[gw0] linux -- Python ..." line)."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None and crash.message else str(report.longrepr)
    return [l.strip() for l in text.splitlines()
            if l.strip() and not re.match(r"\[gw\d+\] \S+ -- Python ", l)]


def signature(report):
    """First line of the assertion or exception, trimmed, run-specific numbers normalised."""
    line = next(iter(longrepr_lines(report)), "(no message)")
    line = re.sub(r"^(AssertionError|Failed): ", "", line)
    for pattern, replacement in _NORMALISE:
        line = pattern.sub(replacement, line)
    if len(line) > SIGNATURE_MAX:
        line = line[:SIGNATURE_MAX - 3] + "..."
    return line


def skip_reason(report):
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, (tuple, list)) and len(longrepr) == 3 else str(
        longrepr)
    text = re.sub(r"^Skipped: ", "", text.strip())
    return re.sub(r"^not run: ", "", text)


def remove_hint(nodeid, expect):
    if not expect:
        return "no expectation line covers it"
    hints = []
    for e in sorted(expect, key=lambda e: (e["file"], e["line"])):
        hint = "remove the line %d of %s" % (e["line"], e["file"])
        if e["id"] != nodeid:
            # A clause or a parametrized case stands for several cases: some may still fail.
            hint += " (or replace it by the ids of the cases it covers that still fail)"
        hints.append(hint)
    return "; ".join(hints)


def classify(report, info):
    """(outcome, detail) of one phase report, or None when the phase says nothing."""
    expect = (info or {}).get("expect") or []
    if report.passed and hasattr(report, "wasxfail") and report.when == "call":
        # A flaky line is meant to pass in some runs: one pass is no reason to remove it.
        return "unexpected pass", ("listed as flaky, passed this run (keep the line while some runs"
                                   " still fail; else " + remove_hint(report.nodeid, expect) + ")")
    if report.passed:
        return ("pass", "") if report.when == "call" else None
    if report.skipped:
        if hasattr(report, "wasxfail"):
            return "expected failure", "; ".join(
                "%s:%d: %s" % (e["file"], e["line"], e["reason"]) for e in expect
            ) or report.wasxfail
        return "not run", skip_reason(report)
    if report.when == "call" and longrepr_lines(report)[:1] and longrepr_lines(report)[
            0].startswith("[XPASS(strict)]"):
        return "unexpected pass", remove_hint(report.nodeid, expect)
    sig = signature(report)
    return "fail", sig if report.when == "call" else "%s: %s" % (report.when, sig)


def describe(outcome, detail):
    return "%s: %s" % (outcome, detail) if detail else outcome


def worst(outcomes):
    return max(outcomes, key=RANK.__getitem__) if outcomes else NO_CASE


# -- the report ------------------------------------------------------------------------------
class SpecReport:
    def __init__(self, config):
        self.config = config
        self.cases = {}          # nodeid -> {"outcome", "detail", "spec", "expect"}
        self.collected = None    # nodeids collected (serial) or by the first xdist worker
        self.started = time.time()

    def pytest_collection_finish(self, session):
        if not hasattr(self.config, "workerinput"):
            self.collected = [item.nodeid for item in session.items]

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        if self.collected is None:
            self.collected = list(ids)

    def pytest_runtest_logreport(self, report):
        info = getattr(report, "tcplua", None)
        case = self.cases.setdefault(report.nodeid, {
            "outcome": None, "detail": "", "spec": [], "expect": [], "runs": 0})
        # Two collected cases with one node id (parameter ids that collide) share one entry,
        # the worse outcome winning; the report names them so the ids get fixed.
        case["runs"] += report.when == "setup"
        if info:
            case["spec"], case["expect"] = list(info["spec"]), list(info["expect"])
        result = classify(report, info)
        if result and (case["outcome"] is None or RANK[result[0]] > RANK[case["outcome"]]):
            case["outcome"], case["detail"] = result

    # -- building ----------------------------------------------------------------------------
    def build(self):
        clauses = load_spec()
        profiles = spec_profiles()
        cases = {n: c for n, c in sorted(self.cases.items()) if c["outcome"] is not None}
        citing = {}
        for nodeid, case in cases.items():
            for cid in dict.fromkeys(case["spec"]):
                citing.setdefault(cid, []).append(nodeid)

        rows = []
        for cid, clause in clauses.items():
            if clause["level"] == "withdrawn":
                continue
            listed = [{"case": n, "outcome": cases[n]["outcome"], "detail": cases[n]["detail"]}
                      for n in citing.get(cid, [])]
            rows.append({
                "id": cid, "level": clause["level"], "profile": clause["profile"],
                "section": clause["section"], "line": clause["line"],
                "outcome": worst([c["outcome"] for c in listed]), "cases": listed,
                # Chapter 1 is about the document itself: no case, no verdict.
                "judged": clause["chapter"] != 1,
            })

        verdicts = {}
        for index, profile in enumerate(profiles):
            included = profiles[:index + 1]
            must = [r for r in rows
                    if r["judged"] and r["level"] == "MUST" and r["profile"] in included]
            counts = {o: sum(1 for r in must if r["outcome"] == o)
                      for o in CASE_OUTCOMES + (NO_CASE,)}
            conforms = bool(must) and counts["pass"] == len(must)
            if conforms:
                line = "conforms to profile %s: all %d MUST clauses pass" % (profile, len(must))
            else:
                line = ("does not conform to profile %s: %d MUST clauses fail, %d not run, "
                        "%d expected failures" % (
                            profile, counts["fail"], counts["not run"] + counts[NO_CASE],
                            counts["expected failure"]))
                if counts["unexpected pass"]:
                    line += ", %d unexpected passes" % counts["unexpected pass"]
            verdicts[profile] = {"conforms": conforms, "line": line, "must_clauses": len(must),
                                 "must_outcomes": counts}

        soft = [{"id": r["id"], "level": r["level"], "profile": r["profile"],
                 "outcome": r["outcome"]}
                for r in rows if r["judged"] and r["level"] in ("SHOULD", "MAY")
                and r["outcome"] != "pass"]

        expectations = self.config._tcplua_expectations
        collected = set(self.collected if self.collected is not None else cases)
        bases = {n.split("[", 1)[0] for n in collected}
        unmatched = [e.as_dict() for e in expectations
                     if e.is_case and e.id not in collected and e.id not in bases]
        cited = set(citing)
        uncited = [e.as_dict() for e in expectations if not e.is_case and e.id not in cited]
        unexpected = [{"case": n, "detail": c["detail"]} for n, c in cases.items()
                      if c["outcome"] == "unexpected pass"]
        unknown = sorted({cid for c in cases.values() for cid in c["spec"]} - set(clauses))
        no_clause = [n for n, c in cases.items() if not c["spec"]]
        duplicates = [n for n, c in cases.items() if c["runs"] > 1]

        totals = {o: sum(1 for c in cases.values() if c["outcome"] == o) for o in CASE_OUTCOMES}
        clause_totals = {o: sum(1 for r in rows if r["judged"] and r["outcome"] == o)
                         for o in CASE_OUTCOMES + (NO_CASE,)}
        workers = getattr(self.config.option, "numprocesses", None)
        return {
            "run": {
                "impl": self.config.getoption("--impl"),
                "bin": getattr(self.config._tcplua_adapter, "bin", None),
                "expectations": self.config._tcplua_expectations_file,
                "workers": workers or 0,
                "seconds": round(time.time() - self.started, 1),
            },
            "outcome_order": list(CASE_OUTCOMES),
            "verdicts": verdicts,
            "should_may_not_passing": soft,
            "totals": {"cases": totals, "clauses": clause_totals},
            "expectations": {
                "unexpected_passes": unexpected,
                "case_ids_matching_no_case": unmatched,
                "clause_ids_cited_by_no_case": uncited,
            },
            "cases_citing_unknown_clauses": unknown,
            "cases_without_clauses": no_clause,
            "duplicate_case_ids": duplicates,
            "clauses": [{k: v for k, v in r.items() if k != "judged"} for r in rows],
        }

    # -- writing -----------------------------------------------------------------------------
    def paths(self):
        json_path = Path(self.config.getoption("--spec-report"))
        return json_path, json_path.with_suffix(".md")

    def pytest_sessionfinish(self, session):
        if hasattr(self.config, "workerinput") or self.config.option.collectonly:
            return
        if not any(c["outcome"] for c in self.cases.values()):
            return
        self.report = self.build()
        json_path, md_path = self.paths()
        json_path.write_text(json.dumps(self.report, indent=1) + "\n")
        md_path.write_text(render_markdown(self.report))

    def pytest_terminal_summary(self, terminalreporter):
        report = getattr(self, "report", None)
        if not report:
            return
        write = terminalreporter.write_line
        t = report["totals"]["clauses"]
        write("spec clauses: %s -> %s" % (
            ", ".join("%d %s" % (n, o) for o, n in t.items() if n), " and ".join(
                str(p) for p in self.paths())))
        for row in report["clauses"]:
            if row["outcome"] in ("fail", "unexpected pass"):
                bad = [c for c in row["cases"] if c["outcome"] == row["outcome"]]
                write("  %s %s (%d of %d cases): %s" % (
                    row["outcome"].upper(), row["id"], len(bad), len(row["cases"]),
                    bad[0]["detail"]))
        exp = report["expectations"]
        for u in exp["unexpected_passes"]:
            write("unexpected pass: %s: %s" % (u["case"], u["detail"]))
        for e in exp["case_ids_matching_no_case"]:
            write("expectation %s:%d: %s matches no collected case" % (
                e["file"], e["line"], e["id"]))
        for e in exp["clause_ids_cited_by_no_case"]:
            write("expectation %s:%d: clause %s is cited by no case of this run" % (
                e["file"], e["line"], e["id"]))
        for n in report["duplicate_case_ids"]:
            write("case id %s names several cases (colliding parameter ids)" % n)
        for s in report["should_may_not_passing"]:
            if s["outcome"] in ("not run", NO_CASE):
                continue
            write("%s %s (%s): %s" % (s["level"], s["id"], s["profile"], s["outcome"]))
        for verdict in report["verdicts"].values():
            write(verdict["line"], bold=True)


def render_markdown(report):
    run = report["run"]
    out = ["# Conformance report: %s" % run["impl"], ""]
    out.append("Binary `%s`, expectations `%s`, %d cases in %.0f s%s." % (
        run["bin"], run["expectations"], sum(report["totals"]["cases"].values()),
        run["seconds"], " (%s workers)" % run["workers"] if run["workers"] else ""))
    out += ["", "## Verdicts", ""]
    out += ["- **%s**" % v["line"] for v in report["verdicts"].values()]
    out += ["", "A profile's verdict counts only its MUST clauses (full = core + full); a clause "
            "passes only when every case citing it passes. Outcomes, best to worst: %s." % (
                ", ".join(report["outcome_order"])), ""]
    soft = report["should_may_not_passing"]
    out.append("SHOULD and MAY clauses not passing (they decide no verdict): %s" % (
        ", ".join("`%s` (%s, %s): %s" % (s["id"], s["level"], s["profile"], s["outcome"])
                  for s in soft) if soft else "none."))
    exp = report["expectations"]
    notes = ["- unexpected pass: `%s`: %s" % (u["case"], u["detail"])
             for u in exp["unexpected_passes"]]
    notes += ["- `%s` (%s:%d) matches no collected case" % (e["id"], e["file"], e["line"])
              for e in exp["case_ids_matching_no_case"]]
    notes += ["- clause `%s` (%s:%d) is cited by no case of this run" % (
        e["id"], e["file"], e["line"]) for e in exp["clause_ids_cited_by_no_case"]]
    notes += ["- cases cite `%s`, which is not a clause of SPEC.md" % c
              for c in report["cases_citing_unknown_clauses"]]
    notes += ["- `%s` has no clause (its reports carried none)" % n
              for n in report["cases_without_clauses"]]
    notes += ["- `%s` names several cases (colliding parameter ids): their outcomes are "
              "folded into one" % n for n in report["duplicate_case_ids"]]
    if notes:
        out += ["", "## Attention", ""] + notes
    out += ["", "## Totals", "", "| outcome | clauses | cases |", "|---|---|---|"]
    for outcome in report["outcome_order"] + [NO_CASE]:
        out.append("| %s | %d | %s |" % (outcome, report["totals"]["clauses"].get(outcome, 0),
                                        report["totals"]["cases"].get(outcome, "-")))
    out += ["", "## Clauses"]
    section = None
    for row in report["clauses"]:
        if row["section"] != section:
            section = row["section"]
            out += ["", "### %s" % section, ""]
        out.append("- `%s` %s %s: **%s**%s" % (
            row["id"], row["level"], row["profile"], row["outcome"],
            " (a convention of the document: no case, no verdict)" if row["section"].startswith(
                "1.") else ""))
        for case in row["cases"]:
            out.append("  - `%s`: %s" % (case["case"], describe(case["outcome"], case["detail"])))
    return "\n".join(out) + "\n"


def pytest_configure(config):
    config.pluginmanager.register(SpecReport(config), "tcplua_spec_report")


# -- comparing runs (make conformance REPEAT=N) ---------------------------------------------
def case_outcomes(report):
    """{case: "outcome[: detail]"} of one report.json."""
    found = {}
    for row in report["clauses"]:
        for case in row["cases"]:
            found[case["case"]] = describe(case["outcome"], case["detail"])
    return found


def compare(paths):
    """Prints the cases whose outcome differs between the runs; returns how many."""
    runs = [(Path(p).stem, case_outcomes(json.loads(Path(p).read_text()))) for p in paths]
    names = sorted(set().union(*(found for _, found in runs))) if runs else []
    flaky = 0
    for name in names:
        seen = [(run, found.get(name, "absent")) for run, found in runs]
        if len({outcome for _, outcome in seen}) > 1:
            flaky += 1
            print("flaky: %s" % name)
            for run, outcome in seen:
                print("  %s: %s" % (run, outcome))
    print("%d case(s) differed between %d run(s)" % (flaky, len(runs)))
    return flaky


if __name__ == "__main__":
    import sys
    if len(sys.argv) < 2 or sys.argv[1] != "--compare":
        sys.exit("usage: python3 -m tcplua_harness.report --compare RUN.json ...")
    compare(sys.argv[2:])
