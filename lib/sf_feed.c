#include "sf_feed.h"

#include "api.pb-c.h"
#include "jobs.pb-c.h"
#include "nodes.pb-c.h"
#include "reservations.pb-c.h"
#include "results.pb-c.h"
#include "sf_pbjson.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const topic_names[SF_FEED_TOPICS] = {"jobs", "nodes", "reservations", "results"};
static const char *const event_names[SF_FEED_TOPICS] = {"job", "node", "reservation", "result"};

const char *sf_feed_topic_name(sf_feed_topic t)
{
    return topic_names[t];
}

const char *sf_feed_event_name(sf_feed_topic t)
{
    return event_names[t];
}

sf_service sf_feed_service(sf_feed_topic t)
{
    static const sf_service svc[SF_FEED_TOPICS] = {SF_SVC_JOBS, SF_SVC_NODES, SF_SVC_RESERVATIONS,
                                                   SF_SVC_RESULTS};
    return svc[t];
}

static int topic_of(const char *name, size_t len)
{
    for (int t = 0; t < SF_FEED_TOPICS; t++) {
        if (strlen(topic_names[t]) == len && !memcmp(topic_names[t], name, len))
            return t;
    }
    return -1;
}

int sf_feed_topics_parse(const char *text, unsigned *mask, sf_error *err)
{
    *mask = 0;
    const char *p = text;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int t = topic_of(p, len);
        if (t < 0)
            return sf_fail(err, SF_EINVAL,
                           "topics: '%.*s' is not a topic (want a comma-separated list of jobs, "
                           "nodes, reservations, results)",
                           len > 40 ? 40 : (int)len, p);
        *mask |= 1u << t;
        if (!end)
            return 0;
        p = end + 1;
    }
}

/* A decimal of 1 to 20 digits within 64 bits, ending at *end. */
static int parse_u64(const char *p, const char **end, uint64_t *out)
{
    uint64_t v = 0;
    const char *s = p;
    while (*s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        s++;
    }
    if (s == p)
        return -1;
    *end = s;
    *out = v;
    return 0;
}

int sf_feed_id_parse(const char *text, sf_feed_id *out, sf_error *err)
{
    const char *p;
    if (parse_u64(text, &p, &out->ms) || *p != '-' || parse_u64(p + 1, &p, &out->seq) || *p)
        return sf_fail(err, SF_EINVAL,
                       "Last-Event-ID must be an event's id as the stream sent it "
                       "(<milliseconds>-<sequence>)");
    return 0;
}

void sf_feed_id_format(sf_feed_id id, char out[SF_FEED_ID_MAX])
{
    snprintf(out, SF_FEED_ID_MAX, "%" PRIu64 "-%" PRIu64, id.ms, id.seq);
}

int sf_feed_id_cmp(sf_feed_id a, sf_feed_id b)
{
    if (a.ms != b.ms)
        return a.ms < b.ms ? -1 : 1;
    if (a.seq != b.seq)
        return a.seq < b.seq ? -1 : 1;
    return 0;
}

/* {oldest kept id or '', the newest id ever written or '0-0'}. */
static const char *const BOUNDS_LUA =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return {'', '0-0'} end\n"
    "local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)\n"
    "local info = redis.call('XINFO', 'STREAM', KEYS[1])\n"
    "local last = '0-0'\n"
    "for i = 1, #info, 2 do\n"
    "  if info[i] == 'last-generated-id' then last = info[i + 1] end\n"
    "end\n"
    "if #first == 0 then return {'', last} end\n"
    "return {first[1][1], last}\n";

int sf_feed_start(sf_redis *r, int have_after, sf_feed_id *after, int *lost, sf_error *err)
{
    const char *args[] = {SF_FEED_KEY};
    redisReply *reply;
    *lost = 0;
    int rc = sf_redis_eval(r, BOUNDS_LUA, &reply, err, 1, 1, args, NULL);
    if (rc)
        return rc;
    sf_feed_id first = {0, 0}, last = {0, 0};
    const char *f = reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
                        ? sf_reply_str(reply->element[0])
                        : NULL;
    const char *l = f ? sf_reply_str(reply->element[1]) : NULL;
    int have_first = f && *f && !sf_feed_id_parse(f, &first, NULL);
    if (!l || sf_feed_id_parse(l, &last, NULL))
        rc = sf_fail(err, SF_EINTERNAL, "the event stream's bounds are unreadable");
    freeReplyObject(reply);
    if (rc)
        return rc;
    if (!have_after) {
        *after = last;
    } else if (sf_feed_id_cmp(*after, last) > 0) {
        *lost = 1;
        *after = last;
    } else if (have_first) {
        /* the id just before the oldest kept: nothing can lie between it and that one */
        sf_feed_id before = first;
        if (before.seq)
            before.seq--;
        else
            before.ms--, before.seq = UINT64_MAX;
        if (sf_feed_id_cmp(*after, before) < 0) {
            *lost = 1;
            *after = before;
        }
    } else if (sf_feed_id_cmp(*after, last) < 0) {
        *lost = 1;
        *after = last;
    }
    return 0;
}

