/* test_string.c: unit tests of the ngx.* string and digest helpers (api/api_string.c)
 * against the RFC known-answer vectors, plus their argument and invalid-input rules. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lualib.h>
#include "luatest.h"
#include "tests/check_run.h"

/* hex(s): lowercase hex of a binary string; rep(byte, n): n copies of a byte. */
static const char *const lua_helpers =
    "function hex(s) return (s:gsub('.', function(c) "
    "return string.format('%02x', c:byte()) end)) end "
    "function rep(b, n) return string.rep(string.char(b), n) end";

static void setup(void)
{
    luatest_open(api_string_inject);
    ck_assert_int_eq(luaL_dostring(L, lua_helpers), 0);
}

static void teardown(void)
{
    lua_close(L);
}

typedef struct vec {
    const char *input; /* a Lua expression */
    const char *want;
} vec_t;

/* Evaluates fmt % input for each vector and compares with want. */
static void check_vectors(const char *fmt, const vec_t *v, size_t n)
{
    char chunk[512];

    for (size_t i = 0; i < n; i++) {
        snprintf(chunk, sizeof chunk, fmt, v[i].input);
        ck_assert_msg(strcmp(eval(chunk), v[i].want) == 0, "%s -> %s, want %s", chunk,
                      eval(chunk), v[i].want);
    }
}

#define NVEC(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(test_functions_present)
{
    ck_eval("local n = 0 for _, k in ipairs{'encode_base64','decode_base64','md5',"
            "'md5_bin','sha1_bin','crc32_short','crc32_long','hmac_sha1'} do "
            "if type(ngx[k]) == 'function' then n = n + 1 end end return n",
            "8");
}
END_TEST

/* RFC 4648 section 10, plus bytes that use '+' and '/' */
START_TEST(test_base64_rfc4648)
{
    static const vec_t enc[] = {
        {"''", ""},
        {"'f'", "Zg=="},
        {"'fo'", "Zm8="},
        {"'foo'", "Zm9v"},
        {"'foob'", "Zm9vYg=="},
        {"'fooba'", "Zm9vYmE="},
        {"'foobar'", "Zm9vYmFy"},
        {"'\\0\\255\\254'", "AP/+"},
        {"'\\251'", "+w=="},
    };
    static const vec_t nopad[] = {
        {"'f'", "Zg"},
        {"'fo'", "Zm8"},
        {"'foo'", "Zm9v"},
        {"'foob'", "Zm9vYg"},
    };
    static const vec_t dec[] = {
        {"'Zg=='", "f"},
        {"'Zm8='", "fo"},
        {"'Zm9v'", "foo"},
        {"'Zm9vYg=='", "foob"},
        {"'Zm9vYmE='", "fooba"},
        {"'Zm9vYmFy'", "foobar"},
        {"'Zg'", "f"},
        {"'Zm8'", "fo"},
        {"'Zm9vYg'", "foob"},
        {"''", ""},
        {"'Zh=='", "f"},
        {"'Zm9='", "fo"},
    };

    check_vectors("return ngx.encode_base64(%s)", enc, NVEC(enc));
    check_vectors("return ngx.encode_base64(%s, true)", nopad, NVEC(nopad));
    check_vectors("return ngx.decode_base64(%s)", dec, NVEC(dec));
    ck_eval("return ngx.decode_base64('AP/+') == '\\0\\255\\254'", "true");
    ck_eval("return ngx.encode_base64('foob', false)", "Zm9vYg==");
    ck_eval("return ngx.encode_base64('foob', nil)", "Zm9vYg==");
}
END_TEST

START_TEST(test_base64_roundtrip)
{
    ck_eval("math.randomseed(7) for n = 0, 300 do local t = {} "
            "for i = 1, n do t[i] = string.char(math.random(0, 255)) end "
            "local s = table.concat(t) "
            "if ngx.decode_base64(ngx.encode_base64(s)) ~= s then return n end "
            "if ngx.decode_base64(ngx.encode_base64(s, true)) ~= s then return -n end end "
            "return 'ok'",
            "ok");
}
END_TEST

