/* conf_load.c: the only part of the configuration code that touches the file system:
 * reading the main file, -g parameters, and "include" with glob patterns resolved
 * against the directory of the main configuration file; and the checks of -t (and of
 * start-up) on the files a configuration names. */
#include "conf_internal.h"
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CONF_FILE (16 * 1024 * 1024)

static int read_whole(conf_t *cf, const char *path, char **buf, size_t *len)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; the type check refuses it (and
     * a directory or device) before anything is read ([conf.include.type]). It changes
     * nothing for a regular file. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        return conf_error(cf, "open() \"%s\" failed (%d: %s)", path, e, strerror(e));
    }
    if (!S_ISREG(st.st_mode) || st.st_size > MAX_CONF_FILE) {
        close(fd);
        if (!S_ISREG(st.st_mode)) return conf_error(cf, "\"%s\" is not a regular file", path);
        return conf_error(cf, "\"%s\" is not a regular file of at most 16M", path);
    }
    char *b = pool_calloc(cf->main->pool, (size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
        if (r <= 0) {
            close(fd);
            return conf_error(cf, "read() \"%s\" failed", path);
        }
        got += (size_t)r;
    }
    close(fd);
    conf_text_t *t = pool_calloc(cf->main->pool, sizeof *t), **tail = &cf->main->texts;
    t->name = path;
    t->buf = b;
    t->len = got;
    while (*tail) tail = &(*tail)->next;
    *tail = t;
    *buf = b;
    *len = got;
    return 0;
}

/* A pattern without wildcards must name an existing file; one with wildcards may match none. */
static int expand(conf_t *cf, const char *pattern, const char ***paths)
{
    if (!strpbrk(pattern, "*?[")) {
        const char **one = pool_calloc(cf->main->pool, sizeof *one);
        one[0] = pattern;
        *paths = one;
        return 1;
    }
    glob_t g;
    int rc = glob(pattern, 0, NULL, &g);
    if (rc == GLOB_NOMATCH) {
        *paths = NULL;
        return 0;
    }
    if (rc != 0) return conf_error(cf, "glob() \"%s\" failed", pattern);
    const char **list = pool_calloc(cf->main->pool, (g.gl_pathc + 1) * sizeof *list);
    for (size_t i = 0; i < g.gl_pathc; i++) list[i] = pool_strdup(cf->main->pool, g.gl_pathv[i]);
    int n = (int)g.gl_pathc;
    globfree(&g);
    *paths = list;
    return n;
}

int set_include(conf_t *cf, const directive_t *d, void *conf)
{
    (void)d;
    (void)conf;
    if (!cf->read_file || !cf->glob) return conf_error(cf, "\"include\" is not available here");
    const char *pattern = conf_full_path(cf, cf->args[1], 1);
    const char **paths;
    int n = cf->glob(cf, pattern, &paths);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
        char *buf;
        size_t len;
        if (cf->read_file(cf, paths[i], &buf, &len)) return -1;
        if (conf_parse(cf, buf, len, paths[i])) return -1;
    }
    return 0;
}

main_conf_t *conf_read(const char *prefix, const char *file, const char *params,
                       char *err, size_t errlen)
{
    main_conf_t *m = conf_create(prefix, file);
    conf_t cf;
    conf_init(&cf, m);
    if (conf_load(&cf, params) != 0) {
        snprintf(err, errlen, "%s", cf.err);
        conf_destroy(m);
        return NULL;
    }
    return m;
}

int conf_load(conf_t *cf, const char *params)
{
    char *buf;
    size_t len;
    cf->read_file = read_whole;
    cf->glob = expand;
    if (params && conf_parse(cf, params, strlen(params), "command line")) return -1;
    if (read_whole(cf, cf->main->conf_file, &buf, &len)) return -1;
    if (conf_parse(cf, buf, len, cf->main->conf_file)) return -1;
    return conf_finish(cf);
}

static int open_failed(const char *path, int e, char *err, size_t errlen)
{
    snprintf(err, errlen, "open() \"%s\" failed (%d: %s)", path, e, strerror(e));
    return -1;
}

/* Opens a log as start-up does (log.c, vserver.c): creating it, never truncating it. */
static int check_log(const char *path, char *err, size_t errlen)
{
    if (!path || strcmp(path, "stderr") == 0) return 0;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return open_failed(path, errno, err, errlen);
    close(fd);
    return 0;
}

/* The pid file is written after the listeners are open (and after detaching): its directory
 * must exist and take a new file. The file itself is left alone: a server may be running. */
static int check_pid_dir(const char *pid, char *err, size_t errlen)
{
    char dir[4096];
    struct stat st;
    const char *slash = strrchr(pid, '/');
    size_t n = slash ? (size_t)(slash - pid) : 0;
    if (n + 3 > sizeof dir) return open_failed(pid, ENAMETOOLONG, err, errlen);
    memcpy(dir, pid, n);
    strcpy(dir + n, slash ? "/." : "."); /* "/.": a dir that is a file fails with ENOTDIR */
    if (access(dir, W_OK | X_OK) != 0) return open_failed(pid, errno, err, errlen);
    if (stat(pid, &st) == 0 && S_ISDIR(st.st_mode)) return open_failed(pid, EISDIR, err, errlen);
    return 0;
}

int conf_check_files(const main_conf_t *m, char *err, size_t errlen)
{
    if (check_log(m->error_log->path, err, errlen)) return -1;
    for (const server_conf_t *s = m->tcp ? m->tcp->servers : NULL; s; s = s->next)
        if (check_log(s->s.error_log->path, err, errlen) || check_log(s->s.access_log, err, errlen))
            return -1;
    return check_pid_dir(m->pid, err, errlen);
}
