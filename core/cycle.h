/* cycle.h: one configuration made live (nginx's cycle): its listeners, runtime servers,
 * shared-memory zones and the application's state; bring-up, reload with rollback, and
 * teardown. Process supervision (master.c) and the event loop (worker.c) use it. */
#ifndef TCPLUA_CYCLE_H
#define TCPLUA_CYCLE_H
#include "listen.h"
#include "vserver.h"
#include "shm.h"

typedef struct cycle {
    main_conf_t *conf;
    listener_t *ls;
    int nls;
    vserver_t *vs;
    shm_zone_t *zones;
    const char *prefix, *conf_path, *params; /* how to read the configuration again */
} cycle_t;

/* Makes m live in cy (taking ownership of m) when everything it needs could be built: the
 * listeners (kept sockets of unchanged addresses), zones, application state, servers. On
 * failure (-1 + err) cy is exactly as it was and m still belongs to the caller. */
int cycle_bring_up(cycle_t *cy, main_conf_t *m, char *err, size_t errlen);
/* Re-reads the configuration and brings it up; the old one keeps serving on failure. */
int cycle_reload(cycle_t *cy);
void cycle_close_listeners(cycle_t *cy);
/* Frees everything of cy (the configuration included). */
void cycle_teardown(cycle_t *cy);
#endif
