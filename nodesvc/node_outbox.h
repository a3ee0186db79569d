/* node_outbox.h - what a node agent owes the services for the jobs it runs: each test run's
 * result with its artifacts (the results service's ingest protocol) and the job's reports
 * (started, log, result, finished) to the jobs service.
 *
 * One thread delivers the items in the order they were queued, and retries each until its
 * service acknowledges it (back-off 100 ms to 2 s): a result is counted by the jobs service only
 * once it is stored, and "finished" comes after every result of the job. A restart of the
 * results or jobs service, the broker or Redis loses nothing: the item waits. Test runs that
 * upload slowly do not hold up the next test; only stopping a job waits for the outbox
 * (node_outbox_delivered).
 *
 * A run's upload id is derived from its job and number (sf_run.h), so that the jobs service's
 * reaper, recording a run it believes lost, and the node name the same upload: the first
 * finish stands, and the result reported to the jobs service is the outcome stored (the
 * results service's answer), so counts always match what is stored. */
#ifndef NODE_OUTBOX_H
#define NODE_OUTBOX_H

#include "node_activity.h"
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
    int64_t seq;         /* the run's number in its job: its upload id is sf_run_upload_id's */
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

/* Wait until nothing of job_uid is left to deliver, up to timeout_ms. 1 when nothing is. */
int node_outbox_delivered(node_outbox *o, const char *job_uid, int timeout_ms);

/* The jobs with something left to deliver, oldest first, into out->delivering. */
void node_outbox_activity(node_outbox *o, node_activity *out);

/* 1 once the jobs service answered a report of job_uid with "stop" (cleared by the next job). */
int node_outbox_stop_asked(node_outbox *o, const char *job_uid);

#endif
