/* vserver.h: servers at run time (logs and compiled script of each configured server). */
#ifndef TCPLUA_VSERVER_H
#define TCPLUA_VSERVER_H
#include "conn.h"
#include "listen.h"

int vservers_create(listener_t *ls, int nls, vserver_t **list, char *err, size_t errlen);
void vservers_destroy(vserver_t *list);
/* USR1: the main error log, then each server's error and access logs. */
void vservers_reopen(const main_conf_t *m, vserver_t *list);

/* accesslog.c: one line per light session, buffered per server, flushed once per loop turn. */
void accesslog_write(conn_t *c);
void accesslog_flush(vserver_t *vs);
#endif
