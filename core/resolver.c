/* resolver.c: c-ares in the libev loop, a positive-answer cache, and the per-query deadline.
 *
 * Three kinds of object:
 *   lookup_t          one DNS exchange for one (lower-cased) name: c-ares' ares_getaddrinfo
 *                     request. c-ares cannot cancel a single request, so a lookup lives until
 *                     c-ares calls back, even when nobody waits for it any more; its answer
 *                     still fills the cache.
 *   resolver_query_t  one caller waiting on a lookup, with its own deadline timer. Cancelling
 *                     or timing out only detaches it from its lookup.
 *   centry_t          a cached positive answer.
 * Lookups are not started inside resolver_query() but from a zero-delay timer (the "kick"):
 * c-ares may call back from inside ares_getaddrinfo (a name it refuses, no memory), and the
 * API promises callbacks only from the event loop. It also keeps every call into c-ares out
 * of the user's callbacks, so c-ares is never re-entered. */
#include "resolver.h"
#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_BUCKETS 256
#define CACHE_MAX 4096 /* entries; beyond it the oldest entry goes */
#define NAME_MAX_LEN 255
#define ARES_TRIES 3         /* per server; see try_timeout_ms() */
#define LOCALHOST_TTL_S 3600 /* see lookup_localhost() */

typedef struct lookup lookup_t;

struct lookup {
    resolver_t *r;
    lookup_t *prev, *next;     /* r->lookups: not yet finished */
    lookup_t *next_pending;    /* r->pending: not yet handed to c-ares */
    resolver_query_t *waiters; /* doubly linked through q->prev/q->next */
    char name[];               /* lower-cased */
};

struct resolver_query {
    resolver_t *r;
    lookup_t *lk;
    resolver_query_t *prev, *next;
    ev_timer deadline;
    resolver_cb cb;
    void *data;
    char name[]; /* as the caller wrote it, for the error message */
};

typedef struct rsock { /* one watcher per socket c-ares has open */
    ev_io io;
    resolver_t *r;
    struct rsock *next;
} rsock_t;

typedef struct centry {
    struct centry *hnext;       /* bucket chain */
    struct centry *prev, *next; /* insertion order: eviction when full */
    ev_tstamp expires;
    unsigned hash;
    int n;
    struct sockaddr_storage *addrs;
    char name[];
} centry_t;

struct resolver {
    struct ev_loop *loop;
    ares_channel ch;
    ev_timer tick; /* ares_timeout(): c-ares' own retries */
    ev_timer kick; /* starts the pending lookups */
    rsock_t *socks;
    lookup_t *lookups, *pending;
    long timeout_ms, valid_ms;
    int family;
    int busy; /* depth of our callbacks from the loop */
    int dead; /* resolver_destroy() was called while busy */
    int ncache;
    centry_t *oldest, *newest;
    centry_t *buckets[CACHE_BUCKETS];
};

static void destroy_now(resolver_t *r);

/* ---- names and messages ---- */

