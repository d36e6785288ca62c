/* test_stream.c: the byte stream over socketpair(), with no Lua VM: reads (partial, capped,
 * eof), writes (partial, resumed on writable, error), the send queue's offset, the deadline,
 * and the handler dispatch. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "stream.h"
#include "errstr.h"
#include "tests/check_run.h"

static int peer; /* the test's end of the socketpair */
static stream_t st;
static int nread, nwrite, ntimeout;

static void h_read(stream_t *s)
{
    (void)s;
    nread++;
}
static void h_write(stream_t *s)
{
    (void)s;
    nwrite++;
}
static void h_timeout(stream_t *s)
{
    (void)s;
    ntimeout++;
}
static const stream_handler_t handler = {h_read, h_write, h_timeout};

static void setup(void)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    stream_loop = ev_loop_new(EVFLAG_AUTO);
    stream_init(&st, sv[0], &handler, &st, 64 * 1024);
    peer = sv[1];
    nread = nwrite = ntimeout = 0;
}

static void teardown(void)
{
    stream_close(&st);
    if (peer >= 0) close(peer);
    ev_loop_destroy(stream_loop);
}

static void send_peer(const char *p, size_t n)
{
    ck_assert_int_eq(write(peer, p, n), (ssize_t)n);
}

/* One turn of the loop, or a few when waiting for an event to arrive. */
static void turn(void)
{
    ev_run(stream_loop, EVRUN_NOWAIT);
}

static void run_until(int *counter, int want)
{
    for (int i = 0; i < 1000 && *counter < want; i++) ev_run(stream_loop, EVRUN_ONCE);
    ck_assert_int_ge(*counter, want);
}

START_TEST(fill_reads_what_is_there)
{
    send_peer("hello", 5);
    ck_assert_int_eq(stream_fill(&st, 1), 5);
    ck_assert_uint_eq(recvbuf_len(&st.in), 5);
    ck_assert(st.drained);                    /* a short read: the kernel is empty */
    ck_assert_int_eq(stream_fill(&st, 1), 0); /* EAGAIN */
    ck_assert(!st.eof);
    ck_assert_ptr_null(st.err);
}
END_TEST

START_TEST(fill_is_capped_by_in_max)
{
    stream_init(&st, stream_fd(&st), &handler, &st, 8192);
    char buf[10000];
    memset(buf, 'x', sizeof buf);
    send_peer(buf, sizeof buf);
    ssize_t got = 0, r;
    while ((r = stream_fill(&st, 1)) > 0) got += r;
    ck_assert_int_eq(r, 0); /* full, not an error: flow control */
    ck_assert_int_eq(got, 8192);
    ck_assert(!st.eof);
    recvbuf_consume(&st.in, 8192);
    ck_assert_int_eq(stream_fill(&st, 1), 10000 - 8192);
}
END_TEST

START_TEST(fill_sees_eof)
{
    send_peer("ab", 2);
    close(peer);
    peer = -1;
    ck_assert_int_eq(stream_fill(&st, 1), 2);
    st.drained = 0;
    ck_assert_int_eq(stream_fill(&st, 1), -1);
    ck_assert(st.eof);
    ck_assert_ptr_null(st.err);                /* a close is no error */
    ck_assert_uint_eq(recvbuf_len(&st.in), 2); /* what came before it is kept */
}
END_TEST

START_TEST(read_events_reach_the_handler)
{
    stream_read(&st, 1);
    turn();
    ck_assert_int_eq(nread, 0);
    send_peer("x", 1);
    run_until(&nread, 1);
    stream_read(&st, 0);
    send_peer("y", 1);
    turn();
    ck_assert_int_eq(nread, 1); /* not wanted: not reported */
}
END_TEST

START_TEST(write_then_flush)
{
    ck_assert_int_eq(stream_write(&st, "abc", 3), 0);
    ck_assert_int_eq(stream_write(&st, "de", 2), 0);
    ck_assert_uint_eq(stream_queued(&st), 5);
    ck_assert_int_eq(stream_flush(&st), 0);
    ck_assert_uint_eq(stream_queued(&st), 0);
    ck_assert_ptr_null(st.out.data); /* an idle stream holds no output memory */
    char buf[8];
    ck_assert_int_eq(read(peer, buf, sizeof buf), 5);
    ck_assert_int_eq(memcmp(buf, "abcde", 5), 0);
}
END_TEST

/* Fills the kernel's buffers, then drains the peer: the stream finishes the flush itself
 * when writable, calling on_write, and every byte arrives once, in order. */
