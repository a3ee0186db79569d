#include "nodes_store.h"

#include "sf_feed.h"
#include "sf_time.h"
#include "sf_utf8.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ONLINE_KEY "sf:nodes:online"

int nodes_valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > NODES_ID_MAX || !isalnum((unsigned char)id[0]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!isalnum(c) && c != '_' && c != '-' && c != '.')
            return 0;
    }
    return 1;
}

static int unknown(sf_error *err, const char *id)
{
    return sf_fail(err, SF_ENOTFOUND, "unknown node_id '%.*s'", NODES_ID_MAX, id);
}

/* The fields of a node's record that its status shows: a change of one is a node event. */
#define SHOWN_FIELDS "local_ip_address external_ip_address licence_expiry agent_trouble"

/* KEYS: sf:node:<id>, sf:nodes, sf:node:<id>:alive, sf:nodes:online. ARGV: id, alive (1 or 0),
 * the online TTL (ms), then the record's fields and values. A node event when the node is new,
 * comes online, or a field its status shows changed. */
static const char REGISTER_SCRIPT[] = SF_FEED_LUA
    "local changed = redis.call('SADD', KEYS[2], ARGV[1]) == 1\n"
    "for i = 4, #ARGV, 2 do\n"
    "  if string.find(' " SHOWN_FIELDS " ', ' ' .. ARGV[i] .. ' ', 1, true) and\n"
    "     redis.call('HGET', KEYS[1], ARGV[i]) ~= ARGV[i + 1] then changed = true end\n"
    "end\n"
    "redis.call('HSET', KEYS[1], unpack(ARGV, 4))\n"
    "if ARGV[2] == '1' then\n"
    "  redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])\n"
    "  local t = redis.call('TIME')\n"
    "  local due = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[3])\n"
    "  if redis.call('ZADD', KEYS[4], string.format('%d', due), ARGV[1]) == 1 then\n"
    "    changed = true\n"
    "  end\n"
    "end\n"
    "if changed then sf_feed('nodes', ARGV[1]) end\n"
    "return 1\n";

int nodes_register(sf_redis *r, const char *id, const nodes_info *info, int alive, sf_error *err)
{
    if (!nodes_valid_id(id))
        return sf_fail(err, SF_EINVAL, "invalid node id '%.*s'", NODES_ID_MAX, id);
    const char *args[40];
    int n = 0;
    char key[96], alive_key[112], now[24], ttl[16];
    snprintf(key, sizeof(key), "sf:node:%s", id);
    snprintf(alive_key, sizeof(alive_key), "sf:node:%s:alive", id);
    snprintf(now, sizeof(now), "%lld", (long long)sf_now_us());
    snprintf(ttl, sizeof(ttl), "%d", NODES_ONLINE_TTL_MS);
    args[n++] = key;
    args[n++] = "sf:nodes";
    args[n++] = alive_key;
    args[n++] = ONLINE_KEY;
    args[n++] = id;
    args[n++] = alive ? "1" : "0";
    args[n++] = ttl;
    args[n++] = "node_id";
    args[n++] = id;
    args[n++] = "registered";
    args[n++] = now;
    const char *fields[][2] = {{"address", info->address},
                               {"version", info->version},
                               {"local_ip_address", info->local_ip_address},
                               {"external_ip_address", info->external_ip_address},
                               {"licence_expiry", info->licence_expiry},
                               {"agent_job", info->agent_job},
                               {"agent_instance", info->agent_instance},
                               {"agent_delivering", info->agent_delivering},
                               {"agent_trouble", info->agent_trouble},
                               {"heartbeat_us", alive ? now : NULL}};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (fields[i][1]) {
            args[n++] = fields[i][0];
            args[n++] = fields[i][1];
        }
    }
    redisReply *reply;
    int rc = sf_redis_eval(r, REGISTER_SCRIPT, &reply, err, 4, n, args, NULL);
    if (!rc)
        freeReplyObject(reply);
    return rc;
}

/* KEYS: sf:nodes:online. ARGV: most to look at. Nodes whose heartbeats stopped: a node event
 * each, once (the node leaves the set). A node whose key is still there (its heartbeat came
 * within the millisecond) is left for the next sweep. */
