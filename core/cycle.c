/* cycle.c: bringing a configuration up (at start and on reload), rolling a failed one
 * back, and tearing the live one down. The application (app.h) is one step of it. */
#include "cycle.h"
#include "app.h"
#include "log.h"
#include "shdict.h"
#include <stdio.h>
#include <unistd.h>

const app_t *app;

/* Every zone holds one lua_shared_dict: formatted when fresh, attached when kept. */
static int open_dicts(shm_zone_t *zones, char *err, size_t errlen)
{
    char why[256];
    for (shm_zone_t *z = zones; z; z = z->next) {
        z->data = shdict_open(z->addr, z->size, z->fresh, why, sizeof why);
        if (!z->data) return snprintf(err, errlen, "lua_shared_dict \"%s\": %s", z->name, why), -1;
    }
    return 0;
}

int cycle_bring_up(cycle_t *cy, main_conf_t *m, char *err, size_t errlen)
{
    listener_t *ls;
    int nls;
    vserver_t *vs = NULL;
    shm_zone_t *zones;
    if (listen_open_all(m, cy->ls, cy->nls, &ls, &nls, err, errlen)) return -1;
    if (shm_zones_open(m, &cy->zones, &zones, err, errlen)) goto undo_listen;
    if (open_dicts(zones, err, errlen)) goto undo_zones;
    if (app->cycle_init(m, zones, err, errlen)) goto undo_zones;
    if (vservers_create(ls, nls, &vs, err, errlen)) goto undo_app;
    app->cycle_commit();
    if (cy->ls) listen_close_all(cy->ls, cy->nls, NULL, 0);
    vservers_destroy(cy->vs);
    shm_zones_free(cy->zones); /* what is left of the old zones: removed or resized */
    conf_destroy(cy->conf);
    cy->conf = m;
    cy->ls = ls;
    cy->nls = nls;
    cy->vs = vs;
    cy->zones = zones;
    return 0;
undo_app:
    vservers_destroy(vs);
    app->cycle_rollback();
undo_zones:
    shm_zones_rollback(zones, &cy->zones);
undo_listen:
    listen_close_all(ls, nls, cy->ls, cy->nls);
    return -1;
}

int cycle_reload(cycle_t *cy)
{
    char err[1024];
    log_error(LOG_NOTICE, "reconfiguring");
    main_conf_t *m = conf_read(cy->prefix, cy->conf_path, cy->params, err, sizeof err);
    if (!m || cycle_bring_up(cy, m, err, sizeof err)) {
        conf_destroy(m);
        log_error(LOG_EMERG, "%s; reload aborted, the old configuration keeps serving", err);
        return -1;
    }
    if (log_open(&log_main, m->error_log, err, sizeof err)) log_error(LOG_ALERT, "%s", err);
    conf_log_warnings(m);
    return 0;
}

void cycle_close_listeners(cycle_t *cy)
{
    for (int i = 0; i < cy->nls; i++) {
        if (cy->ls[i].fd >= 0) close(cy->ls[i].fd);
        cy->ls[i].fd = -1;
    }
}

void cycle_teardown(cycle_t *cy)
{
    vservers_destroy(cy->vs);
    app->cycle_close();
    listen_close_all(cy->ls, cy->nls, NULL, 0);
    shm_zones_free(cy->zones);
    conf_destroy(cy->conf);
    *cy = (cycle_t){.prefix = cy->prefix, .conf_path = cy->conf_path, .params = cy->params};
}
