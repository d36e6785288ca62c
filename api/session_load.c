/* session_load.c: loading Lua code from the configuration: package paths, and chunks
 * compiled either plainly (init_by_lua) or as closure factories (process_by_lua) so that
 * each session gets its own closure whose globals can be its own table. */
#include "session_load.h"
#include <lauxlib.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A factory chunk is FACTORY_HEAD + body + FACTORY_TAIL: the head has no newline, so line
 * numbers in errors and tracebacks stay those of the operator's file. */
static const char FACTORY_HEAD[] = "return function(...) ";
static const char FACTORY_TAIL[] = "\nend";
#define LITERAL_LEN(s) (sizeof(s) - 1)

/* The chunk's parts in order, handed to lua_load() one by one (empty ones skipped). */
typedef struct {
    const char *part[3];
    size_t len[3];
    int i;
} reader_t;

static const char *read_parts(lua_State *L, void *ud, size_t *size)
{
    reader_t *r = ud;
    (void)L;
    while (r->i < 3 && r->len[r->i] == 0) r->i++;
    if (r->i == 3) {
        *size = 0;
        return NULL;
    }
    *size = r->len[r->i];
    return r->part[r->i++];
}

/* Reads a whole Lua file into malloc'd memory. The size comes from fstat() and only a
 * regular file is read: a directory opens fine on Linux and its seek-to-end "size" is
 * LONG_MAX on ext4 (a malloc of 2^63 bytes, or 2 GiB with 32-bit dir hashes) or -1
 * elsewhere; a FIFO would block; a device may never end. O_NONBLOCK keeps open() itself
 * from blocking on a FIFO; it does nothing to a regular file. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    char *buf = NULL;
    size_t n = 0, got = 0;
    const char *why = "read error";
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return snprintf(err, errlen, "failed to load Lua file \"%s\": cannot open", path), NULL;
    int stat_ok = fstat(fd, &st) == 0;
    if (stat_ok && !S_ISREG(st.st_mode)) why = "not a regular file";
    else if (stat_ok && (buf = malloc((n = (size_t)st.st_size) + 1)) != NULL) {
        while (got < n) {
            ssize_t r = read(fd, buf + got, n - got);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break; /* an error, or the file shrank under us */
            got += (size_t)r;
        }
    }
    close(fd);
    if (!buf || got != n) {
        free(buf);
        return snprintf(err, errlen, "failed to load Lua file \"%s\": %s", path, why), NULL;
    }
    *len = n;
    return buf;
}

int vm_load_chunk(lua_State *L, const lua_code_t *code, int factory, char *err, size_t errlen)
{
    size_t len = 0;
    char *file = NULL;
    const char *body = code->code;
    if (code->path && !(body = file = read_file(code->path, &len, err, errlen))) return -1;
    if (!file) len = strlen(body);
    if (len && body[0] == '#') { /* a "#!" line: keep the newline, drop the rest */
        const char *nl = memchr(body, '\n', len);
        len -= nl ? (size_t)(nl - body) : len;
        body = nl ? nl : body + len;
    }
    if (len >= 1 && body[0] == '\033') {
        free(file);
        return snprintf(err, errlen, "failed to load Lua code %s: bytecode is not supported", code->where + 1), -1;
    }
    reader_t r = {{factory ? FACTORY_HEAD : "", body, factory ? FACTORY_TAIL : ""},
                  {factory ? LITERAL_LEN(FACTORY_HEAD) : 0, len, factory ? LITERAL_LEN(FACTORY_TAIL) : 0},
                  0};
    int rc = lua_load(L, read_parts, &r, code->where);
    free(file);
    if (rc != 0) {
        snprintf(err, errlen, "failed to load Lua code: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

/* ";;" stands for the default path; "$prefix" for the server prefix (as in ngx_lua). */
static void set_path(lua_State *L, const char *field, const char *conf, const char *prefix)
{
    if (!conf) return;
    lua_getglobal(L, "package");
    lua_getfield(L, -1, field);
    const char *dflt = lua_tostring(L, -1);
    luaL_gsub(L, conf, ";;", lua_pushfstring(L, ";%s;", dflt ? dflt : ""));
    luaL_gsub(L, lua_tostring(L, -1), "$prefix", prefix);
    lua_setfield(L, -5, field);
    lua_pop(L, 4);
}

int vm_set_paths(lua_State *L, main_conf_t *m)
{
    if (!m->tcp) return 0;
    set_path(L, "path", m->tcp->lua_package_path, m->prefix);
    set_path(L, "cpath", m->tcp->lua_package_cpath, m->prefix);
    return 0;
}
