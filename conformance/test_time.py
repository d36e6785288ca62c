"""SPEC.md §6.5 Time: the ngx.* time functions, seen through what a script prints.

Each case runs a Lua chunk in process_by_lua_file (and init_by_lua_file where the clause is
about start-up) and compares the lines it says with values computed here independently
(time, calendar, email.utils, datetime). Error cases print the message pcall caught and
compare its end, since Lua puts "chunk:line: " first.
"""
import calendar
import datetime
import email.utils
import random
import re
import time

import pytest

from tcplua_harness.cases import PERR_LUA, lua_str, said_lines, script_tcp
from tcplua_harness.client import START_LUA

# perr(f): runs f and says the error it raised (or "no error").
PRELUDE = PERR_LUA

NAMES = ["time", "now", "utctime", "localtime", "today", "tcp_time", "parse_tcp_time",
         "update_time"]
HTTP_MIN, HTTP_MAX = -62135596800, 253402300799
WDAY = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
WDAY_LONG = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
EPOCH = datetime.datetime(1970, 1, 1)


def run(server, script, init=None):
    """cases.said_lines for PRELUDE + script: the lines one connection receives, as latin-1
    (`init` runs as init_by_lua_file unless None). The script begins with START_LUA, which
    consumes the byte the client sends first (the 2015 module starts a script on it)."""
    return said_lines(server, START_LUA + PRELUDE + script, init)


def http_date(sec):
    """IMF-fixdate of any second in years 1..9999 (datetime, not the C library)."""
    d = EPOCH + datetime.timedelta(seconds=sec)
    return "%s, %02d %s %04d %02d:%02d:%02d GMT" % (
        WDAY[d.weekday()], d.day, MON[d.month - 1], d.year, d.hour, d.minute, d.second)


def say_each(expr, values):
    """Lua that says tostring(expr) for each value, `v` bound to the value."""
    return "".join("do local v = %s; ngx.say(tostring(%s)) end\n" % (v, expr) for v in values)


# -- presence and start-up ------------------------------------------------------------------------
@pytest.mark.spec("time.api.present")
def test_functions_present_in_both_contexts(server):
    """time.api.present: the eight time functions exist in process_by_lua* and init_by_lua*."""
    names = "{%s}" % ", ".join('"%s"' % n for n in NAMES)
    init = "INIT_TYPES = {} for _, k in ipairs(%s) do INIT_TYPES[k] = type(ngx[k]) end" % names
    script = ("for _, k in ipairs(%s) do ngx.say(k, ' ', type(ngx[k]), ' ', INIT_TYPES[k]) end"
              % names)
    assert run(server, script, init=init) == ["%s function function" % n for n in NAMES]


@pytest.mark.spec("time.init.available")
def test_init_by_lua_reads_the_start_time(server):
    """time.init.available: ngx.time() in init_by_lua* reads the time at start-up."""
    init = ("T0, N0 = ngx.time(), ngx.now()\n"
            "U0, P0 = ngx.tcp_time(T0), ngx.parse_tcp_time(ngx.tcp_time(T0))")
    before = time.time()
    lines = run(server, "ngx.say(T0) ngx.say(string.format('%.3f', N0)) ngx.say(U0)"
                        " ngx.say(P0)", init=init)
    after = time.time()
    t0 = int(lines[0])
    assert before - 1 <= t0 <= after + 1
    assert int(float(lines[1])) == t0
    assert lines[2] == email.utils.formatdate(t0, usegmt=True)
    assert int(lines[3]) == t0


# -- the cached clock ------------------------------------------------------------------------------
@pytest.mark.spec("time.time.value")
def test_time_is_integral_system_seconds(server):
    """time.time.value: ngx.time() is an integral number of seconds, the system clock's."""
    before = time.time()
    lines = run(server, "local t = ngx.time() ngx.say(t == math.floor(t)) ngx.say(t)")
    after = time.time()
    assert lines[0] == "true"
    assert int(before) - 1 <= int(lines[1]) <= after + 1