void sf_feed_batch_free(sf_feed_batch *b)
{
    free(b->entries);
    if (b->reply)
        freeReplyObject(b->reply);
    memset(b, 0, sizeof(*b));
}

int sf_feed_read(sf_redis *r, sf_feed_id after, int max, int block_ms, sf_feed_batch *out,
                 sf_error *err)
{
    memset(out, 0, sizeof(*out));
    char id[SF_FEED_ID_MAX], count[16], block[16];
    sf_feed_id_format(after, id);
    snprintf(count, sizeof(count), "%d", max);
    snprintf(block, sizeof(block), "%d", block_ms);
    const char *argv[] = {"XREAD", "COUNT", count, "BLOCK", block, "STREAMS", SF_FEED_KEY, id};
    int argc = 8;
    if (block_ms <= 0) { /* drop BLOCK */
        argv[3] = "STREAMS";
        argv[4] = SF_FEED_KEY;
        argv[5] = id;
        argc = 6;
    }
    int rc = sf_redis_cmdargv(r, &out->reply, err, argc, argv, NULL);
    if (rc)
        return rc;
    const redisReply *rep = out->reply;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1)
        return 0; /* nothing came */
    const redisReply *stream = rep->element[0];
    if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2 ||
        stream->element[1]->type != REDIS_REPLY_ARRAY)
        return sf_fail(err, SF_EINTERNAL, "unexpected XREAD reply");
    const redisReply *items = stream->element[1];
    out->entries = calloc(items->elements ? items->elements : 1, sizeof(*out->entries));
    if (!out->entries)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    for (size_t i = 0; i < items->elements; i++) {
        const redisReply *it = items->element[i];
        if (it->type != REDIS_REPLY_ARRAY || it->elements != 2)
            continue;
        sf_feed_entry *e = &out->entries[out->n];
        const char *eid = sf_reply_str(it->element[0]);
        if (!eid || sf_feed_id_parse(eid, &e->id, NULL))
            continue;
        e->topic = -1;
        const redisReply *fv = it->element[1];
        for (size_t k = 0; fv->type == REDIS_REPLY_ARRAY && k + 1 < fv->elements; k += 2) {
            const char *name = sf_reply_str(fv->element[k]);
            const char *v = sf_reply_str(fv->element[k + 1]);
            if (!name || !v)
                continue;
            if (!strcmp(name, "t"))
                e->topic = topic_of(v, strlen(v));
            else if (!strcmp(name, "k"))
                e->key = v;
        }
        if (!e->key)
            e->topic = -1;
        out->n++;
    }
    return 0;
}

int sf_feed_render(sf_rpc_client *const clients[SF_SVC_COUNT], const sf_feed_entry *e,
                   const sf_rpc_opts *opts, char **json, sf_error *err)
{
    *json = NULL;
    Stbfarm__JobRequest job = STBFARM__JOB_REQUEST__INIT;
    Stbfarm__NodeGetRequest node = STBFARM__NODE_GET_REQUEST__INIT;
    Stbfarm__ReservationRef resv = STBFARM__RESERVATION_REF__INIT;
    Stbfarm__ResultGetRequest result = STBFARM__RESULT_GET_REQUEST__INIT;
    const ProtobufCMessage *req;
    const ProtobufCMessageDescriptor *reply;
    const char *method;
    switch (e->topic) {
    case SF_FEED_JOBS:
        job.job_uid = (char *)e->key;
        req = &job.base, method = "jobs.get", reply = &stbfarm__job__descriptor;
        break;
    case SF_FEED_NODES:
        node.node_id = (char *)e->key;
        req = &node.base, method = "nodes.get", reply = &stbfarm__node__descriptor;
        break;
    case SF_FEED_RESERVATIONS:
        resv.reservation_id = strtoll(e->key, NULL, 10);
        req = &resv.base, method = "reservations.get", reply = &stbfarm__reservation__descriptor;
        break;
    case SF_FEED_RESULTS:
        result.result_id = (char *)e->key;
        req = &result.base, method = "results.get", reply = &stbfarm__result__descriptor;
        break;
    default:
        return sf_fail(err, SF_ENOTFOUND, "an event of no known topic");
    }
    sf_rpc_result res;
    int rc = sf_rpc_call(clients[sf_feed_service((sf_feed_topic)e->topic)], method, req, reply,
                         opts, &res, err);
    if (!rc && !res.msg)
        rc = sf_fail(err, SF_EINTERNAL, "%s answered no %s", method, reply->short_name);
    if (!rc) {
        cJSON *o = sf_pb_to_json(res.msg);
        *json = o ? cJSON_PrintUnformatted(o) : NULL;
        cJSON_Delete(o);
        if (!*json)
            rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    sf_rpc_result_free(&res);
    return rc;
}
