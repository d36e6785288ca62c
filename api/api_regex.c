/* api_regex.c: ngx.re.match, find, gmatch, sub and gsub over PCRE2, as ngx_lua 0.10.23 with
 * lua-resty-core 0.1.25 behaves (SPEC §6.9; the record: conformance/reference/
 * regex_ngx_lua.txt). That reference runs PCRE1, so the few places where the libraries differ
 * are translated here: PCRE1's match error numbers ("pcre_exec() failed: -10" for bad UTF-8),
 * its check of the whole subject's UTF-8, and the JavaScript-compatible option "J".
 * A compiled regex is a userdata (its __gc frees it), so a Lua error in between (a
 * replacement function that raises) leaks nothing; with "o" it is kept in a per-VM cache. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "api.h"
#include <pcre2.h>
#include <stdint.h>
#include <string.h>

#define RE_MT "tcplua.regex"
#define RE_GMATCH_MT "tcplua.regex.gmatch"
#define RE_DFA_WORKSPACE 100 /* ints, as ngx_lua's NGX_LUA_RE_DFA_MODE_WORKSPACE_COUNT */

enum {
    RE_ONCE = 1,
    RE_DFA = 2,
    RE_JIT = 4,
    RE_DUPNAMES = 8,
    RE_NO_UTF_CHECK = 16
};

/* A replacement template: pieces that copy text (cap < 0) or a capture. */
typedef struct tpl_piece {
    long cap;
    size_t off, len;
} tpl_piece_t;

typedef struct regex {
    pcre2_code *code;
    pcre2_match_data *md;
    uint32_t ncaptures, name_count, name_entry_size;
    PCRE2_SPTR name_table;
    int flags, utf;
    int cached;                /* held by the "o" cache: never freed before the VM is */
    pcre2_match_context *mctx; /* the VM's (re_conf_t), it outlives every regex of the VM */
    tpl_piece_t *tpl;          /* sub/gsub with a string replacement */
    size_t ntpl;
    char *tpl_text;
} regex_t;

/* The five functions' upvalues, per VM (a reload's new VM and a rolled-back one each keep
 * their own): the "o" cache (field "n" counts its regexes; every regex key holds a NUL, so
 * none is "n") and the real tostring (a script may replace the global). */
#define UP_CACHE lua_upvalueindex(1)
#define UP_TOSTRING lua_upvalueindex(2)
#define UP_CONF lua_upvalueindex(3)

/* The configuration's part (lua_regex_cache_max_entries, lua_regex_match_limit). */
typedef struct re_conf {
    pcre2_match_context *mctx; /* NULL: PCRE's own limits */
    long cache_max;
} re_conf_t;

/* ---- options, compile ---- */

/* The option letters as ngx_lua reads them; raises for an unknown one. */
static void parse_opts(lua_State *L, const char *o, int *flags, uint32_t *opts)
{
    *flags = 0;
    *opts = 0;
    for (const char *p = o; *p; p++) {
        switch (*p) {
        case 'o': *flags |= RE_ONCE; break;
        case 'j': *flags |= RE_JIT; break;
        case 'i': *opts |= PCRE2_CASELESS; break;
        case 's': *opts |= PCRE2_DOTALL; break;
        case 'm': *opts |= PCRE2_MULTILINE; break;
        case 'u': *opts |= PCRE2_UTF; break;
        case 'U': *opts |= PCRE2_UTF, *flags |= RE_NO_UTF_CHECK; break;
        case 'x': *opts |= PCRE2_EXTENDED; break;
        case 'd': *flags |= RE_DFA; break;
        case 'a': *opts |= PCRE2_ANCHORED; break;
        case 'D': *opts |= PCRE2_DUPNAMES, *flags |= RE_DUPNAMES; break;
        /* PCRE1's JAVASCRIPT_COMPAT is these three in PCRE2 */
        case 'J': *opts |= PCRE2_ALT_BSUX | PCRE2_ALLOW_EMPTY_CLASS | PCRE2_MATCH_UNSET_BACKREF; break;
        default: luaL_error(L, "unknown flag \"%c\" (flags \"%s\")", *p, o);
        }
    }
}

