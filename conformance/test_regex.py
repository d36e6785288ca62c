"""SPEC §6.9 Regular expressions: ngx.re.match / find / gmatch / sub / gsub behave as
ngx_lua 0.10.23's.

The reference is recorded, not remembered: conformance/reference/regex_probe.lua ran under
OpenResty's ngx_lua (Debian 12 packages: resty/core/regex.lua over the module's PCRE 8.39
binding) and wrote conformance/reference/regex_ngx_lua.txt, one line per probe
(`NAME => N|results...` or `NAME => ERR: message`). These cases run the same probe file in a
session of the implementation under test (once per pytest process) and compare each probe's
line with the recorded one: one case per probe, grouped by the clause its name prefix
belongs to (PREFIXES), each citing that clause and regex.reference.

Compared exactly, except where ngx_lua's line names its own Lua binding: an error raised
inside resty/core/regex.lua (`ERR: /usr/share/lua/5.1/resty/core/regex.lua:N: ...`). Then
- a Lua runtime error of that binding on a bad argument (`attempt to get length of local
  'regex' (a nil value)`, `attempt to compare string with number`, `bad argument #1 to
  'ngx_lua_ffi_compile_regex' ...`, `bad argument #1 to 'tostring' (value expected)`) only
  has to be an error (SPEC regex.errors: argument type errors are raised), provided that
  ngx.re is there at all (probe present.types agrees);
- any other message (`unknown flag "z" (flags "z")`) must be the same text, after any
  position or none in place of the binding's file and line.
And a compile error (`pcre_compile() failed: REASON in "REGEX"[ at "REST"]`) must be one for
the same regex in the same place of the line, with any REASON and any ` at "..."` part: they
are the regex library's words and offsets (SPEC regex.errors; the record ran PCRE1, an
implementation may run PCRE2).

The client sends first (the 2015 module starts a script only on the first client byte): the
script begins with START_LUA, which consumes the byte Client.start() sends.
"""
import re
from pathlib import Path

import pytest

from tcplua_harness.cases import parse_record, said_lines, serve, start_session
from tcplua_harness.client import START_LUA

spec = pytest.mark.spec
needs = pytest.mark.needs

REFERENCE = Path(__file__).resolve().parent / "reference"
PROBE = (REFERENCE / "regex_probe.lua").read_bytes()
SCRIPT = START_LUA + 'dofile("@PREFIX@/conf/regex_probe.lua").run(function(line) ngx.say(line) end)\n'

# probe name prefix -> the clause its probes check
PREFIXES = {
    "present.": "regex.present",
    "match.": "regex.match",
    "find.": "regex.find",
    "gmatch.": "regex.gmatch",
    "sub.": "regex.sub",
    "gsub.": "regex.sub",
    "options.": "regex.options",
    "errors.": "regex.errors",
}

# the binding's position in ngx_lua's messages, and its Lua runtime errors on bad arguments
RESTY_POS = re.compile(r"/usr/share/lua/5\.1/resty/core/\w+\.lua:\d+: ")
RESTY_RUNTIME = re.compile(r"^ERR: /usr/share/lua/5\.1/resty/core/\w+\.lua:\d+: "
                           r"(attempt to |bad argument #\d+ to ')")


REF = parse_record((REFERENCE / "regex_ngx_lua.txt").read_bytes().decode("latin-1"))
_UNGROUPED = [n for n in REF if not n.startswith(tuple(PREFIXES))]
assert not _UNGROUPED, "probes of no clause (add their prefix to PREFIXES): %r" % _UNGROUPED


def probes(clause):
    names = [n for n in REF if PREFIXES[next(p for p in PREFIXES if n.startswith(p))] == clause]
    assert names, "no reference probes for %s" % clause
    return names


_results = {}


def probe_results(server):
    """Runs regex_probe.lua once per pytest process; returns {name: line}, plus "__raw__"
    (what the session said) and "__complete__" (it reached "# end")."""
    if not _results:
        srv = serve(server, SCRIPT, files={"conf/regex_probe.lua": PROBE})
        said = srv.connect().start().recv_until_close(30).decode("latin-1")
        _results.update(parse_record(said))
        _results["__raw__"] = said
        _results["__complete__"] = said.splitlines()[-1:] == ["# end"]
    return _results


# a compile error's reason and offset text: the regex library's own
COMPILE_ERR = re.compile(r'pcre_compile\(\) failed: .*? in \\"(.*?)\\"(?: at \\".*?\\")?"')


