#include "res_store.h"

#include "sf_events.h"
#include "sf_feed.h"
#include "sf_time.h"
#include "sf_utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UP_KEY     "sf:res:up:"
#define RECORD_KEY "sf:res:r:"
#define LEASE_KEY  "sf:res:lease:"

/* The id allocation begin uses: the base id, then base_2, base_3, ... until one is neither a
 * result, nor held by an open upload, nor remembered as deleted. */
#define ALLOC_ID_LUA                                                                               \
    "local function alloc_id(base)\n"                                                              \
    "  for n = 1, 10000 do\n"                                                                      \
    "    local id = base\n"                                                                        \
    "    if n > 1 then id = base .. '_' .. n end\n"                                                \
    "    if redis.call('EXISTS', 'sf:res:r:' .. id, 'sf:res:pending:' .. id) == 0\n"               \
    "       and not redis.call('ZSCORE', 'sf:res:gone', id) then return id end\n"                  \
    "  end\n"                                                                                      \
    "  return nil\n"                                                                               \
    "end\n"

static const char *const BEGIN_LUA = ALLOC_ID_LUA
    "local cur = redis.call('HMGET', KEYS[1], 'result_id', 'state')\n"
    "if cur[1] then\n"
    "  if cur[2] == 'open' then\n"
    "    redis.call('EXPIRE', KEYS[1], ARGV[4])\n"
    "    redis.call('EXPIRE', 'sf:res:pending:' .. cur[1], ARGV[4])\n"
    "  end\n"
    "  return cur\n"
    "end\n"
    "local id = alloc_id(ARGV[2])\n"
    "if not id then\n"
    "  return redis.error_reply('409 too many test runs of this job started in the same second')\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'result_id', id, 'state', 'open', 'meta', ARGV[3])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[4])\n"
    "redis.call('SET', 'sf:res:pending:' .. id, ARGV[1], 'EX', ARGV[4])\n"
    "return {id, 'open'}\n";

static const char *const UPLOAD_LUA =
    "local v = redis.call('HMGET', KEYS[1], 'result_id', 'state', 'meta')\n"
    "if v[1] and v[2] == 'open' and tonumber(ARGV[1]) > 0 then\n"
    "  redis.call('EXPIRE', KEYS[1], ARGV[1])\n"
    "  redis.call('EXPIRE', 'sf:res:pending:' .. v[1], ARGV[1])\n"
    "end\n"
    "return v\n";

static const char *const COMMIT_LUA =
    SF_FEED_LUA "local v = redis.call('HMGET', KEYS[1], 'result_id', 'state')\n"
                "if not v[1] then return false end\n"
                "if v[2] == 'done' then\n"
                "  redis.call('HSET', KEYS[1], 'state', 'done')\n"
                "  return v[1]\n"
                "end\n"
                "local id = v[1]\n"
                "redis.call('HSET', 'sf:res:r:' .. id, 's', ARGV[1], 'd', ARGV[2])\n"
                "redis.call('ZADD', 'sf:res:date', ARGV[3], id)\n"
                "local seq = redis.call('INCR', 'sf:res:seq')\n"
                "redis.call('ZADD', 'sf:res:live', seq, id)\n"
                "redis.call('HSET', KEYS[1], 'state', 'done')\n"
                "redis.call('HDEL', KEYS[1], 'meta')\n"
                "redis.call('EXPIRE', KEYS[1], ARGV[4])\n"
                "redis.call('DEL', 'sf:res:pending:' .. id)\n"
                "sf_feed('results', id)\n"
                "return id\n";

static const char *const ABORT_LUA =
    "local v = redis.call('HMGET', KEYS[1], 'result_id', 'state')\n"
    "if not v[1] then return 0 end\n"
    "if v[2] == 'done' then\n"
    "  return redis.error_reply('409 the upload is finished: it is result ' .. v[1])\n"
    "end\n"
    "redis.call('DEL', KEYS[1], 'sf:res:pending:' .. v[1])\n"
    "return 1\n";

