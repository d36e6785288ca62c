/* main.c: the command line (nginx's conventions: -c -p -g -t -T -v -V -h -s) and start-up. */
#include "conf.h"
#include "log.h"
#include "clock.h"
#include "server.h"
#include "shm.h"
#include "app.h"
#include "lua_app.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ev.h>
#include <luajit.h>

#define TCPLUA_VERSION "0.1.0"
#define PROG "tcplua"

typedef struct opts {
    const char *conf, *prefix, *params, *signal;
    int test, dump, quiet;
} opts_t;

static void usage(FILE *o)
{
    fprintf(o, "Usage: " PROG " [-?hvVtTq] [-s signal] [-p prefix] [-c filename] [-g directives]\n\n"
               "Options:\n"
               "  -?,-h         : this help\n"
               "  -v            : show version and exit\n"
               "  -V            : show version and build information and exit\n"
               "  -t            : test configuration and exit\n"
               "  -T            : test configuration, dump it and exit\n"
               "  -q            : suppress non-error messages during configuration testing\n"
               "  -s signal     : send signal to a master process: stop, quit, reopen, reload\n"
               "  -p prefix     : set prefix path (default: current directory)\n"
               "  -c filename   : set configuration file (default: conf/nginx.conf)\n"
               "  -g directives : set global directives out of configuration file\n");
}

/* nginx style: flags may be grouped ("-tq"); a value follows the letter or is the next word. */
static int parse_opts(int argc, char **argv, opts_t *o)
{
    for (int i = 1; i < argc; i++) {
        const char *p = argv[i];
        if (*p++ != '-') {
            fprintf(stderr, PROG ": invalid option: \"%s\"\n", argv[i]);
            return -1;
        }
        for (; *p; p++) {
            const char **val = NULL;
            switch (*p) {
            case '?':
            case 'h': usage(stdout); exit(0);
            case 'v': printf(PROG " version: " PROG "/" TCPLUA_VERSION "\n"); exit(0);
            case 'V':
                printf(PROG " version: " PROG "/" TCPLUA_VERSION "\nbuilt with %s, libev %d.%d\n",
                       LUAJIT_VERSION, ev_version_major(), ev_version_minor());
                printf("built by gcc/clang " __VERSION__ "\n");
                exit(0);
            case 't': o->test = 1; break;
            case 'T': o->test = o->dump = 1; break;
            case 'q': o->quiet = 1; break;
            case 'c': val = &o->conf; break;
            case 'p': val = &o->prefix; break;
            case 'g': val = &o->params; break;
            case 's': val = &o->signal; break;
            default: fprintf(stderr, PROG ": invalid option: \"%c\"\n", *p); return -1;
            }
            if (!val) continue;
            if (p[1]) *val = p + 1;
            else if (i + 1 < argc) *val = argv[++i];
            else {
                fprintf(stderr, PROG ": option \"-%c\" requires %s\n", *p,
                        *p == 'c' ? "file name" : *p == 'p' ? "directory name"
                                              : *p == 'g'   ? "parameter"
                                                            : "parameter");
                return -1;
            }
            break;
        }
    }
    if (o->signal && strcmp(o->signal, "stop") && strcmp(o->signal, "quit")
        && strcmp(o->signal, "reopen") && strcmp(o->signal, "reload")) {
        fprintf(stderr, PROG ": invalid option: \"-s %s\"\n", o->signal);
        return -1;
    }
    return 0;
}

/* Reads the configuration; on error prints nginx's emerg line and returns NULL. */
main_conf_t *load_config(const char *prefix, const char *file, const char *params)
{
    char err[CONF_ERRLEN];
    main_conf_t *m = conf_read(prefix, file, params, err, sizeof err);
    if (!m) fprintf(stderr, PROG ": [emerg] %s\n", err);
    return m;
}

/* The checks start-up makes short of binding, forking and running Lua, in two steps: the
 * scripts compile ([cli.test.scripts]); the logs open and the pid file's directory takes a
 * file ([cli.test.files]). -t runs them, and start-up runs them before anything else, so both
 * print the same line. */
/* Maps and releases every shared-dict zone, so a size the system cannot map fails -t and
 * start-up before anything is bound, as nginx's -t does (SPEC cli.test.shm). */
static int check_zones(const main_conf_t *m, char *err, size_t errlen)
{
    shm_zone_t *none = NULL, *zones = NULL;
    if (shm_zones_open(m, &none, &zones, err, errlen)) return -1;
    shm_zones_free(zones);
    return 0;
}

