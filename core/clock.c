/* clock.c: the cached wall clock and the time texts derived from it (ngx.time, ngx.now,
 * ngx.utctime, ngx.localtime, error-log and access-log stamps). HTTP dates: httptime.c. */
#include "clock.h"
#include "timefmt.h"

static time_t cached_sec;
static unsigned cached_msec;
static int cached_valid;

/* One formatted text and the second it was formatted for: reformatting only when the
 * second changes keeps ngx.localtime() in a hot loop to a compare and a pointer return. */
typedef struct stamp {
    time_t sec;
    int valid;
    char buf[32];
} stamp_t;

typedef void (*stamp_fmt_fn)(char *buf, const struct tm *tm);

void clock_update(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return; /* cannot fail for CLOCK_REALTIME; keep the last value if it ever does */
    cached_sec = ts.tv_sec;
    cached_msec = (unsigned)(ts.tv_nsec / 1000000); /* truncated, as nginx does */
    cached_valid = 1;
}

/* Readers before the first clock_update() (unit tests, early start-up code) still get
 * the real time rather than the epoch. */
static void clock_ensure(void)
{
    if (!cached_valid)
        clock_update();
}

time_t clock_time(void)
{
    clock_ensure();
    return cached_sec;
}

unsigned clock_msec(void)
{
    clock_ensure();
    return cached_msec;
}

double clock_now(void)
{
    clock_ensure();
    return (double)cached_sec + cached_msec / 1000.0;
}

static const char *stamp_get(stamp_t *st, int local, stamp_fmt_fn fmt)
{
    struct tm tm;
    time_t now = clock_time();

    if (st->valid && st->sec == now)
        return st->buf;
    if (local)
        localtime_r(&now, &tm);
    else
        gmtime_r(&now, &tm);
    fmt(st->buf, &tm);
    st->sec = now;
    st->valid = 1;
    return st->buf;
}

/* "yyyy<sep>mm<sep>dd<mid>hh:mm:ss" */
static char *put_date_time(char *p, const struct tm *tm, char sep, char mid)
{
    p = put_num(p, tm->tm_year + 1900L, 4);
    *p++ = sep;
    p = put_num(p, tm->tm_mon + 1, 2);
    *p++ = sep;
    p = put_num(p, tm->tm_mday, 2);
    *p++ = mid;
    return put_hms(p, tm);
}

/* "+hh:mm" or "+hhmm" from the zone's offset east of UTC. */
static char *put_offset(char *p, const struct tm *tm, int colon)
{
    long off = tm->tm_gmtoff / 60;

    *p++ = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    p = put_num(p, off / 60, 2);
    if (colon)
        *p++ = ':';
    return put_num(p, off % 60, 2);
}

static void fmt_dash(char *buf, const struct tm *tm)
{
    *put_date_time(buf, tm, '-', ' ') = '\0';
}

static void fmt_slash(char *buf, const struct tm *tm)
{
    *put_date_time(buf, tm, '/', ' ') = '\0';
}

static void fmt_iso8601(char *buf, const struct tm *tm)
{
    *put_offset(put_date_time(buf, tm, '-', 'T'), tm, 1) = '\0';
}

static void fmt_http_log(char *buf, const struct tm *tm)
{
    char *p = put_num(buf, tm->tm_mday, 2);

    *p++ = '/';
    p = put_str(p, mon_short[tm->tm_mon]);
    *p++ = '/';
    p = put_num(p, tm->tm_year + 1900L, 4);
    *p++ = ':';
    p = put_hms(p, tm);
    *p++ = ' ';
    *put_offset(p, tm, 0) = '\0';
}

const char *clock_utc_str(void)
{
    static stamp_t st;
    return stamp_get(&st, 0, fmt_dash);
}

const char *clock_local_str(void)
{
    static stamp_t st;
    return stamp_get(&st, 1, fmt_dash);
}

const char *clock_log_str(void)
{
    static stamp_t st;
    return stamp_get(&st, 1, fmt_slash);
}

const char *clock_iso8601_str(void)
{
    static stamp_t st;
    return stamp_get(&st, 1, fmt_iso8601);
}

const char *clock_http_log_str(void)
{
    static stamp_t st;
    return stamp_get(&st, 1, fmt_http_log);
}
