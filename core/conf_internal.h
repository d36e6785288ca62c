/* conf_internal.h: the directive table's row type and the setters shared by conf_*.c. */
#ifndef TCPLUA_CONF_INTERNAL_H
#define TCPLUA_CONF_INTERNAL_H
#include "conf.h"

/* Which struct a row's offset points into. */
enum conf_base { BASE_NONE, BASE_MAIN, BASE_TCP, BASE_SRV };

typedef struct directive {
    const char *name;
    int contexts;              /* CTX_* mask where it is allowed */
    int min_args, max_args;    /* argument count, not counting the name; -1 = unbounded */
    int block;                 /* 1: takes a { block } */
    int (*set)(conf_t *cf, const struct directive *d, void *conf);
    enum conf_base base;
    size_t offset;
} directive_t;

/* Generic setters: each checks "is duplicate" and nginx's value syntax. */
int set_flag(conf_t *cf, const directive_t *d, void *conf);
int set_num(conf_t *cf, const directive_t *d, void *conf);
int set_size(conf_t *cf, const directive_t *d, void *conf);
int set_msec(conf_t *cf, const directive_t *d, void *conf);
int set_str(conf_t *cf, const directive_t *d, void *conf);
int set_path(conf_t *cf, const directive_t *d, void *conf);

/* Special setters living in their own files. */
int set_listen(conf_t *cf, const directive_t *d, void *conf);     /* conf_listen.c */
int set_access(conf_t *cf, const directive_t *d, void *conf);     /* conf_listen.c */
int set_resolver(conf_t *cf, const directive_t *d, void *conf);   /* conf_listen.c */
int set_include(conf_t *cf, const directive_t *d, void *conf);    /* conf_load.c */
int parse_addr(const char *s, int family_hint, uint8_t out[16], int *family);
int parse_log_level(const char *s);

const directive_t *conf_directives(void);
extern const char *const conf_default_log_format;
#endif
