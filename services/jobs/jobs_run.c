/* POST /api/v2/run_tests: check every parameter, take the node atomically, hand the job to the
 * node's agent. */
#include "jobs.h"
#include "jobs_validate.h"
#include "nodes_store.h"
#include "resv_store.h"
#include "runner.pb-c.h"
#include "sf_crypto.h"
#include "sf_events.h"
#include "sf_remote.h"
#include "sf_time.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Take the node for a new job, all or nothing: refused when another user holds a reservation on
 * it (res_refusal, resv_store.h; KEYS[2] is the key it reads) or a job runs on it. A request id
 * seen before answers with the job it created, so an nng resend never starts a second job. The
 * job joins the lists of recent jobs of its node and of the farm (GET /api/v2/jobs). */
static const char *const START_SCRIPT = RES_LUA_MAY_USE
    "local node_job, node_resv, job, lastjob, running, req = KEYS[1], KEYS[2], KEYS[3], KEYS[4],"
    " KEYS[5], KEYS[6]\n"
    "local uid, node, user = ARGV[1], ARGV[2], ARGV[3]\n"
    "local seen = redis.call('GET', req)\n"
    "if seen then return seen end\n"
    "local why = res_refusal(node, user)\n"
    "if why then return redis.error_reply('409 ' .. why) end\n"
    "local busy = redis.call('GET', node_job)\n"
    "if busy then\n"
    "  return redis.error_reply('409 A test job is already running on node ' .. node .. ': ' .. "
    "busy)\n"
    "end\n"
    "redis.call('HSET', job, unpack(ARGV, 4))\n"
    "local prev = redis.call('GET', lastjob)\n"
    "if prev then redis.call('HSET', job, 'prev_lastjob', prev) end\n"
    "redis.call('SET', node_job, uid)\n"
    "redis.call('SET', lastjob, uid)\n"
    "redis.call('SADD', running, uid)\n"
    "redis.call('SET', req, uid, 'EX', 600)\n"
    "redis.call('LPUSH', 'sf:node:' .. node .. ':jobs', uid)\n"
    "redis.call('LTRIM', 'sf:node:' .. node .. ':jobs', 0, 99)\n"
    "redis.call('LPUSH', 'sf:jobs:recent', uid)\n"
    "redis.call('LTRIM', 'sf:jobs:recent', 0, 999)\n"
    "return uid\n";

/* Forget a job the node never accepted, so that a client retrying run_tests finds the node free. */
static const char *const UNDO_SCRIPT =
    "local node = redis.call('HGET', KEYS[2], 'node_id')\n"
    "if node then redis.call('LREM', 'sf:node:' .. node .. ':jobs', 1, ARGV[1]) end\n"
    "redis.call('LREM', 'sf:jobs:recent', 1, ARGV[1])\n"
    "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end\n"
    "if redis.call('GET', KEYS[5]) == ARGV[1] then\n"
    "  local prev = redis.call('HGET', KEYS[2], 'prev_lastjob')\n"
    "  if prev then redis.call('SET', KEYS[5], prev) else redis.call('DEL', KEYS[5]) end\n"
    "end\n"
    "redis.call('DEL', KEYS[2], KEYS[4])\n"
    "redis.call('SREM', KEYS[3], ARGV[1])\n"
    "return 1\n";

static int check_licence(const nodes_record *node, sf_error *err)
{
    if (!node->licence_expiry)
        return 0;
    char today[40];
    sf_time_format(sf_now_us(), today, sizeof(today), SF_TIME_ZULU);
    /* both are YYYY-MM-DD first: text order is date order */
    if (strncmp(node->licence_expiry, today, 10) < 0)
        return sf_fail(err, SF_EFORBIDDEN, "the licence of node %s expired on %s", node->node_id,
                       node->licence_expiry);
    return 0;
}

