/* GET .../await_completion: a real long poll. The handler holds the HTTP request until the job
 * has exited (200) or long_poll_secs have passed (202), waking on the job's events and
 * re-reading the job from the jobs service each time; a periodic re-read covers lost events.
 * Each one occupies a civetweb worker, so a replica serves at most max_long_polls at once and
 * answers 503 beyond that. */
#include "gw.h"

#include "api.pb-c.h"
#include "jobs.pb-c.h"
#include "sf_time.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { RECHECK_MS = 5000 };

static int await_job(gw_request *rq)
{
    sf_error err = SF_ERROR_INIT;
    ProtobufCMessage *req = NULL;
    int rc = gw_build_request(rq, &req, &err);
    if (rc)
        return gw_reply_sf_error(rq, rc, &err);
    int64_t deadline = sf_mono_ms() + rq->gw->cfg.long_poll_secs * 1000;
    sf_events_waiter w;
    int watching = 0, status = 0;
    while (!status) {
        sf_rpc_result res;
        rc = gw_call(rq, SF_SVC_JOBS, rq->route->rpc, req, &stbfarm__job__descriptor, &res, &err);
        const Stbfarm__Job *job = (const Stbfarm__Job *)res.msg;
        if (rc == SF_ENOTFOUND && !strcmp(rq->route->rpc, "jobs.node_job") &&
            strstr(err.msg, "never run")) {
            /* a node that never ran a job has none in progress */
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNullToObject(o, "job_uid");
            status = gw_reply_json(rq, 200, o);
        } else if (rc) {
            status = gw_reply_sf_error(rq, rc, &err);
        } else {
            char topic[SF_EVENT_TOPIC_MAX];
            snprintf(topic, sizeof(topic), "job:%s", job->job_uid);
            if (!watching || strcmp(w.topic, topic)) {
                /* watch, then read again: an event between the read and the watch is not lost */
                if (watching)
                    sf_events_unwatch(rq->gw->events, &w);
                sf_events_watch(rq->gw->events, &w, topic);
                watching = 1;
            } else if (!strcmp(job->status, "exited")) {
                status = gw_reply_result(rq, &res);
            } else {
                int64_t left = deadline - sf_mono_ms();
                if (left <= 0) {
                    res.status = 202;
                    status = gw_reply_result(rq, &res);
                } else {
                    sf_events_wait(rq->gw->events, &w, left < RECHECK_MS ? (int)left : RECHECK_MS);
                }
            }
        }
        sf_rpc_result_free(&res);
    }
    if (watching)
        sf_events_unwatch(rq->gw->events, &w);
    protobuf_c_message_free_unpacked(req, NULL);
    return status;
}

int gw_long_poll(gw_request *rq, gw_handler fn)
{
    gw_state *gw = rq->gw;
    if (atomic_fetch_add(&gw->long_polls, 1) >= gw->cfg.max_long_polls) {
        atomic_fetch_sub(&gw->long_polls, 1);
        return gw_reply_error(rq, 503,
                              "this gateway is already holding %ld long polls; retry shortly",
                              gw->cfg.max_long_polls);
    }
    int status = fn(rq);
    atomic_fetch_sub(&gw->long_polls, 1);
    return status;
}

int gw_handle_await(gw_request *rq)
{
    return gw_long_poll(rq, await_job);
}

/* GET /api/v2/jobs/<uid>/log?offset=N&wait=true: the log from byte N on, held (like
 * await_completion) until there is some or the job has exited, so a page follows a running job's
 * log with one request per change. Without wait, the plain proxy. */
static int await_log(gw_request *rq)
{
    sf_error err = SF_ERROR_INIT;
    ProtobufCMessage *req = NULL;
    int rc = gw_build_request(rq, &req, &err);
    if (rc)
        return gw_reply_sf_error(rq, rc, &err);
    const char *uid = ((const Stbfarm__JobLogRequest *)req)->job_uid;
    char topic[SF_EVENT_TOPIC_MAX];
    snprintf(topic, sizeof(topic), "job:%s:log", uid);
    sf_events_waiter w;
    sf_events_watch(rq->gw->events, &w, topic);
    int64_t deadline = sf_mono_ms() + rq->gw->cfg.long_poll_secs * 1000;
    int status = 0;
    while (!status) {
        sf_rpc_result res;
        rc = gw_call(rq, SF_SVC_JOBS, "jobs.log", req, NULL, &res, &err);
        int64_t left = deadline - sf_mono_ms();
        int ended = 1;
        for (size_t i = 0; !rc && i < res.n_headers; i++) {
            if (!strcmp(res.headers[i]->name, "X-Job-Status"))
                ended = !strcmp(res.headers[i]->value, "exited");
        }
        if (rc)
            status = gw_reply_sf_error(rq, rc, &err);
        else if (res.body_len || ended || left <= 0)
            status = gw_reply_result(rq, &res);
        else /* events are hints: look again at least once a second */
            sf_events_wait(rq->gw->events, &w, left < 1000 ? (int)left : 1000);
        sf_rpc_result_free(&res);
    }
    sf_events_unwatch(rq->gw->events, &w);
    protobuf_c_message_free_unpacked(req, NULL);
    return status;
}

int gw_handle_log(gw_request *rq)
{
    char wait[8];
    const char *q = rq->ri->query_string;
    if (!q || mg_get_var(q, strlen(q), "wait", wait, sizeof(wait)) < 0 ||
        (strcasecmp(wait, "true") && strcmp(wait, "1")))
        return gw_proxy(rq);
    return gw_long_poll(rq, await_log);
}
