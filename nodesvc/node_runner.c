#include "node_runner.h"

#include "node_exec.h"
#include "node_image.h"
#include "node_outbox.h"
#include "node_service.h"
#include "node_stbt.h"
#include "runner.pb-c.h"
#include "sf_buf.h"
#include "sf_log.h"
#include "sf_pbjson.h"
#include "sf_proc.h"
#include "sf_remote.h"
#include "sf_tags.h"
#include "sf_testpack.h"
#include "sf_time.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* A line of the job log reaches the jobs service within LOG_FLUSH_MS (plus a tick) of the test
 * writing it, even when the test then falls silent: the portal follows it live. */
enum { LOG_FLUSH_MS = 250, LOG_FLUSH_BYTES = 32 << 10, LOG_TICK_MS = 100 };

/* The duration statistics of one test case in a job, for weighted shuffling. */
typedef struct case_stats {
    double total_secs;
    int runs;
} case_stats;

typedef struct job {
    Stbfarm__RunJob *spec; /* owned (unpacked copy of the request) */
    char dir[1024];        /* the job's directory: checkout/, runs/ */
    sf_remote remote;
    node_stbt *stbt;
    case_stats *stats;
    int64_t log_offset; /* how much of the job log has been reported */
    sf_buf log;         /* job log text not reported yet */
    int64_t log_flushed_ms;
} job;

struct node_runner {
    const node_devices *dev;
    node_runner_config cfg;
    node_outbox *outbox;
    sf_testpack *tp;      /* used under lock only */
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t changed;
    job *job;           /* the running job, or NULL */
    int thread_running; /* a job thread exists (maybe finished, not joined yet) */
    pthread_t thread;
    int stop_pipe[2];  /* written to stop the running test */
    int stopping;      /* a stop was asked for the running job */
    int closing;       /* the agent is shutting down */
    char trouble[256]; /* why runs wait: the work directory is full; "" none */
};

static node_runner *runner_of(const sf_call *call)
{
    return ((const node_service *)call->tls)->runner;
}

/* ---- the job log: every runner line and test output line, timestamped ---- */

static void log_flush(node_runner *r, job *j)
{
    if (!j->log.len)
        return;
    Stbfarm__JobReport rep = STBFARM__JOB_REPORT__INIT;
    rep.job_uid = j->spec->job_uid;
    rep.event = (char *)"log";
    rep.has_log_offset = 1;
    rep.log_offset = j->log_offset;
    rep.log_text = j->log.data;
    sf_error err = SF_ERROR_INIT;
    if (node_outbox_report(r->outbox, &rep, &err))
        sf_error("%s", err.msg);
    j->log_offset += (int64_t)j->log.len;
    sf_buf_reset(&j->log);
    j->log_flushed_ms = sf_mono_ms();
}

/* One timestamped line, as stbt.log has them: "2015-06-18T14:59:00.321421+00:00 text\n". */
static size_t stamp_line(int64_t us, const char *text, size_t len, char *out, size_t cap)
{
    size_t n = sf_time_format(us, out, cap, SF_TIME_OFFSET);
    if (n + 1 + len + 1 > cap)
        len = cap - n - 2;
    out[n++] = ' ';
    memcpy(out + n, text, len);
    n += len;
    out[n++] = '\n';
    return n;
}

