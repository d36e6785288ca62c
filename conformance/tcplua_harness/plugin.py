"""pytest plugin: --impl/--impl-bin, the required spec marker, expectations, the
`adapter`, `impl` and `server` fixtures, and the autouse `reap_leftovers` fixture."""
import re

import pytest

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
            problem = _spec_problem(item)
            if problem:
                raise collector.CollectError("case %s %s" % (item.name, problem))


# -- expectations: known deviations become strict xfails ------------------------------------------
def read_expectations(impl_name):
    path = CONFORMANCE_DIR / "expectations" / ("%s.txt" % impl_name)
    ids = set()
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                ids.add(line)
    return path, ids


def pytest_configure(config):
    # A wrong --impl is a usage error, reported once, not an error in every case.
    try:
        config._tcplua_adapter = load_adapter(config.getoption("--impl"),
                                              config.getoption("--impl-bin"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc))
    config._tcplua_expectations = read_expectations(config.getoption("--impl"))


def pytest_collection_modifyitems(config, items):
    path, deviations = config._tcplua_expectations
    cited = set()
    for item in items:
        ids = spec_ids(item)
        cited.update(ids)
        hit = sorted(set(ids) & deviations)
        if hit:
            item.add_marker(pytest.mark.xfail(
                strict=True, reason="known deviation (%s): %s" % (path.name, ", ".join(hit))))
    config._tcplua_unused_expectations = sorted(deviations - cited)


def pytest_terminal_summary(terminalreporter, config):
    unused = getattr(config, "_tcplua_unused_expectations", None)
    if unused:
        terminalreporter.write_line("expectations not cited by any collected case: %s" % (
            ", ".join(unused)))


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
