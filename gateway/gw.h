/* gw.h - the gateway's process state, its per-request context and its route table.
 *
 * The gateway speaks HTTP (civetweb) to clients and protobuf over nng (sf_rpc) to services. For
 * most endpoints it does nothing but translate: the route names a service method and its
 * request and reply types, and gw_proxy builds the request from the path, the query string and
 * the JSON body, then renders the reply as JSON. Endpoints that need more (the long polls, /user)
 * name a handler of their own. */
#ifndef GW_H
#define GW_H

#include "gw_conns.h"
#include "gw_router.h"
#include "gw_share.h"
#include "sf_broker.h"
#include "sf_config.h"
#include "sf_events.h"
#include "sf_redis.h"
#include "sf_rpc.h"

#include <civetweb.h>
#include <cjson/cJSON.h>
#include <protobuf-c/protobuf-c.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

typedef struct gw_rate {
    int enabled;
    double per_second;
    long burst;
} gw_rate;

typedef struct gw_tokens gw_tokens;

typedef struct gw_config {
    sf_common_config common;
    const char *listen;
    const char *https_cert; /* PEM: certificate, chain and key; --listen then serves HTTPS */
    const char *public_url;
    const char *rate_limit;
    const char *artifact_rate_limit;
    const char *artifact_root;
    long rpc_timeout_ms;
    long max_long_polls;
    long long_poll_secs;
    long max_body_bytes;
    long token_cache_secs;
    long header_timeout_ms;
    long max_conns_per_address;
    const char *trusted_proxies;
    long max_downloads_per_token;
    int access_log;
    int metrics; /* count requests, and answer GET /metrics */
    /* the portal (gw_session.c, gw_static.c, gw_live.c) */
    const char *web_root;
    long session_idle_secs;
    long session_max_secs;
    const char *sign_in_user_limit;
    const char *sign_in_address_limit;
    long live_viewers;
    /* the event stream (gw_events.c) */
    long max_event_streams;
    long max_event_streams_per_token;
    int webhook_allow_loopback;
} gw_config;

typedef struct gw_portal gw_portal;
typedef struct hooks_policy hooks_policy;
typedef struct gw_metrics gw_metrics;

typedef struct gw_state {
    gw_config cfg;
    gw_rate rate, artifact_rate;
    sf_rpc_client *clients[SF_SVC_COUNT];
    sf_events *events;
    gw_tokens *tokens;
    gw_share *share;
    gw_conns *conns;
    gw_tally *downloads; /* file downloads in progress per token */
    gw_portal *portal;   /* sign-in limits, password hashing slots, web files, live viewers */
    gw_metrics *metrics; /* requests, limits, long polls (gw_metrics.c) */
    atomic_int long_polls;
    atomic_int event_streams;
    gw_tally *event_streams_by_token;
    atomic_int stopping;        /* set when the gateway stops: long streams end */
    hooks_policy *hooks_policy; /* where webhooks may point (hooks_url.h) */
} gw_state;

/* What one civetweb worker thread owns. */
typedef struct gw_thread {
    sf_redis *redis;
} gw_thread;

enum {
    GW_BODY = 1 << 0,      /* the request body is a JSON object of request fields */
    GW_UNWRAP = 1 << 1,    /* answer the reply's only field, not the reply object */
    GW_ARTIFACT = 1 << 2,  /* rate-limited in the generous artifact bucket */
    GW_PUBLIC = 1 << 3,    /* no access token needed (health check) */
    GW_SHARED = 1 << 4,    /* a read whose reply depends only on path, query, user and base
                              URL: identical concurrent requests share one call (gw_share.c) */
    GW_IMMUTABLE = 1 << 5, /* GW_SHARED, and the file it answers never changes: kept */
    /* Who may: write and admin always, unless GW_ADMIN_ONLY; manual control and read only
     * where the route says so (gw_authorize). */
    GW_ROLE_MANUAL = 1 << 6,
    GW_ROLE_READ = 1 << 7,
    GW_ADMIN_ONLY = 1 << 8,
    GW_ANY_ROLE = GW_ROLE_MANUAL | GW_ROLE_READ,
    GW_CHALLENGE = 1 << 9, /* without any credential: 401 with a challenge, not 403 (what
                              scrapers such as Prometheus expect) */
};

#define GW_SESSION_COOKIE "stbf_session"
#define GW_CSRF_HEADER    "X-CSRF-Token"

