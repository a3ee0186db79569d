#include "jobs_store.h"

#include "nodes_store.h"
#include "resv_store.h"
#include "sf_crypto.h"
#include "sf_feed.h"
#include "sf_tags.h"
#include "sf_time.h"

#include <cjson/cJSON.h>
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
        else if (!strcmp(k, "status")) {
            out->running = !strcmp(v, "running");
            out->queued = !strcmp(v, "queued");
        } else if (!strcmp(k, "candidates"))
            out->candidates = dup_str(v);
        else if (!strcmp(k, "priority"))
            out->priority = atoi(v);
        else if (!strcmp(k, "queued_us"))
            out->queued_us = strtoll(v, NULL, 10);
        else if (!strcmp(k, "queue_deadline_us"))
            out->queue_deadline_us = strtoll(v, NULL, 10);
        else if (!strcmp(k, "not_started"))
            out->not_started = dup_str(v);
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
        else if (!strcmp(k, "agent_instance"))
            snprintf(out->agent_instance, sizeof(out->agent_instance), "%s", v);
        else if (!strcmp(k, "deliver_until_us"))
            out->deliver_until_us = strtoll(v, NULL, 10);
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
    free(rec->candidates);
    free(rec->not_started);
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
    v->job.status = rec->running  ? (char *)"running"
                    : rec->queued ? (char *)"queued"
                                  : (char *)"exited";
    if (!rec->running && !rec->queued) {
        sf_time_format(rec->end_us, v->end, sizeof(v->end), SF_TIME_ZULU);
        v->job.end_time = v->end;
    }
    v->job.result_counts = &v->counts;
}

/* ---- changes ---- */

#define KEY_MAX (JOBS_UID_MAX + 64)

static void job_key(char *out, const char *uid, const char *suffix)
{
    snprintf(out, KEY_MAX, "sf:job:%s%s", uid, suffix);
}

static void node_key(char *out, const char *node_id, const char *suffix)
{
    snprintf(out, KEY_MAX, "sf:node:%s%s", node_id, suffix);
}

/* Run script, keeping no reply. */
static int eval_done(sf_redis *r, const char *script, int nkeys, int nargs, const char **args,
                     sf_error *err)
{
    redisReply *reply;
    int rc = sf_redis_eval(r, script, &reply, err, nkeys, nargs, args, NULL);
    if (!rc)
        freeReplyObject(reply);
    return rc;
}

/* KEYS: sf:node:<node>:job, sf:node:<node>:lastjob, sf:jobs:running, sf:jobs:req:<request id>,
 * sf:jobs:seq. ARGV: node, user, the uid's nonce, the record as a JSON object of strings.
 * A request id seen before answers with the job it started, so an nng resend never starts a
 * second job. */
static const char START_SCRIPT[] = RESV_LUA_MAY_USE NODES_LUA_MAINTENANCE SF_FEED_LUA
    "local node_job, lastjob, running, req, seq = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]\n"
    "local node, user, nonce = ARGV[1], ARGV[2], ARGV[3]\n"
    "local seen = redis.call('GET', req)\n"
    "if seen then redis.call('SET', req, seen, 'KEEPTTL') return seen end\n"
    "local why = nodes_maintenance_refusal(node, user) or resv_refusal(node, user)\n"
    "if why then return redis.error_reply('409 ' .. why) end\n"
    "local busy = redis.call('GET', node_job)\n"
    "if busy then\n"
    "  return redis.error_reply('409 A test job is already running on node ' .. node .. ': ' .. "
    "busy)\n"
    "end\n"
    "local uid = '/' .. node .. '/' .. nonce .. '/' .. string.format('%d', redis.call('INCR', "
    "seq))\n"
    "local job = 'sf:job:' .. uid\n"
    "local fields = {}\n"
    "for k, v in pairs(cjson.decode(ARGV[4])) do\n"
    "  fields[#fields + 1] = k\n"
    "  fields[#fields + 1] = v\n"
    "end\n"
    "redis.call('HSET', job, unpack(fields))\n"
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
    "sf_feed('jobs', uid)\n"
    "sf_feed('nodes', node)\n"
    "return uid\n";

