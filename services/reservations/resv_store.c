#include "resv_store.h"

#include "nodes_store.h"
#include "resv_input.h"
#include "sf_feed.h"
#include "sf_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 160

/* Lua every script here shares, after RESV_LUA_MAY_USE. resv_view(id) gives the record of a
 * reservation as {id, held (1 or 0), field, value, ...}, or false when there is none. "held"
 * is the truth: whether the node's key holds this id; Redis drops that key the instant the
 * reservation expires, so an expired reservation reads as ended from that instant. */
#define LUA_COMMON                                                                                 \
    RESV_LUA_MAY_USE SF_FEED_LUA                                                                   \
        "local function resv_now_ms()\n"                                                           \
        "  local t = redis.call('TIME')\n"                                                         \
        "  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"                     \
        "end\n"                                                                                    \
        "local function resv_int(x) return string.format('%d', x) end\n" RESV_LUA_NODE_VIEW

/* KEYS: per node i, sf:node:<node>, sf:node:<node>:job and sf:node:<node>:reservation; then
 * sf:resv:next_id, sf:resv:current, sf:resv:req:<request_id>.
 * ARGV: user, message, message_html, duration_secs or "", then the node ids.
 * Every node is checked before any is taken: all or nothing. The expiry is rounded up to the
 * whole second, so that the expires shown (whole seconds, as the spec shows it) is the exact
 * end and the hold is never shorter than asked. */
static const char CREATE_SCRIPT[] = LUA_COMMON NODES_LUA_MAINTENANCE
    "local n = (#KEYS - 3) / 3\n"
    "local out = {}\n"
    "local done = redis.call('GET', KEYS[3 * n + 3])\n"
    "if done then\n"
    "  redis.call('SET', KEYS[3 * n + 3], done, 'KEEPTTL')\n"
    "  for id in string.gmatch(done, '%d+') do\n"
    "    local v = resv_view(id)\n"
    "    if v then out[#out + 1] = v end\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "for i = 1, n do\n"
    "  if redis.call('EXISTS', KEYS[3 * i - 2]) == 0 then\n"
    "    return redis.error_reply(\"404 unknown node_id '\" .. ARGV[4 + i] .. \"'\")\n"
    "  end\n"
    "end\n"
    "for i = 1, n do\n"
    "  local node = ARGV[4 + i]\n"
    "  local why = nodes_maintenance_refusal(node, ARGV[1])\n"
    "  if why then return redis.error_reply('409 ' .. why) end\n"
    "  local who, msg = resv_holder(node)\n"
    "  if who then\n"
    "    return redis.error_reply('409 Node ' .. node .. ' is already reserved by @' .. who ..\n"
    "                             ': ' .. msg)\n"
    "  end\n"
    "  if redis.call('EXISTS', KEYS[3 * i - 1]) == 1 then\n"
    "    return redis.error_reply('409 Node ' .. node .. ' is busy running a job')\n"
    "  end\n"
    "end\n"
    "local now = resv_now_ms()\n"
    "local expires = ''\n"
    "if ARGV[4] ~= '' then\n"
    "  expires = resv_int(math.ceil((now + tonumber(ARGV[4]) * 1000) / 1000) * 1000)\n"
    "end\n"
    "local last = redis.call('INCRBY', KEYS[3 * n + 1], n)\n"
    "local ids = {}\n"
    "for i = 1, n do\n"
    "  local id = resv_int(last - n + i)\n"
    "  ids[i] = id\n"
    "  redis.call('HSET', 'sf:resv:' .. id, 'reservation_id', id, 'node_id', ARGV[4 + i],\n"
    "             'username', ARGV[1], 'message', ARGV[2], 'message_html', ARGV[3],\n"
    "             'start', resv_int(now), 'expires', expires)\n"
    "  if expires ~= '' then\n"
    "    redis.call('SET', KEYS[3 * i], id, 'PXAT', expires)\n"
    "    redis.call('ZADD', KEYS[3 * n + 2], expires, id)\n"
    "  else\n"
    "    redis.call('SET', KEYS[3 * i], id)\n"
    "    redis.call('ZADD', KEYS[3 * n + 2], '+inf', id)\n"
    "  end\n"
    "end\n"
    "redis.call('SET', KEYS[3 * n + 3], table.concat(ids, ' '), 'PX', 120000)\n"
    "for i = 1, n do\n"
    "  sf_feed('reservations', ids[i])\n"
    "  sf_feed('nodes', ARGV[4 + i])\n"
    "end\n"
    "for i = 1, n do out[i] = resv_view(ids[i]) end\n"
    "return out\n";

