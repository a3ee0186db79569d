/* jobs_store.h - test jobs in Redis. The jobs service writes them through here and the nodes
 * service reads them (the `job` of a node's status), so the key layout and every script that
 * touches it live in this module alone. Keys:
 *   sf:jobs:seq            INCR counter: the <n> of every job uid
 *   sf:job:<uid>           HASH: node_id, user, status (running|exited), start_us, end_us,
 *                          sha, branch, category, soak, shuffle, remote_control, tags (JSON),
 *                          test_cases (JSON), pass, fail, error, total, current (test case
 *                          running now), current_us and current_seq (when it started, its run
 *                          number), stopping (1 once a stop was asked), prev_lastjob (the node's
 *                          latest job before this one, for jobs_store_forget), agent_instance
 *                          (the start of the node agent that took the job)
 *   sf:job:<uid>:counted   SET of result ids already counted (a resent report counts once)
 *   sf:job:<uid>:log       STRING: the job's log, written at offsets the node agent chooses
 *   sf:jobs:running        SET of the uids of running jobs (the reaper's work list)
 *   sf:node:<id>:job       the uid of the job running on the node (contract: "busy")
 *   sf:node:<id>:lastjob   the uid of the node's latest job
 *   sf:node:<id>:jobs      LIST: the node's last 100 job uids, newest first
 *   sf:jobs:recent         LIST: the farm's last 1,000 job uids, newest first
 *   sf:jobs:req:<id>       the uid a run_tests request id created (a resent request is answered
 *                          with the same job; expires after 10 minutes)
 * Starting a job checks the node's reservation inside the same script (RESV_LUA_MAY_USE of
 * resv_store.h), so a job and a reservation never both win a node. */
#ifndef JOBS_STORE_H
#define JOBS_STORE_H

#include "api.pb-c.h"
#include "sf_err.h"
#include "sf_redis.h"

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#define JOBS_UID_MAX 128

typedef struct jobs_record {
    char uid[JOBS_UID_MAX + 1];
    char node_id[72];
    char user[72];
    int running;
    int stopping;
    int64_t start_us, end_us;
    int pass, fail, error, total;
    char *sha, *branch, *category, *soak, *remote_control, *tags_json, *test_cases_json;
    char *current;      /* the test case running now, NULL between runs */
    int64_t current_us; /* when it started */
    int64_t current_seq;
    int shuffle;
    char agent_instance[40]; /* the agent that took the job; "" unknown */
    /* jobs run with "queue": true */
    int queued;       /* it waits for a node (status "queued") */
    char *candidates; /* the nodes it waits or waited for, space-separated; NULL: not queued */
    int priority;
    int64_t queued_us; /* when it was queued, 0: never */
    int64_t queue_deadline_us;
    char *not_started; /* why it ended before it started; NULL: it did not */
} jobs_record;

/* A Job message for the API and the memory it points into. */
typedef struct jobs_view {
    Stbfarm__Job job;
    Stbfarm__ResultCounts counts;
    char job_url[512], log_url[520], triage_url[560], start[40], end[40];
} jobs_view;

/* 1 when uid has the shape /<node_id>/<4 chars>/<n>. */
int jobs_uid_valid(const char *uid);

int jobs_get(sf_redis *r, const char *uid, jobs_record *out, sf_error *err);
void jobs_record_clear(jobs_record *rec);

/* The job running on node_id, else its latest job. SF_ENOTFOUND when it never ran one. */
int jobs_node_job(sf_redis *r, const char *node_id, jobs_record *out, sf_error *err);

/* Lua for a script that reads a node's job along with other things (the nodes service's node
 * status, in one round trip). It defines
 *   jobs_node_job(node_id) -> {uid, the job's hash as HGETALL gives it} for the job running on
 *                             the node, else its latest job; false when it never ran one. */
#define JOBS_LUA_NODE_JOB                                                                          \
    "local function jobs_node_job(node)\n"                                                         \
    "  local uid = redis.call('GET', 'sf:node:' .. node .. ':job') or\n"                           \
    "              redis.call('GET', 'sf:node:' .. node .. ':lastjob')\n"                          \
    "  if not uid then return false end\n"                                                         \
    "  local h = redis.call('HGETALL', 'sf:job:' .. uid)\n"                                        \
    "  if #h == 0 then return false end\n"                                                         \
    "  return {uid, h}\n"                                                                          \
    "end\n"
/* As jobs_node_job, from item, what jobs_node_job() returned in a script of the caller's. */
int jobs_node_job_of(const redisReply *item, const char *node_id, jobs_record *out, sf_error *err);

/* Fill v with the API view of rec for base_url. v points into rec: rec must outlive it. */
void jobs_view_of(jobs_view *v, const jobs_record *rec, const char *base_url);

/* ---- changes, for the jobs service ---- */

