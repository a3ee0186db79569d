/* sf_caller.h - who is calling a service: the farm itself, one enrolled node, or (on a farm
 * whose links do not leave the host) any local process.
 *
 * TLS tells a service only that its peer holds a certificate of the farm or agent authority
 * (lib/sf_link.h), never which one. So every request also carries its process's credential
 * (sf_link_credential, in the RPC envelope):
 *   farm:<secret>        the farm's processes: the same secret in every farm credential
 *                        directory (./stbfarm ca init), compared with this process's own
 *   node:<id>:<secret>   node <id>'s agent (./stbfarm node enroll): Redis keeps the SHA-256 of
 *                        the secret at sf:node:<id>:credential; ./stbfarm node revoke deletes
 *                        it, and the next request of that node is refused
 * A node may call only what agents call (heartbeats, job reports, result uploads), and each
 * handler of those checks the node its request names with sf_caller_speaks_for. A request
 * without a credential is refused once this process links over TLS; before that, on one host,
 * it is trusted as it always was. */
#ifndef SF_CALLER_H
#define SF_CALLER_H

#include "sf_redis.h"
#include "sf_rpc.h"

/* The authorize hook of a service (sf_service.c), with its thread's Redis connection. Fills
 * call->node for a node. 0, or SF_EFORBIDDEN with why. (A node agent needs none: its TLS
 * listener admits the farm's certificates only, and an agent does not hold the farm's secret
 * to compare with.) */
int sf_caller_check(sf_call *call, sf_redis *redis, sf_error *err);

/* 0 when the caller may speak for node_id (the farm, a local caller, or node_id itself);
 * SF_EFORBIDDEN otherwise. */
int sf_caller_speaks_for(const sf_call *call, const char *node_id, sf_error *err);

/* The node a job uid or result id names ("/<node>/..."), into out (NUL-terminated, at most
 * len - 1 bytes). */
void sf_caller_node_of(const char *uid, char *out, size_t len);

/* Enrol node_id with secret (its SHA-256 is stored; a new enrolment replaces the old one). */
int sf_caller_enroll(sf_redis *redis, const char *node_id, const char *secret, sf_error *err);

/* Refuse node_id from now on, and mark it offline. 0 also when it was not enrolled. */
int sf_caller_revoke(sf_redis *redis, const char *node_id, sf_error *err);

#endif