/* KEYS: sf:job:<uid>, sf:jobs:running, sf:jobs:req:<request id>. ARGV: uid. */
static const char FORGET_SCRIPT[] = SF_FEED_LUA
    "local job, running, req, uid = KEYS[1], KEYS[2], KEYS[3], ARGV[1]\n"
    "if redis.call('HEXISTS', job, 'agent_instance') == 1 then return 0 end\n"
    "local node = redis.call('HGET', job, 'node_id')\n"
    "if node then\n"
    "  local node_job, lastjob = 'sf:node:' .. node .. ':job', 'sf:node:' .. node .. ':lastjob'\n"
    "  if redis.call('GET', node_job) == uid then redis.call('DEL', node_job) end\n"
    "  if redis.call('GET', lastjob) == uid then\n"
    "    local prev = redis.call('HGET', job, 'prev_lastjob')\n"
    "    if prev then redis.call('SET', lastjob, prev) else redis.call('DEL', lastjob) end\n"
    "  end\n"
    "  redis.call('LREM', 'sf:node:' .. node .. ':jobs', 1, uid)\n"
    "  sf_feed('nodes', node)\n"
    "end\n"
    "redis.call('LREM', 'sf:jobs:recent', 1, uid)\n"
    "redis.call('DEL', job, req)\n"
    "redis.call('SREM', running, uid)\n"
    "return 1\n";

/* KEYS: sf:job:<uid>. ARGV: agent instance. A forgotten job is not made again from this one
 * field. */
static const char ACCEPTED_SCRIPT[] = "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
                                      "redis.call('HSET', KEYS[1], 'agent_instance', ARGV[1])\n"
                                      "return 1\n";

/* KEYS: sf:job:<uid>, sf:jobs:running. ARGV: uid, now (us). */
static const char END_SCRIPT[] = SF_FEED_LUA
    "if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'status', 'exited', 'end_us', ARGV[2], 'current', '')\n"
    "local node = redis.call('HGET', KEYS[1], 'node_id')\n"
    "local key = 'sf:node:' .. node .. ':job'\n"
    "if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end\n"
    "redis.call('SREM', KEYS[2], ARGV[1])\n"
    "sf_feed('jobs', ARGV[1])\n"
    "sf_feed('nodes', node)\n"
    "return 1\n";

/* KEYS: sf:job:<uid>, sf:job:<uid>:counted. ARGV: result id, outcome, uid. */
static const char COUNT_SCRIPT[] = SF_FEED_LUA
    "if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('404 unknown job') end\n"
    "if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then\n"
    "  redis.call('HINCRBY', KEYS[1], ARGV[2], 1)\n"
    "  redis.call('PEXPIRE', KEYS[2], 604800000)\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'current', '')\n"
    "sf_feed('jobs', ARGV[3])\n"
    "return 1\n";

/* KEYS: sf:job:<uid>. ARGV: test case, run number, now (us), uid. */
static const char STARTED_SCRIPT[] = SF_FEED_LUA
    "if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('404 unknown job') end\n"
    "redis.call('HSET', KEYS[1], 'current', ARGV[1], 'current_us', ARGV[3], 'current_seq', "
    "ARGV[2])\n"
    "if redis.call('HGET', KEYS[1], 'soak') == 'run forever' then\n"
    "  local seq = tonumber(ARGV[2])\n"
    "  if seq > tonumber(redis.call('HGET', KEYS[1], 'total')) then\n"
    "    redis.call('HSET', KEYS[1], 'total', seq)\n"
    "  end\n"
    "end\n"
    "sf_feed('jobs', ARGV[4])\n"
    "return 1\n";

/* The record a new job starts with, as a JSON object of strings (Redis's cjson reads it):
 * running, or queued with what its queue needs. */
