/* conf_listen.c: directives that take network addresses: listen (with its options),
 * allow/deny (address, CIDR or "all") and resolver. Only literal addresses are accepted so
 * the parser never does DNS; "localhost" is the one name, mapped to 127.0.0.1. */
#include "conf_internal.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARG(i) (cf->args[i])

/* Parses an IPv4 or IPv6 literal (brackets allowed, and then required to be v6) into 16 bytes. */
int parse_addr(const char *s, int family_hint, uint8_t out[16], int *family)
{
    char buf[64];
    size_t n = strlen(s);
    if (n >= sizeof buf) return -1;
    if (s[0] == '[' && n > 2 && s[n - 1] == ']') {
        memcpy(buf, s + 1, n - 2);
        buf[n - 2] = 0;
        family_hint = AF_INET6;
    } else memcpy(buf, s, n + 1);
    memset(out, 0, 16);
    if (family_hint != AF_INET6 && inet_pton(AF_INET, buf, out) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (family_hint != AF_INET && inet_pton(AF_INET6, buf, out) == 1) {
        *family = AF_INET6;
        return 0;
    }
    return -1;
}

/* Splits "host:port", "[v6]:port", "port" or "*:port"; returns port or -1.
 * A lone port yields host "*"; ":port" yields an empty host, which no caller accepts. */
static long split_host_port(const char *s, char *host, size_t hostlen)
{
    const char *colon = s[0] == '[' ? strstr(s, "]:") : strrchr(s, ':');
    const char *port = s;
    snprintf(host, hostlen, "*");
    if (colon) {
        size_t n = (size_t)(colon - s) + (s[0] == '[');
        if (n >= hostlen) return -1;
        memcpy(host, s, n);
        host[n] = '\0';
        port = colon + 1 + (s[0] == '[');
    }
    char *end;
    long p = strtol(port, &end, 10);
    if (*port < '0' || *port > '9' || *end || p < 1 || p > 65535) return -1;
    return p;
}

static int fill_sockaddr(listen_conf_t *l, const char *host, int port)
{
    uint8_t a[16];
    int fam;
    if (strcmp(host, "*") == 0) {
        fam = AF_INET;
        memset(a, 0, 16);
    } else if (strcmp(host, "localhost") == 0) {
        fam = AF_INET;
        inet_pton(AF_INET, "127.0.0.1", a);
    } else if (parse_addr(host, 0, a, &fam) != 0 || (fam == AF_INET6) != (host[0] == '[')) return -1;
    memset(&l->sa, 0, sizeof l->sa);
    if (fam == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&l->sa;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        memcpy(&sin->sin_addr, a, 4);
        l->salen = sizeof *sin;
        const char *shown = strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
        snprintf(l->text, sizeof l->text, "%s:%d", shown, port);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l->sa;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        memcpy(&sin6->sin6_addr, a, 16);
        l->salen = sizeof *sin6;
        snprintf(l->text, sizeof l->text, "%s:%d", host, port);
    }
    return 0;
}

/* so_keepalive=on|off|[idle]:[intvl]:[cnt] with idle/intvl as times in seconds. */
static int parse_keepalive(listen_conf_t *l, const char *v)
{
    if (strcmp(v, "on") == 0) {
        l->so_keepalive = 1;
        return 0;
    }
    if (strcmp(v, "off") == 0) {
        l->so_keepalive = 0;
        return 0;
    }
    char part[3][32] = {{0}};
    const char *p = v;
    for (int i = 0; i < 3; i++) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n >= sizeof part[i] || (i < 2 && !e) || (i == 2 && e)) return -1;
        memcpy(part[i], p, n);
        p = e ? e + 1 : p + n;
    }
    long idle = part[0][0] ? conf_parse_time_ms(part[0]) : 0;
    long intvl = part[1][0] ? conf_parse_time_ms(part[1]) : 0;
    long cnt = part[2][0] ? strtol(part[2], NULL, 10) : 0;
    if (idle < 0 || intvl < 0 || cnt < 0 || idle / 1000 > 32767 || intvl / 1000 > 32767 || cnt > 127)
        return -1;
    if (part[2][0] && strspn(part[2], "0123456789") != strlen(part[2])) return -1;
    l->so_keepalive = 1;
    l->keepidle = (int)(idle / 1000);
    l->keepintvl = (int)(intvl / 1000);
    l->keepcnt = (int)cnt;
    return 0;
}

static int listen_option(conf_t *cf, listen_conf_t *l, const char *o)
{
    long v;
    if (strcmp(o, "deferred") == 0) {
        l->deferred = 1;
        return 0;
    }
    if (strcmp(o, "bind") == 0) {
        l->bind = 1;
        return 0;
    }
    if (strcmp(o, "reuseport") == 0) {
        l->reuseport = 1;
        return 0;
    }
    if (strncmp(o, "backlog=", 8) == 0) {
        char *end;
        v = strtol(o + 8, &end, 10);
        if (o[8] < '0' || o[8] > '9' || *end || v < 1 || v > 65535)
            return conf_error(cf, "invalid backlog \"%s\"", o + 8);
        l->backlog = (int)v;
        return 0;
    }
    if (strncmp(o, "rcvbuf=", 7) == 0 || strncmp(o, "sndbuf=", 7) == 0) {
        v = conf_parse_size(o + 7);
        if (v < 1 || v > 0x7fffffff) return conf_error(cf, "invalid %.6s \"%s\"", o, o + 7);
        *(o[0] == 'r' ? &l->rcvbuf : &l->sndbuf) = (int)v;
        return 0;
    }
    if (strncmp(o, "ipv6only=", 9) == 0) {
        if (strcmp(o + 9, "on") && strcmp(o + 9, "off"))
            return conf_error(cf, "invalid ipv6only flags \"%s\"", o + 9);
        l->ipv6only = strcmp(o + 9, "on") == 0;
        return 0;
    }
    if (strncmp(o, "so_keepalive=", 13) == 0) {
        if (parse_keepalive(l, o + 13)) return conf_error(cf, "invalid so_keepalive value: \"%s\"", o + 13);
        return 0;
    }
    return conf_error(cf, "invalid parameter \"%s\"", o);
}

