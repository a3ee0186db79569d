/* Reading, stopping and finishing jobs; the reports of node agents; the reaper. */
#include "jobs.h"
#include "nodes_store.h"
#include "resv_store.h"
#include "runner.pb-c.h"
#include "results.pb-c.h"
#include "sf_caller.h"
#include "sf_log.h"
#include "sf_run.h"
#include "sf_tags.h"
#include "sf_time.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A heartbeat this long after a job started reports the job if the agent still runs it. */
#define AGENT_GRACE_US 3000000

/* A stop leaves this much of its caller's deadline for its own reply, and gives the agent this
 * much less than its own call's timeout to answer in. */
#define STOP_REPLY_MARGIN_MS 1000
#define STOP_AGENT_MARGIN_MS 300

void jobs_publish(sf_redis *r, const char *uid)
{
    char topic[JOBS_UID_MAX + 8];
    snprintf(topic, sizeof(topic), "job:%s", uid);
    sf_events_publish(r, topic);
}

void jobs_publish_log(sf_redis *r, const char *uid)
{
    char topic[SF_EVENT_TOPIC_MAX];
    snprintf(topic, sizeof(topic), "job:%s:log", uid);
    sf_events_publish(r, topic);
}

int jobs_end(sf_redis *r, const char *uid, sf_error *err)
{
    int ended;
    int rc = jobs_store_end(r, uid, &ended, err);
    if (rc)
        return rc;
    jobs_publish(r, uid);
    jobs_publish_log(r, uid); /* a log's followers stop following */
    return ended;
}

int jobs_reply_job(sf_rpc_reply *reply, const jobs_record *rec, const char *base_url, sf_error *err)
{
    jobs_view v;
    jobs_view_of(&v, rec, base_url);
    return sf_rpc_reply_msg(reply, &v.job.base) ? sf_fail(err, SF_EINTERNAL, "out of memory") : 0;
}

int jobs_get_job(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__JobRequest *q = (const Stbfarm__JobRequest *)req;
    jobs_record rec;
    int rc = jobs_get(sf_worker_of(call)->redis, q->job_uid, &rec, err);
    if (!rc && q->has_details && q->details)
        rc = jobs_reply_detail(reply, &rec, call->base_url, err);
    else if (!rc)
        rc = jobs_reply_job(reply, &rec, call->base_url, err);
    jobs_record_clear(&rec);
    return rc;
}

/* The job running on a node, else its latest: SF_ENOTFOUND naming an unknown node, or a node
 * that never ran a job. */
static int registered_node_job(sf_redis *r, const char *node_id, jobs_record *rec, sf_error *err)
{
    nodes_record node;
    memset(rec, 0, sizeof(*rec));
    int rc = nodes_get(r, node_id, &node, err);
    nodes_record_clear(&node);
    return rc ? rc : jobs_node_job(r, node_id, rec, err);
}

int jobs_get_node_job(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                      sf_error *err)
{
    const Stbfarm__NodeJobRequest *q = (const Stbfarm__NodeJobRequest *)req;
    jobs_record rec;
    int rc = registered_node_job(sf_worker_of(call)->redis, q->node_id, &rec, err);
    if (!rc)
        rc = jobs_reply_job(reply, &rec, call->base_url, err);
    jobs_record_clear(&rec);
    return rc;
}

static int record_lost_run(jobs_state *s, sf_redis *r, const jobs_record *rec, const char *why);

/* Before a stop ends a job whose node is gone, or whose agent answered the stop as another
 * instance than the one that took the job (it restarted since): the run the job was in is lost,
 * and recorded as the reaper records it, so that the counts a 200 shows are final (a reaper
 * recording it at the same moment records the same result, counted once). answered is the
 * instance that answered, NULL when none did. 0 once recorded or when nothing was lost. */
