/* master.h: the master process: supervision of the workers of the live cycle. */
#ifndef TCPLUA_MASTER_H
#define TCPLUA_MASTER_H
#include "cycle.h"

int master_run(cycle_t *cy);
#endif