static unsigned name_hash(const char *lower)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (const char *p = lower; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

static void lower_copy(char *dst, const char *src, size_t len)
{
    for (size_t i = 0; i < len; i++) dst[i] = (char)tolower((unsigned char)src[i]);
    dst[len] = '\0';
}

/* c-ares status -> the number and words nginx's resolver would report. A name c-ares
 * refuses to encode is "not found", as nginx answers NXDOMAIN for a name it cannot ask. */
static int status_code(int status, const char **text)
{
    switch (status) {
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
    case ARES_EBADNAME: *text = "Host not found"; return 3;
    case ARES_ESERVFAIL: *text = "Server failure"; return 2;
    case ARES_EFORMERR: *text = "Format error"; return 1;
    case ARES_ENOTIMP: *text = "Unimplemented"; return 4;
    case ARES_EREFUSED: *text = "Operation refused"; return 5;
    case ARES_ETIMEOUT: *text = "Operation timed out"; return 110;
    case ARES_ECONNREFUSED: *text = "Connection refused"; return 111;
    case ARES_ENOMEM: *text = "Cannot allocate memory"; return 12;
    default: *text = "Unknown error"; return status;
    }
}

static void format_err(char *buf, size_t len, const char *name, int status)
{
    const char *text;
    int code = status_code(status, &text);
    snprintf(buf, len, "%s could not be resolved (%d: %s)", name, code, text);
}

/* ---- the cache ---- */

static void cache_unlink(resolver_t *r, centry_t *e)
{
    centry_t **pp = &r->buckets[e->hash % CACHE_BUCKETS];
    while (*pp != e) pp = &(*pp)->hnext;
    *pp = e->hnext;
    if (e->prev) e->prev->next = e->next;
    else r->oldest = e->next;
    if (e->next) e->next->prev = e->prev;
    else r->newest = e->prev;
    r->ncache--;
    free(e->addrs);
    free(e);
}

static centry_t *cache_find(resolver_t *r, const char *lower, unsigned hash)
{
    for (centry_t *e = r->buckets[hash % CACHE_BUCKETS]; e; e = e->hnext)
        if (e->hash == hash && strcmp(e->name, lower) == 0) return e;
    return NULL;
}

/* Room for one more: expired entries first, then the oldest (a full cache of live entries
 * means many distinct names; the oldest is the likeliest to be stale). */
static void cache_make_room(resolver_t *r)
{
    if (r->ncache < CACHE_MAX) return;
    ev_tstamp now = ev_now(r->loop);
    for (centry_t *e = r->oldest, *next; e; e = next) {
        next = e->next;
        if (e->expires <= now) cache_unlink(r, e);
    }
    if (r->ncache >= CACHE_MAX) cache_unlink(r, r->oldest);
}

/* Takes ownership of addrs (freed on failure). Only positive answers come here: an error
 * is not cached, since SERVFAIL or a timeout is usually transient and the in-flight sharing
 * of lookups already folds a burst of askers into one exchange. */
static void cache_put(resolver_t *r, const char *lower, struct sockaddr_storage *addrs, int n, long ttl_ms)
{
    unsigned hash = name_hash(lower);
    centry_t *old = cache_find(r, lower, hash);
    if (old) cache_unlink(r, old);
    if (ttl_ms <= 0) goto fail;
    cache_make_room(r);
    size_t len = strlen(lower);
    centry_t *e = malloc(sizeof *e + len + 1);
    if (!e) goto fail;
    memcpy(e->name, lower, len + 1);
    e->hash = hash;
    e->n = n;
    e->addrs = addrs;
    e->expires = ev_now(r->loop) + ttl_ms / 1000.;
    e->hnext = r->buckets[hash % CACHE_BUCKETS];
    r->buckets[hash % CACHE_BUCKETS] = e;
    e->next = NULL;
    e->prev = r->newest;
    if (r->newest) r->newest->next = e;
    else r->oldest = e;
    r->newest = e;
    r->ncache++;
    return;
fail:
    free(addrs);
}

int resolver_cached(resolver_t *r, const char *name, struct sockaddr_storage *addrs, int max, int *n)
{
    char lower[NAME_MAX_LEN + 1];
    size_t len = strlen(name);
    if (len > NAME_MAX_LEN) return 0;
    lower_copy(lower, name, len);
    centry_t *e = cache_find(r, lower, name_hash(lower));
    if (!e) return 0;
    if (e->expires <= ev_now(r->loop)) {
        cache_unlink(r, e);
        return 0;
    }
    *n = e->n < max ? e->n : max;
    memcpy(addrs, e->addrs, (size_t)*n * sizeof *addrs);
    return 1;
}

/* ---- c-ares sockets and timer ---- */

/* After every call into c-ares: its next retry or per-try timeout. */
static void tick_arm(resolver_t *r)
{
    struct timeval tv;
    ev_timer_stop(r->loop, &r->tick);
    if (!ares_timeout(r->ch, NULL, &tv)) return;
    ev_timer_set(&r->tick, (ev_tstamp)tv.tv_sec + tv.tv_usec / 1e6, 0.);
    ev_timer_start(r->loop, &r->tick);
}

/* Leaving one of our loop callbacks: a resolver_destroy() made meanwhile takes effect. */
static void leave(resolver_t *r)
{
    if (--r->busy == 0 && r->dead) destroy_now(r);
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    resolver_t *r = w->data;
    (void)loop, (void)revents;
    r->busy++;
    ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    tick_arm(r);
    leave(r);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    resolver_t *r = ((rsock_t *)w)->r;
    int fd = w->fd; /* w may be freed inside ares_process_fd (c-ares closes the socket) */
    (void)loop;
    r->busy++;
    ares_process_fd(r->ch, revents & EV_READ ? fd : ARES_SOCKET_BAD, revents & EV_WRITE ? fd : ARES_SOCKET_BAD);
    tick_arm(r);
    leave(r);
}

static void rsock_free(resolver_t *r, rsock_t **pp)
{
    rsock_t *s = *pp;
    ev_io_stop(r->loop, &s->io);
    *pp = s->next;
    free(s);
}

/* ARES_OPT_SOCK_STATE_CB: c-ares opened, re-armed or closed (0, 0) a socket. If the watcher
 * cannot be allocated the socket is never read: c-ares' per-try timeout (tick) retries and
 * the query's deadline still ends it. */
static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
    resolver_t *r = data;
    rsock_t **pp = &r->socks;
    while (*pp && (*pp)->io.fd != fd) pp = &(*pp)->next;
    if (!readable && !writable) {
        if (*pp) rsock_free(r, pp);
        return;
    }
    rsock_t *s = *pp;
    if (!s) {
        if (!(s = calloc(1, sizeof *s))) return;
        s->r = r;
        s->next = r->socks;
        r->socks = s;
        ev_init(&s->io, io_cb);
    }
    ev_io_stop(r->loop, &s->io);
    ev_io_set(&s->io, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
    ev_io_start(r->loop, &s->io);
}

/* ---- queries and lookups ---- */

static void waiter_detach(resolver_query_t *q)
{
    if (q->prev) q->prev->next = q->next;
    else q->lk->waiters = q->next;
    if (q->next) q->next->prev = q->prev;
    ev_timer_stop(q->r->loop, &q->deadline);
}

static void lookup_unlink(lookup_t *lk)
{
    resolver_t *r = lk->r;
    if (lk->prev) lk->prev->next = lk->next;
    else r->lookups = lk->next;
    if (lk->next) lk->next->prev = lk->prev;
}

/* Frees q before calling back, so the callback may cancel others, start new queries or
 * destroy the resolver. */
static void query_finish(resolver_query_t *q, const struct sockaddr_storage *addrs, int n, int status)
{
    char err[NAME_MAX_LEN + 80];
    resolver_cb cb = q->cb;
    void *data = q->data;
    if (n == 0) format_err(err, sizeof err, q->name, status);
    waiter_detach(q);
    free(q);
    cb(data, n ? addrs : NULL, n, n ? NULL : err);
}

static void deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    resolver_query_t *q = w->data;
    resolver_t *r = q->r;
    (void)loop, (void)revents;
    r->busy++;
    query_finish(q, NULL, 0, ARES_ETIMEOUT);
    leave(r);
}