typedef struct gw_request gw_request;
typedef int (*gw_handler)(gw_request *rq);

typedef struct gw_route {
    const char *method;
    const char *pattern;
    int svc; /* sf_service, or -1 for routes the gateway answers itself */
    const char *rpc;
    const ProtobufCMessageDescriptor *req;
    const ProtobufCMessageDescriptor *reply;
    unsigned flags;
    gw_handler handler; /* NULL: gw_proxy */
} gw_route;

struct gw_request {
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    gw_state *gw;
    gw_thread *thread;
    const gw_route *route;
    gw_params params;
    char user[72];
    char token_id[40];        /* the token's selector once authenticated: its limits' key */
    char client[GW_ADDR_MAX]; /* the client's address (from a trusted proxy: as forwarded) */
    int role;                 /* sf_role the user acts with */
    int by_session;           /* authenticated by the session cookie, not a token */
    char base_url[512];
    int head;  /* a HEAD request: headers only */
    int close; /* close the connection after this response */
    int status;
    int64_t bytes;
};

/* Whether the client called us over HTTPS: our own TLS, a public URL that says so, or a
 * trusted proxy's (the edge's) X-Forwarded-Proto. */
int gw_request_https(const gw_request *rq);

/* civetweb's library with TLS when cert names a certificate (gw_tls.c); 0 or SF_EINVAL.
 * gw_tls_check_cert: whether the file holds a certificate and a private key. */
int gw_tls_init(const char *cert, sf_error *err);
int gw_tls_check_cert(const char *cert, sf_error *err);

extern const gw_route gw_routes[];
extern const size_t gw_n_routes;

/* ---- replies (gw_http.c): each sends a whole response and records status for the log ---- */

