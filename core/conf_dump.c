/* conf_dump.c: -T output: every file read, then the effective configuration with every
 * default applied, written back in the configuration language. */
#include "conf_internal.h"
#include "log.h"
#include <stdio.h>
#include <string.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

static const char *ms(char *b, size_t n, long v)
{
    if (v == 0) snprintf(b, n, "0");
    else if (v % 1000) snprintf(b, n, "%ldms", v);
    else snprintf(b, n, "%lds", v / 1000);
    return b;
}

static const char *size(char *b, size_t n, long v)
{
    if (v && v % (1024 * 1024) == 0) snprintf(b, n, "%ldm", v / (1024 * 1024));
    else if (v && v % 1024 == 0) snprintf(b, n, "%ldk", v / 1024);
    else snprintf(b, n, "%ld", v);
    return b;
}

/* Lua chunks and formats may hold quotes and newlines: print them escaped in '...'. */
static void quoted(FILE *o, const char *s)
{
    fputc('\'', o);
    for (; *s; s++) {
        if (*s == '\'' || *s == '\\') fputc('\\', o);
        if (*s == '\n') {
            fputs("\\n", o);
            continue;
        }
        fputc(*s, o);
    }
    fputc('\'', o);
}

/* Paths and names print bare when the lexer would read them back unchanged, else quoted. */
static void word(FILE *o, const char *s)
{
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:*$@=,+%~") == strlen(s))
        fputs(s, o);
    else
        quoted(o, s);
}

static void dump_code(FILE *o, const char *ind, const char *dir, const lua_code_t *c)
{
    if (!c) return;
    if (c->path) {
        fprintf(o, "%s%s_file ", ind, dir);
        word(o, c->path);
        fputs(";\n", o);
        return;
    }
    fprintf(o, "%s%s ", ind, dir);
    quoted(o, c->code);
    fputs(";\n", o);
}

static void dump_rules(FILE *o, const char *ind, const access_rule_t *r)
{
    for (; r; r = r->next) {
        if (!r->family) {
            fprintf(o, "%s%s all;\n", ind, r->deny ? "deny" : "allow");
            continue;
        }
        char a[64];
        int bits = 0, n = r->family == AF_INET ? 4 : 16;
        for (int i = 0; i < n; i++) bits += __builtin_popcount(r->mask[i]);
        inet_ntop(r->family, r->addr, a, sizeof a);
        fprintf(o, "%s%s %s/%d;\n", ind, r->deny ? "deny" : "allow", a, bits);
    }
}

static void dump_log(FILE *o, const char *ind, const log_conf_t *lc)
{
    fprintf(o, "%serror_log ", ind);
    word(o, lc->path);
    fprintf(o, " %s;\n", log_level_names[lc->level]);
}

/* access_log names its format, as the configuration language does (defined in tcp {}). */
static void dump_access_log(FILE *o, const char *ind, const srv_conf_t *s)
{
    if (!s->access_log) {
        fprintf(o, "%saccess_log off;\n", ind);
        return;
    }
    fprintf(o, "%saccess_log ", ind);
    word(o, s->access_log);
    fputc(' ', o);
    word(o, s->access_log_format_name);
    fputs(";\n", o);
}

static void dump_srv(FILE *o, const char *ind, const srv_conf_t *s)
{
    char b[32];
    static const struct {
        const char *name;
        size_t off;
        char kind;
    } rows[] = {
#define R(f, k) {#f, offsetof(srv_conf_t, f), k}
        R(read_timeout, 't'),
        R(send_timeout, 't'),
        R(keepalive_timeout, 't'),
        R(session_pool_size, 's'),
        R(connection_pool_size, 's'),
        R(client_max_body_size, 's'),
        R(resolver_timeout, 't'),
        R(lua_socket_connect_timeout, 't'),
        R(lua_socket_send_timeout, 't'),
        R(lua_socket_read_timeout, 't'),
        R(lua_socket_keepalive_timeout, 't'),
        R(lua_socket_send_lowat, 's'),
        R(lua_socket_buffer_size, 's'),
        R(lua_socket_pool_size, 'n'),
        R(lua_socket_log_errors, 'f'),
        R(lua_code_cache, 'f'),
        R(lua_check_client_abort, 'f'),
        R(tcp_nodelay, 'f'),
#undef R
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *p = (const char *)s + rows[i].off;
        if (rows[i].kind == 'f') {
            fprintf(o, "%s%s %s;\n", ind, rows[i].name, *(const int *)p ? "on" : "off");
            continue;
        }
        long v = *(const long *)p;
        const char *text = rows[i].kind == 't' ? ms(b, sizeof b, v)
                         : rows[i].kind == 's' ? size(b, sizeof b, v)
                                               : (snprintf(b, sizeof b, "%ld", v), b);
        fprintf(o, "%s%s %s;\n", ind, rows[i].name, text);
    }
    dump_log(o, ind, s->error_log);
    dump_rules(o, ind, s->rules);
    if (s->resolvers) {
        fprintf(o, "%sresolver", ind);
        for (const str_list_t *r = s->resolvers; r; r = r->next) fprintf(o, " %s", r->s);
        fprintf(o, " ipv6=%s%s%s;\n", s->resolver_ipv6 ? "on" : "off", s->resolver_valid ? " valid=" : "",
                s->resolver_valid ? ms(b, sizeof b, s->resolver_valid) : "");
    }
    dump_access_log(o, ind, s);
    dump_code(o, ind, "process_by_lua", s->process);
}