static void regex_free(regex_t *re)
{
    if (re->md) pcre2_match_data_free(re->md);
    if (re->code) pcre2_code_free(re->code);
    free(re->tpl);
    free(re->tpl_text);
    memset(re, 0, sizeof *re);
}

/* A regex compiled for one call is freed as soon as the call is done with it (its memory is
 * PCRE2's, which the Lua GC does not see); a cached one lives as long as the VM. */
static void regex_done(regex_t *re)
{
    if (!re->cached) regex_free(re);
}

static int regex_gc(lua_State *L)
{
    regex_free(luaL_checkudata(L, 1, RE_MT));
    return 0;
}

static int conf_gc(lua_State *L)
{
    re_conf_t *c = lua_touserdata(L, 1);
    if (c->mctx) pcre2_match_context_free(c->mctx);
    c->mctx = NULL;
    return 0;
}

/* Pushes the configuration userdata (upvalue 3 of the five functions). */
static void push_conf(lua_State *L, long cache_max, long match_limit)
{
    re_conf_t *c = lua_newuserdata(L, sizeof *c);
    c->cache_max = cache_max;
    c->mctx = NULL;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, conf_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    if (match_limit <= 0) return;
    if (!(c->mctx = pcre2_match_context_create(NULL))) luaL_error(L, "no memory");
    pcre2_set_match_limit(c->mctx, match_limit > UINT32_MAX ? UINT32_MAX : (uint32_t)match_limit);
}

/* ngx_lua's message: pcre_compile() failed: REASON in "PATTERN"[ at "REST"]. */
static void compile_error(lua_State *L, int code, size_t off, const char *pat, size_t len)
{
    PCRE2_UCHAR why[256];
    if (pcre2_get_error_message(code, why, sizeof why) < 0) strcpy((char *)why, "unknown error");
    if (off >= len) lua_pushfstring(L, "pcre_compile() failed: %s in \"%s\"", why, pat);
    else lua_pushfstring(L, "pcre_compile() failed: %s in \"%s\" at \"%s\"", why, pat, pat + off);
}

/* Pushes a new compiled regex (userdata), or nil and the error. */
static int regex_compile(lua_State *L, const char *pat, size_t len, int flags, uint32_t opts)
{
    regex_t *re = lua_newuserdata(L, sizeof *re);
    memset(re, 0, sizeof *re);
    luaL_getmetatable(L, RE_MT);
    lua_setmetatable(L, -2);
    int code;
    PCRE2_SIZE off;
    /* PCRE1 took a C string: ngx_lua's regex ends at its first NUL byte */
    re->code = pcre2_compile((PCRE2_SPTR)pat, strnlen(pat, len), opts, &code, &off, NULL);
    if (!re->code) {
        lua_pop(L, 1);
        lua_pushnil(L);
        compile_error(L, code, off, pat, len);
        return 0;
    }
    if (flags & RE_JIT) pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE); /* a failure falls back */
    pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &re->ncaptures);
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMECOUNT, &re->name_count);
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMEENTRYSIZE, &re->name_entry_size);
    pcre2_pattern_info(re->code, PCRE2_INFO_NAMETABLE, &re->name_table);
    if (flags & RE_DFA) re->ncaptures = 0; /* the DFA reports the whole match only */
    re->md = pcre2_match_data_create(re->ncaptures + 1, NULL);
    if (!re->md) luaL_error(L, "no memory");
    re->flags = flags;
    re->utf = (opts & PCRE2_UTF) != 0;
    re->mctx = ((re_conf_t *)lua_touserdata(L, UP_CONF))->mctx;
    return 1;
}

/* ---- the template of sub/gsub ---- */

static int tpl_add(regex_t *re, long cap, size_t off, size_t len)
{
    tpl_piece_t *t = realloc(re->tpl, (re->ntpl + 1) * sizeof *t);
    if (!t) return -1;
    re->tpl = t;
    t[re->ntpl++] = (tpl_piece_t){cap, off, len};
    return 0;
}

