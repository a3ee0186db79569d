/* civetweb_baseline HOST:PORT THREADS [DIRECTORY] - the baselines the benches compare the
 * gateway with: civetweb configured as the gateway configures it (keep-alive, tcp_nodelay,
 * THREADS workers), either serving DIRECTORY as static files (bench/results.sh: an artifact
 * download through the gateway does all this does, plus auth, rate limit, the RPC to the results
 * service and its checks) or, without one, answering every request with a fixed JSON body the
 * size of a node status (bench/gateway.sh). The ratio of the rates is the gateway's cost.
 *
 * Without DIRECTORY, two more paths answer the same body after a call to a "service" that does
 * nothing: a thread of this process that answers each call the moment it runs. They measure
 * what waiting for a call costs by itself, whatever the call does:
 *   /call/...    every request makes its own call (as the full path's unshared requests do);
 *   /shared/...  requests share calls through the gateway's gw_share, exactly as GETs of one node
 *                do in the gateway: each is answered by a call that started after it arrived. */
#include "gw_share.h"
#include "sf_proc.h"

#include <civetweb.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char body[] =
    "{\"available\":true,\"config\":{},\"device_type\":null,\"external_ip_address\":null,"
    "\"friendly_name\":null,\"geoip_city\":null,\"geoip_country\":null,\"job\":null,"
    "\"last_used_by\":null,\"last_used_time\":null,\"licence_expiry\":\"9999-12-31\","
    "\"local_ip_address\":null,\"node_id\":\"stb-tester-000000000001\",\"node_url\":"
    "\"http://127.0.0.1:8080/api/v2/nodes/stb-tester-000000000001\",\"not_available_reason\":"
    "null,\"online\":true,\"reservation\":null}";

/* The fastest way to answer with civetweb: the whole response in one write (its header
 * functions would send each header line as a packet of its own), as the gateway does. */
static int answer(struct mg_connection *conn)
{
    char response[2048], date[64];
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
    int n = snprintf(response, sizeof(response),
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Date: %s\r\nConnection: keep-alive\r\n\r\n%s",
                     sizeof(body) - 1, date, body);
    mg_write(conn, response, (size_t)n);
    return 200;
}

static int handle(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    return answer(conn);
}

/* ---- a service that does nothing ---- */

typedef struct call {
    int done;
    pthread_cond_t cond;
    struct call *next;
} call;

static pthread_mutex_t calls_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t calls_cond = PTHREAD_COND_INITIALIZER;
static call *calls; /* waiting for the service */

static void *service(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&calls_lock);
    for (;;) {
        while (!calls)
            pthread_cond_wait(&calls_cond, &calls_lock);
        for (call *c = calls; c; c = c->next) {
            c->done = 1;
            pthread_cond_signal(&c->cond);
        }
        calls = NULL;
    }
    return NULL;
}

/* Hand a call to the service thread and sleep until it has answered: one wait, as sf_rpc_call
 * makes (there, for the broker, the service and Redis). */
static void *call_service(void *arg)
{
    (void)arg;
    call c = {.done = 0};
    pthread_cond_init(&c.cond, NULL);
    pthread_mutex_lock(&calls_lock);
    c.next = calls;
    calls = &c;
    pthread_cond_signal(&calls_cond);
    while (!c.done)
        pthread_cond_wait(&c.cond, &calls_lock);
    pthread_mutex_unlock(&calls_lock);
    pthread_cond_destroy(&c.cond);
    return (void *)body;
}

static void no_free(void *answer)
{
    (void)answer;
}

static const gw_share_ops call_ops = {call_service, no_free, NULL};

static int handle_call(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    call_service(NULL);
    return answer(conn);
}

static int handle_shared(struct mg_connection *conn, void *share)
{
    gw_flight *f = gw_share_call(share, mg_get_request_info(conn)->local_uri, 0, NULL, NULL);
    int status = answer(conn);
    gw_flight_unref(f);
    return status;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: civetweb_baseline HOST:PORT THREADS [DIRECTORY]\n");
        return 2;
    }
    const char *options[] = {"listening_ports",
                             argv[1],
                             "num_threads",
                             argv[2],
                             "enable_keep_alive",
                             "yes",
                             "keep_alive_timeout_ms",
                             "5000",
                             "tcp_nodelay",
                             "1",
                             argc == 4 ? "document_root" : NULL,
                             argc == 4 ? argv[3] : NULL,
                             NULL};
    sigset_t sigs;
    sf_stop_block(&sigs);
    mg_init_library(0);
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof(cb));
    struct mg_context *ctx = mg_start(&cb, NULL, options);
    if (!ctx) {
        fprintf(stderr, "civetweb_baseline: cannot listen on %s\n", argv[1]);
        return 1;
    }
    gw_share *share = NULL;
    if (argc == 3) {
        sf_error err = SF_ERROR_INIT;
        pthread_t t;
        if (gw_share_new(&share, &call_ops, 0, &err) || pthread_create(&t, NULL, service, NULL)) {
            fprintf(stderr, "civetweb_baseline: %s\n", err.msg[0] ? err.msg : "no thread");
            return 1;
        }
        pthread_detach(t);
        mg_set_request_handler(ctx, "/", handle, NULL);
        mg_set_request_handler(ctx, "/call", handle_call, NULL);
        mg_set_request_handler(ctx, "/shared", handle_shared, share);
    }
    sf_stop_wait(&sigs);
    mg_stop(ctx);
    gw_share_free(share);
    mg_exit_library();
    return 0;
}