def agrees(got, want):
    """True if `got` (this implementation's line) is ngx_lua's `want` (module docstring)."""
    if COMPILE_ERR.search(want):
        return COMPILE_ERR.sub(r"COMPILE(\1)", got) == COMPILE_ERR.sub(r"COMPILE(\1)", want)
    if RESTY_RUNTIME.match(want):
        return got.startswith("ERR: ")
    if RESTY_POS.search(want):
        pattern = r"(?:[^\s\"|]+:\d+: )?".join(re.escape(p) for p in RESTY_POS.split(want))
        return re.fullmatch(pattern, got) is not None
    return got == want


def check(server, name):
    __tracebackhide__ = True
    results = probe_results(server)
    got, want = results.get(name), REF[name]
    assert got is not None, "probe %s printed nothing (the session %s); it said, at the end:\n%s" % (
        name, "reached # end" if results["__complete__"] else "did not reach # end",
        results["__raw__"][-2000:])
    if RESTY_RUNTIME.match(want):
        # Any error will do here, so first the five functions must be there: without ngx.re
        # the probe raises too ("attempt to index field 're'").
        present = results.get("present.types")
        assert present == REF["present.types"], (
            "%s: ngx_lua raises (%s), but ngx.re is not what ngx_lua has: present.types gives %s"
            % (name, want, present))
    assert agrees(got, want), "%s:\n  got  %s\n  want %s (ngx_lua)" % (name, got, want)


# ngx.re in init_by_lua: what ngx_lua 0.10.23 gives (checked with Debian's nginx).
INIT_LUA = r"""
local ok, e = pcall(function()
    local t = {}
    for _, k in ipairs({"match", "find", "gmatch", "sub", "gsub"}) do t[#t + 1] = type(ngx.re[k]) end
    local it = ngx.re.gmatch("ab", ".")
    local s, n = ngx.re.gsub("abc", "b", "[$0]")
    local from, to = ngx.re.find("abc", "c")
    return table.concat(t, " ") .. " " .. ngx.re.match("abc", "(b)")[1] .. " " .. it()[0] .. it()[0]
        .. " " .. s .. " " .. n .. " " .. from .. " " .. to .. " " .. ngx.re.sub("abc", "a", "x", "jo")
end)
INIT_RE = ok and e or ("ERR: " .. tostring(e))
"""


@spec("regex.present", "regex.reference")
@needs("regex")
def test_present_in_init_by_lua(server):
    """regex.present: ngx.re and its five functions exist in init_by_lua* and work there
    (match, find, a gmatch iterator, gsub with a template, sub with "jo")."""
    lines = said_lines(server, START_LUA + 'ngx.say(type(ngx.re), " ", INIT_RE)\n', init=INIT_LUA)
    assert lines == ["table function function function function function b ab a[b]c 1 3 3 xbc"]


@spec("regex.present", "regex.reference")
@needs("regex")
@pytest.mark.parametrize("name", probes("regex.present"))
def test_present(server, name):
    """regex.present: ngx.re is a table of five functions in a session; gmatch's iterator
    can be called."""
    check(server, name)


@spec("regex.match", "regex.reference")
@needs("regex")
@pytest.mark.parametrize("name", probes("regex.match"))
def test_match(server, name):
    """regex.match: the captures table ([0], [n], names; false for a group that did not
    take part; "D" makes each name a table of the values it took), nil on no match,
    ctx.pos (where to start, 1-based; set after the match), res_table (filled in place,
    other keys left), subjects converted with tostring, large subjects."""
    check(server, name)


@spec("regex.find", "regex.reference")
@needs("regex")
@pytest.mark.parametrize("name", probes("regex.find"))
def test_find(server, name):
    """regex.find: from, to (1-based, inclusive; to = from - 1 for an empty match), the
    nth capture (nil, nil for one that did not take part; "nth out of bound" beyond the
    groups), ctx.pos."""
    check(server, name)


@spec("regex.gmatch", "regex.reference")
@needs("regex")
@pytest.mark.parametrize("name", probes("regex.gmatch"))
def test_gmatch(server, name):
    """regex.gmatch: the iterator's matches, empty matches, where it stops (nil, or nil and
    an error), calls after the end, nil, err for a regex that does not compile."""
    check(server, name)


