/* vm.h: the worker's Lua VM across configurations (vm.c). */
#ifndef TCPLUA_VM_H
#define TCPLUA_VM_H
#include <lua.h>
#include "conn.h"

lua_State *vm_main(void); /* the current VM */
/* The app.h cycle hooks: build a VM for m (kept beside the previous until commit/rollback),
 * inject() filling its `ngx` table (on top of the stack). */
int vm_cycle_init(main_conf_t *m, int (*inject)(lua_State *L), char *err, size_t errlen);
void vm_cycle_commit(void);
void vm_cycle_rollback(void);
void vm_cycle_close(void);
/* Compiles the server's process_by_lua chunk (when code cache is on). 0 or -1 + err. */
int vm_server_init(vserver_t *vs, char *err, size_t errlen);
/* Pushes onto the VM's stack a fresh closure of c's server script whose globals are a new
 * table falling back to _G. 0, or -1 after logging why. */
int vm_push_session_fn(conn_t *c);
#endif
