/* conf_finish.c: configuration lifecycle: create, the merge step that applies every default
 * (server <- tcp <- built-in), the checks that need the whole file (listen conflicts,
 * servers missing listen/protocol/process_by_lua), and the warnings that do not stop it. */
#include "conf_internal.h"
#include "log.h"
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

void srv_conf_init(srv_conf_t *s)
{
    long *longs[] = {&s->read_timeout, &s->send_timeout, &s->keepalive_timeout, &s->resolver_timeout,
                     &s->session_pool_size, &s->connection_pool_size, &s->client_max_body_size,
                     &s->lua_socket_connect_timeout, &s->lua_socket_send_timeout, &s->lua_socket_read_timeout,
                     &s->lua_socket_keepalive_timeout, &s->lua_socket_send_lowat, &s->lua_socket_buffer_size,
                     &s->lua_socket_pool_size, &s->resolver_valid};
    for (size_t i = 0; i < sizeof longs / sizeof longs[0]; i++) *longs[i] = CONF_UNSET;
    s->lua_code_cache = s->lua_check_client_abort = s->tcp_nodelay = s->resolver_ipv6 = CONF_UNSET;
    s->lua_socket_log_errors = CONF_UNSET;
}

main_conf_t *conf_create(const char *prefix, const char *conf_file)
{
    pool_t *p = pool_create();
    main_conf_t *m = pool_calloc(p, sizeof *m);
    m->pool = p;
    m->worker_processes = m->worker_connections = m->worker_shutdown_timeout = CONF_UNSET;
    m->worker_rlimit_nofile = m->user_uid = m->user_gid = CONF_UNSET;
    m->daemon = m->master_process = CONF_UNSET;
    size_t n = strlen(prefix);
    m->prefix = n && prefix[n - 1] == '/' ? pool_strdup(p, prefix) : pool_sprintf(p, "%s/", prefix);
    m->conf_file = conf_file[0] == '/' ? pool_strdup(p, conf_file) : pool_sprintf(p, "%s%s", m->prefix, conf_file);
    const char *slash = strrchr(m->conf_file, '/');
    m->conf_dir = pool_strndup(p, m->conf_file, (size_t)(slash - m->conf_file) + 1);
    return m;
}

void conf_destroy(main_conf_t *m)
{
    if (m) pool_destroy(m->pool);
}

void conf_init(conf_t *cf, main_conf_t *m)
{
    memset(cf, 0, sizeof *cf);
    cf->main = m;
    cf->ctx = CTX_MAIN;
}

const char *conf_full_path(conf_t *cf, const char *path, int from_conf_dir)
{
    if (path[0] == '/') return path;
    return pool_sprintf(cf->main->pool, "%s%s", from_conf_dir ? cf->main->conf_dir : cf->main->prefix, path);
}

/* set_access() prepends; rules are matched in file order. */
static access_rule_t *reverse_rules(access_rule_t *r)
{
    access_rule_t *out = NULL;
    while (r) {
        access_rule_t *next = r->next;
        r->next = out;
        out = r;
        r = next;
    }
    return out;
}

#define MERGE(field, dflt)                                              \
    do {                                                                \
        if (s->field == CONF_UNSET) s->field = up ? up->field : (dflt); \
    } while (0)
#define MERGE_PTR(field, dflt)                             \
    do {                                                   \
        if (!s->field) s->field = up ? up->field : (dflt); \
    } while (0)

