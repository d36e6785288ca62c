/* api_string.c: the ngx.* string and digest helpers (encode_base64, decode_base64, md5,
 * md5_bin, sha1_bin, crc32_short, crc32_long, hmac_sha1). Digests come from libcrypto,
 * CRC-32 from zlib; base64 is written here (see b64_decode for why). */
#include "api.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
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
}
