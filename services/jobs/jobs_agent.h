/* jobs_agent.h - calling the agent of one node (its test runner). */
#ifndef JOBS_AGENT_H
#define JOBS_AGENT_H

#include "sf_redis.h"
#include "sf_rpc.h"

/* Call method on node_id's agent at the address it registered. SF_EUNAVAIL when the node has
 * no agent address or the agent does not answer in timeout_ms. res as sf_rpc_call. */
int jobs_agent_call(sf_redis *r, const char *node_id, const char *method,
                    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
                    int timeout_ms, sf_rpc_result *res, sf_error *err);

#endif
