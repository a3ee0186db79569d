/* The jobs service's gauges, read from Redis at each scrape (every replica reads the same). */
#include "jobs.h"

#include "sf_metrics.h"

void jobs_collect(void *state, sf_redis *r)
{
    (void)state;
    long long running, queued;
    sf_error err = SF_ERROR_INIT;
    if (jobs_store_count_farm(r, &running, &queued, &err))
        return; /* stbfarm_redis_errors_total says so; the gauges keep their last values */
    sf_metrics *m = sf_metrics_process();
    sf_metrics_set_gauge(m, "stbfarm_jobs_running", "Jobs running now, over the farm",
                         (double)running);
    sf_metrics_set_gauge(m, "stbfarm_jobs_queued",
                         "Jobs waiting in a queue for a node (run_tests with \"queue\": true)",
                         (double)queued);
}
