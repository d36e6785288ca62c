/* conf.h: the configuration model (one struct per context) and the parser's entry points.
 * Values start UNSET (-1 or NULL); conf_finish() applies every default in one merge step. */
#ifndef TCPLUA_CONF_H
#define TCPLUA_CONF_H
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/socket.h>
#include "pool.h"

#define CONF_UNSET (-1)
#define CONF_ERRLEN 512
#define CONF_MAX_ARGS 64

enum {
    CTX_MAIN = 1,
    CTX_EVENTS = 2,
    CTX_TCP = 4,
    CTX_SERVER = 8,
    CTX_ANY = 15
};

typedef struct log_conf {
    const char *path; /* "stderr" or a path resolved against the prefix */
    int level;        /* LOG_* from log.h */
} log_conf_t;

typedef struct listen_conf {
    struct sockaddr_storage sa;
    socklen_t salen;
    char text[96]; /* "127.0.0.1:6666", "[::1]:6666", "*:6666" */
    int backlog, rcvbuf, sndbuf, deferred, bind, reuseport, ipv6only;
    int so_keepalive;                 /* UNSET, 0 off, 1 on */
    int keepidle, keepintvl, keepcnt; /* 0 = system default */
    const char *file;
    int line;
    struct listen_conf *next;
} listen_conf_t;

typedef struct access_rule {
    int family; /* AF_INET, AF_INET6, or 0 for "all" */
    uint8_t addr[16], mask[16];
    int deny;
    struct access_rule *next;
} access_rule_t;

typedef struct str_list {
    const char *s;
    struct str_list *next;
} str_list_t;

typedef struct lua_code {
    const char *code;  /* inline chunk, or NULL */
    const char *path;  /* file path (prefix-resolved), or NULL */
    const char *where; /* chunk name: "=DIRECTIVE(BASENAME:LINE)" or "@PATH" */
    const char *file;  /* where the directive stands, for " in FILE:LINE" */
    int line;
} lua_code_t;

/* Directives valid in both tcp {} and server {}: the tcp-level copy holds defaults for servers. */
typedef struct srv_conf {
    long read_timeout, send_timeout, keepalive_timeout, resolver_timeout; /* ms */
    long session_pool_size, connection_pool_size, client_max_body_size;   /* bytes */
    long lua_socket_connect_timeout, lua_socket_send_timeout, lua_socket_read_timeout;
    long lua_socket_keepalive_timeout, lua_socket_send_lowat, lua_socket_buffer_size;
    long lua_socket_pool_size;
    int lua_code_cache, lua_check_client_abort, tcp_nodelay, lua_socket_log_errors;
    log_conf_t *error_log;
    access_rule_t *rules;          /* allow/deny in order; a level with any replaces the outer list */
    str_list_t *resolvers;         /* "addr[:port]" strings */
    int resolver_ipv6;             /* UNSET, 0, 1 */
    long resolver_valid;           /* ms, UNSET = honour TTL */
    const char *access_log;        /* path, or NULL when off */
    const char *access_log_format; /* format text */
    const char *access_log_format_name;
    int access_log_set; /* access_log given at this level */
    lua_code_t *process;
} srv_conf_t;

typedef struct server_conf {
    srv_conf_t s;
    listen_conf_t *listens;
    const char *protocol;
    const char *file; /* where "server {" stands, for errors after the block */
    int line;
    struct server_conf *next;
} server_conf_t;

typedef struct shdict_conf {
    const char *name;
    long size;
    struct shdict_conf *next;
} shdict_conf_t;

typedef struct log_format {
    const char *name, *format;
    struct log_format *next;
} log_format_t;

/* lua_regex_cache_max_entries' default (ngx_lua's); also what a VM without a tcp block gets */
#define CONF_REGEX_CACHE_MAX 1024

typedef struct tcp_conf {
    srv_conf_t s;
    const char *lua_package_path, *lua_package_cpath;
    long lua_regex_cache_max_entries, lua_regex_match_limit;
    shdict_conf_t *shdicts;
    lua_code_t *init;
    log_format_t *formats;
    server_conf_t *servers;
} tcp_conf_t;

