/* session.h: a connection's session as the application table (lua_app.c) hands it to core. */
#ifndef TCPLUA_API_SESSION_H
#define TCPLUA_API_SESSION_H
#include "conn.h"

void session_start(conn_t *c);     /* app.h conn_start: the coroutine runs */
void session_end(conn_t *c);       /* app.h conn_end: the one end path, run once */
int session_idle(const conn_t *c); /* app.h conn_idle: waiting between requests */
#endif
