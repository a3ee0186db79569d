#include "hooks_store.h"

#include "sf_crypto.h"
#include "sf_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 64

void hooks_record_clear(hooks_record *h)
{
    free(h->user);
    free(h->url);
    free(h->secret);
    memset(h, 0, sizeof(*h));
}

static void key_of(char *out, const char *id, const char *suffix)
{
    snprintf(out, KEY_MAX, "sf:hook:%.*s%s", HOOKS_ID_LEN, id, suffix);
}

/* The topics of mask as "jobs,results". */
static void topics_text(unsigned mask, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (int t = 0; t < SF_FEED_TOPICS; t++) {
        if (mask & (1u << t))
            o += (size_t)snprintf(out + o, len - o, "%s%s", o ? "," : "",
                                  sf_feed_topic_name((sf_feed_topic)t));
    }
}

/* KEYS: sf:hooks, sf:hook:<id>. ARGV: id, user, most per user, then fields and values. */
static const char CREATE_SCRIPT[] =
    "local n = 0\n"
    "for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  if redis.call('HGET', 'sf:hook:' .. id, 'user') == ARGV[2] then n = n + 1 end\n"
    "end\n"
    "if n >= tonumber(ARGV[3]) then\n"
    "  return redis.error_reply('409 ' .. ARGV[2] .. ' has ' .. n .. ' webhooks already, the "
    "most one user may have')\n"
    "end\n"
    "redis.call('HSET', KEYS[2], unpack(ARGV, 4))\n"
    "redis.call('SADD', KEYS[1], ARGV[1])\n"
    "return 1\n";

int hooks_create(sf_redis *r, const char *user, const char *url, unsigned mask, const char *secret,
                 hooks_record *out, sf_error *err)
{
    memset(out, 0, sizeof(*out));
    sf_feed_id pos;
    int lost, rc = sf_feed_start(r, 0, &pos, &lost, err);
    if (rc)
        return rc;
    char key[KEY_MAX], topics[80], created[24], spos[SF_FEED_ID_MAX], most[12];
    sf_random_hex(HOOKS_ID_LEN / 2, out->id);
    key_of(key, out->id, "");
    topics_text(mask, topics, sizeof(topics));
    int64_t now = sf_now_us();
    snprintf(created, sizeof(created), "%lld", (long long)now);
    snprintf(most, sizeof(most), "%d", HOOKS_MAX_PER_USER);
    sf_feed_id_format(pos, spos);
    const char *args[] = {"sf:hooks", key,       out->id, user,  most,     "id",      out->id,
                          "user",     user,      "url",   url,   "events", topics,    "secret",
                          secret,     "created", created, "pos", spos,     "attempt", "0"};
    redisReply *reply;
    rc = sf_redis_eval(r, CREATE_SCRIPT, &reply, err, 2, (int)(sizeof(args) / sizeof(args[0])),
                       args, NULL);
    if (rc)
        return rc;
    freeReplyObject(reply);
    out->user = strdup(user);
    out->url = strdup(url);
    out->secret = strdup(secret);
    out->mask = mask;
    out->created_us = now;
    out->pos = pos;
    if (!out->user || !out->url || !out->secret) {
        hooks_record_clear(out);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    return 0;
}

int hooks_get(sf_redis *r, const char *id, hooks_record *out, sf_error *err)
{
    memset(out, 0, sizeof(*out));
    if (strlen(id) != HOOKS_ID_LEN || strspn(id, "0123456789abcdef") != HOOKS_ID_LEN)
        return sf_fail(err, SF_ENOTFOUND, "no webhook %.*s", HOOKS_ID_LEN, id);
    char key[KEY_MAX];
    key_of(key, id, "");
    redisReply *reply;
    int rc = sf_redis_cmd(r, &reply, err, "HGETALL %s", key);
    if (rc)
        return rc;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
        freeReplyObject(reply);
        return sf_fail(err, SF_ENOTFOUND, "no webhook %s", id);
    }
    snprintf(out->id, sizeof(out->id), "%s", id);
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const char *k = sf_reply_str(reply->element[i]), *v = sf_reply_str(reply->element[i + 1]);
        if (!k || !v)
            continue;
        if (!strcmp(k, "user"))
            out->user = strdup(v);
        else if (!strcmp(k, "url"))
            out->url = strdup(v);
        else if (!strcmp(k, "secret"))
            out->secret = strdup(v);
        else if (!strcmp(k, "events"))
            sf_feed_topics_parse(v, &out->mask, NULL);
        else if (!strcmp(k, "created"))
            out->created_us = strtoll(v, NULL, 10);
        else if (!strcmp(k, "pos"))
            sf_feed_id_parse(v, &out->pos, NULL);
        else if (!strcmp(k, "attempt"))
            out->attempt = atoi(v);
        else if (!strcmp(k, "retry_at"))
            out->retry_at_ms = strtoll(v, NULL, 10);
        else if (!strcmp(k, "failing_since"))
            out->failing_since_ms = strtoll(v, NULL, 10);
    }
    freeReplyObject(reply);
    if (!out->user || !out->url || !out->secret) {
        hooks_record_clear(out);
        return sf_fail(err, SF_ENOTFOUND, "no webhook %s", id);
    }
    return 0;
}