static int check_step(main_conf_t *m, int files)
{
    char err[2048];
    int r = files ? conf_check_files(m, err, sizeof err) : app->conf_test(m, err, sizeof err);
    if (r == 0 && files) r = check_zones(m, err, sizeof err);
    if (r == 0) return 0;
    fprintf(stderr, PROG ": [emerg] %s\n", err);
    return -1;
}

/* -t / -T with nginx's lines: "syntax is ok" once the text parses and its scripts compile
 * (nginx prints it before it opens any file), then the file checks, which can still fail. */
static int test_config(main_conf_t *m, const opts_t *o)
{
    char abs[8192];
    int n = snprintf(abs, sizeof abs, "%s%s%s", o->conf[0] == '/' ? "" : o->prefix,
                     o->conf[0] == '/' || o->prefix[strlen(o->prefix) - 1] == '/' ? "" : "/", o->conf);
    if (n >= (int)sizeof abs) strcpy(abs + sizeof abs - 4, "..."); /* only named, never opened */
    const char *file = m ? m->conf_file : abs;
    if (m) conf_print_warnings(m, stderr); /* as nginx's, before the verdict */
    int ok = m && check_step(m, 0) == 0;
    if (ok && !o->quiet) fprintf(stderr, PROG ": the configuration file %s syntax is ok\n", file);
    ok = ok && check_step(m, 1) == 0;
    if (ok && o->dump) conf_dump(m, stdout);
    fflush(stdout);
    fprintf(stderr, ok ? PROG ": configuration file %s test is successful\n" : PROG ": configuration file %s test failed\n",
            file);
    conf_destroy(m);
    return ok ? 0 : 1;
}

/* A relative -p is taken from the working directory, so that every path under the prefix is
 * absolute: -t names files absolutely ([cli.test.abs_path]) and nothing depends on the
 * directory the server was started from. NULL when the working directory is unknown. */
static const char *absolute_prefix(const char *prefix, char *buf, size_t n)
{
    char cwd[4096];
    if (prefix && prefix[0] == '/') return prefix;
    if (!getcwd(cwd, sizeof cwd)) {
        fprintf(stderr, PROG ": [alert] getcwd() failed (%d: %s)\n", errno, strerror(errno));
        return NULL;
    }
    if (snprintf(buf, n, "%s/%s", strcmp(cwd, "/") ? cwd : "", prefix ? prefix : "") >= (int)n) {
        fprintf(stderr, PROG ": [emerg] the prefix \"%s\" is too long\n", prefix);
        return NULL;
    }
    return buf;
}

static int send_signal(main_conf_t *m, const char *name)
{
    int sig = !strcmp(name, "stop") ? SIGTERM : !strcmp(name, "quit") ? SIGQUIT
                                          : !strcmp(name, "reopen")   ? SIGUSR1
                                                                      : SIGHUP;
    FILE *f = fopen(m->pid, "r");
    long pid = 0;
    if (!f) {
        fprintf(stderr, PROG ": [error] open() \"%s\" failed (%d: %s)\n", m->pid, errno, strerror(errno));
        return 1;
    }
    if (fscanf(f, "%ld", &pid) != 1 || pid <= 0) {
        fclose(f);
        fprintf(stderr, PROG ": [error] invalid PID number in \"%s\"\n", m->pid);
        return 1;
    }
    fclose(f);
    if (kill((pid_t)pid, sig) != 0) {
        fprintf(stderr, PROG ": [alert] kill(%ld, %d) failed (%d: %s)\n", pid, sig, errno, strerror(errno));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    opts_t o = {.conf = "conf/nginx.conf"};
    char prefix[8192];
    if (parse_opts(argc, argv, &o)) return 1;
    if (!(o.prefix = absolute_prefix(o.prefix, prefix, sizeof prefix))) return 1;
    clock_update();
    app = &lua_app; /* the composition root: core runs the Lua application */
    main_conf_t *m = load_config(o.prefix, o.conf, o.params);
    if (o.test) return test_config(m, &o);
    if (m && !o.signal && (check_step(m, 0) || check_step(m, 1))) {
        conf_destroy(m);
        return 1;
    }
    if (!m) return 1;
    if (o.signal) {
        int rc = send_signal(m, o.signal);
        conf_destroy(m);
        return rc;
    }
    return server_main(m, o.prefix, o.conf, o.params);
}
