/* vserver.h: servers at run time (logs and compiled script of each configured server). */
#ifndef TCPLUA_VSERVER_H
#define TCPLUA_VSERVER_H
#include <stddef.h>
#include "conf.h"
#include "log.h"
#include "listen.h"

/* A listening server as the worker sees it. */
typedef struct vserver {
    server_conf_t *conf;
    log_target_t log; /* this server's error_log */
    int access_fd;    /* access log, -1 when off */
    char *access_buf; /* pending access log lines, written once per loop turn */
    size_t access_len, access_cap;
    struct accesslog_op *access_ops; /* the compiled log_format (accesslog.c) */
    int app_ref;                     /* the application's handle for this server (its script) */
    struct resolver *resolver;       /* made on first use (vserver_resolver) */
    struct vserver *next;
} vserver_t;

int vservers_create(listener_t *ls, int nls, vserver_t **list, char *err, size_t errlen);
void vservers_destroy(vserver_t *list);
/* The server's resolver (its `resolver` directive), made on first use in this process;
 * NULL with err when it has none or it could not be made. */
struct resolver *vserver_resolver(vserver_t *vs, char *err, size_t errlen);
/* USR1: the main error log, then each server's error and access logs. */
void vservers_reopen(const main_conf_t *m, vserver_t *list);
/* After the master's reopen: gives every log file to the workers' user (when it switches
 * users), so that the workers can reopen them in turn, as nginx's ngx_reopen_files does. */
void vservers_chown_logs(const main_conf_t *m, const vserver_t *list);
#endif
