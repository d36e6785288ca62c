/* session_load.h: turning the configuration's Lua settings into VM state
 * (session_load.c): package paths, and compiled init_by_lua* / process_by_lua* chunks. */
#ifndef TCPLUA_SESSION_LOAD_H
#define TCPLUA_SESSION_LOAD_H
#include <stddef.h>
#include <lua.h>
#include "conf.h"

/* Compiles code (inline, or read from code->path) and pushes the chunk, named code->where.
 * factory = 0: the chunk is the code itself (init_by_lua*). factory = 1: the chunk is
 * `return function(...) CODE end`, so each call returns a fresh closure (process_by_lua*).
 * Returns 0, or -1 with nothing pushed and in err "failed to load Lua code: ...", or for a
 * file nginx's `open() "PATH" failed (ERRNO: TEXT)` / `"PATH" is not a regular file`. */
int vm_load_chunk(lua_State *L, const lua_code_t *code, int factory, char *err, size_t errlen);

/* vm_load_chunk for a chunk the configuration names (not a per-connection reload): the
 * message ends with " in FILE:LINE" of the directive, as every configuration error does. */
int vm_load_conf_chunk(lua_State *L, const lua_code_t *code, int factory, char *err, size_t errlen);

/* Compiles init_by_lua* and pushes the chunk, or -1 with "init_by_lua error: ..." in err
 * ([session.init]): start-up and -t print the same words. */
int vm_load_init(lua_State *L, const lua_code_t *init, char *err, size_t errlen);

/* app.h's conf_test: every chunk of m (init_by_lua*, the tcp block's and each server's
 * process_by_lua*, whatever lua_code_cache says) compiled in a scratch state, none run. */
int vm_conf_test(main_conf_t *m, char *err, size_t errlen);

/* Sets package.path and package.cpath from lua_package_path / lua_package_cpath, with ";;"
 * as the default path and "$prefix" as the server prefix. Always returns 0. */
int vm_set_paths(lua_State *L, main_conf_t *m);

#endif
