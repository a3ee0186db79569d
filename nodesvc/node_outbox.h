/* node_outbox.h - what a node agent owes the services for the jobs it runs: each test run's
 * result with its artifacts (the results service's ingest protocol) and the job's reports
 * (started, log, result, finished) to the jobs service.
 *
 * Every item is journaled on disk before it counts as queued (node_journal.h: a run's
 * artifacts fsync'd and moved into the journal, its item written and fsync'd), and leaves the
 * journal once delivered, so an agent that is killed or restarted delivers, when it starts
 * again, everything it owed, in order; a delivery repeated after a crash changes nothing more
 * (every call is idempotent on the services' side).
 *
 * One thread delivers the items in the order they were queued, and retries each until its
 * service acknowledges it (back-off 100 ms to 2 s): a result is counted by the jobs service only
 * once it is stored, and "finished" comes after every result of the job. A restart of the
 * results or jobs service, the broker or Redis loses nothing: the item waits; so does a full
 * artifact store (507). An upload resumes from what results.status says is staged. Test runs that
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

/* Start delivering through the brokers, first whatever the journal in dir holds from an
 * earlier start (dir is made when missing; it must be on the filesystem of the runs'
 * directories). On failure nothing is left running and the journal is as it was. */
int node_outbox_start(node_outbox **out, const char *brokers, const char *dir, sf_error *err);

/* Stop delivering; what is still queued stays in the journal for the next start (what the full
 * disk could not journal is lost, and said so). */
void node_outbox_stop(node_outbox *o);

/* Queue a report (copied). SF_EINTERNAL (out of memory): nothing was queued. A report the disk
 * has no room to journal yet is queued in memory and journaled as soon as there is room. */
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

/* Queue a finished run: r is copied and r->dir moved into the journal, which owns it from then
 * on. 0: it is queued; on disk too, unless the disk had no room for its item, which is then
 * journaled as soon as there is (node_outbox_durable says when) or delivered before. On
 * failure nothing was queued and r->dir is still the caller's, where it was: SF_ENOSPACE when
 * the disk has no room even to take the run (try again once there is), SF_EINTERNAL. */
int node_outbox_result(node_outbox *o, const node_result *r, sf_error *err);

/* Wait up to timeout_ms until every item queued so far is journaled or delivered. 1 when it
 * is. */
int node_outbox_durable(node_outbox *o, int timeout_ms);

/* Wait until nothing of job_uid is left to deliver, up to timeout_ms. 1 when nothing is. */
int node_outbox_delivered(node_outbox *o, const char *job_uid, int timeout_ms);

/* The jobs with something left to deliver, oldest first, into out->delivering; and, when
 * out->trouble is empty, why runs wait (a full work directory, a full artifact store). */
void node_outbox_activity(node_outbox *o, node_activity *out);

/* What is left to deliver: every item (reports and results) and the results among them. */
void node_outbox_depth(node_outbox *o, size_t *items, size_t *results);

/* 1 once the jobs service answered a report of job_uid with "stop" (cleared by the next job). */
int node_outbox_stop_asked(node_outbox *o, const char *job_uid);

#endif