/* The answer as an array (port 0) and the smallest TTL of its records, aliases included. */
static int collect(const struct ares_addrinfo *ai, struct sockaddr_storage **out, long *ttl_s)
{
    int n = 0;
    long ttl = INT32_MAX;
    for (const struct ares_addrinfo_node *nd = ai->nodes; nd; nd = nd->ai_next) n++;
    if (n > RESOLVER_MAX_ADDRS) n = RESOLVER_MAX_ADDRS;
    if (!(*out = calloc(n ? n : 1, sizeof **out))) return -1;
    int i = 0;
    for (const struct ares_addrinfo_node *nd = ai->nodes; nd && i < n; nd = nd->ai_next) {
        if (nd->ai_addrlen > sizeof **out) continue;
        memcpy(&(*out)[i], nd->ai_addr, nd->ai_addrlen);
        if (nd->ai_family == AF_INET) ((struct sockaddr_in *)&(*out)[i])->sin_port = 0;
        else ((struct sockaddr_in6 *)&(*out)[i])->sin6_port = 0;
        if (nd->ai_ttl < ttl) ttl = nd->ai_ttl;
        i++;
    }
    for (const struct ares_addrinfo_cname *c = ai->cnames; c; c = c->next)
        if (c->ttl < ttl) ttl = c->ttl;
    *ttl_s = ttl < 0 ? 0 : ttl;
    return i;
}