/* A job to start, its parameters checked. The store copies what it keeps. */
typedef struct jobs_new {
    const char *node_id;
    const char *user;
    const char *request_id; /* a repeat of this request answers with the job it started */
    const char *sha;
    const char *branch; /* "" when the revision named no branch */
    const char *category, *soak, *remote_control;
    int shuffle;
    char *const *test_cases;
    size_t n_test_cases;
    ProtobufCMessage *const *tags; /* entries of a map<string, string> (sf_tags.h) */
    size_t n_tags;
    /* jobs_store_queue only */
    const char *uid_prefix;  /* the uid's first part: the node, or the pool the job waits for */
    char *const *candidates; /* the nodes it may run on, in the order they are tried */
    size_t n_candidates;
    int priority;              /* higher first; then first come, first served */
    int64_t queue_deadline_us; /* it ends unstarted then */
} jobs_new;

/* Take the node for a new job, all or nothing, and record the job as running on it: refused
 * with SF_ECONFLICT when another user holds a reservation on the node or a job runs on it. uid
 * receives the new job's uid (JOBS_UID_MAX + 1 bytes), or the job that an earlier delivery of
 * the same request started. */
int jobs_store_start(sf_redis *r, const jobs_new *job, char *uid, sf_error *err);

/* Record a job that waits for one of job->candidates (status "queued"), in each of their queues:
 * sf:jobs:queue:<node>, a sorted set by priority then arrival. uid as jobs_store_start's. */
int jobs_store_queue(sf_redis *r, const jobs_new *job, char *uid, sf_error *err);

/* Start the first job in node_id's queue that may run there now: none while the node runs a job
 * or is in maintenance; only its holder's jobs while it is reserved. The job becomes the node's
 * running job and leaves every queue. uid receives it (JOBS_UID_MAX + 1 bytes); 0 and uid ""
 * when none started. Any number of replicas may call it at once: each job starts once. */
int jobs_store_dispatch(sf_redis *r, const char *node_id, char *uid, sf_error *err);

/* Put a job that jobs_store_dispatch started back in its queues, as it was, when its node's
 * agent did not take it (a job an agent took stays); it is not tried again for
 * JOBS_REQUEUE_DELAY_US, so an agent that refuses every job is not asked four times a second. */
#define JOBS_REQUEUE_DELAY_US (5LL * 1000 * 1000)
int jobs_store_requeue(sf_redis *r, const char *uid, const char *node_id, sf_error *err);

/* End a queued job before it started, saying why (a stop, its queue timeout). *ended is 0 when
 * it was not queued (any more). */
int jobs_store_unqueue(sf_redis *r, const char *uid, const char *reason, int *ended, sf_error *err);

/* Every queued job's uid; and the uids queued for one node, in the order they would start. Free
 * with jobs_uids_free. */
int jobs_store_queued(sf_redis *r, char ***uids, size_t *n, sf_error *err);
int jobs_store_node_queue(sf_redis *r, const char *node_id, char ***uids, size_t *n, sf_error *err);

/* The node's agent took the job: instance is the one its heartbeats name. */
int jobs_store_accepted(sf_redis *r, const char *uid, const char *instance, sf_error *err);

/* Forget a job its node never accepted: the node is free again and its latest job is what it was
 * before, so that a client retrying run_tests finds the node as it was. request_id is the one
 * that started it. */
int jobs_store_forget(sf_redis *r, const char *uid, const char *request_id, sf_error *err);

/* End a running job: status exited, the node free again (if it still holds this job). *ended is
 * 1 when this call ended it, 0 when it had ended already. Only one of any number of callers
 * racing ends it. */
int jobs_store_end(sf_redis *r, const char *uid, int *ended, sf_error *err);

/* Count a stored result (outcome pass, fail or error) in the job's result_counts, once however
 * often it is reported, and clear the job's current test case. SF_ENOTFOUND for an unknown job. */
int jobs_store_count(sf_redis *r, const char *uid, const char *result_id, const char *outcome,
                     sf_error *err);

/* A test case started as run seq of the job: it is the current one; a soak job's total grows to
 * the highest run started. SF_ENOTFOUND for an unknown job. */
int jobs_store_started(sf_redis *r, const char *uid, const char *test_case, int64_t seq,
                       sf_error *err);

/* Remember that a stop was asked (the agent's next report is answered "stop"). */
int jobs_store_stopping(sf_redis *r, const char *uid, sf_error *err);

/* Write text at offset of the job's log. */
int jobs_store_log_write(sf_redis *r, const char *uid, int64_t offset, const char *text,
                         sf_error *err);

/* The job's log from byte offset on: *text (NUL-terminated, free() it) and its length; ""
 * when nothing was written there. */
int jobs_store_log(sf_redis *r, const char *uid, int64_t offset, char **text, size_t *len,
                   sf_error *err);

/* The uids of every running job (the reaper's work list); free with jobs_uids_free. */
int jobs_store_running(sf_redis *r, char ***uids, size_t *n, sf_error *err);
/* The uids of the latest limit jobs of node_id (NULL: of the farm), newest first. */
int jobs_store_recent(sf_redis *r, const char *node_id, long limit, char ***uids, size_t *n,
                      sf_error *err);
void jobs_uids_free(char **uids, size_t n);

#endif
