/* clock.h: the cached wall clock (one syscall per event-loop iteration) and the
 * conversions between seconds and the time texts nginx prints and parses. */
#ifndef TCPLUA_CLOCK_H
#define TCPLUA_CLOCK_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Reads CLOCK_REALTIME into the cache. The server calls it at start-up and once per
 * loop iteration; ngx.update_time() calls it on demand. The only syscall in this file. */
void clock_update(void);

time_t clock_time(void);      /* cached seconds since the epoch */
unsigned clock_msec(void);    /* cached milliseconds within that second, 0..999 */
double clock_now(void);       /* clock_time() + clock_msec() / 1000.0 */

/* Texts of the cached second, formatted lazily (only when the second changed) into
 * static buffers that stay valid until the next clock_update(). Local ones use the
 * process's time zone (TZ as read by the C library at the first conversion). */
const char *clock_utc_str(void);      /* "2010-11-18 11:27:35"        ngx.utctime() */
const char *clock_local_str(void);    /* "2010-11-18 19:27:35"        ngx.localtime() */
const char *clock_log_str(void);      /* "2010/11/18 19:27:35"        error log lines */
const char *clock_iso8601_str(void);  /* "2010-11-18T19:27:35+08:00"  $time_iso8601 */
const char *clock_http_log_str(void); /* "18/Nov/2010:19:27:35 +0800" $time_local */

/* Seconds representable as an HTTP date: 0001-01-01 00:00:00 .. 9999-12-31 23:59:59 UTC. */
#define CLOCK_HTTP_MIN ((int64_t)-62135596800LL)
#define CLOCK_HTTP_MAX ((int64_t)253402300799LL)
#define CLOCK_HTTP_TIME_LEN 29        /* strlen("Thu, 18 Nov 2010 11:27:35 GMT") */

/* Writes the IMF-fixdate of `sec` (must be within CLOCK_HTTP_MIN..MAX) and a NUL into
 * buf[CLOCK_HTTP_TIME_LEN + 1]; returns CLOCK_HTTP_TIME_LEN, or 0 when out of range. */
size_t clock_http_time(int64_t sec, char *buf);

/* Parses an HTTP date (IMF-fixdate, RFC 850 or asctime form, RFC 7231 7.1.1.1) that
 * fills all of s[0..len). Returns 0 and sets *sec, or -1 when malformed. Pure. */
int clock_parse_http_time(const char *s, size_t len, int64_t *sec);

#endif