@pytest.mark.spec("time.now.value")
def test_now_has_millisecond_fraction(server):
    """time.now.value: ngx.now() is sec + msec/1000 with msec integral in 0..999 and
    math.floor(ngx.now()) == ngx.time()."""
    before = time.time()
    lines = run(server, "local n, t = ngx.now(), ngx.time()\n"
                        "ngx.say(string.format('%.6f', n)) ngx.say(t)\n"
                        "ngx.say(math.floor(n) == t)")
    after = time.time()
    now, t = float(lines[0]), int(lines[1])
    assert lines[2] == "true"
    ms = (now - t) * 1000
    assert abs(ms - round(ms)) < 1e-3 and 0 <= round(ms) <= 999
    assert before - 1 <= now <= after + 1


BUSY = "local c0 = os.clock() while os.clock() - c0 < %s do end\n"


@pytest.mark.spec("time.now.cached")
def test_clock_is_cached_while_code_runs(server):
    """time.now.cached: without a yield or ngx.update_time(), every time function returns
    the same value before and after 300 ms of pure computation."""
    script = ("local a = {ngx.time(), ngx.now(), ngx.utctime(), ngx.localtime(), ngx.today()}\n"
              + BUSY % "0.3" +
              "local b = {ngx.time(), ngx.now(), ngx.utctime(), ngx.localtime(), ngx.today()}\n"
              "for i = 1, 5 do ngx.say(tostring(a[i] == b[i])) end\n"
              "ngx.say(string.format('%.3f', os.clock() - c0))")
    lines = run(server, script)
    assert lines[:5] == ["true"] * 5
    assert float(lines[5]) >= 0.29   # the loop really ran


@pytest.mark.spec("time.update.refresh")
def test_update_time_refreshes(server):
    """time.update.refresh: ngx.update_time() returns nothing and the next ngx.now() shows
    the computation time that passed."""
    script = ("local a = ngx.now()\n" + BUSY % "0.1" +
              "ngx.say(select('#', ngx.update_time()))\n"
              "ngx.say(string.format('%.3f', ngx.now() - a))\n"
              "ngx.say(math.floor(ngx.now()) == ngx.time())")
    lines = run(server, script)
    assert lines[0] == "0"
    assert 0.099 <= float(lines[1]) < 5
    assert lines[2] == "true"


@pytest.mark.spec("time.cache.refresh")
def test_clock_refreshed_after_yield(server):
    """time.cache.refresh: after ngx.receive waited 300 ms for the client, ngx.now() has
    advanced by at least 0.29 s without any ngx.update_time() call."""
    srv = server(tcp=script_tcp(), files={"conf/t.lua": START_LUA + PRELUDE + (
        "local a = ngx.now()\n"
        "ngx.say('ready')\n"
        "local data = ngx.receive(1)\n"
        "ngx.say(tostring(data), ' ', string.format('%.3f', ngx.now() - a))\n")})
    c = srv.connect().start()
    assert c.recv_line() == b"ready\n"
    time.sleep(0.3)
    c.send(b"x")
    data, elapsed = c.recv_line().decode().split()
    assert data == "x"
    assert 0.29 <= float(elapsed) < 5


# -- texts of the cached clock --------------------------------------------------------------------
@pytest.mark.spec("time.utctime.format")
def test_utctime(server):
    """time.utctime.format: yyyy-mm-dd hh:mm:ss in UTC, the second of ngx.time()."""
    lines = run(server, "ngx.say(ngx.utctime()) ngx.say(ngx.time())")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", lines[0])
    assert lines[0] == time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(lines[1])))


@pytest.mark.spec("time.localtime.format", "time.today.format")
@pytest.mark.parametrize("tz, offset", [("XST-5:30", 19800), ("XST+3", -10800), ("UTC0", 0)])
def test_localtime_and_today_follow_tz(server, monkeypatch, tz, offset):
    """time.localtime.format: yyyy-mm-dd hh:mm:ss in the zone of the process's TZ.
    time.today.format: the local date, the first 10 bytes of ngx.localtime()."""
    monkeypatch.setenv("TZ", tz)
    lines = run(server, "ngx.say(ngx.localtime()) ngx.say(ngx.today()) ngx.say(ngx.time())")
    want = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(lines[2]) + offset))
    assert lines[0] == want
    assert lines[1] == want[:10]


