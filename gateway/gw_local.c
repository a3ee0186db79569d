/* Endpoints the gateway answers itself. */
#include "gw.h"

#include "common.pb-c.h"

#include <stdio.h>
#include <string.h>

int gw_handle_user(gw_request *rq)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "login", rq->user);
    return gw_reply_json(rq, 200, o);
}

/* GET /healthz, no token: Redis and every service, each answering within a second. The
 * launcher waits on it. With ?only=gateway, just this gateway and its Redis: what a load
 * balancer asks, so that a service that is down takes no gateway out of its rotation (every
 * gateway would go, and with them the endpoints that still work). */
int gw_handle_health(gw_request *rq)
{
    cJSON *o = cJSON_CreateObject();
    const char *q = rq->ri->query_string;
    int ok = 1, gateway_only = q && !strcmp(q, "only=gateway");
    redisReply *reply;
    sf_error err = SF_ERROR_INIT;
    if (sf_redis_cmd(rq->thread->redis, &reply, &err, "PING")) {
        cJSON_AddStringToObject(o, "redis", err.msg);
        ok = 0;
    } else {
        freeReplyObject(reply);
        cJSON_AddStringToObject(o, "redis", "ok");
    }
    for (int s = 0; s < SF_SVC_COUNT && !gateway_only; s++) {
        if (!rq->gw->clients[s])
            continue;
        char method[64];
        snprintf(method, sizeof(method), "%s.ping", sf_service_name((sf_service)s));
        sf_rpc_opts opts = SF_RPC_OPTS_INIT;
        opts.timeout_ms = 1000;
        sf_rpc_result res;
        int rc = sf_rpc_call(rq->gw->clients[s], method, NULL, &stbfarm__pong__descriptor, &opts,
                             &res, &err);
        cJSON_AddStringToObject(o, sf_service_name((sf_service)s), rc ? err.msg : "ok");
        ok &= rc == 0;
        sf_rpc_result_free(&res);
    }
    return gw_reply_json(rq, ok ? 200 : 503, o);
}