static int record_if_lost(sf_call *call, const char *uid, int offline, const char *answered)
{
    sf_redis *r = sf_worker_of(call)->redis;
    jobs_record rec;
    int rc = jobs_get(r, uid, &rec, NULL);
    char why[200] = "";
    if (!rc && rec.running && offline)
        snprintf(why, sizeof(why), "node %s went offline during the test", rec.node_id);
    else if (!rc && rec.running && rec.agent_instance[0] && answered && *answered &&
             strcmp(rec.agent_instance, answered))
        snprintf(why, sizeof(why), "the agent of node %s restarted during the test", rec.node_id);
    if (!rc && why[0])
        rc = record_lost_run(jobs_state_of(call), r, &rec, why);
    jobs_record_clear(&rec);
    return rc;
}

/* Ask the node to stop the job, and end it when the node has stopped or is gone. 200 once the
 * job has exited: every run and report of it delivered (stored and counted), or its node gone.
 * 202, with the job still running, while the node is still stopping or delivering when the stop
 * timeout or the caller's deadline comes: never a time-out of its own, so a client retries
 * until 200. 409 when another user holds a reservation on the node. */
static int stop_job(sf_call *call, jobs_record *rec, sf_rpc_reply *reply, sf_error *err)
{
    sf_redis *r = sf_worker_of(call)->redis;
    const jobs_config *cfg = &jobs_state_of(call)->cfg;
    int rc;
    if (rec->queued) { /* it leaves the queue; if it started meanwhile, it is stopped as such */
        jobs_record now;
        if ((rc = jobs_queue_stop(r, rec->uid, call->user, err)) ||
            (rc = jobs_get(r, rec->uid, &now, err)))
            return rc;
        rc = now.running ? stop_job(call, &now, reply, err)
                         : jobs_reply_job(reply, &now, call->base_url, err);
        jobs_record_clear(&now);
        return rc;
    }
    if (!rec->running)
        return jobs_reply_job(reply, rec, call->base_url, err);
    rc = resv_check_use(r, rec->node_id, call->user, err);
    if (rc)
        return rc;
    if ((rc = jobs_store_stopping(r, rec->uid, err)))
        return rc;
    nodes_touch(r, rec->node_id, call->user, NULL);

    /* Answer before the caller stops waiting (a 503 would say nothing of the job): the agent
     * waits what is left of the stop timeout and of the caller's deadline, less the margin the
     * call and this reply need. */
    int budget = sf_rpc_remaining_ms(call) - STOP_REPLY_MARGIN_MS;
    if (budget > cfg->stop_timeout_ms + STOP_AGENT_MARGIN_MS)
        budget = (int)cfg->stop_timeout_ms + STOP_AGENT_MARGIN_MS;
    int stopped = 0, arc = SF_EUNAVAIL;
    char answered[64] = "";
    sf_error agent_err = SF_ERROR_INIT;
    if (budget > STOP_AGENT_MARGIN_MS) {
        Stbfarm__StopJob stop = STBFARM__STOP_JOB__INIT;
        stop.job_uid = rec->uid;
        stop.timeout_ms = budget - STOP_AGENT_MARGIN_MS;
        sf_rpc_result res;
        arc = nodes_call_id(jobs_state_of(call)->agents, r, rec->node_id, "agent.stop_job",
                            &stop.base, &stbfarm__stop_job_reply__descriptor, budget, &res,
                            &agent_err);
        if (arc == 0) {
            const Stbfarm__StopJobReply *got = (const Stbfarm__StopJobReply *)res.msg;
            stopped = got->stopped;
            snprintf(answered, sizeof(answered), "%s",
                     got->agent_instance ? got->agent_instance : "");
        }
        sf_rpc_result_free(&res);
    } else {
        sf_fail(&agent_err, SF_EUNAVAIL, "no time left to ask the node");
    }
    int offline = 0;
    if (arc) {
        /* A node that is gone cannot be running the job any more. */
        nodes_record node;
        offline = nodes_get(r, rec->node_id, &node, NULL) == 0 && !node.online;
        nodes_record_clear(&node);
        stopped = offline;
        if (!offline)
            sf_warn("stopping %s: %s", rec->uid, agent_err.msg);
    }
    if (stopped && record_if_lost(call, rec->uid, offline, arc ? NULL : answered))
        stopped = 0; /* not recorded yet: 202, and the next stop tries again */
    if (stopped && (rc = jobs_end(r, rec->uid, err)) < 0)
        return rc;
    if (stopped)
        jobs_queue_wake(jobs_state_of(call));
    jobs_record now;
    if ((rc = jobs_get(r, rec->uid, &now, err)))
        return rc;
    if (now.running)
        sf_rpc_reply_status(reply, 202);
    rc = jobs_reply_job(reply, &now, call->base_url, err);
    jobs_record_clear(&now);
    return rc;
}

