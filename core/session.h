/* session.h: what the server core asks of the Lua side (implemented in api/session.c). */
#ifndef TCPLUA_SESSION_H
#define TCPLUA_SESSION_H
#include "conn.h"

/* Creates the VM, injects ngx.*, sets package paths, runs init_by_lua. 0 or -1 + err. */
int session_vm_init(main_conf_t *m, char *err, size_t errlen);
/* Compiles the server's process_by_lua chunk (when code cache is on). 0 or -1 + err. */
int session_server_init(vserver_t *vs, char *err, size_t errlen);
void session_vm_close(void);
void session_vm_commit(void);      /* drop the VM a reload replaced */
void session_vm_rollback(void);    /* a reload failed: the previous VM is current again */
/* Starts the coroutine of a freshly accepted connection. */
void session_start(conn_t *c);
void session_on_event(conn_t *c, int what);
void session_release(conn_t *c);
#endif
