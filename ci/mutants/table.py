# The mutants: m(name, fault, file, old, new, tests, unit="", equivalent="").
# tests: pytest arguments for conformance/, a new group at each test_*.py; unit: Check binaries.
# ---- ngx.receive (api/api_session.c, core/recvbuf.c) ----
m("recv-atleast-off-by-one", "ngx.receive waits for one byte more than atleast",
  "core/recvbuf.c", "    if (len < atleast)\n        return 0;", "    if (len <= atleast)\n        return 0;",
  "test_receive.py", "core/tests/test_recvbuf")
m("recv-atleast-range", "ngx.receive accepts atleast = total + 1",
  "api/api_session.c", "atleast < 1 || atleast > total)", "atleast < 1 || atleast > total + 1)",
  "test_receive.py -k bad_total_or_atleast")
m("recv-total-ignored", "ngx.receive returns everything buffered, not at most total",
  "core/recvbuf.c", "*outlen = len < total ? len : total;", "*outlen = len;\n    (void)total;",
  "test_receive.py", "core/tests/test_recvbuf")
m("recv-max-body-off-by-one", "total = client_max_body_size + 1 accepted",
  "api/api_session.c", "if (total > max) {", "if (total > max + 1) {",
  "test_receive.py -k client_max_body_size")
m("recv-fraction-accepted", "a fractional total/atleast truncated instead of an error",
  "api/api_session.c", "if (n != floor(n) || n < -1e15", "if (n < -1e15",
  "test_receive.py -k bad_total_or_atleast")
m("recv-timeout-not-armed", "ngx.receive arms no read_timeout",
  "api/api_session.c", "    stream_read(s, 1);\n    stream_timer(s, conn_timeout(c->vs->conf->s.read_timeout));\n",
  "    stream_read(s, 1);\n", "test_receive.py -k timeout")
m("recv-timeout-partial-lost", "a timed-out ngx.receive returns no partial data",
  "api/api_session.c", "                         p, n, 1);", "                         p, 0, 1);",
  "test_receive.py -k 'timeout or close'")
m("recv-timeout-says-closed", "a timed-out ngx.receive says closed instead of timeout",
  "api/api_session.c", "s->timed_out ? ERR_TIMEOUT : s->err", "s->timed_out ? ERR_CLOSED : s->err",
  "test_receive.py -k timeout")
m("recv-buffered-bytes-dropped", "bytes past total are dropped instead of staying buffered",
  "api/api_session.c", "        lua_pushlstring(L, p, n);\n        recvbuf_consume(&s->in, n);\n        return 1;",
  "        lua_pushlstring(L, p, n);\n        recvbuf_consume(&s->in, recvbuf_len(&s->in));\n        return 1;",
  "test_receive.py -k 'beyond_total or pipelin' test_session.py -k pipelined")
# ---- output, streams ----
m("send-partial-loses-byte", "a partial send() skips one byte of the queue",
  "core/stream.c", "} else q->off += (uint32_t)w;", "} else q->off += (uint32_t)w + ((size_t)w < q->len - q->off);",
  "test_output.py -k 'slow_reader or half_closed'", "core/tests/test_stream")
m("send-timeout-not-rearmed", "send_timeout bounds the whole blocked print, not the time between writes",
  "api/api_output.c", "    stream_timer(s, conn_timeout(session_conn_of(ss)->vs->conf->s.send_timeout));\n    return 0;",
  "    (void)ss;\n    return 0;", "test_output.py -k 'send_timeout or slow_reader'")
m("send-timeout-not-armed", "a print blocked on a full socket arms no send_timeout",
  "api/api_output.c", "        stream_timer(s, conn_timeout(c->vs->conf->s.send_timeout));\n        return session_yield",
  "        return session_yield", "test_output.py -k 'times_out or send_timeout'")
m("say-count-without-newline", "ngx.say's byte count leaves out the newline",
  "api/api_output.c", "        bytes++;\n", "", "test_output.py -k returns_bytes")
m("print-timeout-error-string", "a print that hit send_timeout says \"timed out\" instead of \"timeout\"",
  "api/api_output.c", "if (what == SESSION_TIMEOUT && !s->err) s->err = ERR_TIMEOUT;", "if (what == SESSION_TIMEOUT && !s->err) s->err = \"timed out\";",
  "test_output.py -k 'times_out'")
