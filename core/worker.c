/* worker.c: the event loop of a worker process: accepting on the shared listeners,
 * access rules, worker_connections, the cached clock, and stop signals. */
#include "worker.h"
#include "clock.h"
#include "session.h"
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static main_conf_t *wconf;
static listener_t *wls;
static int wnls;
static ev_check clock_watcher;
static ev_signal sig_term, sig_int, sig_quit;

/* allow/deny in order; the first rule that matches decides; no rule matching allows. */
static int access_allowed(const access_rule_t *r, const struct sockaddr *sa)
{
    const uint8_t *a = sa->sa_family == AF_INET ? (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr
                                                : (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
    int n = sa->sa_family == AF_INET ? 4 : 16;
    for (; r; r = r->next) {
        if (r->family && r->family != sa->sa_family) continue;
        int match = 1;
        for (int i = 0; r->family && i < n; i++)
            if ((a[i] & r->mask[i]) != r->addr[i]) { match = 0; break; }
        if (match) return !r->deny;
    }
    return 1;
}

static void accept_one(listener_t *l, int fd, struct sockaddr_storage *ss)
{
    vserver_t *vs = l->vs;
    srv_conf_t *s = &vs->conf->s;
    if (conn_count() >= wconf->worker_connections) {
        log_write(&vs->log, LOG_ALERT, 0, NULL, "%ld worker_connections are not enough", wconf->worker_connections);
        close(fd);
        return;
    }
    conn_t *c = conn_create(fd, vs, (struct sockaddr *)ss);
    if (!c) { close(fd); return; }
    if (!access_allowed(s->rules, (struct sockaddr *)ss)) {
        conn_log(c, LOG_ERR, "access forbidden by rule");
        conn_close(c);
        return;
    }
    if (s->tcp_nodelay) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    session_start(c);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int ev)
{
    (void)loop; (void)ev;
    listener_t *l = (listener_t *)((char *)w - offsetof(listener_t, io));
    for (int i = 0; i < 64; i++) {       /* bounded so one busy port cannot starve the rest */
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                log_error(LOG_ALERT, "accept4() on %s failed (%d: %s)", l->conf->text, errno, strerror(errno));
            return;
        }
        accept_one(l, fd, &ss);
    }
}

static void on_clock(struct ev_loop *loop, ev_check *w, int ev)
{
    (void)loop; (void)w; (void)ev;
    clock_update();
}

static void on_stop(struct ev_loop *loop, ev_signal *w, int ev)
{
    (void)w; (void)ev;
    ev_break(loop, EVBREAK_ALL);
}

static int vservers_init(char *err, size_t errlen)
{
    for (int i = 0; i < wnls; i++) {
        listener_t *l = &wls[i];
        for (int j = 0; j < i; j++)
            if (wls[j].server == l->server) { l->vs = wls[j].vs; break; }
        if (l->vs) continue;
        vserver_t *vs = calloc(1, sizeof *vs);
        if (!vs) return snprintf(err, errlen, "out of memory"), -1;
        vs->conf = l->server;
        vs->access_fd = -1;
        if (log_open(&vs->log, l->server->s.error_log, err, errlen)) return -1;
        if (session_server_init(vs, err, errlen)) return -1;
        l->vs = vs;
    }
    return 0;
}

int worker_run(main_conf_t *m, listener_t *ls, int nls, char *err, size_t errlen)
{
    struct ev_loop *loop = conn_loop = ev_default_loop(EVFLAG_AUTO);
    wconf = m; wls = ls; wnls = nls;
    if (vservers_init(err, errlen)) return -1;
    ev_check_init(&clock_watcher, on_clock);
    ev_set_priority(&clock_watcher, EV_MAXPRI);
    ev_check_start(loop, &clock_watcher);
    ev_signal_init(&sig_term, on_stop, SIGTERM);
    ev_signal_init(&sig_int, on_stop, SIGINT);
    ev_signal_init(&sig_quit, on_stop, SIGQUIT);
    ev_signal_start(loop, &sig_term);
    ev_signal_start(loop, &sig_int);
    ev_signal_start(loop, &sig_quit);
    for (int i = 0; i < nls; i++) {
        ev_io_init(&ls[i].io, on_accept, ls[i].fd, EV_READ);
        ev_io_start(loop, &ls[i].io);
    }
    ev_run(loop, 0);
    conn_close_all();
    return 0;
}
