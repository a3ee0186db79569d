/* Health checks: a test case that a node's config names runs on the node when it is due and the
 * node is idle, as the user "health-check". Failed or errored runs, enough of them in a row, put
 * the node into maintenance with the last result's URL in the message; a passing one takes it out
 * again (never an operator's maintenance).
 *
 *   [health_check]                  in config/test-farm/<node_id>.conf, at the default branch
 *   test_case = tests/health.py::test_the_box_answers
 *   interval_secs = 3600            how often (10 s to a week; default an hour)
 *   failures_in_a_row = 1           how many failed or errored runs before maintenance (1-100)
 *
 * What each node's checks have done lives in sf:node:<id>:health (this file owns it), a hash:
 *   due_us   when the next check may start (unix us)
 *   job      the uid of the last check started ("" while one is being started)
 *   counted  "1" once that check's outcome was counted
 *   fails    failed or errored checks in a row
 * Every replica of the jobs service runs the loop; the scripts below make each check start once
 * and each outcome count once, whichever replica gets there first. */
#include "jobs.h"

#include "nodes_store.h"
#include "resv_store.h"
#include "sf_crypto.h"
#include "sf_remote.h"
#include "sf_ini.h"
#include "sf_log.h"
#include "sf_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_US          (30LL * 1000 * 1000) /* a check that could not start tries again so soon */
#define HEALTH_QUEUE_SECS 60 /* a check waits this long at most for its node to be free */

typedef struct health_conf {
    char test_case[512];
    int64_t interval_us;
    long failures; /* in a row, before maintenance */
} health_conf;

/* Parse an integer setting in [lo, hi]; def when absent. -1 when it is out of range or not a
 * number. */
static long long int_setting(const cJSON *ini, const char *key, long long def, long long lo,
                             long long hi)
{
    const char *v = sf_ini_get(ini, "health_check", key);
    if (!v)
        return def;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi)
        return -1;
    return n;
}

/* The node's [health_check] at sha: 1 when it names a test case, 0 when it has none (or the
 * config is missing or wrong, with a warning). */
static int read_conf(sf_testpack *tp, const char *sha, const char *node_id, health_conf *out)
{
    cJSON *ini = NULL;
    sf_error err = SF_ERROR_INIT;
    int found = 0;
    if (sf_testpack_node_config(tp, sha, node_id, &ini, &err))
        goto cleanup;
    const char *tc = sf_ini_get(ini, "health_check", "test_case");
    if (!tc || !*tc)
        goto cleanup;
    long long interval = int_setting(ini, "interval_secs", 3600, 10, 7 * 24 * 3600);
    long long failures = int_setting(ini, "failures_in_a_row", 1, 1, 100);
    if (interval < 0 || failures < 0 || strlen(tc) >= sizeof(out->test_case)) {
        sf_warn("config/test-farm/%s.conf at %.12s: [health_check] interval_secs is 10 to 604800, "
                "failures_in_a_row 1 to 100: no health checks",
                node_id, sha);
        goto cleanup;
    }
    snprintf(out->test_case, sizeof(out->test_case), "%s", tc);
    out->interval_us = interval * 1000000;
    out->failures = (long)failures;
    found = 1;
cleanup:
    cJSON_Delete(ini);
    return found;
}

/* KEYS: sf:node:<id>:health. ARGV: now (us), interval (us). 1 when this caller may start the
 * node's next check (and due_us moved past it), 0 when it is not due or one is still to count. */
static const char CLAIM_SCRIPT[] =
    "local h = redis.call('HMGET', KEYS[1], 'due_us', 'job', 'counted')\n"
    "if h[2] and h[2] ~= '' and h[3] ~= '1' then return 0 end\n"
    "if h[1] and tonumber(h[1]) > tonumber(ARGV[1]) then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'due_us', string.format('%d', tonumber(ARGV[1]) + "
    "tonumber(ARGV[2])), 'job', '', 'counted', '1')\n"
    "return 1\n";

/* KEYS: sf:node:<id>:health. ARGV: job uid, "1" passed, "0" failed or errored, "skip" never
 * started (its queue timeout passed: nothing is known of the node). The failures in a row after
 * counting it, or -1 when it was counted already, skipped, or is not the node's last check. */
static const char COUNT_SCRIPT[] =
    "local h = redis.call('HMGET', KEYS[1], 'job', 'counted', 'fails')\n"
    "if h[1] ~= ARGV[1] or h[2] == '1' then return -1 end\n"
    "if ARGV[2] == 'skip' then\n"
    "  redis.call('HSET', KEYS[1], 'counted', '1')\n"
    "  return -1\n"
    "end\n"
    "local fails = 0\n"
    "if ARGV[2] == '0' then fails = (tonumber(h[3]) or 0) + 1 end\n"
    "redis.call('HSET', KEYS[1], 'counted', '1', 'fails', fails)\n"
    "return fails\n";

