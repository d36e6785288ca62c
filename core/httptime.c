/* httptime.c: HTTP dates: the IMF-fixdate formatter and the parser of the three forms
 * RFC 7231 7.1.1.1 allows, behind ngx.tcp_time / ngx.parse_tcp_time. Pure: no clock, no
 * state, no locale. */
#include "httptime.h"
#include "timefmt.h"

#include <string.h>
#include <time.h>

static const char *const wday_short[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const wday_long[7] = {"Sunday", "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday"};

/* English names on purpose: strftime's %a/%b follow LC_TIME, HTTP dates must not. */
size_t httptime_format(int64_t sec, char *buf)
{
    struct tm tm;
    time_t t = (time_t)sec;
    char *p;

    if (sec < HTTPTIME_MIN || sec > HTTPTIME_MAX || gmtime_r(&t, &tm) == NULL)
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
int httptime_parse(const char *s, size_t len, int64_t *sec)
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
