/* session_internal.h: what the API families share with api/session.c: finding the
 * session of a coroutine and the one yield protocol. */
#ifndef TCPLUA_SESSION_INTERNAL_H
#define TCPLUA_SESSION_INTERNAL_H
#include <lua.h>
#include <lauxlib.h>
#include "conn.h"

/* The connection of the running coroutine; raises "API disabled in the context of
 * init_by_lua*" outside a session. */
conn_t *session_conn(lua_State *L);
/* The connection or NULL (for calls valid in init_by_lua too, such as ngx.log). */
conn_t *session_conn_opt(lua_State *L);
/* Records op as pending and suspends the coroutine; use as `return session_yield(...)`. */
int session_yield(lua_State *L, conn_t *c, const op_t *op);
/* Disarms read watcher and timer: the cleanup of most ops. */
void session_op_cleanup(conn_t *c);
/* Pushes nil, err (and partial when given) and returns the count. */
int session_fail(lua_State *L, const char *err, const char *partial, size_t plen, int with_partial);

extern const op_t session_op_exit;
/* The resume() of ops whose call returns nothing (exit, sleep). */
int session_no_results(conn_t *c, lua_State *L);

/* Ends the current light session: its access-log line, once (api_session.c). */
void session_light_end(conn_t *c);
#endif
