/* stbfarm-nodes: the nodes service. Serves node status (GET /api/v2/nodes, /nodes/<id>) from
 * the registry in Redis. */
#include "nodes.pb-c.h"
#include "nodes_store.h"
#include "resv_store.h"
#include "sf_service.h"
#include "sf_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEVER_EXPIRES "9999-12-31"

/* Everything a Node reply points at, so that one free releases it. */
typedef struct node_view {
    Stbfarm__Node node;
    Stbfarm__Json config;
    char node_url[512];
    char last_used_time[40];
    char reason[160];
    nodes_record rec;
    res_view resv; /* the reservation held on the node, if any */
} node_view;

static void build_node(node_view *v, const char *base_url)
{
    nodes_record *rec = &v->rec;
    Stbfarm__Node *n = &v->node;
    stbfarm__node__init(n);
    stbfarm__json__init(&v->config);
    v->config.text = (char *)"{}";
    n->config = &v->config;
    n->node_id = rec->node_id;
    snprintf(v->node_url, sizeof(v->node_url), "%s/api/v2/nodes/%s", base_url, rec->node_id);
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
    if (!rec->online) {
        snprintf(v->reason, sizeof(v->reason), "Node %s is offline", rec->node_id);
        n->not_available_reason = v->reason;
    }
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
    node_view *views = calloc(n ? n : 1, sizeof(*views));
    Stbfarm__Node **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
    size_t k = 0;
    if (!views || !ptrs) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        rc = nodes_get(r, ids[i], &views[k].rec, err);
        if (rc == SF_ENOTFOUND) { /* removed since the listing */
            rc = 0;
            continue;
        }
        if (rc)
            goto cleanup;
        build_node(&views[k], call->base_url);
        if ((rc = res_node_status(r, call->user, &views[k].node, &views[k].resv, err)))
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
    for (size_t i = 0; views && i < n; i++) {
        nodes_record_clear(&views[i].rec);
        res_view_clear(&views[i].resv);
    }
    free(views);
    free(ptrs);
    nodes_ids_free(ids, n);
    return rc;
}

static int nodes_get_one(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                         sf_error *err)
{
    const Stbfarm__NodeGetRequest *q = (const Stbfarm__NodeGetRequest *)req;
    node_view v;
    int rc = nodes_get(sf_worker_of(call)->redis, q->node_id, &v.rec, err);
    if (rc)
        return rc;
    build_node(&v, call->base_url);
    rc = res_node_status(sf_worker_of(call)->redis, call->user, &v.node, &v.resv, err);
    if (!rc && sf_rpc_reply_msg(reply, &v.node.base))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    nodes_record_clear(&v.rec);
    res_view_clear(&v.resv);
    return rc;
}

static const sf_rpc_method methods[] = {
    {"nodes.list", &stbfarm__node_list_request__descriptor, nodes_list},
    {"nodes.get", &stbfarm__node_get_request__descriptor, nodes_get_one},
};

int main(int argc, char **argv)
{
    sf_service_def def = {0};
    def.program = "stbfarm-nodes";
    def.about = "The nodes service: node registry and node status.";
    def.svc = SF_SVC_NODES;
    def.methods = methods;
    def.n_methods = sizeof(methods) / sizeof(methods[0]);
    def.default_threads = "16";
    return sf_service_main(&def, argc, argv);
}
