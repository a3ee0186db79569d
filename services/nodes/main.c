/* stbfarm-nodes: the nodes service. Serves node status (GET /api/v2/nodes, /nodes/<id>) from
 * the registry in Redis and each node's config in the test pack; takes the node agents'
 * heartbeats; forwards screenshots and key presses to the agents (sf_node_client.h). */
#include "node_agent.pb-c.h"
#include "sf_node_client.h"
#include "nodes.pb-c.h"
#include "jobs_store.h"
#include "nodes_store.h"
#include "resv_store.h"
#include "sf_buf.h"
#include "sf_caller.h"
#include "sf_ini.h"
#include "sf_remote.h"
#include "sf_log.h"
#include "sf_ticker.h"
#include "sf_metrics.h"
#include "sf_service.h"
#include "sf_testpack.h"
#include "sf_time.h"

#include <time.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEVER_EXPIRES "9999-12-31"

enum { TESTPACK_RETRY_MS = 1000, SWEEP_MS = 1000 };

typedef struct nodes_config {
    const char *test_pack;
    const char *test_pack_cache;
    long agent_timeout_ms;
} nodes_config;

/* The process's state, shared by every worker thread. */
typedef struct nodes_state {
    nodes_config cfg;
    sf_node_clients *clients;
    /* the offline sweeper (nodes_sweep_offline): its thread and own Redis connection */
    sf_redis *sweep_redis;
    sf_ticker *sweeper;
    int sweep_failing; /* sweeps failed in a row: the sweeper's alone */
} nodes_state;

/* A node's config/test-farm/<id>.conf as read at one commit of the default branch. */
typedef struct node_conf {
    char node_id[NODES_ID_MAX + 1];
    char sha[41];
    char *json; /* the INI sections as a JSON object */
    char *device_type;
    char *friendly_name;
} node_conf;

/* What one worker thread owns: its test pack (a libgit2 repository is one thread's) and the
 * node configs it read, kept until the default branch moves. */
typedef struct nodes_local {
    sf_testpack *tp;
    int64_t retry_at_ms; /* when to try opening the test pack again after a failure */
    node_conf *confs;
    size_t n_confs, cap_confs;
} nodes_local;

static nodes_state *state_of(const sf_call *call)
{
    return sf_worker_of(call)->service;
}

static nodes_local *local_of(const sf_call *call)
{
    return sf_worker_of(call)->local;
}

/* ---- the test pack ---- */

/* This thread's test pack, opened on first use; SF_EUNAVAIL while it cannot be opened. */
static int testpack(const sf_call *call, sf_testpack **out, sf_error *err)
{
    nodes_local *l = local_of(call);
    const nodes_config *cfg = &state_of(call)->cfg;
    *out = NULL;
    if (!l->tp) {
        if (!cfg->test_pack || !*cfg->test_pack)
            return sf_fail(err, SF_EUNAVAIL, "no test pack is configured (--test-pack)");
        if (sf_mono_ms() < l->retry_at_ms)
            return sf_fail(err, SF_EUNAVAIL, "the test pack %s cannot be opened", cfg->test_pack);
        int rc = sf_testpack_open(&l->tp, cfg->test_pack, cfg->test_pack_cache, err);
        if (rc) {
            l->retry_at_ms = sf_mono_ms() + TESTPACK_RETRY_MS;
            sf_warn("%s", err->msg);
            return rc;
        }
    }
    *out = l->tp;
    return 0;
}

