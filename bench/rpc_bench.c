/* rpc_bench BROKER_BASE THREADS SECONDS - how many "nodes.ping" calls per second N threads get
 * through the broker from a running nodes service: the ceiling of any request that crosses the
 * broker, measured apart from HTTP, auth and Redis. bench/gateway.sh prints it beside the rest. */
#include "common.pb-c.h"
#include "sf_rpc.h"
#include "sf_time.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct bench {
    sf_rpc_client *client;
    atomic_int stop;
    atomic_long calls;
} bench;

static void *caller(void *arg)
{
    bench *b = arg;
    while (!atomic_load(&b->stop)) {
        sf_rpc_result res;
        sf_error err = SF_ERROR_INIT;
        if (sf_rpc_call(b->client, "nodes.ping", NULL, &stbfarm__pong__descriptor, NULL, &res,
                        &err) == 0)
            atomic_fetch_add(&b->calls, 1);
        sf_rpc_result_free(&res);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: rpc_bench BROKER_BASE THREADS SECONDS\n");
        return 2;
    }
    int n = atoi(argv[2]), secs = atoi(argv[3]);
    bench b = {0};
    sf_error err = SF_ERROR_INIT;
    if (n < 1 || n > 256 || secs < 1 ||
        sf_rpc_client_open(&b.client, argv[1], SF_SVC_NODES, &err)) {
        fprintf(stderr, "rpc_bench: %s\n", err.msg[0] ? err.msg : "bad arguments");
        return 2;
    }
    pthread_t t[256];
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, caller, &b);
    struct timespec ts = {secs, 0};
    nanosleep(&ts, NULL);
    atomic_store(&b.stop, 1);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    printf("%.0f\n", (double)atomic_load(&b.calls) / secs);
    sf_rpc_client_free(b.client);
    return 0;
}
