/* sf_metrics.h - counters, gauges and histograms with labels, in the Prometheus text exposition
 * format (version 0.0.4).
 *
 * A registry holds families (one metric name, its help, type and label names); a family holds
 * one series per set of label values. Every process has one registry of its own,
 * sf_metrics_process(): the shared library's modules (RPC, Redis) count into it without being
 * handed it, which is why it is the one piece of process-wide state here. Tests make their own.
 *
 * Threads: registering a family and making a series take a mutex; finding a series made
 * before reads the family's list without one (a string comparison per series ahead of it), and
 * updating one is a few atomic operations, so a hot path may look its series up each time, or
 * look it up once and keep it: a series lives as long as its registry. Every update takes a NULL
 * series or family and does nothing, so running out of memory costs a metric, never a request.
 *
 * Gauges that are cheaper to read than to keep up to date (what Redis holds) are set by a
 * collector, called at the start of every rendering, one rendering at a time. */
#ifndef SF_METRICS_H
#define SF_METRICS_H

#include "sf_buf.h"

#include <stddef.h>

typedef struct sf_metrics sf_metrics;
typedef struct sf_metric_family sf_metric_family;
typedef struct sf_metric sf_metric;

/* The process's registry: made on first use, never freed (NULL only when out of memory). */
sf_metrics *sf_metrics_process(void);

/* A registry of one's own (tests): 0 or SF_EINTERNAL. sf_metrics_free frees every family and
 * series in it; nothing may use them after. */
int sf_metrics_new(sf_metrics **out);
void sf_metrics_free(sf_metrics *m);

/* Register a family, or find the one registered under name before (several modules, or several
 * instances of one, may register the same family). labels: the label names, comma-separated
 * ("route,status"), or NULL for none. Returns NULL when out of memory, when m is NULL, or when
 * name or labels are not valid Prometheus names, or name is taken by a family of another type
 * or other labels (a programming error, logged). */
sf_metric_family *sf_metrics_counter(sf_metrics *m, const char *name, const char *help,
                                     const char *labels);
sf_metric_family *sf_metrics_gauge(sf_metrics *m, const char *name, const char *help,
                                   const char *labels);
/* bounds: the buckets' upper bounds, increasing (+Inf is added); NULL: SF_METRICS_LATENCY. */
sf_metric_family *sf_metrics_histogram(sf_metrics *m, const char *name, const char *help,
                                       const char *labels, const double *bounds, size_t n_bounds);

/* Latency buckets in seconds, from 1 ms to 60 s. */
extern const double SF_METRICS_LATENCY[];
extern const size_t SF_METRICS_N_LATENCY;

/* The series of f for these label values (as many as f has label names; NULL when it has
 * none), made on first use. NULL when f is NULL, out of memory, or when f already holds
 * SF_METRICS_MAX_SERIES series (a label fed something unbounded should not eat the process). */
enum { SF_METRICS_MAX_SERIES = 2000 };
sf_metric *sf_metric_get(sf_metric_family *f, const char *const *values);
#define SF_LABELS(...) ((const char *const[]){__VA_ARGS__})

void sf_metric_inc(sf_metric *s);               /* counter, gauge: add 1 */
void sf_metric_add(sf_metric *s, double v);     /* counter (v >= 0), gauge */
void sf_metric_set(sf_metric *s, double v);     /* gauge; a counter a collector copies */
void sf_metric_observe(sf_metric *s, double v); /* histogram */

/* Set the gauge without labels named name (registered on first use): what a collector does. */
void sf_metrics_set_gauge(sf_metrics *m, const char *name, const char *help, double v);

/* Call fn(arg) at the start of every sf_metrics_render, in the order added, one rendering at a
 * time (so fn may use a Redis connection of its own). 0 or SF_EINTERNAL. Remove it before arg
 * goes away: sf_metrics_remove_collector waits for a rendering under way. */
int sf_metrics_add_collector(sf_metrics *m, void (*fn)(void *arg), void *arg);
void sf_metrics_remove_collector(sf_metrics *m, void (*fn)(void *arg), void *arg);

/* Append every family of m to out in the text format (see the sf_buf contract for failure). */
void sf_metrics_render(sf_metrics *m, sf_buf *out);

#define SF_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
