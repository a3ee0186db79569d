/* res_service.h - the results service process: its configuration, the state its handlers share,
 * and the handlers of each "results.*" method (res_ingest.c: recording test runs;
 * res_query.c: the API's endpoints; res_sweep.c: retention in the background). */
#ifndef RES_SERVICE_H
#define RES_SERVICE_H

#include "res_index.h"
#include "sf_service.h"
#include "sf_tz.h"

#include <stdint.h>

#define RES_STAGING_DIR ".staging" /* under the store: uploads in progress, one dir each */
#define RES_CACHE_DIR   ".cache"   /* under the store: stbt.log converted to other zones */
#define RES_LIST_LIMIT  2000       /* the spec's "first 2,000 matching test-runs" */

typedef struct res_config {
    const char *artifacts;
    const char *retention; /* "off", or a duration: 90d, 12h, 30m, 45s */
    long sweep_secs;
    long upload_ttl_secs;
} res_config;

typedef struct res_sweep res_sweep;

typedef struct res_state {
    res_config cfg;
    char root[4096]; /* the artifact store, absolute */
    int root_fd, staging_fd, cache_fd;
    int64_t retention_us; /* 0: keep results forever */
    res_index *index;
    sf_tz_cache *tzs;
    res_sweep *sweep;
} res_state;

static inline res_state *res_state_of(const sf_call *call)
{
    return sf_worker_of(call)->service;
}

/* ingest (res_ingest.c) */
int res_begin(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);
int res_put_chunk(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);
int res_status(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);
int res_finish(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);
int res_abort(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);

/* queries (res_query.c) */
int res_list(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);
int res_list_csv(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);
int res_list_xml(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);
int res_get(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);
int res_artifacts(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);
int res_artifact(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);
int res_screenshot(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);
int res_log(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err);

/* the background sweep (res_sweep.c): retention, purging deleted results' files, abandoned
 * uploads and stale converted logs. Safe with any number of replicas. */
int res_sweep_start(res_sweep **out, res_state *st, const char *redis_addr, sf_error *err);
void res_sweep_stop(res_sweep *s);

#endif
