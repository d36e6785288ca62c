/* resolver.h: asynchronous host-name resolution for cosockets (connect("name", port)), with
 * c-ares inside the libev loop. nginx's resolver is the model: only the servers of the
 * `resolver` directive are asked (never /etc/resolv.conf's, never /etc/hosts), a name is
 * asked as is (no search domains), `resolver_timeout` bounds the whole query, positive
 * answers are cached per name for valid= or the records' TTL, and failures are worded as
 * ngx_lua words them ("NAME could not be resolved (3: Host not found)").
 *
 * Literal IP addresses are the caller's business: it does not ask the resolver for them.
 * "localhost" is the exception to "only DNS": c-ares never sends it to a server (RFC 6761),
 * so it resolves to 127.0.0.1 (and ::1 with ipv6) without a query.
 * Callbacks run only from the event loop, never inside the call that started the query.
 *
 * Caller protocol for one name:
 *   1. resolver_cached(): if it returns 1, use the addresses (no event-loop turn needed).
 *   2. Otherwise q = resolver_query(); keep q until cb runs (q is freed when cb is called)
 *      or give it up with resolver_cancel(q) (cb is then never called). */
#ifndef TCPLUA_RESOLVER_H
#define TCPLUA_RESOLVER_H
#include <ev.h>
#include <stddef.h>
#include <sys/socket.h>
#include "conf.h"

typedef struct resolver resolver_t;
typedef struct resolver_query resolver_query_t;

/* The most addresses one answer keeps: a UDP answer without EDNS holds about 30 A records,
 * and a connect only ever tries a few of them. */
#define RESOLVER_MAX_ADDRS 64

/* Result: n >= 1 addresses (port 0, AF_INET or AF_INET6, in the order the answers gave
 * them) and err NULL, or n == 0, addrs NULL and err the whole message:
 *   "NAME could not be resolved (3: Host not found)"   NXDOMAIN, or no record of the family
 *   "... (2: Server failure)", "(1: Format error)", "(4: Unimplemented)",
 *   "... (5: Operation refused)", "(110: Operation timed out)",
 *   "... (111: Connection refused)" (every server refused: ICMP port unreachable),
 *   "... (12: Cannot allocate memory)", else "(S: Unknown error)" with S c-ares' status.
 * addrs and err are valid only during the call. The query handle is already freed when cb
 * runs: cb must not cancel its own query (it may cancel any other). */
typedef void (*resolver_cb)(void *data, const struct sockaddr_storage *addrs, int n, const char *err);

/* servers: the resolver directive's addresses as written ("1.2.3.4", "1.2.3.4:5353",
 * "[::1]:53", "::1"; port 53 by default). timeout_ms bounds each query. valid_ms: how long
 * a positive answer is cached; 0 uses the smallest TTL of its records. ipv6: ask AAAA as
 * well as A. Returns NULL with a message in err (invalid address, c-ares failure). */
resolver_t *resolver_create(struct ev_loop *loop, const str_list_t *servers, long timeout_ms, long valid_ms,
                            int ipv6, char *err, size_t errlen);

/* Cancels pending queries without calling their callbacks and frees everything. Allowed
 * from inside a resolver callback (the memory is then released when the callback returns). */
void resolver_destroy(resolver_t *r);

/* Cache hit (unexpired, name compared case-insensitively): copies up to max addresses to
 * addrs, sets *n, returns 1. Otherwise returns 0. Synchronous. */
int resolver_cached(resolver_t *r, const char *name, struct sockaddr_storage *addrs, int max, int *n);

/* Starts resolving name (the cache is not consulted: that is resolver_cached's job); cb runs
 * later from the event loop, exactly once unless the query is cancelled or the resolver
 * destroyed first. Queries for the same name in flight at the same time share one DNS
 * exchange. Returns NULL when out of memory. */
resolver_query_t *resolver_query(resolver_t *r, const char *name, resolver_cb cb, void *data);

/* cb will not be called. Safe to call from inside another query's callback. NULL is a no-op. */
void resolver_cancel(resolver_query_t *q);

#endif
