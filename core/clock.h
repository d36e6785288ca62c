/* clock.h: the cached wall clock (one syscall per event-loop iteration) and the texts
 * of the cached second that nginx prints. HTTP dates (any second, pure): httptime.h. */
#ifndef TCPLUA_CLOCK_H
#define TCPLUA_CLOCK_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Reads CLOCK_REALTIME into the cache. The server calls it at start-up and once per
 * loop iteration; ngx.update_time() calls it on demand. The only syscall in this file. */
void clock_update(void);

time_t clock_time(void);   /* cached seconds since the epoch */
unsigned clock_msec(void); /* cached milliseconds within that second, 0..999 */
double clock_now(void);    /* clock_time() + clock_msec() / 1000.0 */

/* Texts of the cached second, formatted lazily (only when the second changed) into
 * static buffers that stay valid until the next clock_update(). Local ones use the
 * process's time zone (TZ as read by the C library at the first conversion). */
const char *clock_utc_str(void);      /* "2010-11-18 11:27:35"        ngx.utctime() */
const char *clock_local_str(void);    /* "2010-11-18 19:27:35"        ngx.localtime() */
const char *clock_log_str(void);      /* "2010/11/18 19:27:35"        error log lines */
const char *clock_iso8601_str(void);  /* "2010-11-18T19:27:35+08:00"  $time_iso8601 */
const char *clock_http_log_str(void); /* "18/Nov/2010:19:27:35 +0800" $time_local */

#endif
