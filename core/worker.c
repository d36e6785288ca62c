/* worker.c: the event loop of a worker process (or of the single process): accepting on
 * the shared listeners, access rules, worker_connections, the cached clock, access-log
 * writes batched at most 100 ms late, the accept pause when descriptors run out, and the worker's
 * signals: TERM/INT stop now, QUIT stops gracefully, USR1 reopens logs. */
#include "worker.h"
#include "kpool.h"
#include "clock.h"
#include "app.h"
#include "accesslog.h"
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static main_conf_t *wconf;
static listener_t *wls;
static int wnls;
static vserver_t *wvs;
static ev_check clock_watcher;
static ev_prepare flush_watcher;
static ev_timer accesslog_timer;
static ev_timer shutdown_timer;
static ev_timer accept_pause;
static ev_signal sig_term, sig_int, sig_quit, sig_usr1, sig_hup;

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
            if ((a[i] & r->mask[i]) != r->addr[i]) {
                match = 0;
                break;
            }
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
    if (!c) {
        close(fd);
        return;
    }
    /* As nginx: a new connection's first bytes are awaited, not read at once (they rarely
     * came with the handshake: that read would cost an EAGAIN per connection), except
     * after a deferred accept, which hands over connections whose data has arrived. */
    c->stream.drained = !l->conf->deferred;
    if (!access_allowed(s->rules, (struct sockaddr *)ss)) {
        conn_log(c, LOG_ERR, "access forbidden by rule");
        conn_close(c);
        return;
    }
    if (s->tcp_nodelay) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    app->conn_start(c);
}

/* Out of descriptors (EMFILE/ENFILE) the listen queue stays readable but no accept can
 * succeed until a descriptor is freed: retrying at once spins the loop and floods the log.
 * As nginx does, all listeners pause this long instead (one log line per pause); short, as
 * descriptors come back as soon as any session ends. SPEC [proc.accept.emfile]. */
#define ACCEPT_PAUSE_SECONDS 0.1

/* Starts or stops every accept watcher; a listener closed by a graceful stop stays off. */
static void accept_watchers(struct ev_loop *loop, int on)
{
    for (int i = 0; i < wnls; i++) {
        if (!on) ev_io_stop(loop, &wls[i].io);
        else if (wls[i].fd >= 0) ev_io_start(loop, &wls[i].io);
    }
}

static void on_accept_pause_end(struct ev_loop *loop, ev_timer *w, int ev)
{
    (void)w;
    (void)ev;
    accept_watchers(loop, 1);
}

static void pause_accepting(struct ev_loop *loop)
{
    accept_watchers(loop, 0);
    ev_timer_set(&accept_pause, ACCEPT_PAUSE_SECONDS, 0.);
    ev_timer_start(loop, &accept_pause);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int ev)
{
    (void)ev;
    listener_t *l = (listener_t *)((char *)w - offsetof(listener_t, io));
    for (int i = 0; i < 64; i++) { /* bounded so one busy port cannot starve the rest */
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            if (err == EAGAIN || err == EINTR || err == ECONNABORTED) return;
            int out_of_fds = err == EMFILE || err == ENFILE; /* nginx logs these at crit */
            log_error(out_of_fds ? LOG_CRIT : LOG_ALERT, "accept4() on %s failed (%d: %s)", l->conf->text, err,
                      strerror(err));
            if (out_of_fds) pause_accepting(loop);
            return;
        }
        accept_one(l, fd, &ss);
        if (conn_shutting_down) return;
    }
}

static void on_clock(struct ev_loop *loop, ev_check *w, int ev)
{
    (void)loop;
    (void)w;
    (void)ev;
    clock_update();
}

/* How long an access-log line may wait in memory (SPEC accesslog.write): under load the
 * lines of many sessions then go out in one write(); nginx's `flush=` does the same. */
#define ACCESSLOG_DELAY 0.1

static void on_accesslog_due(struct ev_loop *loop, ev_timer *w, int ev)
{
    (void)loop;
    (void)w;
    (void)ev;
    for (vserver_t *vs = wvs; vs; vs = vs->next)
        if (vs->access_len) accesslog_flush(vs);
}

/* Before the loop polls: start the access-log delay for lines written in this turn; end a
 * graceful stop when no connection is left. */
