"""Per-clause report: report.json maps each cited clause id to its case outcomes.

A case's outcome folds its setup, call and teardown phases: any failure (including a
sanitizer report or unclean stop found at teardown) makes it "failed"; a strict xfail that
fails as expected is "xfailed"; one that passes is "failed" (XPASS(strict)).
"""
import json

import pytest

from .adapter import CONFORMANCE_DIR
from .plugin import spec_ids

OUTCOMES = ("passed", "failed", "xfailed", "skipped")


def pytest_addoption(parser):
    parser.getgroup("tcplua").addoption(
        "--spec-report", default=str(CONFORMANCE_DIR / "report.json"),
        help="where to write the per-clause JSON report (default: conformance/report.json)")


class SpecReport:
    def __init__(self, config):
        self.config = config
        self.clauses = {}    # nodeid -> clause ids
        self.outcome = {}    # nodeid -> outcome

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
        for item in items:
            self.clauses[item.nodeid] = spec_ids(item)

    def pytest_runtest_logreport(self, report):
        if report.failed:
            outcome = "failed"
        elif hasattr(report, "wasxfail"):
            outcome = "xfailed"
        elif report.skipped:
            outcome = "skipped"
        elif report.when == "call":
            outcome = "passed"
        else:
            return
        # A later phase can only make things worse: passed < skipped/xfailed < failed.
        previous = self.outcome.get(report.nodeid)
        if previous != "failed" and not (previous in ("xfailed", "skipped") and outcome == "passed"):
            self.outcome[report.nodeid] = outcome

    def build(self):
        report = {}
        for nodeid, outcome in self.outcome.items():
            for clause in self.clauses.get(nodeid, ()):
                entry = report.setdefault(clause, dict({o: 0 for o in OUTCOMES}, cases=[]))
                entry[outcome] += 1
                entry["cases"].append({"case": nodeid, "outcome": outcome})
        return dict(sorted(report.items()))

    def pytest_sessionfinish(self, session):
        if self.config.option.collectonly or not self.outcome:
            return
        self.report = self.build()
        with open(self.config.getoption("--spec-report"), "w") as f:
            json.dump(self.report, f, indent=1)
            f.write("\n")

    def pytest_terminal_summary(self, terminalreporter):
        report = getattr(self, "report", None)
        if not report:
            return
        failing = [c for c, e in report.items() if e["failed"]]
        xfailing = [c for c, e in report.items() if e["xfailed"] and not e["failed"]]
        passing = [c for c, e in report.items() if e["passed"] == len(e["cases"])]
        write = terminalreporter.write_line
        write("spec clauses: %d exercised, %d passing, %d failing, %d known deviations -> %s" % (
            len(report), len(passing), len(failing), len(xfailing),
            self.config.getoption("--spec-report")))
        for clause in failing:
            e = report[clause]
            write("  FAIL %s (%d of %d cases)" % (clause, e["failed"], len(e["cases"])))


def pytest_configure(config):
    config.pluginmanager.register(SpecReport(config), "tcplua_spec_report")
