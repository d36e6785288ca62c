/* api.h: the contract between the Lua VM and each ngx.* API family.
 * Every family lives in one file api/api_<family>.c and exports one
 * api_<family>_inject(L), called with the `ngx` table on top of the stack;
 * it sets its fields on that table and leaves the stack as it found it. */
#ifndef TCPLUA_API_H
#define TCPLUA_API_H
#include <lua.h>
#include <lauxlib.h>
#include "shm.h"
#include "stream.h"

void api_time_inject(lua_State *L);   /* api_time.c: time, now, utctime, ... */
void api_string_inject(lua_State *L); /* api_string.c: base64, md5, sha1, crc32, hmac */
/* api_regex.c: ngx.re.match, find, gmatch, sub, gsub (lua_regex_cache_max_entries, _match_limit) */
void api_regex_inject(lua_State *L, long cache_max, long match_limit);
void api_log_inject(lua_State *L);       /* api_log.c: log, level constants, print */
void api_output_inject(lua_State *L);    /* api_output.c: print, say */
void api_session_inject(lua_State *L);   /* api_session.c: receive, exit, sleep, wait_next_request */
void api_socket_inject(lua_State *L);    /* api_socket.c: ngx.socket.tcp, connect, pools, options */
void api_socket_io_inject(lua_State *L); /* api_socket_io.c: send, receive*, after api_socket_inject */
/* api_output.c: appends the text of the value at idx as ngx.print writes it (strings,
 * numbers, nil, booleans, ngx.null, nested array tables) to out and counts it in *bytes;
 * out NULL only checks the types. Raises "bad argument #arg to 'fn' (...)". */
void api_put(lua_State *L, stream_t *out, const char *fn, int idx, int arg, int depth, size_t *bytes);
/* api_shdict.c: ngx.shared, one table per zone; -1 with the error on the stack if the
 * embedded binding failed to load. */
int api_shdict_inject(lua_State *L, shm_zone_t *zones);

#endif