/* One "$..." at s[i] (s[i] == '$'): adds its piece, returns the index after it, or -1 for a
 * template ngx_lua refuses ($ at the end, ${ unclosed, a name, $ and no digit). */
static long tpl_variable(regex_t *re, const char *s, size_t len, size_t i)
{
    if (++i == len) return -1;
    if (s[i] == '$') return tpl_add(re, -1, i, 1) ? -1 : (long)i + 1;
    int bracket = s[i] == '{';
    if (bracket && ++i == len) return -1;
    size_t start = i;
    long n = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (n < 1000000) n = n * 10 + (s[i] - '0');
        i++;
    }
    if (bracket) {
        if (i == len || s[i] != '}') return -1; /* a name, or the bracket is not closed */
        i++;
    }
    if (i - start - (size_t)bracket == 0) return -1; /* no digit: a name or nothing */
    return tpl_add(re, n, 0, 0) ? -1 : (long)i;
}

/* ngx_lua's ngx_http_lua_script_compile: $N, ${N}, $$; named captures are refused. */
static int tpl_compile(regex_t *re, const char *s, size_t len)
{
    re->tpl_text = malloc(len + 1);
    if (!re->tpl_text) return -1;
    memcpy(re->tpl_text, s, len);
    for (size_t i = 0; i < len;) {
        if (s[i] == '$') {
            long next = tpl_variable(re, s, len, i);
            if (next < 0) return -1;
            i = (size_t)next;
            continue;
        }
        size_t j = i;
        while (j < len && s[j] != '$') j++;
        if (tpl_add(re, -1, i, j - i)) return -1;
        i = j;
    }
    return 0;
}

/* ---- matching ---- */

/* PCRE1's rule: a subject that is not valid UTF-8 (RFC 3629) anywhere fails, also past the
 * part a match inspects (PCRE2 checks less). */
static int utf8_valid(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned c = s[i];
        size_t n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1
                            : c >= 0xe0 && c <= 0xef     ? 2
                            : c >= 0xf0 && c <= 0xf4     ? 3
                                                         : 9;
        if (n == 9 || i + n >= len) return 0;
        for (size_t k = 1; k <= n; k++)
            if ((s[i + k] & 0xc0) != 0x80) return 0;
        if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] > 0x9f) || (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] > 0x8f))
            return 0; /* overlong, a surrogate, beyond U+10FFFF */
        i += n + 1;
    }
    return 1;
}

/* PCRE1's numbers for the errors a script can see ("pcre_exec() failed: N"). */
static int pcre1_rc(int rc)
{
    if (rc >= PCRE2_ERROR_NOMATCH) return rc;
    if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21) return -10;
    switch (rc) {
    case PCRE2_ERROR_BADUTFOFFSET: return -11;
    case PCRE2_ERROR_MATCHLIMIT: return -8;
    case PCRE2_ERROR_DEPTHLIMIT:
    case PCRE2_ERROR_HEAPLIMIT: return -21;
    case PCRE2_ERROR_NOMEMORY: return -6;
    case PCRE2_ERROR_BADOFFSET: return -24;
    case PCRE2_ERROR_DFA_UITEM: return -16;
    case PCRE2_ERROR_DFA_UCOND: return -17;
    case PCRE2_ERROR_DFA_WSSIZE: return -19;
    case PCRE2_ERROR_DFA_RECURSE: return -20;
    case PCRE2_ERROR_JIT_STACKLIMIT: return -27;
    default: return rc;
    }
}

/* ngx_lua's exec: the count of captured pairs (0: the ovector was too small), or PCRE1's
 * negative code. *valid caches the subject's UTF-8 check across the calls of one loop.
 * "U" checks the subject's validity too: PCRE2 (as PCRE1) calls matching invalid UTF-8
 * unchecked undefined behaviour, and the subject may be a client's bytes (SPEC
 * regex.options). */