static const char *const GET_LUA =
    "local v = redis.call('HMGET', KEYS[1], 's', 'd')\n"
    "if v[1] then return v end\n"
    "if redis.call('ZSCORE', 'sf:res:gone', ARGV[1]) then return 410 end\n"
    "return 404\n";

static const char *const DETAILS_LUA =
    "local out = {}\n"
    "for i, k in ipairs(KEYS) do out[i] = redis.call('HGET', k, 'd') or '' end\n"
    "return out\n";

static const char *const CHANGES_LUA =
    "local seq = tonumber(redis.call('GET', 'sf:res:seq') or '0')\n"
    "local since = tonumber(ARGV[1])\n"
    "local fresh = ARGV[2] == '1'\n"
    "if not fresh and since < tonumber(redis.call('GET', 'sf:res:floor') or '0') then\n"
    "  return {seq, -1, {}, {}}\n"
    "end\n"
    "local upto = math.min(seq, since + tonumber(ARGV[3]))\n"
    "local live = redis.call('ZRANGEBYSCORE', 'sf:res:live', '(' .. since, upto)\n"
    "local out = {}\n"
    "for i, id in ipairs(live) do\n"
    "  out[2 * i - 1] = id\n"
    "  out[2 * i] = redis.call('HGET', 'sf:res:r:' .. id, 's') or ''\n"
    "end\n"
    "local dead = {}\n"
    "if not fresh then dead = redis.call('ZRANGEBYSCORE', 'sf:res:dead', '(' .. since, upto) end\n"
    "return {seq, upto, out, dead}\n";

static const char *const DELETE_LUA =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('ZREM', 'sf:res:date', ARGV[1])\n"
    "redis.call('ZREM', 'sf:res:live', ARGV[1])\n"
    "local seq = redis.call('INCR', 'sf:res:seq')\n"
    "redis.call('ZADD', 'sf:res:dead', seq, ARGV[1])\n"
    "redis.call('ZADD', 'sf:res:gone', ARGV[2], ARGV[1])\n"
    "redis.call('SADD', 'sf:res:purge', ARGV[1])\n"
    "redis.call('PUBLISH', '" SF_RESULTS_DELETED_CHANNEL "', ARGV[1])\n"
    "local n = redis.call('ZCARD', 'sf:res:dead')\n"
    "local keep = tonumber(ARGV[3])\n"
    "if n > keep then\n"
    "  local old = redis.call('ZPOPMIN', 'sf:res:dead', n - keep)\n"
    "  redis.call('SET', 'sf:res:floor', old[#old])\n"
    "end\n"
    "return 1\n";

static const char *const LEASE_LUA = "local cur = redis.call('GET', KEYS[1])\n"
                                     "if not cur or cur == ARGV[1] then\n"
                                     "  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
                                     "  return 1\n"
                                     "end\n"
                                     "return 0\n";

static const char *const RELEASE_LUA =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end\n"
    "return 0\n";

static void up_key(char *out, size_t len, const char *upload_id)
{
    snprintf(out, len, UP_KEY "%s", upload_id);
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf)
        protobuf_c_message_pack(m, buf);
    return buf;
}

void res_upload_clear(res_upload *u)
{
    if (u->meta)
        stbfarm__result_meta__free_unpacked(u->meta, NULL);
    u->meta = NULL;
}

/* Fill out from a {result_id, state[, meta]} reply. */
static int read_upload(const redisReply *v, const char *upload_id, res_upload *out, sf_error *err)
{
    memset(out, 0, sizeof(*out));
    const char *id = v->elements >= 2 ? sf_reply_str(v->element[0]) : NULL;
    const char *state = v->elements >= 2 ? sf_reply_str(v->element[1]) : NULL;
    if (!id || !state)
        return sf_fail(err, SF_ENOTFOUND,
                       "unknown upload_id '%s' (never begun, aborted or "
                       "expired)",
                       upload_id);
    snprintf(out->result_id, sizeof(out->result_id), "%s", id);
    out->finished = !strcmp(state, "done");
    if (!out->finished && v->elements >= 3 && v->element[2]->type == REDIS_REPLY_STRING) {
        out->meta = stbfarm__result_meta__unpack(NULL, v->element[2]->len,
                                                 (const uint8_t *)v->element[2]->str);
        if (!out->meta)
            return sf_fail(err, SF_EINTERNAL, "upload '%s' holds a malformed record", upload_id);
    }
    return 0;
}