static void job_log(node_runner *r, job *j, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void job_log(node_runner *r, job *j, const char *fmt, ...)
{
    char text[1024], line[1100];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = stamp_line(sf_now_us(), text, strlen(text), line, sizeof(line));
    sf_buf_append(&j->log, line, len);
    log_flush(r, j);
}

/* ---- one test run ---- */

typedef struct run_output {
    node_runner *r;
    job *j;
    FILE *out, *err, *combined, *stbt;
    node_lines lines[2];
    int64_t now_us;
} run_output;

static void output_line(void *arg, const char *text, size_t len)
{
    run_output *o = arg;
    char line[8192];
    size_t n = stamp_line(o->now_us, text, len, line, sizeof(line));
    fwrite(line, 1, n, o->stbt);
    sf_buf_append(&o->j->log, line, n);
}

static void on_output(void *arg, int stream, int64_t time_us, const char *data, size_t len)
{
    run_output *o = arg;
    fwrite(data, 1, len, stream == NODE_EXEC_STDOUT ? o->out : o->err);
    fwrite(data, 1, len, o->combined);
    o->now_us = time_us;
    node_lines_feed(&o->lines[stream == NODE_EXEC_STDOUT ? 0 : 1], data, len, output_line, o);
    if (o->j->log.len > LOG_FLUSH_BYTES || sf_mono_ms() - o->j->log_flushed_ms > LOG_FLUSH_MS)
        log_flush(o->r, o->j);
}

static void on_tick(void *arg)
{
    run_output *o = arg;
    if (o->j->log.len && sf_mono_ms() - o->j->log_flushed_ms > LOG_FLUSH_MS)
        log_flush(o->r, o->j);
}

static FILE *open_log(const char *dir, const char *name)
{
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return fopen(path, "wbe");
}

static int write_file(const char *dir, const char *name, const void *data, size_t len)
{
    FILE *f = open_log(dir, name);
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    return fclose(f) || w != len ? -1 : 0;
}

/* The end-of-test screenshot and thumbnail, when there is video. */
static void save_images(node_runner *r, const char *dir)
{
    AVFrame *frame;
    sf_error err = SF_ERROR_INIT;
    if (node_capture_frame(r->dev->cap, &frame, NULL, &err)) {
        sf_warn("no screenshot at the end of the test: %s", err.msg);
        return;
    }
    uint8_t *data;
    size_t len;
    if (node_image_png(frame, &data, &len, &err) == 0) {
        write_file(dir, "screenshot.png", data, len);
        av_free(data);
    }
    if (node_image_jpeg(frame, NODE_THUMBNAIL_WIDTH, &data, &len, &err) == 0) {
        write_file(dir, "thumbnail.jpg", data, len);
        av_free(data);
    }
    av_frame_free(&frame);
}

typedef struct outcome {
    char *outcome, *reason, *traceback;
} outcome;

static void outcome_set(outcome *oc, const char *what, const char *reason)
{
    oc->outcome = strdup(what);
    oc->reason = reason ? strdup(reason) : NULL;
}

/* What stbt_run.py wrote, or what the runner knows when it wrote nothing. */
static void read_outcome(const char *path, const node_exec_result *er, long timeout_secs,
                         outcome *oc)
{
    memset(oc, 0, sizeof(*oc));
    if (er->timed_out) {
        char why[128];
        snprintf(why, sizeof(why), "the test did not finish within %ld s", timeout_secs);
        outcome_set(oc, "error", why);
        return;
    }
    FILE *f = fopen(path, "rbe");
    char buf[1 << 20];
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    cJSON *j = n ? cJSON_Parse(buf) : NULL;
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "outcome");
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(j, "failure_reason");
    const cJSON *tb = cJSON_GetObjectItemCaseSensitive(j, "traceback");
    if (cJSON_IsString(o) && (!strcmp(o->valuestring, "pass") || !strcmp(o->valuestring, "fail") ||
                              !strcmp(o->valuestring, "error"))) {
        outcome_set(oc, o->valuestring, cJSON_IsString(reason) ? reason->valuestring : NULL);
        if (cJSON_IsString(tb))
            oc->traceback = strdup(tb->valuestring);
    } else {
        char why[128];
        if (er->exited)
            snprintf(why, sizeof(why), "the test process exited with status %d", er->status);
        else
            snprintf(why, sizeof(why), "the test process was killed by signal %d", er->status);
        outcome_set(oc, "error", why);
    }
    cJSON_Delete(j);
}

static void outcome_clear(outcome *oc)
{
    free(oc->outcome);
    free(oc->reason);
    free(oc->traceback);
}

static char *env_entry(const char *name, const char *value)
{
    size_t n = strlen(name) + 1 + strlen(value) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s=%s", name, value);
    return s;
}

/* ---- a full work directory: runs wait for room, and the heartbeat says why ---- */

/* Wait a second or until something changes. 1 when the wait should end: the agent is shutting
 * down, or (when stops is set) the job is being stopped. */
static int pause_a_second(node_runner *r, const job *j, int stops)
{
    struct timespec until;
    sf_timespec_after(CLOCK_REALTIME, 1000, &until);
    pthread_mutex_lock(&r->lock);
    pthread_cond_timedwait(&r->changed, &r->lock, &until);
    int end = r->closing || (stops && r->stopping);
    pthread_mutex_unlock(&r->lock);
    return end || (stops && node_outbox_stop_asked(r->outbox, j->spec->job_uid));
}

