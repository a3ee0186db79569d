/* stbfarm-gateway: the HTTP front of the farm. Authenticates, rate-limits, routes each request
 * to its service over the broker and translates JSON <-> protobuf. Holds no state of its own:
 * run as many replicas as you like behind a load balancer. */
#include "gw.h"
#include "gw_portal.h"
#include "hooks_url.h"

#include "sf_log.h"
#include "sf_proc.h"
#include "sf_service.h"
#include "sf_time.h"
#include "sf_token.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void *init_thread(const struct mg_context *ctx, int thread_type)
{
    if (thread_type != 1) /* only request workers talk to Redis */
        return NULL;
    gw_state *gw = mg_get_user_data(ctx);
    gw_thread *t = calloc(1, sizeof(*t));
    sf_error err = SF_ERROR_INIT;
    if (!t || sf_redis_open(&t->redis, gw->cfg.common.redis, &err)) {
        sf_error("worker thread: %s", err.msg);
        free(t);
        return NULL;
    }
    return t;
}

static void exit_thread(const struct mg_context *ctx, int thread_type, void *ptr)
{
    (void)ctx;
    (void)thread_type;
    gw_thread *t = ptr;
    if (t) {
        sf_redis_free(t->redis);
        free(t);
    }
}

/* A connection is counted per client address from its first request to its close (civetweb
 * says nothing of a connection before its request has arrived). */
static const gw_conn_slot *count_connection(gw_request *rq)
{
    gw_conn_slot *slot = mg_get_user_connection_data(rq->conn);
    if (!slot && (slot = malloc(sizeof(*slot)))) {
        gw_conns_open(rq->gw->conns, rq->ri->remote_addr, slot);
        mg_set_user_connection_data(rq->conn, slot);
    }
    return slot;
}

static void connection_close(const struct mg_connection *conn)
{
    gw_state *gw = mg_get_user_data(mg_get_context(conn));
    gw_conn_slot *slot = mg_get_user_connection_data(conn);
    if (slot) {
        gw_conns_close(gw->conns, slot);
        free(slot);
    }
}

/* Who the request is from: the peer, or for a trusted proxy the address it forwarded. */
static void set_client(gw_request *rq, const gw_conn_slot *slot)
{
    snprintf(rq->client, sizeof(rq->client), "%s", rq->ri->remote_addr);
    if (!slot || !slot->trusted)
        return;
    const char *values[8];
    size_t n = 0;
    for (int i = 0; i < rq->ri->num_headers && n < 8; i++) {
        if (!strcasecmp(rq->ri->http_headers[i].name, "X-Forwarded-For"))
            values[n++] = rq->ri->http_headers[i].value;
    }
    gw_forwarded_for(values, n, rq->client, sizeof(rq->client));
}

static int log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    sf_warn("civetweb: %s", message);
    return 1;
}

/* Errors civetweb finds itself (a malformed request line or header) are JSON too. */
static int http_error(struct mg_connection *conn, int status, const char *msg)
{
    gw_request rq = {0};
    rq.conn = conn;
    char text[256];
    snprintf(text, sizeof(text), "%s", msg && *msg ? msg : sf_http_reason(status));
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    gw_reply_error(&rq, status, "%s", text);
    return 0;
}

int gw_request_https(const gw_request *rq)
{
    const char *pub = rq->gw->cfg.public_url;
    if ((pub && !strncasecmp(pub, "https://", 8)) || rq->ri->is_ssl)
        return 1;
    /* X-Forwarded-Proto counts only from a trusted proxy (--trusted-proxies): the edge */
    if (!gw_conns_trusted(rq->gw->conns, rq->ri->remote_addr))
        return 0;
    const char *proto = mg_get_header(rq->conn, "X-Forwarded-Proto");
    return proto && !strcasecmp(proto, "https");
}

/* The URL clients use to reach the portal, for the *_url fields: the configured public URL, or
 * else what the client called us by. */
