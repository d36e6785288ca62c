/* log.h: the error log (nginx's line format and levels) and its level constants. */
#ifndef TCPLUA_LOG_H
#define TCPLUA_LOG_H
#include <stdarg.h>
#include <stddef.h>

/* nginx's numbering; ngx.STDERR .. ngx.DEBUG expose the same numbers to Lua. */
enum {
    LOG_STDERR = 0,
    LOG_EMERG,
    LOG_ALERT,
    LOG_CRIT,
    LOG_ERR,
    LOG_WARN,
    LOG_NOTICE,
    LOG_INFO,
    LOG_DEBUG
};

extern const char *const log_level_names[9];

struct log_conf;
typedef struct log_target {
    int fd;
    int level;
    const char *path;
} log_target_t;

/* Opens (or reopens on USR1) the file of a log_conf; stderr while none is open. */
int log_open(log_target_t *t, const struct log_conf *lc, char *err, size_t errlen);
void log_close(log_target_t *t);

/* Writes "YYYY/MM/DD HH:MM:SS [level] PID#0: [*CONN ]message[, context]" if level passes. */
void log_write(const log_target_t *t, int level, unsigned long conn, const char *ctx,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void log_vwrite(const log_target_t *t, int level, unsigned long conn, const char *ctx,
                const char *fmt, va_list ap);

/* Copies src[0..len) into dst (cap bytes, NUL-terminated) with control bytes escaped as the
 * log writes them; returns the length written. Messages with NUL bytes (Lua strings) must be
 * escaped with this before they are passed as "%s". */
size_t log_escape(char *dst, size_t cap, const char *src, size_t len);

/* The process-wide log used before and outside sessions (main error_log). */
extern log_target_t log_main;
#define log_error(level, ...) log_write(&log_main, level, 0, NULL, __VA_ARGS__)

#endif
