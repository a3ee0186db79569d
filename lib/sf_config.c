#include "sf_config.h"

#include "sf_log.h"
#include "sf_metrics_http.h"
#include "sf_time.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int parse_bool(const char *text, int *out)
{
    if (!strcasecmp(text, "1") || !strcasecmp(text, "true") || !strcasecmp(text, "yes") ||
        !strcasecmp(text, "on")) {
        *out = 1;
        return 0;
    }
    if (!strcasecmp(text, "0") || !strcasecmp(text, "false") || !strcasecmp(text, "no") ||
        !strcasecmp(text, "off")) {
        *out = 0;
        return 0;
    }
    return SF_EINVAL;
}

static int assign(const sf_option *o, const char *value, const char *source, sf_error *err)
{
    switch (o->type) {
    case SF_OPT_STR:
        *(const char **)o->dest = value;
        return 0;
    case SF_OPT_INT: {
        char *end;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end)
            return sf_fail(err, SF_EINVAL, "%s: '%s' is not a whole number", source, value);
        *(long *)o->dest = v;
        return 0;
    }
    case SF_OPT_BOOL:
        if (parse_bool(value, (int *)o->dest))
            return sf_fail(err, SF_EINVAL, "%s: '%s' is not true or false", source, value);
        return 0;
    }
    return SF_EINVAL;
}

int sf_config_parse(const sf_option *opts, size_t n, int argc, char **argv, int *help,
                    sf_error *err)
{
    *help = 0;
    for (size_t i = 0; i < n; i++) {
        const char *v = opts[i].env ? getenv(opts[i].env) : NULL;
        int rc;
        if (v)
            rc = assign(&opts[i], v, opts[i].env, err);
        else if (opts[i].def)
            rc = assign(&opts[i], opts[i].def, "default", err);
        else if (opts[i].type == SF_OPT_STR)
            rc = assign(&opts[i], NULL, "default", err);
        else
            rc = 0;
        if (rc)
            return rc;
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            *help = 1;
            return 0;
        }
        if (strncmp(arg, "--", 2) != 0)
            return sf_fail(err, SF_EINVAL, "unexpected argument '%s'", arg);
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const sf_option *o = NULL;
        for (size_t i = 0; i < n; i++) {
            if (strlen(opts[i].flag) == len && !strncmp(opts[i].flag, name, len)) {
                o = &opts[i];
                break;
            }
        }
        if (!o)
            return sf_fail(err, SF_EINVAL, "unknown flag '--%.*s'", (int)len, name);
        const char *value;
        if (eq) {
            value = eq + 1;
        } else if (o->type == SF_OPT_BOOL) {
            value = "true";
        } else if (a + 1 < argc) {
            value = argv[++a];
        } else {
            return sf_fail(err, SF_EINVAL, "flag '--%s' needs a value", o->flag);
        }
        char source[96];
        snprintf(source, sizeof(source), "--%s", o->flag);
        int rc = assign(o, value, source, err);
        if (rc)
            return rc;
    }
    return 0;
}

void sf_config_usage(FILE *out, const char *program, const char *about, const sf_option *opts,
                     size_t n)
{
    fprintf(out, "usage: %s [flags]\n%s\n\nflags (environment variable, default):\n", program,
            about);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "  --%-20s %s (%s, %s)\n", opts[i].flag, opts[i].help,
                opts[i].env ? opts[i].env : "-", opts[i].def ? opts[i].def : "none");
    }
}

/* Serve the process's metrics at addr for as long as the process runs. */
static void serve_metrics(const char *program, const char *addr)
{
    static sf_metrics_server *server; /* the process's, like its registry */
    sf_error err = SF_ERROR_INIT;
    sf_metrics *m = sf_metrics_process();
    sf_metrics_set_gauge(m, "process_start_time_seconds",
                         "When the process started, in unix seconds",
                         (double)(sf_now_us() / 1000000));
    if (sf_metrics_serve(&server, m, addr, &err)) {
        fprintf(stderr, "%s: %s\n", program, err.msg);
        exit(err.code == SF_EINVAL ? 2 : 1);
    }
}

int sf_config_load(const char *program, const char *about, const sf_option *program_opts,
                   size_t n_program, int argc, char **argv)
{
    sf_error err = SF_ERROR_INIT;
    int help = 0, check = 0, kept = 0;
    /* --metrics-listen is every program's too: it goes after the program's own flags */
    const char *metrics_listen = NULL;
    size_t n = n_program + 1;
    sf_option *opts = calloc(n, sizeof(*opts));
    if (!opts) {
        fprintf(stderr, "%s: out of memory\n", program);
        exit(1);
    }
    memcpy(opts, program_opts, n_program * sizeof(*opts));
    opts[n_program] = (sf_option){
        "metrics-listen",
        "STBF_METRICS_LISTEN",
        SF_OPT_STR,
        NULL,
        "serve Prometheus metrics at http://ADDR/metrics: PORT or HOST:PORT (HOST: 127.0.0.1 "
        "unless given); off: none",
        &metrics_listen};
    /* --check-config is every program's, not a table's: take it out before parsing */
    char **args = calloc((size_t)argc + 1, sizeof(*args));
    if (!args) {
        fprintf(stderr, "%s: out of memory\n", program);
        exit(1);
    }
    for (int a = 0; a < argc; a++) {
        if (a > 0 && !strcmp(argv[a], "--check-config"))
            check = 1;
        else
            args[kept++] = argv[a];
    }
    int rc = sf_config_parse(opts, n, kept, args, &help, &err);
    free(args); /* the values point into argv itself, not into args */
    if (rc) {
        fprintf(stderr, "%s: %s\n", program, err.msg);
        sf_config_usage(stderr, program, about, opts, n);
    } else if (help) {
        sf_config_usage(stdout, program, about, opts, n);
    }
    free(opts);
    if (rc || help)
        exit(rc ? 2 : 0);
    sf_log_level level = SF_LOG_INFO;
    for (size_t i = 0; i < n_program; i++) {
        if (!strcmp(program_opts[i].flag, "log-level")) {
            const char *v = *(const char **)program_opts[i].dest;
            if (v && sf_log_level_parse(v, &level)) {
                fprintf(stderr, "%s: --log-level: '%s' is not debug, info, warn or error\n",
                        program, v);
                exit(2);
            }
        }
    }
    sf_log_init(program, level);
    if (metrics_listen && *metrics_listen && strcmp(metrics_listen, "off")) {
        char host[256];
        int port;
        if (sf_metrics_listen_parse(metrics_listen, host, sizeof(host), &port, &err)) {
            fprintf(stderr, "%s: %s\n", program, err.msg);
            exit(2);
        }
        if (!check)
            serve_metrics(program, metrics_listen);
    }
    return check;
}