static void set_trouble(node_runner *r, const char *text)
{
    pthread_mutex_lock(&r->lock);
    snprintf(r->trouble, sizeof(r->trouble), "%s", text);
    pthread_mutex_unlock(&r->lock);
}

/* Bytes free for us under the work directory. */
static int64_t room(const node_runner *r)
{
    struct statvfs st;
    if (statvfs(r->cfg.work_dir, &st))
        return INT64_MAX; /* cannot tell: let the run find out */
    return (int64_t)st.f_bavail * (int64_t)st.f_frsize;
}

/* Before a run: wait while the work directory has less than --work-dir-min-free-mb free, so
 * that a run never starts without room for its files. 1 when the job is stopped meanwhile. */
static int wait_for_room(node_runner *r, job *j)
{
    int64_t want = (int64_t)r->cfg.min_free_mb << 20, have;
    int said = 0, end = 0;
    while (!end && (have = room(r)) < want) {
        if (!said) {
            char why[256];
            snprintf(why, sizeof(why),
                     "the work directory %.100s is full (%lld MB free, %ld MB needed): test "
                     "runs wait for room",
                     r->cfg.work_dir, (long long)(have >> 20), r->cfg.min_free_mb);
            set_trouble(r, why);
            job_log(r, j, "Waiting: %s", why);
            said = 1;
        }
        end = pause_a_second(r, j, 1);
    }
    if (said)
        set_trouble(r, "");
    return end;
}

/* One test run, from preparing it to storing it. */
typedef struct run {
    job *j;
    const char *name; /* the test case, "path/to/file.py::function" */
    int64_t seq;      /* its number in the job */
    char file[1024], function[256];
    char dir[1100];         /* its artifacts; the test's working directory */
    char result_path[1200]; /* where stbt_run.py writes the outcome */
    char checkout[1100];
    char config_list[4200], pythonpath[5200], script[4200];
    char *argv[8];
    char *envp[8];
    int64_t start_us;
    node_exec_result er;
} run;

static void run_clear(run *u)
{
    for (char **e = u->envp; *e; e++)
        free(*e);
    memset(u->envp, 0, sizeof(u->envp));
}

/* Make run seq of test case number index ready to start: its directory, its command line and
 * environment; report that it starts. -1 when its directory cannot be made. */
static int run_prepare(node_runner *r, job *j, size_t index, int64_t seq, run *u)
{
    memset(u, 0, sizeof(*u));
    u->j = j;
    u->name = j->spec->test_cases[index];
    u->seq = seq;
    const char *sep = strstr(u->name, "::");
    snprintf(u->file, sizeof(u->file), "%.*s", (int)(sep - u->name), u->name);
    snprintf(u->function, sizeof(u->function), "%s", sep + 2);
    snprintf(u->dir, sizeof(u->dir), "%s/runs/%lld", j->dir, (long long)seq);
    snprintf(u->result_path, sizeof(u->result_path), "%s/runs/%lld.result", j->dir, (long long)seq);
    snprintf(u->checkout, sizeof(u->checkout), "%s/checkout", j->dir);
    if (mkdir(u->dir, 0755) && errno != EEXIST) {
        sf_error("cannot create %s: %s", u->dir, strerror(errno));
        return -1;
    }
    char sock[1100];
    snprintf(sock, sizeof(sock), "%s/stbt.sock", r->cfg.work_dir);
    snprintf(u->config_list, sizeof(u->config_list),
             "%s/.stbt.conf:%s/config/test-farm/%s.conf:%s/stbfarm.conf", u->checkout, u->checkout,
             j->spec->node_id, j->dir);
    snprintf(u->pythonpath, sizeof(u->pythonpath), "%s:%s", r->cfg.stbt_dir, u->checkout);
    snprintf(u->script, sizeof(u->script), "%s/stbt_run.py", r->cfg.stbt_dir);
    char *argv[] = {(char *)r->cfg.python, "-u",           u->script, u->checkout, u->file,
                    u->function,           u->result_path, NULL};
    memcpy(u->argv, argv, sizeof(argv));
    char *envp[] = {env_entry("PATH", "/usr/local/bin:/usr/bin:/bin"),
                    env_entry("HOME", u->dir),
                    env_entry("LANG", "C.UTF-8"),
                    env_entry("PYTHONPATH", u->pythonpath),
                    env_entry("PYTHONDONTWRITEBYTECODE", "1"),
                    env_entry("STBFARM_AGENT_SOCKET", sock),
                    env_entry("STBT_CONFIG_FILE", u->config_list),
                    NULL};
    memcpy(u->envp, envp, sizeof(envp));

    Stbfarm__JobReport started = STBFARM__JOB_REPORT__INIT;
    started.job_uid = j->spec->job_uid;
    started.event = (char *)"started";
    started.test_case = (char *)u->name;
    started.has_seq = 1;
    started.seq = seq;
    sf_error err = SF_ERROR_INIT;
    if (node_outbox_report(r->outbox, &started, &err))
        sf_error("%s", err.msg);
    job_log(r, j, "Running %s (run %lld)", u->name, (long long)seq);
    return 0;
}