/* KEYS: sf:resv:<id>, sf:resv:current, sf:resv:req:<request_id>.
 * ARGV: id, user, duration_secs, the longest a reservation may still last (secs). */
static const char EXTEND_SCRIPT[] = LUA_COMMON
    "if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end\n"
    "local h = redis.call('HMGET', KEYS[1], 'username', 'node_id', 'expires')\n"
    "if not h[1] then\n"
    "  return redis.error_reply(\"404 Reservation \" .. ARGV[1] .. \" doesn't exist\")\n"
    "end\n"
    "if h[1] ~= ARGV[2] then\n"
    "  return redis.error_reply('403 Reservation ' .. ARGV[1] .. ' was not created by you ' ..\n"
    "                           '(it is @' .. h[1] .. \"'s)\")\n"
    "end\n"
    "local nk = 'sf:node:' .. h[2] .. ':reservation'\n"
    "if redis.call('GET', nk) ~= ARGV[1] then\n"
    "  return redis.error_reply('400 Reservation ' .. ARGV[1] .. ' already ended')\n"
    "end\n"
    "if h[3] ~= '' then\n"
    "  local expires = tonumber(h[3]) + tonumber(ARGV[3]) * 1000\n"
    "  if expires > resv_now_ms() + tonumber(ARGV[4]) * 1000 then\n"
    "    return redis.error_reply('400 a reservation may last at most ' .. ARGV[4] ..\n"
    "                             ' seconds from now')\n"
    "  end\n"
    "  redis.call('HSET', KEYS[1], 'expires', resv_int(expires))\n"
    "  redis.call('PEXPIREAT', nk, resv_int(expires))\n"
    "  redis.call('ZADD', KEYS[2], resv_int(expires), ARGV[1])\n"
    "  sf_feed('reservations', ARGV[1])\n"
    "end\n"
    "redis.call('SET', KEYS[3], '1', 'PX', 120000)\n"
    "return 1\n";

/* End (by its owner) or interrupt (by anyone) a reservation.
 * KEYS: sf:resv:<id>, sf:resv:current.
 * ARGV: id, user, "ended" or "interrupted", message, message_html, how long to keep it (ms).
 * Returns 1 when it ended now, 0 when it had already ended. */
