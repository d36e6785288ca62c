/* master.c: the master process: starts the workers, watches them, and turns signals into
 * actions: TERM/INT stop, QUIT graceful stop, HUP reload, USR1 reopen, SIGCHLD respawn.
 * It waits in sigsuspend() like nginx's master (no event loop), so a signal is never
 * handled half-way through reconfiguration. */
#include "master.h"
#include "session.h"
#include "worker.h"
#include "clock.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_WORKERS 2048

typedef struct worker { pid_t pid; int generation; } worker_t;

static volatile sig_atomic_t sig_terminate, sig_quit, sig_reload, sig_reopen, sig_child, sig_alarm;
static worker_t workers[MAX_WORKERS];
static int generation;

static void on_signal(int sig)
{
    switch (sig) {
    case SIGTERM: case SIGINT: sig_terminate = 1; break;
    case SIGQUIT: sig_quit = 1; break;
    case SIGHUP: sig_reload = 1; break;
    case SIGUSR1: sig_reopen = 1; break;
    case SIGCHLD: sig_child = 1; break;
    case SIGALRM: sig_alarm = 1; break;
    }
}

static const int handled[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGCHLD, SIGALRM };
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

/* In the child: default dispositions and an empty mask, so the worker's libev owns signals. */
static void child_signals(void)
{
    sigset_t none;
    for (int i = 0; i < NHANDLED; i++) signal(handled[i], SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void spawn(master_t *mt, int slot)
{
    pid_t pid = fork();
    if (pid < 0) { log_error(LOG_ALERT, "fork() failed (%d: %s)", errno, strerror(errno)); return; }
    if (pid == 0) {
        child_signals();
        worker_run(mt->conf, mt->ls, mt->nls, mt->vs);
        _exit(0);
    }
    workers[slot].pid = pid;
    workers[slot].generation = generation;
    log_error(LOG_NOTICE, "start worker process %d", (int)pid);
}

static void spawn_all(master_t *mt)
{
    long n = mt->conf->worker_processes;
    for (int i = 0; i < MAX_WORKERS && n > 0; i++)
        if (!workers[i].pid) { spawn(mt, i); n--; }
}

static int alive(void)
{
    int n = 0;
    for (int i = 0; i < MAX_WORKERS; i++) n += workers[i].pid != 0;
    return n;
}

static void signal_workers(int sig, int only_old)
{
    for (int i = 0; i < MAX_WORKERS; i++)
        if (workers[i].pid && (!only_old || workers[i].generation != generation))
            kill(workers[i].pid, sig);
}

/* Reaps exited workers; replaces current-generation ones that died unasked. */
static void reap(master_t *mt, int stopping)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < MAX_WORKERS; i++) {
            if (workers[i].pid != pid) continue;
            int current = workers[i].generation == generation;
            workers[i].pid = 0;
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
static void wait_workers(master_t *mt, sigset_t *none, unsigned kill_after)
{
    if (kill_after) alarm(kill_after);
    while (alive()) {
        sigsuspend(none);
        clock_update();
        if (sig_child) { sig_child = 0; reap(mt, 1); }
        if (sig_terminate && !kill_after) { sig_terminate = 0; signal_workers(SIGTERM, 0); alarm(5); kill_after = 5; }
        if (sig_alarm) { sig_alarm = 0; signal_workers(SIGKILL, 0); }
    }
    alarm(0);
}

int master_run(master_t *mt)
{
    sigset_t blocked, none;
    install_signals(&blocked);
    sigemptyset(&none);
    generation = 1;
    spawn_all(mt);
    for (;;) {
        sigsuspend(&none);
        clock_update();
        if (sig_child) { sig_child = 0; reap(mt, 0); }
        if (sig_terminate) { sig_terminate = 0; signal_workers(SIGTERM, 0); wait_workers(mt, &none, 5); break; }
        if (sig_quit) {
            sig_quit = 0;
            signal_workers(SIGQUIT, 0);
            master_close_listeners(mt);
            wait_workers(mt, &none, 0);
            break;
        }
        if (sig_reload) { sig_reload = 0; if (master_reload(mt) == 0) { generation++; spawn_all(mt); signal_workers(SIGQUIT, 1); } }
        if (sig_reopen) { sig_reopen = 0; vservers_reopen(mt->conf, mt->vs); signal_workers(SIGUSR1, 0); }
    }
    return 0;
}