/* Run the test with its video recorded and its output in stdout.log, stderr.log, combined.log,
 * stbt.log and the job log. 0 when it ran (to its end, a timeout or a stop: u->er says which),
 * -1 when it could not. */
static int run_exec(node_runner *r, run *u)
{
    u->start_us = sf_now_us();
    char video_path[1200];
    snprintf(video_path, sizeof(video_path), "%s/video.mp4", u->dir);
    node_video *video = NULL;
    sf_error err = SF_ERROR_INIT;
    if (node_video_start(&video, r->dev->cap, video_path, &r->dev->video, &err))
        sf_warn("%s: no video.mp4: %s", u->name, err.msg);
    node_stbt_set_video(u->j->stbt, video); /* stbt.draw_text writes on it */
    run_output out = {0};
    out.r = r;
    out.j = u->j;
    out.out = open_log(u->dir, "stdout.log");
    out.err = open_log(u->dir, "stderr.log");
    out.combined = open_log(u->dir, "combined.log");
    out.stbt = open_log(u->dir, "stbt.log");
    int rc = 0;
    if (!out.out || !out.err || !out.combined || !out.stbt) {
        sf_error("%s: cannot write its logs in %s", u->name, u->dir);
        rc = -1;
    } else {
        node_exec_opts eo = {u->argv,
                             u->envp,
                             u->dir,
                             (int)r->cfg.test_timeout_secs * 1000,
                             r->stop_pipe[0],
                             on_output,
                             on_tick,
                             LOG_TICK_MS,
                             &out};
        if (node_exec_run(&eo, &u->er, &err)) {
            sf_error("%s: %s", u->name, err.msg);
            rc = -1;
        }
        node_lines_flush(&out.lines[0], output_line, &out);
        node_lines_flush(&out.lines[1], output_line, &out);
    }
    for (int i = 0; i < 2; i++)
        node_lines_free(&out.lines[i]);
    for (FILE **f = &out.out; f <= &out.stbt; f++) {
        if (*f)
            fclose(*f);
    }
    node_stbt_set_video(u->j->stbt, NULL);
    if (video) {
        node_video_result vr;
        sf_error verr = SF_ERROR_INIT;
        if (node_video_stop(video, &vr, &verr))
            sf_warn("%s: video.mp4: %s", u->name, verr.msg);
    }
    return rc;
}

/* A run that ended: its screenshot, outcome and metadata, and its directory handed to the
 * outbox, which stores it. */
