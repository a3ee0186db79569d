/* civetweb_baseline HOST:PORT THREADS [DIRECTORY] - the baselines the benches compare the
 * gateway with: civetweb configured as the gateway configures it (keep-alive, tcp_nodelay,
 * THREADS workers), either serving DIRECTORY as static files (bench/results.sh: an artifact
 * download through the gateway does all this does, plus auth, rate limit, the RPC to the results
 * service and its checks) or, without one, answering every request with a fixed JSON body the
 * size of a node status (bench/gateway.sh). The ratio of the rates is the gateway's cost. */
#include "sf_proc.h"

#include <civetweb.h>
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
static int handle(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
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
    if (argc == 3)
        mg_set_request_handler(ctx, "/", handle, NULL);
    sf_stop_wait(&sigs);
    mg_stop(ctx);
    mg_exit_library();
    return 0;
}
