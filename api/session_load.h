/* session_load.h: loading Lua code from the configuration (session_load.c). */
#ifndef TCPLUA_SESSION_LOAD_H
#define TCPLUA_SESSION_LOAD_H
#include <lua.h>
#include "conf.h"

/* Compiles code (factory: as a function returning a fresh closure of it). 0, or -1 + err. */
int vm_load_chunk(lua_State *L, const lua_code_t *code, int factory, char *err, size_t errlen);
/* Sets package.path/cpath from lua_package_path/cpath. */
int vm_set_paths(lua_State *L, main_conf_t *m);
#endif