# -- ngx.tcp_time ------------------------------------------------------------------------------------
@pytest.mark.spec("time.tcp_time.format")
def test_tcp_time_format(server):
    """time.tcp_time.format: IMF-fixdate in UTC with English names, 29 bytes; the seed's
    example ngx.tcp_time(1290079655) is "Thu, 18 Nov 2010 11:27:35 GMT"."""
    rng = random.Random(1)
    values = [1290079655, 0, 784111777] + [rng.randrange(0, 2**32) for _ in range(50)]
    lines = run(server, "os.setlocale('') " + say_each("ngx.tcp_time(v)", values))
    assert lines[0] == "Thu, 18 Nov 2010 11:27:35 GMT"
    assert lines == [email.utils.formatdate(v, usegmt=True) for v in values]
    assert all(len(line) == 29 for line in lines)


@pytest.mark.spec("time.tcp_time.range")
def test_tcp_time_range(server):
    """time.tcp_time.range: years 1..9999, negative times and times past 2038."""
    values = [HTTP_MIN, HTTP_MAX, -1, 2**31 - 1, 2**31, 2**32, 4102444800, -2208988800,
              32503680000]
    rng = random.Random(2)
    values += [rng.randrange(HTTP_MIN, HTTP_MAX + 1) for _ in range(50)]
    lines = run(server, say_each("ngx.tcp_time(v)", values))
    assert lines[:5] == ["Mon, 01 Jan 0001 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
                         "Wed, 31 Dec 1969 23:59:59 GMT", "Tue, 19 Jan 2038 03:14:07 GMT",
                         "Tue, 19 Jan 2038 03:14:08 GMT"]
    assert lines == [http_date(v) for v in values]


@pytest.mark.spec("time.tcp_time.leap")
def test_tcp_time_leap_years(server):
    """time.tcp_time.leap: the Gregorian rule (every 4th year, not centuries unless /400)."""
    values = []
    for year in (1600, 1700, 1900, 1970, 1972, 1999, 2000, 2004, 2024, 2100, 2400, 9996):
        start = calendar.timegm((year, 2, 28, 0, 0, 0))
        values += [start + 86399, start + 86400, start + 2 * 86400,
                   calendar.timegm((year, 12, 31, 23, 59, 59))]
    lines = run(server, say_each("ngx.tcp_time(v)", values))
    assert lines == [http_date(v) for v in values]
    text = "\n".join(lines)
    assert "Tue, 29 Feb 2000 00:00:00 GMT" in text and "Mon, 01 Mar 2100 00:00:00 GMT" in text
    assert "29 Feb 1900" not in text and "29 Feb 2100" not in text


@pytest.mark.spec("time.tcp_time.fraction")
def test_tcp_time_floors_fractions(server):
    """time.tcp_time.fraction: the second containing the instant (floor)."""
    values = ["1290079655.9", "1290079655.0001", "-0.5", "-1.5", "0.999", "-0.0001"]
    lines = run(server, say_each("ngx.tcp_time(v)", values))
    assert lines == [http_date(v) for v in (1290079655, 1290079655, -1, -2, 0, -1)]


@pytest.mark.spec("time.tcp_time.argerror")
def test_tcp_time_argument_errors(server):
    """time.tcp_time.argerror: numeric strings convert, extra arguments are ignored, other
    types and out-of-range numbers raise with luaL's message."""
    calls = ["ngx.tcp_time('x')", "ngx.tcp_time()", "ngx.tcp_time(nil)", "ngx.tcp_time(true)",
             "ngx.tcp_time({})", "ngx.tcp_time('1290079655')", "ngx.tcp_time(0, 'extra')",
             "ngx.tcp_time(253402300800)", "ngx.tcp_time(-62135596801)",
             "ngx.tcp_time(0/0)", "ngx.tcp_time(1/0)", "ngx.tcp_time(-1/0)"]
    script = "".join("perr(function() local r = %s ngx.say(r) end)\n" % c for c in calls)
    lines = run(server, script)
    bad = "bad argument #1 to 'tcp_time' "
    want = [bad + "(number expected, got string)", bad + "(number expected, got no value)",
            bad + "(number expected, got nil)", bad + "(number expected, got boolean)",
            bad + "(number expected, got table)"]
    for line, end in zip(lines, want):
        assert line.endswith(end), (line, end)
    # a successful call says its result, then "no error"
    assert lines[5:9] == ["Thu, 18 Nov 2010 11:27:35 GMT", "no error",
                          "Thu, 01 Jan 1970 00:00:00 GMT", "no error"]
    for line in lines[9:]:
        assert line.endswith(bad + "(time out of range)"), line
    assert len(lines) == 14