static int run_store(node_runner *r, run *u)
{
    job *j = u->j;
    save_images(r, u->dir);
    outcome oc;
    read_outcome(u->result_path, &u->er, r->cfg.test_timeout_secs, &oc);
    unlink(u->result_path);
    job_log(r, j, "Finished %s: %s%s%s", u->name, oc.outcome, oc.reason ? ": " : "",
            oc.reason ? oc.reason : "");

    Stbfarm__ResultMeta meta = STBFARM__RESULT_META__INIT;
    meta.job_uid = j->spec->job_uid;
    meta.node_id = j->spec->node_id;
    meta.test_case = (char *)u->name;
    meta.test_pack_sha = j->spec->test_pack_sha;
    meta.test_pack_branch = j->spec->test_pack_branch;
    meta.username = j->spec->user;
    meta.job_category = j->spec->category;
    sf_error err = SF_ERROR_INIT;
    sf_tags tags;
    if (sf_tags_copy(&tags, &stbfarm__result_meta__tags_entry__descriptor,
                     (ProtobufCMessage *const *)j->spec->tags, j->spec->n_tags, &err))
        memset(&tags, 0, sizeof(tags)); /* out of memory: the result without its tags */
    meta.n_tags = tags.n;
    meta.tags = (Stbfarm__ResultMeta__TagsEntry **)tags.entries;
    meta.start_time_us = u->start_us;
    node_result res = {&meta, u->seq, oc.outcome, oc.reason, oc.traceback, sf_now_us(), u->dir};
    /* a finished run is never given up while the agent runs: with no room even to take it, it
     * waits (stopping the job waits too), and once taken it is done when it is on disk */
    int rc, said = 0;
    while ((rc = node_outbox_result(r->outbox, &res, &err)) == SF_ENOSPACE) {
        if (!said) {
            set_trouble(r, "the work directory is full: a finished test run waits for room");
            job_log(r, j, "Waiting for room to keep %s: %s", u->name, err.msg);
            said = 1;
        }
        if (pause_a_second(r, j, 0))
            break;
    }
    if (said)
        set_trouble(r, "");
    if (rc)
        sf_error("%s", err.msg);
    while (!rc && !node_outbox_durable(r->outbox, 1000) && !pause_a_second(r, j, 0)) {
    }
    sf_tags_clear(&tags);
    outcome_clear(&oc);
    return rc;
}

/* Run test case number `index` as run `seq` of the job. Returns 1 when the run was stopped
 * (nothing to store), 0 when it finished (stored through the outbox), -1 on a runner failure. */
static int run_one(node_runner *r, job *j, size_t index, int64_t seq, double *secs)
{
    run u;
    *secs = 0;
    int rc = run_prepare(r, j, index, seq, &u);
    if (!rc) {
        rc = run_exec(r, &u);
        *secs = (double)(sf_now_us() - u.start_us) / 1e6;
        if (rc || u.er.stopped)
            job_log(r, j, "Stopped %s", u.name);
        else if ((rc = run_store(r, &u)))
            job_log(r, j, "The result of %s is lost: the outbox did not take it", u.name);
    }
    int stopped = !rc && u.er.stopped;
    run_clear(&u);
    return rc ? -1 : stopped;
}

/* ---- choosing the next test case ---- */

static double random_unit(void)
{
    return (double)rand() / ((double)RAND_MAX + 1.0);
}

/* Weighted by 1 / mean duration: faster test cases run more often. A test case not yet run
 * weighs as the mean of the others (or 1 s), so each gets its chance early. */
static size_t pick_weighted(const job *j)
{
    size_t n = j->spec->n_test_cases;
    double known = 0;
    int n_known = 0;
    for (size_t i = 0; i < n; i++) {
        if (j->stats[i].runs) {
            known += j->stats[i].total_secs / j->stats[i].runs;
            n_known++;
        }
    }
    double fallback = n_known ? known / n_known : 1.0, total = 0;
    double *w = malloc(n * sizeof(double));
    if (!w)
        return (size_t)(random_unit() * (double)n);
    for (size_t i = 0; i < n; i++) {
        double mean = j->stats[i].runs ? j->stats[i].total_secs / j->stats[i].runs : fallback;
        w[i] = 1.0 / fmax(mean, 0.001);
        total += w[i];
    }
    double x = random_unit() * total;
    size_t pick = n - 1;
    for (size_t i = 0; i < n; i++) {
        if (x < w[i]) {
            pick = i;
            break;
        }
        x -= w[i];
    }
    free(w);
    return pick;
}