static int regex_exec(regex_t *re, const char *s, size_t len, long pos, int *valid)
{
    uint32_t opts = 0;
    if (pos < 0 || (size_t)pos > len) return -24; /* PCRE_ERROR_BADOFFSET */
    if (re->utf) {
        if (!*valid && !utf8_valid((const unsigned char *)s, len)) return -10;
        *valid = 1;
        /* "u" refuses to start inside a character; "U" starts there (reading the continuation
         * bytes as characters, as PCRE1 did: gsub("\xc3\xa9", "", "-", "U") splits it) */
        if (!(re->flags & RE_NO_UTF_CHECK) && (size_t)pos < len && ((unsigned char)s[pos] & 0xc0) == 0x80)
            return -11;
        opts = PCRE2_NO_UTF_CHECK;
    }
    int rc;
    if (re->flags & RE_DFA) {
        int ws[RE_DFA_WORKSPACE];
        /* no match limit for the DFA, as ngx_lua sets none */
        rc = pcre2_dfa_match(re->code, (PCRE2_SPTR)s, len, (PCRE2_SIZE)pos, opts, re->md, NULL, ws, RE_DFA_WORKSPACE);
    } else {
        rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, (PCRE2_SIZE)pos, opts, re->md, re->mctx);
    }
    return pcre1_rc(rc);
}

static PCRE2_SIZE *ovector(regex_t *re) { return pcre2_get_ovector_pointer(re->md); }

/* Fills the captures table at the top: [0..ncaptures] (false where a group did not take
 * part) and the named groups (a list of the values per name with "D"). */
static void collect_captures(lua_State *L, regex_t *re, const char *s, int rc)
{
    PCRE2_SIZE *ov = ovector(re);
    for (uint32_t i = 0; i <= re->ncaptures; i++) {
        if ((int)i < rc && ov[2 * i] != PCRE2_UNSET) lua_pushlstring(L, s + ov[2 * i], ov[2 * i + 1] - ov[2 * i]);
        else lua_pushboolean(L, 0);
        lua_rawseti(L, -2, (int)i);
    }
    PCRE2_SPTR e = re->name_table;
    for (uint32_t k = 0; k < re->name_count; k++, e += re->name_entry_size) {
        int n = (e[0] << 8) | e[1];
        lua_pushstring(L, (const char *)e + 2);
        lua_rawgeti(L, -2, n);
        if (!(re->flags & RE_DUPNAMES)) {
            lua_rawset(L, -3);
            continue;
        }
        if (!lua_toboolean(L, -1)) {
            lua_pop(L, 2);
            continue;
        }
        lua_pushvalue(L, -2);
        lua_rawget(L, -4); /* the list so far */
        if (lua_istable(L, -1)) {
            lua_insert(L, -2);
            lua_rawseti(L, -2, (int)lua_objlen(L, -2) + 1);
            lua_pop(L, 2);
        } else {
            lua_pop(L, 1);
            lua_createtable(L, 1, 0);
            lua_insert(L, -2);
            lua_rawseti(L, -2, 1);
            lua_rawset(L, -3);
        }
    }
}

static void push_captures(lua_State *L, regex_t *re, const char *s, int rc)
{
    lua_createtable(L, (int)re->ncaptures, (int)re->name_count);
    collect_captures(L, re, s, rc);
}

/* ---- arguments, the cache ---- */

/* The subject as resty.core makes it: tostring(subj) (nil is "nil"). */
static const char *subject(lua_State *L, int idx, size_t *len)
{
    if (lua_type(L, idx) != LUA_TSTRING) {
        lua_pushvalue(L, UP_TOSTRING);
        lua_pushvalue(L, idx);
        lua_call(L, 1, 1);
        lua_replace(L, idx);
    }
    return lua_tolstring(L, idx, len);
}

static const char *opts_arg(lua_State *L, int idx)
{
    if (!lua_toboolean(L, idx)) return "";
    if (lua_istable(L, idx)) return ""; /* resty reads a table's length: 0, no option */
    return luaL_checkstring(L, idx);
}

/* Pushes the compiled regex for (regex at idx 2, options; key suffix for sub's caches):
 * from the cache with "o", else compiled now. Returns 0 after pushing nil, err. */