/* Every waiter gets the answer; one waiter's callback may cancel another or destroy the
 * resolver (which detaches all waiters), so take them one at a time from the head. */
static void lookup_deliver(lookup_t *lk, const struct sockaddr_storage *addrs, int n, int status)
{
    resolver_query_t *q;
    while ((q = lk->waiters)) query_finish(q, addrs, n, status);
}

/* The end of a lookup: every waiter gets the answer, then a positive one is cached. Takes
 * ownership of addrs (n > 0 on success). */
static void lookup_done(lookup_t *lk, int status, struct sockaddr_storage *addrs, int n, long ttl_s)
{
    resolver_t *r = lk->r;
    lookup_unlink(lk); /* a query started from a callback below asks afresh */
    lookup_deliver(lk, status == ARES_SUCCESS ? addrs : NULL, status == ARES_SUCCESS ? n : 0, status);
    /* a callback may have destroyed the resolver: r itself lives until we return to the
     * loop, but its cache is no longer wanted */
    if (status == ARES_SUCCESS && !r->dead) cache_put(r, lk->name, addrs, n, r->valid_ms ? r->valid_ms : ttl_s * 1000);
    else free(addrs);
    free(lk);
}

/* ares_getaddrinfo's callback: once per lookup, also with ARES_EDESTRUCTION from
 * ares_destroy() (no waiters are left then). */
static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
    struct sockaddr_storage *addrs = NULL;
    long ttl_s = 0;
    int n = 0;
    (void)timeouts;
    if (status == ARES_SUCCESS && (n = collect(ai, &addrs, &ttl_s)) <= 0) status = n < 0 ? ARES_ENOMEM : ARES_ENODATA;
    if (ai) ares_freeaddrinfo(ai);
    lookup_done(arg, status, addrs, n, ttl_s);
}

/* c-ares 1.18 never sends "localhost" to a server (RFC 6761 6.3) and, /etc/hosts being off,
 * would fail it as "connection refused". Answer loopback instead, IPv4 only: a connect picks
 * one address at random, and services on "localhost" mostly listen on 127.0.0.1 alone. */
static void lookup_localhost(lookup_t *lk)
{
    struct sockaddr_storage *a = calloc(1, sizeof *a);
    if (!a) return lookup_done(lk, ARES_ENOMEM, NULL, 0, 0);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&a[0];
    v4->sin_family = AF_INET;
    v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lookup_done(lk, ARES_SUCCESS, a, 1, LOCALHOST_TTL_S);
}

/* The kick: hands the pending lookups to c-ares. One with no waiter left (all cancelled or
 * timed out before the loop came round) is dropped unasked. */
static void kick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    resolver_t *r = w->data;
    struct ares_addrinfo_hints hints = {.ai_family = r->family, .ai_flags = ARES_AI_NOSORT};
    lookup_t *lk;
    (void)loop, (void)revents;
    r->busy++;
    while (!r->dead && (lk = r->pending)) {
        r->pending = lk->next_pending;
        if (!lk->waiters) {
            lookup_unlink(lk);
            free(lk);
            continue;
        }
        if (strcmp(lk->name, "localhost") == 0) lookup_localhost(lk);
        else ares_getaddrinfo(r->ch, lk->name, NULL, &hints, on_addrinfo, lk);
    }
    if (!r->dead) tick_arm(r);
    leave(r);
}