START_TEST(partial_writes_resume_on_writable)
{
    enum {
        N = 1 << 20
    };
    char *data = malloc(N), *got = malloc(N);
    for (int i = 0; i < N; i++) data[i] = (char)(i * 7);
    ck_assert_int_eq(stream_write(&st, data, N), 0);
    ck_assert_int_eq(stream_flush(&st), 1);
    ck_assert_uint_gt(st.out.off, 0); /* sent bytes are skipped, not moved */
    size_t have = 0;
    while (have < N) {
        ssize_t r = read(peer, got + have, N - have);
        if (r > 0) have += (size_t)r;
        else ev_run(stream_loop, EVRUN_ONCE);
    }
    ck_assert_int_ge(nwrite, 1);
    ck_assert_uint_eq(stream_queued(&st), 0);
    ck_assert_int_eq(memcmp(data, got, N), 0);
    free(data);
    free(got);
}
END_TEST

/* With bytes still queued, appends compact only when the sent head is at least as large
 * as what would move: each byte is copied O(1) times however slow the reader. */
START_TEST(send_queue_offset_amortises)
{
    char blk[1000];
    memset(blk, 'q', sizeof blk);
    for (int i = 0; i < 4; i++) ck_assert_int_eq(stream_write(&st, blk, sizeof blk), 0);
    ck_assert_uint_eq(st.out.cap, 4096);
    st.out.off = 1000;                                /* as after a partial send of 1000 bytes */
    ck_assert_int_eq(stream_write(&st, blk, 500), 0); /* head 1000 < 3000 live: grow */
    ck_assert_uint_eq(st.out.cap, 8192);
    ck_assert_uint_eq(st.out.off, 0);
    ck_assert_uint_eq(stream_queued(&st), 3500);
    st.out.off = 3000; /* head 3000 >= 500 live: compact */
    ck_assert_int_eq(stream_write(&st, blk, 1000), 0);
    ck_assert_uint_eq(stream_queued(&st), 1500);
    ck_assert_uint_eq(st.out.cap, 8192);
}
END_TEST

START_TEST(write_error_is_closed)
{
    close(peer);
    peer = -1;
    ck_assert_int_eq(stream_write(&st, "z", 1), 0);
    ck_assert_int_eq(stream_flush(&st), -1);
    ck_assert_str_eq(st.err, ERR_CLOSED);
    ck_assert_uint_eq(stream_queued(&st), 0);
    ck_assert_int_eq(stream_flush(&st), -1); /* sticky */
}
END_TEST

START_TEST(timeout_fires_once)
{
    stream_timer(&st, 5);
    ck_assert(!st.timed_out);
    run_until(&ntimeout, 1);
    ck_assert(st.timed_out);
    stream_timer(&st, -1);
    ck_assert(st.timed_out); /* disarming keeps it for the owner */
    turn();
    ck_assert_int_eq(ntimeout, 1);
    stream_timer(&st, 1000);
    ck_assert(!st.timed_out); /* re-arming clears it */
}
END_TEST

START_TEST(timer_disarmed_does_not_fire)
{
    stream_timer(&st, 1);
    stream_timer(&st, -1);
    usleep(5000);
    turn();
    ck_assert_int_eq(ntimeout, 0);
}
END_TEST

START_TEST(detach_keeps_the_fd)
{
    send_peer("keep", 4);
    stream_fill(&st, 1);
    stream_write(&st, "x", 1);
    int fd = stream_detach(&st);
    ck_assert_ptr_null(st.in.data);
    ck_assert_ptr_null(st.out.data);
    ck_assert_int_ne(fcntl(fd, F_GETFD), -1);  /* still open: a pool may keep it */
    stream_init(&st, fd, &handler, &st, 1024); /* and reuse it */
    ck_assert_int_eq(write(fd, "y", 1), 1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("stream");
    TCase *r = tcase_create("read");
    tcase_add_checked_fixture(r, setup, teardown);
    tcase_add_test(r, fill_reads_what_is_there);
    tcase_add_test(r, fill_is_capped_by_in_max);
    tcase_add_test(r, fill_sees_eof);
    tcase_add_test(r, read_events_reach_the_handler);
    suite_add_tcase(s, r);
    TCase *w = tcase_create("write");
    tcase_add_checked_fixture(w, setup, teardown);
    tcase_add_test(w, write_then_flush);
    tcase_add_test(w, partial_writes_resume_on_writable);
    tcase_add_test(w, send_queue_offset_amortises);
    tcase_add_test(w, write_error_is_closed);
    suite_add_tcase(s, w);
    TCase *t = tcase_create("timer");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, timeout_fires_once);
    tcase_add_test(t, timer_disarmed_does_not_fire);
    tcase_add_test(t, detach_keeps_the_fd);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    return check_run(sr);
}