@spec("regex.sub", "regex.reference")
@needs("regex")
@pytest.mark.parametrize("name", probes("regex.sub"))
def test_sub_gsub(server, name):
    """regex.sub: templates ($0 $N ${N} $$; anything else after $ fails to compile),
    function replacements (the captures table; the result through tostring), the count,
    empty matches, no match (the subject and 0), errors (nil, nil, err)."""
    check(server, name)


@spec("regex.options", "regex.reference")
@needs("regex")
@pytest.mark.parametrize("name", probes("regex.options"))
def test_options(server, name):
    """regex.options: a d D i j J m o s u U x alone and together, and the error an unknown
    letter raises."""
    check(server, name)


@spec("regex.errors", "regex.reference")
@needs("regex")
@pytest.mark.parametrize("name", probes("regex.errors"))
def test_errors(server, name):
    """regex.errors: compile and match errors returned (nil, err: three values for find,
    sub and gsub), a regex that is not a string raised, wrong argument counts."""
    check(server, name)


@spec("regex.options")
@needs("regex")
def test_U_refuses_an_invalid_subject(server):
    """regex.options: under "U" a subject that is not valid UTF-8 gives `pcre_exec() failed:
    -10`, as under "u" (a deliberate difference: ngx_lua matches it unchecked, which PCRE calls
    undefined behaviour, and the subject may be a client's bytes); valid subjects match."""
    script = START_LUA + r"""
ngx.say(select("#", ngx.re.match("a\255b", "b", "U")), " ", tostring(select(2, ngx.re.match("a\255b", "b", "U"))))
ngx.say(select(3, ngx.re.gsub("\255", "x", "y", "U")))
ngx.say(ngx.re.match("\195\169", "^.$", "U")[0] == "\195\169")
"""
    srv = serve(server, script)
    lines = start_session(srv).recv_until_close().decode("latin-1").splitlines()
    assert lines == ["2 pcre_exec() failed: -10", "pcre_exec() failed: -10", "true"]


# (a+)+$ over 16 a's and a "!": about 2^16 steps before it fails, far below PCRE's own limit
# of 10^7 (a required literal, as in (a+)+b, would let PCRE fail at once without trying)
BACKTRACK_LUA = START_LUA + r"""
local function last(...) local n = select("#", ...) return n .. ":" .. tostring((select(n, ...))) end
local subj = string.rep("a", 16) .. "!"
ngx.say(last(ngx.re.match(subj, "(a+)+$", "j")), " ", last(ngx.re.find(subj, "(a+)+$", "j")), " ",
        last(ngx.re.gsub(subj, "(a+)+$", "x", "j")), " ", last(ngx.re.match(subj, "(a+)+$")))
ngx.say(select("#", ngx.re.match(subj, "a*!$", "d")), " ", ngx.re.match(subj, "a*!$", "d")[0] == subj)
"""


@spec("regex.match_limit")
@pytest.mark.parametrize("limit", [None, 1000])
@needs("regex")
def test_match_limit(server, limit):
    """regex.match_limit: lua_regex_match_limit 1000 makes a backtracking match fail with
    `pcre_exec() failed: -8` from match, find and gsub, JIT or not; without it the same
    match just finds nothing; a DFA match is not limited. (What ngx_lua 0.10.23 says for
    this script, with and without the directive.)"""
    extra = "" if limit is None else "lua_regex_match_limit %d;" % limit
    srv = serve(server, BACKTRACK_LUA, tcp_extra=extra)
    lines = start_session(srv).recv_until_close().decode("latin-1").splitlines()
    if limit is None:
        assert lines == ["1:nil 1:nil 2:0 1:nil", "1 true"]
    else:
        assert lines == ["2:pcre_exec() failed: -8 3:pcre_exec() failed: -8 3:pcre_exec() failed: -8 "
                         "2:pcre_exec() failed: -8", "1 true"]


@spec("regex.sub")
@needs("regex")
def test_replacement_function_cannot_yield(server):
    """regex.sub: a replacement function that yields (ngx.sleep) raises `attempt to yield
    across C-call boundary` (a deliberate difference: ngx_lua's loop is Lua); the session goes
    on and the next gsub works."""
    script = START_LUA + r"""
local ok, err = pcall(ngx.re.gsub, "abc", "b", function(m) ngx.sleep(0.01) return "X" end)
ngx.say(tostring(ok), " ", tostring(err))
ngx.say(ngx.re.gsub("abc", "b", function(m) return "Y" end))
"""
    srv = serve(server, script)
    lines = start_session(srv).recv_until_close().decode("latin-1").splitlines()
    assert lines == ["false attempt to yield across C-call boundary", "aYc1"]
