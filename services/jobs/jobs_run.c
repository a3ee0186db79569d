/* POST /api/v2/run_tests: check every parameter, take the node atomically, hand the job to the
 * node's agent; or, with "queue": true, queue it for the node (or the first free of several:
 * node_ids, node_pool), to start when the node frees up (jobs_queue.c). */
#include "jobs.h"
#include "jobs_validate.h"
#include "nodes_store.h"
#include "runner.pb-c.h"
#include "sf_ini.h"
#include "sf_log.h"
#include "sf_remote.h"
#include "sf_tags.h"
#include "sf_time.h"

#include <cjson/cJSON.h>

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

int jobs_hand_over(jobs_state *s, sf_redis *r, const jobs_record *rec, sf_error *err)
{
    Stbfarm__RunJob job = STBFARM__RUN_JOB__INIT;
    cJSON *cases = cJSON_Parse(rec->test_cases_json ? rec->test_cases_json : "[]");
    cJSON *tags_obj = cJSON_Parse(rec->tags_json ? rec->tags_json : "{}");
    size_t n = cJSON_IsArray(cases) ? (size_t)cJSON_GetArraySize(cases) : 0;
    char **names = calloc(n ? n : 1, sizeof(*names));
    sf_tags tags = {0};
    sf_rpc_result res = {0};
    int rc = names ? 0 : sf_fail(err, SF_EINTERNAL, "out of memory");
    for (size_t i = 0; !rc && i < n; i++) {
        names[i] = cJSON_GetStringValue(cJSON_GetArrayItem(cases, (int)i));
        if (!names[i])
            rc = sf_fail(err, SF_EINTERNAL, "job %s: its test cases are not strings", rec->uid);
    }
    if (!rc)
        rc = sf_tags_from_json(&tags, &stbfarm__run_job__tags_entry__descriptor, tags_obj, err);
    if (rc)
        goto cleanup;
    job.job_uid = (char *)rec->uid;
    job.node_id = (char *)rec->node_id;
    job.user = (char *)rec->user;
    job.test_pack_sha = rec->sha;
    job.test_pack_branch = rec->branch && *rec->branch ? rec->branch : NULL;
    job.n_test_cases = n;
    job.test_cases = names;
    job.remote_control = rec->remote_control ? rec->remote_control : (char *)"";
    job.category = rec->category ? rec->category : (char *)"default";
    job.forever = rec->soak && !strcmp(rec->soak, "run forever");
    job.shuffle = rec->shuffle != 0;
    job.n_tags = tags.n;
    job.tags = (Stbfarm__RunJob__TagsEntry **)tags.entries;
    rc =
        nodes_call_id(s->agents, r, rec->node_id, "agent.run_job", &job.base,
                      &stbfarm__run_job_reply__descriptor, (int)s->cfg.agent_timeout_ms, &res, err);
    sf_error ignored = SF_ERROR_INIT;
    /* the reaper tells this agent from one that restarted by it */
    if (!rc && jobs_store_accepted(r, rec->uid, ((Stbfarm__RunJobReply *)res.msg)->agent_instance,
                                   &ignored))
        sf_warn("job %s: the agent that took it is not recorded: %s", rec->uid, ignored.msg);
cleanup:
    sf_rpc_result_free(&res);
    sf_tags_clear(&tags);
    free(names);
    cJSON_Delete(cases);
    cJSON_Delete(tags_obj);
    return rc;
}

/* Hand the job that uid names to its node's agent. */
static int hand_over_uid(sf_call *call, const char *uid, sf_error *err)
{
    sf_redis *r = sf_worker_of(call)->redis;
    jobs_record rec;
    int rc = jobs_get(r, uid, &rec, err);
    if (!rc)
        rc = jobs_hand_over(jobs_state_of(call), r, &rec, err);
    jobs_record_clear(&rec);
    return rc;
}

/* The nodes a job may run on: node_id (the spec's), node_ids, or the nodes whose config at the
 * default branch names node_pool in [node] pool (a list, comma or space separated). Each is
 * registered; *prefix is what the job's uid starts with (the node, the pool, or "pool"). Free
 * the list with jobs_uids_free. */
