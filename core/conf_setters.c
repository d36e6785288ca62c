/* conf_setters.c: setters for directives whose values are more than one plain value:
 * worker_processes, worker_connections, error_log, protocol, lua_shared_dict, log_format,
 * access_log and the *_by_lua* code directives. */
#include "conf_internal.h"
#include "log.h"
#include <stdlib.h>
#include <string.h>

#define ARG(i) (cf->args[i])
#define NAME (cf->args[0])

int set_worker_processes(conf_t *cf, const directive_t *d, void *conf)
{
    main_conf_t *m = conf;
    (void)d;
    if (m->worker_processes != CONF_UNSET) return conf_error(cf, "\"%s\" directive is duplicate", NAME);
    if (strcmp(ARG(1), "auto") == 0) {
        m->worker_processes = 0;
        return 0;
    }
    char *end;
    long n = strtol(ARG(1), &end, 10);
    if (*ARG(1) < '0' || *ARG(1) > '9' || *end || n < 1 || n > 1024)
        return conf_error(cf, "\"%s\" directive invalid value", NAME);
    m->worker_processes = n;
    return 0;
}

/* [dir.worker_connections]: a number, and at least 1: with 0 every worker would start and
 * then refuse every client. */
int set_worker_connections(conf_t *cf, const directive_t *d, void *conf)
{
    main_conf_t *m = conf;
    if (set_num(cf, d, conf)) return -1;
    if (m->worker_connections == 0) return conf_error(cf, "\"%s\" directive invalid value", NAME);
    return 0;
}

int parse_log_level(const char *s)
{
    for (int i = LOG_EMERG; i <= LOG_DEBUG; i++)
        if (strcmp(s, log_level_names[i]) == 0) return i;
    return -1;
}

int set_error_log(conf_t *cf, const directive_t *d, void *conf)
{
    (void)d;
    (void)conf;
    log_conf_t **slot = cf->ctx == CTX_MAIN ? &cf->main->error_log : &cf->srv->error_log;
    if (*slot) return conf_error(cf, "\"%s\" directive is duplicate", NAME);
    log_conf_t *lc = pool_calloc(cf->main->pool, sizeof *lc);
    lc->level = LOG_ERR;
    if (cf->nargs == 3 && (lc->level = parse_log_level(ARG(2))) < 0)
        return conf_error(cf, "invalid log level \"%s\"", ARG(2));
    if (cf->arglen[1] == 0) return conf_error(cf, "\"%s\" directive invalid value", NAME);
    lc->path = strcmp(ARG(1), "stderr") == 0 ? "stderr" : conf_full_path(cf, ARG(1), 0);
    *slot = lc;
    return 0;
}

int set_protocol(conf_t *cf, const directive_t *d, void *conf)
{
    (void)d;
    (void)conf;
    if (cf->server->protocol) return conf_error(cf, "\"%s\" directive is duplicate", NAME);
    if (strcmp(ARG(1), "tcp_lua") != 0) return conf_error(cf, "unknown protocol \"%s\"", ARG(1));
    cf->server->protocol = ARG(1);
    return 0;
}

#define SHDICT_MIN (8 * 1024)

int set_shared_dict(conf_t *cf, const directive_t *d, void *conf)
{
    tcp_conf_t *t = conf;
    (void)d;
    if (cf->arglen[1] == 0) return conf_error(cf, "invalid lua shared dict name \"%s\"", ARG(1));
    long size = conf_parse_size(ARG(2));
    if (size < SHDICT_MIN) return conf_error(cf, "invalid lua shared dict size \"%s\"", ARG(2));
    shdict_conf_t **tail = &t->shdicts;
    for (; *tail; tail = &(*tail)->next)
        if (strcmp((*tail)->name, ARG(1)) == 0)
            return conf_error(cf, "lua_shared_dict \"%s\" is already defined", ARG(1));
    shdict_conf_t *sd = pool_calloc(cf->main->pool, sizeof *sd);
    sd->name = ARG(1);
    sd->size = size;
    *tail = sd;
    return 0;
}