m("stream-reset-not-flagged", "a read that gets ECONNRESET is not flagged as a reset",
  "core/stream.c", "s->reset = r < 0 && e == ECONNRESET;", "s->reset = 0;",
  "test_cosocket_reference.py -k receive_errors", "")
# ---- light sessions, wait_next_request ----
m("light-bytes-sent-not-reset", "a new light session keeps counting the previous one's $bytes_sent",
  "api/session_internal.h", "    c->bytes_sent = 0;\n", "", "test_session.py -k bytes_sent test_accesslog.py -k variables")
m("light-requests-not-counted", "$connection_requests stays 1 across light sessions",
  "api/session_internal.h", "    c->requests++;\n", "", "test_accesslog.py -k 'one_line_per_light' test_session.py -k bytes_sent")
m("light-start-not-reset", "$request_time of a light session counts from the connection's start",
  "api/session_internal.h", "    c->session_start = clock_now();\n    c->bytes_sent = 0;", "    c->bytes_sent = 0;",
  "test_accesslog.py test_session.py -k 'bytes_sent or start_time' test_time.py -k start_time")
m("light-logged-twice", "the last light session is logged again at the end of the connection",
  "api/session_internal.h", "    ss->light_logged = 1;\n", "", "test_accesslog.py -k 'light_session or end_of_connection'")
m("keepalive-timeout-not-armed", "wait_next_request arms no keepalive_timeout",
  "api/api_session.c", "    stream_timer(s, conn_timeout(c->vs->conf->s.keepalive_timeout));\n", "",
  "test_session.py -k keepalive_timeout")
m("pipelined-buffer-ignored", "wait_next_request waits for the socket although a request is buffered",
  "api/api_session.c", ["    session_light_end(ss); /* no flush here: pipelined requests batch their replies */\n    if (recvbuf_len(&s->in) > 0) return wait_resume(ss, L);\n",
                         "stream_fill(s, 1);\n    if (recvbuf_len(&s->in) > 0) return wait_resume(ss, L);\n"],
  ["    session_light_end(ss); /* no flush here: pipelined requests batch their replies */\n",
   "stream_fill(s, 1);\n"],
  "test_session.py -k 'pipelined or buffered'")
m("client-abort-inverted", "lua_check_client_abort watches the client when off, not when on",
  "api/session.c", "if (c->vs->conf->s.lua_check_client_abort && !c->stream.eof)", "if (!c->vs->conf->s.lua_check_client_abort && !c->stream.eof)",
  "test_session.py -k client_abort")
m("sleep-in-centiseconds", "ngx.sleep sleeps a tenth of the time asked",
  "api/api_session.c", "(long)floor(sec * 1000 + 0.5)", "(long)floor(sec * 100 + 0.5)",
  "test_session.py -k 'sleep or abort' test_mutant_kills.py -k sleep")
m("lua-error-not-logged", "a Lua runtime error ends the session without an error-log line",
  "api/session.c", "else if (status != 0 && status != LUA_YIELD)", "else if (status != 0 && status != LUA_YIELD && status != LUA_ERRRUN)",
  "test_session.py -k 'lua_error or runtime_error'")
# ---- cosocket ----
m("co-atleast-off-by-one", "cosocket receive(total, atleast) waits for atleast + 1 bytes",
  "api/api_socket_io.c", "case RECV_SIZE: return len >= cs->atleast;", "case RECV_SIZE: return len > cs->atleast;",
  "test_cosocket.py -k 'receive_total_atleast or seed_upstream' test_cosocket_reference.py -k receive_patterns")
m("co-receiveany-max-ignored", "receiveany/receive(n) return more than asked",
  "api/api_socket_io.c", "        n = n < cs->total ? n : cs->total;\n", "",
  "test_cosocket_reference.py -k 'receiveany or receive_patterns'")
m("until-split-pattern-missed", "a receiveuntil pattern prefix at the buffer end is not held back (split across reads)",
  "core/recvbuf.c", "for (size_t i = len >= plen ? len - plen + 1 : 0; i < len; i++)", "for (size_t i = len >= plen ? len - plen + 2 : 1; i < len; i++)",
  "test_cosocket_reference.py -k receiveuntil", "core/tests/test_recvbuf")
