/* lua_app.h: the Lua application, as the composition root (core/main.c) registers it. */
#ifndef TCPLUA_LUA_APP_H
#define TCPLUA_LUA_APP_H
#include "app.h"

extern const app_t lua_app;
#endif
