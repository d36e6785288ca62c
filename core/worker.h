/* worker.h: a worker process's event loop. */
#ifndef TCPLUA_WORKER_H
#define TCPLUA_WORKER_H
#include "listen.h"
#include "conn.h"
int worker_run(main_conf_t *m, listener_t *ls, int nls, vserver_t *vs);
#endif
