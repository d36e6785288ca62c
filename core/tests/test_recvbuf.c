/* test_recvbuf.c: unit tests of the receive buffer (core/recvbuf.c):
 * memory held, atleast/total semantics, ordering, compaction, growth. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "recvbuf.h"
#include "tests/check_run.h"

#define BIG (1u << 20)

/* Appends like a connection would: space, write (here memcpy), commit. */
static void append(recvbuf_t *b, const char *s, size_t n, size_t max)
{
    while (n > 0) {
        size_t avail, k;
        char *p = recvbuf_space(b, n, max, &avail);

        ck_assert_ptr_nonnull(p);
        ck_assert_uint_ge(avail, 1);
        k = avail < n ? avail : n;
        memcpy(p, s, k);
        recvbuf_commit(b, k);
        s += k;
        n -= k;
    }
}

/* One receive(total, atleast): returns 1 and checks the bytes if satisfied. */
static int take(recvbuf_t *b, size_t total, size_t atleast, const char *want)
{
    const char *p;
    size_t n;

    if (!recvbuf_peek(b, total, atleast, &p, &n))
        return 0;
    ck_assert_uint_eq(n, strlen(want));
    ck_assert(memcmp(p, want, n) == 0);
    recvbuf_consume(b, n);
    return 1;
}

START_TEST(empty_holds_nothing)
{
    recvbuf_t b = {0};
    const char *p = NULL;
    size_t n = 99;

    ck_assert_uint_le(sizeof b, 24); /* per connection, even when idle */
    ck_assert_uint_eq(recvbuf_len(&b), 0);
    ck_assert_int_eq(recvbuf_peek(&b, 5, 1, &p, &n), 0);
    recvbuf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.cap, 0);
}
END_TEST

