/* jobs_store.h - test jobs in Redis. The jobs service writes them; the nodes service reads them
 * for the `job` of a node's status. Keys:
 *   sf:jobs:seq            INCR counter: the <n> of every job uid
 *   sf:job:<uid>           HASH: node_id, user, status (running|exited), start_us, end_us,
 *                          sha, branch, category, soak, shuffle, remote_control, tags (JSON),
 *                          test_cases (JSON), pass, fail, error, total, current (test case
 *                          running now), current_us and current_seq (when it started, its run
 *                          number), stopping (1 once a stop was asked)
 *   sf:job:<uid>:counted   SET of result ids already counted (a resent report counts once)
 *   sf:job:<uid>:log       STRING: the job's log, written at offsets the node agent chooses
 *   sf:jobs:running        SET of the uids of running jobs (the reaper's work list)
 *   sf:node:<id>:job       the uid of the job running on the node (contract: "busy")
 *   sf:node:<id>:lastjob   the uid of the node's latest job
 *   sf:jobs:req:<id>       the uid a run_tests request id created (a resent request is answered
 *                          with the same job; expires after 10 minutes) */
#ifndef JOBS_STORE_H
#define JOBS_STORE_H

#include "api.pb-c.h"
#include "sf_err.h"
#include "sf_redis.h"

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

#endif