int jobs_stop(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__JobRequest *q = (const Stbfarm__JobRequest *)req;
    jobs_record rec;
    int rc = jobs_get(sf_worker_of(call)->redis, q->job_uid, &rec, err);
    if (!rc)
        rc = stop_job(call, &rec, reply, err);
    jobs_record_clear(&rec);
    return rc;
}

int jobs_stop_node_job(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                       sf_error *err)
{
    const Stbfarm__NodeJobRequest *q = (const Stbfarm__NodeJobRequest *)req;
    jobs_record rec;
    int rc = registered_node_job(sf_worker_of(call)->redis, q->node_id, &rec, err);
    if (!rc)
        rc = stop_job(call, &rec, reply, err);
    jobs_record_clear(&rec);
    return rc;
}

int jobs_log(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__JobLogRequest *q = (const Stbfarm__JobLogRequest *)req;
    sf_redis *r = sf_worker_of(call)->redis;
    jobs_record rec;
    int rc = jobs_get(r, q->job_uid, &rec, err);
    const char *status = rec.running ? "running" : rec.queued ? "queued" : "exited";
    jobs_record_clear(&rec);
    if (rc)
        return rc;
    if (q->has_offset && q->offset < 0)
        return sf_fail(err, SF_EINVAL, "offset must be 0 or more, not %lld", (long long)q->offset);
    int64_t from = q->has_offset ? q->offset : 0;
    char *text;
    size_t len;
    if ((rc = jobs_store_log(r, q->job_uid, from, &text, &len, err)))
        return rc;
    if (sf_rpc_reply_take_raw(reply, "text/plain; charset=utf-8", text, len))
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    /* what a reader following the log needs to know to read on: where this part ends, and
     * whether more may come */
    char end[32];
    snprintf(end, sizeof(end), "%lld", (long long)from + (long long)len);
    if (sf_rpc_reply_header(reply, "X-Log-Offset", end) ||
        sf_rpc_reply_header(reply, "X-Job-Status", status))
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    return 0;
}

int jobs_report(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__JobReport *q = (const Stbfarm__JobReport *)req;
    sf_redis *r = sf_worker_of(call)->redis;
    jobs_record rec;
    int rc = jobs_get(r, q->job_uid, &rec, err);
    if (rc)
        return rc;
    if ((rc = sf_caller_speaks_for(call, rec.node_id, err))) {
        jobs_record_clear(&rec);
        return rc;
    }
    if (!strcmp(q->event, "started") && q->test_case) {
        rc = jobs_store_started(r, q->job_uid, q->test_case, q->has_seq ? q->seq : 0, err);
    } else if (!strcmp(q->event, "result") && q->result_id && q->outcome &&
               (!strcmp(q->outcome, "pass") || !strcmp(q->outcome, "fail") ||
                !strcmp(q->outcome, "error"))) {
        rc = jobs_store_count(r, q->job_uid, q->result_id, q->outcome, err);
    } else if (!strcmp(q->event, "log") && q->log_text && q->has_log_offset && q->log_offset >= 0 &&
               q->log_offset < (64LL << 20)) {
        rc = jobs_store_log_write(r, q->job_uid, q->log_offset, q->log_text, err);
    } else if (!strcmp(q->event, "finished")) {
        rc = jobs_end(r, q->job_uid, err);
        rc = rc < 0 ? rc : 0;
        jobs_queue_wake(jobs_state_of(call));
    } else {
        rc = sf_fail(err, SF_EINVAL, "malformed %s report for %s", q->event, q->job_uid);
    }
    if (!rc && strcmp(q->event, "log"))
        jobs_publish(r, q->job_uid);
    else if (!rc)
        jobs_publish_log(r, q->job_uid);
    Stbfarm__JobReportReply answer = STBFARM__JOB_REPORT_REPLY__INIT;
    answer.stop = rec.stopping || !rec.running;
    jobs_record_clear(&rec);
    if (!rc && sf_rpc_reply_msg(reply, &answer.base))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    return rc;
}