/* Fills unset fields of s from up (the tcp level), or built-in defaults when up is NULL. */
static void merge_srv(conf_t *cf, srv_conf_t *s, const srv_conf_t *up)
{
    MERGE(read_timeout, 60000);
    MERGE(send_timeout, 60000);
    MERGE(keepalive_timeout, 75000); /* nginx's HTTP default: an idle client holds no slot forever */
    MERGE(resolver_timeout, 30000);
    MERGE(session_pool_size, 1024);
    MERGE(connection_pool_size, 512);
    MERGE(client_max_body_size, 1024);
    MERGE(lua_socket_connect_timeout, 60000);
    MERGE(lua_socket_send_timeout, 60000);
    MERGE(lua_socket_read_timeout, 60000);
    MERGE(lua_socket_keepalive_timeout, 60000);
    MERGE(lua_socket_send_lowat, 0);
    MERGE(lua_socket_buffer_size, 4096);
    MERGE(lua_socket_pool_size, 30);
    MERGE(lua_socket_log_errors, 1);
    MERGE(lua_code_cache, 1);
    MERGE(lua_check_client_abort, 0);
    MERGE(tcp_nodelay, 1);
    /* valid= and ipv6= are parameters of one resolver directive: a server with its own
     * resolver takes the built-in defaults for them, not the tcp block's. */
    const srv_conf_t *rup = s->resolvers ? NULL : up;
    if (s->resolver_valid == CONF_UNSET) s->resolver_valid = rup ? rup->resolver_valid : 0; /* 0: TTL */
    if (s->resolver_ipv6 == CONF_UNSET) s->resolver_ipv6 = rup ? rup->resolver_ipv6 : 1;
    MERGE_PTR(error_log, cf->main->error_log);
    s->rules = reverse_rules(s->rules); /* own rules only: inherited ones are done */
    MERGE_PTR(rules, NULL);
    MERGE_PTR(resolvers, NULL);
    MERGE_PTR(process, NULL);
    if (!s->access_log_set) {
        s->access_log_set = 1;
        s->access_log = up ? up->access_log : conf_full_path(cf, "logs/access_tcp.log", 0);
        s->access_log_format = up ? up->access_log_format : conf_default_log_format;
        s->access_log_format_name = up ? up->access_log_format_name : "default";
    }
}

void conf_add_warning(main_conf_t *m, const char *text)
{
    str_list_t *w = pool_calloc(m->pool, sizeof *w), **tail = &m->warnings;
    w->s = pool_strdup(m->pool, text);
    while (*tail) tail = &(*tail)->next;
    *tail = w;
}

void conf_print_warnings(const main_conf_t *m, FILE *out)
{
    for (const str_list_t *w = m->warnings; w; w = w->next) fprintf(out, "tcplua: [warn] %s\n", w->s);
}

void conf_log_warnings(const main_conf_t *m)
{
    for (const str_list_t *w = m->warnings; w; w = w->next) log_error(LOG_WARN, "%s", w->s);
}

/* Without a `user` directive a root server still drops root's rights in its workers: nginx's
 * default, nobody with group nobody, or nogroup where there is no such group (Debian). */
static int default_user(conf_t *cf)
{
    main_conf_t *m = cf->main;
    if (m->user_uid != CONF_UNSET || geteuid() != 0) return 0;
    const char *group = getgrnam("nobody") ? "nobody" : "nogroup";
    struct passwd *pw = getpwnam("nobody");
    if (!pw) return snprintf(cf->err, sizeof cf->err, "getpwnam(\"nobody\") failed"), -1;
    m->user_uid = pw->pw_uid;
    struct group *gr = getgrnam(group);
    if (!gr) return snprintf(cf->err, sizeof cf->err, "getgrnam(\"%s\") failed", group), -1;
    m->user_gid = gr->gr_gid;
    m->user = "nobody";
    m->group = group;
    return 0;
}

/* nginx's check (ngx_event_module_init): a worker cannot hold more connections than it has
 * descriptors. Only a warning: the limit may be raised by other means before it matters.
 * The limit is the one the serving processes will have: worker_rlimit_nofile applies to
 * workers only ([proc.rlimit_nofile]), the single process keeps its own. */
static void warn_fd_limit(main_conf_t *m)
{
    struct rlimit r;
    long limit = m->worker_rlimit_nofile;
    if (limit == CONF_UNSET || !m->master_process) {
        if (getrlimit(RLIMIT_NOFILE, &r) != 0) return;
        limit = r.rlim_cur == RLIM_INFINITY || r.rlim_cur > LONG_MAX ? LONG_MAX : (long)r.rlim_cur;
    }
    if (m->worker_connections > limit)
        conf_add_warning(m, pool_sprintf(m->pool, "%ld worker_connections exceed open file resource limit: %ld",
                                         m->worker_connections, limit));
}

static void merge_main(conf_t *cf)
{
    main_conf_t *m = cf->main;
    if (m->worker_processes == CONF_UNSET) m->worker_processes = 1;
    if (m->worker_processes == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        m->worker_processes = n > 0 ? n : 1;
    }
    if (m->worker_connections == CONF_UNSET) m->worker_connections = 512;
    if (m->worker_shutdown_timeout == CONF_UNSET) m->worker_shutdown_timeout = 10000;
    if (m->daemon == CONF_UNSET) m->daemon = 1;
    if (m->master_process == CONF_UNSET) m->master_process = 1;
    if (!m->pid) m->pid = conf_full_path(cf, "logs/tcplua.pid", 0);
    if (!m->error_log) {
        log_conf_t *lc = pool_calloc(m->pool, sizeof *lc);
        lc->path = conf_full_path(cf, "logs/error.log", 0);
        lc->level = LOG_ERR;
        m->error_log = lc;
    }
}