static void on_prepare(struct ev_loop *loop, ev_prepare *w, int ev)
{
    (void)w;
    (void)ev;
    for (vserver_t *vs = wvs; vs && !ev_is_active(&accesslog_timer); vs = vs->next)
        if (vs->access_len) {
            ev_timer_set(&accesslog_timer, ACCESSLOG_DELAY, 0.); /* a fired timer keeps no delay */
            ev_timer_start(loop, &accesslog_timer);
        }
    if (conn_shutting_down && conn_count() == 0) ev_break(loop, EVBREAK_ALL);
}

static void on_stop(struct ev_loop *loop, ev_signal *w, int ev)
{
    (void)w;
    (void)ev;
    ev_break(loop, EVBREAK_ALL);
}

static void on_shutdown_timeout(struct ev_loop *loop, ev_timer *w, int ev)
{
    (void)w;
    (void)ev;
    log_error(LOG_NOTICE, "graceful shutdown timed out, closing %d connection(s)", conn_count());
    ev_break(loop, EVBREAK_ALL);
}

/* Graceful stop: no more accepts, idle sessions end now, others get worker_shutdown_timeout. */
static void on_quit(struct ev_loop *loop, ev_signal *w, int ev)
{
    (void)w;
    (void)ev;
    if (conn_shutting_down) return;
    conn_shutting_down = 1;
    ev_timer_stop(loop, &accept_pause); /* a pause must not re-arm closed listeners */
    for (int i = 0; i < wnls; i++) {
        ev_io_stop(loop, &wls[i].io);
        close(wls[i].fd);
        wls[i].fd = -1;
    }
    conn_close_idle();
    kpool_close_all(); /* idle upstreams hold no session: they go now */
    ev_timer_init(&shutdown_timer, on_shutdown_timeout, (double)wconf->worker_shutdown_timeout / 1000.0, 0.);
    ev_timer_start(loop, &shutdown_timer);
}

static void on_hup_single(struct ev_loop *loop, ev_signal *w, int ev)
{
    (void)loop;
    (void)w;
    (void)ev;
    log_error(LOG_WARN, "reload needs \"master_process on\"; SIGHUP ignored");
}

static void on_reopen(struct ev_loop *loop, ev_signal *w, int ev)
{
    (void)loop;
    (void)w;
    (void)ev;
    vservers_reopen(wconf, wvs);
}

static void start_signal(struct ev_loop *loop, ev_signal *s, void (*cb)(struct ev_loop *, ev_signal *, int), int sig)
{
    ev_signal_init(s, cb, sig);
    ev_signal_start(loop, s);
}

int worker_run(main_conf_t *m, listener_t *ls, int nls, vserver_t *vs)
{
    struct ev_loop *loop = stream_loop = ev_default_loop(EVFLAG_AUTO);
    wconf = m;
    wls = ls;
    wnls = nls;
    wvs = vs;
    ev_check_init(&clock_watcher, on_clock);
    ev_set_priority(&clock_watcher, EV_MAXPRI);
    ev_check_start(loop, &clock_watcher);
    ev_prepare_init(&flush_watcher, on_prepare);
    ev_prepare_start(loop, &flush_watcher);
    ev_init(&accesslog_timer, on_accesslog_due);
    ev_timer_init(&accept_pause, on_accept_pause_end, 0., 0.);
    start_signal(loop, &sig_term, on_stop, SIGTERM);
    start_signal(loop, &sig_int, on_stop, SIGINT);
    start_signal(loop, &sig_quit, on_quit, SIGQUIT);
    start_signal(loop, &sig_usr1, on_reopen, SIGUSR1);
    if (!m->master_process) start_signal(loop, &sig_hup, on_hup_single, SIGHUP);
    sigset_t none; /* a worker starts with the master's signals blocked (master.c) */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int i = 0; i < nls; i++) {
        ev_io_init(&ls[i].io, on_accept, ls[i].fd, EV_READ);
        ev_io_start(loop, &ls[i].io);
    }
    ev_run(loop, 0);
    conn_close_all();
    kpool_close_all();
    for (vserver_t *v = vs; v; v = v->next) accesslog_flush(v);
    return 0;
}