static void set_base_url(gw_request *rq)
{
    if (rq->gw->cfg.public_url && *rq->gw->cfg.public_url) {
        snprintf(rq->base_url, sizeof(rq->base_url), "%s", rq->gw->cfg.public_url);
    } else {
        const char *host = mg_get_header(rq->conn, "Host");
        char safe[256];
        size_t n = 0;
        for (const char *p = host ? host : ""; *p && n + 1 < sizeof(safe); p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                *p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']')
                safe[n++] = *p;
        }
        safe[n] = '\0';
        snprintf(rq->base_url, sizeof(rq->base_url), "%s://%s",
                 gw_request_https(rq) ? "https" : "http", n ? safe : rq->ri->remote_addr);
    }
    size_t n = strlen(rq->base_url);
    while (n > 0 && rq->base_url[n - 1] == '/')
        rq->base_url[--n] = '\0';
}

/* Find the route: 0 and rq->route; SF_ENOTFOUND; SF_EMETHOD with the allowed methods. */
static int find_route(gw_request *rq, const char *method, const char *path, char *allow,
                      size_t allow_len)
{
    int path_matched = 0;
    allow[0] = '\0';
    for (size_t i = 0; i < gw_n_routes; i++) {
        const gw_route *r = &gw_routes[i];
        if (!gw_pattern_match(r->pattern, path, &rq->params))
            continue;
        if (!strcmp(r->method, method)) {
            rq->route = r;
            return 0;
        }
        path_matched = 1;
        size_t used = strlen(allow);
        if (!strstr(allow, r->method))
            snprintf(allow + used, allow_len - used, "%s%s", used ? ", " : "", r->method);
    }
    return path_matched ? SF_EMETHOD : SF_ENOTFOUND;
}

static int serve(gw_request *rq)
{
    const char *method = rq->ri->request_method;
    rq->head = !strcmp(method, "HEAD");
    char path[GW_PATH_MAX + 1], allow[128];
    const char *raw = rq->ri->local_uri_raw ? rq->ri->local_uri_raw : rq->ri->local_uri;
    /* civetweb keeps the first MG_MAX_HEADERS header lines and drops the rest unseen: a
     * request that may have had more is refused rather than read without some of them */
    if (rq->ri->num_headers >= MG_MAX_HEADERS)
        return gw_reply_error(rq, 431, "too many header lines: at most %d", MG_MAX_HEADERS - 1);
    sf_error err = SF_ERROR_INIT;
    int rc = gw_path_normalize(raw, path, sizeof(path), &err);
    if (rc)
        return gw_reply_error(rq, rc == SF_ETOOLARGE ? 414 : 400, "%s", err.msg);
    /* civetweb leaves the query string encoded: each reader decodes it, so a NUL is refused
     * here, before any of them could read a shorter value than the client sent */
    if (rq->ri->query_string && strstr(rq->ri->query_string, "%00"))
        return gw_reply_error(rq, 400, "malformed query string: a NUL (%%00) is not allowed");
    int found = find_route(rq, rq->head ? "GET" : method, path, allow, sizeof(allow));
    if (found && gw_path_has_dots(path))
        return gw_reply_error(rq, 400, "malformed path: '.' and '..' segments are not allowed");
    if (!found && (rq->route->flags & GW_PUBLIC)) {
        if (!rq->thread)
            return gw_reply_error(rq, 503, "this gateway thread has no Redis connection");
        return rq->route->handler(rq);
    }
    if (!rq->thread)
        return gw_reply_error(rq, 503, "this gateway thread has no Redis connection");
    int retry_after = 0;
    rc = gw_authenticate(rq, !found && (rq->route->flags & GW_ARTIFACT), &retry_after, &err);
    if (rc == SF_ETOOMANY) {
        gw_metrics_limited(rq->gw, !found && (rq->route->flags & GW_ARTIFACT) ? "artifact" : "api");
        char hdr[64];
        snprintf(hdr, sizeof(hdr), "Retry-After: %d\r\n", retry_after);
        return gw_reply_error_headers(rq, 429, hdr, "%s", err.msg);
    }
    char sid[SF_TOKEN_MAX + 1];
    if (rc == SF_EFORBIDDEN && !found && (rq->route->flags & GW_CHALLENGE) &&
        !mg_get_header(rq->conn, "Authorization") && gw_session_id(rq, sid, sizeof(sid)))
        return gw_reply_error_headers(rq, 401, "WWW-Authenticate: Token\r\n",
                                      "this needs an access token: Authorization: token <token>");
    if (rc)
        return gw_reply_sf_error(rq, rc, &err);
    if (found == SF_ENOTFOUND)
        return gw_reply_error(rq, 404, "no such endpoint: %s %s", method, path);
    if (found == SF_EMETHOD) {
        char hdr[160];
        snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow);
        return gw_reply_error_headers(rq, 405, hdr, "method %s is not allowed here; allowed: %s",
                                      method, allow);
    }
    if ((rc = gw_authorize(rq, &err)))
        return gw_reply_sf_error(rq, rc, &err);
    set_base_url(rq);
    return rq->route->handler ? rq->route->handler(rq) : gw_proxy(rq);
}

