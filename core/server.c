/* server.c: start-up and shutdown of the whole server (logs, listeners, Lua VM with
 * init_by_lua, compiled scripts, daemon, pid file), single-process or master mode, and the
 * master's reconfiguration step: reload. */
#include "server.h"
#include "master.h"
#include "log.h"
#include "session.h"
#include "worker.h"
#include <fcntl.h>
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

/* nginx's ngx_daemon(): the parent returns 0 to the shell once everything is ready. */
static int daemonize(void)
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid > 0) _exit(0);
    setsid();
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        if (log_main.fd != 2) dup2(fd, 2);   /* keep stderr when it is the error log */
        if (fd > 2) close(fd);
    }
    return 0;
}

/* Everything a configuration needs before serving; on failure nothing of it remains. */
static int bring_up(master_t *mt, main_conf_t *m, char *err, size_t errlen)
{
    listener_t *ls;
    int nls;
    vserver_t *vs;
    if (listen_open_all(m, mt->ls, mt->nls, &ls, &nls, err, errlen)) return -1;
    if (session_vm_init(m, err, errlen)) { listen_close_all(ls, nls, mt->ls, mt->nls); return -1; }
    if (vservers_create(ls, nls, &vs, err, errlen)) {
        vservers_destroy(vs);
        session_vm_rollback();
        listen_close_all(ls, nls, mt->ls, mt->nls);
        return -1;
    }
    session_vm_commit();
    if (mt->ls) listen_close_all(mt->ls, mt->nls, NULL, 0);
    vservers_destroy(mt->vs);
    conf_destroy(mt->conf);
    mt->conf = m; mt->ls = ls; mt->nls = nls; mt->vs = vs;
    return 0;
}

int master_reload(master_t *mt)
{
    char err[1024];
    log_error(LOG_NOTICE, "reconfiguring");
    main_conf_t *m = conf_read(mt->prefix, mt->conf_path, mt->params, err, sizeof err);
    if (!m || bring_up(mt, m, err, sizeof err)) {
        if (m) conf_destroy(m);
        log_error(LOG_EMERG, "%s; reload aborted, the old configuration keeps serving", err);
        return -1;
    }
    if (log_open(&log_main, m->error_log, err, sizeof err)) log_error(LOG_ALERT, "%s", err);
    return 0;
}

void master_close_listeners(master_t *mt)
{
    for (int i = 0; i < mt->nls; i++) {
        if (mt->ls[i].fd >= 0) close(mt->ls[i].fd);
        mt->ls[i].fd = -1;
    }
}

/* Runs the configured server; every exit, failed start-up included, frees what was built. */
int server_main(main_conf_t *m, const char *prefix, const char *conf, const char *params)
{
    char err[1024];
    int rc = 1;
    master_t mt = { .prefix = prefix, .conf_path = conf, .params = params };
    signal(SIGPIPE, SIG_IGN);
    if (log_open(&log_main, m->error_log, err, sizeof err) ||
        (conn_numbers_share() && snprintf(err, sizeof err, "mmap() of the connection counter failed")) ||
        bring_up(&mt, m, err, sizeof err)) {
        conf_destroy(m);       /* bring_up takes m only when it succeeds */
        return fail(err);
    }
    if (mt.conf->daemon && daemonize()) { fail("fork() failed"); goto done; }
    if (write_pid(mt.conf->pid, err, sizeof err)) { fail(err); goto done; }
    log_error(LOG_NOTICE, "tcplua started, %d listening socket(s)", mt.nls);
    if (mt.conf->master_process) master_run(&mt);
    else worker_run(mt.conf, mt.ls, mt.nls, mt.vs);
    log_error(LOG_NOTICE, "exiting");
    unlink(mt.conf->pid);
    rc = 0;
done:
    vservers_destroy(mt.vs);
    session_vm_close();
    listen_close_all(mt.ls, mt.nls, NULL, 0);
    conf_destroy(mt.conf);
    log_close(&log_main);
    return rc;
}