static void health_key(char *out, size_t len, const char *node_id)
{
    snprintf(out, len, "sf:node:%s:health", node_id);
}

/* The portal's URL path of the job's result (the result ids the job counted), or of the job's
 * results when it counted none. */
static void result_path(sf_redis *r, const char *uid, char *out, size_t len)
{
    redisReply *ids;
    snprintf(out, len, "/app/#/results?filter=job:%s", uid);
    if (sf_redis_cmd(r, &ids, NULL, "SRANDMEMBER sf:job:%s:counted", uid))
        return;
    const char *id = sf_reply_str(ids);
    if (id && *id)
        snprintf(out, len, "/app/#/result/%s", id);
    freeReplyObject(ids);
}

/* The node's last check has ended: count it, and move the node into or out of maintenance. */
static void count_check(sf_redis *r, const char *node_id, const char *key, const health_conf *conf,
                        const jobs_record *job)
{
    int passed = job->pass > 0 && !job->fail && !job->error;
    const char *outcome = job->not_started ? "skip" : passed ? "1" : "0";
    const char *args[] = {key, job->uid, outcome};
    redisReply *reply;
    sf_error err = SF_ERROR_INIT;
    if (sf_redis_eval(r, COUNT_SCRIPT, &reply, &err, 1, 3, args, NULL)) {
        sf_warn("health check of %s: %s", node_id, err.msg);
        return;
    }
    long long fails = sf_reply_int(reply, -1);
    freeReplyObject(reply);
    if (fails < 0)
        return; /* another replica counted it */
    int changed = 0;
    if (!fails) {
        if (!nodes_set_maintenance(r, node_id, NULL, NODES_HEALTH_CHECK_USER,
                                   NODES_HEALTH_CHECK_USER, &changed, &err) &&
            changed)
            sf_info("health check of %s passed: out of maintenance", node_id);
    } else if (fails >= conf->failures) {
        char path[JOBS_UID_MAX + 64], msg[NODES_MAINTENANCE_MESSAGE_MAX + 1];
        result_path(r, job->uid, path, sizeof(path));
        snprintf(msg, sizeof(msg),
                 "Health check %.200s: %lld failed or errored runs in a row: %.200s",
                 conf->test_case, fails, path);
        if (!nodes_set_maintenance(r, node_id, msg, NODES_HEALTH_CHECK_USER,
                                   NODES_HEALTH_CHECK_USER, &changed, &err) &&
            changed)
            sf_warn("node %s is in maintenance: %s", node_id, msg);
    }
    if (err.code)
        sf_warn("health check of %s: %s", node_id, err.msg);
}

/* Start the node's check: queued for the node at the highest priority, so that it starts now
 * (jobs_queue_dispatch) or, should someone take the node first, right after; a check that does
 * not start within HEALTH_QUEUE_SECS ends unstarted and counts nothing. */
static void start_check(jobs_state *s, sf_redis *r, jobs_thread *t, const char *node_id,
                        const char *key, const health_conf *conf, const sf_revision *head)
{
    sf_error err = SF_ERROR_INIT;
    sf_remote remote = {0};
    redisReply *reply = NULL;
    char uid[JOBS_UID_MAX + 1] = "", request_id[33];
    char *cases[] = {(char *)conf->test_case}, *nodes[] = {(char *)node_id};
    int rc = jobs_catalog_load(t, head->sha, &err);
    if (!rc && !jobs_catalog_has(&t->catalog, conf->test_case))
        rc = sf_fail(&err, SF_EINVAL, "%s is not a test case at %.12s", conf->test_case, head->sha);
    if (!rc)
        rc = sf_remote_open(t->tp, head->sha, NULL, &remote, &err);
    if (!rc) {
        jobs_new job = {0};
        sf_random_hex(16, request_id);
        job.node_id = node_id;
        job.user = NODES_HEALTH_CHECK_USER;
        job.request_id = request_id;
        job.sha = head->sha;
        job.branch = head->branch;
        job.category = "health-check";
        job.soak = "run once";
        job.remote_control = remote.name;
        job.test_cases = cases;
        job.n_test_cases = 1;
        job.uid_prefix = node_id;
        job.candidates = nodes;
        job.n_candidates = 1;
        job.priority = 1000;
        job.queue_deadline_us = sf_now_us() + HEALTH_QUEUE_SECS * 1000000;
        rc = jobs_store_queue(r, &job, uid, &err);
    }
    if (!rc) {
        sf_info("health check of %s: job %s", node_id, uid);
        if (!(rc = sf_redis_cmd(r, &reply, &err, "HSET %s job %s counted 0", key, uid)))
            jobs_queue_dispatch(s, r, node_id);
    } else {
        sf_warn("health check of %s did not start: %s", node_id, err.msg);
        rc = sf_redis_cmd(r, &reply, &err, "HSET %s due_us %lld", key,
                          (long long)(sf_now_us() + RETRY_US));
    }
    if (rc)
        sf_warn("health check of %s: %s", node_id, err.msg);
    if (reply)
        freeReplyObject(reply);
    sf_remote_close(&remote);
}

