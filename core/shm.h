/* shm.h: shared-memory zones (one per lua_shared_dict): anonymous shared mappings made by
 * the master before it forks, so every worker sees the same bytes. A reload keeps a zone
 * whose name and size are unchanged, with its contents, as nginx does. */
#ifndef TCPLUA_SHM_H
#define TCPLUA_SHM_H
#include <stddef.h>
#include "conf.h"

typedef struct shm_zone {
    char *name;
    size_t size;
    void *addr;
    unsigned fresh : 1; /* mapped by this bring-up: its user must initialise it */
    unsigned kept : 1;  /* taken over from the previous configuration */
    void *data;         /* its user's handle (the dictionary, shdict_open) */
    struct shm_zone *next;
} shm_zone_t;

/* The zones m configures: those in *old with the same name and size move to *out (kept),
 * the others are mapped anew (fresh, zero-filled). 0, or -1 + err with nothing changed. */
int shm_zones_open(const main_conf_t *m, shm_zone_t **old, shm_zone_t **out, char *err, size_t errlen);
/* Undoes shm_zones_open: kept zones go back to *old, fresh ones are unmapped. */
void shm_zones_rollback(shm_zone_t *list, shm_zone_t **old);
/* Unmaps every zone of the list and frees it. */
void shm_zones_free(shm_zone_t *list);
shm_zone_t *shm_zone_find(shm_zone_t *list, const char *name);
#endif
