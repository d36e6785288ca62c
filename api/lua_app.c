/* lua_app.c: the Lua application assembled: which ngx.* families a VM gets, and the table
 * of hooks (app.h) through which core drives the VM and the sessions. The one file that
 * knows every part of api/, so that the parts need not know each other. */
#include "lua_app.h"
#include "api.h"
#include "session.h"
#include "session_internal.h"
#include "vm.h"
#include "session_load.h"

static shm_zone_t *new_zones;     /* the zones of the configuration being brought up */
static const tcp_conf_t *new_tcp; /* its tcp block (NULL: none) */

/* Called with the `ngx` table on top of the stack of a new VM; -1 with an error message on
 * the stack when a family could not be set up. */
static int inject_api(lua_State *L)
{
    api_output_inject(L);
    api_session_inject(L);
    api_log_inject(L);
    api_time_inject(L);
    api_string_inject(L);
    api_regex_inject(L, new_tcp ? new_tcp->lua_regex_cache_max_entries : CONF_REGEX_CACHE_MAX,
                     new_tcp ? new_tcp->lua_regex_match_limit : 0);
    api_socket_inject(L);
    api_socket_io_inject(L);
    return api_shdict_inject(L, new_zones);
}

static int cycle_init(main_conf_t *m, shm_zone_t *zones, char *err, size_t errlen)
{
    new_zones = zones;
    new_tcp = m->tcp;
    return vm_cycle_init(m, inject_api, err, errlen);
}

const app_t lua_app = {
    .conn_size = sizeof(session_t),
    .cycle_init = cycle_init,
    .cycle_commit = vm_cycle_commit,
    .cycle_rollback = vm_cycle_rollback,
    .cycle_close = vm_cycle_close,
    .conf_test = vm_conf_test,
    .server_init = vm_server_init,
    .conn_start = session_start,
    .conn_end = session_end,
    .conn_idle = session_idle,
};