START_TEST(test_base64_invalid)
{
    static const char *const bad[] = {
        "Z",
        "Zm9vY",
        "Zg=",
        "Zg===",
        "Z===",
        "====",
        "=",
        "Zm9v=",
        "Zm9vY===",
        "Zg==Zg==",
        "Zg==\n",
        " Zg==",
        "Zm 9v",
        "Zm9v\r\n",
        "Zm-_",
        "Zm9v!",
        "Z=g=",
        "Zm8=Zm8=",
        "Zm\0v",
    };
    static const size_t lens[] = {1, 5, 3, 5, 4, 4, 1, 5, 8, 8, 5, 5, 5, 6, 4, 5, 4, 8, 4};

    for (size_t i = 0; i < NVEC(bad); i++) {
        lua_settop(L, 0);
        ck_assert_int_eq(luaL_loadstring(L, "return ngx.decode_base64(...)"), 0);
        lua_pushlstring(L, bad[i], lens[i]);
        ck_assert_int_eq(lua_pcall(L, 1, LUA_MULTRET, 0), 0);
        ck_assert_int_eq(lua_gettop(L), 1);
        ck_assert_msg(lua_isnil(L, -1), "accepted \"%s\"", bad[i]);
    }
}
END_TEST

START_TEST(test_md5_rfc1321)
{
    static const vec_t v[] = {
        {"''", "d41d8cd98f00b204e9800998ecf8427e"},
        {"'a'", "0cc175b9c0f1b6a831c399e269772661"},
        {"'abc'", "900150983cd24fb0d6963f7d28e17f72"},
        {"'message digest'", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"'abcdefghijklmnopqrstuvwxyz'", "c3fcd3d76192e4007dfb496cca67e13b"},
        {"'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'",
         "d174ab98d277d9f5a5611c2c9f419d9f"},
        {"string.rep('1234567890', 8)", "57edf4a22be3c955ac49da2e2107b67a"},
    };

    check_vectors("return ngx.md5(%s)", v, NVEC(v));
    check_vectors("return hex(ngx.md5_bin(%s))", v, NVEC(v));
    ck_eval("return #ngx.md5_bin('abc')", "16");
}
END_TEST

