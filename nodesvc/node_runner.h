/* node_runner.h - the node's test runner: runs the test jobs the jobs service hands it
 * ("agent.run_job", "agent.stop_job").
 *
 * A job runs on a thread of its own: the test pack checked out at the job's commit into a fresh
 * directory, then each test case in its own Python process (stbt_run.py under /usr/bin/python3,
 * the test pack root on sys.path, the run's artifact directory as its working directory), with
 * the video recorded to video.mp4, stdout/stderr captured to stdout.log, stderr.log,
 * combined.log and stbt.log (every line timestamped), and a screenshot and thumbnail at the end.
 * Each finished run goes to the outbox, which stores it and reports it. "run once" runs each
 * test case once (shuffled if asked); "run forever" repeats until stopped, and shuffled it
 * favours the test cases that take less time (weight 1 / mean duration).
 *
 * Stopping kills the running test's process group; that run is discarded (it did not finish),
 * the runs before it are stored. agent.stop_job answers stopped once the job's thread is done
 * and the outbox has delivered every run and report of the job. One job at a time. */
#ifndef NODE_RUNNER_H
#define NODE_RUNNER_H

#include "node_activity.h"
#include "node_devices.h"
#include "sf_err.h"
#include "sf_rpc.h"

typedef struct node_runner_config {
    const char *brokers;   /* the outbox delivers through them (node_outbox.h) */
    const char *instance;  /* the agent's (node_agent_config): agent.run_job answers it */
    const char *work_dir;  /* where jobs check out and runs write; the stbt socket is here,
                              so keep it short (a unix socket path has 108 bytes) */
    const char *python;    /* /usr/bin/python3 */
    const char *stbt_dir;  /* the directory holding stbt/ and stbt_run.py */
    const char *test_pack; /* the node's source of the test pack */
    const char *test_pack_cache;
    long test_timeout_secs; /* a test that runs longer is stopped: error */
    long frame_ring;        /* frames a job's ring holds for the stbt module (node_frames.h) */
    long min_free_mb;       /* a run starts only with this much free in work_dir */
} node_runner_config;

typedef struct node_runner node_runner;

/* A runner for the device dev (which must outlive it), with its outbox, journaled in
 * <work_dir>/outbox: what an earlier start of the agent left there is delivered first. */
int node_runner_new(node_runner **out, const node_devices *dev, const node_runner_config *cfg,
                    sf_error *err);

/* Stop a running job (its runs so far are kept) and free the runner. */
void node_runner_free(node_runner *r);

/* What the runner is doing, for the heartbeat: the job running now, then the jobs its outbox
 * still delivers (read in that order, so a job that has just finished is among the second
 * until its last report is acknowledged). runner is the node_runner; the signature is
 * node_agent_config's activity. */
void node_runner_activity(void *runner, node_activity *out);

/* The depth of the runner's outbox (node_outbox_depth), for the metrics. */
void node_runner_outbox_depth(node_runner *r, size_t *items, size_t *results);

/* agent.run_job and agent.stop_job; they find the runner in call->tls (node_service.h). */
extern const sf_rpc_method node_runner_methods[];
extern const size_t node_runner_n_methods;

#endif