int hooks_list(sf_redis *r, char ***ids, size_t *n, sf_error *err)
{
    redisReply *reply;
    *ids = NULL;
    *n = 0;
    int rc = sf_redis_cmd(r, &reply, err, "SMEMBERS sf:hooks");
    return rc ? rc : sf_reply_strings(reply, ids, n, err);
}

void hooks_ids_free(char **ids, size_t n)
{
    sf_strings_free(ids, n);
}

int hooks_delete(sf_redis *r, const char *id, sf_error *err)
{
    char key[KEY_MAX], log[KEY_MAX];
    key_of(key, id, "");
    key_of(log, id, ":log");
    redisReply *reply;
    int rc = sf_redis_cmd(r, &reply, err, "DEL %s %s", key, log);
    if (rc)
        return rc;
    long long n = sf_reply_int(reply, 0);
    freeReplyObject(reply);
    if ((rc = sf_redis_cmd(r, &reply, err, "SREM sf:hooks %s", id)))
        return rc;
    freeReplyObject(reply);
    return n ? 0 : sf_fail(err, SF_ENOTFOUND, "no webhook %s", id);
}

/* KEYS: sf:hooks. ARGV: user. */
static const char REMOVE_USER_SCRIPT[] = "for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
                                         "  local key = 'sf:hook:' .. id\n"
                                         "  if redis.call('HGET', key, 'user') == ARGV[1] then\n"
                                         "    redis.call('DEL', key, key .. ':log')\n"
                                         "    redis.call('SREM', KEYS[1], id)\n"
                                         "  end\n"
                                         "end\n"
                                         "return 1\n";

int hooks_remove_user(sf_redis *r, const char *user, sf_error *err)
{
    const char *args[] = {"sf:hooks", user};
    redisReply *reply;
    int rc = sf_redis_eval(r, REMOVE_USER_SCRIPT, &reply, err, 1, 2, args, NULL);
    if (!rc)
        freeReplyObject(reply);
    return rc;
}

int hooks_deliveries(sf_redis *r, const char *id, cJSON **out, sf_error *err)
{
    char log[KEY_MAX];
    key_of(log, id, ":log");
    redisReply *reply;
    *out = NULL;
    int rc = sf_redis_cmd(r, &reply, err, "LRANGE %s 0 %d", log, HOOKS_LOG_MAX - 1);
    if (rc)
        return rc;
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < reply->elements; i++) {
        const char *s = sf_reply_str(reply->element[i]);
        cJSON *d = s ? cJSON_Parse(s) : NULL;
        if (d)
            cJSON_AddItemToArray(a, d);
    }
    freeReplyObject(reply);
    if (!a)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    *out = a;
    return 0;
}

