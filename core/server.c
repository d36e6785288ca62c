/* server.c: the life of the whole server: the first bring-up (cycle.c), daemon, pid file,
 * then single-process or master mode, and the teardown on every exit. */
#include "server.h"
#include "cycle.h"
#include "master.h"
#include "log.h"
#include "worker.h"
#include <errno.h>
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
    if (!f) return snprintf(err, errlen, "open() \"%s\" failed (%d: %s)", path, errno, strerror(errno)), -1;
    int bad = fprintf(f, "%ld\n", (long)getpid()) < 0;
    bad |= fclose(f) != 0; /* a full disk shows here, not at fprintf */
    if (bad) return snprintf(err, errlen, "write() to \"%s\" failed (%d: %s)", path, errno, strerror(errno)), -1;
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
        if (log_main.fd != 2) dup2(fd, 2); /* keep stderr when it is the error log */
        if (fd > 2) close(fd);
    }
    return 0;
}

/* Configuration warnings ([proc.rlimit.warn], `user` without root): on stderr for the
 * operator starting the server, and in the error log, as nginx shows them. */
static void warn(const main_conf_t *m)
{
    conf_print_warnings(m, stderr);
    if (log_main.fd != 2) conf_log_warnings(m);
}

/* Runs the configured server; every exit, failed start-up included, frees what was built. */
int server_main(main_conf_t *m, const char *prefix, const char *conf, const char *params)
{
    char err[1024];
    int rc = 1;
    cycle_t cy = {.prefix = prefix, .conf_path = conf, .params = params};
    signal(SIGPIPE, SIG_IGN);
    int opened = log_open(&log_main, m->error_log, err, sizeof err) == 0;
    if (opened) warn(m);
    if (!opened || (conn_numbers_share() && snprintf(err, sizeof err, "mmap() of the connection counter failed"))
        || cycle_bring_up(&cy, m, err, sizeof err)) {
        conf_destroy(m); /* cycle_bring_up takes m only when it succeeds */
        return fail(err);
    }
    if (cy.conf->daemon && daemonize()) {
        fail("fork() failed");
        goto done;
    }
    if (write_pid(cy.conf->pid, err, sizeof err)) {
        fail(err);
        goto done;
    }
    log_error(LOG_NOTICE, "tcplua started, %d listening socket(s)", cy.nls);
    if (cy.conf->master_process) master_run(&cy);
    else worker_run(cy.conf, cy.ls, cy.nls, cy.vs);
    log_error(LOG_NOTICE, "exiting");
    unlink(cy.conf->pid);
    rc = 0;
done:
    cycle_teardown(&cy);
    log_close(&log_main);
    return rc;
}