static int record_json(const jobs_new *job, int queued, char **out, sf_error *err)
{
    char start[24], total[24], shuffle[4], priority[16], deadline[24], until[24];
    snprintf(start, sizeof(start), "%lld", (long long)sf_now_us());
    snprintf(until, sizeof(until), "%lld", (long long)job->deliver_until_us);
    snprintf(priority, sizeof(priority), "%d", job->priority);
    snprintf(deadline, sizeof(deadline), "%lld", (long long)job->queue_deadline_us);
    char *candidates = NULL;
    if (queued) {
        size_t len = 1;
        for (size_t i = 0; i < job->n_candidates; i++)
            len += strlen(job->candidates[i]) + 1;
        if (!(candidates = calloc(1, len)))
            return sf_fail(err, SF_EINTERNAL, "out of memory");
        for (size_t i = 0; i < job->n_candidates; i++) {
            strcat(candidates, i ? " " : "");
            strcat(candidates, job->candidates[i]);
        }
    }
    snprintf(total, sizeof(total), "%zu",
             strcmp(job->soak, "run forever") ? job->n_test_cases : (size_t)0);
    snprintf(shuffle, sizeof(shuffle), "%d", job->shuffle);
    char *tags = NULL, *cases = NULL;
    int rc = sf_tags_json(job->tags, job->n_tags, &tags, err);
    if (rc) {
        free(candidates);
        return rc;
    }
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < job->n_test_cases; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(job->test_cases[i]));
    cases = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    const char *fields[][2] = {
        {"node_id", job->node_id ? job->node_id : ""},
        {"user", job->user},
        {"status", queued ? "queued" : "running"},
        {"start_us", start},
        {"sha", job->sha},
        {"branch", job->branch},
        {"category", job->category},
        {"soak", job->soak},
        {"shuffle", shuffle},
        {"remote_control", job->remote_control},
        {"tags", tags},
        {"test_cases", cases},
        {"pass", "0"},
        {"fail", "0"},
        {"error", "0"},
        {"total", total},
        {"candidates", candidates},
        {"priority", queued ? priority : NULL},
        {"queued_us", queued ? start : NULL},
        {"queue_deadline_us", queued ? deadline : NULL},
        {"deliver_until_us", queued ? NULL : until},
    };
    cJSON *o = cases ? cJSON_CreateObject() : NULL;
    for (size_t i = 0; o && i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (fields[i][1] && !cJSON_AddStringToObject(o, fields[i][0], fields[i][1])) {
            cJSON_Delete(o);
            o = NULL;
        }
    }
    *out = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    free(tags);
    free(cases);
    free(candidates);
    return *out ? 0 : sf_fail(err, SF_EINTERNAL, "out of memory");
}

int jobs_store_start(sf_redis *r, const jobs_new *job, char *uid, sf_error *err)
{
    char k_job[KEY_MAX], k_last[KEY_MAX], k_req[KEY_MAX], nonce[5], *record;
    int rc = record_json(job, 0, &record, err);
    if (rc)
        return rc;
    node_key(k_job, job->node_id, ":job");
    node_key(k_last, job->node_id, ":lastjob");
    snprintf(k_req, sizeof(k_req), "sf:jobs:req:%.100s", job->request_id);
    sf_random_hex(2, nonce);
    const char *args[] = {k_job,     k_last,        "sf:jobs:running",
                          k_req,     "sf:jobs:seq", job->node_id,
                          job->user, nonce,         record};
    redisReply *reply;
    rc = sf_redis_eval(r, START_SCRIPT, &reply, err, 5, 9, args, NULL);
    free(record);
    if (rc)
        return rc;
    if ((rc = sf_redis_durable(r, err))) {
        freeReplyObject(reply);
        return rc;
    }
    const char *got = sf_reply_str(reply);
    if (!got || !jobs_uid_valid(got))
        rc = sf_fail(err, SF_EINTERNAL, "starting a job on %s gave no job uid", job->node_id);
    else
        snprintf(uid, JOBS_UID_MAX + 1, "%s", got);
    freeReplyObject(reply);
    return rc;
}

/* ---- the queue ---- */

