"""pytest plugin: --impl/--impl-bin/--expectations, the required spec marker, the needs
marker, expectations, the `adapter`, `impl` and `server` fixtures, and the autouse
`reap_leftovers` fixture."""
import importlib.util
import re
from pathlib import Path

import pytest

from . import adapter as adapter_module
from .adapter import CONFORMANCE_DIR
from .adapters import load_adapter
from .cli import Impl
from .instance import Instance
from .prefix import Prefix
from .procs import become_subreaper, own_children, reap_children

CLAUSE_ID_RE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)+")


def pytest_addoption(parser):
    group = parser.getgroup("tcplua", "tcplua conformance")
    group.addoption("--impl", default="reference",
                    help="adapter name (tcplua_harness/adapters/NAME.py); also selects "
                         "expectations/NAME.txt. Default: reference")
    group.addoption("--impl-bin", default=None,
                    help="binary to run, overriding the adapter's default")
    group.addoption("--expectations", default=None, metavar="PATH",
                    help="expectations file to use instead of expectations/NAME.txt")


# -- every case cites clauses -------------------------------------------------------------------
def spec_ids(item):
    ids = []
    for mark in item.iter_markers("spec"):
        ids.extend(mark.args)
    return ids


def _spec_problem(item):
    ids = spec_ids(item)
    if not ids:
        return "has no @pytest.mark.spec(\"clause.id\", ...)"
    bad = [i for i in ids if not (isinstance(i, str) and CLAUSE_ID_RE.fullmatch(i))]
    if bad:
        return "cites malformed clause ids %r" % bad
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_pycollect_makeitem(collector, name, obj):
    # Checked while collecting so that a case without a clause is a collection error of its
    # module, the same failure as a syntax error: uncited cases cannot slip into a run.
    outcome = yield
    result = outcome.get_result()
    items = result if isinstance(result, list) else [result]
    for item in items:
        if isinstance(item, pytest.Function):
            problem = _spec_problem(item) or _needs_problem(item)
            if problem:
                raise collector.CollectError("case %s %s" % (item.name, problem))


# -- the specification: clause ids, levels and profiles from ../SPEC.md --------------------------
SPEC_PATH = CONFORMANCE_DIR.parent / "SPEC.md"
_spec_cache = {}


def load_spec():
    """{clause id: {"level", "profile", "line", "chapter", "section"}} parsed by
    ci/spec_coverage.py, the one parser of SPEC.md (document order)."""
    if "clauses" not in _spec_cache:
        path = CONFORMANCE_DIR.parent / "ci" / "spec_coverage.py"
        loader = importlib.util.spec_from_file_location("tcplua_spec_coverage", path)
        module = importlib.util.module_from_spec(loader)
        loader.loader.exec_module(module)
        clauses, errors = module.parse_spec(SPEC_PATH)
        if errors:
            raise pytest.UsageError("SPEC.md does not parse:\n  " + "\n  ".join(errors))
        _spec_cache.update(clauses=clauses, profiles=module.PROFILES)
    return _spec_cache["clauses"]


def spec_profiles():
    load_spec()
    return _spec_cache["profiles"]


# -- expectations: known deviations become strict xfails ------------------------------------------
class Expectation:
    """One line of an expectations file: a clause id or a case id (contains "::"), a reason."""

    def __init__(self, display, line, ident, reason):
        self.display, self.line, self.id, self.reason = display, line, ident, reason
        self.is_case = "::" in ident

    def matches(self, nodeid, clause_ids):
        if self.is_case:
            # A case id without parameters stands for every parametrization of the case.
            return self.id in (nodeid, nodeid.split("[", 1)[0])
        return self.id in clause_ids

    def as_dict(self):
        return {"file": self.display, "line": self.line, "id": self.id, "reason": self.reason}


def read_expectations(path, display, clauses):
    """Parses an expectations file: `ID  # reason` per line, `#` lines and blank lines ignored.
    Raises UsageError naming every bad line (no reason, unknown clause id, malformed id,
    duplicate)."""
    entries, problems, seen = [], [], {}
    if not path.exists():
        return entries
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        # A case id's parameters may hold spaces and "#": the reason starts at the first "#"
        # after the closing "]".
        cut = text.rfind("]") + 1 if "[" in text.split("#", 1)[0] else 0
        head, _, reason = text[cut:].partition("#")
        ident, reason = (text[:cut] + head).strip(), reason.strip()
        where = "%s:%d" % (display, number)
        if not reason:
            problems.append("%s: %r has no reason (write `ID  # why it fails`)" % (where, ident))
        elif len(ident.split("[", 1)[0].split()) != 1:
            problems.append("%s: one id per line, got %r" % (where, ident))
        elif "::" not in ident and not CLAUSE_ID_RE.fullmatch(ident):
            problems.append("%s: %r is neither a clause id nor a case id (file.py::case)" % (
                where, ident))
        elif "::" not in ident and ident not in clauses:
            problems.append("%s: %s is not a clause in SPEC.md" % (where, ident))
        elif ident in seen:
            problems.append("%s: %s is listed already on line %d" % (where, ident, seen[ident]))
        else:
            seen[ident] = number
            entries.append(Expectation(display, number, ident, reason))
    if problems:
        raise pytest.UsageError("bad expectations file %s:\n  %s" % (
            path, "\n  ".join(problems)))
    return entries


