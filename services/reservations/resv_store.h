/* resv_store.h - reservations in Redis. The reservations service writes them; the nodes service
 * (node status, press) and the jobs service (run_tests, stop) read them through here, so the key
 * layout lives in one place:
 *
 *   sf:node:<node>:reservation  STRING the id of the reservation held on the node. Set with an
 *                               absolute expiry (PXAT) at the reservation's end, so Redis drops
 *                               it at that instant; deleted when the reservation is ended or
 *                               interrupted. The node is reserved while it exists: this is the
 *                               truth every other key follows (a contract, docs/architecture.md).
 *   sf:resv:<id>                HASH reservation_id, node_id, username, message, message_html,
 *                               start (unix ms), expires (unix ms, "" for never), and once ended
 *                               end_time (ms), end_reason, ended_by, interrupt_message,
 *                               interrupt_message_html. A reservation is current exactly while
 *                               its node's key holds its id. Kept RESV_KEEP_ENDED_MS after it ends.
 *   sf:resv:next_id             STRING the last reservation id given out (INCRBY)
 *   sf:resv:current             ZSET   current reservation ids, scored by expiry in ms (+inf:
 *                                      never); what GET /api/v2/reservations lists and what the
 *                                      expiry sweeper watches
 *   sf:resv:req:<request_id>    STRING what a create or extend request did, for 2 minutes, so that
 *                                      a request the RPC layer delivers twice acts once
 *
 * Every change is one Lua script: a create checks and takes all its nodes at once (any number of
 * service replicas may race), and it refuses a node whose sf:node:<node>:job exists (busy). */
#ifndef RESV_STORE_H
#define RESV_STORE_H

#include "api.pb-c.h"
#include "sf_err.h"
#include "sf_redis.h"

#include <stddef.h>
#include <stdint.h>

/* Ended reservations stay readable this long. */
#define RESV_KEEP_ENDED_MS (30LL * 24 * 3600 * 1000)

/* Lua for other services' scripts, which must check reservations atomically with what they do
 * (the jobs service starting or stopping a job). Put it in front of a script's text
 * (RESV_LUA_MAY_USE "local why = ..."); it defines
 *   resv_refusal(node_id, username) -> nil when username may use the node (it is not reserved,
 *                                     or username holds it), else the reason, for a 409:
 *       local why = resv_refusal(node, user)
 *       if why then return redis.error_reply('409 ' .. why) end
 *   resv_holder(node_id) -> username, message of the reservation held on the node, or nil.
 * It reads sf:node:<node>:reservation and sf:resv:<id> (username, message), which a script
 * need not declare on a single Redis. A message quoted in the reason is cut to 200 bytes (at a
 * UTF-8 boundary) and kept on one line. */
#define RESV_LUA_MAY_USE                                                                           \
    "local function resv_clip(s)\n"                                                                \
    "  s = string.gsub(s, '%s+', ' ')\n"                                                           \
    "  if #s <= 200 then return s end\n"                                                           \
    "  s = string.gsub(string.sub(s, 1, 200), '[\\192-\\255][\\128-\\191]*$', '')\n"               \
    "  return s .. '...'\n"                                                                        \
    "end\n"                                                                                        \
    "local function resv_holder(node)\n"                                                           \
    "  local id = redis.call('GET', 'sf:node:' .. node .. ':reservation')\n"                       \
    "  if not id then return nil end\n"                                                            \
    "  local h = redis.call('HMGET', 'sf:resv:' .. id, 'username', 'message')\n"                   \
    "  return h[1] or '?', resv_clip(h[2] or '')\n"                                                \
    "end\n"                                                                                        \
    "local function resv_refusal(node, user)\n"                                                    \
    "  local who, msg = resv_holder(node)\n"                                                       \
    "  if not who or who == user then return nil end\n"                                            \
    "  return 'Node ' .. node .. ' is reserved by @' .. who .. ': ' .. msg\n"                      \
    "end\n"

/* Lua for a script that reads a node's reservation along with other things (the nodes
 * service's node status, in one round trip). It defines
 *   resv_view(id)           -> reservation id's record as the API shows it, or false
 *   resv_node_view(node_id) -> the reservation held on the node, or false.
 * RESV_LUA_NODE_HELD defines resv_node_held(node_id): true while a reservation holds the node. */
#define RESV_LUA_NODE_HELD                                                                         \
    "local function resv_node_held(node)\n"                                                        \
    "  return redis.call('EXISTS', 'sf:node:' .. node .. ':reservation') == 1\n"                   \
    "end\n"
