/* master.c: the master process: starts the workers (which drop root's rights before they
 * run any Lua code), watches them, and turns signals into actions: TERM/INT stop, QUIT
 * graceful stop, HUP reload, USR1 reopen, SIGCHLD respawn.
 * It waits in sigsuspend() like nginx's master (no event loop), so a signal is never
 * handled half-way through reconfiguration. */
#include "master.h"
#include "worker.h"
#include "clock.h"
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Seconds a stopping worker gets after TERM before the master sends KILL. */
#define KILL_AFTER_SEC 5
/* nginx's exit status of a worker that must not be replaced (it could not drop privileges:
 * a new one would fail the same way, forever). */
#define EXIT_FATAL 2

typedef struct worker {
    pid_t pid;
    int generation;
} worker_t;

static volatile sig_atomic_t sig_terminate, sig_quit, sig_reload, sig_reopen, sig_child, sig_alarm;
/* Old generations may linger after reloads (graceful stops), so the table grows on demand:
 * a fixed table would silently start fewer workers once it filled up. */
static worker_t *workers;
static int nslots;
static int generation;

static void on_signal(int sig)
{
    switch (sig) {
    case SIGTERM:
    case SIGINT: sig_terminate = 1; break;
    case SIGQUIT: sig_quit = 1; break;
    case SIGHUP: sig_reload = 1; break;
    case SIGUSR1: sig_reopen = 1; break;
    case SIGCHLD: sig_child = 1; break;
    case SIGALRM: sig_alarm = 1; break;
    }
}

static const int handled[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGCHLD, SIGALRM};
#define NHANDLED (int)(sizeof handled / sizeof handled[0])

static void install_signals(sigset_t *blocked)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(blocked);
    for (int i = 0; i < NHANDLED; i++) {
        sigaction(handled[i], &sa, NULL);
        sigaddset(blocked, handled[i]);
    }
    sigprocmask(SIG_BLOCK, blocked, NULL);
}

/* In the child: default dispositions, so the worker's libev owns signals. The mask stays as the
 * master's (all of them blocked) until worker_run() has its watchers: a QUIT from the next
 * reload that reached a just-forked worker would otherwise kill it with the default action
 * before its loop could stop it gracefully; blocked, it waits and is handled. */
static void child_signals(void)
{
    for (int i = 0; i < NHANDLED; i++) signal(handled[i], SIG_DFL);
}

static void fatal(const char *what, long id)
{
    log_error(LOG_EMERG, "%s(%ld) failed (%d: %s)", what, id, errno, strerror(errno));
    _exit(EXIT_FATAL);
}

/* nginx's ngx_worker_process_init: the descriptor limit first (only root may raise a hard
 * limit), then group, supplementary groups and user, so that no script of the worker ever
 * runs with root's rights. [proc.rlimit_nofile], [proc.user] */
static void worker_privileges(const main_conf_t *m)
{
    if (m->worker_rlimit_nofile != CONF_UNSET) {
        struct rlimit r = {(rlim_t)m->worker_rlimit_nofile, (rlim_t)m->worker_rlimit_nofile};
        if (setrlimit(RLIMIT_NOFILE, &r) != 0)
            log_error(LOG_ALERT, "setrlimit(RLIMIT_NOFILE, %ld) failed (%d: %s)", m->worker_rlimit_nofile, errno,
                      strerror(errno));
    }
    if (m->user_uid == CONF_UNSET || geteuid() != 0) return;
    if (setgid((gid_t)m->user_gid) != 0) fatal("setgid", m->user_gid);
    if (initgroups(m->user, (gid_t)m->user_gid) != 0) {
        log_error(LOG_EMERG, "initgroups(%s, %ld) failed (%d: %s)", m->user, m->user_gid, errno, strerror(errno));
        _exit(EXIT_FATAL); /* unlike nginx: root's supplementary groups must not stay */
    }
    if (setuid((uid_t)m->user_uid) != 0) fatal("setuid", m->user_uid);
    /* setuid() made the process undumpable: core dumps back, and /proc/self readable by it. */
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
        log_error(LOG_ALERT, "prctl(PR_SET_DUMPABLE) failed (%d: %s)", errno, strerror(errno));
}

static void spawn(cycle_t *mt, int slot)
{
    pid_t pid = fork();
    if (pid < 0) {
        log_error(LOG_ALERT, "fork() failed (%d: %s)", errno, strerror(errno));
        return;
    }
    if (pid == 0) {
        child_signals();
        worker_privileges(mt->conf);
        worker_run(mt->conf, mt->ls, mt->nls, mt->vs);
        _exit(0);
    }
    workers[slot].pid = pid;
    workers[slot].generation = generation;
    log_error(LOG_NOTICE, "start worker process %d", (int)pid);
}

