#include "sf_service.h"
#include "sf_proc.h"

#include "sf_caller.h"
#include "sf_log.h"
#include "sf_metrics.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct service_run {
    const sf_service_def *def;
    sf_common_config common;
    sf_redis *collect_redis; /* the metrics collector's, used one scrape at a time */
} service_run;

static void collect(void *arg)
{
    service_run *run = arg;
    run->def->collect(run->def->state, run->collect_redis);
}

static void *worker_init(void *arg)
{
    service_run *run = arg;
    sf_worker *w = calloc(1, sizeof(*w));
    sf_error err = SF_ERROR_INIT;
    if (!w || sf_redis_open(&w->redis, run->common.redis, &err)) {
        sf_error("worker: %s", err.msg);
        free(w);
        return NULL;
    }
    w->common = &run->common;
    w->service = run->def->state;
    w->local_fini = run->def->thread_fini;
    if (run->def->thread_init && !(w->local = run->def->thread_init(run->def->state))) {
        sf_redis_free(w->redis);
        free(w);
        return NULL;
    }
    return w;
}

static void worker_fini(void *tls)
{
    sf_worker *w = tls;
    if (w->local_fini && w->local)
        w->local_fini(w->local);
    sf_redis_free(w->redis);
    free(w);
}

int sf_common_start(const char *program, const sf_common_config *common)
{
    sf_error err = SF_ERROR_INIT;
    if (sf_link_start(program, &common->link, common->broker))
        return 2;
    if (sf_redis_auth_setup(common->redis_user, common->redis_password_file, &err)) {
        fprintf(stderr, "%s: %s\n", program, err.msg);
        return 2;
    }
    return 0;
}

/* Every call proves who makes it before its handler runs (sf_caller.h). */
static int worker_authorize(sf_call *call, sf_error *err)
{
    return sf_caller_check(call, sf_worker_of(call)->redis, err);
}

int sf_service_main(const sf_service_def *def, int argc, char **argv)
{
    service_run run = {def, {0}, NULL};
    sf_option common[] = {SF_COMMON_OPTIONS(&run.common, def->default_threads)};
    size_t nc = sizeof(common) / sizeof(common[0]);
    sf_option *all = calloc(nc + def->n_options, sizeof(*all));
    if (!all)
        return 1;
    memcpy(all, common, sizeof(common));
    if (def->n_options)
        memcpy(all + nc, def->options, def->n_options * sizeof(*all));
    int check_only = sf_config_load(def->program, def->about, all, nc + def->n_options, argc, argv);
    free(all);
    if (sf_common_start(def->program, &run.common))
        return 2;
    if (check_only)
        return 0; /* a service's own checks are in its start: they run when it starts */

    sigset_t sigs;
    sf_stop_block(&sigs);

    sf_error err = SF_ERROR_INIT;
    if (def->start && def->start(def->state, &run.common)) {
        sf_error("%s: could not start", def->program);
        return 1;
    }
    sf_rpc_server_opts o = {0};
    o.service = sf_service_name(def->svc);
    o.brokers = run.common.broker;
    o.svc = def->svc;
    o.threads = (int)run.common.threads;
    o.methods = def->methods;
    o.n_methods = def->n_methods;
    o.thread_init = worker_init;
    o.thread_fini = worker_fini;
    o.authorize = worker_authorize;
    o.arg = &run;
    sf_rpc_server *server;
    if (sf_rpc_server_start(&server, &o, &err)) {
        sf_error("%s", err.msg);
        if (def->stop)
            def->stop(def->state);
        return 1;
    }
    if (def->collect && (sf_redis_open(&run.collect_redis, run.common.redis, &err) ||
                         sf_metrics_add_collector(sf_metrics_process(), collect, &run)))
        sf_warn("%s: its metrics of Redis will not be collected: %s", def->program,
                err.msg[0] ? err.msg : "out of memory");
    sf_info("%s serving with %ld threads via %s", def->program, run.common.threads,
            run.common.broker);
    sf_stop_wait(&sigs);
    sf_metrics_remove_collector(sf_metrics_process(), collect, &run);
    sf_redis_free(run.collect_redis);
    sf_rpc_server_stop(server);
    if (def->stop)
        def->stop(def->state);
    return 0;
}
