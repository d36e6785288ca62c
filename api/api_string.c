/* api_string.c: the ngx.* string and digest helpers (encode_base64, decode_base64, md5,
 * md5_bin, sha1_bin, crc32_short, crc32_long, hmac_sha1, escape_uri, unescape_uri).
 * Digests come from libcrypto, CRC-32 from zlib; base64 and the URI escapes are written
 * here (see b64_decode for why; the URI rules are ngx_lua's, SPEC §6.6). */
#include "api.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ngx_lua's convention for the encoders and digests: nil or no argument means "",
 * numbers are converted as tostring() does, anything else raises luaL's type error. */
static const char *arg_bytes_or_empty(lua_State *L, int i, size_t *len)
{
    if (lua_isnoneornil(L, i)) {
        *len = 0;
        return "";
    }
    return luaL_checklstring(L, i, len);
}

/* Encodes len bytes into dst (room for 4 * ceil(len / 3)); returns the length written. */
static size_t b64_encode(const unsigned char *src, size_t len, char *dst, int pad)
{
    char *d = dst;
    size_t i = 0;

    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
        *d++ = b64_alphabet[v >> 18];
        *d++ = b64_alphabet[(v >> 12) & 63];
        *d++ = b64_alphabet[(v >> 6) & 63];
        *d++ = b64_alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)src[i] << 16 | (i + 1 < len ? (uint32_t)src[i + 1] << 8 : 0);
        *d++ = b64_alphabet[v >> 18];
        *d++ = b64_alphabet[(v >> 12) & 63];
        if (i + 1 < len)
            *d++ = b64_alphabet[(v >> 6) & 63];
        else if (pad)
            *d++ = '=';
        if (pad)
            *d++ = '=';
    }
    return (size_t)(d - dst);
}

/* Value of one alphabet character, or -1 (this also rejects '=' inside the data). */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63
                                    : -1;
}

/* Length of the data part of src once valid padding is removed, or -1 if the padding
 * is wrong: at most two '=', and only when they complete a multiple of 4. */
static ptrdiff_t b64_body_len(const unsigned char *src, size_t len)
{
    size_t pad = 0;

    while (pad < len && src[len - 1 - pad] == '=')
        pad++;
    if (pad > 2 || (pad > 0 && len % 4 != 0))
        return -1;
    if ((len - pad) % 4 == 1)
        return -1; /* one leftover character carries only 6 bits: not a byte */
    return (ptrdiff_t)(len - pad);
}

/* Hand-written because libcrypto's EVP_DecodeBlock does not fit the contract: it needs
 * padding, skips whitespace and returns padded groups as trailing NUL bytes. Unused
 * low bits of the last group are ignored, as nginx does. Returns bytes written or -1. */
static ptrdiff_t b64_decode(const unsigned char *src, size_t len, unsigned char *dst)
{
    ptrdiff_t body = b64_body_len(src, len);
    unsigned char *d = dst;
    uint32_t acc = 0;
    int bits = 0;

    if (body < 0)
        return -1;
    for (ptrdiff_t i = 0; i < body; i++) {
        int v = b64_value(src[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *d++ = (unsigned char)(acc >> bits);
        }
    }
    return d - dst;
}

/* The optional second argument of encode_base64: nil/false pad, true does not. */
static int arg_no_padding(lua_State *L, int i)
{
    if (lua_isnoneornil(L, i))
        return 0;
    luaL_checktype(L, i, LUA_TBOOLEAN);
    return lua_toboolean(L, i);
}

static int ngx_encode_base64(lua_State *L)
{
    size_t len;
    const char *s = arg_bytes_or_empty(L, 1, &len);
    int pad = !arg_no_padding(L, 2);
    char *dst;

    if (len > (SIZE_MAX / 4) * 3 - 2)
        return luaL_error(L, "string too long");
    dst = lua_newuserdata(L, (len + 2) / 3 * 4 + 1); /* collected with the call */
    lua_pushlstring(L, dst, b64_encode((const unsigned char *)s, len, dst, pad));
    return 1;
}

/* Invalid input returns nil: callers decode untrusted data and test the result. */
static int ngx_decode_base64(lua_State *L)
{
    size_t len;
    const char *s = arg_bytes_or_empty(L, 1, &len);
    unsigned char *dst = lua_newuserdata(L, len / 4 * 3 + 3);
    ptrdiff_t n = b64_decode((const unsigned char *)s, len, dst);

    if (n < 0)
        lua_pushnil(L);
    else
        lua_pushlstring(L, (const char *)dst, (size_t)n);
    return 1;
}

/* Pushes the raw digest of argument 1 (nil meaning ""); returns its length. */
static unsigned push_digest(lua_State *L, const EVP_MD *md, unsigned char *out)
{
    size_t len;
    const char *s = arg_bytes_or_empty(L, 1, &len);
    unsigned int n = 0;

    if (!EVP_Digest(s, len, out, &n, md, NULL))
        luaL_error(L, "digest failed");
    return n;
}

static int ngx_md5_bin(lua_State *L)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = push_digest(L, EVP_md5(), md);

    lua_pushlstring(L, (const char *)md, n);
    return 1;
}