int gw_reply_json(gw_request *rq, int status, cJSON *body); /* takes body */
int gw_reply_error(gw_request *rq, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* As gw_reply_error, with extra header lines ("Retry-After: 3\r\n"). */
int gw_reply_error_headers(gw_request *rq, int status, const char *headers, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int gw_reply_raw(gw_request *rq, int status, const char *content_type, const void *data, size_t len,
                 const char *extra_headers);
/* HTTP dates (Date, Last-Modified): format t; parse one, 0 or SF_EINVAL. */
void gw_http_date(time_t t, char *out, size_t len);
int gw_http_date_parse(const char *text, time_t *out);

/* Only the status line and headers, for a body the caller sends (content_length < 0: none). */
int gw_reply_head(gw_request *rq, int status, const char *content_type, int64_t content_length,
                  const char *extra_headers);
/* The socket of the request's connection, which civetweb does not give out (found by its
 * addresses), or -1. For socket options only: reads and writes go through civetweb. */
int gw_conn_socket(const gw_request *rq);

/* An sf error code as its status and message. */
int gw_reply_sf_error(gw_request *rq, int code, const sf_error *err);

/* Read the request body (at most max bytes). Returns 0 with *out (malloc'd, NUL-terminated)
 * and *len, or SF_ETOOLARGE / SF_EINVAL with err filled. */
int gw_read_body(gw_request *rq, long max, char **out, size_t *len, sf_error *err);

/* ---- the generic proxy (gw_proxy.c) ---- */

int gw_proxy(gw_request *rq);

/* Build the route's request message from path parameters, query string and (GW_BODY) body. */
int gw_build_request(gw_request *rq, ProtobufCMessage **out, sf_error *err);

/* Call the route's service with the request's user and base URL. */
int gw_call(gw_request *rq, sf_service svc, const char *method, const ProtobufCMessage *req,
            const ProtobufCMessageDescriptor *reply_desc, sf_rpc_result *res, sf_error *err);

/* Answer a successful call's result: file, raw body or JSON. */
int gw_reply_result(gw_request *rq, const sf_rpc_result *res);

/* A reply message as the route's JSON text (malloc'd), or NULL when out of memory. */
char *gw_render_json(const gw_request *rq, const ProtobufCMessage *msg);

/* As gw_reply_result, except that when the result names a file that is no longer in the
 * artifact store, it sends nothing, sets *missing and returns 0. */
int gw_reply_result_file(gw_request *rq, const sf_rpc_result *res, int *missing);

/* Shared calls (gw_share.h) for GW_SHARED routes: the operations that make them RPCs, and the
 * listener (deleted results) that must be passed to sf_events_start. */
extern const gw_share_ops gw_rpc_share_ops;
sf_events_listener gw_share_listener(gw_share *s);

/* ---- auth and rate limits (gw_auth.c) ---- */

/* Parse "RPS:BURST" or "off". Returns 0 or SF_EINVAL. */
int gw_rate_parse(const char *text, gw_rate *out);

/* What the gateway keeps of verified tokens and rate buckets (see gw_auth.c); ttl_secs 0 keeps
 * nothing. Its listener must be passed to sf_events_start. */
int gw_tokens_new(gw_tokens **out, const char *redis, long ttl_secs, sf_error *err);
void gw_tokens_free(gw_tokens *t);
sf_events_listener gw_tokens_listener(gw_tokens *t);

/* Authenticate the request (its token, else its session cookie) and charge its rate bucket.
 * Returns 0 with rq->user, rq->role and rq->by_session set; SF_EFORBIDDEN; SF_ETOOMANY with
 * *retry_after_s; SF_EUNAVAIL when Redis is down. */
int gw_authenticate(gw_request *rq, int artifact, int *retry_after_s, sf_error *err);

/* 0 when rq->role may use rq->route; SF_EFORBIDDEN naming the role needed. */
int gw_authorize(gw_request *rq, sf_error *err);

/* The session id in the request's cookie: 0, or SF_ENOTFOUND. */
int gw_session_id(const gw_request *rq, char *id, size_t len);

/* ---- the portal: sessions, tokens, users (gw_session.c), web files (gw_static.c), live
 * screens (gw_live.c) ---- */

int gw_portal_new(gw_portal **out, const gw_config *cfg, sf_error *err);
void gw_portal_free(gw_portal *p);

int gw_handle_sign_in(gw_request *rq);
int gw_handle_session(gw_request *rq);
int gw_handle_sign_out(gw_request *rq);
int gw_handle_tokens_list(gw_request *rq);
int gw_handle_token_create(gw_request *rq);
int gw_handle_token_revoke(gw_request *rq);
int gw_handle_users_list(gw_request *rq);
int gw_handle_user_create(gw_request *rq);
int gw_handle_user_update(gw_request *rq);
int gw_handle_user_remove(gw_request *rq);
int gw_handle_root(gw_request *rq);
int gw_handle_live(gw_request *rq);
int gw_handle_static(gw_request *rq);

/* ---- handlers the gateway answers itself (gw_local.c) ---- */

int gw_handle_user(gw_request *rq);
int gw_handle_health(gw_request *rq);

/* ---- metrics (gw_metrics.c) ---- */

int gw_metrics_new(gw_metrics **out, gw_state *gw, sf_error *err);
void gw_metrics_free(gw_metrics *m);
/* Count a request answered with status, begun at t0_us (sf_now_us). */
void gw_metrics_request(gw_request *rq, int status, int64_t t0_us);
/* Count a request refused by a limit: "api", "artifact", "downloads", "sign_in", "long_polls". */
void gw_metrics_limited(gw_state *gw, const char *limit);
/* GET /metrics: the process's metrics in the Prometheus text format. */
int gw_handle_metrics(gw_request *rq);

/* ---- the OpenAPI document (gw_openapi.c) ---- */

int gw_handle_openapi(gw_request *rq);
/* The document as JSON text (free it), built from the route table; NULL when out of memory. */
char *gw_openapi_render(void);
/* 1 and the route, when a route has no entry in gw_openapi.c's table; else 0. */
int gw_openapi_missing(const char **method, const char **pattern);

/* Run fn as a long poll: one of this gateway's --max-long-polls (503 when all are taken), since
 * it holds a civetweb worker for long (gw_await.c). */
int gw_long_poll(gw_request *rq, gw_handler fn);

/* GET /api/v2/events: the change feed as Server-Sent Events (gw_events.c) */
int gw_handle_events(gw_request *rq);

/* /api/v2/webhooks (gw_webhooks.c) */
int gw_handle_webhook_create(gw_request *rq);
int gw_handle_webhooks_list(gw_request *rq);
int gw_handle_webhook_get(gw_request *rq);
int gw_handle_webhook_delete(gw_request *rq);

/* GET .../await_completion, and .../log?wait=true (gw_await.c) */
int gw_handle_await(gw_request *rq);
int gw_handle_log(gw_request *rq);

#endif