/* KEYS: the lease. ARGV: owner, ttl (ms). 1 when owner holds it now. */
static const char LEASE_SCRIPT[] = "local cur = redis.call('GET', KEYS[1])\n"
                                   "if cur and cur ~= ARGV[1] then return 0 end\n"
                                   "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
                                   "return 1\n";

int hooks_lease(sf_redis *r, const char *id, const char *owner, int ttl_ms, int *held,
                sf_error *err)
{
    char key[KEY_MAX], ttl[16];
    key_of(key, id, ":lease");
    snprintf(ttl, sizeof(ttl), "%d", ttl_ms);
    const char *args[] = {key, owner, ttl};
    redisReply *reply;
    int rc = sf_redis_eval(r, LEASE_SCRIPT, &reply, err, 1, 3, args, NULL);
    if (rc)
        return rc;
    *held = (int)sf_reply_int(reply, 0);
    freeReplyObject(reply);
    return 0;
}

static const char RELEASE_SCRIPT[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end\n"
    "return 1\n";

void hooks_release(sf_redis *r, const char *id, const char *owner)
{
    char key[KEY_MAX];
    key_of(key, id, ":lease");
    const char *args[] = {key, owner};
    redisReply *reply;
    if (!sf_redis_eval(r, RELEASE_SCRIPT, &reply, NULL, 1, 2, args, NULL))
        freeReplyObject(reply);
}

/* KEYS: the lease, the hook, its log. ARGV: owner, a log entry or '', the log's length, then
 * fields and values. Nothing when the lease is another's, or the hook has gone. */
static const char RECORD_SCRIPT[] =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then\n"
    "  return redis.error_reply('409 the lease on this webhook was lost')\n"
    "end\n"
    "if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end\n"
    "redis.call('HSET', KEYS[2], unpack(ARGV, 4))\n"
    "if ARGV[2] ~= '' then\n"
    "  redis.call('LPUSH', KEYS[3], ARGV[2])\n"
    "  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[3]) - 1)\n"
    "end\n"
    "return 1\n";

static int record(sf_redis *r, const char *id, const char *owner, const char *log,
                  const char **fields, int n_fields, sf_error *err)
{
    char lease[KEY_MAX], key[KEY_MAX], logkey[KEY_MAX], most[12];
    key_of(lease, id, ":lease");
    key_of(key, id, "");
    key_of(logkey, id, ":log");
    snprintf(most, sizeof(most), "%d", HOOKS_LOG_MAX);
    const char *args[16] = {lease, key, logkey, owner, log ? log : "", most};
    for (int i = 0; i < n_fields; i++)
        args[6 + i] = fields[i];
    redisReply *reply;
    int rc = sf_redis_eval(r, RECORD_SCRIPT, &reply, err, 3, 6 + n_fields, args, NULL);
    if (!rc)
        freeReplyObject(reply);
    return rc;
}

int hooks_advance(sf_redis *r, const char *id, const char *owner, sf_feed_id pos, const char *log,
                  sf_error *err)
{
    char spos[SF_FEED_ID_MAX];
    sf_feed_id_format(pos, spos);
    const char *fields[] = {"pos", spos, "attempt", "0", "retry_at", "0", "failing_since", "0"};
    return record(r, id, owner, log, fields, 8, err);
}

int hooks_failed(sf_redis *r, const char *id, const char *owner, int attempt, int64_t retry_at_ms,
                 int64_t failing_since_ms, const char *log, sf_error *err)
{
    char a[12], at[24], since[24];
    snprintf(a, sizeof(a), "%d", attempt);
    snprintf(at, sizeof(at), "%lld", (long long)retry_at_ms);
    snprintf(since, sizeof(since), "%lld", (long long)failing_since_ms);
    const char *fields[] = {"attempt", a, "retry_at", at, "failing_since", since};
    return record(r, id, owner, log, fields, 6, err);
}