static lookup_t *lookup_get(resolver_t *r, const char *name)
{
    size_t len = strlen(name);
    lookup_t *lk = malloc(sizeof *lk + len + 1);
    if (!lk) return NULL;
    lower_copy(lk->name, name, len);
    for (lookup_t *o = r->lookups; o; o = o->next)
        if (strcmp(o->name, lk->name) == 0) {
            free(lk);
            return o;
        }
    lk->r = r;
    lk->waiters = NULL;
    lk->prev = NULL;
    lk->next = r->lookups;
    if (r->lookups) r->lookups->prev = lk;
    r->lookups = lk;
    lk->next_pending = r->pending;
    r->pending = lk;
    if (!ev_is_active(&r->kick)) ev_timer_start(r->loop, &r->kick);
    return lk;
}

resolver_query_t *resolver_query(resolver_t *r, const char *name, resolver_cb cb, void *data)
{
    size_t len = strlen(name);
    resolver_query_t *q = malloc(sizeof *q + len + 1);
    if (!q) return NULL;
    lookup_t *lk = lookup_get(r, name);
    if (!lk) {
        free(q);
        return NULL;
    }
    memcpy(q->name, name, len + 1);
    q->r = r;
    q->lk = lk;
    q->cb = cb;
    q->data = data;
    q->prev = NULL;
    q->next = lk->waiters;
    if (lk->waiters) lk->waiters->prev = q;
    lk->waiters = q;
    ev_timer_init(&q->deadline, deadline_cb, r->timeout_ms / 1000., 0.);
    q->deadline.data = q;
    ev_timer_start(r->loop, &q->deadline);
    return q;
}

void resolver_cancel(resolver_query_t *q)
{
    if (!q) return;
    waiter_detach(q);
    free(q);
}

/* ---- create and destroy ---- */

/* "1.2.3.4", "1.2.3.4:5353", "[::1]:53", "[::1]", "::1" -> a c-ares server node. */
static int parse_server(const char *s, struct ares_addr_port_node *node)
{
    char host[64];
    const char *port = NULL, *colon = strchr(s, ':');
    size_t hlen = strlen(s);
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || (rb[1] && rb[1] != ':')) return -1;
        s++;
        hlen = (size_t)(rb - s);
        port = rb[1] ? rb + 2 : NULL;
    } else if (colon && colon == strrchr(s, ':')) {
        hlen = (size_t)(colon - s);
        port = colon + 1;
    }
    if (hlen >= sizeof host) return -1;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    long p = 53;
    char *end = NULL;
    if (port && (!*port || (p = strtol(port, &end, 10)) < 1 || p > 65535 || *end)) return -1;
    node->udp_port = node->tcp_port = (int)p;
    if (inet_pton(AF_INET, host, &node->addr.addr4) == 1) node->family = AF_INET;
    else if (inet_pton(AF_INET6, host, &node->addr.addr6) == 1) node->family = AF_INET6;
    else return -1;
    return 0;
}

static int set_servers(resolver_t *r, const str_list_t *servers, char *err, size_t errlen)
{
    int n = 0, rc;
    for (const str_list_t *s = servers; s; s = s->next) n++;
    if (n == 0) return snprintf(err, errlen, "no resolver defined"), -1;
    struct ares_addr_port_node *nodes = calloc((size_t)n, sizeof *nodes);
    if (!nodes) return snprintf(err, errlen, "no memory"), -1;
    int i = 0;
    for (const str_list_t *s = servers; s; s = s->next, i++) {
        if (parse_server(s->s, &nodes[i])) {
            snprintf(err, errlen, "invalid resolver address \"%s\"", s->s);
            free(nodes);
            return -1;
        }
        nodes[i].next = i + 1 < n ? &nodes[i + 1] : NULL;
    }
    if ((rc = ares_set_servers_ports(r->ch, nodes)) != ARES_SUCCESS)
        snprintf(err, errlen, "resolver: %s", ares_strerror(rc));
    free(nodes);
    return rc == ARES_SUCCESS ? 0 : -1;
}

