/* errstr.h: the error strings scripts see as the `err` of `nil, err` (SPEC §6), in one
 * place so code, SPEC.md and the conformance cases agree. */
#ifndef TCPLUA_ERRSTR_H
#define TCPLUA_ERRSTR_H
#define ERR_CLOSED "closed"   /* the peer closed or reset the connection */
#define ERR_TIMEOUT "timeout" /* read_timeout / send_timeout expired */
#define ERR_NOMEM "no memory"
#endif
