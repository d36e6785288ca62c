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

void log_vwrite(const log_target_t *t, int level, unsigned long conn, const char *ctx,
                const char *fmt, va_list ap)
{
    char line[4096];
    if (level > t->level) return;
    int n = snprintf(line, sizeof line, "%s [%s] %d#0: ", clock_log_str(),
                     log_level_names[level], (int)getpid());
    if (conn) n += snprintf(line + n, sizeof line - (size_t)n, "*%lu ", conn);
    n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
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
