/* The jobs service's gauges, read from Redis at each scrape (every replica reads the same). */
#include "jobs.h"

#include "sf_metrics.h"

void jobs_collect(void *state, sf_redis *r)
{
    (void)state;
    long long n;
    sf_error err = SF_ERROR_INIT;
    if (jobs_store_count_running(r, &n, &err) == 0) /* else: stbfarm_redis_errors_total */
        sf_metrics_set_gauge(sf_metrics_process(), "stbfarm_jobs_running",
                             "Jobs running now, over the farm", (double)n);
}
