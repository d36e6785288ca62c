/* test_stream_nomem.c: the stream when buffer memory runs out. This binary supplies its own
 * block_alloc/block_free (so blockpool.o is not linked) that fail on demand: a receive
 * buffer that cannot be allocated must end the stream with "no memory", not look like a
 * full buffer (which made the session wait for read_timeout), and a send queue that cannot
 * grow must refuse the write. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "blockpool.h"
#include "stream.h"
#include "errstr.h"
#include "tests/check_run.h"

static int fail_alloc;

void *block_alloc(size_t size)
{
    return fail_alloc ? NULL : malloc(size);
}

void block_free(void *p, size_t size)
{
    (void)size;
    free(p);
}

static void nop(stream_t *s) { (void)s; }
static const stream_handler_t handler = {nop, nop, nop};

START_TEST(receive_buffer_failure_ends_the_stream)
{
    int sv[2];
    stream_t st;
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    stream_loop = ev_loop_new(EVFLAG_AUTO);
    stream_init(&st, sv[0], &handler, &st, 65536);
    ck_assert_int_eq(write(sv[1], "data", 4), 4);
    fail_alloc = 1;
    ck_assert_int_eq(stream_fill(&st, 1), -1);
    ck_assert(st.eof);
    ck_assert_str_eq(st.err, ERR_NOMEM);
    ck_assert_int_eq(stream_write(&st, "x", 1), -1);
    ck_assert_uint_eq(stream_queued(&st), 0);
    fail_alloc = 0;
    stream_close(&st);
    close(sv[1]);
    ev_loop_destroy(stream_loop);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stream_nomem");
    TCase *t = tcase_create("nomem");
    tcase_add_test(t, receive_buffer_failure_ends_the_stream);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    return check_run(sr);
}
