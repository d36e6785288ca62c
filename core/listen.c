/* listen.c: opening the listening sockets of every `listen` directive with its options.
 * Done once (by the master when there is one) so that workers share the sockets. */
#include "listen.h"
#include "log.h"
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every option set here was asked for by the configuration (SO_REUSEADDR always is), so a
 * refusal fails the start rather than serving with other settings than configured; `what`
 * names the option for the message, "setsockopt(SO_REUSEPORT) to ADDR failed (...)". */
static int opt(int fd, int level, int name, int value, const char *text, const char **what)
{
    *what = text;
    return setsockopt(fd, level, name, &value, sizeof value);
}
/* In the functions below, which all have `fd` and `what` (const char **) in scope. */
#define OPT(level, name, value) opt(fd, level, name, value, "setsockopt(" #name ")", what)

static int keepalive_opts(int fd, const listen_conf_t *l, const char **what)
{
    if (l->so_keepalive == CONF_UNSET) return 0;
    if (OPT(SOL_SOCKET, SO_KEEPALIVE, l->so_keepalive)) return -1;
    if (l->keepidle && OPT(IPPROTO_TCP, TCP_KEEPIDLE, l->keepidle)) return -1;
    if (l->keepintvl && OPT(IPPROTO_TCP, TCP_KEEPINTVL, l->keepintvl)) return -1;
    if (l->keepcnt && OPT(IPPROTO_TCP, TCP_KEEPCNT, l->keepcnt)) return -1;
    return 0;
}

/* The options set before bind(); -1 with *what naming the one refused. */
static int bind_opts(int fd, const listen_conf_t *l, const char **what)
{
    if (OPT(SOL_SOCKET, SO_REUSEADDR, 1)) return -1;
    if (l->reuseport && OPT(SOL_SOCKET, SO_REUSEPORT, 1)) return -1;
    if (l->sa.ss_family == AF_INET6 && OPT(IPPROTO_IPV6, IPV6_V6ONLY, l->ipv6only != 0)) return -1;
    if (l->rcvbuf && OPT(SOL_SOCKET, SO_RCVBUF, l->rcvbuf)) return -1;
    if (l->sndbuf && OPT(SOL_SOCKET, SO_SNDBUF, l->sndbuf)) return -1;
    return keepalive_opts(fd, l, what);
}

/* The options set after listen(). */
static int listen_opts(int fd, const listen_conf_t *l, const char **what)
{
    if (l->deferred && OPT(IPPROTO_TCP, TCP_DEFER_ACCEPT, 1)) return -1;
    return 0;
}

static int open_one(const listen_conf_t *l, char *err, size_t errlen)
{
    int fd = socket(l->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const char *what = "socket()";
    if (fd < 0 || bind_opts(fd, l, &what) != 0) goto fail;
    what = "bind()";
    if (bind(fd, (const struct sockaddr *)&l->sa, l->salen) != 0) goto fail;
    what = "listen()";
    if (listen(fd, l->backlog) != 0 || listen_opts(fd, l, &what) != 0) goto fail;
    return fd;
fail:
    snprintf(err, errlen, "%s to %s failed (%d: %s)", what, l->text, errno, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
}

/* A reload keeps the socket of an address that stays configured (no refused connections). */
static int take_old(const listen_conf_t *l, listener_t *old, int nold)
{
    for (int i = 0; i < nold; i++)
        if (old[i].fd >= 0 && conf_listen_same(old[i].conf, l)) {
            int fd = old[i].fd;
            old[i].fd = -1;
            return fd;
        }
    return -1;
}

int listen_open_all(main_conf_t *m, listener_t *old, int nold, listener_t **out, int *count,
                    char *err, size_t errlen)
{
    int n = 0;
    for (server_conf_t *s = m->tcp ? m->tcp->servers : NULL; s; s = s->next)
        for (listen_conf_t *l = s->listens; l; l = l->next) n++;
    listener_t *ls = calloc((size_t)n + 1, sizeof *ls);
    if (!ls) return snprintf(err, errlen, "out of memory"), -1;
    int i = 0;
    for (server_conf_t *s = m->tcp ? m->tcp->servers : NULL; s; s = s->next)
        for (listen_conf_t *l = s->listens; l; l = l->next, i++) {
            ls[i].conf = l;
            ls[i].server = s;
            if ((ls[i].fd = take_old(l, old, nold)) < 0 && (ls[i].fd = open_one(l, err, errlen)) < 0) {
                listen_close_all(ls, i, old, nold);
                return -1;
            }
        }
    *out = ls;
    *count = n;
    return 0;
}

/* Closes ls[0..n); fds taken from old go back to old instead (a failed reload keeps them). */
void listen_close_all(listener_t *ls, int n, listener_t *old, int nold)
{
    for (int i = 0; i < n; i++) {
        int back = 0;
        for (int j = 0; j < nold && !back; j++)
            if (old[j].fd < 0 && conf_listen_same(old[j].conf, ls[i].conf)) {
                old[j].fd = ls[i].fd;
                back = 1;
            }
        if (!back && ls[i].fd >= 0) close(ls[i].fd);
    }
    free(ls);
}
