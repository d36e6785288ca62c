"""SPEC.md §6.6 String and digest helpers, seen through what a script prints.

Each case runs a Lua chunk in process_by_lua_file that says results (binary ones in hex) and
compares them with hashlib, hmac, base64 and zlib, plus the RFC known-answer vectors. Error
cases print the message pcall caught and compare its end ("chunk:line: " comes first).
"""
import base64
import pathlib
import hashlib
import hmac
import random
import zlib

import pytest

from tcplua_harness.cases import PERR_LUA, lua_str, said_lines, serve
from tcplua_harness.client import START_LUA

# hex(s): lowercase hex of a binary string, or "nil"; perr(f): says the error f raised.
PRELUDE = r"""
local function hex(s)
    if s == nil then return "nil" end
    return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end))
end""" + PERR_LUA

NAMES = ["encode_base64", "decode_base64", "md5", "md5_bin", "sha1_bin", "crc32_short",
         "crc32_long", "hmac_sha1"]


def run(server, script, init=None):
    """cases.said_lines for PRELUDE + script: the lines one connection receives, as latin-1
    (`init` runs as init_by_lua_file unless None). The script begins with START_LUA, which
    consumes the byte the client sends first (the 2015 module starts a script on it)."""
    return said_lines(server, START_LUA + PRELUDE + script, init)


def say_each(expr, args):
    """Lua that says `expr` once per argument list; `a`, `b` are bound to its items."""
    out = []
    for a in args:
        a = a if isinstance(a, tuple) else (a,)
        binds = " ".join("local %s = %s" % (n, v) for n, v in zip("ab", a))
        out.append("do %s ngx.say(%s) end\n" % (binds, expr))
    return "".join(out)


def samples(seed, count=40, maxlen=300):
    rng = random.Random(seed)
    return [bytes(rng.randrange(256) for _ in range(rng.randrange(maxlen)))
            for _ in range(count)]


@pytest.mark.spec("string.api.present")
def test_functions_present_in_both_contexts(server):
    """string.api.present: the eight helpers exist in process_by_lua* and init_by_lua*."""
    names = "{%s}" % ", ".join('"%s"' % n for n in NAMES)
    init = ("INIT_TYPES = {} for _, k in ipairs(%s) do INIT_TYPES[k] = type(ngx[k]) end\n"
            "INIT_MD5 = ngx.md5('abc')" % names)
    script = ("for _, k in ipairs(%s) do ngx.say(k, ' ', type(ngx[k]), ' ', INIT_TYPES[k]) end\n"
              "ngx.say(INIT_MD5)" % names)
    assert run(server, script, init=init) == (
        ["%s function function" % n for n in NAMES] + ["900150983cd24fb0d6963f7d28e17f72"])


@pytest.mark.spec("string.args.bytes")
def test_arguments_are_exact_bytes_and_numbers_convert(server):
    """string.args.bytes: strings are taken byte for byte (NUL, high bytes), numbers as
    tostring() makes them, extra arguments ignored."""
    every = bytes(range(256)) * 2
    script = ("local s = %s\n" % lua_str(every) +
              "ngx.say(ngx.md5(s)) ngx.say(hex(ngx.sha1_bin(s))) ngx.say(ngx.crc32_long(s))\n"
              "ngx.say(ngx.encode_base64(s)) ngx.say(ngx.decode_base64(ngx.encode_base64(s)) == s)\n"
              "ngx.say(ngx.md5(12) == ngx.md5('12')) ngx.say(ngx.md5(0.5) == ngx.md5('0.5'))\n"
              "ngx.say(ngx.encode_base64(123)) ngx.say(ngx.crc32_short(123456789))\n"
              "ngx.say(hex(ngx.hmac_sha1(1, 2)) == hex(ngx.hmac_sha1('1', '2')))\n"
              "ngx.say(ngx.md5('abc', 'ignored')) ngx.say(ngx.encode_base64('foob', false, 1))\n")
    lines = run(server, script)
    assert lines == [hashlib.md5(every).hexdigest(), hashlib.sha1(every).hexdigest(),
                     str(zlib.crc32(every)), base64.b64encode(every).decode(), "true",
                     "true", "true", "MTIz", "3421780262", "true",
                     "900150983cd24fb0d6963f7d28e17f72", "Zm9vYg=="]