/* KEYS: sf:jobs:req:<request id>, sf:jobs:seq, sf:jobs:queued. ARGV: the uid's prefix, its
 * nonce, the record as a JSON object of strings (with candidates and priority). Each candidate's
 * sf:jobs:queue:<node> scores the job by priority, then arrival (the uid's number), lowest
 * first; the score is kept in the job (queue_score) for a requeue. */
static const char QUEUE_SCRIPT[] =
    SF_FEED_LUA "local req, seq, queued = KEYS[1], KEYS[2], KEYS[3]\n"
                "local seen = redis.call('GET', req)\n"
                "if seen then redis.call('SET', req, seen, 'KEEPTTL') return seen end\n"
                "local n = redis.call('INCR', seq)\n"
                "local uid = '/' .. ARGV[1] .. '/' .. ARGV[2] .. '/' .. string.format('%d', n)\n"
                "local job = 'sf:job:' .. uid\n"
                "local rec = cjson.decode(ARGV[3])\n"
                "local fields = {}\n"
                "for k, v in pairs(rec) do\n"
                "  fields[#fields + 1] = k\n"
                "  fields[#fields + 1] = v\n"
                "end\n"
                "redis.call('HSET', job, unpack(fields))\n"
                "local score = string.format('%d', (1000 - tonumber(rec.priority)) * 1e12 + n)\n"
                "redis.call('HSET', job, 'queue_score', score)\n"
                "for node in string.gmatch(rec.candidates, '%S+') do\n"
                "  redis.call('ZADD', 'sf:jobs:queue:' .. node, score, uid)\n"
                "end\n"
                "redis.call('SADD', queued, uid)\n"
                "redis.call('SET', req, uid, 'EX', 600)\n"
                "redis.call('LPUSH', 'sf:jobs:recent', uid)\n"
                "redis.call('LTRIM', 'sf:jobs:recent', 0, 999)\n"
                "sf_feed('jobs', uid)\n"
                "return uid\n";

/* ARGV: node, now (us). The uid of the job it started on the node, or false. */
static const char DISPATCH_SCRIPT[] = RESV_LUA_MAY_USE NODES_LUA_MAINTENANCE SF_FEED_LUA
    "local node, now = ARGV[1], ARGV[2]\n"
    "local nk = 'sf:node:' .. node\n"
    "if redis.call('EXISTS', nk .. ':job') == 1 then return false end\n"
    "local holder = resv_holder(node)\n"
    "local queue = 'sf:jobs:queue:' .. node\n"
    "for _, uid in ipairs(redis.call('ZRANGE', queue, 0, -1)) do\n"
    "  local job = 'sf:job:' .. uid\n"
    "  local h = redis.call('HMGET', job, 'status', 'user', 'candidates', 'not_before_us')\n"
    "  if h[1] ~= 'queued' then\n"
    "    redis.call('ZREM', queue, uid)\n"
    "  elseif (not holder or holder == h[2]) and tonumber(h[4] or '0') <= tonumber(now) and\n"
    "         not nodes_maintenance_refusal(node, h[2]) then\n"
    "    for c in string.gmatch(h[3] or '', '%S+') do\n"
    "      redis.call('ZREM', 'sf:jobs:queue:' .. c, uid)\n"
    "    end\n"
    "    redis.call('SREM', 'sf:jobs:queued', uid)\n"
    "    redis.call('HSET', job, 'status', 'running', 'node_id', node, 'start_us', now)\n"
    "    local prev = redis.call('GET', nk .. ':lastjob')\n"
    "    if prev then redis.call('HSET', job, 'prev_lastjob', prev) end\n"
    "    redis.call('SET', nk .. ':job', uid)\n"
    "    redis.call('SET', nk .. ':lastjob', uid)\n"
    "    redis.call('SADD', 'sf:jobs:running', uid)\n"
    "    redis.call('LPUSH', nk .. ':jobs', uid)\n"
    "    redis.call('LTRIM', nk .. ':jobs', 0, 99)\n"
    "    sf_feed('jobs', uid)\n"
    "    sf_feed('nodes', node)\n"
    "    return uid\n"
    "  end\n"
    "end\n"
    "return false\n";

