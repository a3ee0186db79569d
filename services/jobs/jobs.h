/* jobs.h - the jobs service's process state, per-thread state and handlers. */
#ifndef JOBS_H
#define JOBS_H

#include "jobs.pb-c.h"
#include "jobs_store.h"
#include "sf_node_client.h"
#include "sf_events.h"
#include "sf_service.h"
#include "sf_testpack.h"

#include <pthread.h>

typedef struct jobs_config {
    const char *test_pack;
    const char *test_pack_cache;
    long stop_timeout_ms;  /* how long a stop waits for the node before answering 202 */
    long agent_timeout_ms; /* how long a node agent has to accept a job */
    long reap_interval_ms; /* how often running jobs of vanished nodes are ended */
} jobs_config;

typedef struct jobs_state {
    jobs_config cfg;
    const sf_common_config *common;
    sf_node_clients *agents; /* the node agents, shared by every thread (sf_node_client.h) */
    sf_rpc_client *results;  /* the results service: the reaper records lost runs there */
    pthread_t reaper;
    int reaper_running;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
} jobs_state;

/* The test cases of one commit, cached per thread: the same revision is asked about again and
 * again (test_case_names, then run_tests). */
typedef struct jobs_catalog {
    char sha[41];
    char **names; /* "path.py::function", in tree then source order */
    size_t n, cap;
} jobs_catalog;

typedef struct jobs_thread {
    sf_testpack *tp; /* NULL when the test pack could not be opened (answers 503) */
    jobs_catalog catalog;
} jobs_thread;

static inline jobs_thread *jobs_thread_of(const sf_call *call)
{
    return (jobs_thread *)sf_worker_of(call)->local;
}

static inline jobs_state *jobs_state_of(const sf_call *call)
{
    return (jobs_state *)sf_worker_of(call)->service;
}

/* jobs_catalog.c */
int jobs_catalog_load(jobs_thread *t, const char *sha, sf_error *err);
int jobs_catalog_has(const jobs_catalog *c, const char *name);
void jobs_catalog_clear(jobs_catalog *c);
int jobs_test_case_names(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                         sf_error *err);
int jobs_open_testpack(jobs_thread *t, const jobs_config *cfg, sf_error *err);

/* jobs_browse.c */
int jobs_list(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);
int jobs_refs(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);
int jobs_remote_controls(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                         sf_error *err);
int jobs_remote_control(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                        sf_error *err);
/* Reply with rec as a JobDetail, rendered as JSON (raw): what ?details=true answers. */
int jobs_reply_detail(sf_rpc_reply *reply, const jobs_record *rec, const char *base_url,
                      sf_error *err);

/* jobs_run.c */
int jobs_run(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);

/* jobs_control.c */
int jobs_get_job(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);
int jobs_get_node_job(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                      sf_error *err);
int jobs_stop(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);
int jobs_stop_node_job(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                       sf_error *err);
int jobs_log(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);
int jobs_report(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);
/* Start the reaper's thread (SF_EINTERNAL when it cannot be). */
int jobs_reaper_start(jobs_state *s, sf_error *err);
void jobs_reaper_stop(jobs_state *s);

/* End a running job (idempotent) and wake whoever waits on it. Returns 1 when this call ended
 * it, 0 when it had already ended. */
int jobs_end(sf_redis *r, const char *uid, sf_error *err);

/* Wake whoever waits on job uid (event topic "job:<uid>"). Best effort: an event is a hint,
 * and waiters re-read the job every few seconds anyway. */
void jobs_publish(sf_redis *r, const char *uid);
/* Wake whoever follows job uid's log (event topic "job:<uid>:log"). */
void jobs_publish_log(sf_redis *r, const char *uid);

/* Set the service's gauges from Redis (sf_service_def.collect; jobs_metrics.c). */
void jobs_collect(void *state, sf_redis *r);

/* Reply with the API view of rec. */
int jobs_reply_job(sf_rpc_reply *reply, const jobs_record *rec, const char *base_url,
                   sf_error *err);

#endif
