/* conf_table.c: every directive as one table row, the block directives, and the dispatcher
 * (nginx's ngx_conf_handler): one place checks name, context, block-ness and arity. */
#include "conf_internal.h"
#include <stddef.h>
#include <string.h>

#define M(f) BASE_MAIN, offsetof(main_conf_t, f)
#define T(f) BASE_TCP, offsetof(tcp_conf_t, f)
#define S(f) BASE_SRV, offsetof(srv_conf_t, f)
#define TS (CTX_TCP | CTX_SERVER)

static int block_events(conf_t *cf, const directive_t *d, void *conf);
static int block_tcp(conf_t *cf, const directive_t *d, void *conf);
static int block_server(conf_t *cf, const directive_t *d, void *conf);

static const directive_t table[] = {
    {"include", CTX_ANY, 1, 1, 0, set_include, BASE_NONE, 0},
    {"worker_processes", CTX_MAIN, 1, 1, 0, set_worker_processes, M(worker_processes)},
    {"daemon", CTX_MAIN, 1, 1, 0, set_flag, M(daemon)},
    {"master_process", CTX_MAIN, 1, 1, 0, set_flag, M(master_process)},
    {"pid", CTX_MAIN, 1, 1, 0, set_path, M(pid)},
    {"user", CTX_MAIN, 1, 2, 0, set_user, BASE_MAIN, 0},
    {"worker_rlimit_nofile", CTX_MAIN, 1, 1, 0, set_num, M(worker_rlimit_nofile)},
    {"error_log", CTX_MAIN | TS, 1, 2, 0, set_error_log, BASE_NONE, 0},
    {"worker_shutdown_timeout", CTX_MAIN, 1, 1, 0, set_msec, M(worker_shutdown_timeout)},
    {"events", CTX_MAIN, 0, 0, 1, block_events, BASE_NONE, 0},
    {"worker_connections", CTX_EVENTS, 1, 1, 0, set_worker_connections, M(worker_connections)},
    {"tcp", CTX_MAIN, 0, 0, 1, block_tcp, BASE_NONE, 0},
    {"server", CTX_TCP, 0, 0, 1, block_server, BASE_NONE, 0},
    {"listen", CTX_SERVER, 1, -1, 0, set_listen, BASE_NONE, 0},
    {"protocol", CTX_SERVER, 1, 1, 0, set_protocol, BASE_NONE, 0},
    {"read_timeout", TS, 1, 1, 0, set_msec, S(read_timeout)},
    {"send_timeout", TS, 1, 1, 0, set_msec, S(send_timeout)},
    {"keepalive_timeout", TS, 1, 1, 0, set_msec, S(keepalive_timeout)},
    {"session_pool_size", TS, 1, 1, 0, set_size, S(session_pool_size)},
    {"connection_pool_size", TS, 1, 1, 0, set_size, S(connection_pool_size)},
    {"client_max_body_size", TS, 1, 1, 0, set_size, S(client_max_body_size)},
    {"tcp_nodelay", TS, 1, 1, 0, set_flag, S(tcp_nodelay)},
    {"allow", TS, 1, 1, 0, set_access, BASE_SRV, 0},
    {"deny", TS, 1, 1, 0, set_access, BASE_SRV, 1},
    {"resolver", TS, 1, -1, 0, set_resolver, BASE_SRV, 0},
    {"resolver_timeout", TS, 1, 1, 0, set_msec, S(resolver_timeout)},
    {"log_format", CTX_TCP, 2, -1, 0, set_log_format, BASE_TCP, 0},
    {"access_log", TS, 1, 2, 0, set_access_log, BASE_SRV, 0},
    {"lua_package_path", CTX_TCP, 1, 1, 0, set_str, T(lua_package_path)},
    {"lua_package_cpath", CTX_TCP, 1, 1, 0, set_str, T(lua_package_cpath)},
    {"lua_regex_cache_max_entries", CTX_TCP, 1, 1, 0, set_num, T(lua_regex_cache_max_entries)},
    {"lua_regex_match_limit", CTX_TCP, 1, 1, 0, set_num, T(lua_regex_match_limit)},
    {"lua_shared_dict", CTX_TCP, 2, 2, 0, set_shared_dict, BASE_TCP, 0},
    {"lua_code_cache", TS, 1, 1, 0, set_flag, S(lua_code_cache)},
    {"lua_check_client_abort", TS, 1, 1, 0, set_flag, S(lua_check_client_abort)},
    {"lua_socket_connect_timeout", TS, 1, 1, 0, set_msec, S(lua_socket_connect_timeout)},
    {"lua_socket_send_timeout", TS, 1, 1, 0, set_msec, S(lua_socket_send_timeout)},
    {"lua_socket_read_timeout", TS, 1, 1, 0, set_msec, S(lua_socket_read_timeout)},
    {"lua_socket_keepalive_timeout", TS, 1, 1, 0, set_msec, S(lua_socket_keepalive_timeout)},
    {"lua_socket_send_lowat", TS, 1, 1, 0, set_size, S(lua_socket_send_lowat)},
    {"lua_socket_buffer_size", TS, 1, 1, 0, set_size, S(lua_socket_buffer_size)},
    {"lua_socket_pool_size", TS, 1, 1, 0, set_num, S(lua_socket_pool_size)},
    {"lua_socket_log_errors", TS, 1, 1, 0, set_flag, S(lua_socket_log_errors)},
    {"init_by_lua", CTX_TCP, 1, 1, 0, set_lua_code, T(init)},
    {"init_by_lua_file", CTX_TCP, 1, 1, 0, set_lua_code, T(init)},
    {"process_by_lua", TS, 1, 1, 0, set_lua_code, S(process)},
    {"process_by_lua_file", TS, 1, 1, 0, set_lua_code, S(process)},
    {NULL, 0, 0, 0, 0, NULL, BASE_NONE, 0},
};