static void *run_job(void *arg)
{
    node_runner *r = arg;
    pthread_mutex_lock(&r->lock);
    job *j = r->job;
    pthread_mutex_unlock(&r->lock);
    const Stbfarm__RunJob *spec = j->spec;
    size_t n = spec->n_test_cases;
    size_t *order = calloc(n, sizeof(size_t));
    for (size_t i = 0; order && i < n; i++)
        order[i] = i;
    if (order && spec->shuffle && !spec->forever) {
        for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
            size_t k = (size_t)(random_unit() * (double)(i + 1));
            size_t t = order[i];
            order[i] = order[k];
            order[k] = t;
        }
    }
    job_log(r, j, "Job %s: %zu test case%s from %.12s, %s%s", spec->job_uid, n, n == 1 ? "" : "s",
            spec->test_pack_sha, spec->forever ? "run forever" : "run once",
            spec->shuffle ? ", shuffled" : "");
    int64_t seq = 0;
    for (size_t k = 0; order; k++) {
        pthread_mutex_lock(&r->lock);
        int stop = r->stopping || node_outbox_stop_asked(r->outbox, spec->job_uid);
        pthread_mutex_unlock(&r->lock);
        if (stop || (!spec->forever && k == n) || wait_for_room(r, j))
            break;
        size_t index = spec->forever ? (spec->shuffle ? pick_weighted(j) : k % n) : order[k];
        double secs = 0;
        int rc = run_one(r, j, index, ++seq, &secs);
        if (rc == 1 || rc < 0)
            break;
        j->stats[index].total_secs += secs;
        j->stats[index].runs++;
    }
    free(order);
    job_log(r, j, "Job %s finished", spec->job_uid);
    Stbfarm__JobReport fin = STBFARM__JOB_REPORT__INIT;
    fin.job_uid = spec->job_uid;
    fin.event = (char *)"finished";
    sf_error err = SF_ERROR_INIT;
    if (node_outbox_report(r->outbox, &fin, &err))
        sf_error("%s", err.msg);
    pthread_mutex_lock(&r->lock);
    r->job = NULL;
    r->stopping = 0;
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
    node_stbt_stop(j->stbt);
    sf_remote_close(&j->remote);
    stbfarm__run_job__free_unpacked(j->spec, NULL);
    free(j->stats);
    sf_buf_free(&j->log);
    free(j);
    return NULL;
}

/* ---- agent.run_job / agent.stop_job ---- */

/* The directory of a job: "/stb-tester-1/0a23/972" -> <work dir>/jobs/stb-tester-1_0a23_972. */
static void job_dir(const node_runner *r, const char *uid, char *out, size_t len)
{
    int n = snprintf(out, len, "%s/jobs/", r->cfg.work_dir);
    for (const char *p = uid + (*uid == '/'); *p && (size_t)n + 1 < len; p++)
        out[n++] = *p == '/' ? '_' : *p;
    out[n] = '\0';
}

/* The [result.tags] section stbt.get_config("result.tags", name) reads. */
static int write_tags_config(const job *j)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/stbfarm.conf", j->dir);
    FILE *f = fopen(path, "we");
    if (!f)
        return -1;
    fprintf(f, "[result.tags]\n");
    for (size_t i = 0; i < j->spec->n_tags; i++) {
        /* configparser: a value's newlines would start new keys, a key's '=' or ':' end it */
        fprintf(f, "%s = ", j->spec->tags[i]->key);
        for (const char *v = j->spec->tags[i]->value; *v; v++)
            fputc(*v == '\n' || *v == '\r' ? ' ' : *v, f);
        fputc('\n', f);
    }
    return fclose(f);
}

static void clear_stop_pipe(node_runner *r)
{
    char buf[64];
    while (read(r->stop_pipe[0], buf, sizeof(buf)) > 0)
        ;
}