def expectations_path(config):
    given = config.getoption("--expectations")
    if given:
        path = Path(given).resolve()
        if not path.is_file():
            raise pytest.UsageError("--expectations=%s: no such file" % given)
    else:
        path = CONFORMANCE_DIR / "expectations" / ("%s.txt" % config.getoption("--impl"))
    try:
        display = str(path.relative_to(CONFORMANCE_DIR))
    except ValueError:
        display = str(path)
    return path, display


def pytest_configure(config):
    # A wrong --impl is a usage error, reported once, not an error in every case.
    try:
        config._tcplua_adapter = load_adapter(config.getoption("--impl"),
                                              config.getoption("--impl-bin"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc))
    path, display = expectations_path(config)
    config._tcplua_expectations_file = display
    config._tcplua_expectations = read_expectations(path, display, load_spec())


# -- needs(*caps): cases that need more than their clause --------------------------------------
def needed_caps(item):
    caps = []
    for mark in item.iter_markers("needs"):
        caps.extend(mark.args)
    return caps


def _needs_problem(item):
    known = getattr(adapter_module, "ALL_CAPABILITIES", None)
    caps = needed_caps(item)
    if any(not isinstance(c, str) for c in caps):
        return "has a needs() argument that is not a string"
    unknown = sorted(set(caps) - set(known)) if known is not None else []
    if unknown:
        return "needs unknown capabilities %r (adapter.ALL_CAPABILITIES lists them)" % unknown
    return None


def pytest_collection_modifyitems(config, items):
    """Per case: what it cites and which expectation lines cover it travel with its reports
    (report.py reads them on the controller, where xdist never collects); a case needing a
    capability the adapter lacks is skipped as "not run: needs CAP"; a listed case runs as a
    strict xfail."""
    capabilities = getattr(config._tcplua_adapter, "capabilities", None)
    expectations = config._tcplua_expectations
    for item in items:
        ids = spec_ids(item)
        hits = [e for e in expectations if e.matches(item.nodeid, ids)]
        item._tcplua = {"spec": ids, "expect": [e.as_dict() for e in hits]}
        if isinstance(capabilities, (set, frozenset)):
            missing = sorted(set(needed_caps(item)) - capabilities)
            if missing:
                item.add_marker(pytest.mark.skip(reason="not run: needs %s" % ", ".join(missing)))
        if hits:
            # A reason starting "flaky:" admits that the case fails only some of the time there
            # (a starving loop, a crash at stop): a pass is reported but does not fail the run.
            strict = not all(e.reason.lower().startswith("flaky:") for e in hits)
            item.add_marker(pytest.mark.xfail(strict=strict, reason="; ".join(
                "%s:%d: %s" % (e.display, e.line, e.reason) for e in hits)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Attributes of a TestReport survive xdist's serialization, unlike the item itself.
    outcome = yield
    report = outcome.get_result()
    report.tcplua = getattr(item, "_tcplua", None)


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def adapter(pytestconfig):
    adapter = pytestconfig._tcplua_adapter
    problem = adapter.check()
    if problem:
        pytest.fail(problem, pytrace=False)
    return adapter


@pytest.fixture(autouse=True)
def reap_leftovers():
    """Kills (by PID) whatever a case left running: a daemonized server, workers whose master
    died. As an autouse fixture it is set up before `server`, so its teardown runs after the
    harness stopped the case's servers."""
    become_subreaper()
    before = set(own_children())
    yield
    reap_children(before)


@pytest.fixture
def impl(adapter, tmp_path):
    """CLI runs: impl.test_config(...), impl.dump_config(...), impl.run(args, ...)."""
    return Impl(adapter, tmp_path)


@pytest.fixture
def server(adapter, tmp_path):
    """Factory: server(tcp=..., main="", files={}, wait=True, conf_text=None) -> a running
    Instance. wait may also be a list of port indices to wait for; conf_text replaces the
    composed configuration verbatim."""
    instances = []
    started = [0]

    def start(tcp=None, main="", files=None, wait=True, conf_text=None):
        __tracebackhide__ = True
        prefix = Prefix(tmp_path / ("srv%d" % started[0]), adapter,
                        tcp=tcp, main=main, files=files, conf_text=conf_text)
        started[0] += 1
        instance = Instance(adapter, prefix)
        instances.append(instance)
        if wait:
            instance.wait_ready(None if wait is True else wait)
        return instance

    def finish_all():
        problems = []
        while instances:
            problems.extend(instances.pop(0).finish())
        return problems

    start.finish_all = finish_all
    yield start
    problems = finish_all()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    # Stop the case's servers while still in the call phase, so a crash, sanitizer report or
    # unclean stop fails the case itself instead of adding a teardown error to a "pass".
    # After a failed call they are left to the fixture teardown, which reports them too.
    outcome = yield
    start = getattr(item, "funcargs", {}).get("server")
    if outcome.excinfo is None and start is not None:
        problems = start.finish_all()
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)
