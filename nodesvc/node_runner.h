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
 * the runs before it are stored. One job at a time. */
#ifndef NODE_RUNNER_H
#define NODE_RUNNER_H

#include "node_devices.h"
#include "sf_err.h"
#include "sf_rpc.h"

typedef struct node_runner_config {
    const char *brokers;   /* the outbox delivers through them (node_outbox.h) */
    const char *work_dir;  /* where jobs check out and runs write; the stbt socket is here,
                              so keep it short (a unix socket path has 108 bytes) */
    const char *python;    /* /usr/bin/python3 */
    const char *stbt_dir;  /* the directory holding stbt/ and stbt_run.py */
    const char *test_pack; /* the node's source of the test pack */
    const char *test_pack_cache;
    long test_timeout_secs; /* a test that runs longer is stopped: error */
} node_runner_config;

typedef struct node_runner node_runner;

/* A runner for the device dev (which must outlive it), with its outbox. */
int node_runner_new(node_runner **out, const node_devices *dev, const node_runner_config *cfg,
                    sf_error *err);

/* Stop a running job (its runs so far are kept) and free the runner. */
void node_runner_free(node_runner *r);

/* The uid of the job running now, into out (empty when idle): heartbeats report it. runner is
 * the node_runner; the signature is node_agent_config's current_job. */
void node_runner_current(void *runner, char *out, size_t len);

/* agent.run_job and agent.stop_job; they find the runner in call->tls (node_service.h). */
extern const sf_rpc_method node_runner_methods[];
extern const size_t node_runner_n_methods;

#endif