/* Prepare a job (directory, checkout, remote control, stbt socket); under r->lock. */
static int prepare(node_runner *r, const Stbfarm__RunJob *q, job **out, sf_error *err)
{
    job *j = calloc(1, sizeof(*j));
    if (!j)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    int rc = 0;
    j->spec = (Stbfarm__RunJob *)sf_pb_copy(&q->base);
    j->stats = calloc(q->n_test_cases ? q->n_test_cases : 1, sizeof(case_stats));
    if (!j->spec || !j->stats) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto fail;
    }
    if (q->n_test_cases == 0) {
        rc = sf_fail(err, SF_EINVAL, "a job needs test cases");
        goto fail;
    }
    for (size_t i = 0; i < q->n_test_cases; i++) {
        if (!strstr(q->test_cases[i], "::")) {
            rc = sf_fail(err, SF_EINVAL, "malformed test case '%.200s'", q->test_cases[i]);
            goto fail;
        }
    }
    /* the previous job's files go: a node keeps one job's work at a time */
    char jobs[1024];
    snprintf(jobs, sizeof(jobs), "%s/jobs", r->cfg.work_dir);
    sf_remove_tree(jobs);
    job_dir(r, q->job_uid, j->dir, sizeof(j->dir));
    char runs[1100], checkout[1100], sock[1100];
    snprintf(runs, sizeof(runs), "%s/runs", j->dir);
    snprintf(checkout, sizeof(checkout), "%s/checkout", j->dir);
    snprintf(sock, sizeof(sock), "%s/stbt.sock", r->cfg.work_dir);
    if ((mkdir(r->cfg.work_dir, 0755) && errno != EEXIST) ||
        (mkdir(jobs, 0755) && errno != EEXIST)) {
        rc = sf_fail(err, SF_EUNAVAIL, "cannot create %s: %s", jobs, strerror(errno));
        goto fail;
    }
    if (mkdir(j->dir, 0755) || mkdir(runs, 0755)) {
        rc = sf_fail(err, SF_EUNAVAIL, "cannot create %s: %s", j->dir, strerror(errno));
        goto fail;
    }
    if (!r->tp && (rc = sf_testpack_open(&r->tp, r->cfg.test_pack, r->cfg.test_pack_cache, err)))
        goto fail;
    sf_revision rev;
    if ((rc = sf_testpack_resolve(r->tp, q->test_pack_sha, &rev, err)) ||
        (rc = sf_testpack_checkout(r->tp, rev.sha, checkout, err)) ||
        (rc = sf_remote_open(r->tp, rev.sha, q->remote_control, &j->remote, err)))
        goto fail;
    if (write_tags_config(j)) {
        rc = sf_fail(err, SF_EUNAVAIL, "cannot write %s/stbfarm.conf", j->dir);
        goto fail;
    }
    node_stbt_opts so = {sock,
                         r->dev->cap,
                         &j->remote,
                         r->dev->lircd,
                         r->dev->lirc_timeout_ms,
                         (int)r->cfg.frame_ring};
    if ((rc = node_stbt_start(&j->stbt, &so, err)))
        goto fail;
    j->log_flushed_ms = sf_mono_ms();
    *out = j;
    return 0;
fail:
    sf_remote_close(&j->remote);
    if (j->spec)
        stbfarm__run_job__free_unpacked(j->spec, NULL);
    free(j->stats);
    free(j);
    return rc;
}