# -- ngx.parse_tcp_time -------------------------------------------------------------------------------
def rfc850(sec):
    d = EPOCH + datetime.timedelta(seconds=sec)
    return "%s, %02d-%s-%02d %02d:%02d:%02d GMT" % (
        WDAY_LONG[d.weekday()], d.day, MON[d.month - 1], d.year % 100, d.hour, d.minute,
        d.second)


def asctime(sec):
    d = EPOCH + datetime.timedelta(seconds=sec)
    return "%s %s %2d %02d:%02d:%02d %04d" % (
        WDAY[d.weekday()], MON[d.month - 1], d.day, d.hour, d.minute, d.second, d.year)


def parse_all(server, texts):
    return run(server, say_each("ngx.parse_tcp_time(v)", [lua_str(t) for t in texts]))


@pytest.mark.spec("time.parse.forms")
def test_parse_three_forms(server):
    """time.parse.forms: IMF-fixdate, RFC 850 and asctime forms all parse."""
    texts = ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
             "Sun Nov  6 08:49:37 1994", "Sun Nov 06 08:49:37 1994"]
    rng = random.Random(3)
    secs = [rng.randrange(0, calendar.timegm((2069, 12, 31, 23, 59, 59))) for _ in range(30)]
    for s in secs:
        texts += [http_date(s), rfc850(s), asctime(s)]
    lines = parse_all(server, texts)
    assert lines[:4] == ["784111777"] * 4
    assert lines[4:] == [str(s) for s in secs for _ in range(3)]


@pytest.mark.spec("time.parse.rfc850_year")
def test_parse_rfc850_two_digit_years(server):
    """time.parse.rfc850_year: 00..69 -> 2000..2069, 70..99 -> 1970..1999."""
    texts = ["Thursday, 01-Jan-70 00:00:00 GMT", "Wednesday, 31-Dec-69 23:59:59 GMT",
             "Saturday, 01-Jan-00 00:00:00 GMT", "Friday, 31-Dec-99 23:59:59 GMT"]
    want = [0, calendar.timegm((2069, 12, 31, 23, 59, 59)), 946684800,
            calendar.timegm((1999, 12, 31, 23, 59, 59))]
    assert parse_all(server, texts) == [str(w) for w in want]


@pytest.mark.spec("time.parse.roundtrip")
def test_parse_round_trip(server):
    """time.parse.roundtrip: parse_tcp_time(tcp_time(sec)) == floor(sec) over the whole
    range, negative values included."""
    script = ("math.randomseed(11)\n"
              "local fails = 0\n"
              "for i = 1, 20000 do\n"
              "  local t = math.random(%d, %d) + (i %% 2) * 0.5\n"
              "  if ngx.parse_tcp_time(ngx.tcp_time(t)) ~= math.floor(t) then\n"
              "    fails = fails + 1 end\n"
              "end\n"
              "ngx.say(fails)\n" % (HTTP_MIN, HTTP_MAX - 1)
              + say_each("ngx.parse_tcp_time(ngx.tcp_time(v))",
                         [HTTP_MIN, HTTP_MAX, -1, 0, 2**31, 4102444800]))
    lines = run(server, script)
    assert lines == ["0", str(HTTP_MIN), str(HTTP_MAX), "-1", "0", str(2**31), "4102444800"]


@pytest.mark.spec("time.parse.weekday")
def test_parse_ignores_wrong_weekday(server):
    """time.parse.weekday: a well-spelled but wrong day name does not reject the date."""
    texts = ["Mon, 18 Nov 2010 11:27:35 GMT", "Sunday, 18-Nov-10 11:27:35 GMT",
             "Fri Nov 18 11:27:35 2010"]
    assert parse_all(server, texts) == ["1290079655"] * 3