static int candidates_of(jobs_thread *t, sf_redis *r, const Stbfarm__RunTestsRequest *q,
                         char ***out, size_t *n_out, const char **prefix, sf_error *err)
{
    int ways = (q->node_id != NULL) + (q->n_node_ids > 0) + (q->node_pool != NULL);
    *out = NULL;
    *n_out = 0;
    if (ways == 0)
        return sf_fail(err, SF_EINVAL, "missing node_id (or node_ids, or node_pool)");
    if (ways > 1)
        return sf_fail(err, SF_EINVAL, "give one of node_id, node_ids and node_pool");
    char **ids = NULL;
    size_t n = 0;
    int rc = 0;
    if (q->node_id || q->n_node_ids) {
        size_t want = q->node_id ? 1 : q->n_node_ids;
        if (want > JOBS_CANDIDATES_MAX)
            return sf_fail(err, SF_EINVAL, "node_ids: at most %d nodes", JOBS_CANDIDATES_MAX);
        if (!(ids = calloc(want, sizeof(*ids))))
            return sf_fail(err, SF_EINTERNAL, "out of memory");
        for (size_t i = 0; !rc && i < want; i++) {
            const char *id = q->node_id ? q->node_id : q->node_ids[i];
            nodes_record node;
            int dup = 0;
            for (size_t k = 0; k < n; k++)
                dup |= !strcmp(ids[k], id);
            if (!(rc = nodes_get(r, id, &node, err)) && !dup && !(ids[n++] = strdup(id)))
                rc = sf_fail(err, SF_EINTERNAL, "out of memory");
            nodes_record_clear(&node);
        }
        *prefix = q->node_id ? q->node_id : "pool";
    } else {
        sf_revision head;
        char **all = NULL;
        size_t n_all = 0;
        if (!nodes_valid_id(q->node_pool))
            return sf_fail(err, SF_EINVAL,
                           "node_pool '%.80s' is not a pool name: 1 to 64 of A-Z a-z 0-9 _ . -",
                           q->node_pool);
        if ((rc = sf_testpack_resolve(t->tp, "HEAD", &head, err)) ||
            (rc = nodes_list_ids(r, &all, &n_all, err)))
            return rc;
        if (!(ids = calloc(n_all ? n_all : 1, sizeof(*ids))))
            rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        for (size_t i = 0; !rc && i < n_all; i++) {
            cJSON *ini;
            if (sf_testpack_node_config(t->tp, head.sha, all[i], &ini, NULL))
                continue;
            const char *pools = sf_ini_get(ini, "node", "pool");
            size_t len = strlen(q->node_pool);
            for (const char *p = pools; p && *p;) {
                p += strspn(p, ", \t");
                size_t k = strcspn(p, ", \t");
                if (k == len && !strncmp(p, q->node_pool, len)) {
                    ids[n++] = all[i];
                    all[i] = NULL;
                    break;
                }
                p += k;
            }
            cJSON_Delete(ini);
        }
        nodes_ids_free(all, n_all);
        if (!rc && !n)
            rc = sf_fail(err, SF_ENOTFOUND, "no node's config names the pool '%s'", q->node_pool);
        *prefix = q->node_pool;
    }
    if (rc) {
        jobs_uids_free(ids, n);
        return rc;
    }
    *out = ids;
    *n_out = n;
    return 0;
}

/* The queue's parameters: only with "queue": true. */
static int check_queue(const Stbfarm__RunTestsRequest *q, int64_t *deadline_us, sf_error *err)
{
    int queue = q->has_queue && q->queue;
    if (!queue && (q->has_queue_timeout_secs || q->has_priority))
        return sf_fail(err, SF_EINVAL, "queue_timeout_secs and priority need \"queue\": true");
    if (q->has_queue_timeout_secs &&
        (q->queue_timeout_secs < 1 || q->queue_timeout_secs > JOBS_QUEUE_TIMEOUT_MAX_SECS))
        return sf_fail(err, SF_EINVAL, "queue_timeout_secs must be 1 to %d, not %lld",
                       JOBS_QUEUE_TIMEOUT_MAX_SECS, (long long)q->queue_timeout_secs);
    if (q->has_priority && (q->priority < -1000 || q->priority > 1000))
        return sf_fail(err, SF_EINVAL, "priority must be -1000 to 1000, not %d", (int)q->priority);
    int64_t secs = q->has_queue_timeout_secs ? q->queue_timeout_secs : JOBS_QUEUE_TIMEOUT_SECS;
    *deadline_us = sf_now_us() + secs * 1000000;
    return 0;
}