/* c-ares doubles the per-try timeout each round over the servers; with ARES_TRIES rounds
 * one server is given t + 2t + 4t = 7t, so t = timeout / (7 * servers) makes c-ares give up
 * about when the query's deadline fires (about 4 s for one server and the 30 s default:
 * nginx re-sends every 5 s). */
static int try_timeout_ms(long timeout_ms, const str_list_t *servers)
{
    long n = 0;
    for (const str_list_t *s = servers; s; s = s->next) n++;
    long t = timeout_ms / (7 * (n ? n : 1));
    return t < 1 ? 1 : t > 5000 ? 5000
                                : (int)t;
}

/* Nothing of the host's own configuration: resolv.conf is read from /dev/null (no servers,
 * domains or options from it), no search domains (ndomains 0: ares_getaddrinfo ignores
 * ARES_FLAG_NOSEARCH in c-ares 1.18 and would try each domain), no HOSTALIASES, and lookups
 * "b" (DNS only, no /etc/hosts).
 * ARES_FLAG_NOCHECKRESP: a SERVFAIL, REFUSED or NOTIMP answer is reported as such, as nginx
 * does; without it c-ares 1.18 retries it on every server and try, then reports "connection
 * refused". An answer to another question is still dropped (test_resolver.c checks it). */
static int channel_init(resolver_t *r, const str_list_t *servers, char *err, size_t errlen)
{
    struct ares_options o;
    memset(&o, 0, sizeof o);
    o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP;
    o.timeout = try_timeout_ms(r->timeout_ms, servers);
    o.tries = ARES_TRIES;
    o.ndots = 1;
    o.ndomains = 0;
    o.lookups = (char *)"b";
    o.sock_state_cb = sock_state_cb;
    o.sock_state_cb_data = r;
    o.resolvconf_path = (char *)"/dev/null";
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS | ARES_OPT_DOMAINS
             | ARES_OPT_LOOKUPS | ARES_OPT_SOCK_STATE_CB | ARES_OPT_RESOLVCONF;
    int rc = ares_init_options(&r->ch, &o, mask);
    if (rc != ARES_SUCCESS) {
        snprintf(err, errlen, "resolver: %s", ares_strerror(rc));
        return -1;
    }
    if (set_servers(r, servers, err, errlen) == 0) return 0;
    ares_destroy(r->ch);
    return -1;
}

resolver_t *resolver_create(struct ev_loop *loop, const str_list_t *servers, long timeout_ms, long valid_ms,
                            int ipv6, char *err, size_t errlen)
{
    resolver_t *r = calloc(1, sizeof *r);
    if (!r) return snprintf(err, errlen, "no memory"), NULL;
    r->loop = loop;
    r->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    r->valid_ms = valid_ms;
    r->family = ipv6 ? AF_UNSPEC : AF_INET;
    ev_init(&r->tick, tick_cb);
    r->tick.data = r;
    ev_timer_init(&r->kick, kick_cb, 0., 0.);
    r->kick.data = r;
    if (channel_init(r, servers, err, errlen)) {
        free(r);
        return NULL;
    }
    return r;
}

/* Waiters go first, so nothing below can call back into the caller. */
static void cancel_all(resolver_t *r)
{
    for (lookup_t *lk = r->lookups; lk; lk = lk->next)
        while (lk->waiters) resolver_cancel(lk->waiters);
    ev_timer_stop(r->loop, &r->kick);
}

/* ares_destroy() calls on_addrinfo (ARES_EDESTRUCTION) for every started lookup, which
 * frees it, and closes its sockets through sock_state_cb; what is left in r->lookups was
 * never started. */
static void destroy_now(resolver_t *r)
{
    ares_destroy(r->ch);
    while (r->lookups) {
        lookup_t *lk = r->lookups;
        lookup_unlink(lk);
        free(lk);
    }
    while (r->socks) rsock_free(r, &r->socks);
    ev_timer_stop(r->loop, &r->tick);
    while (r->oldest) cache_unlink(r, r->oldest);
    free(r);
}

void resolver_destroy(resolver_t *r)
{
    if (!r) return;
    cancel_all(r);
    if (r->busy) r->dead = 1;
    else destroy_now(r);
}
