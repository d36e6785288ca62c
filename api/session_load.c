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

/* nginx's wording for a failed system call on a file: `open() "PATH" failed (2: TEXT)`. */
static char *file_error(char *err, size_t errlen, const char *call, const char *path, int e)
{
    snprintf(err, errlen, "%s \"%s\" failed (%d: %s)", call, path, e, strerror(e));
    return NULL;
}

/* Reads the n bytes of a regular file into malloc'd memory (NUL-terminated). */
static char *read_all(int fd, const char *path, size_t n, char *err, size_t errlen)
{
    size_t got = 0;
    char *buf = malloc(n + 1);
    if (!buf) return snprintf(err, errlen, "out of memory reading \"%s\"", path), NULL;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { /* an error, or the file shrank under us */
            free(buf);
            if (r < 0) return file_error(err, errlen, "read()", path, errno);
            return snprintf(err, errlen, "read() \"%s\" returned only %zu bytes instead of %zu", path, got, n),
                   NULL;
        }
        got += (size_t)r;
    }
    buf[n] = '\0';
    return buf;
}

/* Reads a whole Lua file. The size comes from fstat() and only a regular file is read: a
 * directory opens fine on Linux and its seek-to-end "size" is LONG_MAX on ext4 (a malloc of
 * 2^63 bytes, or 2 GiB with 32-bit dir hashes) or -1 elsewhere; a FIFO would block; a device
 * may never end. O_NONBLOCK keeps open() itself from blocking on a FIFO; it does nothing to a
 * regular file. Messages are nginx's, as the configuration's own ([cli.test.scripts]). */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return file_error(err, errlen, "open()", path, errno);
    if (fstat(fd, &st) != 0) file_error(err, errlen, "fstat()", path, errno);
    else if (!S_ISREG(st.st_mode)) snprintf(err, errlen, "\"%s\" is not a regular file", path);
    else buf = read_all(fd, path, (size_t)st.st_size, err, errlen);
    close(fd);
    if (buf) *len = (size_t)st.st_size;
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

int vm_load_conf_chunk(lua_State *L, const lua_code_t *code, int factory, char *err, size_t errlen)
{
    if (vm_load_chunk(L, code, factory, err, errlen) == 0) return 0;
    size_t n = strlen(err);
    if (code->file && n < errlen) {
        if (strcmp(code->file, "command line") == 0) snprintf(err + n, errlen - n, " in command line");
        else snprintf(err + n, errlen - n, " in %s:%d", code->file, code->line);
    }
    return -1;
}

int vm_load_init(lua_State *L, const lua_code_t *init, char *err, size_t errlen)
{
    char msg[1024];
    if (vm_load_conf_chunk(L, init, 0, msg, sizeof msg) == 0) return 0;
    snprintf(err, errlen, "init_by_lua error: %s", msg);
    return -1;
}

/* Compiles one chunk and drops it: only whether it loads matters here. */
static int compile_only(lua_State *L, const lua_code_t *code, int factory, char *err, size_t errlen)
{
    int rc = factory ? vm_load_conf_chunk(L, code, 1, err, errlen) : vm_load_init(L, code, err, errlen);
    if (rc == 0) lua_pop(L, 1);
    return rc;
}

int vm_conf_test(main_conf_t *m, char *err, size_t errlen)
{
    const tcp_conf_t *t = m->tcp;
    if (!t) return 0;
    lua_State *L = luaL_newstate(); /* the parser needs no library: nothing runs */
    if (!L) return snprintf(err, errlen, "failed to create the Lua VM"), -1;
    int rc = t->init ? compile_only(L, t->init, 0, err, errlen) : 0;
    if (rc == 0 && t->s.process) rc = compile_only(L, t->s.process, 1, err, errlen);
    for (const server_conf_t *s = t->servers; rc == 0 && s; s = s->next)
        if (s->s.process != t->s.process) rc = compile_only(L, s->s.process, 1, err, errlen);
    lua_close(L);
    return rc;
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