#define RESV_LUA_NODE_VIEW                                                                         \
    "local function resv_view(id)\n"                                                               \
    "  local h = redis.call('HGETALL', 'sf:resv:' .. id)\n"                                        \
    "  if #h == 0 then return false end\n"                                                         \
    "  local node\n"                                                                               \
    "  for i = 1, #h, 2 do if h[i] == 'node_id' then node = h[i + 1] end end\n"                    \
    "  local held = node and redis.call('GET', 'sf:node:' .. node .. ':reservation') == id\n"      \
    "  table.insert(h, 1, held and 1 or 0)\n"                                                      \
    "  table.insert(h, 1, id)\n"                                                                   \
    "  return h\n"                                                                                 \
    "end\n"                                                                                        \
    "local function resv_node_view(node)\n"                                                        \
    "  local id = redis.call('GET', 'sf:node:' .. node .. ':reservation')\n"                       \
    "  if not id then return false end\n"                                                          \
    "  return resv_view(id)\n"                                                                     \
    "end\n"

/* One reservation as the API shows it (msg), for one caller (reserved_by_you). Its strings point
 * into a Redis reply that either the view (owned) or the list holding it keeps. */
typedef struct resv_view {
    Stbfarm__Reservation msg;
    Stbfarm__ReservationInterruption interruption;
    char start_time[40], expires[40], end_time[40];
    char reason[200]; /* not_available_reason, when resv_node_status sets it */
    redisReply *owned;
} resv_view;

void resv_view_clear(resv_view *v);

/* Several reservations; views[i].msg are ready to put in a ReservationList. */
typedef struct resv_views {
    resv_view *views;
    Stbfarm__Reservation **msgs; /* n pointers to views[i].msg */
    size_t n;
    redisReply *reply;
} resv_views;

void resv_views_clear(resv_views *vs);

/* ---- for the nodes and jobs services ---- */

/* Node status: set n->reservation to the reservation held on n->node_id, if any (with
 * reserved_by_you for caller), and when the node is otherwise available, available = false and
 * not_available_reason "Node <id> reserved by @<user>". item is what resv_node_view() returned in
 * a script of the caller's (RESV_LUA_NODE_VIEW). v holds what n then points at, and points into
 * item: clear v with resv_view_clear after n is sent, and before the reply holding item is freed.
 */
int resv_node_status_of(const redisReply *item, const char *caller, Stbfarm__Node *n, resv_view *v,
                        sf_error *err);

/* May user use node_id (press its keys, start or stop its jobs)? 0 when the node is not reserved
 * or user holds it; SF_ECONFLICT with "Node <id> is reserved by @<user>: <message>" otherwise.
 * A check, not a lock: a service whose action must be atomic with it uses RESV_LUA_MAY_USE. */
int resv_check_use(sf_redis *r, const char *node_id, const char *user, sf_error *err);

/* ---- for the reservations service ---- */

typedef struct resv_new {
    const char *user;
    char *const *node_ids; /* valid node ids (nodes_valid_id), none twice */
    size_t n;
    const char *message, *message_html;
    int64_t duration_secs; /* 0: never expires */
    const char *request_id;
} resv_new;

/* Reserve every node of req or none: SF_ENOTFOUND for a node that is not registered,
 * SF_ECONFLICT for one reserved or busy. On success out holds the reservations, in the order of
 * req->node_ids. A second call with the same request_id returns what the first made. */
int resv_create(sf_redis *r, const resv_new *req, resv_views *out, sf_error *err);

/* The current reservations, by id. */
int resv_list_current(sf_redis *r, const char *caller, resv_views *out, sf_error *err);

/* One reservation, current or ended (while kept). SF_ENOTFOUND when there is none. */
int resv_get(sf_redis *r, int64_t id, const char *caller, resv_view *out, sf_error *err);

/* Move a current reservation's expiry later by secs (nothing for one that never expires).
 * SF_ENOTFOUND, SF_EFORBIDDEN (not user's), SF_EINVAL (already ended). Acts once per
 * request_id. */
int resv_extend(sf_redis *r, int64_t id, const char *user, int64_t secs, const char *request_id,
                sf_error *err);

/* End user's reservation. 0 also when it had already ended; SF_ENOTFOUND, SF_EFORBIDDEN. */
int resv_end(sf_redis *r, int64_t id, const char *user, sf_error *err);

/* End anyone's reservation, keeping who did it and why (message, rendered as message_html) for
 * its owner to see. 0 also when it had already ended (nothing is recorded then); SF_ENOTFOUND. */
int resv_interrupt(sf_redis *r, int64_t id, const char *user, const char *message,
                   const char *message_html, sf_error *err);

/* Record the end of every reservation whose expiry has passed (their nodes' keys are already
 * gone) and drop them from sf:resv:current. *now_ms is Redis's clock; *next_ms the next expiry
 * to come, or -1 when none. Safe to run anywhere, at any time, any number of times at once. */
int resv_sweep(sf_redis *r, int64_t *now_ms, int64_t *next_ms, sf_error *err);

#endif