int res_store_begin(sf_redis *r, const char *upload_id, const Stbfarm__ResultMeta *meta,
                    int64_t ttl_s, res_upload *out, sf_error *err)
{
    char key[128], base[RES_ID_MAX], ttl[32];
    size_t mlen;
    memset(out, 0, sizeof(*out));
    uint8_t *m = pack(&meta->base, &mlen);
    if (!m)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    up_key(key, sizeof(key), upload_id);
    res_result_id_base(meta->job_uid, meta->start_time_us, base, sizeof(base));
    snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_s);
    const char *args[] = {key, upload_id, base, (const char *)m, ttl};
    size_t lens[] = {strlen(key), strlen(upload_id), strlen(base), mlen, strlen(ttl)};
    redisReply *v;
    int rc = sf_redis_eval(r, BEGIN_LUA, &v, err, 1, 5, args, lens);
    free(m);
    if (rc)
        return rc;
    rc = read_upload(v, upload_id, out, err);
    freeReplyObject(v);
    return rc;
}

int res_store_upload(sf_redis *r, const char *upload_id, int64_t ttl_s, res_upload *out,
                     sf_error *err)
{
    char key[128], ttl[32];
    memset(out, 0, sizeof(*out));
    up_key(key, sizeof(key), upload_id);
    snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_s);
    const char *args[] = {key, ttl};
    redisReply *v;
    int rc = sf_redis_eval(r, UPLOAD_LUA, &v, err, 1, 2, args, NULL);
    if (rc)
        return rc;
    rc = read_upload(v, upload_id, out, err);
    freeReplyObject(v);
    return rc;
}

/* Free text as stored: valid UTF-8, at most max bytes (cut at a character boundary). */
static char *clean_text(const char *s, size_t max)
{
    static const char cut[] = " [cut short by stbfarm]";
    char *t = sf_utf8_repair(s);
    if (!t || strlen(t) <= max)
        return t;
    size_t n = max - sizeof(cut) + 1;
    while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80)
        n--;
    memcpy(t + n, cut, sizeof(cut));
    return t;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp((*(Stbfarm__ManifestEntry *const *)a)->path,
                  (*(Stbfarm__ManifestEntry *const *)b)->path);
}