/* One node: count its last check once it ended, or start the next when it is due and the node
 * is idle (online, no job, no reservation, no maintenance but a health check's). */
static void check_node(jobs_state *s, sf_redis *r, jobs_thread *t, const sf_revision *head,
                       const char *node_id)
{
    health_conf conf;
    if (!read_conf(t->tp, head->sha, node_id, &conf))
        return;
    char key[128];
    health_key(key, sizeof(key), node_id);
    nodes_record node = {0};
    jobs_record job = {0};
    redisReply *reply = NULL;
    sf_error err = SF_ERROR_INIT;
    if (sf_redis_cmd(r, &reply, &err, "HMGET %s job counted", key))
        goto cleanup;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2)
        goto cleanup;
    const char *last = sf_reply_str(reply->element[0]), *counted = sf_reply_str(reply->element[1]);
    if (last && *last && !(counted && !strcmp(counted, "1"))) {
        int grc = jobs_get(r, last, &job, &err);
        if (grc == SF_ENOTFOUND) { /* deleted by hand: nothing is known of the node */
            sf_error fresh = SF_ERROR_INIT;
            err = fresh;
            snprintf(job.uid, sizeof(job.uid), "%s", last);
            job.not_started = strdup("gone");
        }
        if (grc == SF_ENOTFOUND || (!grc && !job.running && !job.queued)) /* it has ended */
            count_check(r, node_id, key, &conf, &job);
        goto cleanup;
    }
    if (nodes_get(r, node_id, &node, &err))
        goto cleanup;
    int operators = node.maintenance &&
                    !(node.maintenance_by && !strcmp(node.maintenance_by, NODES_HEALTH_CHECK_USER));
    int busy = !jobs_node_job(r, node_id, &job, NULL) && job.running;
    if (!node.online || operators || busy ||
        resv_check_use(r, node_id, NODES_HEALTH_CHECK_USER, NULL))
        goto cleanup;
    freeReplyObject(reply);
    reply = NULL;
    char now[24], interval[24];
    snprintf(now, sizeof(now), "%lld", (long long)sf_now_us());
    snprintf(interval, sizeof(interval), "%lld", (long long)conf.interval_us);
    const char *args[] = {key, now, interval};
    if (sf_redis_eval(r, CLAIM_SCRIPT, &reply, &err, 1, 3, args, NULL))
        goto cleanup;
    if (sf_reply_int(reply, 0) == 1)
        start_check(s, r, t, node_id, key, &conf, head);
cleanup:
    if (err.code)
        sf_warn("health check of %s: %s", node_id, err.msg);
    if (reply)
        freeReplyObject(reply);
    nodes_record_clear(&node);
    jobs_record_clear(&job);
}

static void check_all(jobs_state *s, sf_redis *r, jobs_thread *t)
{
    sf_error err = SF_ERROR_INIT;
    sf_revision head;
    char **ids = NULL;
    size_t n = 0;
    if (!s->cfg.test_pack || !*s->cfg.test_pack || jobs_open_testpack(t, &s->cfg, &err) ||
        sf_testpack_resolve(t->tp, "HEAD", &head, &err) || nodes_list_ids(r, &ids, &n, &err)) {
        if (err.code)
            sf_debug("health checks: %s", err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++)
        check_node(s, r, t, &head, ids[i]);
    nodes_ids_free(ids, n);
}

static long health_tick(void *arg)
{
    jobs_state *s = arg;
    check_all(s, s->health_redis, &s->health_tp);
    return s->cfg.health_poll_ms;
}

int jobs_health_start(jobs_state *s, sf_error *err)
{
    int rc = sf_redis_open(&s->health_redis, s->common->redis, err);
    if (!rc && (rc = sf_ticker_start(&s->health, "health checks", health_tick, s, err))) {
        sf_redis_free(s->health_redis);
        s->health_redis = NULL;
    }
    return rc;
}

void jobs_health_stop(jobs_state *s)
{
    sf_ticker_stop(s->health);
    s->health = NULL;
    sf_redis_free(s->health_redis);
    s->health_redis = NULL;
    jobs_catalog_clear(&s->health_tp.catalog);
    sf_testpack_free(s->health_tp.tp);
    s->health_tp.tp = NULL;
}
