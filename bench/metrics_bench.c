/* metrics_bench THREADS SECONDS - what the gateway's counting costs one request, measured apart:
 * THREADS threads each count requests as gw_metrics_request does (a counter by route, method and
 * status, a latency histogram by route and method) over 60 routes already counted, as many as
 * they can for SECONDS. Prints nanoseconds per counted request (per thread); bench/gateway.sh
 * sets it beside the time one request of the full path takes. */
#include "sf_metrics.h"
#include "sf_time.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

enum { ROUTES = 60 };

typedef struct bench {
    sf_metric_family *requests, *latency;
    atomic_int stop;
    atomic_long counted;
    char routes[ROUTES][48];
} bench;

static void *counter(void *arg)
{
    bench *b = arg;
    long n = 0;
    while (!atomic_load_explicit(&b->stop, memory_order_relaxed)) {
        const char *route = b->routes[n % ROUTES];
        int64_t t0 = sf_now_us();
        sf_metric_inc(sf_metric_get(b->requests, SF_LABELS(route, "GET", "200")));
        sf_metric_observe(sf_metric_get(b->latency, SF_LABELS(route, "GET")),
                          (double)(sf_now_us() - t0) / 1e6);
        n++;
    }
    atomic_fetch_add(&b->counted, n);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: metrics_bench THREADS SECONDS\n");
        return 2;
    }
    int threads = atoi(argv[1]), secs = atoi(argv[2]);
    if (threads < 1 || threads > 256 || secs < 1)
        return 2;
    sf_metrics *m;
    static bench b;
    if (sf_metrics_new(&m))
        return 1;
    b.requests = sf_metrics_counter(m, "req_total", "requests", "route,method,status");
    b.latency = sf_metrics_histogram(m, "req_seconds", "latency", "route,method", NULL, 0);
    /* the series a running gateway has: every route, a few statuses each */
    static const char *const statuses[] = {"200", "404", "403", "429"};
    for (int i = 0; i < ROUTES; i++) {
        snprintf(b.routes[i], sizeof(b.routes[i]), "/api/v2/route%02d/{param}", i);
        for (size_t s = 0; s < sizeof(statuses) / sizeof(statuses[0]); s++)
            sf_metric_inc(sf_metric_get(b.requests, SF_LABELS(b.routes[i], "GET", statuses[s])));
    }
    pthread_t t[256];
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, counter, &b);
    struct timespec ts = {secs, 0};
    int64_t t0 = sf_now_us();
    nanosleep(&ts, NULL);
    atomic_store(&b.stop, 1);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    double elapsed_ns = (double)(sf_now_us() - t0) * 1000.0;
    long counted = atomic_load(&b.counted);
    printf("%.0f\n", elapsed_ns * threads / (double)(counted ? counted : 1));
    sf_metrics_free(m);
    return 0;
}
