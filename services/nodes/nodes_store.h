/* nodes_store.h - the node registry in Redis. Every process that needs to know about nodes
 * (the nodes service, the admin tool, the jobs and reservations services) goes through here, so
 * the key layout lives in one place:
 *   sf:nodes             SET of node ids
 *   sf:node:<id>         HASH of what the node reported: address, version, local_ip_address,
 *                        external_ip_address, licence_expiry, registered (us), last_used_by,
 *                        last_used_time (us), agent_job (the job its agent runs, "" none),
 *                        agent_instance (the agent's id, new at each of its starts),
 *                        agent_delivering (the jobs whose runs or reports the agent still
 *                        owes, space-separated), agent_trouble (why it cannot work as it
 *                        should, "" none), heartbeat_us (when its agent last reported) and,
 *                        while an operator or a failing health check keeps the node in
 *                        maintenance, maintenance (its message, "" none), maintenance_by
 *                        (who put it there: an operator, or "health-check") and
 *                        maintenance_since (us)
 *   sf:node:<id>:alive   a key that each heartbeat sets with a TTL: the node is online while it
 *                        exists, so "online" needs no clock but Redis's.
 *   sf:node:<id>:credential  the SHA-256 of the node's enrolment secret (lib/sf_caller.h)
 *   sf:nodes:online      ZSET of the nodes last seen online, scored by when their alive key
 *                        lapses (ms): how the feed learns that a node went offline.
 * Registering and going offline append node events to the feed (sf_feed.h). */
#ifndef NODES_STORE_H
#define NODES_STORE_H

#include "sf_err.h"
#include "sf_node_client.h"
#include "sf_redis.h"
#include "sf_token.h"

#include <stdint.h>

#define NODES_ID_MAX        64
#define NODES_ONLINE_TTL_MS 6000 /* offline this long after the last heartbeat */

typedef struct nodes_record {
    char node_id[NODES_ID_MAX + 1];
    int online;
    char *address; /* nng URL where the node agent answers, or NULL */
    char *version;
    char *local_ip_address;
    char *external_ip_address;
    char *licence_expiry; /* YYYY-MM-DD, or NULL */
    char *last_used_by;
    int64_t last_used_time_us; /* 0: never */
    char *agent_job;           /* what the agent's last heartbeat said it runs, NULL: unknown */
    char *agent_instance;      /* the instance that sent it, NULL: unknown */
    char *agent_delivering;    /* the jobs it still delivers, space-separated; NULL: none */
    char *agent_trouble;       /* why it cannot work as it should; NULL: nothing is wrong */
    int64_t heartbeat_us;      /* when that heartbeat came, 0: never */
    char *maintenance;         /* the message while in maintenance ("" none); NULL: not in it */
    char *maintenance_by;      /* who put it there: "operator" or "health-check"; NULL: unknown */
} nodes_record;

/* What a node reports about itself when it registers or beats. NULL fields are left as they
 * were. */
typedef struct nodes_info {
    const char *address;
    const char *version;
    const char *local_ip_address;
    const char *external_ip_address;
    const char *licence_expiry;
    const char *agent_job;        /* the job the agent says it runs ("" none); NULL: not reported */
    const char *agent_instance;   /* NULL: not reported */
    const char *agent_delivering; /* space-separated job uids ("" none); NULL: not reported */
    const char *agent_trouble;    /* "" none; NULL: not reported */
} nodes_info;

/* 1 when id can name a node: 1 to 64 of [A-Za-z0-9_.-], starting with a letter or digit. */
int nodes_valid_id(const char *id);

/* 1 when the node's agent said, in its last heartbeat, that it runs job_uid or still delivers
 * runs or reports of it. */
int nodes_agent_busy_with(const nodes_record *rec, const char *job_uid);

/* Add or update a node in the registry; with alive set, also count it online for the TTL. */
int nodes_register(sf_redis *r, const char *id, const nodes_info *info, int alive, sf_error *err);

/* Append a node event for each node whose heartbeats stopped since the last sweep (its alive
 * key expired). Idempotent: any number of replicas may sweep at once, each node's event is
 * written once. */
int nodes_sweep_offline(sf_redis *r, sf_error *err);

/* Read one node. SF_ENOTFOUND (with a message naming it) when it is not registered. The record
 * is freed with nodes_record_clear. */
int nodes_get(sf_redis *r, const char *id, nodes_record *out, sf_error *err);
void nodes_record_clear(nodes_record *rec);