int res_store_commit(sf_redis *r, const char *upload_id, const Stbfarm__ResultMeta *meta,
                     const Stbfarm__ResultsFinishRequest *fin, int64_t done_ttl_s, char *result_id,
                     sf_error *err)
{
    int passed = !strcmp(fin->result, "pass");
    char *reason = NULL, *traceback = NULL;
    uint8_t *s = NULL, *d = NULL;
    Stbfarm__ManifestEntry **sorted = NULL;
    redisReply *v = NULL;
    int rc = 0;
    if ((!passed && fin->failure_reason &&
         !(reason = clean_text(fin->failure_reason, RES_REASON_MAX))) ||
        (!passed && fin->traceback &&
         !(traceback = clean_text(fin->traceback, RES_TRACEBACK_MAX))) ||
        !(sorted = malloc((fin->n_artifacts ? fin->n_artifacts : 1) * sizeof(*sorted)))) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    Stbfarm__ResultRecord rec = STBFARM__RESULT_RECORD__INIT;
    rec.meta = (Stbfarm__ResultMeta *)meta;
    rec.result = fin->result;
    rec.failure_reason = reason;
    rec.end_time_us = fin->end_time_us;
    if (fin->n_artifacts)
        memcpy(sorted, fin->artifacts, fin->n_artifacts * sizeof(*sorted));
    qsort(sorted, fin->n_artifacts, sizeof(*sorted), cmp_entry);
    Stbfarm__ResultDetail det = STBFARM__RESULT_DETAIL__INIT;
    det.traceback = traceback;
    det.n_artifacts = fin->n_artifacts;
    det.artifacts = sorted;
    size_t slen, dlen;
    if (!(s = pack(&rec.base, &slen)) || !(d = pack(&det.base, &dlen))) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    char key[128], start[32], ttl[32];
    up_key(key, sizeof(key), upload_id);
    snprintf(start, sizeof(start), "%lld", (long long)meta->start_time_us);
    snprintf(ttl, sizeof(ttl), "%lld", (long long)done_ttl_s);
    const char *args[] = {key, (const char *)s, (const char *)d, start, ttl};
    size_t lens[] = {strlen(key), slen, dlen, strlen(start), strlen(ttl)};
    if ((rc = sf_redis_eval(r, COMMIT_LUA, &v, err, 1, 5, args, lens)) ||
        (rc = sf_redis_durable(r, err)))
        goto cleanup;
    const char *id = sf_reply_str(v);
    if (!id)
        rc = sf_fail(err, SF_ENOTFOUND,
                     "unknown upload_id '%s' (never begun, aborted or "
                     "expired)",
                     upload_id);
    else
        snprintf(result_id, RES_ID_MAX, "%s", id);
cleanup:
    if (v)
        freeReplyObject(v);
    free(reason);
    free(traceback);
    free(sorted);
    free(s);
    free(d);
    return rc;
}

int res_store_abort(sf_redis *r, const char *upload_id, sf_error *err)
{
    char key[128];
    up_key(key, sizeof(key), upload_id);
    const char *args[] = {key};
    redisReply *v;
    int rc = sf_redis_eval(r, ABORT_LUA, &v, err, 1, 1, args, NULL);
    if (!rc)
        freeReplyObject(v);
    return rc;
}

int res_store_get(sf_redis *r, const char *result_id, Stbfarm__ResultRecord **rec,
                  Stbfarm__ResultDetail **detail, sf_error *err)
{
    char key[RES_ID_MAX + 16];
    *rec = NULL;
    if (detail)
        *detail = NULL;
    snprintf(key, sizeof(key), RECORD_KEY "%s", result_id);
    const char *args[] = {key, result_id};
    redisReply *v;
    int rc = sf_redis_eval(r, GET_LUA, &v, err, 1, 2, args, NULL);
    if (rc)
        return rc;
    if (v->type == REDIS_REPLY_INTEGER) {
        rc = v->integer == 410 ? sf_fail(err, SF_EGONE, "result %s has been deleted", result_id)
                               : sf_fail(err, SF_ENOTFOUND, "unknown result_id '%s'", result_id);
    } else if (v->elements != 2 || v->element[0]->type != REDIS_REPLY_STRING) {
        rc = sf_fail(err, SF_EINTERNAL, "unexpected reply for result %s", result_id);
    } else {
        const redisReply *s = v->element[0], *d = v->element[1];
        *rec = stbfarm__result_record__unpack(NULL, s->len, (const uint8_t *)s->str);
        if (detail && d->type == REDIS_REPLY_STRING)
            *detail = stbfarm__result_detail__unpack(NULL, d->len, (const uint8_t *)d->str);
        if (!*rec || (detail && !*detail)) {
            rc = sf_fail(err, SF_EINTERNAL, "result %s is stored malformed", result_id);
            if (*rec)
                stbfarm__result_record__free_unpacked(*rec, NULL);
            *rec = NULL;
        }
    }
    freeReplyObject(v);
    return rc;
}

