/* master.h: the master process and the state it hands to each worker it forks. */
#ifndef TCPLUA_MASTER_H
#define TCPLUA_MASTER_H
#include "listen.h"
#include "vserver.h"

typedef struct master {
    main_conf_t *conf;
    listener_t *ls;
    int nls;
    vserver_t *vs;
    const char *prefix, *conf_path, *params;   /* how to read the configuration again */
} master_t;

int master_run(master_t *mt);
int master_reload(master_t *mt);          /* server.c: 0 when the new configuration is live */
void master_close_listeners(master_t *mt);
#endif