static void dump_listen(FILE *o, const listen_conf_t *l)
{
    fprintf(o, "        listen %s backlog=%d", l->text, l->backlog);
    if (l->rcvbuf) fprintf(o, " rcvbuf=%d", l->rcvbuf);
    if (l->sndbuf) fprintf(o, " sndbuf=%d", l->sndbuf);
    if (l->deferred) fputs(" deferred", o);
    if (l->bind) fputs(" bind", o);
    if (l->reuseport) fputs(" reuseport", o);
    if (l->sa.ss_family == AF_INET6) fprintf(o, " ipv6only=%s", l->ipv6only == 0 ? "off" : "on");
    if (l->so_keepalive == 0) fputs(" so_keepalive=off", o);
    if (l->so_keepalive == 1 && !(l->keepidle || l->keepintvl || l->keepcnt)) fputs(" so_keepalive=on", o);
    if (l->so_keepalive == 1 && (l->keepidle || l->keepintvl || l->keepcnt))
        fprintf(o, " so_keepalive=%d:%d:%d", l->keepidle, l->keepintvl, l->keepcnt);
    fputs(";\n", o);
}

static void dump_tcp(FILE *o, const tcp_conf_t *t)
{
    fputs("tcp {\n", o);
    fputs("    lua_package_path ", o);
    quoted(o, t->lua_package_path ? t->lua_package_path : ";;");
    fputs(";\n    lua_package_cpath ", o);
    quoted(o, t->lua_package_cpath ? t->lua_package_cpath : ";;");
    fprintf(o, ";\n    lua_regex_cache_max_entries %ld;\n    lua_regex_match_limit %ld;\n",
            t->lua_regex_cache_max_entries, t->lua_regex_match_limit);
    for (const shdict_conf_t *d = t->shdicts; d; d = d->next) {
        char b[32];
        fputs("    lua_shared_dict ", o);
        word(o, d->name);
        fprintf(o, " %s;\n", size(b, sizeof b, d->size));
    }
    if (t->init) dump_code(o, "    ", "init_by_lua", t->init);
    for (const log_format_t *f = t->formats; f; f = f->next) {
        fputs("    log_format ", o);
        word(o, f->name);
        fputc(' ', o);
        quoted(o, f->format);
        fputs(";\n", o);
    }
    dump_srv(o, "    ", &t->s);
    for (const server_conf_t *s = t->servers; s; s = s->next) {
        fputs("    server {\n", o);
        for (const listen_conf_t *l = s->listens; l; l = l->next) dump_listen(o, l);
        fprintf(o, "        protocol %s;\n", s->protocol);
        dump_srv(o, "        ", &s->s);
        fputs("    }\n", o);
    }
    fputs("}\n", o);
}

/* The user and group workers will have: when not running as root, no switch happens and
 * they keep the user that started the server (numbers where the names are unknown). */
static void dump_user(FILE *o, const main_conf_t *m)
{
    char ub[256], gb[256];
    const char *user = m->user, *group = m->group;
    if (m->user_uid == CONF_UNSET) {
        const struct passwd *pw = getpwuid(geteuid());
        if (pw) snprintf(ub, sizeof ub, "%s", pw->pw_name); /* copied: getgrgid may reuse it */
        else snprintf(ub, sizeof ub, "%ld", (long)geteuid());
        const struct group *gr = getgrgid(getegid());
        if (gr) snprintf(gb, sizeof gb, "%s", gr->gr_name);
        else snprintf(gb, sizeof gb, "%ld", (long)getegid());
        user = ub;
        group = gb;
    }
    fputs("user ", o);
    word(o, user);
    fputc(' ', o);
    word(o, group);
    fputs(";\n", o);
}

void conf_dump(const main_conf_t *m, FILE *o)
{
    char b[32];
    for (const conf_text_t *t = m->texts; t; t = t->next) {
        fprintf(o, "# configuration file %s:\n", t->name);
        fwrite(t->buf, 1, t->len, o);
        if (t->len && t->buf[t->len - 1] != '\n') fputc('\n', o);
        fputc('\n', o);
    }
    fputs("# effective configuration (defaults applied):\n", o);
    fprintf(o, "worker_processes %ld;\ndaemon %s;\nmaster_process %s;\n", m->worker_processes,
            m->daemon ? "on" : "off", m->master_process ? "on" : "off");
    fprintf(o, "worker_shutdown_timeout %s;\n", ms(b, sizeof b, m->worker_shutdown_timeout));
    dump_log(o, "", m->error_log);
    fputs("pid ", o);
    word(o, m->pid);
    fputs(";\n", o);
    dump_user(o, m);
    if (m->worker_rlimit_nofile != CONF_UNSET) fprintf(o, "worker_rlimit_nofile %ld;\n", m->worker_rlimit_nofile);
    fprintf(o, "events {\n    worker_connections %ld;\n}\n", m->worker_connections);
    if (m->tcp) dump_tcp(o, m->tcp);
}
