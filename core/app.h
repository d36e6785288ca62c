/* app.h: what core asks of the application above it (the Lua API in api/), as function
 * pointers that the composition root (core/main.c) registers before start-up. Core names
 * no application symbol: it calls only these, so it builds and is unit-tested alone. */
#ifndef TCPLUA_APP_H
#define TCPLUA_APP_H
#include <stddef.h>
#include "conf.h"
#include "shm.h"

struct conn;
struct vserver;

typedef struct app {
    size_t conn_size; /* bytes of application state in every connection */
    /* Builds the application's state for configuration m and its shared-memory zones and
     * makes it current, keeping the previous one until commit (dropped) or rollback (current
     * again). 0 or -1 + err. */
    int (*cycle_init)(main_conf_t *m, shm_zone_t *zones, char *err, size_t errlen);
    void (*cycle_commit)(void);
    void (*cycle_rollback)(void);
    void (*cycle_close)(void);
    /* Compiles every script of m without running any (-t, and start-up before anything
     * else: [cli.test.scripts]). 0, or -1 + err ending " in FILE:LINE" of the directive. */
    int (*conf_test)(main_conf_t *m, char *err, size_t errlen);
    /* Prepares one server (its compiled script, kept in vs->app_ref). 0 or -1 + err. */
    int (*server_init)(struct vserver *vs, char *err, size_t errlen);
    void (*conn_start)(struct conn *c);     /* accepted; the application owns the stream */
    void (*conn_end)(struct conn *c);       /* closing: release what it holds; once */
    int (*conn_idle)(const struct conn *c); /* may a graceful stop close it now? */
} app_t;

extern const app_t *app;
#endif