/* The format used by access_log without a name (SPEC.md [dir.log_format]). */
const char *const conf_default_log_format =
    "$remote_addr $time_iso8601 $msec $request_time $connection $connection_requests $protocol";

static const log_format_t *find_format(const tcp_conf_t *t, const char *name)
{
    for (const log_format_t *f = t->formats; f; f = f->next)
        if (strcmp(f->name, name) == 0) return f;
    return NULL;
}

int set_log_format(conf_t *cf, const directive_t *d, void *conf)
{
    tcp_conf_t *t = conf;
    (void)d;
    if (strcmp(ARG(1), "default") == 0 || find_format(t, ARG(1)))
        return conf_error(cf, "duplicate \"log_format\" name \"%s\"", ARG(1));
    log_format_t **tail = &t->formats;
    while (*tail) tail = &(*tail)->next; /* keep file order, so -T prints them as written */
    size_t len = 0;
    for (int i = 2; i < cf->nargs; i++) len += cf->arglen[i];
    char *fmt = pool_calloc(cf->main->pool, len + 1), *p = fmt;
    for (int i = 2; i < cf->nargs; i++) {
        memcpy(p, ARG(i), cf->arglen[i]);
        p += cf->arglen[i];
    }
    log_format_t *f = pool_calloc(cf->main->pool, sizeof *f);
    f->name = ARG(1);
    f->format = fmt;
    *tail = f;
    return 0;
}

int set_access_log(conf_t *cf, const directive_t *d, void *conf)
{
    srv_conf_t *s = conf;
    (void)d;
    if (s->access_log_set) return conf_error(cf, "\"%s\" directive is duplicate", NAME);
    s->access_log_set = 1;
    if (strcmp(ARG(1), "off") == 0) {
        if (cf->nargs > 2) return conf_error(cf, "invalid parameter \"%s\"", ARG(2));
        return 0;
    }
    if (cf->arglen[1] == 0) return conf_error(cf, "\"%s\" directive invalid value", NAME);
    s->access_log = conf_full_path(cf, ARG(1), 0);
    s->access_log_format = conf_default_log_format;
    s->access_log_format_name = "default";
    if (cf->nargs == 3 && strcmp(ARG(2), "default") != 0) {
        const log_format_t *f = find_format(cf->main->tcp, ARG(2));
        if (!f) return conf_error(cf, "unknown log format \"%s\"", ARG(2));
        s->access_log_format = f->format;
        s->access_log_format_name = f->name;
    }
    return 0;
}

/* init_by_lua[_file] and process_by_lua[_file]: inline code or a file, never both. */
int set_lua_code(conf_t *cf, const directive_t *d, void *conf)
{
    lua_code_t **slot = (lua_code_t **)((char *)conf + d->offset);
    if (*slot) return conf_error(cf, "\"%s\" directive is duplicate", NAME);
    if (cf->arglen[1] == 0) return conf_error(cf, "\"%s\" directive invalid value", NAME);
    lua_code_t *c = pool_calloc(cf->main->pool, sizeof *c);
    size_t n = strlen(d->name);
    int is_file = n > 5 && strcmp(d->name + n - 5, "_file") == 0;
    c->file = cf->src->name;
    c->line = cf->src->line;
    const char *base = strrchr(cf->src->name, '/');
    base = base ? base + 1 : cf->src->name;
    if (is_file) {
        c->path = conf_full_path(cf, ARG(1), 0);
        c->where = pool_sprintf(cf->main->pool, "@%s", c->path);
    } else {
        c->code = ARG(1);
        c->where = pool_sprintf(cf->main->pool, "=%s(%s:%d)", d->name, base, cf->src->line);
    }
    *slot = c;
    return 0;
}