START_TEST(atleast_waits)
{
    recvbuf_t b = {0};

    append(&b, "abc", 3, BIG);
    ck_assert_int_eq(take(&b, 10, 5, ""), 0);
    ck_assert_uint_eq(recvbuf_len(&b), 3);
    append(&b, "de", 2, BIG);
    ck_assert_int_eq(take(&b, 10, 5, "abcde"), 1);
    ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(atleast_one_returns_what_is_there)
{
    recvbuf_t b = {0};

    append(&b, "xy", 2, BIG);
    ck_assert_int_eq(take(&b, 100, 1, "xy"), 1);
    ck_assert_int_eq(take(&b, 100, 1, ""), 0);
}
END_TEST

START_TEST(total_caps_result)
{
    recvbuf_t b = {0};

    append(&b, "abcdefghij", 10, BIG);
    ck_assert_int_eq(take(&b, 4, 1, "abcd"), 1);
    ck_assert_int_eq(take(&b, 4, 4, "efgh"), 1);
    ck_assert_int_eq(take(&b, 4, 3, ""), 0);
    ck_assert_int_eq(take(&b, 4, 2, "ij"), 1);
}
END_TEST

START_TEST(leftovers_in_order)
{
    recvbuf_t b = {0};

    append(&b, "hello world", 11, BIG);
    ck_assert_int_eq(take(&b, 5, 5, "hello"), 1);
    append(&b, "!\n", 2, BIG);
    ck_assert_int_eq(take(&b, 1, 1, " "), 1);
    ck_assert_int_eq(take(&b, 100, 1, "world!\n"), 1);
    ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(freed_when_empty)
{
    recvbuf_t b = {0};
    size_t avail;

    append(&b, "abcd", 4, BIG);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_int_eq(take(&b, 2, 2, "ab"), 1);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_int_eq(take(&b, 2, 2, "cd"), 1);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.cap, 0);
    /* A read that hit EAGAIN commits 0: the buffer must not survive it. */
    ck_assert_ptr_nonnull(recvbuf_space(&b, 10, BIG, &avail));
    recvbuf_commit(&b, 0);
    ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(free_with_data)
{
    recvbuf_t b = {0};

    append(&b, "abcd", 4, BIG);
    recvbuf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(recvbuf_len(&b), 0);
}
END_TEST

START_TEST(compacts_instead_of_growing)
{
    recvbuf_t b = {0};
    char *old;
    size_t avail;

    append(&b, "0123456789AB", 12, 16);
    ck_assert_uint_eq(b.cap, 16);
    old = b.data;
    ck_assert_int_eq(take(&b, 10, 10, "0123456789"), 1);
    /* 4 bytes of tail, 14 free in total: 8 fit only after moving "AB". */
    ck_assert_ptr_eq(recvbuf_space(&b, 8, 16, &avail), old + 2);
    ck_assert_ptr_eq(b.data, old);
    ck_assert_uint_eq(b.start, 0);
    ck_assert_uint_eq(avail, 14);
    memcpy(old + 2, "CD", 2);
    recvbuf_commit(&b, 2);
    ck_assert_int_eq(take(&b, 4, 4, "ABCD"), 1);
}
END_TEST

START_TEST(compacts_small_leftover_for_full_read)
{
    recvbuf_t b = {0};
    char s[4000];
    size_t avail;

    memset(s, 'a', sizeof s);
    append(&b, s, sizeof s, BIG);
    ck_assert_uint_eq(b.cap, RECVBUF_READ_MIN);
    recvbuf_consume(&b, 3990);
    /* 96 bytes of tail would be a short read; moving 10 bytes is cheap. */
    ck_assert_ptr_nonnull(recvbuf_space(&b, 1, BIG, &avail));
    ck_assert_uint_eq(b.start, 0);
    ck_assert_uint_eq(avail, RECVBUF_READ_MIN - 10);
    ck_assert_uint_eq(b.cap, RECVBUF_READ_MIN);
    recvbuf_commit(&b, 0);
    recvbuf_free(&b);
}
END_TEST

START_TEST(no_compaction_of_large_leftover)
{
    recvbuf_t b = {0};
    char s[4000];
    size_t avail;

    memset(s, 'a', sizeof s);
    append(&b, s, sizeof s, BIG);
    recvbuf_consume(&b, 1000);
    /* Moving 3000 bytes to gain 1000 is not worth it (more would move
     * than was consumed): the 96 free bytes already satisfy want = 10. */
    ck_assert_ptr_nonnull(recvbuf_space(&b, 10, BIG, &avail));
    ck_assert_uint_eq(b.start, 1000);
    ck_assert_uint_eq(avail, 96);
    recvbuf_free(&b);
}
END_TEST

START_TEST(read_size_is_bounded)
{
    recvbuf_t b = {0};
    size_t avail;

    ck_assert_ptr_nonnull(recvbuf_space(&b, 10, BIG, &avail));
    ck_assert_uint_eq(avail, RECVBUF_READ_MIN);
    recvbuf_commit(&b, 0);
    ck_assert_ptr_nonnull(recvbuf_space(&b, 10000, BIG, &avail));
    ck_assert_uint_eq(avail, 10000);
    recvbuf_commit(&b, 0);
    /* "No limit" is clamped to what the 32-bit offsets can index. */
    ck_assert_ptr_nonnull(recvbuf_space(&b, 10, SIZE_MAX, &avail));
    ck_assert_uint_eq(avail, RECVBUF_READ_MIN);
    recvbuf_commit(&b, 0);
    /* A small limit (client_max_body_size 1k) bounds the allocation too. */
    ck_assert_ptr_nonnull(recvbuf_space(&b, 10, 1024, &avail));
    ck_assert_uint_eq(avail, 1024);
    ck_assert_uint_eq(b.cap, 1024);
    recvbuf_commit(&b, 0);
    ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(grows_geometrically_to_max)
{
    recvbuf_t b = {0};
    size_t max = 100000, avail, caps = 0, last = 0;
    char *p;

    while (recvbuf_len(&b) < max) {
        p = recvbuf_space(&b, max - recvbuf_len(&b) < 100 ? max - recvbuf_len(&b) : 100, max, &avail);
        ck_assert_ptr_nonnull(p);
        memset(p, 'x', avail);
        recvbuf_commit(&b, avail);
        if (b.cap != last) {
            caps++;
            last = b.cap;
        }
    }
    ck_assert_uint_eq(b.cap, max);
    ck_assert_uint_le(caps, 6); /* 4k 8k 16k 32k 64k 100k */
    errno = 0;
    ck_assert_ptr_null(recvbuf_space(&b, 1, max, &avail));
    ck_assert_int_eq(errno, EMSGSIZE);
    ck_assert_uint_eq(recvbuf_len(&b), max);
    /* Once bytes are taken, there is room again without growing. */
    recvbuf_consume(&b, 10);
    ck_assert_ptr_nonnull(recvbuf_space(&b, 10, max, &avail));
    ck_assert_uint_eq(avail, 10);
    ck_assert_uint_eq(b.cap, max);
    recvbuf_commit(&b, 0);
    recvbuf_free(&b);
}
END_TEST

START_TEST(refuses_beyond_max)
{
    recvbuf_t b = {0};
    size_t avail;

    errno = 0;
    ck_assert_ptr_null(recvbuf_space(&b, 1025, 1024, &avail));
    ck_assert_int_eq(errno, EMSGSIZE);
    ck_assert_ptr_null(b.data);
    append(&b, "abc", 3, 1024);
    ck_assert_ptr_null(recvbuf_space(&b, 1022, 1024, &avail));
    ck_assert_ptr_nonnull(recvbuf_space(&b, 1021, 1024, &avail));
    ck_assert_uint_eq(avail, 1021);
    recvbuf_commit(&b, 0);
    ck_assert_ptr_null(recvbuf_space(&b, 1, 0, &avail));
    ck_assert_int_eq(take(&b, 3, 3, "abc"), 1);
}
END_TEST

START_TEST(zero_lengths)
{
    recvbuf_t b = {0};
    const char *p = NULL;
    size_t n = 99, avail = 0;

    ck_assert_int_eq(recvbuf_peek(&b, 0, 0, &p, &n), 1);
    ck_assert_ptr_nonnull(p); /* safe for lua_pushlstring */
    ck_assert_uint_eq(n, 0);
    recvbuf_consume(&b, 0);
    recvbuf_commit(&b, 0);
    ck_assert_ptr_null(b.data);
    /* want 0 still yields room: read() into 0 bytes would look like EOF. */
    ck_assert_ptr_nonnull(recvbuf_space(&b, 0, BIG, &avail));
    ck_assert_uint_ge(avail, 1);
    recvbuf_commit(&b, 0);
    append(&b, "ab", 2, BIG);
    ck_assert_int_eq(recvbuf_peek(&b, 0, 1, &p, &n), 1);
    ck_assert_uint_eq(n, 0);
    recvbuf_consume(&b, 0);
    ck_assert_uint_eq(recvbuf_len(&b), 2);
    ck_assert_int_eq(take(&b, 2, 0, "ab"), 1);
    ck_assert_ptr_null(b.data);
}
END_TEST

/* Pipelined 7-byte messages arriving in 3-byte reads: the stream comes out
 * intact and, while data stays buffered, the buffer is never reallocated. */
START_TEST(many_small_appends)
{
    recvbuf_t b = {0};
    char msg[8], got[8], *data = NULL;
    size_t i, taken = 0, sent = 0, cap = 0, moves = 0;
    const char *p;
    size_t n;

    append(&b, "0", 1, BIG); /* keep one byte so the buffer persists */
    for (i = 0; i < 100000; i++) {
        snprintf(msg, sizeof msg, "%06zu", i);
        msg[6] = '\n';
        append(&b, msg, 3, BIG);
        append(&b, msg + 3, 4, BIG);
        sent++;
        if (data == NULL) {
            data = b.data;
            cap = b.cap;
        }
        moves += b.data != data || b.cap != cap;
        if (recvbuf_peek(&b, 7, 7, &p, &n)) {
            memcpy(got, p, n);
            recvbuf_consume(&b, n);
            taken++;
        }
    }
    ck_assert_uint_eq(moves, 0);
    ck_assert_uint_eq(taken, sent);
    ck_assert_uint_eq(recvbuf_len(&b), 1);
    ck_assert(memcmp(got, "\n099999", 7) == 0);
    recvbuf_free(&b);
}
END_TEST

static Suite *recvbuf_suite(void)
{
    Suite *s = suite_create("recvbuf");
    TCase *mem = tcase_create("memory");
    TCase *sem = tcase_create("receive semantics");
    TCase *space = tcase_create("space management");

    tcase_add_test(mem, empty_holds_nothing);
    tcase_add_test(mem, freed_when_empty);
    tcase_add_test(mem, free_with_data);
    tcase_add_test(sem, atleast_waits);
    tcase_add_test(sem, atleast_one_returns_what_is_there);
    tcase_add_test(sem, total_caps_result);
    tcase_add_test(sem, leftovers_in_order);
    tcase_add_test(sem, zero_lengths);
    tcase_add_test(sem, many_small_appends);
    tcase_add_test(space, compacts_instead_of_growing);
    tcase_add_test(space, compacts_small_leftover_for_full_read);
    tcase_add_test(space, no_compaction_of_large_leftover);
    tcase_add_test(space, read_size_is_bounded);
    tcase_add_test(space, grows_geometrically_to_max);
    tcase_add_test(space, refuses_beyond_max);
    suite_add_tcase(s, mem);
    suite_add_tcase(s, sem);
    suite_add_tcase(s, space);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(recvbuf_suite());

    return check_run(sr);
}