/* A free slot, growing the table when every slot holds a live worker; -1 when out of memory. */
static int free_slot(void)
{
    for (int i = 0; i < nslots; i++)
        if (!workers[i].pid) return i;
    int n = nslots ? nslots * 2 : 16;
    worker_t *w = realloc(workers, (size_t)n * sizeof *w);
    if (!w) return -1;
    memset(w + nslots, 0, (size_t)(n - nslots) * sizeof *w);
    workers = w;
    int slot = nslots;
    nslots = n;
    return slot;
}

static void spawn_all(cycle_t *mt)
{
    for (long n = 0; n < mt->conf->worker_processes; n++) {
        int slot = free_slot();
        if (slot < 0) {
            log_error(LOG_ALERT, "out of memory: started %ld of %ld worker processes", n, mt->conf->worker_processes);
            return;
        }
        spawn(mt, slot);
    }
}

static int alive(void)
{
    int n = 0;
    for (int i = 0; i < nslots; i++) n += workers[i].pid != 0;
    return n;
}

static void signal_workers(int sig, int only_old)
{
    for (int i = 0; i < nslots; i++)
        if (workers[i].pid && (!only_old || workers[i].generation != generation))
            kill(workers[i].pid, sig);
}

/* Reaps exited workers; replaces current-generation ones that died unasked. */
static void reap(cycle_t *mt, int stopping)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < nslots; i++) {
            if (workers[i].pid != pid) continue;
            int current = workers[i].generation == generation;
            workers[i].pid = 0;
            if (current && !stopping && WIFEXITED(status) && WEXITSTATUS(status) == EXIT_FATAL) {
                log_error(LOG_ALERT, "worker process %d exited with fatal code %d and cannot be respawned", (int)pid,
                          EXIT_FATAL);
                continue;
            }
            if (WIFSIGNALED(status))
                log_error(current && !stopping ? LOG_ALERT : LOG_NOTICE, "worker process %d exited on signal %d",
                          (int)pid, WTERMSIG(status));
            else if (WEXITSTATUS(status) != 0 || (current && !stopping))
                log_error(LOG_ALERT, "worker process %d exited with code %d", (int)pid, WEXITSTATUS(status));
            else
                log_error(LOG_NOTICE, "worker process %d exited with code 0", (int)pid);
            if (current && !stopping) spawn(mt, i);
        }
    }
}

/* Waits until every worker is gone; TERM stops escalate to KILL after a grace period. */
static void wait_workers(cycle_t *mt, sigset_t *none, unsigned kill_after)
{
    if (kill_after) alarm(kill_after);
    while (alive()) {
        sigsuspend(none);
        clock_update();
        if (sig_child) {
            sig_child = 0;
            reap(mt, 1);
        }
        if (sig_terminate && !kill_after) {
            sig_terminate = 0;
            signal_workers(SIGTERM, 0);
            alarm(KILL_AFTER_SEC);
            kill_after = KILL_AFTER_SEC;
        }
        if (sig_alarm) {
            sig_alarm = 0;
            signal_workers(SIGKILL, 0);
        }
    }
    alarm(0);
}

/* Reload: new workers on the new configuration, then the old ones stop gracefully. */
static void reload(cycle_t *mt)
{
    if (cycle_reload(mt) != 0) return;
    generation++;
    spawn_all(mt);
    signal_workers(SIGQUIT, 1);
}

/* Acts on the signals that arrived; returns 1 once the master should exit. */
static int on_signals(cycle_t *mt, sigset_t *none)
{
    if (sig_child) {
        sig_child = 0;
        reap(mt, 0);
    }
    if (sig_terminate) {
        sig_terminate = 0;
        signal_workers(SIGTERM, 0);
        wait_workers(mt, none, KILL_AFTER_SEC);
        return 1;
    }
    if (sig_quit) {
        sig_quit = 0;
        signal_workers(SIGQUIT, 0);
        cycle_close_listeners(mt);
        wait_workers(mt, none, 0);
        return 1;
    }
    if (sig_reload) {
        sig_reload = 0;
        reload(mt);
    }
    if (sig_reopen) {
        sig_reopen = 0;
        vservers_reopen(mt->conf, mt->vs);
        vservers_chown_logs(mt->conf, mt->vs); /* before the workers reopen them as their user */
        signal_workers(SIGUSR1, 0);
    }
    return 0;
}

int master_run(cycle_t *mt)
{
    sigset_t blocked, none;
    install_signals(&blocked);
    sigemptyset(&none);
    generation = 1;
    spawn_all(mt);
    do {
        sigsuspend(&none);
        clock_update();
    } while (!on_signals(mt, &none));
    free(workers);
    workers = NULL;
    nslots = 0;
    return 0;
}