static const char FINISH_SCRIPT[] = LUA_COMMON
    "local h = redis.call('HMGET', KEYS[1], 'username', 'node_id')\n"
    "if not h[1] then\n"
    "  return redis.error_reply(\"404 Reservation \" .. ARGV[1] .. \" doesn't exist\")\n"
    "end\n"
    "if ARGV[3] == 'ended' and h[1] ~= ARGV[2] then\n"
    "  return redis.error_reply('403 Reservation ' .. ARGV[1] .. ' was not made by you ' ..\n"
    "                           '(it is @' .. h[1] .. \"'s): interrupt it instead\")\n"
    "end\n"
    "local nk = 'sf:node:' .. h[2] .. ':reservation'\n"
    "if redis.call('GET', nk) ~= ARGV[1] then return 0 end\n"
    "redis.call('DEL', nk)\n"
    "redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "redis.call('HSET', KEYS[1], 'end_time', resv_int(resv_now_ms()), 'end_reason', ARGV[3],\n"
    "           'ended_by', ARGV[2])\n"
    "if ARGV[3] == 'interrupted' then\n"
    "  redis.call('HSET', KEYS[1], 'interrupt_message', ARGV[4], 'interrupt_message_html',\n"
    "             ARGV[5])\n"
    "end\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[6])\n"
    "sf_feed('reservations', ARGV[1])\n"
    "sf_feed('nodes', h[2])\n"
    "return 1\n";

/* KEYS: sf:resv:current. ARGV: how long to keep an ended record (ms), most to finish at once.
 * Returns {now, next expiry or -1}. A due reservation whose key is somehow still there is left
 * for a later run. */
static const char SWEEP_SCRIPT[] = LUA_COMMON
    "local now = resv_now_ms()\n"
    "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. resv_int(now), 'LIMIT', 0,\n"
    "                       tonumber(ARGV[2]))\n"
    "for _, id in ipairs(due) do\n"
    "  local key = 'sf:resv:' .. id\n"
    "  local h = redis.call('HMGET', key, 'node_id', 'expires', 'end_reason')\n"
    "  if not h[1] then\n"
    "    redis.call('ZREM', KEYS[1], id)\n"
    "  elseif redis.call('GET', 'sf:node:' .. h[1] .. ':reservation') ~= id then\n"
    "    if not h[3] then\n"
    "      redis.call('HSET', key, 'end_time', h[2], 'end_reason', 'expired')\n"
    "      redis.call('PEXPIRE', key, ARGV[1])\n"
    "      sf_feed('reservations', id)\n"
    "      sf_feed('nodes', h[1])\n"
    "    end\n"
    "    redis.call('ZREM', KEYS[1], id)\n"
    "  end\n"
    "end\n"
    "local nxt = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '+inf', 'WITHSCORES', 'LIMIT', 0,\n"
    "                       1)\n"
    "local next_ms = -1\n"
    "if #nxt == 2 and nxt[2] ~= 'inf' then next_ms = tonumber(nxt[2]) end\n"
    "return {resv_int(now), resv_int(next_ms)}\n";

/* KEYS: sf:resv:current. Every current reservation, by id. */
static const char LIST_SCRIPT[] =
    LUA_COMMON "local ids = redis.call('ZRANGE', KEYS[1], 0, -1)\n"
               "table.sort(ids, function(a, b) return tonumber(a) < tonumber(b) end)\n"
               "local out = {}\n"
               "for _, id in ipairs(ids) do\n"
               "  local v = resv_view(id)\n"
               "  if v and v[2] == 1 then out[#out + 1] = v end\n"
               "end\n"
               "return out\n";

/* ARGV: id. */
static const char GET_SCRIPT[] =
    LUA_COMMON "local v = resv_view(ARGV[1])\n"
               "if not v then\n"
               "  return redis.error_reply(\"404 Reservation \" .. ARGV[1] .. \" doesn't exist\")\n"
               "end\n"
               "return v\n";

/* ARGV: node id, user. */
static const char MAY_USE_SCRIPT[] =
    RESV_LUA_MAY_USE "local why = resv_refusal(ARGV[1], ARGV[2])\n"
                     "if why then return redis.error_reply('409 ' .. why) end\n"
                     "return 0\n";

/* ---- views ---- */

static void format_ms(const char *ms, char *out, size_t len)
{
    sf_time_format(strtoll(ms, NULL, 10) * 1000, out, len, SF_TIME_OFFSET | SF_TIME_NO_FRAC);
}

/* Fill v from one resv_view() result; its strings point into item. */
static int view_parse(resv_view *v, const redisReply *item, const char *caller, sf_error *err)
{
    memset(v, 0, sizeof(*v));
    Stbfarm__Reservation *m = &v->msg;
    stbfarm__reservation__init(m);
    stbfarm__reservation_interruption__init(&v->interruption);
    if (!item || item->type != REDIS_REPLY_ARRAY || item->elements < 2 || item->elements % 2)
        return sf_fail(err, SF_EINTERNAL, "malformed reservation record");
    const char *id = sf_reply_str(item->element[0]);
    int held = sf_reply_int(item->element[1], 0) == 1;
    const char *expires = NULL, *end_time = NULL, *ended_by = NULL, *im = NULL, *imh = NULL;
    m->reservation_id = id ? strtoll(id, NULL, 10) : 0;
    for (size_t i = 2; i + 1 < item->elements; i += 2) {
        const char *k = sf_reply_str(item->element[i]);
        char *val = (char *)sf_reply_str(item->element[i + 1]);
        if (!k || !val)
            continue;
        if (!strcmp(k, "node_id"))
            m->node_id = val;
        else if (!strcmp(k, "username"))
            m->username = val;
        else if (!strcmp(k, "message"))
            m->message = val;
        else if (!strcmp(k, "message_html"))
            m->message_html = val;
        else if (!strcmp(k, "start"))
            format_ms(val, v->start_time, sizeof(v->start_time));
        else if (!strcmp(k, "expires") && *val)
            expires = val;
        else if (!strcmp(k, "end_time"))
            end_time = val;
        else if (!strcmp(k, "end_reason"))
            m->end_reason = val;
        else if (!strcmp(k, "ended_by"))
            ended_by = val;
        else if (!strcmp(k, "interrupt_message"))
            im = val;
        else if (!strcmp(k, "interrupt_message_html"))
            imh = val;
    }
    if (!m->node_id || !m->username || !m->message || !m->message_html || !v->start_time[0])
        return sf_fail(err, SF_EINTERNAL, "reservation %s has a malformed record", id ? id : "?");
    m->start_time = v->start_time;
    m->reserved_by_you = caller && !strcmp(caller, m->username);
    if (expires) {
        format_ms(expires, v->expires, sizeof(v->expires));
        m->expires = v->expires;
    }
    if (held) {
        m->end_reason = NULL; /* the node's key is the truth */
        return 0;
    }
    if (!m->end_reason) { /* its key expired; the sweeper has not written it down yet */
        m->end_reason = (char *)"expired";
        end_time = expires;
    }
    if (end_time) {
        format_ms(end_time, v->end_time, sizeof(v->end_time));
        m->end_time = v->end_time;
    }
    if (!strcmp(m->end_reason, "interrupted") && ended_by && im && imh) {
        v->interruption.username = (char *)ended_by;
        v->interruption.message = (char *)im;
        v->interruption.message_html = (char *)imh;
        m->interruption = &v->interruption;
    }
    return 0;
}

void resv_view_clear(resv_view *v)
{
    if (v->owned)
        freeReplyObject(v->owned);
    memset(v, 0, sizeof(*v));
}

void resv_views_clear(resv_views *vs)
{
    free(vs->views);
    free(vs->msgs);
    if (vs->reply)
        freeReplyObject(vs->reply);
    memset(vs, 0, sizeof(*vs));
}

/* Take reply (an array of resv_view() results) into out. */
static int views_parse(redisReply *reply, const char *caller, resv_views *out, sf_error *err)
{
    memset(out, 0, sizeof(*out));
    out->reply = reply;
    if (reply->type != REDIS_REPLY_ARRAY) {
        resv_views_clear(out);
        return sf_fail(err, SF_EINTERNAL, "malformed reservation list");
    }
    size_t n = reply->elements;
    out->views = calloc(n ? n : 1, sizeof(*out->views));
    out->msgs = calloc(n ? n : 1, sizeof(*out->msgs));
    if (!out->views || !out->msgs) {
        resv_views_clear(out);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        int rc = view_parse(&out->views[i], reply->element[i], caller, err);
        if (rc) {
            resv_views_clear(out);
            return rc;
        }
        out->msgs[i] = &out->views[i].msg;
    }
    out->n = n;
    return 0;
}

/* ---- the store ---- */

static void node_key(char *out, const char *node, const char *suffix)
{
    snprintf(out, KEY_MAX, "sf:node:%s%s", node, suffix);
}

int resv_create(sf_redis *r, const resv_new *req, resv_views *out, sf_error *err)
{
    memset(out, 0, sizeof(*out));
    size_t nkeys = 3 * req->n + 3, nargs = nkeys + 4 + req->n;
    char(*keys)[KEY_MAX] = calloc(nkeys, sizeof(*keys));
    const char **args = calloc(nargs, sizeof(*args));
    char duration[24] = "";
    int rc;
    if (!keys || !args) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < req->n; i++) {
        node_key(keys[3 * i], req->node_ids[i], "");
        node_key(keys[3 * i + 1], req->node_ids[i], ":job");
        node_key(keys[3 * i + 2], req->node_ids[i], ":reservation");
    }
    snprintf(keys[3 * req->n], KEY_MAX, "sf:resv:next_id");
    snprintf(keys[3 * req->n + 1], KEY_MAX, "sf:resv:current");
    snprintf(keys[3 * req->n + 2], KEY_MAX, "sf:resv:req:%.120s", req->request_id);
    for (size_t i = 0; i < nkeys; i++)
        args[i] = keys[i];
    if (req->duration_secs > 0)
        snprintf(duration, sizeof(duration), "%lld", (long long)req->duration_secs);
    args[nkeys] = req->user;
    args[nkeys + 1] = req->message;
    args[nkeys + 2] = req->message_html;
    args[nkeys + 3] = duration;
    for (size_t i = 0; i < req->n; i++)
        args[nkeys + 4 + i] = req->node_ids[i];
    redisReply *reply;
    rc = sf_redis_eval(r, CREATE_SCRIPT, &reply, err, (int)nkeys, (int)nargs, args, NULL);
    if (!rc && (rc = sf_redis_durable(r, err)))
        freeReplyObject(reply);
    else if (!rc)
        rc = views_parse(reply, req->user, out, err);
cleanup:
    free(keys);
    free(args);
    return rc;
}