static int regex_get(lua_State *L, int idx_opts, const char *extra, size_t extra_len, int *flags)
{
    size_t plen;
    luaL_checktype(L, 2, LUA_TSTRING);
    const char *pat = lua_tolstring(L, 2, &plen);
    const char *o = opts_arg(L, idx_opts);
    uint32_t opts;
    parse_opts(L, o, flags, &opts);
    if (!(*flags & RE_ONCE)) return regex_compile(L, pat, plen, *flags, opts);
    lua_pushvalue(L, UP_CACHE);
    lua_pushlstring(L, pat, plen);
    lua_pushlstring(L, "", 1);
    lua_pushstring(L, o);
    lua_pushlstring(L, extra, extra_len);
    lua_concat(L, 4);
    lua_pushvalue(L, -1);
    lua_rawget(L, -3);
    if (!lua_isnil(L, -1)) {
        lua_replace(L, -3);
        lua_pop(L, 1);
        return 1;
    }
    lua_pop(L, 1);
    if (!regex_compile(L, pat, plen, *flags, opts)) {
        lua_remove(L, -3);
        lua_remove(L, -3);
        return 0;
    }
    lua_getfield(L, -3, "n");
    lua_Integer n = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (n < ((re_conf_t *)lua_touserdata(L, UP_CONF))->cache_max) { /* beyond: compiled per call */
        ((regex_t *)lua_touserdata(L, -1))->cached = 1;
        lua_pushvalue(L, -2);
        lua_pushvalue(L, -2);
        lua_rawset(L, -5);
        lua_pushinteger(L, n + 1);
        lua_setfield(L, -4, "n");
    }
    lua_replace(L, -3);
    lua_pop(L, 1);
    return 1;
}

/* ---- match, find ---- */

/* What resty's `x < 0` raises for a value that is not a number (the arguments it compares). */
static void compare_error(lua_State *L, int idx)
{
    luaL_error(L, "attempt to compare %s with number", luaL_typename(L, idx));
}

/* The start offset a ctx table asks for (ctx.pos is 1-based; nil, 0 or negative: 0). */
static long ctx_pos(lua_State *L, int ctx)
{
    lua_getfield(L, ctx, "pos");
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TNUMBER) compare_error(L, -1);
    lua_Number p = lua_isnil(L, -1) ? 0 : lua_tonumber(L, -1);
    lua_pop(L, 1);
    return p <= 0 ? 0 : (long)(p - 1);
}

static int exec_error(lua_State *L, int rc, int nils)
{
    for (int i = 0; i < nils; i++) lua_pushnil(L);
    if (rc == 0) lua_pushliteral(L, "capture size too small");
    else lua_pushfstring(L, "pcre_exec() failed: %d", rc);
    return nils + 1;
}

/* from, to of capture nth (0: the whole match); nil, nil when it took no part. */
static int find_results(lua_State *L, regex_t *re, int rc)
{
    if (lua_toboolean(L, 5) && lua_type(L, 5) != LUA_TNUMBER) compare_error(L, 5);
    lua_Number nth = lua_toboolean(L, 5) ? lua_tonumber(L, 5) : 0;
    long n = nth < 0 ? 0 : (long)nth;
    lua_pushnil(L);
    lua_pushnil(L);
    if (n > (long)re->ncaptures) {
        lua_pushliteral(L, "nth out of bound");
        return 3;
    }
    PCRE2_SIZE *ov = ovector(re);
    if (n >= rc || ov[2 * n] == PCRE2_UNSET) return 2;
    lua_pop(L, 2);
    lua_pushinteger(L, (lua_Integer)ov[2 * n] + 1);
    lua_pushinteger(L, (lua_Integer)ov[2 * n + 1]);
    return 2;
}

