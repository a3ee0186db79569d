/* sf_service.h - the main() of every service process behind the broker.
 *
 * A service declares its methods and options; sf_service_main parses the common options
 * (--redis, --broker, --threads, --log-level) and the service's own, starts the RPC server with
 * one Redis connection per worker thread, runs the service's background work if any, and stops
 * cleanly on SIGTERM or SIGINT. With --metrics-listen, the RPC metrics and whatever the service
 * collects are served there. */
#ifndef SF_SERVICE_H
#define SF_SERVICE_H

#include "sf_config.h"
#include "sf_redis.h"
#include "sf_rpc.h"

/* What each worker thread owns; handlers reach it as call->tls. */
typedef struct sf_worker {
    sf_redis *redis;
    const sf_common_config *common;
    void *service; /* the service's own process-wide state (def->state) */
    void *local;   /* the service's per-thread state (def->thread_init) */
    void (*local_fini)(void *local);
} sf_worker;

typedef struct sf_service_def {
    const char *program; /* "stbfarm-nodes" */
    const char *about;
    sf_service svc;
    const sf_rpc_method *methods;
    size_t n_methods;
    const sf_option *options; /* the service's own flags, beyond the common ones */
    size_t n_options;
    const char *default_threads;
    void *state; /* handed to the hooks below and to workers */
    int (*start)(void *state, const sf_common_config *common); /* after config, before serving */
    void (*stop)(void *state);                                 /* after serving stopped */
    void *(*thread_init)(void *state);                         /* per-thread extra state, or NULL */
    void (*thread_fini)(void *local);
    /* At every metrics scrape (sf_metrics.h): set the service's gauges of what Redis holds,
     * through a connection of the collector's own. NULL: none. */
    void (*collect)(void *state, sf_redis *redis);
} sf_service_def;

int sf_service_main(const sf_service_def *def, int argc, char **argv);

/* What every process with the common options does once they are parsed: its links
 * (sf_link_start) and its Redis user (sf_redis_auth_setup). 0, or 2 (the exit status of a
 * usage error) after printing why. */
int sf_common_start(const char *program, const sf_common_config *common);

static inline sf_worker *sf_worker_of(const sf_call *call)
{
    return (sf_worker *)call->tls;
}

#endif
