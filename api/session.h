/* session.h: the Lua application as core sees it: the hooks main.c registers (app.h). */
#ifndef TCPLUA_API_SESSION_H
#define TCPLUA_API_SESSION_H
#include "app.h"

extern const app_t session_app;
#endif