int set_listen(conf_t *cf, const directive_t *d, void *conf)
{
    (void)d;
    (void)conf;
    listen_conf_t *l = pool_calloc(cf->main->pool, sizeof *l);
    size_t hostlen = cf->arglen[1] + 2; /* room for any host, so a long name is "not found" */
    char *host = pool_calloc(cf->main->pool, hostlen);
    l->backlog = 511; /* nginx's NGX_LISTEN_BACKLOG on Linux */
    l->so_keepalive = CONF_UNSET;
    l->ipv6only = CONF_UNSET;
    long port = split_host_port(ARG(1), host, hostlen);
    if (port < 0) return conf_error(cf, "invalid port in \"%s\" of the \"listen\" directive", ARG(1));
    if (fill_sockaddr(l, host, (int)port))
        return conf_error(cf, "host not found in \"%s\" of the \"listen\" directive", ARG(1));
    for (int i = 2; i < cf->nargs; i++)
        if (listen_option(cf, l, ARG(i))) return -1;
    if (l->sa.ss_family == AF_INET && l->ipv6only != CONF_UNSET)
        return conf_error(cf, "ipv6only is not supported on addr \"%s\"", ARG(1));
    l->file = cf->src->name;
    l->line = cf->src->line;
    listen_conf_t **tail = &cf->server->listens;
    while (*tail) tail = &(*tail)->next;
    *tail = l;
    return 0;
}

int set_access(conf_t *cf, const directive_t *d, void *conf)
{
    srv_conf_t *s = conf;
    access_rule_t *r = pool_calloc(cf->main->pool, sizeof *r);
    r->deny = (int)d->offset; /* the table row's offset field carries allow=0 / deny=1 */
    if (strcmp(ARG(1), "all") != 0) {
        char addr[64];
        const char *slash = strchr(ARG(1), '/');
        size_t n = slash ? (size_t)(slash - ARG(1)) : strlen(ARG(1));
        if (n >= sizeof addr || ARG(1)[0] == '[') return conf_error(cf, "invalid parameter \"%s\"", ARG(1));
        memcpy(addr, ARG(1), n);
        addr[n] = 0;
        if (parse_addr(addr, 0, r->addr, &r->family)) return conf_error(cf, "invalid parameter \"%s\"", ARG(1));
        int max = r->family == AF_INET ? 32 : 128;
        char *end = NULL;
        long bits = slash ? strtol(slash + 1, &end, 10) : max;
        if (slash && (slash[1] < '0' || slash[1] > '9' || *end || bits > max))
            return conf_error(cf, "invalid parameter \"%s\"", ARG(1));
        for (int i = 0; i < max / 8; i++) {
            int b = bits - i * 8;
            r->mask[i] = b >= 8 ? 0xff : b <= 0 ? 0
                                                : (uint8_t)(0xff << (8 - b));
            r->addr[i] &= r->mask[i];
        }
    }
    r->next = s->rules; /* newest first while parsing: O(1) for long deny lists; */
    s->rules = r;       /* conf_finish() puts them back in file order */
    return 0;
}

int set_resolver(conf_t *cf, const directive_t *d, void *conf)
{
    srv_conf_t *s = conf;
    (void)d;
    if (s->resolvers) return conf_error(cf, "\"resolver\" directive is duplicate");
    str_list_t **tail = &s->resolvers;
    for (int i = 1; i < cf->nargs; i++) {
        const char *a = ARG(i);
        if (strncmp(a, "valid=", 6) == 0) {
            if ((s->resolver_valid = conf_parse_time_ms(a + 6)) < 0)
                return conf_error(cf, "invalid parameter \"%s\"", a);
            continue;
        }
        if (strncmp(a, "ipv6=", 5) == 0) {
            if (strcmp(a + 5, "on") && strcmp(a + 5, "off")) return conf_error(cf, "invalid parameter \"%s\"", a);
            s->resolver_ipv6 = strcmp(a + 5, "on") == 0;
            continue;
        }
        char host[64];
        uint8_t bin[16];
        int fam;
        int has_port = (a[0] == '[' && strstr(a, "]:"))
                    || (a[0] != '[' && strchr(a, ':') == strrchr(a, ':') && strchr(a, ':'));
        if (has_port ? split_host_port(a, host, sizeof host) < 0
                     : snprintf(host, sizeof host, "%s", a) >= (int)sizeof host)
            return conf_error(cf, "invalid resolver address \"%s\"", a);
        if (parse_addr(host, 0, bin, &fam)) return conf_error(cf, "invalid resolver address \"%s\"", a);
        str_list_t *e = pool_calloc(cf->main->pool, sizeof *e);
        e->s = a;
        *tail = e;
        tail = &e->next;
    }
    if (!s->resolvers) return conf_error(cf, "invalid number of arguments in \"resolver\" directive");
    return 0;
}
