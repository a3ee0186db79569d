/* node_client.h - calling a node's agent (stbfarm-nodesvc, "agent.*" methods in
 * proto/node_agent.proto) from any service: the nodes service forwards screenshots and key
 * presses, the jobs service starts and stops test runs.
 *
 * Each agent listens on its own nng URL and registers it with its heartbeat (nodes_store). A
 * node_clients keeps one sf_rpc_client per node, dialled to the address the node registered
 * last, and redials when the node comes back with another address. It is shared by every
 * thread of a process: look-ups take a lock, calls run outside it, and a client replaced while
 * a call is using it is freed when that call is done. */
#ifndef NODE_CLIENT_H
#define NODE_CLIENT_H

#include "nodes_store.h"
#include "sf_rpc.h"

typedef struct node_clients node_clients;

int node_clients_new(node_clients **out, sf_error *err);
void node_clients_free(node_clients *nc);

/* Call method on the agent of the node in rec (as nodes_get read it). SF_EUNAVAIL "node X is
 * offline" when the node is not online or never registered an address; SF_EUNAVAIL too when
 * the agent does not answer within timeout_ms; otherwise what the agent answered (its 4xx/5xx
 * with its message). Never resent by nng after a timeout, so a key press goes out at most once
 * per call. res as sf_rpc_call: free it in every case. */
int node_call(node_clients *nc, const nodes_record *rec, const char *method,
              const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
              int timeout_ms, sf_rpc_result *res, sf_error *err);

/* node_call for a node id: reads the registry through r first (SF_ENOTFOUND naming an unknown
 * node). */
int node_call_id(node_clients *nc, sf_redis *r, const char *node_id, const char *method,
                 const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
                 int timeout_ms, sf_rpc_result *res, sf_error *err);

#endif