int jobs_run(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__RunTestsRequest *q = (const Stbfarm__RunTestsRequest *)req;
    jobs_thread *t = jobs_thread_of(call);
    sf_redis *r = sf_worker_of(call)->redis;
    nodes_record node = {0};
    sf_revision rev;
    sf_remote remote = {0};
    jobs_record rec = {0};
    char **cands = NULL;
    size_t n_cands = 0;
    const char *prefix = NULL;
    const char *category = q->category ? q->category : "default";
    const char *soak = q->soak ? q->soak : "run once";
    int queue = q->has_queue && q->queue;
    int64_t deadline_us = 0;
    int rc;
    if (q->node_id && !q->n_node_ids && !q->node_pool) {
        /* the spec's request: its checks in the order they always were */
        if ((rc = nodes_get(r, q->node_id, &node, err)))
            return rc;
        if ((rc = check_licence(&node, err)))
            goto cleanup;
    }
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
    if ((rc = check_queue(q, &deadline_us, err)) ||
        (rc = candidates_of(t, r, q, &cands, &n_cands, &prefix, err)))
        goto cleanup;
    if (!queue && q->node_id && !node.online) {
        rc = sf_fail(err, SF_EUNAVAIL, "node %s is offline", q->node_id);
        goto cleanup;
    }

    jobs_new job = {0};
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
    char uid[JOBS_UID_MAX + 1] = "";
    if (queue) {
        job.node_id = n_cands == 1 ? cands[0] : NULL;
        job.uid_prefix = prefix;
        job.candidates = cands;
        job.n_candidates = n_cands;
        job.priority = q->has_priority ? q->priority : 0;
        job.queue_deadline_us = deadline_us;
        if ((rc = jobs_store_queue(r, &job, uid, err)))
            goto cleanup;
        for (size_t i = 0; i < n_cands; i++) /* it may start at once */
            jobs_queue_dispatch(jobs_state_of(call), r, cands[i]);
    } else {
        /* the first free node of the candidates; a 409 names why the first was not free */
        sf_error first = SF_ERROR_INIT;
        int first_rc = 0, online = 0;
        for (size_t i = 0; i < n_cands && !uid[0]; i++) {
            nodes_record cand;
            if (nodes_get(r, cands[i], &cand, NULL) || !cand.online || check_licence(&cand, NULL)) {
                nodes_record_clear(&cand);
                continue;
            }
            nodes_record_clear(&cand);
            online = 1;
            job.node_id = cands[i];
            sf_error e = SF_ERROR_INIT;
            int src = jobs_store_start(r, &job, uid, &e);
            if (src && !first_rc) {
                first_rc = src;
                first = e;
            }
            if (src && src != SF_ECONFLICT) {
                rc = sf_fail(err, src, "%s", e.msg);
                goto cleanup;
            }
        }
        if (!uid[0]) {
            if (!online)
                rc = sf_fail(err, SF_EUNAVAIL, "no node of %s is online", prefix);
            else if (n_cands == 1)
                rc = sf_fail(err, first_rc, "%s", first.msg);
            else
                rc = sf_fail(err, SF_ECONFLICT, "no node of %s is free: %s", prefix, first.msg);
            goto cleanup;
        }
        if ((rc = hand_over_uid(call, uid, err))) {
            sf_error ignored;
            jobs_store_forget(r, uid, call->request_id, &ignored);
            rc = sf_wrap(err, SF_EUNAVAIL, "node %s did not accept the job: ", job.node_id);
            goto cleanup;
        }
        nodes_touch(r, job.node_id, call->user, NULL);
    }
    jobs_publish(r, uid);
    if (!(rc = jobs_get(r, uid, &rec, err)))
        rc = jobs_reply_job(reply, &rec, call->base_url, err);
cleanup:
    jobs_record_clear(&rec);
    nodes_record_clear(&node);
    jobs_uids_free(cands, n_cands);
    sf_remote_close(&remote);
    return rc;
}
