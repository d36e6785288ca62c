/* accesslog.h: one line per light session, buffered per server, flushed once per loop turn. */
#ifndef TCPLUA_ACCESSLOG_H
#define TCPLUA_ACCESSLOG_H
#include "conn.h"

/* Compiles the server's log_format (at start-up and reload): 0, or -1 when out of memory. */
int accesslog_compile(vserver_t *vs);
void accesslog_write(conn_t *c);
void accesslog_flush(vserver_t *vs);
#endif