int resv_list_current(sf_redis *r, const char *caller, resv_views *out, sf_error *err)
{
    memset(out, 0, sizeof(*out));
    const char *args[] = {"sf:resv:current"};
    redisReply *reply;
    int rc = sf_redis_eval(r, LIST_SCRIPT, &reply, err, 1, 1, args, NULL);
    return rc ? rc : views_parse(reply, caller, out, err);
}

int resv_get(sf_redis *r, int64_t id, const char *caller, resv_view *out, sf_error *err)
{
    memset(out, 0, sizeof(*out));
    char sid[24];
    snprintf(sid, sizeof(sid), "%lld", (long long)id);
    const char *args[] = {sid};
    redisReply *reply;
    int rc = sf_redis_eval(r, GET_SCRIPT, &reply, err, 0, 1, args, NULL);
    if (rc)
        return rc;
    if ((rc = view_parse(out, reply, caller, err))) {
        freeReplyObject(reply);
        memset(out, 0, sizeof(*out));
        return rc;
    }
    out->owned = reply;
    return 0;
}

static void record_key(char *out, int64_t id)
{
    snprintf(out, KEY_MAX, "sf:resv:%lld", (long long)id);
}

int resv_extend(sf_redis *r, int64_t id, const char *user, int64_t secs, const char *request_id,
                sf_error *err)
{
    char key[KEY_MAX], done[KEY_MAX], sid[24], ssecs[24], max[24];
    record_key(key, id);
    snprintf(done, sizeof(done), "sf:resv:req:%.120s", request_id);
    snprintf(sid, sizeof(sid), "%lld", (long long)id);
    snprintf(ssecs, sizeof(ssecs), "%lld", (long long)secs);
    snprintf(max, sizeof(max), "%lld", (long long)RESV_MAX_DURATION_SECS);
    const char *args[] = {key, "sf:resv:current", done, sid, user, ssecs, max};
    redisReply *reply;
    int rc = sf_redis_eval(r, EXTEND_SCRIPT, &reply, err, 3, 7, args, NULL);
    if (!rc)
        freeReplyObject(reply);
    return rc;
}