static int handle(struct mg_connection *conn, void *cbdata)
{
    gw_request *rq = calloc(1, sizeof(*rq)); /* large (path buffers): not on the stack */
    if (!rq) {
        mg_send_http_error(conn, 503, "out of memory");
        return 503;
    }
    int64_t t0 = sf_now_us();
    rq->conn = conn;
    rq->ri = mg_get_request_info(conn);
    rq->gw = cbdata;
    rq->thread = mg_get_thread_pointer(conn);
    const gw_conn_slot *slot = count_connection(rq);
    set_client(rq, slot);
    if (gw_conns_pressed(rq->gw->conns) || (slot && slot->over)) {
        rq->close = 1; /* workers run short: no connection waits idle for its next request */
        mg_disable_connection_keep_alive(conn);
    }
    if (slot && slot->over)
        gw_reply_error(rq, 503, "too many connections from %s: at most %ld at once", slot->addr,
                       gw_conns_max_per_address(rq->gw->conns));
    else
        serve(rq);
    if (rq->gw->cfg.access_log)
        sf_log_batched(SF_LOG_INFO, "%s %s %d %lldB %.1fms user=%s addr=%s", rq->ri->request_method,
                       rq->ri->local_uri_raw ? rq->ri->local_uri_raw : "?", rq->status,
                       (long long)rq->bytes, (double)(sf_now_us() - t0) / 1000.0,
                       rq->user[0] ? rq->user : "-", rq->client);
    int status = rq->status ? rq->status : 500;
    gw_metrics_request(rq, status, t0);
    free(rq);
    return status;
}

/* Which services the route table uses: the gateway dials and health-checks exactly those. */
static int service_used(sf_service svc)
{
    for (size_t i = 0; i < gw_n_routes; i++) {
        if (gw_routes[i].svc == (int)svc)
            return 1;
    }
    return 0;
}

/* Every check of the flags beyond their types: 0, or 2 (a usage error, which tells the
 * launcher not to start this again) with a message on stderr. */
