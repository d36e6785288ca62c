/* server.c: start-up and shutdown of the whole server: logs, listeners, the Lua VM
 * (init_by_lua runs here, before any worker exists), pid file, then the worker loop. */
#include "server.h"
#include "listen.h"
#include "log.h"
#include "session.h"
#include "worker.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Start-up failures go to stderr (the operator is watching) and to the error log. */
static int fail(const char *msg)
{
    fprintf(stderr, "tcplua: [emerg] %s\n", msg);
    if (log_main.fd != 2) log_error(LOG_EMERG, "%s", msg);
    return 1;
}

static int write_pid(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f) return snprintf(err, errlen, "open() \"%s\" failed", path), -1;
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    return 0;
}

int server_main(main_conf_t *m, const char *prefix, const char *conf, const char *params)
{
    char err[1024];
    listener_t *ls = NULL;
    int nls = 0, rc = 0;
    (void)prefix; (void)conf; (void)params;
    signal(SIGPIPE, SIG_IGN);
    if (log_open(&log_main, m->error_log, err, sizeof err)) return fail(err);
    if (listen_open_all(m, &ls, &nls, err, sizeof err)) return fail(err);
    if (session_vm_init(m, err, sizeof err)) return fail(err);
    if (write_pid(m->pid, err, sizeof err)) return fail(err);
    log_error(LOG_NOTICE, "tcplua started, %d listening socket(s)", nls);
    if (worker_run(m, ls, nls, err, sizeof err)) rc = fail(err);
    log_error(LOG_NOTICE, "exiting");
    session_vm_close();
    for (int i = 0; i < nls; i++) close(ls[i].fd);
    free(ls);
    unlink(m->pid);
    conf_destroy(m);
    return rc;
}
