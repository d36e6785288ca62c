/* clock.c: the cached wall clock and the time texts derived from it, plus the pure
 * HTTP-date formatter and parser behind ngx.tcp_time / ngx.parse_tcp_time. */
#include "clock.h"

#include <string.h>

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

static const char *const wday_short[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const wday_long[7] = {"Sunday", "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday"};
static const char *const mon_short[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

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

/* Fixed-width writers: snprintf cannot prove these widths to -Wformat-truncation, and
 * every field here is bounded (years 1..9999 by the callers' ranges). */
static char *put_num(char *p, long v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

/* "hh:mm:ss" */
static char *put_hms(char *p, const struct tm *tm)
{
    p = put_num(p, tm->tm_hour, 2);
    *p++ = ':';
    p = put_num(p, tm->tm_min, 2);
    *p++ = ':';
    return put_num(p, tm->tm_sec, 2);
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

/* English names on purpose: strftime's %a/%b follow LC_TIME, HTTP dates must not. */
size_t clock_http_time(int64_t sec, char *buf)
{
    struct tm tm;
    time_t t = (time_t)sec;
    char *p;

    if (sec < CLOCK_HTTP_MIN || sec > CLOCK_HTTP_MAX || gmtime_r(&t, &tm) == NULL)
        return 0;
    p = put_str(buf, wday_short[tm.tm_wday]);
    p = put_str(p, ", ");
    p = put_num(p, tm.tm_mday, 2);
    *p++ = ' ';
    p = put_str(p, mon_short[tm.tm_mon]);
    *p++ = ' ';
    p = put_num(p, tm.tm_year + 1900L, 4);
    *p++ = ' ';
    p = put_str(put_hms(p, &tm), " GMT");
    *p = '\0';
    return (size_t)(p - buf);
}

/* ---- HTTP-date parser: a cursor over the input and one function per form. ---- */

typedef struct cursor {
    const char *p;
    const char *end;
} cursor_t;

/* Consumes `lit` exactly (case-sensitive: RFC 7231 says HTTP-date is). */
static int cur_lit(cursor_t *c, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
        return 0;
    c->p += n;
    return 1;
}

/* Consumes exactly n ASCII digits into *out. */
static int cur_digits(cursor_t *c, int n, int *out)
{
    int v = 0;

    if (c->end - c->p < n)
        return 0;
    for (int i = 0; i < n; i++) {
        if (c->p[i] < '0' || c->p[i] > '9')
            return 0;
        v = v * 10 + (c->p[i] - '0');
    }
    c->p += n;
    *out = v;
    return 1;
}

/* Consumes one of names[0..count) and stores its index. */
static int cur_name(cursor_t *c, const char *const *names, int count, int *idx)
{
    for (int i = 0; i < count; i++) {
        if (cur_lit(c, names[i])) {
            *idx = i;
            return 1;
        }
    }
    return 0;
}

/* Consumes "hh:mm:ss" (range checks come later, with the date). */
static int cur_clock(cursor_t *c, int *h, int *m, int *s)
{
    return cur_digits(c, 2, h) && cur_lit(c, ":") && cur_digits(c, 2, m)
        && cur_lit(c, ":") && cur_digits(c, 2, s);
}

typedef struct civil {
    int year, mon, day, hour, min, sec; /* mon 1..12 */
} civil_t;

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int civil_valid(const civil_t *t)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int last;

    if (t->year < 1 || t->year > 9999 || t->mon < 1 || t->mon > 12)
        return 0;
    last = mdays[t->mon - 1] + (t->mon == 2 && is_leap(t->year));
    return t->day >= 1 && t->day <= last && t->hour <= 23 && t->min <= 59 && t->sec <= 59;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar, counted in
 * 400-year eras of 146097 days with years starting in March (so leap days fall last). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" */
static int parse_imf(cursor_t *c, civil_t *t)
{
    int wd;

    if (!(cur_name(c, wday_short, 7, &wd) && cur_lit(c, ", ") && cur_digits(c, 2, &t->day)
          && cur_lit(c, " ") && cur_name(c, mon_short, 12, &t->mon) && cur_lit(c, " ")
          && cur_digits(c, 4, &t->year) && cur_lit(c, " ")
          && cur_clock(c, &t->hour, &t->min, &t->sec) && cur_lit(c, " GMT")))
        return 0;
    t->mon++;
    return 1;
}

/* "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years pivot at 70 as in nginx. */
static int parse_rfc850(cursor_t *c, civil_t *t)
{
    int wd;

    if (!(cur_name(c, wday_long, 7, &wd) && cur_lit(c, ", ") && cur_digits(c, 2, &t->day)
          && cur_lit(c, "-") && cur_name(c, mon_short, 12, &t->mon) && cur_lit(c, "-")
          && cur_digits(c, 2, &t->year) && cur_lit(c, " ")
          && cur_clock(c, &t->hour, &t->min, &t->sec) && cur_lit(c, " GMT")))
        return 0;
    t->mon++;
    t->year += t->year < 70 ? 2000 : 1900;
    return 1;
}

/* "Sun Nov  6 08:49:37 1994"; the day is two digits or a space and one digit. */
static int parse_asctime(cursor_t *c, civil_t *t)
{
    int wd;

    if (!(cur_name(c, wday_short, 7, &wd) && cur_lit(c, " ")
          && cur_name(c, mon_short, 12, &t->mon) && cur_lit(c, " ")))
        return 0;
    if (!(cur_digits(c, 2, &t->day) || (cur_lit(c, " ") && cur_digits(c, 1, &t->day))))
        return 0;
    if (!(cur_lit(c, " ") && cur_clock(c, &t->hour, &t->min, &t->sec) && cur_lit(c, " ")
          && cur_digits(c, 4, &t->year)))
        return 0;
    t->mon++;
    return 1;
}

/* The weekday name is checked for spelling only, never against the date, as nginx
 * does: a sender's wrong weekday should not lose an otherwise exact timestamp. */
int clock_parse_http_time(const char *s, size_t len, int64_t *sec)
{
    static int (*const forms[3])(cursor_t *, civil_t *) = {parse_imf, parse_rfc850,
                                                           parse_asctime};

    for (int i = 0; i < 3; i++) {
        cursor_t c = {s, s + len};
        civil_t t = {0, 0, 0, 0, 0, 0};

        if (!forms[i](&c, &t) || c.p != c.end || !civil_valid(&t))
            continue;
        *sec = days_from_civil(t.year, t.mon, t.day) * 86400
             + t.hour * 3600 + t.min * 60 + t.sec;
        return 0;
    }
    return -1;
}
