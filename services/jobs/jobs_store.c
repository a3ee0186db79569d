#include "jobs_store.h"

#include "sf_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jobs_uid_valid(const char *uid)
{
    /* "/" node "/" 4 chars "/" digits; node ids are [A-Za-z0-9_.-] */
    if (uid[0] != '/' || strlen(uid) > JOBS_UID_MAX)
        return 0;
    const char *a = strchr(uid + 1, '/');
    const char *b = a ? strchr(a + 1, '/') : NULL;
    if (!a || !b || a == uid + 1 || b - a != 5 || !b[1] || strchr(b + 1, '/'))
        return 0;
    for (const char *p = uid + 1; p < a; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return 0;
    }
    for (const char *p = a + 1; p < b; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            return 0;
    }
    for (const char *p = b + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
    }
    return 1;
}

static char *dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Fill out from the job's hash h (as HGETALL gives it). */
static void record_parse(const char *uid, const redisReply *h, jobs_record *out)
{
    snprintf(out->uid, sizeof(out->uid), "%s", uid);
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const char *k = sf_reply_str(h->element[i]);
        const char *v = sf_reply_str(h->element[i + 1]);
        if (!k || !v)
            continue;
        if (!strcmp(k, "node_id"))
            snprintf(out->node_id, sizeof(out->node_id), "%s", v);
        else if (!strcmp(k, "user"))
            snprintf(out->user, sizeof(out->user), "%s", v);
        else if (!strcmp(k, "status"))
            out->running = !strcmp(v, "running");
        else if (!strcmp(k, "stopping"))
            out->stopping = atoi(v);
        else if (!strcmp(k, "start_us"))
            out->start_us = strtoll(v, NULL, 10);
        else if (!strcmp(k, "end_us"))
            out->end_us = strtoll(v, NULL, 10);
        else if (!strcmp(k, "pass"))
            out->pass = atoi(v);
        else if (!strcmp(k, "fail"))
            out->fail = atoi(v);
        else if (!strcmp(k, "error"))
            out->error = atoi(v);
        else if (!strcmp(k, "total"))
            out->total = atoi(v);
        else if (!strcmp(k, "shuffle"))
            out->shuffle = atoi(v);
        else if (!strcmp(k, "sha"))
            out->sha = dup_str(v);
        else if (!strcmp(k, "branch"))
            out->branch = *v ? dup_str(v) : NULL;
        else if (!strcmp(k, "category"))
            out->category = dup_str(v);
        else if (!strcmp(k, "soak"))
            out->soak = dup_str(v);
        else if (!strcmp(k, "remote_control"))
            out->remote_control = dup_str(v);
        else if (!strcmp(k, "tags"))
            out->tags_json = dup_str(v);
        else if (!strcmp(k, "test_cases"))
            out->test_cases_json = dup_str(v);
        else if (!strcmp(k, "current"))
            out->current = *v ? dup_str(v) : NULL;
        else if (!strcmp(k, "current_us"))
            out->current_us = strtoll(v, NULL, 10);
        else if (!strcmp(k, "current_seq"))
            out->current_seq = strtoll(v, NULL, 10);
    }
}

int jobs_get(sf_redis *r, const char *uid, jobs_record *out, sf_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!jobs_uid_valid(uid))
        return sf_fail(err, SF_ENOTFOUND, "unknown job_uid '%.128s'", uid);
    redisReply *reply;
    int rc = sf_redis_cmd(r, &reply, err, "HGETALL sf:job:%s", uid);
    if (rc)
        return rc;
    if (reply->elements == 0) {
        freeReplyObject(reply);
        return sf_fail(err, SF_ENOTFOUND, "unknown job_uid '%.128s'", uid);
    }
    record_parse(uid, reply, out);
    freeReplyObject(reply);
    return 0;
}

void jobs_record_clear(jobs_record *rec)
{
    free(rec->sha);
    free(rec->branch);
    free(rec->category);
    free(rec->soak);
    free(rec->remote_control);
    free(rec->tags_json);
    free(rec->test_cases_json);
    free(rec->current);
    memset(rec, 0, sizeof(*rec));
}

int jobs_node_job_of(const redisReply *item, const char *node_id, jobs_record *out, sf_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!item || item->type != REDIS_REPLY_ARRAY || item->elements != 2 ||
        item->element[1]->type != REDIS_REPLY_ARRAY || !sf_reply_str(item->element[0]) ||
        !jobs_uid_valid(item->element[0]->str))
        return sf_fail(err, SF_ENOTFOUND, "node %s has never run a job", node_id);
    record_parse(item->element[0]->str, item->element[1], out);
    return 0;
}

/* ARGV: node id. */
static const char NODE_JOB_SCRIPT[] = JOBS_LUA_NODE_JOB "return jobs_node_job(ARGV[1])\n";

int jobs_node_job(sf_redis *r, const char *node_id, jobs_record *out, sf_error *err)
{
    memset(out, 0, sizeof(*out));
    const char *args[] = {node_id};
    redisReply *reply;
    int rc = sf_redis_eval(r, NODE_JOB_SCRIPT, &reply, err, 0, 1, args, NULL);
    if (rc)
        return rc;
    rc = jobs_node_job_of(reply, node_id, out, err);
    freeReplyObject(reply);
    return rc;
}

void jobs_view_of(jobs_view *v, const jobs_record *rec, const char *base_url)
{
    stbfarm__job__init(&v->job);
    stbfarm__result_counts__init(&v->counts);
    v->counts.pass = rec->pass;
    v->counts.fail = rec->fail;
    v->counts.error = rec->error;
    v->counts.total = rec->total;
    snprintf(v->job_url, sizeof(v->job_url), "%s/api/v2/jobs%s", base_url, rec->uid);
    snprintf(v->log_url, sizeof(v->log_url), "%s/log", v->job_url);
    snprintf(v->triage_url, sizeof(v->triage_url), "%s/app/#/results?filter=job:%s", base_url,
             rec->uid);
    sf_time_format(rec->start_us, v->start, sizeof(v->start), SF_TIME_ZULU);
    v->job.job_uid = (char *)rec->uid;
    v->job.job_url = v->job_url;
    v->job.log_url = v->log_url;
    v->job.triage_url = v->triage_url;
    v->job.start_time = v->start;
    v->job.status = rec->running ? (char *)"running" : (char *)"exited";
    if (!rec->running) {
        sf_time_format(rec->end_us, v->end, sizeof(v->end), SF_TIME_ZULU);
        v->job.end_time = v->end;
    }
    v->job.result_counts = &v->counts;
}