/* ---- the reaper: no job stays "running" on a node that is gone ---- */

/* The test that was running when its node went away counts as an error: stored as a result
 * (without artifacts: the node took them with it) and counted, before the job ends. The
 * upload id is the run's own (sf_run.h), the one its node uploads it under, so the run is
 * recorded once, whoever finishes first: every replica of the reaper, or the node delivering
 * it late. What is counted is what the results service holds (its finish says): an error when
 * the reaper was first, the real outcome when the node was. Returns 0 once recorded (or when
 * there was nothing to record). */
static int record_lost_run(jobs_state *s, sf_redis *r, const jobs_record *rec, const char *why)
{
    if (!rec->current)
        return 0;
    char upload_id[SF_UPLOAD_ID_MAX + 1];
    sf_run_upload_id(rec->uid, rec->current_seq, upload_id);

    Stbfarm__ResultMeta meta = STBFARM__RESULT_META__INIT;
    meta.job_uid = (char *)rec->uid;
    meta.node_id = (char *)rec->node_id;
    meta.test_case = rec->current;
    meta.test_pack_sha = rec->sha ? rec->sha : (char *)"";
    meta.test_pack_branch = rec->branch;
    meta.username = (char *)rec->user;
    meta.job_category = rec->category ? rec->category : (char *)"default";
    meta.start_time_us = rec->current_us ? rec->current_us : sf_now_us();
    sf_error err = SF_ERROR_INIT;
    cJSON *json = rec->tags_json ? cJSON_Parse(rec->tags_json) : NULL;
    sf_tags tags;
    if (sf_tags_from_json(&tags, &stbfarm__result_meta__tags_entry__descriptor, json, &err))
        memset(&tags, 0, sizeof(tags)); /* the error result is recorded without them */
    cJSON_Delete(json);
    meta.n_tags = tags.n;
    meta.tags = (Stbfarm__ResultMeta__TagsEntry **)tags.entries;

    sf_rpc_result res;
    Stbfarm__ResultsBeginRequest begin = STBFARM__RESULTS_BEGIN_REQUEST__INIT;
    begin.upload_id = upload_id;
    begin.meta = &meta;
    char result_id[256] = "", stored[16] = "";
    int rc = sf_rpc_call(s->results, "results.begin", &begin.base,
                         &stbfarm__results_begin_reply__descriptor, NULL, &res, &err);
    if (!rc)
        snprintf(result_id, sizeof(result_id), "%s",
                 ((Stbfarm__ResultsBeginReply *)res.msg)->result_id);
    sf_rpc_result_free(&res);
    if (!rc) {
        Stbfarm__ResultsFinishRequest fin = STBFARM__RESULTS_FINISH_REQUEST__INIT;
        fin.upload_id = upload_id;
        fin.result = (char *)"error";
        fin.failure_reason = (char *)why;
        fin.end_time_us = sf_now_us();
        rc = sf_rpc_call(s->results, "results.finish", &fin.base,
                         &stbfarm__results_finish_reply__descriptor, NULL, &res, &err);
        const char *got = rc ? NULL : ((Stbfarm__ResultsFinishReply *)res.msg)->result;
        snprintf(stored, sizeof(stored), "%s", got ? got : "error");
        sf_rpc_result_free(&res);
    }
    if (!rc)
        rc = jobs_store_count(r, rec->uid, result_id, stored, &err);
    if (rc)
        sf_warn("job %s: the lost run of %s is not recorded yet: %s", rec->uid, rec->current,
                err.msg);
    sf_tags_clear(&tags);
    return rc;
}

