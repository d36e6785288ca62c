/* kpool.h: this worker's pools of idle upstream connections (cosocket setkeepalive), one
 * pool per name ("host:port", "unix:/path" or the script's own pool name). A pooled
 * connection is a byte stream owned by the pool: nothing of the session that used it stays.
 * While idle it is watched: the peer closing it, sending anything, or its idle timeout
 * closes it at once, without any script running (as ngx_lua's keepalive close handler). */
#ifndef TCPLUA_KPOOL_H
#define TCPLUA_KPOOL_H
#include <stddef.h>

/* Takes fd (connected, non-blocking, nothing unread) into pool `name`; `watched`: an earlier
 * stream of this loop watched it (stream_t.watched), so its registration is kept. `size` is the pool's
 * capacity when this call creates the pool (later calls keep the first size, as ngx_lua);
 * a full pool closes its least recently used connection to make room. timeout_ms < 0: no
 * idle timeout. `reused`: how many times the connection was taken from a pool so far.
 * Returns 0, or -1 (out of memory: fd is closed). */
int kpool_put(const char *name, int fd, int watched, long timeout_ms, int size, unsigned reused);

/* The most recently pooled connection of `name` (its fd; *reused set), or -1 when none. */
int kpool_get(const char *name, unsigned *reused);

size_t kpool_count(const char *name); /* idle connections in pool `name` */
void kpool_close_all(void);           /* the worker stops: close every idle connection */
#endif
