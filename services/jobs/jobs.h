/* jobs.h - the jobs service's process state, per-thread state and handlers. */
#ifndef JOBS_H
#define JOBS_H

#include "jobs.pb-c.h"
#include "jobs_store.h"
#include "sf_node_client.h"
#include "sf_events.h"
#include "sf_service.h"
#include "sf_testpack.h"
#include "sf_ticker.h"

#include <pthread.h>

typedef struct jobs_config {
    const char *test_pack;
    const char *test_pack_cache;
    long stop_timeout_ms;  /* how long a stop waits for the node before answering 202 */
    long agent_timeout_ms; /* how long a node agent has to accept a job */
    long reap_interval_ms; /* how often running jobs of vanished nodes are ended */
    long health_poll_ms;   /* how often nodes' health checks are looked at */
    long queue_poll_ms;    /* how often queued jobs are looked at (their nodes, their timeouts) */
} jobs_config;

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

typedef struct jobs_state {
    jobs_config cfg;
    const sf_common_config *common;
    sf_node_clients *agents; /* the node agents, shared by every thread (sf_node_client.h) */
    sf_rpc_client *results;  /* the results service: the reaper records lost runs there */
    /* the loops of their own threads (sf_ticker.h), each with the Redis connection it alone uses */
    sf_ticker *reaper, *queue, *health;
    sf_redis *reaper_redis, *queue_redis, *health_redis;
    jobs_thread health_tp; /* the health checks' test pack */
} jobs_state;

static inline jobs_thread *jobs_thread_of(const sf_call *call)
{
    return (jobs_thread *)sf_worker_of(call)->local;
}

static inline jobs_state *jobs_state_of(const sf_call *call)
{
    return (jobs_state *)sf_worker_of(call)->service;
}

#define JOBS_CANDIDATES_MAX         100    /* nodes in node_ids, or in a pool */
#define JOBS_QUEUE_TIMEOUT_SECS     86400  /* a queued job's default queue_timeout_secs */
#define JOBS_QUEUE_TIMEOUT_MAX_SECS 604800 /* a week */

/* jobs_run.c: hand the job in rec (running on rec->node_id) to its node's agent, and record which
 * instance of the agent took it (the reaper tells that one from one that restarted by it).
 * *taken is 1 when the agent has the job, even if that could not be recorded (then rc is not 0:
 * SF_EUNAVAIL when the job was no longer there to record it on). */
int jobs_hand_over(jobs_state *s, sf_redis *r, const jobs_record *rec, int *taken, sf_error *err);

/* jobs_queue.c: start the first queued job that may run on node_id now, if it is online and
 * free, and hand it to its agent (a job the agent does not take waits again). 1 when one
 * started. */
int jobs_queue_dispatch(jobs_state *s, sf_redis *r, const char *node_id);
/* A job ended on this replica: look at the queues now rather than at the next poll. */
void jobs_queue_wake(jobs_state *s);
/* End the queued job uid before it started: user stopped it. */
int jobs_queue_stop(sf_redis *r, const char *uid, const char *user, sf_error *err);
/* The loop that starts queued jobs and ends timed-out ones. */
int jobs_queue_start(jobs_state *s, sf_error *err);
void jobs_queue_stop_thread(jobs_state *s);
int jobs_node_queue(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);

/* jobs_health.c: the loop that runs nodes' health checks. */
int jobs_health_start(jobs_state *s, sf_error *err);
void jobs_health_stop(jobs_state *s);

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
/* A JobDetailList of n records (GET /api/v2/jobs, a node's queue). */
int jobs_reply_details(sf_rpc_reply *reply, const jobs_record *recs, size_t n, const char *base_url,
                       sf_error *err);
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