static int runner_run(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                      sf_error *err)
{
    const Stbfarm__RunJob *q = (const Stbfarm__RunJob *)req;
    node_runner *r = runner_of(call);
    pthread_mutex_lock(&r->lock);
    int rc = 0;
    if (r->job) {
        /* a resent request for the job we run is answered again; any other is refused */
        if (strcmp(r->job->spec->job_uid, q->job_uid))
            rc = sf_fail(err, SF_ECONFLICT, "node %s is running job %s", q->node_id,
                         r->job->spec->job_uid);
        goto done;
    }
    if (r->thread_running) {
        pthread_join(r->thread, NULL);
        r->thread_running = 0;
    }
    job *j;
    if ((rc = prepare(r, q, &j, err)))
        goto done;
    clear_stop_pipe(r);
    r->job = j;
    r->stopping = 0;
    if (pthread_create(&r->thread, NULL, run_job, r)) {
        r->job = NULL;
        node_stbt_stop(j->stbt);
        sf_remote_close(&j->remote);
        stbfarm__run_job__free_unpacked(j->spec, NULL);
        free(j->stats);
        free(j);
        rc = sf_fail(err, SF_EINTERNAL, "cannot start the job's thread");
        goto done;
    }
    r->thread_running = 1;
    sf_info("running job %s: %zu test cases", q->job_uid, q->n_test_cases);
done:
    pthread_mutex_unlock(&r->lock);
    if (!rc) {
        Stbfarm__RunJobReply out = STBFARM__RUN_JOB_REPLY__INIT;
        out.agent_instance = (char *)r->cfg.instance;
        if (sf_rpc_reply_msg(reply, &out.base))
            rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    return rc;
}

/* Stop the job: kill its test, wait (up to timeout_ms) for the thread to finish and for the
 * outbox to deliver every run and report of the job. stopped=false when that took longer. */
static int runner_stop(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                       sf_error *err)
{
    const Stbfarm__StopJob *q = (const Stbfarm__StopJob *)req;
    node_runner *r = runner_of(call);
    int64_t end = sf_mono_ms() + (q->timeout_ms > 0 ? q->timeout_ms : 0);
    pthread_mutex_lock(&r->lock);
    if (r->job && !strcmp(r->job->spec->job_uid, q->job_uid)) {
        r->stopping = 1;
        ssize_t ignored = write(r->stop_pipe[1], "s", 1);
        (void)ignored;
        pthread_cond_broadcast(&r->changed); /* a job waiting for room stops waiting */
    }
    while (r->job && !strcmp(r->job->spec->job_uid, q->job_uid)) {
        struct timespec until;
        int64_t left = end - sf_mono_ms();
        if (left <= 0)
            break;
        sf_timespec_after(CLOCK_REALTIME, left, &until);
        pthread_cond_timedwait(&r->changed, &r->lock, &until);
    }
    int still_running = r->job && !strcmp(r->job->spec->job_uid, q->job_uid);
    pthread_mutex_unlock(&r->lock);
    int64_t left = end - sf_mono_ms();
    Stbfarm__StopJobReply out = STBFARM__STOP_JOB_REPLY__INIT;
    out.stopped =
        !still_running && node_outbox_delivered(r->outbox, q->job_uid, left > 0 ? (int)left : 0);
    return sf_rpc_reply_msg(reply, &out.base) ? sf_fail(err, SF_EINTERNAL, "out of memory") : 0;
}

const sf_rpc_method node_runner_methods[] = {
    {"agent.run_job", &stbfarm__run_job__descriptor, runner_run},
    {"agent.stop_job", &stbfarm__stop_job__descriptor, runner_stop},
};
const size_t node_runner_n_methods = sizeof(node_runner_methods) / sizeof(node_runner_methods[0]);

void node_runner_activity(void *runner, node_activity *out)
{
    node_runner *r = runner;
    pthread_mutex_lock(&r->lock);
    snprintf(out->job, sizeof(out->job), "%s", r->job ? r->job->spec->job_uid : "");
    snprintf(out->trouble, sizeof(out->trouble), "%s", r->trouble);
    pthread_mutex_unlock(&r->lock);
    node_outbox_activity(r->outbox, out);
}

int node_runner_new(node_runner **out, const node_devices *dev, const node_runner_config *cfg,
                    sf_error *err)
{
    node_runner *r = calloc(1, sizeof(*r));
    if (!r)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    r->dev = dev;
    r->cfg = *cfg;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->changed, NULL);
    if (pipe2(r->stop_pipe, O_CLOEXEC | O_NONBLOCK)) {
        free(r);
        return sf_fail(err, SF_EINTERNAL, "pipe: %s", strerror(errno));
    }
    char outbox[1100];
    snprintf(outbox, sizeof(outbox), "%s/outbox", cfg->work_dir);
    if (mkdir(cfg->work_dir, 0755) && errno != EEXIST) {
        close(r->stop_pipe[0]);
        close(r->stop_pipe[1]);
        free(r);
        return sf_fail(err, SF_EUNAVAIL, "cannot create %s: %s", cfg->work_dir, strerror(errno));
    }
    int rc = node_outbox_start(&r->outbox, cfg->brokers, outbox, err);
    if (rc) {
        close(r->stop_pipe[0]);
        close(r->stop_pipe[1]);
        free(r);
        return rc;
    }
    srand((unsigned)sf_now_us());
    *out = r;
    return 0;
}

void node_runner_free(node_runner *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->closing = 1;
    pthread_cond_broadcast(&r->changed);
    if (r->job) {
        r->stopping = 1;
        ssize_t ignored = write(r->stop_pipe[1], "s", 1);
        (void)ignored;
    }
    pthread_mutex_unlock(&r->lock);
    if (r->thread_running)
        pthread_join(r->thread, NULL);
    node_outbox_stop(r->outbox);
    sf_testpack_free(r->tp);
    close(r->stop_pipe[0]);
    close(r->stop_pipe[1]);
    free(r);
}