@pytest.mark.spec("string.args.nil")
def test_nil_counts_as_empty_string(server):
    """string.args.nil: nil or no argument is "" for the encoders and digests."""
    script = ("ngx.say(ngx.md5()) ngx.say(ngx.md5(nil)) ngx.say(hex(ngx.md5_bin(nil)))\n"
              "ngx.say(hex(ngx.sha1_bin())) ngx.say('[' .. ngx.encode_base64(nil) .. ']')\n"
              "ngx.say('[' .. ngx.decode_base64() .. ']') ngx.say(ngx.encode_base64(nil, true) == '')\n")
    md5_empty, sha1_empty = hashlib.md5(b"").hexdigest(), hashlib.sha1(b"").hexdigest()
    assert run(server, script) == [md5_empty, md5_empty, md5_empty, sha1_empty, "[]", "[]",
                                   "true"]


@pytest.mark.spec("string.args.error")
def test_argument_type_errors(server):
    """string.args.error: other types (and nil for crc32_*, hmac_sha1) raise luaL's
    "bad argument #N to 'NAME' (string expected, got TYPE)"."""
    cases = [
        ("ngx.md5({})", 1, "md5", "table"), ("ngx.md5(true)", 1, "md5", "boolean"),
        ("ngx.md5_bin(print)", 1, "md5_bin", "function"),
        ("ngx.sha1_bin(false)", 1, "sha1_bin", "boolean"),
        ("ngx.encode_base64({})", 1, "encode_base64", "table"),
        ("ngx.decode_base64(true)", 1, "decode_base64", "boolean"),
        ("ngx.crc32_short(nil)", 1, "crc32_short", "nil"),
        ("ngx.crc32_long()", 1, "crc32_long", "no value"),
        ("ngx.crc32_long({})", 1, "crc32_long", "table"),
        ("ngx.hmac_sha1('k')", 2, "hmac_sha1", "no value"),
        ("ngx.hmac_sha1(nil, 'x')", 1, "hmac_sha1", "nil"),
        ("ngx.hmac_sha1('k', {})", 2, "hmac_sha1", "table"),
    ]
    script = "".join("perr(function() local r = %s ngx.say(r) end)\n" % c[0] for c in cases)
    lines = run(server, script)
    assert len(lines) == len(cases)
    for line, (_, n, name, typ) in zip(lines, cases):
        want = "bad argument #%d to '%s' (string expected, got %s)" % (n, name, typ)
        assert line.endswith(want), (line, want)


RFC4648 = [(b"", "", ""), (b"f", "Zg==", "Zg"), (b"fo", "Zm8=", "Zm8"), (b"foo", "Zm9v", "Zm9v"),
           (b"foob", "Zm9vYg==", "Zm9vYg"), (b"fooba", "Zm9vYmE=", "Zm9vYmE"),
           (b"foobar", "Zm9vYmFy", "Zm9vYmFy")]


@pytest.mark.spec("string.base64.encode")
def test_encode_base64(server):
    """string.base64.encode: RFC 4648 §4 with padding, no line breaks (long input too)."""
    data = [v[0] for v in RFC4648] + [b"\xfb\xff\xbf", b"\x00"] + samples(1) + [b"x" * 5000]
    lines = run(server, say_each("'[' .. ngx.encode_base64(a) .. ']'", map(lua_str, data)))
    assert lines[:7] == ["[%s]" % v[1] for v in RFC4648]
    assert lines == ["[%s]" % base64.b64encode(d).decode() for d in data]


@pytest.mark.spec("string.base64.no_padding")
def test_encode_base64_no_padding(server):
    """string.base64.no_padding: true drops '=', false/nil pad, other types raise."""
    data = [v[0] for v in RFC4648] + samples(2, count=20)
    script = say_each("'[' .. ngx.encode_base64(a, true) .. ']'", map(lua_str, data))
    script += ("ngx.say(ngx.encode_base64('f', false)) ngx.say(ngx.encode_base64('f', nil))\n"
               "perr(function() local r = ngx.encode_base64('f', 1) ngx.say(r) end)\n"
               "perr(function() local r = ngx.encode_base64('f', 'yes') ngx.say(r) end)\n"
               "perr(function() local r = ngx.encode_base64('f', {}) ngx.say(r) end)\n")
    lines = run(server, script)
    n = len(data)
    assert lines[:7] == ["[%s]" % v[2] for v in RFC4648]
    assert lines[:n] == ["[%s]" % base64.b64encode(d).decode().rstrip("=") for d in data]
    assert lines[n:n + 2] == ["Zg==", "Zg=="]
    bad = "bad argument #2 to 'encode_base64' (boolean expected, got %s)"
    for line, typ in zip(lines[n + 2:], ["number", "string", "table"]):
        assert line.endswith(bad % typ), line
    assert len(lines) == n + 5