/* What the reaper makes of a running job, from its node's record. */
typedef enum reap_verdict {
    REAP_NOT,  /* the node may still be running or delivering it */
    REAP_LOST, /* its node is gone, or its agent restarted: the running test is an error */
    REAP_DONE, /* its agent finished or stopped it, but the end never arrived */
} reap_verdict;

/* A job is never reaped while its node's heartbeats name it as running or still delivering.
 * Otherwise the agent instance tells "it restarted" (another instance than the one that took
 * the job) from "it is done with the job" (the same). why receives the reason. */
static reap_verdict judge(const jobs_record *rec, int found, const nodes_record *node, char *why,
                          size_t len)
{
    if (!found) {
        snprintf(why, len, "node %s was removed during the test", rec->node_id);
        return REAP_LOST;
    }
    if (!node->online) {
        snprintf(why, len, "node %s went offline during the test", rec->node_id);
        return REAP_LOST;
    }
    /* no heartbeat since the job started (or ever): it may not name the job yet */
    if (!node->agent_job || node->heartbeat_us <= rec->start_us + AGENT_GRACE_US ||
        nodes_agent_busy_with(node, rec->uid))
        return REAP_NOT;
    /* a job no agent is recorded to have taken may still be on its way to one */
    if (!rec->agent_instance[0] && sf_now_us() < rec->deliver_until_us)
        return REAP_NOT;
    if (rec->agent_instance[0] && node->agent_instance &&
        !strcmp(rec->agent_instance, node->agent_instance)) {
        snprintf(why, len, "the agent of node %s is done with the job, but its end was lost",
                 rec->node_id);
        return REAP_DONE;
    }
    snprintf(why, len, "the agent of node %s restarted during the test", rec->node_id);
    return REAP_LOST;
}

static void reap_once(jobs_state *s, sf_redis *r)
{
    char **running;
    size_t n;
    sf_error err = SF_ERROR_INIT;
    if (jobs_store_running(r, &running, &n, &err))
        return;
    for (size_t i = 0; i < n; i++) {
        const char *uid = running[i];
        jobs_record rec;
        if (jobs_get(r, uid, &rec, &err))
            continue;
        nodes_record node;
        int rc = nodes_get(r, rec.node_id, &node, &err);
        char why[200];
        reap_verdict v = rec.running && (rc == 0 || rc == SF_ENOTFOUND)
                             ? judge(&rec, rc == 0, &node, why, sizeof(why))
                             : REAP_NOT;
        if (v == REAP_LOST && record_lost_run(s, r, &rec, why) == 0 && jobs_end(r, uid, &err) == 1)
            sf_warn("job %s ended: %s%s%s", uid, why, rec.current ? ": " : "",
                    rec.current ? rec.current : "");
        else if (v == REAP_DONE && jobs_end(r, uid, &err) == 1)
            sf_warn("job %s ended: %s", uid, why);
        nodes_record_clear(&node);
        jobs_record_clear(&rec);
    }
    jobs_uids_free(running, n);
}

static long reap_tick(void *arg)
{
    jobs_state *s = arg;
    reap_once(s, s->reaper_redis);
    return s->cfg.reap_interval_ms;
}

int jobs_reaper_start(jobs_state *s, sf_error *err)
{
    int rc = sf_redis_open(&s->reaper_redis, s->common->redis, err);
    if (!rc && (rc = sf_ticker_start(&s->reaper, "reaper", reap_tick, s, err))) {
        sf_redis_free(s->reaper_redis);
        s->reaper_redis = NULL;
    }
    return rc;
}

void jobs_reaper_stop(jobs_state *s)
{
    sf_ticker_stop(s->reaper);
    s->reaper = NULL;
    sf_redis_free(s->reaper_redis);
    s->reaper_redis = NULL;
}