static void node_conf_clear(node_conf *c)
{
    free(c->json);
    free(c->device_type);
    free(c->friendly_name);
    memset(c, 0, sizeof(*c));
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Read and parse config/test-farm/<id>.conf at sha into c. A missing file is an empty config;
 * a malformed one too, with a warning, since node status must not fail over it. */
static void node_conf_read(sf_testpack *tp, const char *sha, const char *id, node_conf *c)
{
    cJSON *ini = NULL;
    sf_error err = SF_ERROR_INIT;
    snprintf(c->node_id, sizeof(c->node_id), "%s", id);
    snprintf(c->sha, sizeof(c->sha), "%s", sha);
    int rc = sf_testpack_node_config(tp, sha, id, &ini, &err);
    if (rc && rc != SF_ENOTFOUND)
        sf_warn("%s", err.msg);
    if (!rc) {
        c->json = cJSON_PrintUnformatted(ini);
        c->device_type = dup_or_null(sf_ini_get(ini, "device_under_test", "device_type"));
        c->friendly_name = dup_or_null(sf_ini_get(ini, "node", "friendly_name"));
    }
    cJSON_Delete(ini);
}

/* The node's config at the default branch's commit head (NULL: no test pack), read from git
 * only when this thread has not read it at that commit yet. */
static const node_conf *node_conf_at(const sf_call *call, const sf_revision *head, const char *id)
{
    nodes_local *l = local_of(call);
    if (!head)
        return NULL;
    node_conf *c = NULL;
    for (size_t i = 0; i < l->n_confs && !c; i++) {
        if (!strcmp(l->confs[i].node_id, id))
            c = &l->confs[i];
    }
    if (c && !strcmp(c->sha, head->sha))
        return c;
    if (!c) {
        if (l->n_confs == l->cap_confs) {
            size_t cap = l->cap_confs ? l->cap_confs * 2 : 16;
            node_conf *bigger = realloc(l->confs, cap * sizeof(*bigger));
            if (!bigger)
                return NULL;
            l->confs = bigger;
            l->cap_confs = cap;
        }
        c = &l->confs[l->n_confs++];
        memset(c, 0, sizeof(*c));
    }
    node_conf_clear(c);
    node_conf_read(l->tp, head->sha, id, c);
    return c;
}

/* The default branch's commit now, or NULL when there is no test pack to read. */
static const sf_revision *default_branch(const sf_call *call, sf_revision *rev)
{
    sf_testpack *tp;
    sf_error err = SF_ERROR_INIT;
    if (testpack(call, &tp, &err))
        return NULL;
    if (sf_testpack_resolve(tp, "HEAD", rev, &err)) {
        sf_warn("test pack: %s", err.msg);
        return NULL;
    }
    return rev;
}

/* ---- node status ---- */

/* Everything a Node reply points at, so that one free releases it. */
typedef struct node_view {
    Stbfarm__Node node;
    Stbfarm__Json config;
    char node_url[512];
    char last_used_time[40];
    char reason[256];
    nodes_record rec;
    resv_view resv;      /* the reservation held on the node, if any */
    jobs_record job_rec; /* the node's current or latest job, if any */
    jobs_view job;
    redisReply *status; /* what STATUS_SCRIPT read, which resv points into */
} node_view;

/* Fill v->node from v->rec and the node's config at the default branch's head (or none). */
static void build_node(const sf_call *call, node_view *v, const sf_revision *head)
{
    nodes_record *rec = &v->rec;
    Stbfarm__Node *n = &v->node;
    stbfarm__node__init(n);
    stbfarm__json__init(&v->config);
    const node_conf *conf = node_conf_at(call, head, rec->node_id);
    v->config.text = conf && conf->json ? conf->json : (char *)"{}";
    n->config = &v->config;
    if (conf) {
        n->device_type = conf->device_type;
        n->friendly_name = conf->friendly_name;
    }
    n->node_id = rec->node_id;
    snprintf(v->node_url, sizeof(v->node_url), "%s/api/v2/nodes/%s", call->base_url, rec->node_id);
    n->node_url = v->node_url;
    n->online = rec->online;
    n->local_ip_address = rec->local_ip_address;
    n->external_ip_address = rec->external_ip_address;
    n->licence_expiry = rec->licence_expiry ? rec->licence_expiry : (char *)NEVER_EXPIRES;
    n->last_used_by = rec->last_used_by;
    if (rec->last_used_time_us) {
        sf_time_format(rec->last_used_time_us, v->last_used_time, sizeof(v->last_used_time),
                       SF_TIME_OFFSET);
        n->last_used_time = v->last_used_time;
    }
    n->available = rec->online;
    if (rec->maintenance) { /* an operator's or a failing health check's word comes first */
        n->available = 0;
        nodes_maintenance_reason(rec, v->reason, sizeof(v->reason));
        n->not_available_reason = v->reason;
    } else if (!rec->online) {
        snprintf(v->reason, sizeof(v->reason), "Node %s is offline", rec->node_id);
        n->not_available_reason = v->reason;
    } else if (rec->agent_trouble) { /* a full disk: what the agent says is wrong */
        n->available = 0;
        snprintf(v->reason, sizeof(v->reason), "Node %s: %s", rec->node_id, rec->agent_trouble);
        n->not_available_reason = v->reason;
    }
}

/* ARGV: node id. Everything a node's status shows from Redis, in one round trip: the node, the
 * reservation held on it, its current or latest job; nil for the node when it is not
 * registered. */
static const char STATUS_SCRIPT[] = NODES_LUA_GET RESV_LUA_NODE_VIEW JOBS_LUA_NODE_JOB
    "local node = nodes_get(ARGV[1])\n"
    "if not node then return false end\n"
    "return {node, resv_node_view(ARGV[1]), jobs_node_job(ARGV[1])}\n";

/* Everything node status shows: the registry and config (build_node), the reservation, and the
 * current or latest job. A node that is offline, reserved, or running a job is not available;
 * the reason names the first of those. SF_ENOTFOUND when id is not registered. */
static int read_node(const sf_call *call, sf_redis *r, const char *id, node_view *v,
                     const sf_revision *head, sf_error *err)
{
    if (!nodes_valid_id(id))
        return nodes_get(r, id, &v->rec, err); /* its error */
    const char *args[] = {id};
    int rc = sf_redis_eval(r, STATUS_SCRIPT, &v->status, err, 0, 1, args, NULL);
    if (rc)
        return rc;
    const redisReply *st = v->status;
    int found = st->type == REDIS_REPLY_ARRAY && st->elements == 3;
    if ((rc = nodes_get_of(found ? st->element[0] : NULL, id, &v->rec, err)))
        return rc;
    build_node(call, v, head);
    if ((rc = resv_node_status_of(st->element[1], call->user, &v->node, &v->resv, err)))
        return rc;
    if (jobs_node_job_of(st->element[2], id, &v->job_rec, NULL))
        return 0; /* it never ran a job */
    jobs_view_of(&v->job, &v->job_rec, call->base_url);
    v->node.job = &v->job.job;
    if (v->job_rec.running) {
        v->node.available = 0;
        if (!v->node.not_available_reason) {
            snprintf(v->reason, sizeof(v->reason), "Node %s is running job %s", v->rec.node_id,
                     v->job_rec.uid);
            v->node.not_available_reason = v->reason;
        }
    }
    return 0;
}

static void clear_view(node_view *v)
{
    nodes_record_clear(&v->rec);
    resv_view_clear(&v->resv);
    jobs_record_clear(&v->job_rec);
    if (v->status)
        freeReplyObject(v->status);
    v->status = NULL;
}

static int nodes_list(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                      sf_error *err)
{
    (void)req;
    sf_redis *r = sf_worker_of(call)->redis;
    char **ids;
    size_t n;
    int rc = nodes_list_ids(r, &ids, &n, err);
    if (rc)
        return rc;
    sf_revision rev;
    const sf_revision *head = default_branch(call, &rev);
    node_view *views = calloc(n ? n : 1, sizeof(*views));
    Stbfarm__Node **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
    size_t k = 0;
    if (!views || !ptrs) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        rc = read_node(call, r, ids[i], &views[k], head, err);
        if (rc == SF_ENOTFOUND) { /* removed since the listing */
            clear_view(&views[k]);
            rc = 0;
            continue;
        }
        if (rc)
            goto cleanup;
        ptrs[k] = &views[k].node;
        k++;
    }
    Stbfarm__NodeList list = STBFARM__NODE_LIST__INIT;
    list.n_nodes = k;
    list.nodes = ptrs;
    if (sf_rpc_reply_msg(reply, &list.base))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
cleanup:
    for (size_t i = 0; views && i < n; i++)
        clear_view(&views[i]);
    free(views);
    free(ptrs);
    nodes_ids_free(ids, n);
    return rc;
}