const directive_t *conf_directives(void) { return table; }

static void *base_of(conf_t *cf, enum conf_base b)
{
    switch (b) {
    case BASE_MAIN: return cf->main;
    case BASE_TCP: return cf->main->tcp;
    case BASE_SRV: return cf->srv;
    default: return NULL;
    }
}

static int check_args(conf_t *cf, const directive_t *d, int block)
{
    int n = cf->nargs - 1;
    if (d->block && !block) return conf_error(cf, "directive \"%s\" has no opening \"{\"", d->name);
    if (!d->block && block) return conf_error(cf, "directive \"%s\" is not terminated by \";\"", d->name);
    if (n < d->min_args || (d->max_args >= 0 && n > d->max_args))
        return conf_error(cf, "invalid number of arguments in \"%s\" directive", d->name);
    return 0;
}

int conf_handle(conf_t *cf, int block)
{
    for (const directive_t *d = table; d->name; d++) {
        if (strcmp(d->name, cf->args[0]) != 0) continue;
        if (!(d->contexts & cf->ctx))
            return conf_error(cf, "\"%s\" directive is not allowed here", d->name);
        if (check_args(cf, d, block)) return -1;
        return d->set(cf, d, base_of(cf, d->base));
    }
    return conf_error(cf, "unknown directive \"%s\"", cf->args[0]);
}

/* Runs conf_parse_block() in a new context, restoring the outer one afterwards. */
static int enter_block(conf_t *cf, int ctx, srv_conf_t *srv)
{
    int saved_ctx = cf->ctx;
    srv_conf_t *saved_srv = cf->srv;
    cf->ctx = ctx;
    cf->srv = srv;
    int rc = conf_parse_block(cf);
    cf->ctx = saved_ctx;
    cf->srv = saved_srv;
    return rc;
}

static int block_events(conf_t *cf, const directive_t *d, void *conf)
{
    (void)d;
    (void)conf;
    if (cf->main->events_seen) return conf_error(cf, "\"events\" directive is duplicate");
    cf->main->events_seen = 1;
    return enter_block(cf, CTX_EVENTS, NULL);
}

static int block_tcp(conf_t *cf, const directive_t *d, void *conf)
{
    (void)d;
    (void)conf;
    if (cf->main->tcp) return conf_error(cf, "\"tcp\" directive is duplicate");
    tcp_conf_t *t = pool_calloc(cf->main->pool, sizeof *t);
    srv_conf_init(&t->s);
    t->lua_regex_cache_max_entries = t->lua_regex_match_limit = CONF_UNSET;
    cf->main->tcp = t;
    return enter_block(cf, CTX_TCP, &t->s);
}

static int block_server(conf_t *cf, const directive_t *d, void *conf)
{
    (void)d;
    (void)conf;
    tcp_conf_t *t = cf->main->tcp;
    server_conf_t *s = pool_calloc(cf->main->pool, sizeof *s), **tail = &t->servers;
    srv_conf_init(&s->s);
    s->file = cf->src->name;
    s->line = cf->src->line;
    while (*tail) tail = &(*tail)->next;
    *tail = s; /* keep file order: the first server is the first listed */
    server_conf_t *saved = cf->server;
    cf->server = s;
    int rc = enter_block(cf, CTX_SERVER, &s->s);
    cf->server = saved;
    return rc;
}