m("until-timeout-partial-has-prefix", "a timed-out receiveuntil's partial includes bytes that may begin the pattern",
  "api/api_socket_io.c", "return recv_fail(L, cs, p, s->timed_out ? safe : n);", "return recv_fail(L, cs, p, n);",
  "test_cosocket_reference.py -k receiveuntil")
m("until-inclusive-ignored", "receiveuntil's inclusive option is ignored (unsized reads)",
  "api/api_socket_io.c", "    lua_pushlstring(L, p, (size_t)k + (u->inclusive ? u->plen : 0));\n    recvbuf_consume(&s->in, (size_t)k + u->plen);\n    return 1;\n}\n\nstatic int recv_results_of",
  "    lua_pushlstring(L, p, (size_t)k);\n    recvbuf_consume(&s->in, (size_t)k + u->plen);\n    return 1;\n}\n\nstatic int recv_results_of",
  "test_cosocket_reference.py -k receiveuntil")
m("until-pattern-left-in-buffer", "receiveuntil leaves the pattern in the buffer",
  "api/api_socket_io.c", "    lua_pushlstring(L, p, (size_t)k + (u->inclusive ? u->plen : 0));\n    recvbuf_consume(&s->in, (size_t)k + u->plen);\n    return 1;\n}\n\nstatic int recv_results_of",
  "    lua_pushlstring(L, p, (size_t)k + (u->inclusive ? u->plen : 0));\n    recvbuf_consume(&s->in, (size_t)k + (u->inclusive ? u->plen : 0));\n    return 1;\n}\n\nstatic int recv_results_of",
  "test_cosocket_reference.py -k receiveuntil")
m("line-cr-kept", "receive('*l') keeps CR bytes",
  "api/api_socket_io.c", "if (p[i] != '\\r') luaL_addchar(&b, p[i]);", "luaL_addchar(&b, p[i]);",
  "test_cosocket_reference.py -k receive_patterns")
m("co-read-timeout-not-armed", "a cosocket receive arms no read timeout",
  "api/api_socket_io.c", "    stream_timer(&cs->stream, socket_timeout(cs, TMO_READ));\n", "",
  "test_cosocket.py -k read_timeout test_cosocket_reference.py -k timeouts")
m("co-timeout-closes-reading", "a cosocket read timeout closes the reading side",
  "api/api_socket_io.c", "    if (!s->timed_out) {\n        cs->read_closed = 1;", "    {\n        cs->read_closed = 1;",
  "test_cosocket_reference.py -k 'timeouts or receive_errors'")
m("co-reset-error-string", "a reset upstream reads as \"connection reset\" instead of \"connection reset by peer\"",
  "api/api_socket_io.c", "s->reset ? \"connection reset by peer\"\n                                             : s->err",
  "s->reset ? \"connection reset\"\n                                             : s->err",
  "test_cosocket_reference.py -k receive_errors")
m("co-send-nested-count", "send's byte count leaves out nested tables",
  "api/api_socket_io.c", "if (t == LUA_TTABLE) bytes += send_table(", "if (t == LUA_TTABLE) send_table(",
  "test_cosocket_reference.py -k send")
m("co-send-timeout-not-rearmed", "a cosocket send's timeout bounds the whole send, not the time between writes",
  "api/api_socket_io.c", "    if (what == SESSION_WRITE) stream_timer(src, socket_timeout(cs, TMO_SEND)); /* between writes */\n", "",
  "test_cosocket.py -k 'send_timeout or slow_reader' test_cosocket_reference.py -k timeouts test_mutant_kills.py -k send_timeout")
m("pool-not-reused", "connect never takes a pooled connection",
  "core/kpool.c", "    kpool_t *p = find(name);\n    if (!p) return -1;", "    kpool_t *p = name[0] ? NULL : find(name);\n    if (!p) return -1;",
  "test_cosocket.py -k pool test_cosocket_reference.py -k 'pools or setkeepalive'", "core/tests/test_kpool")
m("pool-reused-times-off", "getreusedtimes is one less than the times reused",
  "api/api_socket.c", "cs->reused = reused + 1;", "cs->reused = reused;",
  "test_cosocket_reference.py -k 'close_and_reused or pools'")
