/* conf_internal.h: the directive table's row type and the setters shared by conf_*.c. */
#ifndef TCPLUA_CONF_INTERNAL_H
#define TCPLUA_CONF_INTERNAL_H
#include "conf.h"

/* Which struct a row's offset points into. */
enum conf_base {
    BASE_NONE,
    BASE_MAIN,
    BASE_TCP,
    BASE_SRV
};

typedef struct directive {
    const char *name;
    int contexts;           /* CTX_* mask where it is allowed */
    int min_args, max_args; /* argument count, not counting the name; -1 = unbounded */
    int block;              /* 1: takes a { block } */
    int (*set)(conf_t *cf, const struct directive *d, void *conf);
    enum conf_base base;
    size_t offset;
} directive_t;

/* Generic setters (conf_directives.c): each checks "is duplicate" and nginx's value syntax. */
int set_flag(conf_t *cf, const directive_t *d, void *conf);
int set_num(conf_t *cf, const directive_t *d, void *conf);
int set_size(conf_t *cf, const directive_t *d, void *conf);
int set_msec(conf_t *cf, const directive_t *d, void *conf);
int set_str(conf_t *cf, const directive_t *d, void *conf);
int set_path(conf_t *cf, const directive_t *d, void *conf);

/* Setters of directives whose values are more than one plain value (conf_setters.c). */
int set_worker_processes(conf_t *cf, const directive_t *d, void *conf);
int set_worker_connections(conf_t *cf, const directive_t *d, void *conf);
int set_error_log(conf_t *cf, const directive_t *d, void *conf);
int set_protocol(conf_t *cf, const directive_t *d, void *conf);
int set_shared_dict(conf_t *cf, const directive_t *d, void *conf);
int set_log_format(conf_t *cf, const directive_t *d, void *conf);
int set_access_log(conf_t *cf, const directive_t *d, void *conf);
int set_lua_code(conf_t *cf, const directive_t *d, void *conf);

/* Setters of directives that take network addresses (conf_listen.c). */
int set_listen(conf_t *cf, const directive_t *d, void *conf);
int set_access(conf_t *cf, const directive_t *d, void *conf);
int set_resolver(conf_t *cf, const directive_t *d, void *conf);

int set_include(conf_t *cf, const directive_t *d, void *conf); /* conf_load.c */
int set_user(conf_t *cf, const directive_t *d, void *conf);    /* conf_directives.c */

/* Appends a warning to m->warnings (conf_finish.c). */
void conf_add_warning(main_conf_t *m, const char *text);

/* An IPv4 or IPv6 literal ("[v6]" allowed, and then v6 only) into out and *family;
 * family_hint 0, AF_INET or AF_INET6 limits what is tried. 0, or -1 (conf_listen.c). */
int parse_addr(const char *s, int family_hint, uint8_t out[16], int *family);
/* "emerg".."debug" to LOG_EMERG..LOG_DEBUG, or -1 (conf_setters.c). */
int parse_log_level(const char *s);

/* The dispatcher (conf_table.c, nginx's ngx_conf_handler): finds the row of cf->args[0],
 * checks context, block-ness and arity, and runs its setter. 0, or -1 with cf->err set. */
int conf_handle(conf_t *cf, int block);
/* The table itself, ended by a row whose name is NULL (conf_table.c). */
const directive_t *conf_directives(void);
/* Sets the numeric and flag fields of a tcp or server level to CONF_UNSET before its block
 * is parsed; pointer fields start NULL from pool_calloc() (conf_finish.c). */
void srv_conf_init(srv_conf_t *s);
/* The text of the built-in "default" log format (conf_setters.c). */
extern const char *const conf_default_log_format;
#endif
