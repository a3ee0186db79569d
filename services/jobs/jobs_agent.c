#include "jobs_agent.h"

#include "nodes_store.h"

#include <string.h>

int jobs_agent_call(sf_redis *r, const char *node_id, const char *method,
                    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
                    int timeout_ms, sf_rpc_result *res, sf_error *err)
{
    memset(res, 0, sizeof(*res));
    nodes_record node;
    int rc = nodes_get(r, node_id, &node, err);
    if (rc)
        return rc;
    sf_rpc_client *c = NULL;
    if (!node.address)
        rc = sf_fail(err, SF_EUNAVAIL, "node %s has no agent address", node_id);
    else
        rc = sf_rpc_client_dial(&c, node.address, node_id, err);
    if (!rc) {
        sf_rpc_opts o = SF_RPC_OPTS_INIT;
        o.timeout_ms = timeout_ms;
        rc = sf_rpc_call(c, method, req, reply_desc, &o, res, err);
    }
    sf_rpc_client_free(c);
    nodes_record_clear(&node);
    return rc;
}