static int ngx_md5(lua_State *L)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    char out[2 * EVP_MAX_MD_SIZE];
    unsigned n = push_digest(L, EVP_md5(), md);

    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    lua_pushlstring(L, out, 2 * n);
    return 1;
}

static int ngx_sha1_bin(lua_State *L)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = push_digest(L, EVP_sha1(), md);

    lua_pushlstring(L, (const char *)md, n);
    return 1;
}

/* nginx has two CRC-32 routines (small table for short input, large for long); they
 * compute the same function, so both names share zlib's implementation. */
static int ngx_crc32(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    uLong crc = crc32_z(0L, (const Bytef *)s, len);

    lua_pushnumber(L, (lua_Number)crc);
    return 1;
}

/* HMAC() takes an int key length; RFC 2104 replaces keys longer than the block by their
 * hash, so pre-hashing a huge key gives the same MAC. */
static int ngx_hmac_sha1(lua_State *L)
{
    size_t klen, len;
    const char *key = luaL_checklstring(L, 1, &klen);
    const char *s = luaL_checklstring(L, 2, &len);
    unsigned char kmd[EVP_MAX_MD_SIZE], md[EVP_MAX_MD_SIZE];
    unsigned int kn = 0, n = 0;

    if (klen > INT_MAX) {
        if (!EVP_Digest(key, klen, kmd, &kn, EVP_sha1(), NULL))
            return luaL_error(L, "digest failed");
        key = (const char *)kmd;
        klen = kn;
    }
    if (HMAC(EVP_sha1(), key, (int)klen, (const unsigned char *)s, len, md, &n) == NULL)
        return luaL_error(L, "digest failed");
    lua_pushlstring(L, (const char *)md, n);
    return 1;
}

/* escape_uri's seven byte sets, ngx_lua's `type` 0..6 (uri, args, uri component, html,
 * refresh, memcached, mail auth). Every type escapes 0x00-0x20, types 0-4 also 0x7F-0xFF;
 * these are the printable bytes each escapes besides. */
static const char *const uri_printable_escaped[] = {
    "#%?",
    "#%+?",
    "\"#$%&+,/:;<=>?@[\\]^`{|}",
    "\"#%'",
    "\"'",
    "%",
    "%",
};
#define URI_TYPES ((int)(sizeof uri_printable_escaped / sizeof uri_printable_escaped[0]))
#define URI_TYPE_DEFAULT 2

/* Bit t of uri_escaped[b] is set when type t escapes byte b; filled by uri_map_init. */
static unsigned char uri_escaped[256];

static void uri_map_init(void)
{
    for (int b = 0; b < 256; b++) {
        unsigned m = 0;
        for (int t = 0; t < URI_TYPES; t++) {
            if (b <= 0x20 || (b >= 0x7f && t < 5) || strchr(uri_printable_escaped[t], b))
                m |= 1u << t;
        }
        uri_escaped[b] = (unsigned char)m;
    }
}

/* Raises msg (at index -1) as resty.core's error(msg, 3) does: positioned at the caller of
 * the function that called us, so a chunk run by pcall gets no position. */
static int uri_type_error(lua_State *L)
{
    luaL_where(L, 2);
    lua_insert(L, -2);
    lua_concat(L, 2);
    return lua_error(L);
}

/* escape_uri's type at index i: nil is the default, a number from 0 to 6 is truncated
 * toward zero; anything else (NaN included) raises. */
