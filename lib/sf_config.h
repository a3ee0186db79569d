/* sf_config.h - a process's configuration from flags, then environment, then defaults.
 *
 * Each binary declares a table of sf_option pointing at the fields of its config struct, and
 * calls sf_config_load at the top of main. Values are never copied: string options point into
 * argv, the environment or the default literal, all of which live as long as the process. */
#ifndef SF_CONFIG_H
#define SF_CONFIG_H

#include "sf_err.h"
#include "sf_link.h"

#include <stdio.h>

typedef enum { SF_OPT_STR, SF_OPT_INT, SF_OPT_BOOL } sf_opt_type;

typedef struct sf_option {
    const char *flag; /* "port" is given as --port 8080 or --port=8080 */
    const char *env;  /* "STBF_PORT", or NULL */
    sf_opt_type type;
    const char *def; /* default, as text; NULL: none (a string option stays NULL) */
    const char *help;
    void *dest; /* const char ** (SF_OPT_STR), long * (SF_OPT_INT), int * (SF_OPT_BOOL) */
} sf_option;

/* The options every service process shares. */
typedef struct sf_common_config {
    const char *redis;                            /* unix:/path/redis.sock or tcp://host:port */
    const char *redis_user, *redis_password_file; /* its ACL user; NULL: the default user */
    const char *broker;    /* broker base URL(s), comma-separated for redundant brokers */
    const char *log_level; /* debug, info, warn, error */
    long threads;          /* requests served at once */
    sf_link_config link;   /* TLS credential, --insecure */
} sf_common_config;

#define SF_COMMON_OPTIONS(c, default_threads)                                                      \
    {"redis",                                                                                      \
     "STBF_REDIS",                                                                                 \
     SF_OPT_STR,                                                                                   \
     "tcp://127.0.0.1:6379",                                                                       \
     "Redis address: unix:/path/to.sock or tcp://host:port",                                       \
     &(c)->redis},                                                                                 \
        {"broker",                                                                                 \
         "STBF_BROKER",                                                                            \
         SF_OPT_STR,                                                                               \
         "tcp://127.0.0.1:7100",                                                                   \
         "broker base URL(s), comma-separated (see docs/architecture.md)",                         \
         &(c)->broker},                                                                            \
        {"log-level",    "STBF_LOG_LEVEL", SF_OPT_STR, "info", "debug, info, warn or error",       \
         &(c)->log_level},                                                                         \
        {"threads",    "STBF_THREADS", SF_OPT_INT, default_threads, "requests served at once",     \
         &(c)->threads},                                                                           \
        {"redis-user",                                                                             \
         "STBF_REDIS_USER",                                                                        \
         SF_OPT_STR,                                                                               \
         NULL,                                                                                     \
         "Redis ACL user (docs/operations.md); none: the default user",                            \
         &(c)->redis_user},                                                                        \
        {"redis-password-file",                                                                    \
         "STBF_REDIS_PASSWORD_FILE",                                                               \
         SF_OPT_STR,                                                                               \
         NULL,                                                                                     \
         "the file holding --redis-user's password (mode 600)",                                    \
         &(c)->redis_password_file},                                                               \
        SF_LINK_OPTIONS(&(c)->link)

/* Fill every dest from argv, environment and defaults. Returns 0, or SF_EINVAL with a message
 * naming the bad flag or value. Sets *help when --help was given. */
int sf_config_parse(const sf_option *opts, size_t n, int argc, char **argv, int *help,
                    sf_error *err);

void sf_config_usage(FILE *out, const char *program, const char *about, const sf_option *opts,
                     size_t n);

/* sf_config_parse for main(): prints usage and exits 0 on --help, prints the error and usage and
 * exits 2 on a bad flag; then starts logging with the "log-level" option if the table has one.
 * Returns 1 when --check-config was given (every program takes it): main then checks the rest
 * of its configuration as usual (a problem: a message and exit status 2) and exits 0 before it
 * opens anything. The launcher checks every flag this way before it starts any process.
 * Every program also takes --metrics-listen ADDR (STBF_METRICS_LISTEN): unless checking, this
 * then serves the process's metrics registry there (sf_metrics_http.h) until the process ends,
 * and exits 1 when it cannot listen (2 for an address that is not one). */
int sf_config_load(const char *program, const char *about, const sf_option *opts, size_t n,
                   int argc, char **argv);

#endif
