/* server.h: running the configured servers (processes, listeners, event loop). */
#ifndef TCPLUA_SERVER_H
#define TCPLUA_SERVER_H
#include "conf.h"

/* Runs until stopped; returns the process exit code. Takes ownership of m. */
int server_main(main_conf_t *m, const char *prefix, const char *conf, const char *params);
main_conf_t *load_config(const char *prefix, const char *file, const char *params);

#endif