int conf_listen_same(const listen_conf_t *a, const listen_conf_t *b)
{
    return a->salen == b->salen && memcmp(&a->sa, &b->sa, a->salen) == 0;
}

/* A wildcard and a specific address of one family on one port cannot both be bound. */
static int overlaps(const listen_conf_t *a, const listen_conf_t *b)
{
    if (a->sa.ss_family != b->sa.ss_family) return 0;
    if (a->sa.ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)&a->sa, *y = (const void *)&b->sa;
        return x->sin_port == y->sin_port && (x->sin_addr.s_addr == 0 || y->sin_addr.s_addr == 0);
    }
    const struct sockaddr_in6 *x = (const void *)&a->sa, *y = (const void *)&b->sa;
    return x->sin6_port == y->sin6_port
        && (IN6_IS_ADDR_UNSPECIFIED(&x->sin6_addr) || IN6_IS_ADDR_UNSPECIFIED(&y->sin6_addr));
}

static int is_wildcard(const listen_conf_t *l)
{
    if (l->sa.ss_family == AF_INET) return ((const struct sockaddr_in *)&l->sa)->sin_addr.s_addr == 0;
    return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&l->sa)->sin6_addr);
}

/* "FILE:LINE" of a directive, or "command line" for -g text ([cli.params]). */
static const char *where(char *b, size_t n, const char *file, int line)
{
    if (strcmp(file, "command line") == 0) return file;
    snprintf(b, n, "%s:%d", file, line);
    return b;
}

/* Compares l with every listen before it in file order, so the error names the later one;
 * a conflict names the specific address first, then the wildcard. */
static int check_listens(conf_t *cf, const listen_conf_t *l)
{
    char at[CONF_ERRLEN / 2];
    for (server_conf_t *s = cf->main->tcp->servers; s; s = s->next)
        for (const listen_conf_t *o = s->listens; o; o = o->next) {
            if (o == l) return 0;
            if (conf_listen_same(o, l))
                return snprintf(cf->err, sizeof cf->err, "duplicate \"%s\" address and port pair in %s",
                                l->text, where(at, sizeof at, l->file, l->line)),
                     -1;
            if (overlaps(o, l))
                return snprintf(cf->err, sizeof cf->err, "\"%s\" conflicts with \"%s\" in %s",
                                is_wildcard(l) ? o->text : l->text, is_wildcard(l) ? l->text : o->text,
                                where(at, sizeof at, l->file, l->line)),
                     -1;
        }
    return 0;
}

static int check_server(conf_t *cf, server_conf_t *s)
{
    char at[CONF_ERRLEN / 2];
    const char *missing = !s->listens ? "\"listen\"" : !s->protocol ? "\"protocol\""
                                                 : !s->s.process    ? "\"process_by_lua\" or \"process_by_lua_file\""
                                                                    : NULL;
    if (missing)
        return snprintf(cf->err, sizeof cf->err, "no %s is defined for server in %s",
                        missing, where(at, sizeof at, s->file, s->line)),
             -1;
    for (const listen_conf_t *l = s->listens; l; l = l->next)
        if (check_listens(cf, l)) return -1;
    return 0;
}

int conf_finish(conf_t *cf)
{
    merge_main(cf);
    if (default_user(cf)) return -1;
    warn_fd_limit(cf->main);
    tcp_conf_t *t = cf->main->tcp;
    if (!t) return 0;
    if (t->lua_regex_cache_max_entries == CONF_UNSET) t->lua_regex_cache_max_entries = CONF_REGEX_CACHE_MAX;
    if (t->lua_regex_match_limit == CONF_UNSET) t->lua_regex_match_limit = 0; /* PCRE's own */
    merge_srv(cf, &t->s, NULL);
    for (server_conf_t *s = t->servers; s; s = s->next) {
        merge_srv(cf, &s->s, &t->s);
        if (check_server(cf, s)) return -1;
    }
    return 0;
}
