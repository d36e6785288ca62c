"""valgrind: the reference binary run under Valgrind's memcheck (`make valgrind`).

Every server process (master and forked workers; Valgrind follows fork) writes its report to
$TCPLUA_VALGRIND_DIR/vg.PID.log. With -q a clean process writes nothing, so after the run
`ci/valgrind_check.sh` fails on any non-empty report: a memory error or a definite leak.
No suppressions are needed: Debian's LuaJIT (luajit2) runs clean under memcheck, and a
suppression file would be the place to add one, for LuaJIT only, each with its reason.
The server is 20-50 times slower under memcheck: the harness's deadlines are raised through
TCPLUA_DEADLINE by the Makefile, and only the subset of files named there runs (timing cases
cannot keep their margins under Valgrind).
"""
import os

from ..adapter import CONFORMANCE_DIR
from .reference import ReferenceAdapter


class ValgrindAdapter(ReferenceAdapter):
    name = "valgrind"

    def command(self, args):
        logs = os.environ.get("TCPLUA_VALGRIND_DIR") or str(CONFORMANCE_DIR.parent / "build" / "valgrind")
        os.makedirs(logs, exist_ok=True)
        return ["valgrind", "-q", "--leak-check=full", "--show-leak-kinds=definite",
                "--errors-for-leak-kinds=definite", "--child-silent-after-fork=no",
                "--log-file=%s/vg.%%p.log" % logs,
                self.bin, *args]


ADAPTER = ValgrindAdapter
