/* log.c: the error log: nginx's line format, level filtering, open and reopen of files.
 * Lines are built in one buffer and written with one write() so that lines from several
 * worker processes appending to one file never interleave. */
#include "log.h"
#include "clock.h"
#include "conf.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *const log_level_names[9] = {
    "stderr", "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"};

log_target_t log_main = {.fd = 2, .level = LOG_NOTICE, .path = "stderr"};

int log_open(log_target_t *t, const log_conf_t *lc, char *err, size_t errlen)
{
    int fd = 2;
    if (strcmp(lc->path, "stderr") != 0) {
        fd = open(lc->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            snprintf(err, errlen, "open() \"%s\" failed (%d: %s)", lc->path, errno, strerror(errno));
            return -1;
        }
    }
    if (t->fd > 2) close(t->fd);
    t->fd = fd;
    t->level = lc->level;
    t->path = lc->path;
    return 0;
}

void log_close(log_target_t *t)
{
    if (t->fd > 2) close(t->fd);
    t->fd = 2;
}

/* Control bytes (C0 and DEL) become `\n`, `\r`, `\t` or `\xHH`, so that one message is one
 * line whatever a client put in it, and no escape sequence reaches the operator's terminal
 * (SPEC errlog.escape). Backslashes stay as they are: a log reader must not unescape, so a
 * literal "\n" from a client is harmless text. Bytes >= 0x80 pass (UTF-8 stays readable).
 * Stops before an escape that would not fit; dst is always NUL-terminated. */
size_t log_escape(char *dst, size_t cap, const char *src, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (cap == 0) return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)src[i];
        char e[4] = {'\\', 0, 0, 0};
        size_t n = 2;
        if (ch >= 0x20 && ch != 0x7f) e[0] = (char)ch, n = 1;
        else if (ch == '\n') e[1] = 'n';
        else if (ch == '\r') e[1] = 'r';
        else if (ch == '\t') e[1] = 't';
        else e[1] = 'x', e[2] = hex[ch >> 4], e[3] = hex[ch & 15], n = 4;
        if (o + n >= cap) break;
        memcpy(dst + o, e, n);
        o += n;
    }
    dst[o] = '\0';
    return o;
}

void log_vwrite(const log_target_t *t, int level, unsigned long conn, const char *ctx,
                const char *fmt, va_list ap)
{
    char line[4096], msg[4096];
    if (level > t->level) return;
    int n = snprintf(line, sizeof line, "%s [%s] %d#0: ", clock_log_str(),
                     log_level_names[level], (int)getpid());
    if (conn) n += snprintf(line + n, sizeof line - (size_t)n, "*%lu ", conn);
    int m = vsnprintf(msg, sizeof msg, fmt, ap);
    if (m > (int)sizeof msg - 1) m = (int)sizeof msg - 1;
    if (m > 0) n += (int)log_escape(line + n, sizeof line - (size_t)n, msg, (size_t)m);
    if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
    if (ctx) n += snprintf(line + n, sizeof line - (size_t)n, ", %s", ctx);
    if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(t->fd, line, (size_t)n);
    (void)w; /* nowhere left to report a failing error log */
}

void log_write(const log_target_t *t, int level, unsigned long conn, const char *ctx,
               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(t, level, conn, ctx, fmt, ap);
    va_end(ap);
}