static int nodes_get_one(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                         sf_error *err)
{
    const Stbfarm__NodeGetRequest *q = (const Stbfarm__NodeGetRequest *)req;
    sf_redis *r = sf_worker_of(call)->redis;
    node_view v = {0};
    sf_revision rev;
    int rc = read_node(call, r, q->node_id, &v, default_branch(call, &rev), err);
    if (!rc && sf_rpc_reply_msg(reply, &v.node.base))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    clear_view(&v);
    return rc;
}

/* ---- heartbeats ---- */

/* The IP address the portal reaches an agent at, from the address it registered: the host of a
 * tcp:// URL (resolved when it is a name), 127.0.0.1 for ipc://, which only works on this
 * host. 0, or -1 when it cannot be told. */
static int address_ip(const char *address, char *out, size_t len)
{
    if (!strncmp(address, "ipc://", 6)) {
        snprintf(out, len, "127.0.0.1");
        return 0;
    }
    const char *p = strstr(address, "://");
    if (!p)
        return -1;
    p += 3;
    char host[256];
    const char *end;
    if (*p == '[') {
        end = strchr(++p, ']');
    } else {
        end = strrchr(p, ':');
    }
    if (!end || end == p || (size_t)(end - p) >= sizeof(host))
        return -1;
    memcpy(host, p, (size_t)(end - p));
    host[end - p] = '\0';
    unsigned char bin[16];
    if (inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1)
        return (size_t)snprintf(out, len, "%.*s", (int)(len - 1), host) < len ? 0 : -1;
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &ai) || !ai)
        return -1;
    const void *a = ai->ai_family == AF_INET
                        ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                        : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
    int rc = inet_ntop(ai->ai_family, a, out, (socklen_t)len) ? 0 : -1;
    freeaddrinfo(ai);
    return rc;
}

