"""selftest: a deliberately broken implementation, to prove that the suite fails where it
must and that the expectations machinery reports exactly that (conformance/selftest/).

It is the reference binary with two faults injected into every script file a case writes
(`*.lua` under conf/ or lua/, not init scripts), prepended on the script's first line so that
line numbers stay:
  1. ngx.receive(total, atleast) ignores `atleast` (waits for `total` bytes): the classic
     off-by-one family of [recv.return];
  2. ngx.say(true) / ngx.say(false) write "1" / "0" instead of "true" / "false".
Inline process_by_lua code and init_by_lua* are left alone, so only cases whose scripts are
files see the faults. `conformance/selftest/expected.txt` lists the cases that must fail;
`make selftest` runs the suite with this adapter and that file and must exit 0.
"""
import re

from .reference import ReferenceAdapter

FAULTS = (
    "if not ngx.__selftest then ngx.__selftest = true "
    "local r, s = ngx.receive, ngx.say "
    "ngx.receive = function(t, a) return r(t) end "
    "ngx.say = function(...) local t = {...} for i = 1, select('#', ...) do "
    "if type(t[i]) == 'boolean' then t[i] = t[i] and '1' or '0' end end "
    "return s(unpack(t, 1, select('#', ...))) end end "
)
SCRIPT = re.compile(r"^(conf|lua)/[^/]*\.lua$")
INIT = re.compile(r"init", re.I)


class SelftestAdapter(ReferenceAdapter):
    name = "selftest"

    def prepare(self, conf_text, files):
        out = {}
        for path, text in (files or {}).items():
            # Bytecode ("\x1bLJ...") stays as it is: [session.load.shebang] refuses it.
            if isinstance(text, str) and SCRIPT.match(path) and not INIT.search(path) \
                    and not text.startswith("\x1b"):
                first, nl, rest = text.partition("\n")
                # A shebang line stays first ([session.load.shebang]).
                if first.startswith("#"):
                    text = first + nl + FAULTS + rest
                else:
                    text = FAULTS + text
            out[path] = text
        return conf_text, out


ADAPTER = SelftestAdapter