static int check_config(gw_state *gw)
{
    if (sf_common_start("stbfarm-gateway", &gw->cfg.common))
        return 2;
    if (gw_rate_parse(gw->cfg.rate_limit, &gw->rate) ||
        gw_rate_parse(gw->cfg.artifact_rate_limit, &gw->artifact_rate)) {
        fprintf(stderr, "stbfarm-gateway: --rate-limit and --artifact-rate-limit take RPS:BURST "
                        "(e.g. 100:300) or off\n");
        return 2;
    }
    if (gw->cfg.common.threads < gw->cfg.max_long_polls + 8) {
        fprintf(stderr, "stbfarm-gateway: --threads must exceed --max-long-polls by at least 8, "
                        "so that long polls cannot take every worker\n");
        return 2;
    }
    sf_error cert_err = SF_ERROR_INIT;
    if (gw->cfg.https_cert && *gw->cfg.https_cert &&
        gw_tls_check_cert(gw->cfg.https_cert, &cert_err)) {
        fprintf(stderr, "stbfarm-gateway: %s\n", cert_err.msg);
        return 2;
    }
    if (gw->cfg.token_cache_secs < 0 || gw->cfg.token_cache_secs > 86400) {
        fprintf(stderr, "stbfarm-gateway: --token-cache-secs takes 0 to 86400\n");
        return 2;
    }
    gw_limit limit;
    if (gw->cfg.session_idle_secs < 60 || gw->cfg.session_max_secs < 60 ||
        gw->cfg.session_max_secs > 366 * 86400 || gw->cfg.live_viewers < 1 ||
        gw_limit_parse(gw->cfg.sign_in_user_limit, &limit) ||
        gw_limit_parse(gw->cfg.sign_in_address_limit, &limit)) {
        fprintf(stderr, "stbfarm-gateway: --session-idle-secs and --session-max-secs take 60 to "
                        "31622400, --live-viewers at least 1, --sign-in-user-limit and "
                        "--sign-in-address-limit BURST:SECONDS\n");
        return 2;
    }
    if (gw->cfg.header_timeout_ms < 100 || gw->cfg.header_timeout_ms > 600000 ||
        gw->cfg.max_conns_per_address < 1 || gw->cfg.max_downloads_per_token < 1 ||
        gw->cfg.max_event_streams < 1 || gw->cfg.max_event_streams_per_token < 1) {
        fprintf(stderr, "stbfarm-gateway: --header-timeout-ms takes 100 to 600000, "
                        "--max-conns-per-address, --max-downloads-per-token, --max-event-streams "
                        "and --max-event-streams-per-token at least 1\n");
        return 2;
    }
    sf_error err = SF_ERROR_INIT;
    if (gw_conns_new(&gw->conns, gw->cfg.max_conns_per_address, gw->cfg.common.threads,
                     gw->cfg.trusted_proxies, &err) ||
        gw_tally_new(&gw->downloads) || gw_tally_new(&gw->event_streams_by_token)) {
        fprintf(stderr, "stbfarm-gateway: --trusted-proxies: %s\n", err.msg);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    gw_state *gw = calloc(1, sizeof(*gw));
    if (!gw)
        return 1;
    gw_config *c = &gw->cfg;
    const sf_option options[] = {
        SF_COMMON_OPTIONS(&c->common, "128"),
        {"listen", "STBF_LISTEN", SF_OPT_STR, "127.0.0.1:8080", "HTTP address (host:port)",
         &c->listen},
        {"https-cert", "STBF_HTTPS_CERT", SF_OPT_STR, NULL,
         "a PEM file with the certificate, its chain and its private key: --listen serves "
         "HTTPS only",
         &c->https_cert},
        {"public-url", "STBF_PUBLIC_URL", SF_OPT_STR, NULL,
         "URL clients reach the portal at, for *_url fields (default: from the Host header)",
         &c->public_url},
        {"rate-limit", "STBF_RATE_LIMIT", SF_OPT_STR, "100:300",
         "per-token API rate limit RPS:BURST, or off", &c->rate_limit},
        {"artifact-rate-limit", "STBF_ARTIFACT_RATE_LIMIT", SF_OPT_STR, "200:2000",
         "per-token artifact download rate limit RPS:BURST, or off", &c->artifact_rate_limit},
        {"artifacts", "STBF_ARTIFACTS", SF_OPT_STR, NULL,
         "the artifact store, shared with the results service", &c->artifact_root},
        {"rpc-timeout-ms", "STBF_RPC_TIMEOUT_MS", SF_OPT_INT, "10000",
         "how long to wait for a service before answering 503", &c->rpc_timeout_ms},
        {"max-long-polls", "STBF_MAX_LONG_POLLS", SF_OPT_INT, "64",
         "long polls (await_completion) served at once; more get 503", &c->max_long_polls},
        {"long-poll-secs", "STBF_LONG_POLL_SECS", SF_OPT_INT, "55",
         "how long await_completion waits before answering 202", &c->long_poll_secs},
        {"max-body-bytes", "STBF_MAX_BODY_BYTES", SF_OPT_INT, "1048576",
         "largest JSON request body", &c->max_body_bytes},
        {"token-cache-secs", "STBF_TOKEN_CACHE_SECS", SF_OPT_INT, "60",
         "how long a verified token is trusted without asking Redis (revocations reach every "
         "gateway at once); 0: ask on every request",
         &c->token_cache_secs},
        {"header-timeout-ms", "STBF_HEADER_TIMEOUT_MS", SF_OPT_INT, "10000",
         "a request's headers (and body) must arrive within this time, or the connection is "
         "closed",
         &c->header_timeout_ms},
        {"max-conns-per-address", "STBF_MAX_CONNS_PER_ADDRESS", SF_OPT_INT, "32",
         "connections one client address may hold at once; past it: 503 and close",
         &c->max_conns_per_address},
        {"trusted-proxies", "STBF_TRUSTED_PROXIES", SF_OPT_STR, NULL,
         "addresses or CIDR prefixes of proxies (the edge) whose X-Forwarded-For names the "
         "client; they are not limited per address",
         &c->trusted_proxies},
        {"max-downloads-per-token", "STBF_MAX_DOWNLOADS_PER_TOKEN", SF_OPT_INT, "8",
         "artifact and file downloads one token may have in progress at once; past it: 429",
         &c->max_downloads_per_token},
        {"access-log", "STBF_ACCESS_LOG", SF_OPT_BOOL, "true", "log one line per request",
         &c->access_log},
        {"metrics", "STBF_GATEWAY_METRICS", SF_OPT_BOOL, "true",
         "count requests by route for the metrics, and answer GET /metrics (false: 404)",
         &c->metrics},
        /* the portal */
        {"web", "STBF_WEB", SF_OPT_STR, SF_WEB_DIR, "the portal's files, served under /app/",
         &c->web_root},
        {"session-idle-secs", "STBF_SESSION_IDLE_SECS", SF_OPT_INT, "43200",
         "a portal session unused for this long ends", &c->session_idle_secs},
        {"session-max-secs", "STBF_SESSION_MAX_SECS", SF_OPT_INT, "604800",
         "a portal session ends this long after signing in, used or not", &c->session_max_secs},
        {"sign-in-user-limit", "STBF_SIGN_IN_USER_LIMIT", SF_OPT_STR, "10:6",
         "failed sign-ins allowed per username: BURST:SECONDS (then one every SECONDS)",
         &c->sign_in_user_limit},
        {"sign-in-address-limit", "STBF_SIGN_IN_ADDRESS_LIMIT", SF_OPT_STR, "30:2",
         "failed sign-ins allowed per client address: BURST:SECONDS", &c->sign_in_address_limit},
        {"live-viewers", "STBF_LIVE_VIEWERS", SF_OPT_INT, "8",
         "viewers of one node's live screen at once, over every gateway", &c->live_viewers},
        {"max-event-streams", "STBF_MAX_EVENT_STREAMS", SF_OPT_INT, "32",
         "event streams (GET /api/v2/events) this gateway serves at once; more get 503",
         &c->max_event_streams},
        {"max-event-streams-per-token", "STBF_MAX_EVENT_STREAMS_PER_TOKEN", SF_OPT_INT, "4",
         "event streams one token may hold at once; more get 429", &c->max_event_streams_per_token},
        {"webhook-allow-loopback", "STBF_WEBHOOK_ALLOW_LOOPBACK", SF_OPT_BOOL, "false",
         "let webhooks point at loopback addresses (tests, single-host setups)",
         &c->webhook_allow_loopback},
    };
    const size_t n_options = sizeof(options) / sizeof(options[0]);
    int check_only = sf_config_load("stbfarm-gateway", "The HTTP REST API v2 gateway of stbfarm.",
                                    options, n_options, argc, argv);
    int bad = check_config(gw);
    if (bad || check_only) {
        gw_conns_free(gw->conns);
        gw_tally_free(gw->downloads);
        gw_tally_free(gw->event_streams_by_token);
        free(gw);
        return bad;
    }

    sigset_t sigs;
    sf_stop_block(&sigs);

    sf_error err = SF_ERROR_INIT;
    int rc = 1;
    struct mg_context *ctx = NULL;
    for (int s = 0; s < SF_SVC_COUNT; s++) {
        if (service_used((sf_service)s) &&
            sf_rpc_client_open(&gw->clients[s], c->common.broker, (sf_service)s, &err)) {
            sf_error("%s", err.msg);
            goto cleanup;
        }
    }
    if (gw_tokens_new(&gw->tokens, c->common.redis, c->token_cache_secs, &err)) {
        sf_error("%s", err.msg);
        goto cleanup;
    }
    if (gw_share_new(&gw->share, &gw_rpc_share_ops, 60 * 1000000LL, &err)) {
        sf_error("%s", err.msg);
        goto cleanup;
    }
    if (!(gw->hooks_policy = calloc(1, sizeof(*gw->hooks_policy)))) {
        sf_error("out of memory");
        goto cleanup;
    }
    hooks_policy_init(gw->hooks_policy, c->webhook_allow_loopback, c->common.redis,
                      c->common.broker);
    if (gw_portal_new(&gw->portal, c, &err)) {
        sf_error("%s", err.msg);
        goto cleanup;
    }
    if (c->metrics && gw_metrics_new(&gw->metrics, gw, &err)) {
        sf_error("%s", err.msg);
        goto cleanup;
    }
    const sf_events_listener listeners[] = {gw_tokens_listener(gw->tokens),
                                            gw_share_listener(gw->share)};
    if (sf_events_start(&gw->events, c->common.redis, listeners, 2, &err)) {
        sf_error("%s", err.msg);
        goto cleanup;
    }

    char threads[16], header_timeout[24];
    snprintf(threads, sizeof(threads), "%ld", c->common.threads);
    /* civetweb's request_timeout_ms is a deadline for the request's head (and body), counted
     * from its first byte; keep-alive waits have keep_alive_timeout_ms */
    snprintf(header_timeout, sizeof(header_timeout), "%ld", c->header_timeout_ms);
    /* HTTPS: the port says so ("s"); TLS 1.2 at least */
    int https = c->https_cert && *c->https_cert;
    char listen[300];
    snprintf(listen, sizeof(listen), "%s%s", c->listen, https ? "s" : "");
    const char *mg_options[] = {"listening_ports",
                                listen,
                                "num_threads",
                                threads,
                                "enable_keep_alive",
                                "yes",
                                "keep_alive_timeout_ms",
                                "5000",
                                "request_timeout_ms",
                                header_timeout,
                                "enable_auth_domain_check",
                                "no",
                                "decode_url", /* gw_path_normalize decodes, refusing %00 */
                                "no",
                                "tcp_nodelay", /* headers and body are separate writes */
                                "1",
                                https ? "ssl_certificate" : NULL,
                                c->https_cert,
                                "ssl_protocol_version",
                                "4",
                                NULL};
    struct mg_callbacks callbacks = {0};
    callbacks.init_thread = init_thread;
    callbacks.exit_thread = exit_thread;
    callbacks.log_message = log_message;
    callbacks.http_error = http_error;
    callbacks.connection_close = connection_close;
    if (gw_tls_init(c->https_cert, &err)) {
        fprintf(stderr, "stbfarm-gateway: %s\n", err.msg);
        sf_error("%s", err.msg);
        goto cleanup;
    }
    ctx = mg_start(&callbacks, gw, mg_options);
    if (!ctx) {
        fprintf(stderr, "stbfarm-gateway: cannot listen on %s (is the port in use?)\n", c->listen);
        sf_error("cannot listen on %s", c->listen);
        goto cleanup;
    }
    mg_set_request_handler(ctx, "/", handle, gw);
    const char *undocumented_method, *undocumented;
    if (gw_openapi_missing(&undocumented_method, &undocumented))
        sf_warn("route %s %s has no entry in gw_openapi.c: the OpenAPI document leaves it out",
                undocumented_method, undocumented);
    sf_info("gateway listening on %s via broker %s", c->listen, c->common.broker);
    sf_stop_wait(&sigs);
    rc = 0;
cleanup:
    atomic_store(&gw->stopping, 1); /* event streams end within a second */
    if (ctx)
        mg_stop(ctx);
    mg_exit_library();
    sf_log_flush(); /* the last access lines */
    sf_events_stop(gw->events);
    gw_tokens_free(gw->tokens);
    gw_share_free(gw->share);
    gw_conns_free(gw->conns);
    gw_tally_free(gw->downloads);
    gw_tally_free(gw->event_streams_by_token);
    gw_portal_free(gw->portal);
    free(gw->hooks_policy);
    gw_metrics_free(gw->metrics);
    for (int s = 0; s < SF_SVC_COUNT; s++)
        sf_rpc_client_free(gw->clients[s]);
    free(gw);
    return rc;
}
