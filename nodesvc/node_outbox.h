/* node_outbox.h - what a node agent owes the services for the jobs it runs: each test run's
 * result with its artifacts (the results service's ingest protocol) and the job's reports
 * (started, log, result, finished) to the jobs service.
 *
 * One thread delivers the items in the order they were queued, and retries each until its
 * service acknowledges it (back-off 100 ms to 2 s): a result is counted by the jobs service only
 * once it is stored, and "finished" comes after every result of the job. A restart of the
 * results or jobs service, the broker or Redis loses nothing: the item waits. Test runs that
 * upload slowly do not hold up the next test; only stopping a job waits for the outbox
 * (node_outbox_idle). */
#ifndef NODE_OUTBOX_H
#define NODE_OUTBOX_H

#include "jobs.pb-c.h"
#include "results.pb-c.h"
#include "sf_err.h"

#include <stdint.h>

typedef struct node_outbox node_outbox;

/* Start delivering through the brokers. On failure nothing is left running. */
int node_outbox_start(node_outbox **out, const char *brokers, sf_error *err);

/* Stop delivering; what is still queued is dropped (the jobs service's reaper ends a job whose
 * node went away). */
void node_outbox_stop(node_outbox *o);

/* Queue a report (copied). SF_EINTERNAL (out of memory): nothing was queued. */
int node_outbox_report(node_outbox *o, const Stbfarm__JobReport *report, sf_error *err);

/* A finished test run to store: meta and the outcome, and the directory holding its artifacts.
 * After storing it, the outbox reports it to the jobs service as a "result" of the job. */
typedef struct node_result {
    const Stbfarm__ResultMeta *meta;
    const char *outcome; /* pass, fail, error */
    const char *failure_reason;
    const char *traceback;
    int64_t end_time_us;
    const char *dir;
} node_result;

/* Queue a finished run. r is copied; on success the outbox owns r->dir from now on and removes
 * it once the result is stored. On failure (SF_EINTERNAL: out of memory) nothing was queued and
 * r->dir is still the caller's. */
int node_outbox_result(node_outbox *o, const node_result *r, sf_error *err);

/* Wait until everything queued so far is delivered, up to timeout_ms. 1 when it is. */
int node_outbox_idle(node_outbox *o, int timeout_ms);

/* 1 once the jobs service answered a report of job_uid with "stop" (cleared by the next job). */
int node_outbox_stop_asked(node_outbox *o, const char *job_uid);

#endif
