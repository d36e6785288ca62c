/* test_listen.c: unit tests of opening listening sockets (core/listen.c): a socket option the
 * configuration asks for that the kernel refuses fails the start, naming the option
 * (SPEC [proc.listen.fail]). Linux accepts every option a valid configuration can ask for, so
 * this test defines setsockopt() itself (the executable's definition wins over libc's for the
 * linked library) and makes exactly one (level, name) fail; everything else goes to the
 * kernel. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "conf_internal.h"
#include "listen.h"
#include "tests/check_run.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int fail_level = -1, fail_name = -1;
static int failed_fd = -1; /* the socket the refused option was set on */

int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
    if (level == fail_level && name == fail_name) {
        failed_fd = fd;
        errno = ENOPROTOOPT;
        return -1;
    }
    return (int)syscall(SYS_setsockopt, fd, level, name, value, len);
}

/* A loopback port nothing listens on right now; -1 when the host has no such loopback. */
static int free_port(int family)
{
    struct sockaddr_storage ss = {0};
    socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    int fd = socket(family, SOCK_STREAM, 0);
    ss.ss_family = (sa_family_t)family;
    if (family == AF_INET) ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        close(fd);
        return -1;
    }
    close(fd);
    return ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                   : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Opens the listeners of `listen ADDR:PORT OPTIONS` with (level, name) refused by the kernel:
 * 0 (and closed again), or -1 with err filled. addr_text gets "ADDR:PORT". */
static int open_with(const char *addr, int port, const char *options, int level, int name,
                     char *addr_text, char *err, size_t errlen)
{
    char text[512];
    snprintf(addr_text, 64, "%s:%d", addr, port);
    snprintf(text, sizeof text, "tcp { server { listen %s %s; protocol tcp_lua; process_by_lua x; } }",
             addr_text, options);
    main_conf_t *m = conf_create("/p/", "conf/t.conf");
    conf_t cf;
    conf_init(&cf, m);
    ck_assert_msg(conf_parse(&cf, text, strlen(text), "t.conf") == 0 && conf_finish(&cf) == 0,
                  "%s: %s", text, cf.err);
    listener_t *ls = NULL;
    int n = 0;
    fail_level = level;
    fail_name = name;
    failed_fd = -1;
    err[0] = '\0';
    int rc = listen_open_all(m, NULL, 0, &ls, &n, err, errlen);
    fail_level = fail_name = -1;
    if (rc == 0) listen_close_all(ls, n, NULL, 0);
    conf_destroy(m);
    return rc;
}

typedef struct {
    const char *addr;
    int family;
    const char *options;
    int level, name;
    const char *shown; /* NULL: the option is not asked for, the start succeeds */
} row_t;

static const row_t rows[] = {
    {"127.0.0.1", AF_INET, "", SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR"},
    {"127.0.0.1", AF_INET, "reuseport", SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT"},
    {"127.0.0.1", AF_INET, "rcvbuf=64k", SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"},
    {"127.0.0.1", AF_INET, "sndbuf=64k", SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF"},
    {"127.0.0.1", AF_INET, "so_keepalive=on", SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE"},
    {"127.0.0.1", AF_INET, "so_keepalive=off", SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE"},
    {"127.0.0.1", AF_INET, "so_keepalive=30s::", IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE"},
    {"127.0.0.1", AF_INET, "so_keepalive=:10s:", IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL"},
    {"127.0.0.1", AF_INET, "so_keepalive=::3", IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT"},
    {"127.0.0.1", AF_INET, "deferred", IPPROTO_TCP, TCP_DEFER_ACCEPT, "TCP_DEFER_ACCEPT"},
    {"[::1]", AF_INET6, "", IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY"},
    {"[::1]", AF_INET6, "ipv6only=off", IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY"},
    /* Options not asked for are not set, so their failure cannot fail the start. */
    {"127.0.0.1", AF_INET, "", SOL_SOCKET, SO_REUSEPORT, NULL},
    {"127.0.0.1", AF_INET, "", SOL_SOCKET, SO_RCVBUF, NULL},
    {"127.0.0.1", AF_INET, "", SOL_SOCKET, SO_KEEPALIVE, NULL},
    {"127.0.0.1", AF_INET, "so_keepalive=on", IPPROTO_TCP, TCP_KEEPIDLE, NULL},
    {"127.0.0.1", AF_INET, "", IPPROTO_TCP, TCP_DEFER_ACCEPT, NULL},
    {"127.0.0.1", AF_INET, "", IPPROTO_IPV6, IPV6_V6ONLY, NULL},
};

START_TEST(refused_option)
{
    const row_t *r = &rows[_i];
    char addr[64], err[256], want[256];
    int port = free_port(r->family);
    if (port < 0 && r->family == AF_INET6) return; /* no IPv6 loopback on this host */
    ck_assert_int_gt(port, 0);
    int rc = open_with(r->addr, port, r->options, r->level, r->name, addr, err, sizeof err);
    if (!r->shown) {
        ck_assert_msg(rc == 0, "listen %s %s: %s", addr, r->options, err);
        return;
    }
    snprintf(want, sizeof want, "setsockopt(%s) to %s failed (%d: %s)", r->shown, addr,
             ENOPROTOOPT, strerror(ENOPROTOOPT));
    ck_assert_msg(rc == -1, "listen %s %s: started although %s was refused", addr, r->options, r->shown);
    ck_assert_str_eq(err, want);
    ck_assert_int_ge(failed_fd, 0);
    ck_assert_msg(fcntl(failed_fd, F_GETFD) == -1 && errno == EBADF, "socket %d left open", failed_fd);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("listen");
    TCase *tc = tcase_create("options");
    tcase_add_loop_test(tc, refused_option, 0, N(rows));
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    return check_run(sr);
}