static int finish(sf_redis *r, int64_t id, const char *user, const char *reason,
                  const char *message, const char *message_html, sf_error *err)
{
    char key[KEY_MAX], sid[24], keep[24];
    record_key(key, id);
    snprintf(sid, sizeof(sid), "%lld", (long long)id);
    snprintf(keep, sizeof(keep), "%lld", (long long)RESV_KEEP_ENDED_MS);
    const char *args[] = {key, "sf:resv:current", sid, user, reason, message, message_html, keep};
    redisReply *reply;
    int rc = sf_redis_eval(r, FINISH_SCRIPT, &reply, err, 2, 8, args, NULL);
    if (!rc)
        freeReplyObject(reply);
    return rc;
}

int resv_end(sf_redis *r, int64_t id, const char *user, sf_error *err)
{
    return finish(r, id, user, "ended", "", "", err);
}

int resv_interrupt(sf_redis *r, int64_t id, const char *user, const char *message,
                   const char *message_html, sf_error *err)
{
    return finish(r, id, user, "interrupted", message, message_html, err);
}

int resv_sweep(sf_redis *r, int64_t *now_ms, int64_t *next_ms, sf_error *err)
{
    char keep[24];
    snprintf(keep, sizeof(keep), "%lld", (long long)RESV_KEEP_ENDED_MS);
    const char *args[] = {"sf:resv:current", keep, "1000"};
    redisReply *reply;
    int rc = sf_redis_eval(r, SWEEP_SCRIPT, &reply, err, 1, 3, args, NULL);
    if (rc)
        return rc;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        freeReplyObject(reply);
        return sf_fail(err, SF_EINTERNAL, "malformed sweep reply");
    }
    *now_ms = sf_reply_int(reply->element[0], 0);
    *next_ms = sf_reply_int(reply->element[1], -1);
    freeReplyObject(reply);
    return 0;
}

/* ---- for other services ---- */

int resv_node_status_of(const redisReply *item, const char *caller, Stbfarm__Node *n, resv_view *v,
                        sf_error *err)
{
    memset(v, 0, sizeof(*v));
    if (!item || item->type == REDIS_REPLY_NIL) /* not reserved */
        return 0;
    int rc = view_parse(v, item, caller, err);
    if (rc) {
        memset(v, 0, sizeof(*v));
        return rc;
    }
    n->reservation = &v->msg;
    if (n->available) {
        n->available = 0;
        snprintf(v->reason, sizeof(v->reason), "Node %s reserved by @%s", n->node_id,
                 v->msg.username);
        n->not_available_reason = v->reason;
    }
    return 0;
}

int resv_check_use(sf_redis *r, const char *node_id, const char *user, sf_error *err)
{
    const char *args[] = {node_id, user};
    redisReply *reply;
    int rc = sf_redis_eval(r, MAY_USE_SCRIPT, &reply, err, 0, 2, args, NULL);
    if (!rc)
        freeReplyObject(reply);
    return rc;
}
