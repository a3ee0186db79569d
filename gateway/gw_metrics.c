/* The gateway's metrics: every request by route, method and status, with its latency; the
 * requests a limit refused; the long polls held. GET /metrics answers them with the rest of
 * the process's registry (RPC, Redis) to a token of role read or above; --metrics-listen
 * serves the same without one, on an address of the operator's choosing. */
#include "gw.h"

#include "sf_metrics.h"
#include "sf_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gw_metrics {
    gw_state *gw;
    sf_metric_family *requests, *latency, *limited;
    sf_metric *long_polls, *long_polls_max;
};

static void collect(void *arg)
{
    gw_metrics *m = arg;
    sf_metric_set(m->long_polls, (double)atomic_load(&m->gw->long_polls));
}

int gw_metrics_new(gw_metrics **out, gw_state *gw, sf_error *err)
{
    gw_metrics *m = calloc(1, sizeof(*m));
    sf_metrics *reg = sf_metrics_process();
    if (!m || !reg) {
        free(m);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    m->gw = gw;
    m->requests = sf_metrics_counter(reg, "stbfarm_http_requests_total",
                                     "HTTP requests answered, by route (the pattern of "
                                     "gateway/gw_routes.c; none: no route), method and status",
                                     "route,method,status");
    m->latency = sf_metrics_histogram(reg, "stbfarm_http_request_duration_seconds",
                                      "Time from a request's head to the end of its answer, by "
                                      "route and method",
                                      "route,method", NULL, 0);
    m->limited = sf_metrics_counter(reg, "stbfarm_gateway_limited_total",
                                    "Requests a limit refused: the api and artifact rate limits, "
                                    "downloads per token and sign-ins (429), long polls (503)",
                                    "limit");
    m->long_polls = sf_metric_get(sf_metrics_gauge(reg, "stbfarm_gateway_long_polls",
                                                   "Long polls (await_completion, log?wait) held "
                                                   "now",
                                                   NULL),
                                  NULL);
    m->long_polls_max = sf_metric_get(sf_metrics_gauge(reg, "stbfarm_gateway_long_polls_max",
                                                       "Long polls this gateway holds at most "
                                                       "(--max-long-polls)",
                                                       NULL),
                                      NULL);
    sf_metric_set(m->long_polls_max, (double)gw->cfg.max_long_polls);
    if (sf_metrics_add_collector(reg, collect, m)) {
        free(m);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    *out = m;
    return 0;
}

void gw_metrics_free(gw_metrics *m)
{
    if (!m)
        return;
    sf_metrics_remove_collector(sf_metrics_process(), collect, m);
    free(m);
}

/* The method as a label: one of HTTP's, or "other" (a client may send any token there). */
static const char *method_label(const char *method)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (!strcmp(method, known[i]))
            return known[i];
    }
    return "other";
}

void gw_metrics_request(gw_request *rq, int status, int64_t t0_us)
{
    gw_metrics *m = rq->gw->metrics;
    if (!m)
        return;
    const char *route = rq->route ? rq->route->pattern : "none";
    const char *method = method_label(rq->ri->request_method);
    char code[8];
    snprintf(code, sizeof(code), "%d", status);
    sf_metric_inc(sf_metric_get(m->requests, SF_LABELS(route, method, code)));
    sf_metric_observe(sf_metric_get(m->latency, SF_LABELS(route, method)),
                      (double)(sf_now_us() - t0_us) / 1e6);
}

void gw_metrics_limited(gw_state *gw, const char *limit)
{
    if (gw->metrics)
        sf_metric_inc(sf_metric_get(gw->metrics->limited, SF_LABELS(limit)));
}

int gw_handle_metrics(gw_request *rq)
{
    if (!rq->gw->metrics)
        return gw_reply_error(rq, 404, "this gateway's metrics are off (--metrics=false)");
    sf_buf b = SF_BUF_INIT;
    sf_metrics_render(sf_metrics_process(), &b);
    if (b.oom) {
        sf_buf_free(&b);
        return gw_reply_error(rq, 503, "out of memory");
    }
    int rc = gw_reply_raw(rq, 200, SF_METRICS_CONTENT_TYPE, b.data ? b.data : "", b.len,
                          "Cache-Control: no-store\r\n");
    sf_buf_free(&b);
    return rc;
}
