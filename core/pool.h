/* pool.h: an arena for memory that lives as long as one configuration (freed in one call). */
#ifndef TCPLUA_POOL_H
#define TCPLUA_POOL_H
#include <stddef.h>

typedef struct pool pool_t;

pool_t *pool_create(void);
void pool_destroy(pool_t *p);
void *pool_calloc(pool_t *p, size_t size); /* zeroed; aborts the process on ENOMEM */
char *pool_strndup(pool_t *p, const char *s, size_t n);
char *pool_strdup(pool_t *p, const char *s);
char *pool_sprintf(pool_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