@pytest.mark.spec("string.base64.decode")
def test_decode_base64(server):
    """string.base64.decode: padded or unpadded input; leftover bits ignored."""
    texts = [v[1] for v in RFC4648] + [v[2] for v in RFC4648] + ["Zh==", "Zh", "Zm9=", "+/+/"]
    data = samples(3)
    texts += [base64.b64encode(d).decode() for d in data]
    texts += [base64.b64encode(d).decode().rstrip("=") for d in data]
    lines = run(server, say_each("hex(ngx.decode_base64(a))", map(lua_str, texts)))
    want = [v[0] for v in RFC4648] * 2 + [b"f", b"f", b"fo", b"\xfb\xff\xbf"] + data + data
    assert lines == [w.hex() for w in want]


BASE64_INVALID = [
    b"Z", b"Zm9vY", b"Zg=", b"Zg===", b"Z===", b"====", b"=", b"==", b"Zm9v=", b"Zm9vY===",
    b"Zg==Zg==", b"Zm8=Zm8=", b"Z=g=", b"Zg==\n", b" Zg==", b"Zm 9v", b"Zm9v\r\n", b"Zm9v\n",
    b"Zm-_", b"Zm9v!", b"Zm\x00v", b"Zm9v\x00", b"Zm9v\xc3\xa9", b"Zg==\x00", b"Zm9v.",
]


@pytest.mark.spec("string.base64.invalid")
def test_decode_base64_invalid(server):
    """string.base64.invalid: bytes outside the alphabet, misplaced or surplus '=', data
    after padding, or one leftover character give nil (no error)."""
    lines = run(server, say_each("select('#', ngx.decode_base64(a)) .. tostring(ngx.decode_base64(a))",
                                 map(lua_str, BASE64_INVALID)))
    assert len(lines) == len(BASE64_INVALID)
    accepted = [t for t, line in zip(BASE64_INVALID, lines) if line != "1nil"]
    assert accepted == []


