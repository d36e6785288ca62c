/* vserver.c: the runtime view of each configured server: its error log, access log and
 * compiled script. Built in the master (so a bad script fails start-up or reload before
 * any worker exists) and inherited by the workers through fork. */
#include "vserver.h"
#include "app.h"
#include "accesslog.h"
#include "resolver.h"
#include "stream.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int open_access(vserver_t *vs, char *err, size_t errlen)
{
    const char *path = vs->conf->s.access_log;
    if (!path) return 0;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return snprintf(err, errlen, "open() \"%s\" failed", path), -1;
    if (vs->access_fd >= 0) close(vs->access_fd);
    vs->access_fd = fd;
    return 0;
}

static void vserver_free(vserver_t *vs)
{
    log_close(&vs->log);
    if (vs->access_fd >= 0) close(vs->access_fd);
    free(vs->access_buf);
    free(vs->access_ops);
    if (vs->resolver) resolver_destroy(vs->resolver);
    free(vs);
}

resolver_t *vserver_resolver(vserver_t *vs, char *err, size_t errlen)
{
    const srv_conf_t *s = &vs->conf->s;
    if (!vs->resolver && s->resolvers)
        vs->resolver = resolver_create(stream_loop, s->resolvers, s->resolver_timeout, s->resolver_valid,
                                       s->resolver_ipv6, err, errlen);
    return vs->resolver;
}

int vservers_create(listener_t *ls, int nls, vserver_t **list, char *err, size_t errlen)
{
    *list = NULL;
    for (int i = 0; i < nls; i++) {
        listener_t *l = &ls[i];
        for (int j = 0; j < i && !l->vs; j++)
            if (ls[j].server == l->server) l->vs = ls[j].vs;
        if (l->vs) continue;
        vserver_t *vs = calloc(1, sizeof *vs);
        if (!vs) return snprintf(err, errlen, "out of memory"), -1;
        vs->conf = l->server;
        vs->access_fd = -1;
        vs->log.fd = 2;
        vs->next = *list;
        *list = vs;
        l->vs = vs;
        if (log_open(&vs->log, l->server->s.error_log, err, errlen) || open_access(vs, err, errlen)
            || (accesslog_compile(vs) && snprintf(err, errlen, "out of memory"))
            || app->server_init(vs, err, errlen))
            return -1;
    }
    return 0;
}

void vservers_destroy(vserver_t *list)
{
    for (vserver_t *n; list; list = n) {
        n = list->next;
        vserver_free(list);
    }
}

void vservers_reopen(const main_conf_t *m, vserver_t *list)
{
    char err[512];
    if (log_open(&log_main, m->error_log, err, sizeof err)) log_error(LOG_ALERT, "reopen: %s", err);
    for (vserver_t *vs = list; vs; vs = vs->next) {
        accesslog_flush(vs);
        if (log_open(&vs->log, vs->conf->s.error_log, err, sizeof err) || open_access(vs, err, sizeof err))
            log_error(LOG_ALERT, "reopen: %s", err);
    }
}

/* Owner the workers' user, and readable and writable by it; failures logged as nginx does. */
static void chown_log(const char *path, long uid)
{
    struct stat st;
    if (!path || strcmp(path, "stderr") == 0) return;
    if (stat(path, &st) != 0) {
        log_error(LOG_EMERG, "stat() \"%s\" failed (%d: %s)", path, errno, strerror(errno));
        return;
    }
    if ((long)st.st_uid != uid && chown(path, (uid_t)uid, (gid_t)-1) != 0)
        log_error(LOG_EMERG, "chown(\"%s\", %ld) failed (%d: %s)", path, uid, errno, strerror(errno));
    if ((st.st_mode & (S_IRUSR | S_IWUSR)) != (S_IRUSR | S_IWUSR) && chmod(path, st.st_mode | S_IRUSR | S_IWUSR) != 0)
        log_error(LOG_EMERG, "chmod() \"%s\" failed (%d: %s)", path, errno, strerror(errno));
}

void vservers_chown_logs(const main_conf_t *m, const vserver_t *list)
{
    if (m->user_uid == CONF_UNSET || geteuid() != 0) return; /* the workers are this user */
    chown_log(m->error_log->path, m->user_uid);
    for (const vserver_t *vs = list; vs; vs = vs->next) {
        chown_log(vs->conf->s.error_log->path, m->user_uid);
        chown_log(vs->conf->s.access_log, m->user_uid);
    }
}
