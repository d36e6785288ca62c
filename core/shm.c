/* shm.c: the registry of shared-memory zones across configurations (see shm.h). */
#include "shm.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

shm_zone_t *shm_zone_find(shm_zone_t *list, const char *name)
{
    for (; list; list = list->next)
        if (strcmp(list->name, name) == 0) return list;
    return NULL;
}

/* Unlinks from *old the zone of this name and size, if any. */
static shm_zone_t *take(shm_zone_t **old, const char *name, size_t size)
{
    for (shm_zone_t **p = old; *p; p = &(*p)->next) {
        shm_zone_t *z = *p;
        if (z->size != size || strcmp(z->name, name) != 0) continue;
        *p = z->next;
        z->kept = 1;
        z->fresh = 0;
        return z;
    }
    return NULL;
}

static shm_zone_t *map_new(const char *name, size_t size, char *err, size_t errlen)
{
    shm_zone_t *z = calloc(1, sizeof *z);
    char *copy = strdup(name);
    void *addr = MAP_FAILED;
    if (z && copy) addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (addr == MAP_FAILED) {
        snprintf(err, errlen, "mmap(MAP_ANON|MAP_SHARED, %zu) of zone \"%s\" failed (%d: %s)", size, name,
                 errno, strerror(errno));
        free(copy);
        free(z);
        return NULL;
    }
    *z = (shm_zone_t){.name = copy, .size = size, .addr = addr, .fresh = 1};
    return z;
}

int shm_zones_open(const main_conf_t *m, shm_zone_t **old, shm_zone_t **out, char *err, size_t errlen)
{
    *out = NULL;
    for (const shdict_conf_t *d = m->tcp ? m->tcp->shdicts : NULL; d; d = d->next) {
        shm_zone_t *z = take(old, d->name, (size_t)d->size);
        if (!z && !(z = map_new(d->name, (size_t)d->size, err, errlen))) {
            shm_zones_rollback(*out, old);
            *out = NULL;
            return -1;
        }
        z->next = *out;
        *out = z;
    }
    return 0;
}

void shm_zones_rollback(shm_zone_t *list, shm_zone_t **old)
{
    for (shm_zone_t *z = list, *n; z; z = n) {
        n = z->next;
        if (!z->kept) {
            z->next = NULL;
            shm_zones_free(z);
            continue;
        }
        z->kept = 0;
        z->next = *old;
        *old = z;
    }
}

void shm_zones_free(shm_zone_t *list)
{
    for (shm_zone_t *n; list; list = n) {
        n = list->next;
        munmap(list->addr, list->size);
        free(list->name);
        free(list);
    }
}
