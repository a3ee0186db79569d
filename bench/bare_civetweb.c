/* The baseline of bench/gateway.sh: civetweb with one handler answering a fixed JSON body the
 * size of a node status, configured as the gateway configures civetweb. Whatever the gateway
 * does beyond this (auth, rate limit, routing, RPC, Redis, JSON) is the cost being measured. */
#include <civetweb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char body[] =
    "{\"available\":true,\"config\":{},\"device_type\":null,\"external_ip_address\":null,"
    "\"friendly_name\":null,\"geoip_city\":null,\"geoip_country\":null,\"job\":null,"
    "\"last_used_by\":null,\"last_used_time\":null,\"licence_expiry\":\"9999-12-31\","
    "\"local_ip_address\":null,\"node_id\":\"stb-tester-000000000001\",\"node_url\":"
    "\"http://127.0.0.1:8080/api/v2/nodes/stb-tester-000000000001\",\"not_available_reason\":"
    "null,\"online\":true,\"reservation\":null}";

static int handle(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    char len[32];
    snprintf(len, sizeof(len), "%zu", sizeof(body) - 1);
    mg_response_header_start(conn, 200);
    mg_response_header_add(conn, "Content-Type", "application/json", -1);
    mg_response_header_add(conn, "Content-Length", len, -1);
    mg_response_header_send(conn);
    mg_write(conn, body, sizeof(body) - 1);
    return 200;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bare_civetweb HOST:PORT THREADS\n");
        return 2;
    }
    const char *options[] = {"listening_ports", argv[1], "num_threads", argv[2],
                             "enable_keep_alive", "yes", "keep_alive_timeout_ms", "5000",
                             "tcp_nodelay", "1", NULL};
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    mg_init_library(0);
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof(cb));
    struct mg_context *ctx = mg_start(&cb, NULL, options);
    if (!ctx) {
        fprintf(stderr, "bare_civetweb: cannot listen on %s\n", argv[1]);
        return 1;
    }
    mg_set_request_handler(ctx, "/", handle, NULL);
    int sig;
    sigwait(&sigs, &sig);
    mg_stop(ctx);
    mg_exit_library();
    return 0;
}