static const char OFFLINE_SCRIPT[] = SF_FEED_LUA
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now),\n"
    "                       'LIMIT', 0, tonumber(ARGV[1]))\n"
    "for _, id in ipairs(due) do\n"
    "  if redis.call('EXISTS', 'sf:node:' .. id .. ':alive') == 0 then\n"
    "    redis.call('ZREM', KEYS[1], id)\n"
    "    sf_feed('nodes', id)\n"
    "  end\n"
    "end\n"
    "return #due\n";

int nodes_sweep_offline(sf_redis *r, sf_error *err)
{
    const char *args[] = {ONLINE_KEY, "1000"};
    redisReply *reply;
    int rc = sf_redis_eval(r, OFFLINE_SCRIPT, &reply, err, 1, 2, args, NULL);
    if (!rc)
        freeReplyObject(reply);
    return rc;
}

/* ARGV: node id. */
static const char GET_SCRIPT[] = NODES_LUA_GET "return nodes_get(ARGV[1])\n";

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

int nodes_get_of(const redisReply *item, const char *id, nodes_record *out, sf_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!item || item->type != REDIS_REPLY_ARRAY || item->elements < 1)
        return unknown(err, id);
    snprintf(out->node_id, sizeof(out->node_id), "%s", id);
    out->online = (int)sf_reply_int(item->element[0], 0);
    for (size_t i = 1; i + 1 < item->elements; i += 2) {
        const char *k = sf_reply_str(item->element[i]);
        const char *v = sf_reply_str(item->element[i + 1]);
        if (!k || !v)
            continue;
        if (!strcmp(k, "address"))
            out->address = dup_or_null(v);
        else if (!strcmp(k, "version"))
            out->version = dup_or_null(v);
        else if (!strcmp(k, "local_ip_address"))
            out->local_ip_address = dup_or_null(v);
        else if (!strcmp(k, "external_ip_address"))
            out->external_ip_address = dup_or_null(v);
        else if (!strcmp(k, "licence_expiry"))
            out->licence_expiry = dup_or_null(v);
        else if (!strcmp(k, "last_used_by"))
            out->last_used_by = dup_or_null(v);
        else if (!strcmp(k, "last_used_time"))
            out->last_used_time_us = strtoll(v, NULL, 10);
        else if (!strcmp(k, "agent_job"))
            out->agent_job = strdup(v);
        else if (!strcmp(k, "agent_instance"))
            out->agent_instance = dup_or_null(v);
        else if (!strcmp(k, "agent_delivering"))
            out->agent_delivering = dup_or_null(v);
        else if (!strcmp(k, "agent_trouble"))
            out->agent_trouble = dup_or_null(v);
        else if (!strcmp(k, "heartbeat_us"))
            out->heartbeat_us = strtoll(v, NULL, 10);
        else if (!strcmp(k, "maintenance"))
            out->maintenance = strdup(v);
        else if (!strcmp(k, "maintenance_by"))
            out->maintenance_by = dup_or_null(v);
    }
    return 0;
}

int nodes_get(sf_redis *r, const char *id, nodes_record *out, sf_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!nodes_valid_id(id))
        return unknown(err, id);
    const char *args[] = {id};
    redisReply *reply;
    int rc = sf_redis_eval(r, GET_SCRIPT, &reply, err, 0, 1, args, NULL);
    if (rc)
        return rc;
    rc = nodes_get_of(reply, id, out, err);
    freeReplyObject(reply);
    return rc;
}

void nodes_record_clear(nodes_record *rec)
{
    free(rec->address);
    free(rec->version);
    free(rec->local_ip_address);
    free(rec->external_ip_address);
    free(rec->licence_expiry);
    free(rec->last_used_by);
    free(rec->agent_job);
    free(rec->agent_instance);
    free(rec->agent_delivering);
    free(rec->agent_trouble);
    free(rec->maintenance);
    free(rec->maintenance_by);
    memset(rec, 0, sizeof(*rec));
}

/* KEYS: sf:node:<id>. ARGV: "on" or "off", message, by, only_by ("" any), now (us), id. 1 when
 * it changed something, 0 when only_by kept it. */