static int match_helper(lua_State *L, int want_caps)
{
    lua_settop(L, 5);
    size_t len;
    const char *s = subject(L, 1, &len);
    int flags, valid = 0, n;
    if (!regex_get(L, 3, "", 0, &flags)) return want_caps ? 2 : (lua_pushnil(L), lua_insert(L, -2), 3);
    regex_t *re = lua_touserdata(L, -1);
    int ctx = lua_toboolean(L, 4) ? 4 : 0;
    int rc = regex_exec(re, s, len, ctx ? ctx_pos(L, ctx) : 0, &valid);
    if (rc == PCRE2_ERROR_NOMATCH) n = (lua_pushnil(L), 1);
    else if (rc < 0 || (rc == 0 && !(flags & RE_DFA))) n = exec_error(L, rc, want_caps ? 1 : 2);
    else {
        rc = rc ? rc : 1;
        if (ctx) {
            lua_pushinteger(L, (lua_Integer)ovector(re)[1] + 1);
            lua_setfield(L, ctx, "pos");
        }
        if (!want_caps) n = find_results(L, re, rc);
        else {
            if (lua_istable(L, 5)) lua_pushvalue(L, 5);
            else if (lua_toboolean(L, 5)) luaL_error(L, "attempt to index local 'res' (a %s value)", luaL_typename(L, 5));
            else lua_createtable(L, (int)re->ncaptures, (int)re->name_count);
            collect_captures(L, re, s, rc);
            n = 1;
        }
    }
    regex_done(re);
    return n;
}

static int l_match(lua_State *L) { return match_helper(L, 1); }
static int l_find(lua_State *L) { return match_helper(L, 0); }

/* ---- gmatch ---- */

/* The iterator: a table (as resty.core's) whose [1] holds the subject, [2] the regex and
 * [3] the next offset (nil once done). */
static int gmatch_iter(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_rawgeti(L, 1, 3);
    if (lua_isnil(L, -1)) return 1;
    long pos = (long)lua_tointeger(L, -1);
    lua_rawgeti(L, 1, 1);
    lua_rawgeti(L, 1, 2);
    lua_rawgeti(L, 1, 4);
    size_t len;
    const char *s = lua_tolstring(L, -3, &len);
    regex_t *re = lua_touserdata(L, -2);
    int valid = lua_toboolean(L, -1), rc = regex_exec(re, s, len, pos, &valid);
    if (rc < 0 || (rc == 0 && !(re->flags & RE_DFA))) {
        lua_pushnil(L);
        lua_rawseti(L, 1, 3);
        regex_done(re);
        return rc == PCRE2_ERROR_NOMATCH ? (lua_pushnil(L), 1) : exec_error(L, rc, 1);
    }
    lua_pushboolean(L, valid);
    lua_rawseti(L, 1, 4);
    PCRE2_SIZE *ov = ovector(re);
    size_t next = ov[1];
    if (next == ov[0]) next++; /* an empty match: go on one byte further, as ngx_lua does */
    push_captures(L, re, s, rc ? rc : 1);
    if (next > len) {
        lua_pushnil(L);
        regex_done(re);
    } else lua_pushinteger(L, (lua_Integer)next);
    lua_rawseti(L, 1, 3);
    return 1;
}

static int l_gmatch(lua_State *L)
{
    lua_settop(L, 3);
    size_t len;
    subject(L, 1, &len);
    int flags;
    if (!regex_get(L, 3, "", 0, &flags)) return 2;
    lua_createtable(L, 3, 0);
    lua_pushvalue(L, 1);
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, 2);
    lua_pushinteger(L, 0);
    lua_rawseti(L, -2, 3);
    luaL_getmetatable(L, RE_GMATCH_MT);
    lua_setmetatable(L, -2);
    return 1;
}

/* ---- sub, gsub ---- */

static void add_template(luaL_Buffer *b, regex_t *re, const char *s, int rc)
{
    PCRE2_SIZE *ov = ovector(re);
    for (size_t i = 0; i < re->ntpl; i++) {
        const tpl_piece_t *t = &re->tpl[i];
        if (t->cap < 0) luaL_addlstring(b, re->tpl_text + t->off, t->len);
        else if (t->cap < rc && ov[2 * t->cap] != PCRE2_UNSET)
            luaL_addlstring(b, s + ov[2 * t->cap], ov[2 * t->cap + 1] - ov[2 * t->cap]);
    }
}