/* Lua for a script that reads a node along with other things (its status, in one round trip).
 * It defines
 *   nodes_get(node_id) -> the node as nodes_get_of reads it, or false when it is not registered.
 * NODES_LUA_ONLINE defines nodes_ids() -> every registered id, nodes_online(node_id) and
 * nodes_in_maintenance(node_id). */
#define NODES_LUA_ONLINE                                                                           \
    "local function nodes_ids() return redis.call('SMEMBERS', 'sf:nodes') end\n"                   \
    "local function nodes_online(id)\n"                                                            \
    "  return redis.call('EXISTS', 'sf:node:' .. id .. ':alive') == 1\n"                           \
    "end\n"                                                                                        \
    "local function nodes_in_maintenance(id)\n"                                                    \
    "  return redis.call('HEXISTS', 'sf:node:' .. id, 'maintenance') == 1\n"                       \
    "end\n"
#define NODES_LUA_GET                                                                              \
    "local function nodes_get(id)\n"                                                               \
    "  local h = redis.call('HGETALL', 'sf:node:' .. id)\n"                                        \
    "  if #h == 0 then return false end\n"                                                         \
    "  table.insert(h, 1, redis.call('EXISTS', 'sf:node:' .. id .. ':alive'))\n"                   \
    "  return h\n"                                                                                 \
    "end\n"
/* As nodes_get, from item, what nodes_get() returned in a script of the caller's. */
int nodes_get_of(const redisReply *item, const char *id, nodes_record *out, sf_error *err);

#define NODES_MAINTENANCE_MESSAGE_MAX 500                  /* bytes */
#define NODES_HEALTH_CHECK_USER       SF_USER_HEALTH_CHECK /* who runs health checks */

/* Put node id into maintenance with message ("" none), or take it out (message NULL). by says
 * who: "operator" or "health-check"; with only_by set, the change happens only when the node's
 * maintenance state was last set by only_by (or it is not in maintenance), so that a health check
 * never ends an operator's maintenance. *changed tells whether it did (may be NULL).
 * SF_ENOTFOUND for an unregistered node, SF_EINVAL for a message over the limit or not UTF-8. */
int nodes_set_maintenance(sf_redis *r, const char *id, const char *message, const char *by,
                          const char *only_by, int *changed, sf_error *err);

/* The not_available_reason of a node in maintenance: its message, or "Node <id> is in
 * maintenance" when it has none. */
void nodes_maintenance_reason(const nodes_record *rec, char *out, size_t len);

/* Lua for a script that must refuse a node in maintenance atomically with its other checks (the
 * start of a job, the creation of a reservation). It defines
 *   nodes_maintenance_refusal(node_id, user) -> nil when the node is not in maintenance (or a
 *       health check put it there and user is the health check's), else the reason for a 409:
 *       "Node <id> is in maintenance: ...". */
#define NODES_LUA_MAINTENANCE                                                                      \
    "local function nodes_maintenance_refusal(id, user)\n"                                         \
    "  local h = redis.call('HMGET', 'sf:node:' .. id, 'maintenance', 'maintenance_by')\n"         \
    "  local m = h[1]\n"                                                                           \
    "  if not m then return nil end\n"                                                             \
    "  if user == '" NODES_HEALTH_CHECK_USER "' and h[2] == user then return nil end\n"            \
    "  if m == '' then return 'Node ' .. id .. ' is in maintenance' end\n"                         \
    "  return 'Node ' .. id .. ' is in maintenance: ' .. m\n"                                      \
    "end\n"

/* All registered node ids, sorted. Free with nodes_ids_free. */
int nodes_list_ids(sf_redis *r, char ***ids, size_t *n, sf_error *err);
void nodes_ids_free(char **ids, size_t n);

/* Record that user used the node now (a press, a job, a reservation...). */
int nodes_touch(sf_redis *r, const char *id, const char *user, sf_error *err);

/* Call method on the agent of the node in rec (as nodes_get read it), at the address it
 * registered: sf_node_call of sf_node_client.h, which answers SF_EUNAVAIL "Node X is offline"
 * for a node that is not online. res must be freed in every case. */
int nodes_call(sf_node_clients *nc, const nodes_record *rec, const char *method,
               const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
               int timeout_ms, sf_rpc_result *res, sf_error *err);

/* nodes_call for a node id: reads the registry through r first (SF_ENOTFOUND naming an unknown
 * node). */
int nodes_call_id(sf_node_clients *nc, sf_redis *r, const char *node_id, const char *method,
                  const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
                  int timeout_ms, sf_rpc_result *res, sf_error *err);

#endif