int res_store_details(sf_redis *r, char *const *ids, size_t n, Stbfarm__ResultDetail **out,
                      sf_error *err)
{
    enum { BATCH = 500 };
    int rc = 0;
    memset(out, 0, n * sizeof(*out));
    char **keys = malloc(BATCH * sizeof(*keys));
    if (!keys)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    for (size_t at = 0; at < n && !rc; at += BATCH) {
        size_t k = n - at < BATCH ? n - at : BATCH;
        size_t made = 0;
        for (; made < k; made++) {
            size_t len = strlen(ids[at + made]) + sizeof(RECORD_KEY);
            if (!(keys[made] = malloc(len)))
                break;
            snprintf(keys[made], len, RECORD_KEY "%s", ids[at + made]);
        }
        redisReply *v = NULL;
        if (made < k)
            rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        else
            rc = sf_redis_eval(r, DETAILS_LUA, &v, err, (int)k, (int)k, (const char **)keys, NULL);
        for (size_t i = 0; !rc && i < k && i < v->elements; i++) {
            const redisReply *d = v->element[i];
            if (d->type == REDIS_REPLY_STRING && d->len)
                out[at + i] = stbfarm__result_detail__unpack(NULL, d->len, (const uint8_t *)d->str);
        }
        if (v)
            freeReplyObject(v);
        for (size_t i = 0; i < made; i++)
            free(keys[i]);
    }
    free(keys);
    return rc;
}

void res_changes_clear(res_changes *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->items[i].id);
        if (c->items[i].rec)
            stbfarm__result_record__free_unpacked(c->items[i].rec, NULL);
    }
    free(c->items);
    memset(c, 0, sizeof(*c));
}

