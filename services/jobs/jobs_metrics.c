/* The jobs service's gauges, read from Redis at each scrape (every replica reads the same). */
#include "jobs.h"

#include "sf_metrics.h"

void jobs_collect(void *state, sf_redis *r)
{
    (void)state;
    redisReply *reply;
    sf_error err = SF_ERROR_INIT;
    if (sf_redis_cmd(r, &reply, &err, "SCARD sf:jobs:running"))
        return; /* stbfarm_redis_errors_total says so; the gauge keeps its last value */
    sf_metrics_set_gauge(sf_metrics_process(), "stbfarm_jobs_running",
                         "Jobs running now, over the farm", (double)sf_reply_int(reply, 0));
    freeReplyObject(reply);
}
