/* httptime.h: HTTP dates (RFC 7231 7.1.1.1): the pure formatter and parser behind
 * ngx.tcp_time / ngx.parse_tcp_time. No clock, no state: seconds in, text out and back. */
#ifndef TCPLUA_HTTPTIME_H
#define TCPLUA_HTTPTIME_H
#include <stddef.h>
#include <stdint.h>

/* Seconds representable as an HTTP date: 0001-01-01 00:00:00 .. 9999-12-31 23:59:59 UTC. */
#define HTTPTIME_MIN ((int64_t)-62135596800LL)
#define HTTPTIME_MAX ((int64_t)253402300799LL)
#define HTTPTIME_LEN 29 /* strlen("Thu, 18 Nov 2010 11:27:35 GMT") */

/* Writes the IMF-fixdate of `sec` (must be within HTTPTIME_MIN..MAX) and a NUL into
 * buf[HTTPTIME_LEN + 1]; returns HTTPTIME_LEN, or 0 when out of range. */
size_t httptime_format(int64_t sec, char *buf);

/* Parses an HTTP date (IMF-fixdate, RFC 850 or asctime form) that fills all of
 * s[0..len). Returns 0 and sets *sec, or -1 when malformed. */
int httptime_parse(const char *s, size_t len, int64_t *sec);

#endif