/* ARGV: uid, node, when it may be tried again (us). 1 when the job is queued again. */
static const char REQUEUE_SCRIPT[] = SF_FEED_LUA
    "local uid, node = ARGV[1], ARGV[2]\n"
    "local job, nk = 'sf:job:' .. uid, 'sf:node:' .. node\n"
    "if redis.call('HGET', job, 'status') ~= 'running' then return 0 end\n"
    "if redis.call('HEXISTS', job, 'agent_instance') == 1 then return 0 end\n"
    "if redis.call('GET', nk .. ':job') == uid then redis.call('DEL', nk .. ':job') end\n"
    "if redis.call('GET', nk .. ':lastjob') == uid then\n"
    "  local prev = redis.call('HGET', job, 'prev_lastjob')\n"
    "  if prev then redis.call('SET', nk .. ':lastjob', prev) else redis.call('DEL', nk .. "
    "':lastjob') end\n"
    "end\n"
    "redis.call('LREM', nk .. ':jobs', 1, uid)\n"
    "redis.call('SREM', 'sf:jobs:running', uid)\n"
    "local h = redis.call('HMGET', job, 'candidates', 'queue_score', 'queued_us')\n"
    "local many = select(2, string.gsub(h[1], '%S+', '')) > 1\n"
    "redis.call('HSET', job, 'status', 'queued', 'start_us', h[3], 'node_id', many and '' or "
    "node, 'not_before_us', ARGV[3])\n"
    "for c in string.gmatch(h[1], '%S+') do\n"
    "  redis.call('ZADD', 'sf:jobs:queue:' .. c, h[2], uid)\n"
    "end\n"
    "redis.call('SADD', 'sf:jobs:queued', uid)\n"
    "sf_feed('jobs', uid)\n"
    "sf_feed('nodes', node)\n"
    "return 1\n";

/* ARGV: uid, now (us), reason. 1 when it ended the queued job. */
static const char UNQUEUE_SCRIPT[] = SF_FEED_LUA
    "local uid = ARGV[1]\n"
    "local job = 'sf:job:' .. uid\n"
    "if redis.call('HGET', job, 'status') ~= 'queued' then return 0 end\n"
    "for c in string.gmatch(redis.call('HGET', job, 'candidates') or '', '%S+') do\n"
    "  redis.call('ZREM', 'sf:jobs:queue:' .. c, uid)\n"
    "end\n"
    "redis.call('SREM', 'sf:jobs:queued', uid)\n"
    "redis.call('HSET', job, 'status', 'exited', 'end_us', ARGV[2], 'not_started', ARGV[3],\n"
    "           'total', '0')\n"
    "sf_feed('jobs', uid)\n"
    "return 1\n";

int jobs_store_queue(sf_redis *r, const jobs_new *job, char *uid, sf_error *err)
{
    char k_req[KEY_MAX], nonce[5], *record;
    int rc = record_json(job, 1, &record, err);
    if (rc)
        return rc;
    snprintf(k_req, sizeof(k_req), "sf:jobs:req:%.100s", job->request_id);
    sf_random_hex(2, nonce);
    const char *args[] = {k_req, "sf:jobs:seq", "sf:jobs:queued", job->uid_prefix, nonce, record};
    redisReply *reply;
    rc = sf_redis_eval(r, QUEUE_SCRIPT, &reply, err, 3, 6, args, NULL);
    free(record);
    if (rc)
        return rc;
    if ((rc = sf_redis_durable(r, err))) {
        freeReplyObject(reply);
        return rc;
    }
    const char *got = sf_reply_str(reply);
    if (!got || !jobs_uid_valid(got))
        rc = sf_fail(err, SF_EINTERNAL, "queueing a job gave no job uid");
    else
        snprintf(uid, JOBS_UID_MAX + 1, "%s", got);
    freeReplyObject(reply);
    return rc;
}