static int uri_type(lua_State *L, int i)
{
    lua_Number t;

    if (lua_isnil(L, i))
        return URI_TYPE_DEFAULT;
    if (lua_type(L, i) != LUA_TNUMBER) {
        lua_pushliteral(L, "\"type\" is not a number");
        return uri_type_error(L);
    }
    t = lua_tonumber(L, i);
    if (!(t >= 0 && t <= URI_TYPES - 1)) { /* NaN fails too */
        lua_pushvalue(L, i);
        lua_pushfstring(L, "\"type\" %s out of range", lua_tostring(L, -1));
        return uri_type_error(L);
    }
    return (int)t;
}

/* The string argument of the URI helpers, left at index 1: nil and false are "", other
 * non-strings go through the original tostring (upvalue 1), as resty.core converts them. */
static const unsigned char *uri_arg(lua_State *L, size_t *len)
{
    const char *s;

    if (lua_type(L, 1) != LUA_TSTRING) {
        if (!lua_toboolean(L, 1)) {
            lua_pushliteral(L, "");
        } else {
            lua_pushvalue(L, lua_upvalueindex(1));
            lua_pushvalue(L, 1);
            lua_call(L, 1, 1);
        }
        lua_replace(L, 1);
    }
    s = lua_tolstring(L, 1, len);
    if (s == NULL)
        luaL_error(L, "'tostring' must return a string");
    return (const unsigned char *)s;
}

static int ngx_escape_uri(lua_State *L)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len, n = 0;
    const unsigned char *s;
    unsigned mask;
    char *dst, *d;

    lua_settop(L, 2);
    s = uri_arg(L, &len);
    mask = 1u << uri_type(L, 2);
    for (size_t i = 0; i < len; i++)
        n += (uri_escaped[s[i]] & mask) != 0;
    if (n == 0) {
        lua_settop(L, 1); /* nothing to escape: the string itself */
        return 1;
    }
    dst = d = lua_newuserdata(L, len + 2 * n); /* n <= len: no overflow for a Lua string */
    for (size_t i = 0; i < len; i++) {
        if (uri_escaped[s[i]] & mask) {
            *d++ = '%';
            *d++ = hex[s[i] >> 4];
            *d++ = hex[s[i] & 15];
        } else {
            *d++ = (char)s[i];
        }
    }
    lua_pushlstring(L, dst, len + 2 * n);
    return 1;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* %XX is the byte, '+' a space; a '%' without two hex digits after it is kept as it is
 * and decoding goes on with the next byte. Returns the length written (at most len). */
static size_t uri_unescape(const unsigned char *s, size_t len, char *dst)
{
    char *d = dst;

    for (size_t i = 0; i < len; i++) {
        int hi, lo;

        if (s[i] == '+') {
            *d++ = ' ';
        } else if (s[i] == '%' && i + 2 < len && (hi = hex_value(s[i + 1])) >= 0 && (lo = hex_value(s[i + 2])) >= 0) {
            *d++ = (char)(hi << 4 | lo);
            i += 2;
        } else {
            *d++ = (char)s[i];
        }
    }
    return (size_t)(d - dst);
}

static int ngx_unescape_uri(lua_State *L)
{
    size_t len;
    const unsigned char *s;
    char *dst;

    lua_settop(L, 1);
    s = uri_arg(L, &len);
    dst = lua_newuserdata(L, len + 1);
    lua_pushlstring(L, dst, uri_unescape(s, len, dst));
    return 1;
}

void api_string_inject(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"encode_base64", ngx_encode_base64},
        {"decode_base64", ngx_decode_base64},
        {"md5", ngx_md5},
        {"md5_bin", ngx_md5_bin},
        {"sha1_bin", ngx_sha1_bin},
        {"crc32_short", ngx_crc32},
        {"crc32_long", ngx_crc32},
        {"hmac_sha1", ngx_hmac_sha1},
        {NULL, NULL},
    };

    for (const luaL_Reg *r = funcs; r->name != NULL; r++) {
        lua_pushcfunction(L, r->func); /* ngx, f */
        lua_setfield(L, -2, r->name);  /* ngx */
    }
    uri_map_init();
    lua_getglobal(L, "tostring"); /* ngx, tostring: kept as it is now, as resty.core does */
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, ngx_escape_uri, 1);
    lua_setfield(L, -3, "escape_uri");
    lua_pushcclosure(L, ngx_unescape_uri, 1);
    lua_setfield(L, -2, "unescape_uri"); /* ngx */
}