m("pool-evicts-mru", "a full pool closes the most recently parked connection, not the LRU",
  "core/kpool.c", "close(item_unlink(p->tail)); /* the pool stays */", "close(item_unlink(p->head)); /* the pool stays */",
  "test_cosocket.py -k 'full_pool or pool_size'", "core/tests/test_kpool")
m("keepalive-zero-timeout", "setkeepalive(0) closes at once instead of never timing out",
  "api/api_socket.c", "if (*tmo <= 0) *tmo = -1;", "if (*tmo < 0) *tmo = -1;",
  "test_cosocket_reference.py -k 'setkeepalive or pools' test_cosocket.py -k keepalive test_mutant_kills.py -k setkeepalive_zero")
m("keepalive-unread-data", "setkeepalive parks a connection with unread data",
  "api/api_socket.c", "    if (recvbuf_len(&cs->stream.in) > 0) return session_fail(L, \"unread data in buffer\", NULL, 0, 0);\n", "",
  "test_cosocket_reference.py -k setkeepalive")
m("pool-size-msg", "the pool_size error message loses its quotes",
  "api/api_socket.c", "\"bad \\\"pool_size\\\" option value: %d\"", "\"bad pool_size option value: %d\"",
  "test_cosocket_reference.py -k setkeepalive")
# ---- shared dictionaries ----
m("shdict-ttl-plus-one-second", "shdict items live one second past their exptime",
  "core/shdict_int.h", "return it->expires != 0 && it->expires < now; }", "return it->expires != 0 && it->expires + 1000 < now; }",
  "test_shdict.py -k 'exptime or ttl or flush'", "core/tests/test_shdict")
m("shdict-exptime-zero-expires", "exptime 0 makes an item expire at once instead of never",
  "core/shdict.c", "    if (ttl <= 0) return 0;", "    if (ttl < 0) return 0;",
  "test_shdict.py -k 'exptime or ttl or get'", "core/tests/test_shdict")
m("shdict-init-ttl-ignored", "incr's init_ttl is ignored",
  "api/shdict.lua", "init or 0, init_ttl * 1000,", "init or 0, 0,",
  "test_shdict.py -k incr")
m("shdict-safe-add-overwrites", "safe_add replaces an existing key",
  "core/shdict_ops.c", "if ((op == SHD_ADD || op == SHD_SAFE_ADD) && found == SHD_VALID)", "if (op == SHD_ADD && found == SHD_VALID)",
  "test_shdict.py -k store", "core/tests/test_shdict")
m("shdict-ttl-rounded", "ttl() reports whole seconds, rounded up",
  "api/shdict.lua", "    return tonumber(num_p[0]) / 1000\n", "    return math.ceil(tonumber(num_p[0]) / 1000)\n",
  "test_shdict.py -k ttl")
m("shdict-get-keys-default", "get_keys without max returns at most 100 keys (default 1024)",
  "api/shdict.lua", "C.tcplua_ffi_shdict_keys(d, max or 1024)", "C.tcplua_ffi_shdict_keys(d, max or 100)",
  "test_shdict.py -k 'keys or flush'")
# ---- configuration ----
m("conf-error-no-location", "configuration errors lack \"in FILE:LINE\"",
  "core/conf_parse.c", "snprintf(cf->err, sizeof cf->err, \"%s in %s:%d\", msg, cf->src->name, cf->src->line);",
  "snprintf(cf->err, sizeof cf->err, \"%s\", msg);", "test_config_errors.py", "core/tests/test_conf")
m("conf-line-counts-cr", "the lexer counts a line for CR too (CRLF files report doubled line numbers)",
  "core/conf_parse.c", "        if (ch == '\\n') {\n            s->line++;", "        if (ch == '\\n' || ch == '\\r') {\n            s->line++;",
  "test_config_lexer.py test_config_errors.py", "core/tests/test_conf")
m("conf-default-max-body", "client_max_body_size defaults to 1000 bytes instead of 1k",
  "core/conf_finish.c", "MERGE(client_max_body_size, 1024);", "MERGE(client_max_body_size, 1000);",
  "test_config_directives.py -k client_max_body_size test_receive.py -k client_max_body_size")