typedef struct main_conf {
    long worker_processes; /* 0 means "auto" until conf_finish() */
    int daemon, master_process;
    log_conf_t *error_log;
    const char *pid;
    long worker_connections;
    long worker_shutdown_timeout; /* ms */
    long worker_rlimit_nofile;    /* CONF_UNSET: workers keep the limit they inherit */
    /* The workers' user and group ([dir.user]): looked up only when running as root; uid
     * CONF_UNSET means workers keep the user that started the server (user may still hold
     * the ignored directive's name then). */
    const char *user, *group;
    long user_uid, user_gid;
    str_list_t *warnings; /* "MESSAGE[ in FILE:LINE]" to print as nginx's [warn] lines */
    int events_seen;
    tcp_conf_t *tcp;
    const char *prefix;      /* always ends with '/' */
    const char *conf_file;   /* absolute */
    const char *conf_dir;    /* directory of conf_file, ends with '/' */
    struct conf_text *texts; /* every file read, in order, for -T */
    pool_t *pool;
} main_conf_t;

typedef struct conf_text {
    const char *name, *buf;
    size_t len;
    struct conf_text *next;
} conf_text_t;

/* One source being parsed: a buffer, its name and the current line. */
typedef struct conf_src {
    const char *buf, *name;
    size_t len, pos;
    int line;
} conf_src_t;

struct conf;
/* Reads a whole file into pool memory; fills cf->err and returns -1 on failure. */
typedef int (*conf_reader_fn)(struct conf *cf, const char *path, char **buf, size_t *len);
/* Expands an include pattern into paths; returns count or -1 with cf->err filled. */
typedef int (*conf_glob_fn)(struct conf *cf, const char *pattern, const char ***paths);

typedef struct conf {
    main_conf_t *main;
    conf_src_t *src;
    int ctx;         /* CTX_* of the block being parsed */
    srv_conf_t *srv; /* srv_conf of the current tcp or server block */
    server_conf_t *server;
    int depth; /* include/block nesting, bounded */
    int nargs;
    const char *args[CONF_MAX_ARGS];
    size_t arglen[CONF_MAX_ARGS];
    conf_reader_fn read_file; /* NULL: include is refused (the fuzzing seam) */
    conf_glob_fn glob;
    char err[CONF_ERRLEN];
} conf_t;

/* Creates an empty configuration for the given prefix and main file name. */
main_conf_t *conf_create(const char *prefix, const char *conf_file);
void conf_destroy(main_conf_t *m);
void conf_init(conf_t *cf, main_conf_t *m);

/* The pure seam: parses main-context text from memory. 0 or -1 with cf->err set. */
int conf_parse(conf_t *cf, const char *buf, size_t len, const char *name);
/* Parses the rest of the current block (used by block directives). */
int conf_parse_block(conf_t *cf);
/* Checks cross-directive rules and applies every default (the merge step). */
int conf_finish(conf_t *cf);

/* Reads conf file (+ optional -g text) with includes; the only entry that touches files. */
int conf_load(conf_t *cf, const char *params);
/* Creates, loads and finishes a whole configuration; NULL with the message in err. */
main_conf_t *conf_read(const char *prefix, const char *file, const char *params,
                       char *err, size_t errlen);

/* The checks of the files start-up will open, short of opening listeners ([cli.test.files]):
 * every log file opened for appending (created if missing) and closed, the pid file's
 * directory writable. 0, or -1 with nginx's `open() "PATH" failed (ERRNO: TEXT)` in err. */
int conf_check_files(const main_conf_t *m, char *err, size_t errlen);

/* Error reporting: formats "MESSAGE in FILE:LINE" into cf->err; returns -1. */
int conf_error(conf_t *cf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Value parsers shared with the runtime (return -1 when invalid). */
long conf_parse_size(const char *s);
long conf_parse_time_ms(const char *s);
const char *conf_full_path(conf_t *cf, const char *path, int from_conf_dir);

/* Whether two listen directives name the same address and port. */
int conf_listen_same(const listen_conf_t *a, const listen_conf_t *b);

/* Prints each warning of m as "tcplua: [warn] MESSAGE" (-t and start-up, as nginx does). */
void conf_print_warnings(const main_conf_t *m, FILE *out);
void conf_log_warnings(const main_conf_t *m); /* each at warn level in the main error log */

/* Prints the effective configuration (defaults applied) for -T. */
void conf_dump(const main_conf_t *m, FILE *out);

#endif