int res_store_changes(sf_redis *r, uint64_t since, int fresh, uint64_t max, res_changes *out,
                      sf_error *err)
{
    char a[32], b[32];
    memset(out, 0, sizeof(*out));
    snprintf(a, sizeof(a), "%llu", (unsigned long long)since);
    snprintf(b, sizeof(b), "%llu", (unsigned long long)max);
    const char *args[] = {a, fresh ? "1" : "0", b};
    redisReply *v;
    int rc = sf_redis_eval(r, CHANGES_LUA, &v, err, 0, 3, args, NULL);
    if (rc)
        return rc;
    if (v->type != REDIS_REPLY_ARRAY || v->elements != 4 ||
        v->element[2]->type != REDIS_REPLY_ARRAY || v->element[3]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(v);
        return sf_fail(err, SF_EINTERNAL, "unexpected reply to the changes script");
    }
    out->seq = (uint64_t)sf_reply_int(v->element[0], 0);
    long long upto = sf_reply_int(v->element[1], 0);
    out->reload = upto < 0;
    out->upto = upto < 0 ? 0 : (uint64_t)upto;
    const redisReply *live = v->element[2], *dead = v->element[3];
    size_t total = live->elements / 2 + dead->elements;
    out->items = calloc(total ? total : 1, sizeof(*out->items));
    if (!out->items)
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    for (size_t i = 0; !rc && i + 1 < live->elements; i += 2) {
        const redisReply *id = live->element[i], *s = live->element[i + 1];
        res_change *c = &out->items[out->n];
        if (!sf_reply_str(id) || s->type != REDIS_REPLY_STRING || !s->len)
            continue; /* deleted between the two reads of the script: cannot happen, harmless */
        c->id = strdup(id->str);
        c->rec = stbfarm__result_record__unpack(NULL, s->len, (const uint8_t *)s->str);
        out->n++;
        if (!c->id || !c->rec)
            rc =
                sf_fail(err, SF_EINTERNAL, "result %s: malformed record or out of memory", id->str);
    }
    for (size_t i = 0; !rc && i < dead->elements; i++) {
        if (!sf_reply_str(dead->element[i]))
            continue;
        if (!(out->items[out->n++].id = strdup(dead->element[i]->str)))
            rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    freeReplyObject(v);
    if (rc)
        res_changes_clear(out);
    return rc;
}

int res_store_seq(sf_redis *r, uint64_t *seq, sf_error *err)
{
    redisReply *v;
    int rc = sf_redis_cmd(r, &v, err, "GET sf:res:seq");
    if (rc)
        return rc;
    *seq = (uint64_t)sf_reply_int(v, 0);
    freeReplyObject(v);
    return 0;
}

void res_ids_free(char **ids, size_t n)
{
    for (size_t i = 0; ids && i < n; i++)
        free(ids[i]);
    free(ids);
}

/* The strings of an array reply, copied. */
static int take_ids(redisReply *v, char ***ids, size_t *n, sf_error *err)
{
    *ids = calloc(v->elements ? v->elements : 1, sizeof(char *));
    *n = 0;
    if (!*ids) {
        freeReplyObject(v);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    for (size_t i = 0; i < v->elements; i++) {
        if (sf_reply_str(v->element[i]) && !((*ids)[(*n)++] = strdup(v->element[i]->str))) {
            freeReplyObject(v);
            res_ids_free(*ids, *n);
            *ids = NULL;
            return sf_fail(err, SF_EINTERNAL, "out of memory");
        }
    }
    freeReplyObject(v);
    return 0;
}

int res_store_expired(sf_redis *r, int64_t cutoff_us, size_t max, char ***ids, size_t *n,
                      sf_error *err)
{
    redisReply *v;
    char cutoff[32];
    snprintf(cutoff, sizeof(cutoff), "(%lld", (long long)cutoff_us);
    int rc = sf_redis_cmd(r, &v, err, "ZRANGEBYSCORE sf:res:date -inf %s LIMIT 0 %lld", cutoff,
                          (long long)max); /* hiredis knows no %zu */
    return rc ? rc : take_ids(v, ids, n, err);
}

int res_store_delete(sf_redis *r, const char *result_id, sf_error *err)
{
    char key[RES_ID_MAX + 16], now[32], window[32];
    snprintf(key, sizeof(key), RECORD_KEY "%s", result_id);
    snprintf(now, sizeof(now), "%lld", (long long)sf_now_us());
    snprintf(window, sizeof(window), "%d", RES_DEAD_WINDOW);
    const char *args[] = {key, result_id, now, window};
    redisReply *v;
    int rc = sf_redis_eval(r, DELETE_LUA, &v, err, 1, 4, args, NULL);
    if (!rc)
        freeReplyObject(v);
    return rc;
}

int res_store_purge_list(sf_redis *r, size_t max, char ***ids, size_t *n, sf_error *err)
{
    redisReply *v;
    int rc = sf_redis_cmd(r, &v, err, "SRANDMEMBER sf:res:purge %lld", (long long)max);
    return rc ? rc : take_ids(v, ids, n, err);
}

int res_store_purged(sf_redis *r, const char *result_id, sf_error *err)
{
    redisReply *v;
    int rc = sf_redis_cmd(r, &v, err, "SREM sf:res:purge %s", result_id);
    if (!rc)
        freeReplyObject(v);
    return rc;
}

int res_store_lease(sf_redis *r, const char *name, const char *owner, int ttl_ms, int *got,
                    sf_error *err)
{
    char key[256], ttl[32];
    snprintf(key, sizeof(key), LEASE_KEY "%s", name);
    snprintf(ttl, sizeof(ttl), "%d", ttl_ms);
    const char *args[] = {key, owner, ttl};
    redisReply *v;
    int rc = sf_redis_eval(r, LEASE_LUA, &v, err, 1, 3, args, NULL);
    if (rc)
        return rc;
    *got = sf_reply_int(v, 0) == 1;
    freeReplyObject(v);
    return 0;
}

int res_store_release(sf_redis *r, const char *name, const char *owner, sf_error *err)
{
    char key[256];
    snprintf(key, sizeof(key), LEASE_KEY "%s", name);
    const char *args[] = {key, owner};
    redisReply *v;
    int rc = sf_redis_eval(r, RELEASE_LUA, &v, err, 1, 2, args, NULL);
    if (!rc)
        freeReplyObject(v);
    return rc;
}

int res_store_count(sf_redis *r, long long *n, sf_error *err)
{
    redisReply *reply;
    int rc = sf_redis_cmd(r, &reply, err, "ZCARD sf:res:live");
    if (rc)
        return rc;
    *n = sf_reply_int(reply, 0);
    freeReplyObject(reply);
    return 0;
}