static int nodes_heartbeat(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                           sf_error *err)
{
    (void)reply;
    const Stbfarm__NodeHeartbeat *hb = (const Stbfarm__NodeHeartbeat *)req;
    if (!nodes_valid_id(hb->node_id))
        return sf_fail(err, SF_EINVAL, "invalid node id '%.64s'", hb->node_id);
    int rc = sf_caller_speaks_for(call, hb->node_id, err);
    if (rc)
        return rc;
    char ip[64];
    if (address_ip(hb->address, ip, sizeof(ip)))
        return sf_fail(err, SF_EINVAL, "node %s: cannot reach the address '%.200s'", hb->node_id,
                       hb->address);
    nodes_info info = {0};
    info.address = hb->address;
    info.version = hb->version;
    info.local_ip_address = hb->local_ip_address;
    info.external_ip_address = ip;
    info.agent_job = hb->job_uid ? hb->job_uid : "";
    info.agent_instance = hb->agent_instance;
    info.agent_trouble = hb->trouble ? hb->trouble : "";
    sf_buf delivering = SF_BUF_INIT;
    for (size_t i = 0; i < hb->n_delivering; i++) {
        if (!jobs_uid_valid(hb->delivering[i]))
            continue;
        if (delivering.len)
            sf_buf_putc(&delivering, ' ');
        sf_buf_puts(&delivering, hb->delivering[i]);
    }
    if (delivering.oom) {
        sf_buf_free(&delivering);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    info.agent_delivering = delivering.data ? delivering.data : "";
    rc = nodes_register(sf_worker_of(call)->redis, hb->node_id, &info, 1, err);
    sf_buf_free(&delivering);
    return rc;
}

/* ---- screenshots ---- */

/* How long to wait for an agent: its own limit, within what the caller still waits. */
static int agent_timeout(const sf_call *call)
{
    int left = sf_rpc_remaining_ms(call) - 100;
    int max = (int)state_of(call)->cfg.agent_timeout_ms;
    return left < max ? (left > 1 ? left : 1) : max;
}

/* Forward an image request (q; NULL: an empty AgentImageRequest) to the node's agent and answer
 * its bytes and headers. */
static int forward_image(sf_call *call, const char *node_id, const char *method,
                         const ProtobufCMessage *q, int touch, sf_rpc_reply *reply, sf_error *err)
{
    sf_redis *r = sf_worker_of(call)->redis;
    nodes_record rec;
    sf_rpc_result res = {0};
    int rc = nodes_get(r, node_id, &rec, err);
    if (rc)
        return rc;
    Stbfarm__AgentImageRequest empty = STBFARM__AGENT_IMAGE_REQUEST__INIT;
    rc = nodes_call(state_of(call)->clients, &rec, method, q ? q : &empty.base, NULL,
                    agent_timeout(call), &res, err);
    if (!rc && !res.content_type)
        rc = sf_fail(err, SF_EINTERNAL, "the agent of node %s sent no image", node_id);
    if (!rc && sf_rpc_reply_raw(reply, res.content_type, res.body, res.body_len))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    for (size_t i = 0; !rc && i < res.n_headers; i++) {
        if (sf_rpc_reply_header(reply, res.headers[i]->name, res.headers[i]->value))
            rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    if (!rc && touch && call->user[0])
        rc = nodes_touch(r, node_id, call->user, err);
    sf_rpc_result_free(&res);
    nodes_record_clear(&rec);
    return rc;
}

static int nodes_screenshot(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                            sf_error *err)
{
    const Stbfarm__NodeGetRequest *q = (const Stbfarm__NodeGetRequest *)req;
    return forward_image(call, q->node_id, "agent.screenshot", NULL, 1, reply, err);
}

/* Thumbnails do not count as using the node: dashboards poll them. */
static int nodes_thumbnail(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                           sf_error *err)
{
    const Stbfarm__NodeGetRequest *q = (const Stbfarm__NodeGetRequest *)req;
    return forward_image(call, q->node_id, "agent.thumbnail", NULL, 0, reply, err);
}

/* One frame of the live screen (gateway/gw_live.c streams them); like thumbnails, watching is
 * not using the node. */
static int nodes_live_frame(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                            sf_error *err)
{
    const Stbfarm__NodeLiveFrameRequest *q = (const Stbfarm__NodeLiveFrameRequest *)req;
    return forward_image(call, q->node_id, "agent.live_frame", &q->frame->base, 0, reply, err);
}

/* ---- key presses ---- */

/* A remote control name that can only name a file in config/remote-control/. */
/* A node reserved by someone else refuses the caller's presses (409). */
static int press_allowed(const sf_call *call, const nodes_record *rec, sf_error *err)
{
    return resv_check_use(sf_worker_of(call)->redis, rec->node_id, call->user, err);
}

static int nodes_press(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                       sf_error *err)
{
    const Stbfarm__NodePressRequest *q = (const Stbfarm__NodePressRequest *)req;
    sf_redis *r = sf_worker_of(call)->redis;
    nodes_record rec;
    sf_rpc_result res = {0};
    sf_remote remote = {0};
    sf_testpack *tp;
    sf_revision rev;
    int rc = nodes_get(r, q->node_id, &rec, err);
    if (rc)
        return rc;
    if ((rc = press_allowed(call, &rec, err)))
        goto cleanup;
    if (!*q->key || strlen(q->key) > 128) {
        rc = sf_fail(err, SF_EINVAL, "key must be a key name such as \"KEY_MENU\"");
        goto cleanup;
    }
    if ((rc = testpack(call, &tp, err)) ||
        (rc = sf_testpack_resolve(tp, q->test_pack_revision ? q->test_pack_revision : "HEAD", &rev,
                                  err)) ||
        (rc = sf_remote_open(tp, rev.sha, q->remote_control, &remote, err)) ||
        (rc = sf_remote_key(&remote, q->key, err)))
        goto cleanup;

    Stbfarm__AgentPressRequest aq = STBFARM__AGENT_PRESS_REQUEST__INIT;
    aq.remote_control = (char *)remote.lirc_name;
    aq.key = q->key;
    if ((rc = nodes_call(state_of(call)->clients, &rec, "agent.press", &aq.base,
                         &stbfarm__agent_press_reply__descriptor, agent_timeout(call), &res, err)))
        goto cleanup;
    if (call->user[0] && (rc = nodes_touch(r, q->node_id, call->user, err)))
        goto cleanup;
    const Stbfarm__AgentPressReply *ar = (const Stbfarm__AgentPressReply *)res.msg;
    char start[40], end[40];
    sf_time_format(ar->start_time_us, start, sizeof(start), SF_TIME_OFFSET);
    sf_time_format(ar->end_time_us, end, sizeof(end), SF_TIME_OFFSET);
    Stbfarm__NodePressReply out = STBFARM__NODE_PRESS_REPLY__INIT;
    out.node_id = rec.node_id;
    out.key = q->key;
    out.remote_control = remote.name;
    out.test_pack_sha = rev.sha;
    out.start_time = start;
    out.end_time = end;
    if (sf_rpc_reply_msg(reply, &out.base))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
cleanup:
    sf_rpc_result_free(&res);
    nodes_record_clear(&rec);
    sf_remote_close(&remote);
    return rc;
}

/* ---- the service ---- */

static const sf_rpc_method methods[] = {
    {"nodes.list", &stbfarm__node_list_request__descriptor, nodes_list},
    {"nodes.get", &stbfarm__node_get_request__descriptor, nodes_get_one},
    {"nodes.heartbeat", &stbfarm__node_heartbeat__descriptor, nodes_heartbeat},
    {"nodes.screenshot", &stbfarm__node_get_request__descriptor, nodes_screenshot},
    {"nodes.thumbnail", &stbfarm__node_get_request__descriptor, nodes_thumbnail},
    {"nodes.live_frame", &stbfarm__node_live_frame_request__descriptor, nodes_live_frame},
    {"nodes.press", &stbfarm__node_press_request__descriptor, nodes_press},
};

/* Once a second, node events for nodes whose heartbeats stopped. Every replica sweeps; the
 * sweep is idempotent, so a replica's death delays an offline event by a second at most. */
static long sweep_tick(void *arg)
{
    nodes_state *s = arg;
    sf_error err = SF_ERROR_INIT;
    if (nodes_sweep_offline(s->sweep_redis, &err)) {
        if (!s->sweep_failing++) /* once per outage */
            sf_warn("offline sweep: %s", err.msg);
    } else {
        if (s->sweep_failing)
            sf_info("offline sweep works again");
        s->sweep_failing = 0;
    }
    return SWEEP_MS;
}

static int start(void *arg, const sf_common_config *common)
{
    nodes_state *s = arg;
    sf_error err = SF_ERROR_INIT;
    if (sf_node_clients_new(&s->clients, &err) ||
        sf_redis_open(&s->sweep_redis, common->redis, &err) ||
        sf_ticker_start(&s->sweeper, "offline sweeper", sweep_tick, s, &err)) {
        sf_error("%s", err.msg);
        sf_redis_free(s->sweep_redis);
        s->sweep_redis = NULL;
        sf_node_clients_free(s->clients);
        s->clients = NULL;
        return -1;
    }
    sf_testpack_process_init();
    return 0;
}

static void stop(void *arg)
{
    nodes_state *s = arg;
    sf_ticker_stop(s->sweeper);
    s->sweeper = NULL;
    sf_redis_free(s->sweep_redis);
    sf_node_clients_free(s->clients);
    sf_testpack_process_shutdown();
}

/* Nodes registered, online, available (online, running no job, not reserved, not in
 * maintenance), and in maintenance. */
static const char COUNT_SCRIPT[] = NODES_LUA_ONLINE JOBS_LUA_NODE_BUSY RESV_LUA_NODE_HELD
    "local ids = nodes_ids()\n"
    "local online, available, maintenance = 0, 0, 0\n"
    "for _, id in ipairs(ids) do\n"
    "  local kept = nodes_in_maintenance(id)\n"
    "  if kept then maintenance = maintenance + 1 end\n"
    "  if nodes_online(id) then\n"
    "    online = online + 1\n"
    "    if not kept and not jobs_node_busy(id) and not resv_node_held(id) then\n"
    "      available = available + 1\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return {#ids, online, available, maintenance}\n";

/* The farm's nodes, for the metrics (every replica reads the same numbers from Redis). */
static void collect(void *arg, sf_redis *r)
{
    (void)arg;
    redisReply *c;
    sf_error err = SF_ERROR_INIT;
    if (sf_redis_eval(r, COUNT_SCRIPT, &c, &err, 0, 0, NULL, NULL))
        return; /* stbfarm_redis_errors_total says so; the gauges keep their last values */
    if (c->type != REDIS_REPLY_ARRAY || c->elements != 4) {
        freeReplyObject(c);
        return;
    }
    sf_metrics *m = sf_metrics_process();
    sf_metrics_set_gauge(m, "stbfarm_nodes_registered", "Nodes registered with the farm",
                         (double)sf_reply_int(c->element[0], 0));
    sf_metrics_set_gauge(m, "stbfarm_nodes_online", "Nodes whose agent sent a heartbeat lately",
                         (double)sf_reply_int(c->element[1], 0));
    sf_metrics_set_gauge(m, "stbfarm_nodes_available",
                         "Nodes online, running no job, not reserved and not in maintenance",
                         (double)sf_reply_int(c->element[2], 0));
    sf_metrics_set_gauge(m, "stbfarm_nodes_maintenance",
                         "Nodes in maintenance (an operator's or a failing health check's)",
                         (double)sf_reply_int(c->element[3], 0));
    freeReplyObject(c);
}

static void *thread_init(void *arg)
{
    (void)arg;
    return calloc(1, sizeof(nodes_local));
}

static void thread_fini(void *p)
{
    nodes_local *l = p;
    for (size_t i = 0; i < l->n_confs; i++)
        node_conf_clear(&l->confs[i]);
    free(l->confs);
    sf_testpack_free(l->tp);
    free(l);
}

int main(int argc, char **argv)
{
    static nodes_state state;
    const sf_option options[] = {
        SF_TESTPACK_OPTIONS(&state.cfg.test_pack, &state.cfg.test_pack_cache),
        {"agent-timeout-ms", "STBF_AGENT_TIMEOUT_MS", SF_OPT_INT, "5000",
         "how long to wait for a node agent (screenshot, press) before answering 503",
         &state.cfg.agent_timeout_ms},
    };
    sf_service_def def = {0};
    def.program = "stbfarm-nodes";
    def.about = "The nodes service: node registry, node status, screenshots and key presses.";
    def.svc = SF_SVC_NODES;
    def.methods = methods;
    def.n_methods = sizeof(methods) / sizeof(methods[0]);
    def.options = options;
    def.n_options = sizeof(options) / sizeof(options[0]);
    def.default_threads = "16";
    def.state = &state;
    def.start = start;
    def.stop = stop;
    def.thread_init = thread_init;
    def.thread_fini = thread_fini;
    def.collect = collect;
    return sf_service_main(&def, argc, argv);
}