/* The replacement function's result, as tostring() gives it, added to the buffer. */
static void add_call(lua_State *L, luaL_Buffer *b, regex_t *re, const char *s, int rc)
{
    lua_pushvalue(L, UP_TOSTRING);
    int base = lua_gettop(L);
    lua_pushvalue(L, 3);
    push_captures(L, re, s, rc);
    lua_call(L, 1, LUA_MULTRET);
    lua_call(L, lua_gettop(L) - base, 1); /* tostring() of nothing raises, as resty's does */
    luaL_addvalue(b);
}

/* The regex for sub/gsub with its template compiled; 0 after pushing nil, nil, err. */
static int sub_regex(lua_State *L, int func, int *flags)
{
    size_t tlen = 0;
    const char *tpl = func ? "" : lua_tolstring(L, 3, &tlen);
    char kind[2] = {func ? 'f' : 's', 0};
    lua_pushstring(L, kind);
    lua_pushlstring(L, tpl, tlen);
    lua_concat(L, 2);
    size_t klen;
    const char *key = lua_tolstring(L, -1, &klen);
    int ok = regex_get(L, 4, key, klen, flags);
    lua_remove(L, ok ? -2 : -3);
    if (!ok) return lua_pushnil(L), lua_insert(L, -2), 0;
    regex_t *re = lua_touserdata(L, -1);
    if (!func && !re->tpl_text && tpl_compile(re, tpl, tlen)) {
        free(re->tpl_text);
        re->tpl_text = NULL;
        re->ntpl = 0;
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushliteral(L, "failed to compile the replacement template");
        return 0;
    }
    return 1;
}

static int sub_helper(lua_State *L, int global)
{
    lua_settop(L, 4);
    int func = lua_type(L, 3) == LUA_TFUNCTION;
    if (!func && lua_type(L, 3) != LUA_TSTRING) subject(L, 3, NULL);
    int flags, valid = 0;
    if (!sub_regex(L, func, &flags)) return 3;
    size_t len;
    const char *s = subject(L, 1, &len);
    regex_t *re = lua_touserdata(L, -1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t pos = 0, copied = 0;
    int count = 0;
    for (;;) {
        int rc = regex_exec(re, s, len, (long)pos, &valid);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0 || (rc == 0 && !(flags & RE_DFA))) return regex_done(re), exec_error(L, rc, 2);
        if (rc == 0) rc = 1;
        count++;
        PCRE2_SIZE *ov = ovector(re);
        size_t from = ov[0], to = ov[1];
        luaL_addlstring(&b, s + copied, from - copied);
        if (func) add_call(L, &b, re, s, rc);
        else add_template(&b, re, s, rc);
        copied = pos = to;
        if (pos == from && ++pos > len) break; /* an empty match: one byte further */
        if (!global) break;
    }
    regex_done(re);
    if (!count) {
        lua_pushvalue(L, 1);
        lua_pushinteger(L, 0);
        return 2;
    }
    luaL_addlstring(&b, s + copied, len - copied);
    luaL_pushresult(&b);
    lua_pushinteger(L, count);
    return 2;
}

static int l_sub(lua_State *L) { return sub_helper(L, 0); }
static int l_gsub(lua_State *L) { return sub_helper(L, 1); }

void api_regex_inject(lua_State *L, long cache_max, long match_limit)
{
    static const luaL_Reg fns[] = {
        {"match", l_match},
        {"find", l_find},
        {"gmatch", l_gmatch},
        {"sub", l_sub},
        {"gsub", l_gsub},
        {NULL, NULL},
    };
    luaL_newmetatable(L, RE_MT);
    lua_pushcfunction(L, regex_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newmetatable(L, RE_GMATCH_MT);
    lua_pushcfunction(L, gmatch_iter);
    lua_setfield(L, -2, "__call");
    lua_pop(L, 1);
    lua_createtable(L, 0, 5);
    lua_newtable(L);
    lua_getglobal(L, "tostring");
    push_conf(L, cache_max, match_limit);
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushvalue(L, -3);
        lua_pushvalue(L, -3);
        lua_pushvalue(L, -3);
        lua_pushcclosure(L, f->func, 3);
        lua_setfield(L, -5, f->name);
    }
    lua_pop(L, 3);
    lua_setfield(L, -2, "re");
}
