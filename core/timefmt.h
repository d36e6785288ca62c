/* timefmt.h: the building blocks that clock.c (cached time texts) and httptime.c (HTTP
 * dates) both write time texts with: English month abbreviations and fixed-width writers.
 * Internal to those two files; static so each gets its own inlined copy. */
#ifndef TCPLUA_TIMEFMT_H
#define TCPLUA_TIMEFMT_H
#include <time.h>

/* English on purpose: strftime's %b follows LC_TIME, log and HTTP texts must not. */
static const char *const mon_short[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Fixed-width writers: snprintf cannot prove these widths to -Wformat-truncation, and
 * every field here is bounded (years 1..9999 by the callers' ranges). Each returns the
 * position after what it wrote; none writes a NUL. */
static inline char *put_num(char *p, long v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

static inline char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

/* "hh:mm:ss" */
static inline char *put_hms(char *p, const struct tm *tm)
{
    p = put_num(p, tm->tm_hour, 2);
    *p++ = ':';
    p = put_num(p, tm->tm_min, 2);
    *p++ = ':';
    return put_num(p, tm->tm_sec, 2);
}

#endif
