-- Probes of ngx.re.match / find / gmatch / sub / gsub in OpenResty's ngx_lua (Debian 12
-- packages: lua-resty-core's FFI versions in resty/core/regex.lua over the module's PCRE
-- binding), run by regex_probe.sh; tcplua's conformance cases (conformance/test_regex.py)
-- run the same file and compare. Each probe prints one line:
--
--   NAME => N|v1|v2|...      N = select('#', ...) of the call's results, then each result
--   NAME => ERR: message     the call raised (caught with pcall)
--
-- Results are shown as: strings in double quotes (bytes outside 0x20-0x7e, '"' and '\' as
-- escapes: \0 \n \" \\ \xHH; no truncation); numbers, nil and booleans with tostring;
-- tables as {k=v,...} with the number keys first in numeric order, then the string keys
-- sorted (a key that is not an identifier as ["key"]), values formatted the same way
-- (recursively: duplicate names under "D" hold tables); other values as their type.
-- Addresses (0x...) are replaced by 0xADDR. gmatch is probed through gm(), which returns
-- what gmatch returned when that is not an iterator (nil, err), and otherwise the table of
-- every match the iterator gave, then <the results of the call that ended it> and <the
-- results of one more call after that> (each as N|v1|... or ERR: message, in <>).
--
-- Each probe is a Lua chunk compiled with the chunk name "=probe": an expression list whose
-- results are packed (compiled as "return pk(...)"), or else a chunk that returns pk(...). The chunk is called by pcall, so an
-- error raised at the caller's level of a function that the chunk calls reads "probe:1:".

local M = {}

local sfmt, concat, sort = string.format, table.concat, table.sort

local function esc(s)
    return (s:gsub('[%z\1-\31"\\\127-\255]', function(c)
        if c == '"' then return '\\"' end
        if c == '\\' then return '\\\\' end
        if c == '\n' then return '\\n' end
        if c == '\0' then return '\\0' end
        return sfmt('\\x%02x', c:byte())
    end))
end

-- a value printed as it is, between < and >
local RAW = {}
local function raw(s)
    return setmetatable({ s = s }, RAW)
end

local fmt

local function fmt_table(t, depth)
    if getmetatable(t) == RAW then
        return "<" .. t.s .. ">"
    end
    if depth > 4 then
        return "{...}"
    end
    local nums, strs, others = {}, {}, {}
    for k in next, t do
        local kt = type(k)
        if kt == "number" then
            nums[#nums + 1] = k
        elseif kt == "string" then
            strs[#strs + 1] = k
        else
            others[#others + 1] = k
        end
    end
    sort(nums)
    sort(strs)
    local parts = {}
    for _, k in ipairs(nums) do
        parts[#parts + 1] = tostring(k) .. "=" .. fmt(t[k], depth + 1)
    end
    for _, k in ipairs(strs) do
        local key = k:find("^[%a_][%w_]*$") and k or "[" .. fmt(k) .. "]"
        parts[#parts + 1] = key .. "=" .. fmt(t[k], depth + 1)
    end
    if #others > 0 then
        parts[#parts + 1] = #others .. " other keys"
    end
    return "{" .. concat(parts, ",") .. "}"
end

fmt = function(v, depth)
    local t = type(v)
    if t == "string" then
        return '"' .. esc((v:gsub("0x%x+", "0xADDR"))) .. '"'
    elseif t == "number" or t == "nil" or t == "boolean" then
        return tostring(v)
    elseif t == "table" then
        return fmt_table(v, depth or 0)
    end
    return t
end

local function pk(...)
    return { n = select('#', ...), ... }
end

local function fmtpack(r)
    local parts = { tostring(r.n) }
    for i = 1, r.n do
        parts[#parts + 1] = fmt(r[i])
    end
    return concat(parts, "|")
end

local function errtext(r)
    return "ERR: " .. (type(r) == "string" and (r:gsub("0x%x+", "0xADDR"):gsub("\n", "\\n"))
                       or fmt(r))
end

-- gmatch(subj, regex, opts) driven to its end (at most `limit` matches, default 100)
local function gm(subj, regex, opts, limit)
    local it, err = ngx.re.gmatch(subj, regex, opts)
    if not it then
        return it, err
    end
    limit = limit or 100
    local matches = {}
    local last
    while true do
        local r = pk(pcall(it))
        if not r[1] then
            last = raw(errtext(r[2]))
            break
        end
        if not r[2] then
            last = raw(fmtpack({ n = r.n - 1, unpack(r, 2, r.n) }))
            break
        end
        matches[#matches + 1] = r[2]
        if #matches >= limit then
            last = raw("limit")
            break
        end
    end
    local r = pk(pcall(it))
    local again = r[1] and raw(fmtpack({ n = r.n - 1, unpack(r, 2, r.n) })) or raw(errtext(r[2]))
    return matches, last, again
end

-- the number of matches gmatch gives, and the last one's [0] (for large inputs)
local function gm_count(subj, regex, opts)
    local it, err = ngx.re.gmatch(subj, regex, opts)
    if not it then
        return it, err
    end
    local n, last = 0, nil
    while true do
        local m, e = it()
        if not m then
            return n, last, e
        end
        n, last = n + 1, m[0]
    end
end

-- match with a ctx table whose pos starts at `pos`: the results, then ctx.pos
local function mctx(subj, regex, opts, pos)
    local ctx = { pos = pos }
    local r = pk(ngx.re.match(subj, regex, opts, ctx))
    r[r.n + 1] = raw("ctx.pos=" .. fmt(ctx.pos))
    r.n = r.n + 1
    return unpack(r, 1, r.n)
end

local function fctx(subj, regex, opts, pos, nth)
    local ctx = { pos = pos }
    local r = pk(ngx.re.find(subj, regex, opts, ctx, nth))
    r[r.n + 1] = raw("ctx.pos=" .. fmt(ctx.pos))
    r.n = r.n + 1
    return unpack(r, 1, r.n)
end

-- n groups "(a)(b)..." over the first n letters
local function groups(n)
    local t = {}
    for i = 1, n do t[i] = "(" .. string.char(96 + i) .. ")" end
    return concat(t)
end

local function letters(n)
    local t = {}
    for i = 1, n do t[i] = string.char(96 + i) end
    return concat(t)
end

local function make_P(emit)
    local E = setmetatable({ pk = pk, gm = gm, gm_count = gm_count, mctx = mctx, fctx = fctx,
                             raw = raw, groups = groups, letters = letters },
                           { __index = _G })
    return function(name, code)
        local f, perr = loadstring("return pk(" .. code .. ")", "=probe")
        if not f then
            f, perr = loadstring(code, "=probe")
        end
        if not f then
            emit(name .. " => PROBE SYNTAX ERROR: " .. perr)
            return
        end
        setfenv(f, E)
        local res = pk(pcall(f))
        if not res[1] then
            emit(name .. " => " .. errtext(res[2]))
            return
        end
        local packs = {}
        for i = 2, res.n do
            packs[#packs + 1] = fmtpack(res[i])
        end
        emit(name .. " => " .. concat(packs, " ; "))
    end
end

function M.run(emit)
    local P = make_P(emit)
    local function H(title) emit("# " .. title) end

    H("presence")
    P("present.types", [[type(ngx.re), type(ngx.re.match), type(ngx.re.find), type(ngx.re.gmatch), type(ngx.re.sub), type(ngx.re.gsub)]])
    P("present.iterator_callable", [[return pk(pcall(ngx.re.gmatch("ab", "a")))]])

    H("match: captures")
    P("match.simple", [[ngx.re.match("hello, 1234", "[0-9]+")]])
    P("match.captures", [[ngx.re.match("hello, 1234", "([0-9])([0-9]+)")]])
    P("match.nomatch", [[ngx.re.match("hello", "[0-9]+")]])
    P("match.whole_subject", [[ngx.re.match("abc", "^abc$")]])
    P("match.first_of_several", [[ngx.re.match("a1b2c3", "[a-z]([0-9])")]])
    P("match.group.unmatched_middle", [[ngx.re.match("ab", "(a)(x)?(b)")]])
    P("match.group.unmatched_trailing", [[ngx.re.match("a", "(a)(x)?")]])
    P("match.group.unmatched_all_trailing", [[ngx.re.match("a", "a(x)?(y)?(z)?")]])
    P("match.group.empty_capture", [[ngx.re.match("ab", "a()b")]])
    P("match.group.nested", [[ngx.re.match("abc", "((a)(b))(c)")]])
    P("match.group.alternation_second", [[ngx.re.match("b", "(a)|(b)")]])
    P("match.group.noncapturing", [[ngx.re.match("abc", "(?:a)(b)(?:c)")]])
    P("match.group.repeated_last_wins", [[ngx.re.match("abc", "(?:(\\w))+")]])
    P("match.group.lookahead", [[ngx.re.match("abc", "b(?=(c))")]])
    P("match.group.backref", [[ngx.re.match("xabab", "(ab)\\1")]])
    P("match.group.count_is_table_size", [[#ngx.re.match("abcdef", groups(6))]])
    P("match.named.simple", [[ngx.re.match("2015-07-01", "(?<year>\\d+)-(?<month>\\d+)")]])
    P("match.named.python_syntax", [[ngx.re.match("ab", "(?P<x>a)(b)")]])
    P("match.named.quote_syntax", [[ngx.re.match("ab", "(?'x'a)b")]])
    P("match.named.unmatched", [[ngx.re.match("b", "(?<x>a)?(?<y>b)")]])
    P("match.named.mixed_with_numbered", [[ngx.re.match("abc", "(a)(?<mid>b)(c)")]])
    P("match.named.underscore_digits", [[ngx.re.match("ab", "(?<_a1>a)(?<B_2>b)")]])
    P("match.named.dup_without_D", [[ngx.re.match("b", "(?<n>a)|(?<n>b)")]])
    P("match.named.dup", [[ngx.re.match("ab", "(?<n>a)(?<n>b)", "D")]])
    P("match.named.dup_one_matched", [[ngx.re.match("b", "(?<n>a)|(?<n>b)", "D")]])
    P("match.named.dup_first_matched", [[ngx.re.match("a", "(?<n>a)|(?<n>b)", "D")]])
    P("match.named.dup_none_matched", [[ngx.re.match("z", "(?<n>x)?(?<n>y)?z", "D")]])
    P("match.named.dup_empty_capture", [[ngx.re.match("ab", "(?<n>)a(?<n>b)", "D")]])
    P("match.named.dup_and_single", [[ngx.re.match("abc", "(?<n>a)(?<m>b)(?<n>c)", "D")]])
    P("match.named.dup_D_without_dups", [[ngx.re.match("ab", "(?<x>a)(?<y>b)", "D")]])
    P("match.named.dup_inline_J", [[ngx.re.match("a", "(?J)(?<n>a)|(?<n>b)")]])
    P("match.named.dup_inline_J_second", [[ngx.re.match("b", "(?J)(?<n>a)|(?<n>b)")]])
    P("match.named.dup_inline_J_D", [[ngx.re.match("a", "(?J)(?<n>a)|(?<n>b)", "D")]])
    P("match.named.dup_branch_reset", [[ngx.re.match("b", "(?|(?<n>a)|(?<n>b))")]])

    H("match: ctx.pos")
    P("match.ctx.pos", [[mctx("abcabc", "b", "", 3)]])
    P("match.ctx.pos_1", [[mctx("abcabc", "b", "", 1)]])
    P("match.ctx.pos_nil", [[mctx("abcabc", "b", "", nil)]])
    P("match.ctx.pos_0", [[mctx("abcabc", "a", "", 0)]])
    P("match.ctx.pos_negative", [[mctx("abcabc", "a", "", -5)]])
    P("match.ctx.pos_at_end", [[mctx("abc", "c", "", 3)]])
    P("match.ctx.pos_after_end", [[mctx("abc", "", "", 4)]])
    P("match.ctx.pos_after_end_nomatch", [[mctx("abc", "c", "", 4)]])
    P("match.ctx.pos_beyond", [[mctx("abc", "", "", 5)]])
    P("match.ctx.pos_far_beyond", [[mctx("abc", "a", "", 100)]])
    P("match.ctx.pos_float", [[mctx("abcabc", "[a-c]", "", 2.7)]])
    P("match.ctx.nomatch_keeps_pos", [[mctx("abcabc", "x", "", 2)]])
    P("match.ctx.empty_match_no_advance", [[mctx("abc", "x*", "", 2)]])
    P("match.ctx.caret_not_at_pos", [[mctx("abab", "^a", "", 3)]])
    P("match.ctx.lookbehind_sees_before_pos", [[mctx("abab", "(?<=b)a", "", 2)]])
    P("match.ctx.backslash_G", [[mctx("abab", "\\Ga", "", 3)]])
    P("match.ctx.loop", [[return pk((function()
        local ctx, out = {}, {}
        while true do
            local m = ngx.re.match("1 22 333", "\\d+", "", ctx)
            if not m then break end
            out[#out + 1] = m[0] .. "@" .. ctx.pos
        end
        return table.concat(out, " ")
    end)())]])
    P("match.ctx.extra_fields_kept", [[return pk((function()
        local ctx = { pos = 2, x = 1 } ngx.re.match("aab", "a", "", ctx) return ctx end)())]])
    P("match.ctx.pos_string", [[mctx("abcabc", "b", "", "3")]])
    P("match.ctx.not_table", [[ngx.re.match("abc", "b", "", "ctx")]])
    P("match.ctx.false", [[ngx.re.match("abc", "b", "", false)]])

    H("match: res_table")
    P("match.res.returns_same_table", [[return pk((function()
        local t = {} local r = ngx.re.match("ab", "(a)b", "", nil, t) return r == t, t end)())]])
    P("match.res.reuse_shorter", [[return pk((function()
        local t = {} ngx.re.match("abc", "(a)(b)(c)", "", nil, t)
        ngx.re.match("x", "(x)", "", nil, t) return t end)())]])
    P("match.res.reuse_named", [[return pk((function()
        local t = {} ngx.re.match("ab", "(?<p>a)(?<q>b)", "", nil, t)
        ngx.re.match("b", "(?<q>b)", "", nil, t) return t end)())]])
    P("match.res.reuse_dup_appends", [[return pk((function()
        local t = {} ngx.re.match("ab", "(?<n>a)(?<n>b)", "D", nil, t)
        ngx.re.match("ab", "(?<n>a)(?<n>b)", "D", nil, t) return t end)())]])
    P("match.res.nomatch_untouched", [[return pk((function()
        local t = { "keep", [0] = "zero" } local r = ngx.re.match("abc", "x", "", nil, t)
        return r, t end)())]])
    P("match.res.foreign_keys_kept", [[return pk((function()
        local t = { foo = "bar", [7] = 7 } ngx.re.match("ab", "(a)", "", nil, t) return t end)())]])
    P("match.res.with_ctx", [[return pk((function()
        local t, ctx = {}, { pos = 2 } ngx.re.match("abab", "a(b)", "", ctx, t) return t, ctx.pos end)())]])
    P("match.res.string", [[ngx.re.match("ab", "a", "", nil, "res")]])
    P("match.res.false", [[ngx.re.match("ab", "a", "", nil, false)]])

    H("match: subjects and patterns")
    P("match.subject.number", [[ngx.re.match(12345, "3.")]])
    P("match.subject.float", [[ngx.re.match(1.5, "\\.(\\d)")]])
    P("match.subject.large_number", [[ngx.re.match(2^53, ".+")]])
    P("match.subject.nil", [[ngx.re.match(nil, "nil")]])
    P("match.subject.none", [[ngx.re.match()]])
    P("match.subject.boolean", [[ngx.re.match(true, "^t.*")]])
    P("match.subject.table", [[ngx.re.match({}, "^table: ")]])
    P("match.subject.tostring_mt", [[ngx.re.match(setmetatable({}, {__tostring = function() return "meta" end}), "e(t)")]])
    P("match.pattern.empty", [[ngx.re.match("abc", "")]])
    P("match.subject.empty", [[ngx.re.match("", "a*")]])
    P("match.subject.empty_nomatch", [[ngx.re.match("", "a")]])
    P("match.both_empty", [[ngx.re.match("", "")]])
    P("match.subject.nul", [[ngx.re.match("a\0b", "a.b")]])
    P("match.subject.nul_escape", [[ngx.re.match("a\0b", "\\x00(b)")]])
    P("match.pattern.nul_byte", [[ngx.re.match("a\0b", "a\0b"), ngx.re.match("ac", "a\0b")]])
    P("match.bytes_without_u", [[ngx.re.match("\195\169", ".")]])
    P("match.high_bytes", [[ngx.re.match("a\255\128b", "[\128-\255]+")]])
    P("match.dollar_before_final_newline", [[ngx.re.match("ab\n", "b$")]])
    P("match.dot_no_newline", [[ngx.re.match("a\nb", "a.b")]])
    P("match.backtracking_alternation", [[ngx.re.match("abcd", "a|ab|abc")]])
    P("match.lazy", [[ngx.re.match("aaa", "a+?")]])
    P("match.extra_args_ignored", [[ngx.re.match("ab", "(a)", "", nil, nil, "extra")]])
    P("match.large.100k", [[return pk((function()
        local s = ("a"):rep(100000) .. "b" local m = ngx.re.match(s, "(a+)(b)$")
        return #m[0], #m[1], m[2] end)())]])
    P("match.large.100k_ctx_end", [[return pk((function()
        local s = ("a"):rep(100000) .. "b" local ctx = { pos = 100001 }
        local m = ngx.re.match(s, "[ab]", "", ctx) return m, ctx.pos end)())]])
    P("match.large.1000_groups", [[return pk((function()
        local m = ngx.re.match(("ab"):rep(500), ("(a)(b)"):rep(500))
        return #m, m[1], m[1000], m[1001], #m[0] end)())]])

    H("find")
    P("find.simple", [[ngx.re.find("hello, 1234", "[0-9]+")]])
    P("find.nomatch", [[ngx.re.find("hello", "[0-9]+")]])
    P("find.at_start", [[ngx.re.find("abc", "a")]])
    P("find.whole", [[ngx.re.find("abc", ".+")]])
    P("find.empty_match", [[ngx.re.find("abc", "x*")]])
    P("find.empty_at_end", [[ngx.re.find("abc", "$")]])
    P("find.empty_subject", [[ngx.re.find("", "")]])
    P("find.bytes_utf8", [[ngx.re.find("h\195\169llo", "l+")]])
    P("find.bytes_utf8_u", [[ngx.re.find("h\195\169llo", "l+", "u")]])
    P("find.subject.number", [[ngx.re.find(12345, "34")]])
    P("find.subject.nil", [[ngx.re.find(nil, "i")]])
    P("find.nth.nil", [[ngx.re.find("abc", "(a)(b)(c)", "", nil, nil)]])
    P("find.nth.0", [[ngx.re.find("xabc", "(a)(b)(c)", "", nil, 0)]])
    P("find.nth.1", [[ngx.re.find("xabc", "(a)(b)(c)", "", nil, 1)]])
    P("find.nth.3", [[ngx.re.find("xabc", "(a)(b)(c)", "", nil, 3)]])
    P("find.nth.unmatched_middle", [[ngx.re.find("ab", "(a)(x)?(b)", "", nil, 2)]])
    P("find.nth.unmatched_trailing", [[ngx.re.find("a", "(a)(x)?", "", nil, 2)]])
    P("find.nth.empty_group", [[ngx.re.find("ab", "a()b", "", nil, 1)]])
    P("find.nth.beyond", [[ngx.re.find("ab", "(a)", "", nil, 2)]])
    P("find.nth.beyond_no_groups", [[ngx.re.find("ab", "a", "", nil, 1)]])
    P("find.nth.beyond_nomatch", [[ngx.re.find("ab", "(x)", "", nil, 2)]])
    P("find.nth.negative", [[ngx.re.find("xab", "(a)b", "", nil, -1)]])
    P("find.nth.named_group_number", [[ngx.re.find("xab", "(?<n>a)b", "", nil, 1)]])
    P("find.nth.string", [[ngx.re.find("xab", "(a)b", "", nil, "1")]])
    P("find.nth.dfa", [[ngx.re.find("xab", "(a)b", "d", nil, 1)]])
    P("find.ctx.pos", [[fctx("abcabc", "b", "", 3)]])
    P("find.ctx.pos_nil", [[fctx("abcabc", "b", "", nil)]])
    P("find.ctx.nomatch", [[fctx("abcabc", "b", "", 6)]])
    P("find.ctx.empty_match", [[fctx("abc", "", "", 2)]])
    P("find.ctx.at_end", [[fctx("abc", "$", "", 4)]])
    P("find.ctx.beyond", [[fctx("abc", "", "", 5)]])
    P("find.ctx.with_nth", [[fctx("abab", "(a)(b)", "", 2, 2)]])
    P("find.ctx.nth_unmatched_updates_pos", [[fctx("abab", "(a)(x)?b", "", 2, 2)]])
    P("find.ctx.nth_beyond_updates_pos", [[fctx("abab", "(a)b", "", 2, 5)]])
    P("find.large.100k", [[ngx.re.find(("a"):rep(100000) .. "bc", "b(c)", "", nil, 1)]])

    H("gmatch (gm: the matches, <what ended the iteration>, <one more call>)")
    P("gmatch.simple", [[gm("hello, world", "[a-z]+")]])
    P("gmatch.captures", [[gm("a1b2c", "([a-z])(\\d)?")]])
    P("gmatch.named", [[gm("k1=v1, k2=v2", "(?<k>\\w+)=(?<v>\\w+)")]])
    P("gmatch.nomatch", [[gm("abc", "\\d")]])
    P("gmatch.empty_pattern", [[gm("abc", "")]])
    P("gmatch.a_star", [[gm("baaac", "a*")]])
    P("gmatch.x_star", [[gm("abc", "x*")]])
    P("gmatch.empty_subject", [[gm("", "")]])
    P("gmatch.empty_subject_nomatch", [[gm("", "a")]])
    P("gmatch.empty_alternative", [[gm("ab", "b|")]])
    P("gmatch.empty_then_nonempty_same_pos", [[gm("a", "x*|a")]])
    P("gmatch.lookahead_empty", [[gm("abc", "(?=b)|c")]])
    P("gmatch.word_boundaries", [[gm("ab cd", "\\b")]])
    P("gmatch.caret", [[gm("aaa", "^a")]])
    P("gmatch.caret_m", [[gm("a\na\n", "^a", "m")]])
    P("gmatch.dollar_m", [[gm("a\nb\n", "$", "m")]])
    P("gmatch.backslash_G", [[gm("aab", "\\Ga")]])
    P("gmatch.anchored", [[gm("aaba", "a", "a")]])
    P("gmatch.multibyte_no_u", [[gm("\230\151\165\230\156\172", ".")]])
    P("gmatch.multibyte_u", [[gm("\230\151\165\230\156\172", ".", "u")]])
    P("gmatch.empty_multibyte_no_u", [[gm("\195\169a", "")]])
    P("gmatch.empty_multibyte_u", [[gm("\195\169a", "", "u")]])
    P("gmatch.empty_multibyte_U", [[gm("\195\169a", "", "U")]])
    P("gmatch.empty_ascii_u", [[gm("ab", "", "u")]])
    P("gmatch.x_star_multibyte_u", [[gm("a\195\169", "x*", "u")]])
    P("gmatch.invalid_utf8_u", [[gm("a\255", ".", "u")]])
    P("gmatch.dfa", [[gm("abcab", "a|ab|abc", "d")]])
    P("gmatch.dfa_captures", [[gm("abab", "(a)(b)", "d")]])
    P("gmatch.dfa_empty", [[gm("baa", "a*", "d")]])
    P("gmatch.case_insensitive", [[gm("aAa", "a", "i")]])
    P("gmatch.subject.number", [[gm(1212, "1")]])
    P("gmatch.subject.nil", [[gm(nil, "[a-z]")]])
    P("gmatch.invalid_regex", [[ngx.re.gmatch("abc", "(")]])
    P("gmatch.after_end_twice", [[return pk((function()
        local it = ngx.re.gmatch("a", "a") local a = it() local b = pk(it())
        local c = pk(it()) local d = pk(it()) return a, b.n, c.n, d.n, d[1] end)())]])
    P("gmatch.two_iterators", [[return pk((function()
        local i1, i2 = ngx.re.gmatch("ab", "."), ngx.re.gmatch("xy", ".")
        return i1()[0], i2()[0], i1()[0], i2()[0], i1(), i2() end)())]])
    P("gmatch.tables_are_fresh", [[return pk((function()
        local it = ngx.re.gmatch("ab", ".") local a, b = it(), it() return a ~= b, a[0], b[0] end)())]])
    P("gmatch.subject_changed_later", [[return pk((function()
        local s = "ab" local it = ngx.re.gmatch(s, ".") s = "xy" return it()[0], it()[0] end)())]])
    P("gmatch.error_then_again", [[return pk((function()
        local it = ngx.re.gmatch("a\255b", "", "u") local r = {}
        for i = 1, 4 do local m, e = it() r[i] = (m and m[0] or "nil") .. "/" .. tostring(e) end
        return unpack(r) end)())]])
    P("gmatch.large.1000_matches", [[gm_count(("ab"):rep(1000), "(a)(b)")]])
    P("gmatch.large.100k_empty", [[gm_count(("a"):rep(100000), "")]])

    H("sub / gsub: templates")
    P("sub.simple", [[ngx.re.sub("hello, world", "o", "0")]])
    P("gsub.simple", [[ngx.re.gsub("hello, world", "o", "0")]])
    P("sub.nomatch", [[ngx.re.sub("hello", "x", "y")]])
    P("gsub.nomatch", [[ngx.re.gsub("hello", "x", "y")]])
    P("sub.empty_subject", [[ngx.re.sub("", "x", "y")]])
    P("sub.empty_replacement", [[ngx.re.sub("abc", "b", "")]])
    P("gsub.delete", [[ngx.re.gsub("a-b-c", "-", "")]])
    P("sub.template.dollar0", [[ngx.re.sub("abc", "b", "[$0]")]])
    P("sub.template.dollar1", [[ngx.re.sub("abc", "(b)(c)", "[$2$1]")]])
    P("sub.template.dollar9", [[ngx.re.sub(letters(10), groups(10), "$9")]])
    P("sub.template.dollar10", [[ngx.re.sub(letters(10), groups(10), "$10")]])
    P("sub.template.dollar10_one_group", [[ngx.re.sub("ab", "(a)", "<$10>")]])
    P("sub.template.dollar_brace1", [[ngx.re.sub("ab", "(a)", "${1}0")]])
    P("sub.template.dollar_brace10", [[ngx.re.sub(letters(10), groups(10), "${10}")]])
    P("sub.template.dollar_brace0", [[ngx.re.sub("ab", "(a)", "<${0}>")]])
    P("sub.template.dollar_brace_leading_zero", [[ngx.re.sub("ab", "(a)", "<${01}>")]])
    P("sub.template.dollar_leading_zero", [[ngx.re.sub("ab", "(a)", "<$01>")]])
    P("sub.template.dollar_brace_name", [[ngx.re.sub("ab", "(?<n>a)", "<${n}>")]])
    P("sub.template.dollar_name", [[ngx.re.sub("ab", "(?<n>a)", "<$n>")]])
    P("sub.template.dollar_dollar", [[ngx.re.sub("ab", "a", "$$")]])
    P("sub.template.dollar_dollar_digit", [[ngx.re.sub("ab", "(a)", "$$1")]])
    P("sub.template.dollar_dollar_dollar1", [[ngx.re.sub("ab", "(a)", "$$$1")]])
    P("sub.template.lone_dollar_end", [[ngx.re.sub("ab", "a", "x$")]])
    P("sub.template.lone_dollar", [[ngx.re.sub("ab", "a", "$")]])
    P("sub.template.dollar_letter", [[ngx.re.sub("ab", "a", "$x")]])
    P("sub.template.dollar_space", [[ngx.re.sub("ab", "a", "$ x")]])
    P("sub.template.dollar_punct", [[ngx.re.sub("ab", "a", "$-")]])
    P("sub.template.brace_unclosed", [[ngx.re.sub("ab", "(a)", "${1")]])
    P("sub.template.brace_unclosed_name", [[ngx.re.sub("ab", "(a)", "${abc")]])
    P("sub.template.brace_empty", [[ngx.re.sub("ab", "(a)", "${}")]])
    P("sub.template.brace_letter_digit", [[ngx.re.sub("ab", "(a)", "${1a}")]])
    P("sub.template.brace_only", [[ngx.re.sub("ab", "(a)", "$(")]])
    P("sub.template.unmatched_group", [[ngx.re.sub("ab", "(a)(x)?", "[$2]")]])
    P("sub.template.group_beyond", [[ngx.re.sub("ab", "(a)", "[$5]")]])
    P("sub.template.group_beyond_no_groups", [[ngx.re.sub("ab", "a", "[$1]")]])
    P("sub.template.group_beyond_brace", [[ngx.re.sub("ab", "(a)", "[${2}]")]])
    P("sub.template.backslash", [[ngx.re.sub("ab", "(a)", "\\1\\n")]])
    P("sub.template.percent_and_braces", [[ngx.re.sub("ab", "(a)", "%1 {1} }")]])
    P("sub.template.nul", [[ngx.re.sub("ab", "(a)", "x\0$1")]])
    P("sub.template.high_bytes", [[ngx.re.sub("ab", "(a)", "\255$1\128")]])
    P("sub.template.long", [[return pk((function()
        local r, n = ngx.re.sub("ab", "(a)", ("$1x"):rep(1000)) return #r, r:sub(1, 7), n end)())]])
    P("sub.template.big_group_number", [[ngx.re.sub("ab", "(a)", "[$99999999999]")]])
    P("sub.template.number", [[ngx.re.sub("abc", "b", 5)]])
    P("sub.template.float", [[ngx.re.sub("abc", "b", 0.5)]])
    P("sub.template.nil", [[ngx.re.sub("abc", "b", nil)]])
    P("sub.template.missing", [[ngx.re.sub("abc", "b")]])
    P("sub.template.false", [[ngx.re.sub("abc", "b", false)]])
    P("sub.template.table", [[ngx.re.sub("abc", "b", {})]])
    P("sub.template.tostring_mt", [[ngx.re.sub("abc", "b", setmetatable({}, {__tostring = function() return "[$0]" end}))]])
    P("gsub.template.groups", [[ngx.re.gsub("a1 b2 c3", "([a-z])(\\d)", "$2$1")]])
    P("gsub.template.dollar0_each", [[ngx.re.gsub("abc", ".", "<$0>")]])
    P("gsub.template.unmatched_group", [[ngx.re.gsub("ab", "(a)|(b)", "[$1|$2]")]])
    P("gsub.template.invalid", [[ngx.re.gsub("ab", "(a)", "${1")]])

    H("sub / gsub: function replacement")
    P("sub.func.captures", [[ngx.re.sub("abc", "(b)(c)", function(m) return m[2] .. m[1] .. m[0] end)]])
    P("sub.func.table_seen", [[return pk((function()
        local seen ngx.re.sub("xab", "(?<p>a)(x)?(b)", function(m) seen = m return "" end) return seen end)())]])
    P("sub.func.table_seen_dup", [[return pk((function()
        local seen ngx.re.sub("ab", "(?<n>a)(?<n>b)", function(m) seen = m return "" end, "D") return seen end)())]])
    P("sub.func.number", [[ngx.re.sub("abc", "b", function() return 42 end)]])
    P("sub.func.float", [[ngx.re.sub("abc", "b", function() return 1/3 end)]])
    P("sub.func.nil", [[ngx.re.sub("abc", "b", function() return nil end)]])
    P("sub.func.none", [[ngx.re.sub("abc", "b", function() end)]])
    P("sub.func.false", [[ngx.re.sub("abc", "b", function() return false end)]])
    P("sub.func.table", [[ngx.re.sub("abc", "b", function() return {} end)]])
    P("sub.func.two_values", [[ngx.re.sub("abc", "b", function() return "x", "y" end)]])
    P("sub.func.dollar_not_expanded", [[ngx.re.sub("abc", "(b)", function() return "$1$0" end)]])
    P("sub.func.raises", [[ngx.re.sub("abc", "b", function() error("boom") end)]])
    P("sub.func.raises_table", [[ngx.re.sub("abc", "b", function() error({}) end)]])
    P("sub.func.callable_table", [[ngx.re.sub("abc", "b", setmetatable({}, {__call = function() return "X" end}))]])
    P("gsub.func.each", [[ngx.re.gsub("a1 b2", "(\\w)(\\d)", function(m) return m[2] .. m[1] end)]])
    P("gsub.func.calls_and_tables", [[return pk((function()
        local seen = {} local r, n = ngx.re.gsub("abc", ".", function(m) seen[#seen + 1] = m return m[0]:upper() end)
        return r, n, #seen, seen[1] ~= seen[2], seen[1][0], seen[3][0] end)())]])
    P("gsub.func.reentrant", [[ngx.re.gsub("ab cd", "\\w+", function(m) return (ngx.re.gsub(m[0], ".", "[$0]")) end)]])
    P("gsub.func.empty_matches", [[ngx.re.gsub("ab", "", function(m) return "<" .. m[0] .. ">" end)]])
    P("gsub.func.modifies_table", [[ngx.re.gsub("ab", "(.)", function(m) m[0] = "z" m[1] = "y" return m[1] end)]])

    H("sub / gsub: counts, empty matches, UTF-8")
    P("gsub.count", [[ngx.re.gsub("a,b,,c", ",", ";")]])
    P("gsub.empty_pattern", [[ngx.re.gsub("abc", "", "-")]])
    P("sub.empty_pattern", [[ngx.re.sub("abc", "", "-")]])
    P("gsub.x_star", [[ngx.re.gsub("abc", "x*", "-")]])
    P("gsub.a_star", [[ngx.re.gsub("baaac", "a*", "-")]])
    P("gsub.a_star_end", [[ngx.re.gsub("baaa", "a*", "-")]])
    P("gsub.empty_subject", [[ngx.re.gsub("", "", "-")]])
    P("gsub.empty_subject_x_star", [[ngx.re.gsub("", "x*", "-")]])
    P("gsub.dollar_m", [[ngx.re.gsub("a\nb", "$", ";", "m")]])
    P("gsub.caret_m", [[ngx.re.gsub("a\nb\n", "^", ">", "m")]])
    P("gsub.word_boundary", [[ngx.re.gsub("ab cd", "\\b", "|")]])
    P("gsub.empty_then_nonempty_same_pos", [[ngx.re.gsub("ab", "x*|b", "-")]])
    P("gsub.lookahead_empty", [[ngx.re.gsub("abc", "(?=b)", "^")]])
    P("gsub.backslash_G", [[ngx.re.gsub("aab", "\\Ga", "x")]])
    P("gsub.anchored", [[ngx.re.gsub("aaba", "a", "x", "a")]])
    P("gsub.anchored_nomatch", [[ngx.re.gsub("baa", "a", "x", "a")]])
    P("gsub.u.dot", [[ngx.re.gsub("\230\151\165\230\156\172", ".", "[$0]", "u")]])
    P("gsub.no_u.dot", [[ngx.re.gsub("\230\151\165", ".", "[$0]")]])
    P("gsub.u.empty", [[ngx.re.gsub("\195\169a", "", "-", "u")]])
    P("gsub.u.x_star", [[ngx.re.gsub("a\195\169", "x*", "-", "u")]])
    P("gsub.u.empty_ascii", [[ngx.re.gsub("ab", "", "-", "u")]])
    P("gsub.U.empty", [[ngx.re.gsub("\195\169a", "", "-", "U")]])
    P("gsub.no_u.empty_multibyte", [[ngx.re.gsub("\195\169", "", "-")]])
    P("gsub.func.u.empty", [[ngx.re.gsub("\195\169a", "", function(m) return "-" end, "u")]])
    P("sub.u.empty_first_only", [[ngx.re.sub("\195\169a", "", "-", "u")]])
    P("gsub.u.invalid_subject", [[ngx.re.gsub("a\255", "a", "b", "u")]])
    P("gsub.subject.number", [[ngx.re.gsub(1212, "1", "x")]])
    P("gsub.subject.nil", [[ngx.re.gsub(nil, "l", "L")]])
    P("gsub.subject.table", [[ngx.re.gsub({}, "^table", "T")]])
    P("gsub.extra_args_ignored", [[ngx.re.gsub("ab", "a", "x", "", "extra")]])
    P("gsub.large.1000_matches", [[return pk((function()
        local r, n = ngx.re.gsub(("ab"):rep(1000), "(a)(b)", "$2$1") return #r, r:sub(1, 6), n end)())]])
    P("gsub.large.1000_matches_func", [[return pk((function()
        local r, n = ngx.re.gsub(("ab"):rep(1000), "(a)(b)", function(m) return m[2] .. m[1] end)
        return #r, r:sub(-6), n end)())]])
    P("gsub.large.1000_groups", [[return pk((function()
        local r, n = ngx.re.gsub(("ab"):rep(1000), ("(a)(b)"):rep(500), "$1000${999}")
        return r, n end)())]])
    P("gsub.large.100k", [[return pk((function()
        local r, n = ngx.re.gsub(("a"):rep(100000), "a", "bc") return #r, r:sub(-4), n end)())]])
    P("gsub.large.100k_empty", [[return pk((function()
        local r, n = ngx.re.gsub(("a"):rep(100000), "", "-") return #r, r:sub(-4), n end)())]])
    P("sub.large.100k_tail", [[return pk((function()
        local r, n = ngx.re.sub(("a"):rep(100000) .. "b", "b$", "c") return #r, r:sub(-2), n end)())]])

    H("options")
    P("options.none.case", [[ngx.re.match("ABC", "b")]])
    P("options.i", [[ngx.re.match("ABC", "b", "i")]])
    P("options.i.class", [[ngx.re.match("ABC", "[a-c]+", "i")]])
    P("options.i.non_ascii_no_u", [[ngx.re.match("\195\137", "\195\169", "i")]])
    P("options.iu.non_ascii", [[ngx.re.match("\195\137", "\195\169", "iu")]])
    P("options.none.m", [[ngx.re.match("a\nb", "^b$")]])
    P("options.m", [[ngx.re.match("a\nb", "^b$", "m")]])
    P("options.m.dollar", [[ngx.re.match("a\nb", "a$", "m")]])
    P("options.m.gsub", [[ngx.re.gsub("a\nb\nc", "^(\\w)$", "<$1>", "m")]])
    P("options.none.s", [[ngx.re.match("a\nb", "a.b")]])
    P("options.s", [[ngx.re.match("a\nb", "a.b", "s")]])
    P("options.ms", [[ngx.re.match("x\na\nb", "^a.b$", "ms")]])
    P("options.m_without_s", [[ngx.re.match("x\na\nb", "^a.b$", "m")]])
    P("options.none.x", [[ngx.re.match("ab", "a b # c")]])
    P("options.x", [[ngx.re.match("ab", "a b # comment\n", "x")]])
    P("options.x.class_keeps_space", [[ngx.re.match("a b", "a[ ]b", "x")]])
    P("options.x.escaped_space", [[ngx.re.match("a b", "a\\ b", "x")]])
    P("options.xi", [[ngx.re.match("AB", "a  b", "xi")]])
    P("options.none.a", [[ngx.re.match("xab", "a")]])
    P("options.a", [[ngx.re.match("xab", "a", "a")]])
    P("options.a.at_start", [[ngx.re.match("abx", "a", "a")]])
    P("options.a.ctx_pos", [[mctx("xab", "a", "a", 2)]])
    P("options.a.ctx_pos_nomatch", [[mctx("xab", "a", "a", 3)]])
    P("options.a.find", [[ngx.re.find("xab", "a", "a"), ngx.re.find("abx", "ab", "a")]])
    P("options.a.gsub", [[ngx.re.gsub("aaxa", "a", "b", "a")]])
    P("options.none.d", [[ngx.re.match("abcd", "a|ab|abc")]])
    P("options.d", [[ngx.re.match("abcd", "a|ab|abc", "d")]])
    P("options.d.captures", [[ngx.re.match("ab", "(a)(b)", "d")]])
    P("options.d.named", [[ngx.re.match("ab", "(?<x>a)(?<y>b)", "d")]])
    P("options.d.named_dup", [[ngx.re.match("ab", "(?<n>a)(?<n>b)", "dD")]])
    P("options.d.nomatch", [[ngx.re.match("xyz", "a|ab", "d")]])
    P("options.d.empty", [[ngx.re.match("abc", "x*", "d")]])
    P("options.d.lazy_is_longest", [[ngx.re.match("aaa", "a+?", "d")]])
    P("options.d.find", [[ngx.re.find("xabcd", "a|ab|abc", "d")]])
    P("options.d.ctx", [[mctx("abcabc", "a|abc", "d", 2)]])
    P("options.d.res_table", [[return pk((function()
        local t = {} ngx.re.match("abc", "(a)(b)(c)", "", nil, t) ngx.re.match("xy", "(x)(y)", "d", nil, t) return t end)())]])
    P("options.d.gsub", [[ngx.re.gsub("abcab", "a|ab|abc", "<$0>", "d")]])
    P("options.d.gsub_group", [[ngx.re.gsub("abab", "(a)(b)", "[$1|$2]", "d")]])
    P("options.d.sub_func", [[return pk((function()
        local seen ngx.re.sub("ab", "(a)(b)", function(m) seen = m return "x" end, "d") return seen end)())]])
    P("options.d.backref", [[ngx.re.match("aa", "(a)\\1", "d")]])
    P("options.j", [[ngx.re.match("hello, 1234", "([0-9])[0-9]+", "j")]])
    P("options.j.gsub", [[ngx.re.gsub("a1b2", "\\d", "#", "j")]])
    P("options.jo", [[ngx.re.match("abc", "b", "jo"), ngx.re.match("abc", "b", "jo")]])
    P("options.o", [[ngx.re.match("abc", "(b)", "o"), ngx.re.match("xbz", "(b)", "o")]])
    P("options.o.sub_cache_by_template", [[ngx.re.sub("ab", "a", "1", "o"), ngx.re.sub("ab", "a", "2", "o")]])
    P("options.o.func_after_template", [[ngx.re.sub("ab", "a", "T", "o"), ngx.re.sub("ab", "a", function() return "F" end, "o")]])
    P("options.o.gmatch", [[gm("abab", "b", "o")]])
    P("options.o.error_not_cached", [[ngx.re.match("a", "(", "o"), ngx.re.match("a", "(", "o")]])
    P("options.none.u", [[ngx.re.match("\195\169", "^.$")]])
    P("options.u", [[ngx.re.match("\195\169", "^.$", "u")]])
    P("options.u.class", [[ngx.re.match("\195\169", "^[\195\169]$", "u")]])
    P("options.u.x_escape", [[ngx.re.match("\195\169", "\\x{e9}", "u")]])
    P("options.u.w_ascii_only", [[ngx.re.match("\195\169", "\\w", "u")]])
    P("options.u.ucp", [[ngx.re.match("\195\169", "(*UCP)\\w", "u")]])
    P("options.u.property", [[ngx.re.match("a\195\169", "\\p{Ll}+", "u")]])
    P("options.u.invalid_subject", [[ngx.re.match("a\255", "a", "u")]])
    P("options.u.invalid_subject_find", [[ngx.re.find("a\255", "a", "u")]])
    P("options.u.truncated_subject", [[ngx.re.match("a\195", "a", "u")]])
    P("options.u.invalid_regex", [[ngx.re.match("a", "a\255", "u")]])
    P("options.u.ctx_inside_char", [[mctx("\195\169a", "a", "u", 2)]])
    P("options.U", [[ngx.re.match("\195\169", "^.$", "U")]])
    P("options.U.gsub", [[ngx.re.gsub("\230\151\165\230\156\172", ".", "[$0]", "U")]])
    P("options.U.invalid_regex", [[ngx.re.match("a", "a\255", "U")]])
    P("options.none.dup_names", [[ngx.re.match("a", "(?<n>a)|(?<n>b)")]])
    P("options.D", [[ngx.re.match("b", "(?<n>a)|(?<n>b)", "D")]])
    P("options.J", [[ngx.re.match("a", "(?<n>a)|(?<n>b)", "J")]])
    P("options.J.u_escape", [[ngx.re.match("A", "\\u0041", "J")]])
    P("options.none.u_escape", [[ngx.re.match("A", "\\u0041")]])
    P("options.J.negated_empty_class", [[ngx.re.match("a\nb", "a[^]b", "J")]])
    P("options.none.negated_empty_class", [[ngx.re.match("a\nb", "a[^]b")]])
    P("options.J.brace", [[ngx.re.match("a{1}", "a{1", "J")]])
    P("options.JD", [[ngx.re.match("b", "(?<n>a)|(?<n>b)", "JD")]])
    P("options.is", [[ngx.re.match("A\nB", "a.b", "is")]])
    P("options.mx", [[ngx.re.match("x\nab", "^ a b $", "mx")]])
    P("options.ui", [[ngx.re.match("\195\137t\195\137", "^\195\169.\195\169$", "ui")]])
    P("options.ad", [[ngx.re.match("abcx", "a|abc", "ad"), ngx.re.match("xabc", "a|abc", "ad")]])
    P("options.au", [[mctx("\195\169\195\169", ".", "au", 3)]])
    P("options.oj_gsub", [[ngx.re.gsub("aXbX", "x", "-", "ioj")]])
    P("options.all_letters", [[ngx.re.match("ab", "a b", "aijmosuxDJ")]])
    P("options.repeated", [[ngx.re.match("AB", "b", "iii")]])
    P("options.empty", [[ngx.re.match("abc", "b", "")]])
    P("options.nil", [[ngx.re.match("abc", "b", nil)]])
    P("options.unknown", [[ngx.re.match("abc", "b", "z")]])
    P("options.unknown_after_valid", [[ngx.re.match("abc", "b", "iz")]])
    P("options.unknown_upper", [[ngx.re.match("abc", "b", "I")]])
    P("options.unknown_space", [[ngx.re.match("abc", "b", "i ")]])
    P("options.unknown_percent", [[ngx.re.match("abc", "b", "%")]])
    P("options.unknown.find", [[ngx.re.find("abc", "b", "z")]])
    P("options.unknown.gmatch", [[ngx.re.gmatch("abc", "b", "z")]])
    P("options.unknown.sub", [[ngx.re.sub("abc", "b", "x", "z")]])
    P("options.unknown.gsub", [[ngx.re.gsub("abc", "b", "x", "z")]])
    P("options.unknown.gsub_func", [[ngx.re.gsub("abc", "b", function() return "x" end, "z")]])
    P("options.unknown.nested", [[(function() local m = ngx.re.match("abc", "b", "z") return m end)()]])
    P("options.unknown.pcall", [[pcall(ngx.re.match, "abc", "b", "z")]])
    P("options.unknown.before_compile", [[ngx.re.match("abc", "(", "z")]])
    P("options.number", [[ngx.re.match("abc", "b", 1)]])
    P("options.false", [[ngx.re.match("abc", "b", false)]])
    P("options.table", [[ngx.re.match("abc", "b", {})]])

    H("errors: compilation (nil, err)")
    P("errors.compile.match", [[ngx.re.match("a", "(")]])
    P("errors.compile.find", [[ngx.re.find("a", "(")]])
    P("errors.compile.gmatch", [[ngx.re.gmatch("a", "(")]])
    P("errors.compile.sub", [[ngx.re.sub("a", "(", "x")]])
    P("errors.compile.gsub", [[ngx.re.gsub("a", "(", "x")]])
    P("errors.compile.sub_func", [[ngx.re.sub("a", "(", function() return "x" end)]])
    P("errors.compile.gsub_bad_template_too", [[ngx.re.gsub("a", "(", "${1")]])
    P("errors.compile.unmatched_close", [[ngx.re.match("a", "a)")]])
    P("errors.compile.class", [[ngx.re.match("a", "[a")]])
    P("errors.compile.range", [[ngx.re.match("a", "[z-a]")]])
    P("errors.compile.quantifier_order", [[ngx.re.match("a", "a{2,1}")]])
    P("errors.compile.nothing_to_repeat", [[ngx.re.match("a", "*a")]])
    P("errors.compile.trailing_backslash", [[ngx.re.match("a", "a\\")]])
    P("errors.compile.dup_names", [[ngx.re.match("ab", "(?<n>a)(?<n>b)")]])
    P("errors.compile.bad_name", [[ngx.re.match("a", "(?<1a>a)")]])
    P("errors.compile.lookbehind_not_fixed", [[ngx.re.match("ab", "(?<=a+)b")]])
    P("errors.compile.backref_missing", [[ngx.re.match("a", "(a)\\2")]])
    P("errors.compile.unknown_property", [[ngx.re.match("a", "\\p{Nope}")]])
    P("errors.compile.posix_class", [=[ngx.re.match("a", "[[:nope:]]")]=])
    P("errors.compile.long_pattern", [[ngx.re.match("a", ("(a"):rep(10) .. "[")]])

    H("errors: arguments")
    P("errors.args.none.match", [[ngx.re.match()]])
    P("errors.args.none.find", [[ngx.re.find()]])
    P("errors.args.none.gmatch", [[ngx.re.gmatch()]])
    P("errors.args.none.sub", [[ngx.re.sub()]])
    P("errors.args.none.gsub", [[ngx.re.gsub()]])
    P("errors.args.subject_only.match", [[ngx.re.match("a")]])
    P("errors.args.subject_only.gsub", [[ngx.re.gsub("a")]])
    for _, fn in ipairs({ "match", "find", "gmatch", "sub", "gsub" }) do
        local extra = (fn == "sub" or fn == "gsub") and ', "x"' or ""
        for _, v in ipairs({ { "nil", "nil" }, { "number", "1" }, { "boolean", "true" },
                             { "table", "{}" }, { "function", "function() end" } }) do
            P("errors.regex." .. v[1] .. "." .. fn,
              "ngx.re." .. fn .. '("a1", ' .. v[2] .. extra .. ")")
        end
    end
    P("errors.regex.number_as_string", [[ngx.re.match("a1", "1")]])
    P("errors.regex.nested", [[(function() local m = ngx.re.match("a", nil) return m end)()]])
    P("errors.subject.function", [[ngx.re.match(function() end, "^function: ")]])
    P("errors.subject.function.gsub", [[ngx.re.gsub(function() end, "^function", "f")]])

    H("errors: matching (nil, err)")
    P("errors.exec.match_limit", [[ngx.re.match(("a"):rep(40) .. "b", "(a+)+$")]])
    P("errors.exec.match_limit.find", [[ngx.re.find(("a"):rep(40) .. "b", "(a+)+$")]])
    P("errors.exec.match_limit.gsub", [[ngx.re.gsub(("a"):rep(40) .. "b", "(a+)+$", "x")]])
    P("errors.exec.bad_utf8.gmatch", [[gm("a\255", "a", "u")]])
    P("errors.exec.bad_utf8.sub", [[ngx.re.sub("\255", "a", "b", "u")]])
    P("errors.exec.bad_offset", [[mctx("abc", "a", "", 10)]])

    emit("# end")
end

return M