m("conf-default-pool-size", "lua_socket_pool_size defaults to 32 instead of 30",
  "core/conf_finish.c", "MERGE(lua_socket_pool_size, 30);", "MERGE(lua_socket_pool_size, 32);",
  "test_config_directives.py -k defaults_in_effective test_cosocket.py -k pool_size")
m("conf-default-nodelay-off", "tcp_nodelay defaults to off",
  "core/conf_finish.c", "MERGE(tcp_nodelay, 1);", "MERGE(tcp_nodelay, 0);",
  "test_config_directives.py -k nodelay test_session.py -k nodelay")
m("conf-shdict-min-size", "lua_shared_dict accepts a size below 8k",
  "core/conf_setters.c", "#define SHDICT_MIN (8 * 1024)", "#define SHDICT_MIN (4 * 1024)",
  "test_config_directives.py -k shared_dict test_config_errors.py -k shared test_shdict.py -k 'too_big or eviction'")
m("accesslog-default-path", "the default access log is logs/access.log",
  "core/conf_finish.c", "conf_full_path(cf, \"logs/access_tcp.log\", 0)", "conf_full_path(cf, \"logs/access.log\", 0)",
  "test_accesslog.py -k 'default_path or off_at'")
m("accesslog-default-format", "the default log format lacks $protocol",
  "core/conf_setters.c", " $connection $connection_requests $protocol\";", " $connection $connection_requests\";",
  "test_accesslog.py -k 'default_path or variables' test_config_directives.py -k log")
# ---- ngx.log, time, strings ----
m("log-line-of-function", "ngx.log names the line where the function starts, not the calling line",
  "api/api_log.c", "ar.short_src, ar.currentline);", "ar.short_src, ar.linedefined);",
  "test_lua_log.py", "api/tests/test_log")
m("log-level-debug-rejected", "ngx.log(ngx.DEBUG, ...) is a bad log level",
  "api/api_log.c", "level > LOG_DEBUG) {", "level >= LOG_DEBUG) {",
  "test_lua_log.py", "api/tests/test_log")
m("today-eleven-bytes", "ngx.today returns 11 bytes (date plus a space)",
  "api/api_time.c", "lua_pushlstring(L, clock_local_str(), 10);", "lua_pushlstring(L, clock_local_str(), 11);",
  "test_time.py", "api/tests/test_time")
m("b64-single-pad", "encode_base64 of a 1-byte tail writes one '=' instead of two",
  "api/api_string.c", "        else if (pad)\n            *d++ = '=';\n", "",
  "test_string.py -k base64", "api/tests/test_string")
# ---- second batch: streams, logs, workers, strings ----
m("stream-drained-on-full-read", "a read that filled the buffer also counts as 'kernel drained'",
  "core/stream.c", "s->drained = r >= 0 && (size_t)r < avail;", "s->drained = r >= 0 && (size_t)r <= avail;",
  "test_receive.py -k 'large or beyond or bytewise' test_session.py -k pipelined test_output.py -k slow_reader", "core/tests/test_stream",
  equivalent="only a hint: a reader told to wait arms EV_READ and libev's level-triggered epoll reports the bytes still queued at once (one more loop turn, no other difference)")
m("io-reset-not-closed", "a reset on send reports strerror's text instead of closed",
  "core/stream.c", "return e == EPIPE || e == ECONNRESET ? ERR_CLOSED : strerror(e);", "return e == EPIPE ? ERR_CLOSED : strerror(e);",
  "test_output.py -k closed_client test_receive.py -k close test_mutant_kills.py -k reset", "core/tests/test_stream")
m("errlog-level-exclusive", "the error log drops messages of exactly its level",
  "core/log.c", "    if (level > t->level) return;\n    int n", "    if (level >= t->level) return;\n    int n",
  "test_errlog.py test_lua_log.py")
m("worker-connections-off-by-one", "a worker accepts worker_connections + 1 connections",
  "core/worker.c", "if (conn_count() >= wconf->worker_connections) {", "if (conn_count() > wconf->worker_connections) {",
  "test_process.py -k worker_connections")
m("deny-ignored", "a matching deny rule does not refuse the connection",
  "core/worker.c", "        if (match) return !r->deny;", "        if (match && !r->deny) return 1;",
  "test_process.py -k allow_deny test_config_directives.py -k access_cidr")