static const char MAINTENANCE_SCRIPT[] = SF_FEED_LUA
    "if redis.call('EXISTS', KEYS[1]) == 0 then return redis.error_reply('404 unknown node') end\n"
    "local was = redis.call('HGET', KEYS[1], 'maintenance_by')\n"
    "if ARGV[4] ~= '' and was and was ~= ARGV[4] then return 0 end\n"
    "if ARGV[1] == 'on' then\n"
    "  redis.call('HSET', KEYS[1], 'maintenance', ARGV[2], 'maintenance_by', ARGV[3],\n"
    "             'maintenance_since', ARGV[5])\n"
    "elseif redis.call('HEXISTS', KEYS[1], 'maintenance') == 1 then\n"
    "  redis.call('HDEL', KEYS[1], 'maintenance', 'maintenance_by', 'maintenance_since')\n"
    "else\n"
    "  return 0\n"
    "end\n"
    "sf_feed('nodes', ARGV[6])\n"
    "return 1\n";

int nodes_set_maintenance(sf_redis *r, const char *id, const char *message, const char *by,
                          const char *only_by, int *changed, sf_error *err)
{
    if (!nodes_valid_id(id))
        return unknown(err, id);
    if (message && (strlen(message) > NODES_MAINTENANCE_MESSAGE_MAX ||
                    !sf_utf8_valid(message, strlen(message))))
        return sf_fail(err, SF_EINVAL, "a maintenance message is valid UTF-8 of at most %d bytes",
                       NODES_MAINTENANCE_MESSAGE_MAX);
    char key[96], now[24];
    snprintf(key, sizeof(key), "sf:node:%s", id);
    snprintf(now, sizeof(now), "%lld", (long long)sf_now_us());
    const char *args[] = {
        key, message ? "on" : "off", message ? message : "", by, only_by ? only_by : "", now, id};
    redisReply *reply;
    int rc = sf_redis_eval(r, MAINTENANCE_SCRIPT, &reply, err, 1, 7, args, NULL);
    if (rc == SF_ENOTFOUND)
        return unknown(err, id);
    if (rc)
        return rc;
    if (changed)
        *changed = (int)sf_reply_int(reply, 0);
    freeReplyObject(reply);
    return 0;
}

void nodes_maintenance_reason(const nodes_record *rec, char *out, size_t len)
{
    if (rec->maintenance && *rec->maintenance)
        snprintf(out, len, "%s", rec->maintenance);
    else
        snprintf(out, len, "Node %s is in maintenance", rec->node_id);
}

int nodes_agent_busy_with(const nodes_record *rec, const char *job_uid)
{
    if (rec->agent_job && !strcmp(rec->agent_job, job_uid))
        return 1;
    size_t n = strlen(job_uid);
    for (const char *p = rec->agent_delivering; p && *p;) {
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !memcmp(p, job_uid, n))
            return 1;
        p = end ? end + 1 : p + len;
    }
    return 0;
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int nodes_list_ids(sf_redis *r, char ***ids, size_t *n, sf_error *err)
{
    redisReply *reply;
    *ids = NULL;
    *n = 0;
    int rc = sf_redis_cmd(r, &reply, err, "SMEMBERS sf:nodes");
    if (!rc && !(rc = sf_reply_strings(reply, ids, n, err)))
        qsort(*ids, *n, sizeof(char *), compare_ids);
    return rc;
}

void nodes_ids_free(char **ids, size_t n)
{
    sf_strings_free(ids, n);
}

int nodes_touch(sf_redis *r, const char *id, const char *user, sf_error *err)
{
    redisReply *reply;
    int rc = sf_redis_cmd(r, &reply, err, "HSET sf:node:%s last_used_by %s last_used_time %lld", id,
                          user, (long long)sf_now_us());
    if (rc)
        return rc;
    freeReplyObject(reply);
    return 0;
}

int nodes_call(sf_node_clients *nc, const nodes_record *rec, const char *method,
               const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
               int timeout_ms, sf_rpc_result *res, sf_error *err)
{
    return sf_node_call(nc, rec->node_id, rec->online ? rec->address : NULL, method, req,
                        reply_desc, timeout_ms, res, err);
}

int nodes_call_id(sf_node_clients *nc, sf_redis *r, const char *node_id, const char *method,
                  const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
                  int timeout_ms, sf_rpc_result *res, sf_error *err)
{
    nodes_record rec;
    memset(res, 0, sizeof(*res));
    int rc = nodes_get(r, node_id, &rec, err);
    if (!rc)
        rc = nodes_call(nc, &rec, method, req, reply_desc, timeout_ms, res, err);
    nodes_record_clear(&rec);
    return rc;
}