static int check_test_cases(jobs_thread *t, const Stbfarm__RunTestsRequest *q, const char *sha,
                            sf_error *err)
{
    if (q->n_test_cases == 0)
        return sf_fail(err, SF_EINVAL, "test_cases must be a non-empty array of strings");
    int rc = jobs_catalog_load(t, sha, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < q->n_test_cases; i++) {
        const char *name = q->test_cases[i];
        if (!jobs_test_case_shape_ok(name))
            return sf_fail(err, SF_EINVAL,
                           "test_cases[%zu] '%.200s' is not of the form path/to/file.py::function",
                           i, name);
        if (!jobs_catalog_has(&t->catalog, name))
            return sf_fail(err, SF_EINVAL,
                           "test_cases[%zu] '%.200s' is not a test case at revision %.12s", i, name,
                           sha);
    }
    return 0;
}

/* The JSON of the strings of the request that the job record keeps. */
static char *json_of_cases(const Stbfarm__RunTestsRequest *q)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < q->n_test_cases; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(q->test_cases[i]));
    char *s = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return s;
}

static char *json_of_tags(const Stbfarm__RunTestsRequest *q)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < q->n_tags; i++)
        cJSON_AddStringToObject(o, q->tags[i]->key, q->tags[i]->value);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static int hand_to_agent(sf_call *call, const Stbfarm__RunTestsRequest *q, const char *uid,
                         const sf_revision *rev, const char *remote, const char *category,
                         int forever, sf_error *err)
{
    Stbfarm__RunJob job = STBFARM__RUN_JOB__INIT;
    job.job_uid = (char *)uid;
    job.node_id = q->node_id;
    job.user = (char *)call->user;
    job.test_pack_sha = (char *)rev->sha;
    job.test_pack_branch = rev->branch[0] ? (char *)rev->branch : NULL;
    job.n_test_cases = q->n_test_cases;
    job.test_cases = q->test_cases;
    job.remote_control = (char *)remote;
    job.category = (char *)category;
    job.forever = forever;
    job.shuffle = q->has_shuffle && q->shuffle;
    Stbfarm__RunJob__TagsEntry *entries = calloc(q->n_tags ? q->n_tags : 1, sizeof(*entries));
    Stbfarm__RunJob__TagsEntry **tags = calloc(q->n_tags ? q->n_tags : 1, sizeof(*tags));
    if (!entries || !tags) {
        free(entries);
        free(tags);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    for (size_t i = 0; i < q->n_tags; i++) {
        stbfarm__run_job__tags_entry__init(&entries[i]);
        entries[i].key = q->tags[i]->key;
        entries[i].value = q->tags[i]->value;
        tags[i] = &entries[i];
    }
    job.n_tags = q->n_tags;
    job.tags = tags;
    sf_rpc_result res;
    int rc = node_call_id(jobs_state_of(call)->agents, sf_worker_of(call)->redis, q->node_id,
                          "agent.run_job", &job.base, NULL,
                          (int)jobs_state_of(call)->cfg.agent_timeout_ms, &res, err);
    sf_rpc_result_free(&res);
    free(entries);
    free(tags);
    return rc;
}

int jobs_run(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__RunTestsRequest *q = (const Stbfarm__RunTestsRequest *)req;
    jobs_thread *t = jobs_thread_of(call);
    sf_redis *r = sf_worker_of(call)->redis;
    nodes_record node;
    sf_revision rev;
    sf_remote remote = {0};
    char *cases = NULL, *tags = NULL;
    jobs_record rec = {0};
    const char *category = q->category ? q->category : "default";
    const char *soak = q->soak ? q->soak : "run once";
    int rc = nodes_get(r, q->node_id, &node, err);
    if (rc)
        return rc;
    if ((rc = check_licence(&node, err)))
        goto cleanup;
    if ((rc = jobs_open_testpack(t, &jobs_state_of(call)->cfg, err)) ||
        (rc = sf_testpack_resolve(t->tp, q->test_pack_revision, &rev, err)))
        goto cleanup;
    if ((rc = check_test_cases(t, q, rev.sha, err)) ||
        (rc = sf_remote_open(t->tp, rev.sha, q->remote_control, &remote, err)) ||
        (rc = jobs_category_check(category, err)) || (rc = jobs_soak_check(soak, err)))
        goto cleanup;
    for (size_t i = 0; i < q->n_tags; i++) {
        if (!*q->tags[i]->key || !jobs_utf8_valid(q->tags[i]->key) ||
            !jobs_utf8_valid(q->tags[i]->value)) {
            rc = sf_fail(err, SF_EINVAL, "tags: names must be non-empty and valid UTF-8");
            goto cleanup;
        }
    }
    if (!node.online) {
        rc = sf_fail(err, SF_EUNAVAIL, "node %s is offline", q->node_id);
        goto cleanup;
    }

    redisReply *seq;
    if ((rc = sf_redis_cmd(r, &seq, err, "INCR sf:jobs:seq")))
        goto cleanup;
    char nonce[5], uid[JOBS_UID_MAX + 1];
    sf_random_hex(2, nonce);
    snprintf(uid, sizeof(uid), "/%s/%s/%lld", q->node_id, nonce, seq->integer);
    freeReplyObject(seq);

    int forever = !strcmp(soak, "run forever");
    char start[24], total[24], shuffle[4];
    snprintf(start, sizeof(start), "%lld", (long long)sf_now_us());
    snprintf(total, sizeof(total), "%zu", forever ? (size_t)0 : q->n_test_cases);
    snprintf(shuffle, sizeof(shuffle), "%d", q->has_shuffle && q->shuffle);
    cases = json_of_cases(q);
    tags = json_of_tags(q);
    if (!cases || !tags) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    char k_node_job[96], k_resv[112], k_job[160], k_last[104], k_req[96];
    snprintf(k_node_job, sizeof(k_node_job), "sf:node:%s:job", q->node_id);
    snprintf(k_resv, sizeof(k_resv), "sf:node:%s:reservation", q->node_id);
    snprintf(k_job, sizeof(k_job), "sf:job:%s", uid);
    snprintf(k_last, sizeof(k_last), "sf:node:%s:lastjob", q->node_id);
    snprintf(k_req, sizeof(k_req), "sf:jobs:req:%s", call->request_id);
    const char *args[] = {k_node_job,
                          k_resv,
                          k_job,
                          k_last,
                          "sf:jobs:running",
                          k_req,
                          uid,
                          q->node_id,
                          call->user,
                          "node_id",
                          q->node_id,
                          "user",
                          call->user,
                          "status",
                          "running",
                          "start_us",
                          start,
                          "sha",
                          rev.sha,
                          "branch",
                          rev.branch,
                          "category",
                          category,
                          "soak",
                          soak,
                          "shuffle",
                          shuffle,
                          "remote_control",
                          remote.name,
                          "tags",
                          tags,
                          "test_cases",
                          cases,
                          "pass",
                          "0",
                          "fail",
                          "0",
                          "error",
                          "0",
                          "total",
                          total};
    redisReply *started;
    rc = sf_redis_eval(r, START_SCRIPT, &started, err, 6, sizeof(args) / sizeof(args[0]), args,
                       NULL);
    if (rc)
        goto cleanup;
    snprintf(uid, sizeof(uid), "%s", started->str); /* a resent request's own job */
    freeReplyObject(started);

    if ((rc = hand_to_agent(call, q, uid, &rev, remote.name, category, forever, err))) {
        sf_error ignored;
        const char *undo[] = {k_node_job, k_job, "sf:jobs:running", k_req, k_last, uid};
        redisReply *u;
        if (sf_redis_eval(r, UNDO_SCRIPT, &u, &ignored, 5, 6, undo, NULL) == 0)
            freeReplyObject(u);
        rc = sf_wrap(err, SF_EUNAVAIL, "node %s did not accept the job: ", q->node_id);
        goto cleanup;
    }
    nodes_touch(r, q->node_id, call->user, NULL);
    jobs_publish(r, uid);
    if (!(rc = jobs_get(r, uid, &rec, err)))
        rc = jobs_reply_job(reply, &rec, call->base_url, err);
cleanup:
    jobs_record_clear(&rec);
    free(cases);
    free(tags);
    nodes_record_clear(&node);
    sf_remote_close(&remote);
    return rc;
}
