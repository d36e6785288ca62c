/* accesslog.h: one line per light session, buffered per server, flushed once per loop turn. */
#ifndef TCPLUA_ACCESSLOG_H
#define TCPLUA_ACCESSLOG_H
#include "conn.h"

void accesslog_write(conn_t *c);
void accesslog_flush(vserver_t *vs);
#endif
