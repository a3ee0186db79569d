/* stbfarm-jobs: the jobs service. Starts test jobs on nodes (POST /api/v2/run_tests), answers
 * job status, stops jobs, lists a test pack's test cases, takes the reports node agents send
 * while they run a job, and ends the jobs of nodes that vanish. */
#include "jobs.h"

#include "sf_log.h"

#include <stdlib.h>

static void *thread_init(void *state)
{
    (void)state;
    return calloc(1, sizeof(jobs_thread)); /* the test pack opens on first use */
}

static void thread_fini(void *local)
{
    jobs_thread *t = local;
    jobs_catalog_clear(&t->catalog);
    sf_testpack_free(t->tp);
    free(t);
}

static int start(void *state, const sf_common_config *common)
{
    jobs_state *s = state;
    s->common = common;
    sf_error err = SF_ERROR_INIT;
    if (sf_node_clients_new(&s->agents, &err) ||
        sf_rpc_client_open(&s->results, common->broker, SF_SVC_RESULTS, &err)) {
        sf_error("%s", err.msg);
        sf_node_clients_free(s->agents);
        return -1;
    }
    sf_testpack_process_init();
    if (jobs_reaper_start(s, &err) || jobs_queue_start(s, &err) || jobs_health_start(s, &err)) {
        sf_error("%s", err.msg);
        return -1;
    }
    return 0;
}

static void stop(void *state)
{
    jobs_state *s = state;
    jobs_health_stop(s);
    jobs_queue_stop_thread(s);
    jobs_reaper_stop(s);
    sf_node_clients_free(s->agents);
    sf_rpc_client_free(s->results);
    sf_testpack_process_shutdown();
}

static const sf_rpc_method methods[] = {
    {"jobs.run", &stbfarm__run_tests_request__descriptor, jobs_run},
    {"jobs.get", &stbfarm__job_request__descriptor, jobs_get_job},
    {"jobs.node_job", &stbfarm__node_job_request__descriptor, jobs_get_node_job},
    {"jobs.stop", &stbfarm__job_request__descriptor, jobs_stop},
    {"jobs.node_queue", &stbfarm__node_job_request__descriptor, jobs_node_queue},
    {"jobs.node_stop", &stbfarm__node_job_request__descriptor, jobs_stop_node_job},
    {"jobs.log", &stbfarm__job_log_request__descriptor, jobs_log},
    {"jobs.list", &stbfarm__job_list_request__descriptor, jobs_list},
    {"jobs.refs", &stbfarm__test_pack_refs_request__descriptor, jobs_refs},
    {"jobs.remote_controls", &stbfarm__remote_control_request__descriptor, jobs_remote_controls},
    {"jobs.remote_control", &stbfarm__remote_control_request__descriptor, jobs_remote_control},
    {"jobs.test_case_names", &stbfarm__test_case_names_request__descriptor, jobs_test_case_names},
    {"jobs.report", &stbfarm__job_report__descriptor, jobs_report},
};

int main(int argc, char **argv)
{
    static jobs_state state;
    jobs_config *c = &state.cfg;
    const sf_option options[] = {
        SF_TESTPACK_OPTIONS(&c->test_pack, &c->test_pack_cache),
        {"stop-timeout-ms", "STBF_STOP_TIMEOUT_MS", SF_OPT_INT, "10000",
         "how long a stop waits for the node before answering 202", &c->stop_timeout_ms},
        {"agent-timeout-ms", "STBF_AGENT_TIMEOUT_MS", SF_OPT_INT, "10000",
         "how long a node agent has to accept a job", &c->agent_timeout_ms},
        {"reap-interval-ms", "STBF_REAP_INTERVAL_MS", SF_OPT_INT, "1000",
         "how often jobs of nodes that went offline are ended", &c->reap_interval_ms},
        {"queue-poll-ms", "STBF_QUEUE_POLL_MS", SF_OPT_INT, "250",
         "how often queued jobs are looked at: their nodes freed, their timeouts passed",
         &c->queue_poll_ms},
        {"health-poll-ms", "STBF_HEALTH_POLL_MS", SF_OPT_INT, "5000",
         "how often nodes' health checks ([health_check] of their config) are looked at",
         &c->health_poll_ms},
    };
    sf_service_def def = {0};
    def.program = "stbfarm-jobs";
    def.about = "The jobs service: test jobs and test pack queries.";
    def.svc = SF_SVC_JOBS;
    def.methods = methods;
    def.n_methods = sizeof(methods) / sizeof(methods[0]);
    def.options = options;
    def.n_options = sizeof(options) / sizeof(options[0]);
    def.default_threads = "16";
    def.state = &state;
    def.start = start;
    def.stop = stop;
    def.thread_init = thread_init;
    def.thread_fini = thread_fini;
    return sf_service_main(&def, argc, argv);
}