RFC1321 = [
    (b"", "d41d8cd98f00b204e9800998ecf8427e"),
    (b"a", "0cc175b9c0f1b6a831c399e269772661"),
    (b"abc", "900150983cd24fb0d6963f7d28e17f72"),
    (b"message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
    (b"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
    (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "d174ab98d277d9f5a5611c2c9f419d9f"),
    (b"1234567890" * 8, "57edf4a22be3c955ac49da2e2107b67a"),
]


@pytest.mark.spec("string.md5")
def test_md5_and_md5_bin(server):
    """string.md5: RFC 1321 test suite; md5 is lowercase hex, md5_bin the 16 raw bytes."""
    data = [v[0] for v in RFC1321] + samples(4)
    script = say_each("ngx.md5(a), hex(ngx.md5_bin(a)), #ngx.md5_bin(a)", map(lua_str, data))
    lines = run(server, script)
    assert lines[:7] == ["%s%s16" % (v[1], v[1]) for v in RFC1321]
    assert lines == [hashlib.md5(d).hexdigest() * 2 + "16" for d in data]


RFC3174 = [
    ("'abc'", "a9993e364706816aba3e25717850c26c9cd0d89d"),
    ("'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'",
     "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
    ("string.rep('a', 1000000)", "34aa973cd4c4daa4f61eeb2bdbad27316534016f"),
    ("string.rep('0123456701234567012345670123456701234567012345670123456701234567', 10)",
     "dea356a2cddd90c7a7ecedc5ebb563934f460452"),
]


@pytest.mark.spec("string.sha1_bin")
def test_sha1_bin(server):
    """string.sha1_bin: RFC 3174 test cases (one million 'a' included), 20 raw bytes."""
    data = samples(5)
    script = say_each("hex(ngx.sha1_bin(a)), #ngx.sha1_bin(a)", [v[0] for v in RFC3174])
    script += say_each("hex(ngx.sha1_bin(a))", map(lua_str, data))
    lines = run(server, script)
    assert lines[:4] == [v[1] + "20" for v in RFC3174]
    assert lines[4:] == [hashlib.sha1(d).hexdigest() for d in data]


@pytest.mark.spec("string.crc32")
def test_crc32_short_and_long(server):
    """string.crc32: both names give zlib's CRC-32 as a non-negative integer;
    "123456789" gives 0xCBF43926."""
    data = [b"123456789", b"", b"The quick brown fox jumps over the lazy dog"] + samples(6) \
        + [b"\xff" * 70000]
    lines = run(server, say_each("ngx.crc32_short(a), ' ', ngx.crc32_long(a)",
                                 map(lua_str, data)))
    assert lines[0] == "3421780262 3421780262"
    assert lines[1] == "0 0"
    assert lines == ["%d %d" % (zlib.crc32(d), zlib.crc32(d)) for d in data]


RFC2202 = [
    ("string.rep('\\011', 20)", "'Hi There'", "b617318655057264e28bc0b6fb378c8ef146be00"),
    ("'Jefe'", "'what do ya want for nothing?'", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
    ("string.rep('\\170', 20)", "string.rep('\\221', 50)",
     "125d7342b9ac11cd91a39af48aa17b4f63f175d3"),
    (lua_str(bytes(range(1, 26))), "string.rep('\\205', 50)",
     "4c9007f4026250c6bc8414f9bf50c86c2d7235da"),
    ("string.rep('\\012', 20)", "'Test With Truncation'",
     "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"),
    ("string.rep('\\170', 80)", "'Test Using Larger Than Block-Size Key - Hash Key First'",
     "aa4ae5e15272d00e95705637ce8a3b55ed402112"),
    ("string.rep('\\170', 80)",
     "'Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data'",
     "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"),
]


@pytest.mark.spec("string.hmac_sha1")
def test_hmac_sha1(server):
    """string.hmac_sha1: RFC 2202 §3 test cases, then random keys of every size class."""
    rng = random.Random(7)
    pairs = [(bytes(rng.randrange(256) for _ in range(n)), bytes(rng.randrange(256)
              for _ in range(rng.randrange(200)))) for n in (0, 1, 20, 63, 64, 65, 200, 1000)]
    script = say_each("hex(ngx.hmac_sha1(a, b)), #ngx.hmac_sha1(a, b)",
                      [(k, d) for k, d, _ in RFC2202])
    script += say_each("hex(ngx.hmac_sha1(a, b))", [(lua_str(k), lua_str(d)) for k, d in pairs])
    lines = run(server, script)
    assert lines[:7] == [v[2] + "20" for v in RFC2202]
    assert lines[7:] == [hmac.new(k, d, hashlib.sha1).hexdigest() for k, d in pairs]


# -- escape_uri / unescape_uri: the probe file that recorded ngx_lua, run here ----------------
REFERENCE = pathlib.Path(__file__).parent / "reference"
URI_PROBE = (REFERENCE / "uri_probe.lua").read_bytes()
URI_SCRIPT = 'dofile("@PREFIX@/conf/uri_probe.lua").run(function(line) ngx.say(line) end)\n'


def uri_record():
    """{probe name: line} of uri_ngx_lua.txt (ngx_lua 0.10.23's results)."""
    lines = (REFERENCE / "uri_ngx_lua.txt").read_bytes().decode("latin-1").splitlines()
    return dict(line.split(" => ", 1) for line in lines if " => " in line)


def uri_probe(server, selected):
    """Runs uri_probe.lua in a session; returns (got, want): {name: result} of the probes
    whose name `selected` accepts, in this implementation and in the record."""
    srv = serve(server, START_LUA + URI_SCRIPT, files={"conf/uri_probe.lua": URI_PROBE})
    out = srv.connect().start().recv_until_close().decode("latin-1").splitlines()
    assert out[-1:] == ["# end"], out[-5:]
    got = dict(line.split(" => ", 1) for line in out if " => " in line)
    want = {k: v for k, v in uri_record().items() if selected(k)}
    assert want, "no probe selected"
    return {k: got.get(k, "<missing>") for k in want}, want


URI_ARGS = ("escape.arg.", "unescape.arg.", "escape.extra_args_ignored",
            "unescape.extra_args_ignored")


def is_uri_args(name):
    return name.startswith(URI_ARGS)


@pytest.mark.spec("string.uri.present")
def test_uri_functions_present_in_both_contexts(server):
    """string.uri.present: escape_uri and unescape_uri are functions in process_by_lua* and
    init_by_lua*, and return exactly one value, a string."""
    init = ("INIT = type(ngx.escape_uri) .. ' ' .. type(ngx.unescape_uri) .. ' ' .. "
            "ngx.escape_uri('a b') .. ' ' .. ngx.unescape_uri('a%20b')")
    script = ("ngx.say(INIT)\n"
              "ngx.say(select('#', ngx.escape_uri('a b')), ' ', select('#', ngx.unescape_uri('%41')),"
              " ' ', type(ngx.escape_uri(1)), ' ', type(ngx.unescape_uri(nil)))\n")
    assert run(server, script, init=init) == ["function function a%20b a b", "1 1 string string"]
    got, want = uri_probe(server, lambda n: n in ("type", "escape.returns_one_value",
                                                  "unescape.returns_one_value"))
    assert got == want


@pytest.mark.spec("string.uri.args")
def test_uri_argument_conversion(server):
    """string.uri.args: nil, false or no argument is ""; other values go through the
    original tostring; no error for the first argument; extra arguments are ignored."""
    got, want = uri_probe(server, is_uri_args)
    assert got == want


@pytest.mark.spec("string.escape_uri")
def test_escape_uri_matches_ngx_lua(server):
    """string.escape_uri: every byte but A-Z a-z 0-9 - . _ ~ ! * ' ( ) becomes %XX with
    uppercase hex digits (all 256 bytes, UTF-8, long input)."""
    got, want = uri_probe(server, lambda n: n.startswith("escape.") and not is_uri_args(n)
                          and not n.startswith("escape.type"))
    assert got == want


@pytest.mark.spec("string.escape_uri.type")
def test_escape_uri_type_matches_ngx_lua(server):
    """string.escape_uri.type: type 0..6 (truncated) selects the escaped set; other numbers
    raise '"type" N out of range', other types '"type" is not a number', at the caller's
    caller's position."""
    got, want = uri_probe(server, lambda n: n.startswith("escape.type"))
    assert got == want


@pytest.mark.spec("string.escape_uri.type")
def test_escape_uri_type_nan_raises(server):
    """string.escape_uri.type: a NaN type is out of range (ngx_lua's worker crashes)."""
    script = ("perr(function() local r = ngx.escape_uri('a', 0/0) ngx.say(r) end)\n"
              "perr(function() local r = ngx.escape_uri('a', 7) ngx.say(r) end)\n")
    lines = run(server, script)
    assert len(lines) == 2
    assert lines[0].endswith(' out of range') and '"type" ' in lines[0] and "nan" in lines[0]
    assert lines[1].endswith('"type" 7 out of range'), lines


@pytest.mark.spec("string.unescape_uri")
def test_unescape_uri_matches_ngx_lua(server):
    """string.unescape_uri: %XX in either case is the byte, '+' a space, a '%' without two
    hex digits stays and scanning resumes after it."""
    got, want = uri_probe(server, lambda n: n.startswith("unescape.") and not is_uri_args(n))
    assert got == want


@pytest.mark.spec("string.escape_uri", "string.unescape_uri")
def test_uri_escape_round_trips(server):
    """string.escape_uri, string.unescape_uri: unescape_uri(escape_uri(s)) == s for any bytes
    (the default type escapes '+')."""
    data = samples(8) + [bytes(range(256)) * 3, b"a+b %2B"]
    lines = run(server, say_each("ngx.escape_uri(a), ' ', hex(ngx.unescape_uri(ngx.escape_uri(a)))",
                                 map(lua_str, data)))
    keep = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!*'()")
    want = ["".join(chr(b) if b in keep else "%%%02X" % b for b in d) + " " + d.hex()
            for d in data]
    assert lines == want


MEMCACHED = pathlib.Path("/usr/share/lua/5.1/nginx/memcached.lua")


@pytest.mark.spec("string.escape_uri", "string.unescape_uri")
def test_lua_resty_memcached_keys(server):
    """string.escape_uri, string.unescape_uri: Debian's lua-resty-memcached, unchanged,
    escapes keys with escape_uri and unescapes those of a reply with unescape_uri (over a
    stand-in for ngx.socket.tcp that records the request and plays a reply)."""
    if not MEMCACHED.exists():
        pytest.skip("Debian package lua-nginx-memcached (lua-resty-memcached) is not installed")
    script = r"""
local sent, reply = {}, {"VALUE user%3A42%20a%2F%C3%A9 0 1", "v", "\r\n", "END"}
local sock = {}
function sock:settimeout() end
function sock:connect() return 1 end
function sock:send(data)
    sent[#sent + 1] = type(data) == "table" and table.concat(data) or data
    return #sent[#sent]
end
function sock:receive() return table.remove(reply, 1) end  -- a line, then len bytes, then CRLF
ngx.socket = ngx.socket or {}
ngx.socket.tcp = function() return sock end
package.path = "/usr/share/lua/5.1/?.lua;" .. package.path
local memcached = require "nginx.memcached"
local m = assert(memcached:new())
assert(m:connect("127.0.0.1", 11211))
local res = assert(m:get({"user:42 a/\195\169"}))  -- a table of keys: multi get
for k, v in pairs(res) do ngx.say("key ", k, " = ", v[1]) end
ngx.say((sent[1]:gsub("\r\n", "<CRLF>")))
"""
    lines = run(server, script)
    assert lines == ["key user:42 a/\xc3\xa9 = v", "get user%3A42%20a%2F%C3%A9<CRLF>"], lines