m("md5-uppercase", "ngx.md5 returns upper-case hex",
  "api/api_string.c", "    static const char hex[] = \"0123456789abcdef\";", "    static const char hex[] = \"0123456789ABCDEF\";",
  "test_string.py -k md5", "api/tests/test_string")
m("shdict-not-found-string", "shdict says \"not_found\" instead of \"not found\"",
  "api/shdict.lua", "[-2] = \"not found\"", "[-2] = \"not_found\"",
  "test_shdict.py -k 'store or ttl'")
m("init-context-message", "the API in init_by_lua raises a different message",
  "api/session.c", "luaL_error(L, \"API disabled in the context of init_by_lua*\");", "luaL_error(L, \"API disabled in init_by_lua\");",
  "test_session.py -k disabled_in_init", "api/tests/test_session")
m("conf-default-keepalive-timeout", "keepalive_timeout defaults to 0 (never) instead of 75s",
  "core/conf_finish.c", "MERGE(keepalive_timeout, 75000);", "MERGE(keepalive_timeout, 0);",
  "test_config_directives.py -k defaults_in_effective test_privileges.py -k keepalive_timeout_default")
m("accesslog-requests-is-connection", "$connection_requests prints $connection",
  "core/accesslog.c", "case V_CONNECTION_REQUESTS: return number(out, c->requests);", "case V_CONNECTION_REQUESTS: return number(out, c->number);",
  "test_accesslog.py -k 'variables or light_session'")
m("recvbuf-compacts-eagerly", "the receive buffer compacts when more bytes move than were consumed",
  "core/recvbuf.c", "(tail < target && b->start >= len)", "(tail < target && b->start > 0)",
  "test_receive.py -k 'large or beyond' test_session.py -k pipelined", "core/tests/test_recvbuf")
# ---- third batch: time parsing, signals, resolver, lists, clock ----
m("httptime-no-400-leap", "parse_tcp_time rejects 29 February of years divisible by 400",
  "core/httptime.c", "return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;", "return y % 4 == 0 && y % 100 != 0;",
  "test_time.py test_mutant_kills.py -k leap")
m("reopen-not-forwarded", "the master reopens its logs on USR1 but does not tell the workers",
  "core/master.c", "        signal_workers(SIGUSR1, 0);\n    }\n    return 0;", "    }\n    return 0;",
  "test_signals.py -k 'usr1 or reopen'")
m("reload-keeps-old-workers", "a reload starts new workers but never stops the old ones",
  "core/master.c", "    spawn_all(mt);\n    signal_workers(SIGQUIT, 1);\n", "    spawn_all(mt);\n",
  "test_signals.py -k 'hup_reloads or s_reload'")
m("resolver-valid-ignored", "resolver valid= is ignored (the answer's TTL is used)",
  "core/resolver.c", "cache_put(r, lk->name, addrs, n, r->valid_ms ? r->valid_ms : ttl_s * 1000);", "cache_put(r, lk->name, addrs, n, ttl_s * 1000);",
  "test_cosocket.py -k resolver test_mutant_kills.py -k resolver", "core/tests/test_resolver")
m("shdict-lpop-from-right", "lpop takes the last element and rpop the first",
  "core/shdict_list.c", "shd_ref_t e = left ? l.first : l.last;", "shd_ref_t e = left ? l.last : l.first;",
  "test_shdict.py -k lists", "core/tests/test_shdict")
m("ngx-time-fraction", "ngx.time returns the fractional ngx.now",
  "api/api_time.c", "    lua_pushnumber(L, (lua_Number)clock_time());\n", "    lua_pushnumber(L, (lua_Number)clock_now());\n",
  "test_time.py", "api/tests/test_time")
m("accesslog-timer-flushes-nothing", "the access-log delay timer does not flush (lines wait for the next batch)",
  "core/worker.c", "        if (vs->access_len) accesslog_flush(vs);\n}", "        if (vs->access_len > 65536) accesslog_flush(vs);\n}",
  "test_accesslog.py -k 'reach_the_file or one_line'")
m("quit-closes-idle-late", "a graceful stop waits for idle (wait_next_request) sessions instead of ending them",
  "api/session.c", "return ss->wait.ops && ss->wait.ops->idle;", "return 0 && ss->wait.ops && ss->wait.ops->idle;",
  "test_signals.py -k quit")
