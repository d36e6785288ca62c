/* listen.h: listening sockets opened from the configuration. */
#ifndef TCPLUA_LISTEN_H
#define TCPLUA_LISTEN_H
#include <ev.h>
#include "conf.h"

typedef struct listener {
    int fd;
    listen_conf_t *conf;
    server_conf_t *server;
    ev_io io; /* accept readiness, in the worker */
    struct vserver *vs;
} listener_t;

int listen_open_all(main_conf_t *m, listener_t *old, int nold, listener_t **out, int *count,
                    char *err, size_t errlen);
void listen_close_all(listener_t *ls, int n, listener_t *old, int nold);
#endif
