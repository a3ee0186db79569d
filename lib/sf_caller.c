#include "sf_caller.h"

#include "sf_crypto.h"
#include "sf_link.h"

#include <stdio.h>
#include <string.h>

/* What a node's agent calls; nothing else is open to a node. */
static const char *const NODE_METHODS[] = {"nodes.heartbeat",   "jobs.report",    "results.begin",
                                           "results.put_chunk", "results.status", "results.finish"};

static int node_method(const char *method)
{
    for (size_t i = 0; i < sizeof(NODE_METHODS) / sizeof(NODE_METHODS[0]); i++) {
        if (!strcmp(method, NODE_METHODS[i]))
            return 1;
    }
    return 0;
}

static int same_secret(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && sf_consttime_equal(a, b, n);
}

/* "node:<id>:<secret>": check secret against the stored hash. */
static int check_node(sf_call *call, sf_redis *redis, const char *cred, sf_error *err)
{
    const char *id = cred + 5, *colon = strchr(id, ':');
    size_t n = colon ? (size_t)(colon - id) : 0;
    if (!n || n >= sizeof(call->node))
        return sf_fail(err, SF_EFORBIDDEN, "a malformed node credential");
    memcpy(call->node, id, n);
    call->node[n] = '\0';
    if (!node_method(call->method))
        return sf_fail(err, SF_EFORBIDDEN, "node %s may not call %s", call->node, call->method);
    char hash[65];
    sf_sha256_hex(colon + 1, strlen(colon + 1), hash);
    redisReply *r = NULL;
    int rc = sf_redis_cmd(redis, &r, err, "GET sf:node:%s:credential", call->node);
    if (rc)
        return rc;
    const char *stored = sf_reply_str(r);
    if (!stored || !same_secret(stored, hash))
        rc = sf_fail(err, SF_EFORBIDDEN, "node %s is not enrolled, or its enrolment was revoked",
                     call->node);
    freeReplyObject(r);
    return rc;
}

int sf_caller_check(sf_call *call, sf_redis *redis, sf_error *err)
{
    const char *cred = call->credential, *own = sf_link_credential();
    call->node[0] = '\0';
    if (!strncmp(cred, "node:", 5)) {
        int rc = check_node(call, redis, cred, err);
        if (rc)
            call->node[0] = '\0';
        return rc;
    }
    if (!strncmp(cred, "farm:", 5)) {
        if (own && !strncmp(own, "farm:", 5) && same_secret(cred, own))
            return 0;
        return sf_fail(err, SF_EFORBIDDEN, "a farm credential that is not this farm's");
    }
    if (cred[0] || sf_link_secured())
        return sf_fail(err, SF_EFORBIDDEN, "%s takes calls with this farm's credential only",
                       call->method);
    return 0; /* no TLS, so every link is on this host: local callers are trusted */
}

int sf_caller_speaks_for(const sf_call *call, const char *node_id, sf_error *err)
{
    if (!call->node[0] || !strcmp(call->node, node_id))
        return 0;
    return sf_fail(err, SF_EFORBIDDEN, "node %s cannot speak for node %.64s", call->node, node_id);
}

void sf_caller_node_of(const char *uid, char *out, size_t len)
{
    const char *p = uid[0] == '/' ? uid + 1 : uid, *end = strchr(p, '/');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), p);
}

int sf_caller_enroll(sf_redis *redis, const char *node_id, const char *secret, sf_error *err)
{
    char hash[65];
    sf_sha256_hex(secret, strlen(secret), hash);
    redisReply *r = NULL;
    int rc = sf_redis_cmd(redis, &r, err, "SET sf:node:%s:credential %s", node_id, hash);
    if (!rc)
        freeReplyObject(r);
    return rc;
}

int sf_caller_revoke(sf_redis *redis, const char *node_id, sf_error *err)
{
    redisReply *r = NULL;
    /* its alive key too: the node reads offline at once, not after its TTL */
    int rc = sf_redis_cmd(redis, &r, err, "DEL sf:node:%s:credential sf:node:%s:alive", node_id,
                          node_id);
    if (!rc)
        freeReplyObject(r);
    return rc;
}