# ---- issue 12: operations hardening ----
m("log-newline-raw", "the error log writes a newline of a message raw (a client forges a line)",
  "core/log.c", "if (ch >= 0x20 && ch != 0x7f) e[0]", "if ((ch >= 0x20 || ch == '\\n') && ch != 0x7f) e[0]",
  "test_errlog.py -k 'forge or one_line'", "core/tests/test_log")
m("no-lingering-close", "the server closes at once instead of lingering (a crossing request meets a reset)",
  "core/conn.c", "if (s->eof || s->err || shutdown(stream_fd(s), SHUT_WR) != 0) {", "if (1 || s->eof || s->err || shutdown(stream_fd(s), SHUT_WR) != 0) {",
  "test_graceful.py")
m("worker-keeps-root", "workers keep the master's user (no setuid)",
  "core/master.c", "    if (setuid((uid_t)m->user_uid) != 0) fatal(\"setuid\", m->user_uid);\n", "",
  "test_privileges.py")
m("t-skips-scripts", "-t and start-up do not compile the Lua chunks",
  "core/main.c", "    int ok = m && check_step(m, 0) == 0;", "    int ok = m != NULL;",
  "test_config_cli.py")
m("time-overflow-unchecked", "a time piece may overflow the 68-year bound",
  "core/conf_directives.c", "        if (v > (TIME_MAX_MS - total) / u) return -1; /* this piece, and the sum */\n", "",
  "test_config_errors.py -k overflow")
m("stop-drops-arrived-request", "a graceful stop closes idle sessions whose next request has arrived",
  "core/conn.c", "        if (stream_pending(&c->stream) > 0) continue;\n", "",
  "test_graceful.py")
# ---- session 5: cosocket error lines, sleep ----
m("co-log-errors-ungated", "lua_socket_log_errors off still writes the cosocket error lines",
  "api/api_socket.c", "    if (gated && !c->vs->conf->s.lua_socket_log_errors) return;\n", "    (void)gated;\n",
  "test_cosocket.py -k 'socket_errors or socket_io'")
m("co-connect-failure-silent", "a refused cosocket connect writes no error line",
  "api/api_socket.c", "    socket_log_errno(ss, 1, \"connect\", e);\n", "    (void)ss;\n",
  "test_cosocket.py -k 'socket_errors'")
m("sleep-from-loop-start", "ngx.sleep counts from the start of the loop iteration, not from the call",
  "api/api_session.c", "    ev_now_update(stream_loop);\n", "",
  "test_control.py -k sleep")
m("re-empty-match-no-advance", "gsub/gmatch step two bytes after an empty match",
  "api/api_regex.c", "        if (pos == from && ++pos > len) break; /* an empty match: one byte further */",
  "        if (pos == from && (pos += 2) > len) break; /* an empty match: one byte further */",
  "test_regex.py -k 'sub or gmatch'")
m("re-unmatched-group-nil", "a group that took no part is nil in the captures table instead of false",
  "api/api_regex.c", "        else lua_pushboolean(L, 0);\n        lua_rawseti(L, -2, (int)i);",
  "        else lua_pushnil(L);\n        lua_rawseti(L, -2, (int)i);",
  "test_regex.py -k match")
m("re-dollar-dollar", "$$ in a template inserts nothing",
  "api/api_regex.c", "    if (s[i] == '$') return tpl_add(re, -1, i, 1) ? -1 : (long)i + 1;",
  "    if (s[i] == '$') return tpl_add(re, -1, i, 0) ? -1 : (long)i + 1;",
  "test_regex.py -k sub")
m("re-U-unchecked", "under U an invalid UTF-8 subject is matched unchecked",
  "api/api_regex.c", "        if (!*valid && !utf8_valid((const unsigned char *)s, len)) return -10;",
  "        if (!(re->flags & RE_NO_UTF_CHECK) && !*valid && !utf8_valid((const unsigned char *)s, len)) return -10;",
  "test_regex.py -k 'U_refuses'")
m("re-match-limit-ignored", "lua_regex_match_limit has no effect",
  "api/api_regex.c", "opts, re->md, re->mctx);", "opts, re->md, NULL);",
  "test_regex.py -k match_limit")