int jobs_store_dispatch(sf_redis *r, const char *node_id, char *uid, sf_error *err)
{
    char now[24];
    snprintf(now, sizeof(now), "%lld", (long long)sf_now_us());
    const char *args[] = {node_id, now};
    redisReply *reply;
    uid[0] = '\0';
    int rc = sf_redis_eval(r, DISPATCH_SCRIPT, &reply, err, 0, 2, args, NULL);
    if (rc)
        return rc;
    const char *got = sf_reply_str(reply);
    if (got && jobs_uid_valid(got))
        snprintf(uid, JOBS_UID_MAX + 1, "%s", got);
    freeReplyObject(reply);
    return 0;
}

int jobs_store_requeue(sf_redis *r, const char *uid, const char *node_id, sf_error *err)
{
    char later[24];
    snprintf(later, sizeof(later), "%lld", (long long)(sf_now_us() + JOBS_REQUEUE_DELAY_US));
    const char *args[] = {uid, node_id, later};
    return eval_done(r, REQUEUE_SCRIPT, 0, 3, args, err);
}

int jobs_store_unqueue(sf_redis *r, const char *uid, const char *reason, int *ended, sf_error *err)
{
    char now[24];
    snprintf(now, sizeof(now), "%lld", (long long)sf_now_us());
    const char *args[] = {uid, now, reason};
    redisReply *reply;
    int rc = sf_redis_eval(r, UNQUEUE_SCRIPT, &reply, err, 0, 3, args, NULL);
    if (rc)
        return rc;
    *ended = (int)sf_reply_int(reply, 0);
    freeReplyObject(reply);
    return 0;
}

/* Run script; *out receives its integer answer. */
static int eval_int(sf_redis *r, const char *script, int nkeys, int nargs, const char **args,
                    int *out, sf_error *err)
{
    redisReply *reply;
    int rc = sf_redis_eval(r, script, &reply, err, nkeys, nargs, args, NULL);
    if (rc)
        return rc;
    *out = (int)sf_reply_int(reply, 0);
    freeReplyObject(reply);
    return 0;
}

int jobs_store_forget(sf_redis *r, const char *uid, const char *request_id, int *forgotten,
                      sf_error *err)
{
    char k_job[KEY_MAX], k_req[KEY_MAX];
    job_key(k_job, uid, "");
    snprintf(k_req, sizeof(k_req), "sf:jobs:req:%.100s", request_id);
    const char *args[] = {k_job, "sf:jobs:running", k_req, uid};
    return eval_int(r, FORGET_SCRIPT, 3, 4, args, forgotten, err);
}

int jobs_store_end(sf_redis *r, const char *uid, int *ended, sf_error *err)
{
    char key[KEY_MAX], now[24];
    job_key(key, uid, "");
    snprintf(now, sizeof(now), "%lld", (long long)sf_now_us());
    const char *args[] = {key, "sf:jobs:running", uid, now};
    return eval_int(r, END_SCRIPT, 2, 4, args, ended, err);
}

int jobs_store_count(sf_redis *r, const char *uid, const char *result_id, const char *outcome,
                     sf_error *err)
{
    char key[KEY_MAX], counted[KEY_MAX];
    job_key(key, uid, "");
    job_key(counted, uid, ":counted");
    const char *args[] = {key, counted, result_id, outcome, uid};
    return eval_done(r, COUNT_SCRIPT, 2, 5, args, err);
}

int jobs_store_started(sf_redis *r, const char *uid, const char *test_case, int64_t seq,
                       sf_error *err)
{
    char key[KEY_MAX], sseq[24], now[24];
    job_key(key, uid, "");
    snprintf(sseq, sizeof(sseq), "%lld", (long long)seq);
    snprintf(now, sizeof(now), "%lld", (long long)sf_now_us());
    const char *args[] = {key, test_case, sseq, now, uid};
    return eval_done(r, STARTED_SCRIPT, 1, 5, args, err);
}

int jobs_store_accepted(sf_redis *r, const char *uid, const char *instance, int *recorded,
                        sf_error *err)
{
    char key[KEY_MAX];
    job_key(key, uid, "");
    const char *args[] = {key, instance};
    return eval_int(r, ACCEPTED_SCRIPT, 1, 2, args, recorded, err);
}

