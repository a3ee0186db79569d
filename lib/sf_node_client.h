/* sf_node_client.h - calling a node's agent (stbfarm-nodesvc: the "agent.*" methods of
 * proto/node_agent.proto and proto/runner.proto) from any process: the nodes service forwards
 * screenshots and key presses, the jobs service starts and stops test runs, the admin tool
 * calls any method.
 *
 * Each agent listens on its own nng URL and registers it with its heartbeat (the node registry,
 * services/nodes/nodes_store.h, reads it back: nodes_call there looks the address up). An
 * sf_node_clients keeps one sf_rpc_client per node, dialled to the address the node registered
 * last, and redials when the node comes back with another address. It is shared by every
 * thread of a process: look-ups take a lock, calls run outside it, and a client replaced while
 * a call is using it is freed when that call is done. */
#ifndef SF_NODE_CLIENT_H
#define SF_NODE_CLIENT_H

#include "sf_rpc.h"

typedef struct sf_node_clients sf_node_clients;

int sf_node_clients_new(sf_node_clients **out, sf_error *err);
void sf_node_clients_free(sf_node_clients *nc);

/* Call method on the agent of node node_id at address (the nng URL it registered; NULL when the
 * node is not online). SF_EUNAVAIL "Node X is offline" when address is NULL; SF_EUNAVAIL too
 * when the address cannot be dialled or the agent does not answer within timeout_ms; otherwise
 * what the agent answered (its 4xx/5xx with its message). Never resent by nng after a timeout,
 * so a key press goes out at most once per call. res as sf_rpc_call: free it in every case. */
int sf_node_call(sf_node_clients *nc, const char *node_id, const char *address, const char *method,
                 const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
                 int timeout_ms, sf_rpc_result *res, sf_error *err);

#endif
