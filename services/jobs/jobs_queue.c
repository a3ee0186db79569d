/* Queued jobs (run_tests with "queue": true): starting them the moment their node frees up, ending
 * those whose queue timeout passed, stopping one before it started, and GET
 * /api/v2/nodes/<node_id>/queue. The queue itself is in Redis (jobs_store.h); any replica may
 * start any queued job, and jobs_store_dispatch makes each start once. */
#include "jobs.h"

#include "nodes_store.h"
#include "sf_log.h"
#include "sf_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jobs_queue_dispatch(jobs_state *s, sf_redis *r, const char *node_id)
{
    nodes_record node;
    sf_error err = SF_ERROR_INIT;
    char uid[JOBS_UID_MAX + 1];
    int started = 0;
    int rc = nodes_get(r, node_id, &node, &err);
    if (rc || !node.online)
        goto cleanup;
    if ((rc = jobs_store_dispatch(r, node_id, uid, &err)) || !uid[0])
        goto cleanup;
    jobs_record rec;
    int taken; /* a job its agent took but that is not recorded waits again: the agent answers
                  its next hand-over as it answered this one */
    if (!(rc = jobs_get(r, uid, &rec, &err)))
        rc = jobs_hand_over(s, r, &rec, &taken, &err);
    if (!rc)
        nodes_touch(r, node_id, rec.user, NULL);
    jobs_record_clear(&rec);
    if (rc) {
        sf_warn("queued job %s: node %s did not take it (%s): it waits again", uid, node_id,
                err.msg);
        sf_error ignored = SF_ERROR_INIT;
        if (jobs_store_requeue(r, uid, node_id, &ignored))
            sf_warn("queued job %s: %s", uid, ignored.msg);
        rc = 0;
    } else {
        sf_info("queued job %s started on %s", uid, node_id);
        started = 1;
    }
    jobs_publish(r, uid);
cleanup:
    if (rc)
        sf_warn("the queue of %s: %s", node_id, err.msg);
    nodes_record_clear(&node);
    return started;
}

void jobs_queue_wake(jobs_state *s)
{
    sf_ticker_kick(s->queue);
}

int jobs_queue_stop(sf_redis *r, const char *uid, const char *user, sf_error *err)
{
    char reason[160];
    snprintf(reason, sizeof(reason), "Stopped by %.64s before it started", user);
    int ended;
    int rc = jobs_store_unqueue(r, uid, reason, &ended, err);
    if (!rc && ended)
        jobs_publish(r, uid);
    return rc;
}

/* One round: end the queued jobs whose timeout passed, then try to start a job on every node
 * that some queued job waits for. */
static void queue_once(jobs_state *s, sf_redis *r)
{
    char **uids;
    size_t n;
    sf_error err = SF_ERROR_INIT;
    if (jobs_store_queued(r, &uids, &n, &err)) {
        sf_warn("the queue: %s", err.msg);
        return;
    }
    char **nodes = calloc(n ? n * JOBS_CANDIDATES_MAX : 1, sizeof(*nodes));
    size_t n_nodes = 0;
    int64_t now = sf_now_us();
    for (size_t i = 0; nodes && i < n; i++) {
        jobs_record rec;
        if (jobs_get(r, uids[i], &rec, NULL) || !rec.queued) {
            jobs_record_clear(&rec);
            continue;
        }
        if (rec.queue_deadline_us && now >= rec.queue_deadline_us) {
            char reason[200];
            int ended;
            snprintf(reason, sizeof(reason),
                     "Not started: no node of the queue (%.100s) was free within its "
                     "queue_timeout_secs",
                     rec.candidates ? rec.candidates : "");
            if (!jobs_store_unqueue(r, rec.uid, reason, &ended, &err) && ended) {
                sf_info("queued job %s: timed out", rec.uid);
                jobs_publish(r, rec.uid);
            }
        } else {
            for (const char *p = rec.candidates; p && *p;) {
                size_t k = strcspn(p, " ");
                int seen = 0;
                for (size_t j = 0; j < n_nodes && !seen; j++)
                    seen = strlen(nodes[j]) == k && !strncmp(nodes[j], p, k);
                if (!seen && k)
                    nodes[n_nodes++] = strndup(p, k);
                p += k + (p[k] == ' ');
            }
        }
        jobs_record_clear(&rec);
    }
    for (size_t j = 0; j < n_nodes; j++) {
        if (nodes[j])
            jobs_queue_dispatch(s, r, nodes[j]);
        free(nodes[j]);
    }
    free(nodes);
    jobs_uids_free(uids, n);
}

static long queue_tick(void *arg)
{
    jobs_state *s = arg;
    queue_once(s, s->queue_redis);
    return s->cfg.queue_poll_ms;
}

int jobs_queue_start(jobs_state *s, sf_error *err)
{
    int rc = sf_redis_open(&s->queue_redis, s->common->redis, err);
    if (!rc && (rc = sf_ticker_start(&s->queue, "queue", queue_tick, s, err))) {
        sf_redis_free(s->queue_redis);
        s->queue_redis = NULL;
    }
    return rc;
}

void jobs_queue_stop_thread(jobs_state *s)
{
    sf_ticker_stop(s->queue);
    s->queue = NULL;
    sf_redis_free(s->queue_redis);
    s->queue_redis = NULL;
}

int jobs_node_queue(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__NodeJobRequest *q = (const Stbfarm__NodeJobRequest *)req;
    sf_redis *r = sf_worker_of(call)->redis;
    nodes_record node;
    int rc = nodes_get(r, q->node_id, &node, err);
    nodes_record_clear(&node);
    if (rc)
        return rc;
    char **uids;
    size_t n;
    if ((rc = jobs_store_node_queue(r, q->node_id, &uids, &n, err)))
        return rc;
    jobs_record *recs = calloc(n ? n : 1, sizeof(*recs));
    size_t k = 0;
    if (!recs)
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    for (size_t i = 0; !rc && i < n; i++) {
        if (jobs_get(r, uids[i], &recs[k], NULL) || !recs[k].queued)
            jobs_record_clear(&recs[k]); /* started or ended since */
        else
            k++;
    }
    if (!rc)
        rc = jobs_reply_details(reply, recs, k, call->base_url, err);
    for (size_t i = 0; recs && i < k; i++)
        jobs_record_clear(&recs[i]);
    free(recs);
    jobs_uids_free(uids, n);
    return rc;
}