PARSE_REJECTS = [
    b"", b" Thu, 18 Nov 2010 11:27:35 GMT", b"Thu, 18 Nov 2010 11:27:35 GMT ",
    b"Thu, 18 Nov 2010 11:27:35 GMT\r\n", b"Thu, 18 Nov 2010 11:27:35 GMT\0",
    b"Thu, 18 Nov 2010 11:27:35 GMT GMT", b"Thu, 18 Nov 2010 11:27:35 UTC",
    b"Thu, 18 Nov 2010 11:27:35 +0000", b"Thu, 18 Nov 2010 11:27:35",
    b"Thu, 18 Nov 2010 11:27:35 gmt", b"Thx, 18 Nov 2010 11:27:35 GMT",
    b"THU, 18 Nov 2010 11:27:35 GMT", b"Thursday, 18 Nov 2010 11:27:35 GMT",
    b"Thu, 18 NOV 2010 11:27:35 GMT", b"Thu, 18 Nox 2010 11:27:35 GMT",
    b"Thu, 18 Nvv 2010 11:27:35 GMT", b"Thu, 18 November 2010 11:27:35 GMT",
    b"Thu, 8 Nov 2010 11:27:35 GMT", b"Thu, 18 Nov 10 11:27:35 GMT",
    b"Thu, 18 Nov 02010 11:27:35 GMT", b"Thu, 18 Nov 2010 1:27:35 GMT",
    b"Thu, 18 Nov 2010 11:27 GMT", b"Thu, 18 Nov 2010 11.27.35 GMT",
    b"Thu,18 Nov 2010 11:27:35 GMT", b"Thu, 18  Nov 2010 11:27:35 GMT",
    b"Thu, 18-Nov-2010 11:27:35 GMT", b"Thu, 00 Nov 2010 11:27:35 GMT",
    b"Thu, 31 Nov 2010 11:27:35 GMT", b"Thu, 32 Dec 2010 11:27:35 GMT",
    b"Mon, 29 Feb 2010 00:00:00 GMT", b"Thu, 29 Feb 1900 00:00:00 GMT",
    b"Mon, 29 Feb 2100 00:00:00 GMT", b"Thu, 18 Nov 2010 24:00:00 GMT",
    b"Thu, 18 Nov 2010 11:60:35 GMT", b"Thu, 31 Dec 2016 23:59:60 GMT",
    b"Thu, 18 Nov 0000 11:27:35 GMT", b"Thu, 18 Nov -010 11:27:35 GMT",
    b"Sun, 06-Nov-94 08:49:37 GMT", b"Sunday, 06-Nov-1994 08:49:37 GMT",
    b"Sunday, 06 Nov 94 08:49:37 GMT", b"Sunday, 06-Nov-94 08:49:37",
    b"Sunday, 06-Nov-94 08:49:37 UTC", b"Sunday, 31-Feb-94 08:49:37 GMT",
    b"Sonday, 06-Nov-94 08:49:37 GMT", b"sunday, 06-Nov-94 08:49:37 GMT",
    b"Sun Nov 6 08:49:37 1994", b"Sun Nov  6 08:49:37 94", b"Sun Nov  6 08:49:37 1994 ",
    b"Sun Nov  6 08:49:37 1994 GMT", b"Sun, Nov  6 08:49:37 1994",
    b"Sunday Nov  6 08:49:37 1994", b"Sun Nov 31 08:49:37 1994",
    b"Sun Nov  0 08:49:37 1994", b"Sun Nov  6 25:49:37 1994", b"1290079655",
    b"2010-11-18T11:27:35Z", b"Thu, 18 Nov 2010 11:27:35 GMT\xff",
]


@pytest.mark.spec("time.parse.reject")
def test_parse_rejects_malformed(server):
    """time.parse.reject: anything but exactly one of the three forms gives nil."""
    lines = parse_all(server, PARSE_REJECTS)
    assert len(lines) == len(PARSE_REJECTS)
    accepted = [t for t, line in zip(PARSE_REJECTS, lines) if line != "nil"]
    assert accepted == []


@pytest.mark.spec("time.parse.argerror")
def test_parse_argument_errors(server):
    """time.parse.argerror: non-string, non-number arguments raise; numbers give nil."""
    calls = ["ngx.parse_tcp_time()", "ngx.parse_tcp_time(nil)", "ngx.parse_tcp_time(false)",
             "ngx.parse_tcp_time({})"]
    script = "".join("perr(function() local r = %s ngx.say(r) end)\n" % c for c in calls)
    script += "ngx.say(tostring(ngx.parse_tcp_time(1290079655)))\n"
    lines = run(server, script)
    bad = "bad argument #1 to 'parse_tcp_time' (string expected, got %s)"
    for line, typ in zip(lines, ["no value", "nil", "boolean", "table"]):
        assert line.endswith(bad % typ), line
    assert lines[4:] == ["nil"]