START_TEST(test_sha1_rfc3174)
{
    static const vec_t v[] = {
        {"''", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {"'abc'", "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'",
         "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
        {"string.rep('a', 1000000)", "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
        {"string.rep('0123456701234567012345670123456701234567012345670123456701234567', 10)",
         "dea356a2cddd90c7a7ecedc5ebb563934f460452"},
    };

    check_vectors("return hex(ngx.sha1_bin(%s))", v, NVEC(v));
    ck_eval("return #ngx.sha1_bin('abc')", "20");
}
END_TEST

START_TEST(test_hmac_sha1_rfc2202)
{
    static const vec_t v[] = {
        {"rep(0x0b, 20), 'Hi There'", "b617318655057264e28bc0b6fb378c8ef146be00"},
        {"'Jefe', 'what do ya want for nothing?'", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
        {"rep(0xaa, 20), rep(0xdd, 50)", "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
        {"'\\1\\2\\3\\4\\5\\6\\7\\8\\9\\10\\11\\12\\13\\14\\15\\16\\17\\18\\19\\20\\21\\22"
         "\\23\\24\\25', rep(0xcd, 50)",
         "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
        {"rep(0x0c, 20), 'Test With Truncation'", "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"},
        {"rep(0xaa, 80), 'Test Using Larger Than Block-Size Key - Hash Key First'",
         "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
        {"rep(0xaa, 80), 'Test Using Larger Than Block-Size Key and Larger Than One "
         "Block-Size Data'",
         "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
    };

    check_vectors("return hex(ngx.hmac_sha1(%s))", v, NVEC(v));
    ck_eval("return hex(ngx.hmac_sha1('', ''))", "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
    ck_eval("return #ngx.hmac_sha1('k', 'v')", "20");
}
END_TEST

START_TEST(test_crc32)
{
    ck_eval("return ngx.crc32_short('123456789')", "3421780262");
    ck_eval("return ngx.crc32_long('123456789')", "3421780262");
    ck_eval("return ngx.crc32_short('')", "0");
    ck_eval("return ngx.crc32_long('')", "0");
    ck_eval("return ngx.crc32_short('The quick brown fox jumps over the lazy dog')",
            "1095738169");
    ck_eval("local s = string.rep('\\0\\255abc', 5000) "
            "return ngx.crc32_short(s) == ngx.crc32_long(s)",
            "true");
    ck_eval("return ngx.crc32_long(123456789)", "3421780262");
}
END_TEST

START_TEST(test_binary_safe)
{
    ck_eval("return ngx.md5('a\\0b') ~= ngx.md5('a')", "true");
    ck_eval("return ngx.md5('a\\0b')", "70350f6027bce3713f6b76473084309b");
    ck_eval("return ngx.encode_base64('a\\0b')", "YQBi");
    ck_eval("return ngx.decode_base64('YQBi') == 'a\\0b'", "true");
}
END_TEST

START_TEST(test_args_nil_and_numbers)
{
    ck_eval("return ngx.md5(nil)", "d41d8cd98f00b204e9800998ecf8427e");
    ck_eval("return ngx.md5()", "d41d8cd98f00b204e9800998ecf8427e");
    ck_eval("return hex(ngx.md5_bin(nil))", "d41d8cd98f00b204e9800998ecf8427e");
    ck_eval("return hex(ngx.sha1_bin())", "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    ck_eval("return ngx.encode_base64(nil)", "");
    ck_eval("return ngx.decode_base64(nil)", "");
    ck_eval("return ngx.md5(12) == ngx.md5('12')", "true");
    ck_eval("return ngx.md5(0.5) == ngx.md5('0.5')", "true");
    ck_eval("return ngx.encode_base64(123)", "MTIz");
    ck_eval("return hex(ngx.hmac_sha1(1, 2)) == hex(ngx.hmac_sha1('1', '2'))", "true");
    ck_eval("return ngx.md5('abc', 'ignored')", "900150983cd24fb0d6963f7d28e17f72");
}
END_TEST

START_TEST(test_args_errors)
{
    ck_raises("ngx.md5({})", "bad argument #1 to 'md5' (string expected, got table)");
    ck_raises("ngx.md5(true)", "bad argument #1 to 'md5' (string expected, got boolean)");
    ck_raises("ngx.md5_bin(print)",
              "bad argument #1 to 'md5_bin' (string expected, got function)");
    ck_raises("ngx.sha1_bin(false)",
              "bad argument #1 to 'sha1_bin' (string expected, got boolean)");
    ck_raises("ngx.encode_base64({})",
              "bad argument #1 to 'encode_base64' (string expected, got table)");
    ck_raises("ngx.decode_base64({})",
              "bad argument #1 to 'decode_base64' (string expected, got table)");
    ck_raises("ngx.encode_base64('x', 1)",
              "bad argument #2 to 'encode_base64' (boolean expected, got number)");
    ck_raises("ngx.encode_base64('x', 'yes')",
              "bad argument #2 to 'encode_base64' (boolean expected, got string)");
    ck_raises("ngx.crc32_short(nil)",
              "bad argument #1 to 'crc32_short' (string expected, got nil)");
    ck_raises("ngx.crc32_long()",
              "bad argument #1 to 'crc32_long' (string expected, got no value)");
    ck_raises("ngx.hmac_sha1('k')",
              "bad argument #2 to 'hmac_sha1' (string expected, got no value)");
    ck_raises("ngx.hmac_sha1(nil, 'x')",
              "bad argument #1 to 'hmac_sha1' (string expected, got nil)");
}
END_TEST

/* escape_uri / unescape_uri (SPEC §6.6, the rules recorded from ngx_lua 0.10.23) */
START_TEST(test_uri_escape)
{
    static const vec_t esc[] = {
        {"''", ""},
        {"'abcXYZ019-._~!*\\'()'", "abcXYZ019-._~!*'()"},
        {"'a b/\\195\\169'", "a%20b%2F%C3%A9"},
        {"'%+?#\\0\\127\\255'", "%25%2B%3F%23%00%7F%FF"},
        {"1e100", "1e%2B100"},
        {"nil", ""},
        {"false", ""},
        {"true", "true"},
    };

    check_vectors("return ngx.escape_uri(%s)", esc, NVEC(esc));
    ck_eval("return ngx.escape_uri(' \"#%+?\\'/&\\127\\128', 0)", "%20\"%23%25+%3F'/&%7F%80");
    ck_eval("return ngx.escape_uri(' \"#%+?\\'/&\\127\\128', 1)", "%20\"%23%25%2B%3F'/&%7F%80");
    ck_eval("return ngx.escape_uri(' \"#%+?\\'/&\\127\\128', 2.9)",
            "%20%22%23%25%2B%3F'%2F%26%7F%80");
    ck_eval("return ngx.escape_uri(' \"#%+?\\'/&\\127\\128', 3)", "%20%22%23%25+?%27/&%7F%80");
    ck_eval("return ngx.escape_uri(' \"#%+?\\'/&\\127\\128', 4)", "%20%22#%+?%27/&%7F%80");
    ck_eval("return ngx.escape_uri(' \"#%+?\\'/&\\127\\128\\1', 5)", "%20\"#%25+?'/&\x7f\x80%01");
    ck_eval("return ngx.escape_uri(' %\\255', 6)", "%20%25\xff");
    ck_eval("local s = 'abc' return ngx.escape_uri(s) == s", "true");
}
END_TEST

START_TEST(test_uri_type_errors)
{
    ck_raises("ngx.escape_uri('a', '2')", "\"type\" is not a number");
    ck_raises("ngx.escape_uri('a', true)", "\"type\" is not a number");
    ck_raises("ngx.escape_uri('a', 7)", "\"type\" 7 out of range");
    ck_raises("ngx.escape_uri('a', -0.5)", "\"type\" -0.5 out of range");
    ck_raises("ngx.escape_uri('a', 6.5)", "\"type\" 6.5 out of range");
    ck_raises("ngx.escape_uri('a', 1/0)", "\"type\" inf out of range");
    ck_raises("ngx.escape_uri('a', 0/0)", "\"type\" nan out of range");
}
END_TEST

START_TEST(test_uri_unescape)
{
    static const vec_t dec[] = {
        {"''", ""},
        {"'a%20b%2Fc%2fd'", "a b/c/d"},
        {"'a+b%2B'", "a b+"},
        {"'%'", "%"},
        {"'%4'", "%4"},
        {"'ab%4'", "ab%4"},
        {"'%%41'", "%A"},
        {"'%zz%4z%x%41'", "%zz%4z%xA"},
        {"'%+41'", "% 41"},
        {"'%c3%A9?x=%3F'", "\303\251?x=?"},
        {"nil", ""},
        {"false", ""},
        {"12", "12"},
        {"1e100", "1e 100"},
    };

    check_vectors("return ngx.unescape_uri(%s)", dec, NVEC(dec));
    ck_eval("local t = {} for b = 0, 255 do t[#t + 1] = string.char(b) end "
            "local s = table.concat(t) "
            "return ngx.unescape_uri(ngx.escape_uri(s)) == s "
            "and ngx.unescape_uri((ngx.escape_uri(s):gsub('%%%x%x', string.lower))) == s",
            "true");
    ck_eval("return select('#', ngx.unescape_uri('a', 'b'))", "1");
}
END_TEST

static Suite *string_suite(void)
{
    Suite *s = suite_create("string");
    TCase *tb = tcase_create("base64");
    TCase *td = tcase_create("digests");
    TCase *ta = tcase_create("arguments");
    TCase *tu = tcase_create("uri");

    tcase_add_checked_fixture(tb, setup, teardown);
    tcase_add_checked_fixture(td, setup, teardown);
    tcase_add_checked_fixture(ta, setup, teardown);
    tcase_add_checked_fixture(tu, setup, teardown);
    tcase_add_test(tb, test_functions_present);
    tcase_add_test(tb, test_base64_rfc4648);
    tcase_add_test(tb, test_base64_roundtrip);
    tcase_add_test(tb, test_base64_invalid);
    tcase_add_test(td, test_md5_rfc1321);
    tcase_add_test(td, test_sha1_rfc3174);
    tcase_add_test(td, test_hmac_sha1_rfc2202);
    tcase_add_test(td, test_crc32);
    tcase_add_test(td, test_binary_safe);
    tcase_add_test(ta, test_args_nil_and_numbers);
    tcase_add_test(ta, test_args_errors);
    tcase_add_test(tu, test_uri_escape);
    tcase_add_test(tu, test_uri_type_errors);
    tcase_add_test(tu, test_uri_unescape);
    suite_add_tcase(s, tb);
    suite_add_tcase(s, td);
    suite_add_tcase(s, ta);
    suite_add_tcase(s, tu);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(string_suite());

    return check_run(sr);
}
