/* POST /api/v2/run_tests: check every parameter, take the node atomically, hand the job to the
 * node's agent. */
#include "jobs.h"
#include "jobs_validate.h"
#include "nodes_store.h"
#include "runner.pb-c.h"
#include "sf_log.h"
#include "sf_remote.h"
#include "sf_tags.h"
#include "sf_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Hand the job to the node's agent and record which instance took it, before run_tests answers
 * 200 (the reaper tells that instance from one that restarted by it). *taken is 1 when the agent
 * has the job, even if it could not be recorded (then rc is not 0). */
static int hand_to_agent(sf_call *call, const Stbfarm__RunTestsRequest *q, const char *uid,
                         const sf_revision *rev, const char *remote, const char *category,
                         int forever, int *taken, sf_error *err)
{
    *taken = 0;
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
    sf_tags tags;
    int rc = sf_tags_copy(&tags, &stbfarm__run_job__tags_entry__descriptor,
                          (ProtobufCMessage *const *)q->tags, q->n_tags, err);
    if (rc)
        return rc;
    job.n_tags = tags.n;
    job.tags = (Stbfarm__RunJob__TagsEntry **)tags.entries;
    sf_rpc_result res;
    sf_redis *r = sf_worker_of(call)->redis;
    rc = nodes_call_id(jobs_state_of(call)->agents, r, q->node_id, "agent.run_job", &job.base,
                       &stbfarm__run_job_reply__descriptor,
                       (int)jobs_state_of(call)->cfg.agent_timeout_ms, &res, err);
    int recorded = 0;
    if (!rc) {
        *taken = 1;
        rc = jobs_store_accepted(r, uid, ((Stbfarm__RunJobReply *)res.msg)->agent_instance,
                                 &recorded, err);
        if (!rc && !recorded)
            rc = sf_fail(err, SF_EUNAVAIL, "job %s was given up meanwhile", uid);
    }
    sf_rpc_result_free(&res);
    sf_tags_clear(&tags);
    return rc;
}

/* The agent took a job that the farm gave up (its hand-over could not be recorded): it stops it
 * at once, so that nothing runs that no client was told of. Best effort: its reports are refused
 * anyway (unknown job). */
static void give_back(sf_call *call, const char *node_id, const char *uid)
{
    Stbfarm__StopJob stop = STBFARM__STOP_JOB__INIT;
    stop.job_uid = (char *)uid;
    stop.timeout_ms = 0;
    sf_rpc_result res;
    sf_error err = SF_ERROR_INIT;
    if (nodes_call_id(jobs_state_of(call)->agents, sf_worker_of(call)->redis, node_id,
                      "agent.stop_job", &stop.base, &stbfarm__stop_job_reply__descriptor,
                      (int)jobs_state_of(call)->cfg.agent_timeout_ms, &res, &err))
        sf_warn("job %s: the agent was not told to stop it: %s", uid, err.msg);
    sf_rpc_result_free(&res);
}

int jobs_run(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__RunTestsRequest *q = (const Stbfarm__RunTestsRequest *)req;
    jobs_thread *t = jobs_thread_of(call);
    sf_redis *r = sf_worker_of(call)->redis;
    nodes_record node;
    sf_revision rev;
    sf_remote remote = {0};
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

    jobs_new job = {0};
    job.node_id = q->node_id;
    job.user = call->user;
    job.request_id = call->request_id;
    job.sha = rev.sha;
    job.branch = rev.branch;
    job.category = category;
    job.soak = soak;
    job.remote_control = remote.name;
    job.shuffle = q->has_shuffle && q->shuffle;
    job.test_cases = q->test_cases;
    job.n_test_cases = q->n_test_cases;
    job.tags = (ProtobufCMessage *const *)q->tags;
    job.n_tags = q->n_tags;
    job.deliver_until_us = sf_now_us() + (int64_t)sf_rpc_remaining_ms(call) * 1000;
    char uid[JOBS_UID_MAX + 1];
    if ((rc = jobs_store_start(r, &job, uid, err)))
        goto cleanup;
    /* a delivery of a request whose job has ended answers that job if it was handed over (it is
     * never handed over again), and fails as its hand-over did if it was not */
    if ((rc = jobs_get(r, uid, &rec, err)))
        goto cleanup;
    if (!rec.running && rec.agent_instance[0])
        goto reply;
    int taken = 0;
    if (!rec.running)
        rc = sf_fail(err, SF_EUNAVAIL, "it ended before its agent took it");
    else
        rc = hand_to_agent(call, q, uid, &rev, remote.name, category, !strcmp(soak, "run forever"),
                           &taken, err);
    if (rc) {
        sf_error ignored = SF_ERROR_INIT;
        int forgotten = 1;
        if (jobs_store_forget(r, uid, call->request_id, &forgotten, &ignored))
            sf_warn("job %s: not forgotten: %s", uid, ignored.msg);
        else if (!forgotten) /* another delivery of the request handed it over: it runs */
            goto handed;
        if (taken)
            give_back(call, q->node_id, uid);
        rc = sf_wrap(err, SF_EUNAVAIL, "node %s did not accept the job: ", q->node_id);
        goto cleanup;
    }
handed:
    nodes_touch(r, q->node_id, call->user, NULL);
    jobs_publish(r, uid);
    jobs_record_clear(&rec);
    if ((rc = jobs_get(r, uid, &rec, err)))
        goto cleanup;
reply:
    rc = jobs_reply_job(reply, &rec, call->base_url, err);
cleanup:
    jobs_record_clear(&rec);
    nodes_record_clear(&node);
    sf_remote_close(&remote);
    return rc;
}
