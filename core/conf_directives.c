/* conf_directives.c: the generic value setters of the directive table (flag, number, size,
 * time, string, path) and the number, size and time parsers behind them. The table and its
 * dispatcher are in conf_table.c. Messages are nginx's, so operators recognise them. */
#include "conf_internal.h"
#include "log.h"
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARG(i) (cf->args[i])
#define NAME (cf->args[0])
#define FIELD(conf, d, type) ((type *)((char *)(conf) + (d)->offset))

static int dup_error(conf_t *cf) { return conf_error(cf, "\"%s\" directive is duplicate", NAME); }
static int invalid_value(conf_t *cf) { return conf_error(cf, "\"%s\" directive invalid value", NAME); }

int set_flag(conf_t *cf, const directive_t *d, void *conf)
{
    int *f = FIELD(conf, d, int);
    if (*f != CONF_UNSET) return dup_error(cf);
    if (strcasecmp(ARG(1), "on") == 0) *f = 1;
    else if (strcasecmp(ARG(1), "off") == 0) *f = 0;
    else return conf_error(cf, "invalid value \"%s\" in \"%s\" directive, it must be \"on\" or \"off\"",
                           ARG(1), NAME);
    return 0;
}

/* Decimal digits only, no sign, no overflow (nginx's ngx_atoi rules). */
static long parse_num(const char *s, size_t n)
{
    long v = 0;
    if (n == 0) return -1;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        if (v > (LONG_MAX - (s[i] - '0')) / 10) return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int set_num(conf_t *cf, const directive_t *d, void *conf)
{
    long *v = FIELD(conf, d, long);
    if (*v != CONF_UNSET) return dup_error(cf);
    *v = parse_num(ARG(1), cf->arglen[1]);
    if (*v < 0) {
        *v = CONF_UNSET;
        return conf_error(cf, "\"%s\" directive invalid number", NAME);
    }
    return 0;
}

long conf_parse_size(const char *s)
{
    size_t n = strlen(s);
    long scale = 1;
    if (n == 0) return -1;
    switch (s[n - 1]) {
    case 'k':
    case 'K':
        scale = 1024;
        n--;
        break;
    case 'm':
    case 'M':
        scale = 1024 * 1024;
        n--;
        break;
    case 'g':
    case 'G':
        scale = 1024L * 1024 * 1024;
        n--;
        break;
    }
    long v = parse_num(s, n);
    if (v < 0 || v > LONG_MAX / scale) return -1;
    return v * scale;
}

int set_size(conf_t *cf, const directive_t *d, void *conf)
{
    long *v = FIELD(conf, d, long);
    if (*v != CONF_UNSET) return dup_error(cf);
    *v = conf_parse_size(ARG(1));
    if (*v < 0) {
        *v = CONF_UNSET;
        return invalid_value(cf);
    }
    return 0;
}

/* nginx time syntax: "90", "1h30m", "500ms"; units y M w d h m s ms, each at most once,
 * largest first; a bare trailing number means seconds. At most 2^31-1 s in all
 * ([conf.value.overflow]): nginx's 2^63-1 ms would overflow a deadline computed from it. */
#define TIME_MAX_MS (2147483647L * 1000)
static long unit_ms(const char **p)
{
    const char *s = *p;
    static const struct {
        const char *u;
        long ms;
    } units[] = {
        {"ms", 1},
        {"y", 365L * 86400000},
        {"M", 30L * 86400000},
        {"w", 7L * 86400000},
        {"d", 86400000},
        {"h", 3600000},
        {"m", 60000},
        {"s", 1000},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t n = strlen(units[i].u);
        if (strncmp(s, units[i].u, n) == 0) {
            *p = s + n;
            return units[i].ms;
        }
    }
    return -1;
}

long conf_parse_time_ms(const char *s)
{
    long total = 0, last_unit = LONG_MAX; /* larger than any unit */
    if (*s == '\0') return -1;
    while (*s) {
        const char *start = s;
        while (isdigit((unsigned char)*s)) s++;
        long v = parse_num(start, (size_t)(s - start));
        if (v < 0) return -1;
        long u = *s ? unit_ms(&s) : 1000;
        if (u < 0 || u >= last_unit) return -1;
        if (v > (TIME_MAX_MS - total) / u) return -1; /* this piece, and the sum */
        total += v * u;
        last_unit = u;
    }
    return total;
}

int set_msec(conf_t *cf, const directive_t *d, void *conf)
{
    long *v = FIELD(conf, d, long);
    if (*v != CONF_UNSET) return dup_error(cf);
    *v = conf_parse_time_ms(ARG(1));
    if (*v < 0) {
        *v = CONF_UNSET;
        return invalid_value(cf);
    }
    return 0;
}

int set_str(conf_t *cf, const directive_t *d, void *conf)
{
    const char **v = FIELD(conf, d, const char *);
    if (*v) return dup_error(cf);
    *v = ARG(1);
    return 0;
}

int set_path(conf_t *cf, const directive_t *d, void *conf)
{
    const char **v = FIELD(conf, d, const char *);
    if (*v) return dup_error(cf);
    if (cf->arglen[1] == 0) return invalid_value(cf); /* "" would name the prefix directory */
    *v = conf_full_path(cf, ARG(1), 0);
    return 0;
}

/* nginx's " (ERRNO: TEXT)" after a failed look-up, when the C library set errno. */
static const char *errno_text(char *b, size_t n, int err)
{
    if (!err) return "";
    snprintf(b, n, " (%d: %s)", err, strerror(err));
    return b;
}

/* nginx's ngx_set_user: names are looked up while reading, so a typo fails -t and start-up
 * before anything runs. Only root can switch users: anyone else gets a warning, as in nginx,
 * and the workers keep the user that started the server. */
int set_user(conf_t *cf, const directive_t *d, void *conf)
{
    main_conf_t *m = conf;
    char why[128];
    (void)d;
    if (m->user) return dup_error(cf);
    m->user = ARG(1);
    if (geteuid() != 0) {
        conf_error(cf, "the \"user\" directive makes sense only if the master process runs "
                       "with super-user privileges, ignored");
        conf_add_warning(m, cf->err);
        cf->err[0] = '\0';
        return 0;
    }
    const char *group = cf->nargs == 3 ? ARG(2) : ARG(1);
    errno = 0;
    struct passwd *pw = getpwnam(ARG(1));
    if (!pw) return conf_error(cf, "getpwnam(\"%s\") failed%s", ARG(1), errno_text(why, sizeof why, errno));
    m->user_uid = pw->pw_uid;
    errno = 0;
    struct group *gr = getgrnam(group);
    if (!gr) return conf_error(cf, "getgrnam(\"%s\") failed%s", group, errno_text(why, sizeof why, errno));
    m->user_gid = gr->gr_gid;
    m->group = group;
    return 0;
}
