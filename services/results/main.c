/* stbfarm-results: the results service. Records test runs sent by node agents (results.begin,
 * put_chunk, finish) into Redis and the shared artifact store, and serves the spec's "Test
 * results" endpoints: the list and its CSV and JUnit exports, one result, its log, screenshot
 * and artifacts. Any number of replicas may run against one Redis and one store. */
#include "res_service.h"

#include "results.pb-c.h"
#include "sf_log.h"
#include "sf_metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const sf_rpc_method methods[] = {
    /* ingest: node agents and the jobs service */
    {"results.begin", &stbfarm__results_begin_request__descriptor, res_begin},
    {"results.put_chunk", &stbfarm__results_put_chunk_request__descriptor, res_put_chunk},
    {"results.status", &stbfarm__results_status_request__descriptor, res_status},
    {"results.finish", &stbfarm__results_finish_request__descriptor, res_finish},
    {"results.abort", &stbfarm__results_abort_request__descriptor, res_abort},
    /* the API */
    {"results.list", &stbfarm__results_list_request__descriptor, res_list},
    {"results.list_csv", &stbfarm__results_list_request__descriptor, res_list_csv},
    {"results.list_xml", &stbfarm__results_list_request__descriptor, res_list_xml},
    {"results.get", &stbfarm__result_get_request__descriptor, res_get},
    {"results.artifacts", &stbfarm__result_get_request__descriptor, res_artifacts},
    {"results.artifact", &stbfarm__artifact_get_request__descriptor, res_artifact},
    {"results.screenshot", &stbfarm__result_get_request__descriptor, res_screenshot},
    {"results.log", &stbfarm__result_get_request__descriptor, res_log},
};

/* "off" or 0: keep forever; else a number with s, m, h or d. */
static int parse_duration(const char *text, int64_t *us)
{
    if (!strcmp(text, "off") || !strcmp(text, "0")) {
        *us = 0;
        return 0;
    }
    char *end;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    static const struct {
        char unit;
        int64_t secs;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    if (errno || end == text || n <= 0 || n > 100000LL * 86400 || end[0] == '\0' || end[1])
        return SF_EINVAL;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (*end == units[i].unit) {
            *us = n * units[i].secs * 1000000;
            return 0;
        }
    }
    return SF_EINVAL;
}

static int open_dir_at(int dirfd, const char *name, int *out)
{
    if (mkdirat(dirfd, name, 0755) && errno != EEXIST)
        return -1;
    *out = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return *out < 0 ? -1 : 0;
}

static int start(void *state, const sf_common_config *common)
{
    res_state *st = state;
    sf_error err = SF_ERROR_INIT;
    if (!st->cfg.artifacts || !*st->cfg.artifacts) {
        sf_error("--artifacts (STBF_ARTIFACTS) must name the artifact store");
        return -1;
    }
    if (parse_duration(st->cfg.retention, &st->retention_us)) {
        sf_error("--retention: '%s' is not off or a duration like 90d, 12h, 30m, 45s",
                 st->cfg.retention);
        return -1;
    }
    if (st->cfg.sweep_secs < 1 || st->cfg.upload_ttl_secs < 60) {
        sf_error("--sweep-interval-secs must be at least 1 and --upload-ttl-secs at least 60");
        return -1;
    }
    mkdir(st->cfg.artifacts, 0755);
    if (!realpath(st->cfg.artifacts, st->root) ||
        (st->root_fd = open(st->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        open_dir_at(st->root_fd, RES_STAGING_DIR, &st->staging_fd) ||
        open_dir_at(st->root_fd, RES_CACHE_DIR, &st->cache_fd)) {
        sf_error("cannot use the artifact store %s: %s", st->cfg.artifacts, strerror(errno));
        return -1;
    }
    if (res_index_new(&st->index, &err) || sf_tz_cache_new(&st->tzs, NULL, &err) ||
        res_sweep_start(&st->sweep, st, common->redis, &err)) {
        sf_error("%s", err.msg);
        return -1;
    }
    sf_info("artifact store %s; retention %s", st->root, st->cfg.retention);
    return 0;
}

static void stop(void *state)
{
    res_state *st = state;
    res_sweep_stop(st->sweep);
    res_index_free(st->index);
    sf_tz_cache_free(st->tzs);
    close(st->cache_fd);
    close(st->staging_fd);
    close(st->root_fd);
}

/* The results stored, for the metrics (every replica reads the same number from Redis). */
static void collect(void *state, sf_redis *r)
{
    (void)state;
    long long n;
    sf_error err = SF_ERROR_INIT;
    if (res_store_count(r, &n, &err) == 0)
        sf_metrics_set_gauge(sf_metrics_process(), "stbfarm_results_stored",
                             "Test results stored (committed and not deleted)", (double)n);
}

int main(int argc, char **argv)
{
    static res_state st = {.root_fd = -1, .staging_fd = -1, .cache_fd = -1};
    const sf_option options[] = {
        {"artifacts", "STBF_ARTIFACTS", SF_OPT_STR, NULL,
         "the artifact store, shared by every results replica and the gateways", &st.cfg.artifacts},
        {"retention", "STBF_RESULTS_RETENTION", SF_OPT_STR, "off",
         "delete results older than this (90d, 12h, 30m, 45s) or keep them (off)",
         &st.cfg.retention},
        {"sweep-interval-secs", "STBF_RESULTS_SWEEP_SECS", SF_OPT_INT, "60",
         "how often retention and clean-up run", &st.cfg.sweep_secs},
        {"upload-ttl-secs", "STBF_RESULTS_UPLOAD_TTL_SECS", SF_OPT_INT, "604800",
         "an unfinished upload is dropped this long after its last call", &st.cfg.upload_ttl_secs},
    };
    sf_service_def def = {0};
    def.program = "stbfarm-results";
    def.about = "The results service: records test runs and serves the test-results API.";
    def.svc = SF_SVC_RESULTS;
    def.methods = methods;
    def.n_methods = sizeof(methods) / sizeof(methods[0]);
    def.options = options;
    def.n_options = sizeof(options) / sizeof(options[0]);
    def.default_threads = "16";
    def.state = &st;
    def.start = start;
    def.stop = stop;
    def.collect = collect;
    return sf_service_main(&def, argc, argv);
}