int jobs_store_stopping(sf_redis *r, const char *uid, sf_error *err)
{
    redisReply *ok;
    int rc = sf_redis_cmd(r, &ok, err, "HSET sf:job:%s stopping 1", uid);
    if (!rc)
        freeReplyObject(ok);
    return rc;
}

int jobs_store_log_write(sf_redis *r, const char *uid, int64_t offset, const char *text,
                         sf_error *err)
{
    redisReply *ok;
    int rc =
        sf_redis_cmd(r, &ok, err, "SETRANGE sf:job:%s:log %lld %s", uid, (long long)offset, text);
    if (!rc)
        freeReplyObject(ok);
    return rc;
}

int jobs_store_log(sf_redis *r, const char *uid, int64_t offset, char **text, size_t *len,
                   sf_error *err)
{
    redisReply *log;
    int rc = offset ? sf_redis_cmd(r, &log, err, "GETRANGE sf:job:%s:log %lld -1", uid,
                                   (long long)offset)
                    : sf_redis_cmd(r, &log, err, "GET sf:job:%s:log", uid);
    if (rc)
        return rc;
    const char *s = sf_reply_str(log);
    size_t n = s ? (size_t)log->len : 0;
    char *copy = malloc(n + 1);
    if (copy) {
        memcpy(copy, s ? s : "", n);
        copy[n] = '\0';
    }
    freeReplyObject(log);
    if (!copy)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    *text = copy;
    *len = n;
    return 0;
}

int jobs_store_running(sf_redis *r, char ***uids, size_t *n, sf_error *err)
{
    redisReply *running;
    *uids = NULL;
    *n = 0;
    int rc = sf_redis_cmd(r, &running, err, "SMEMBERS sf:jobs:running");
    return rc ? rc : sf_reply_strings(running, uids, n, err);
}

int jobs_store_queued(sf_redis *r, char ***uids, size_t *n, sf_error *err)
{
    redisReply *queued;
    *uids = NULL;
    *n = 0;
    int rc = sf_redis_cmd(r, &queued, err, "SMEMBERS sf:jobs:queued");
    return rc ? rc : sf_reply_strings(queued, uids, n, err);
}

int jobs_store_node_queue(sf_redis *r, const char *node_id, char ***uids, size_t *n, sf_error *err)
{
    redisReply *queue;
    *uids = NULL;
    *n = 0;
    int rc = sf_redis_cmd(r, &queue, err, "ZRANGE sf:jobs:queue:%s 0 -1", node_id);
    return rc ? rc : sf_reply_strings(queue, uids, n, err);
}

int jobs_store_recent(sf_redis *r, const char *node_id, long limit, char ***uids, size_t *n,
                      sf_error *err)
{
    redisReply *recent;
    *uids = NULL;
    *n = 0;
    int rc = node_id
                 ? sf_redis_cmd(r, &recent, err, "LRANGE sf:node:%s:jobs 0 %ld", node_id, limit - 1)
                 : sf_redis_cmd(r, &recent, err, "LRANGE sf:jobs:recent 0 %ld", limit - 1);
    return rc ? rc : sf_reply_strings(recent, uids, n, err);
}

void jobs_uids_free(char **uids, size_t n)
{
    sf_strings_free(uids, n);
}

static const char COUNT_LUA[] =
    "return {redis.call('SCARD', 'sf:jobs:running'), redis.call('SCARD', 'sf:jobs:queued')}\n";

int jobs_store_count_farm(sf_redis *r, long long *running, long long *queued, sf_error *err)
{
    redisReply *reply;
    int rc = sf_redis_eval(r, COUNT_LUA, &reply, err, 0, 0, NULL, NULL);
    if (rc)
        return rc;
    int ok = reply->type == REDIS_REPLY_ARRAY && reply->elements == 2;
    if (ok) {
        *running = sf_reply_int(reply->element[0], 0);
        *queued = sf_reply_int(reply->element[1], 0);
    }
    freeReplyObject(reply);
    return ok ? 0 : sf_fail(err, SF_EINTERNAL, "unexpected reply to the job count");
}
