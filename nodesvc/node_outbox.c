#include "node_outbox.h"

#include "sf_crypto.h"
#include "sf_log.h"
#include "sf_pbjson.h"
#include "sf_proc.h"
#include "sf_rpc.h"
#include "sf_run.h"
#include "sf_time.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { CHUNK = 1 << 20, CALL_TIMEOUT_MS = 30000, BACKOFF_MIN_MS = 100, BACKOFF_MAX_MS = 2000 };

typedef struct item {
    struct item *next;
    char job_uid[160];
    Stbfarm__JobReport *report; /* a report, or ... */
    Stbfarm__ResultMeta *meta;  /* ... a result: */
    char upload_id[SF_UPLOAD_ID_MAX + 1];
    char *outcome, *failure_reason, *traceback, *dir;
    int64_t end_time_us;
} item;

struct node_outbox {
    sf_rpc_client *results, *jobs;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    item *head, *tail;
    item *busy; /* the item the thread took off the queue and is delivering */
    int stopping;
    char stop_job[160]; /* the job the jobs service asked to stop */
};

/* ---- queue ---- */

static void item_free(item *it)
{
    if (it->report)
        stbfarm__job_report__free_unpacked(it->report, NULL);
    if (it->meta)
        stbfarm__result_meta__free_unpacked(it->meta, NULL);
    free(it->outcome);
    free(it->failure_reason);
    free(it->traceback);
    free(it->dir);
    free(it);
}

static void push(node_outbox *o, item *it)
{
    pthread_mutex_lock(&o->lock);
    if (o->tail)
        o->tail->next = it;
    else
        o->head = it;
    o->tail = it;
    pthread_cond_broadcast(&o->cond);
    pthread_mutex_unlock(&o->lock);
}

int node_outbox_report(node_outbox *o, const Stbfarm__JobReport *report, sf_error *err)
{
    item *it = calloc(1, sizeof(*it));
    if (!it || !(it->report = (Stbfarm__JobReport *)sf_pb_copy(&report->base))) {
        free(it);
        return sf_fail(err, SF_EINTERNAL, "outbox: out of memory; a %s report of %s is lost",
                       report->event, report->job_uid);
    }
    snprintf(it->job_uid, sizeof(it->job_uid), "%s", report->job_uid);
    push(o, it);
    return 0;
}

int node_outbox_result(node_outbox *o, const node_result *r, sf_error *err)
{
    item *it = calloc(1, sizeof(*it));
    if (!it || !(it->meta = (Stbfarm__ResultMeta *)sf_pb_copy(&r->meta->base)) ||
        !(it->outcome = strdup(r->outcome)) || !(it->dir = strdup(r->dir)) ||
        (r->failure_reason && !(it->failure_reason = strdup(r->failure_reason))) ||
        (r->traceback && !(it->traceback = strdup(r->traceback)))) {
        if (it)
            item_free(it);
        return sf_fail(err, SF_EINTERNAL, "outbox: out of memory; the result of %s is lost",
                       r->meta->test_case);
    }
    it->end_time_us = r->end_time_us;
    snprintf(it->job_uid, sizeof(it->job_uid), "%s", r->meta->job_uid);
    sf_run_upload_id(r->meta->job_uid, r->seq, it->upload_id);
    push(o, it);
    return 0;
}

/* 1 when an item of job_uid is queued or being delivered. Called with the lock held. */
static int owes(const node_outbox *o, const char *job_uid)
{
    if (o->busy && !strcmp(o->busy->job_uid, job_uid))
        return 1;
    for (const item *it = o->head; it; it = it->next) {
        if (!strcmp(it->job_uid, job_uid))
            return 1;
    }
    return 0;
}

int node_outbox_delivered(node_outbox *o, const char *job_uid, int timeout_ms)
{
    struct timespec until;
    sf_timespec_after(CLOCK_REALTIME, timeout_ms, &until);
    pthread_mutex_lock(&o->lock);
    while (owes(o, job_uid) && pthread_cond_timedwait(&o->cond, &o->lock, &until) != ETIMEDOUT)
        ;
    int done = !owes(o, job_uid);
    pthread_mutex_unlock(&o->lock);
    return done;
}

static void add_job(node_activity *out, const char *job_uid)
{
    for (size_t i = 0; i < out->n_delivering; i++) {
        if (!strcmp(out->delivering[i], job_uid))
            return;
    }
    if (out->n_delivering < NODE_ACTIVITY_JOBS)
        snprintf(out->delivering[out->n_delivering++], sizeof(out->delivering[0]), "%s", job_uid);
}

void node_outbox_activity(node_outbox *o, node_activity *out)
{
    pthread_mutex_lock(&o->lock);
    if (o->busy)
        add_job(out, o->busy->job_uid);
    for (const item *it = o->head; it; it = it->next)
        add_job(out, it->job_uid);
    pthread_mutex_unlock(&o->lock);
}

int node_outbox_stop_asked(node_outbox *o, const char *job_uid)
{
    pthread_mutex_lock(&o->lock);
    int asked = !strcmp(o->stop_job, job_uid);
    pthread_mutex_unlock(&o->lock);
    return asked;
}

/* ---- delivery ---- */

/* Sleep for the back-off, unless the outbox stops. Returns 1 when stopping. */
static int back_off(node_outbox *o, int *ms)
{
    struct timespec until;
    sf_timespec_after(CLOCK_REALTIME, *ms, &until);
    pthread_mutex_lock(&o->lock);
    while (!o->stopping && pthread_cond_timedwait(&o->cond, &o->lock, &until) != ETIMEDOUT)
        ;
    int s = o->stopping;
    pthread_mutex_unlock(&o->lock);
    *ms = *ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *ms * 2;
    return s;
}

/* A call that is worth repeating: the service did not answer, or was not there. */
static int transient(int rc)
{
    return rc == SF_EUNAVAIL || rc == SF_EINTERNAL || rc == SF_ETOOMANY;
}

static int call(sf_rpc_client *c, const char *method, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *reply, sf_rpc_result *res, sf_error *err)
{
    sf_rpc_opts opts = SF_RPC_OPTS_INIT;
    opts.timeout_ms = CALL_TIMEOUT_MS;
    opts.resend_ms = CALL_TIMEOUT_MS; /* chunks are idempotent, but large: no early resend */
    return sf_rpc_call(c, method, req, reply, &opts, res, err);
}

static int send_report(node_outbox *o, const Stbfarm__JobReport *r)
{
    int backoff = BACKOFF_MIN_MS;
    for (;;) {
        sf_rpc_result res;
        sf_error err = SF_ERROR_INIT;
        int rc = call(o->jobs, "jobs.report", &r->base, &stbfarm__job_report_reply__descriptor,
                      &res, &err);
        if (!rc && ((Stbfarm__JobReportReply *)res.msg)->stop) {
            pthread_mutex_lock(&o->lock);
            snprintf(o->stop_job, sizeof(o->stop_job), "%s", r->job_uid);
            pthread_mutex_unlock(&o->lock);
        }
        sf_rpc_result_free(&res);
        if (!rc)
            return 0;
        if (!transient(rc)) {
            sf_warn("outbox: %s report of %s refused: %s", r->event, r->job_uid, err.msg);
            return rc;
        }
        sf_debug("outbox: %s report of %s: %s; retrying", r->event, r->job_uid, err.msg);
        if (back_off(o, &backoff))
            return SF_EUNAVAIL;
    }
}

typedef struct manifest {
    Stbfarm__ManifestEntry **entries;
    size_t n, cap;
} manifest;

static void manifest_clear(manifest *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->entries[i]->path);
        free(m->entries[i]->md5);
        free(m->entries[i]);
    }
    free(m->entries);
    memset(m, 0, sizeof(*m));
}

/* Send one file in chunks and add it to the manifest. A file the results service refuses (a
 * name it cannot store) is left out with a warning; a service that is away is waited for. */
static int put_file(node_outbox *o, const item *it, const char *full, const char *rel, manifest *m)
{
    int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        sf_warn("outbox: %s: %s; left out of the result", full, strerror(errno));
        return 0;
    }
    uint8_t *buf = malloc(CHUNK);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = 0;
    int64_t offset = 0;
    if (!buf || !md || !EVP_DigestInit_ex(md, EVP_md5(), NULL)) {
        rc = SF_EINTERNAL;
        goto cleanup;
    }
    for (;;) {
        ssize_t n = pread(fd, buf, CHUNK, offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            sf_warn("outbox: reading %s: %s; left out of the result", full, strerror(errno));
            goto cleanup;
        }
        if (n == 0 && offset > 0)
            break;
        EVP_DigestUpdate(md, buf, (size_t)n);
        Stbfarm__ResultsPutChunkRequest q = STBFARM__RESULTS_PUT_CHUNK_REQUEST__INIT;
        q.upload_id = (char *)it->upload_id;
        q.path = (char *)rel;
        q.offset = offset;
        q.data.data = buf;
        q.data.len = (size_t)n;
        int backoff = BACKOFF_MIN_MS;
        for (;;) {
            sf_rpc_result res;
            sf_error err = SF_ERROR_INIT;
            rc = call(o->results, "results.put_chunk", &q.base,
                      &stbfarm__results_put_chunk_reply__descriptor, &res, &err);
            sf_rpc_result_free(&res);
            if (!rc)
                break;
            if (!transient(rc)) {
                sf_warn("outbox: %s of %s refused: %s; left out of the result", rel,
                        it->meta->test_case, err.msg);
                rc = 0;
                goto cleanup;
            }
            if (back_off(o, &backoff)) {
                rc = SF_EUNAVAIL;
                goto cleanup;
            }
        }
        offset += n;
        if (n < CHUNK)
            break;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_DigestFinal_ex(md, digest, &dlen);
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        Stbfarm__ManifestEntry **e = realloc(m->entries, cap * sizeof(*e));
        if (!e) {
            rc = SF_EINTERNAL;
            goto cleanup;
        }
        m->entries = e;
        m->cap = cap;
    }
    Stbfarm__ManifestEntry *e = malloc(sizeof(*e));
    char *md5 = malloc(2 * dlen + 1);
    char *path = strdup(rel);
    if (!e || !md5 || !path) {
        free(e);
        free(md5);
        free(path);
        rc = SF_EINTERNAL;
        goto cleanup;
    }
    stbfarm__manifest_entry__init(e);
    sf_hex(digest, dlen, md5);
    e->path = path;
    e->size = offset;
    e->md5 = md5;
    m->entries[m->n++] = e;
cleanup:
    EVP_MD_CTX_free(md);
    free(buf);
    close(fd);
    return rc;
}

/* Every regular file under dir, symlinks neither followed nor sent, in a stable order. */
typedef struct file_list {
    char **paths; /* relative to the root */
    size_t n, cap;
} file_list;

static int add_path(file_list *l, const char *rel)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        char **p = realloc(l->paths, cap * sizeof(char *));
        if (!p)
            return -1;
        l->paths = p;
        l->cap = cap;
    }
    if (!(l->paths[l->n] = strdup(rel)))
        return -1;
    l->n++;
    return 0;
}

/* Collect the regular files under root/rel (rel "" for root itself), never following links. */
static void walk(const char *root, const char *rel, file_list *l, int depth)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = depth < 32 ? opendir(dir) : NULL;
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char sub[4096];
        struct stat st;
        snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW))
            continue;
        if (S_ISDIR(st.st_mode))
            walk(root, sub, l, depth + 1);
        else if (S_ISREG(st.st_mode))
            add_path(l, sub);
    }
    closedir(d);
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_files(const char *dir, file_list *l)
{
    memset(l, 0, sizeof(*l));
    walk(dir, "", l, 0);
    qsort(l->paths, l->n, sizeof(char *), compare_paths);
}

static void free_files(file_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
}

/* Begin the upload: 0 with *finished set (the upload was committed already: by an earlier
 * attempt of ours, or by the jobs service recording the run as lost), or a refusal. */
static int begin_upload(node_outbox *o, item *it, int *finished)
{
    int backoff = BACKOFF_MIN_MS;
    for (;;) {
        Stbfarm__ResultsBeginRequest b = STBFARM__RESULTS_BEGIN_REQUEST__INIT;
        b.upload_id = it->upload_id;
        b.meta = it->meta;
        sf_rpc_result res;
        sf_error err = SF_ERROR_INIT;
        int rc = call(o->results, "results.begin", &b.base,
                      &stbfarm__results_begin_reply__descriptor, &res, &err);
        if (!rc)
            *finished = ((const Stbfarm__ResultsBeginReply *)res.msg)->finished;
        sf_rpc_result_free(&res);
        if (!rc)
            return 0;
        if (!transient(rc)) {
            sf_error("outbox: the result of %s (%s) was refused: %s", it->meta->test_case,
                     it->job_uid, err.msg);
            return rc;
        }
        if (back_off(o, &backoff))
            return SF_EUNAVAIL;
    }
}

/* Send every file of the run's directory; m receives the manifest. */
static int put_files(node_outbox *o, item *it, manifest *m)
{
    file_list files;
    list_files(it->dir, &files);
    int rc = 0;
    for (size_t i = 0; !rc && i < files.n; i++) {
        char full[4096];
        snprintf(full, sizeof(full), "%s/%s", it->dir, files.paths[i]);
        rc = put_file(o, it, full, files.paths[i], m);
    }
    free_files(&files);
    return rc;
}

/* Finish the upload with the manifest m: 0 with the result's id and the outcome stored (ours,
 * or that of whoever finished the upload first), SF_ECONFLICT when a file must be sent again,
 * or another refusal. */
static int finish_upload(node_outbox *o, item *it, const manifest *m, char *result_id,
                         size_t id_len, char *stored, size_t stored_len)
{
    Stbfarm__ResultsFinishRequest f = STBFARM__RESULTS_FINISH_REQUEST__INIT;
    f.upload_id = it->upload_id;
    f.result = it->outcome;
    f.failure_reason = it->failure_reason;
    f.traceback = it->traceback;
    f.end_time_us = it->end_time_us;
    f.n_artifacts = m ? m->n : 0;
    f.artifacts = m ? m->entries : NULL;
    sf_rpc_result res;
    sf_error err = SF_ERROR_INIT;
    int rc = call(o->results, "results.finish", &f.base, &stbfarm__results_finish_reply__descriptor,
                  &res, &err);
    if (!rc) {
        const Stbfarm__ResultsFinishReply *r = (const Stbfarm__ResultsFinishReply *)res.msg;
        snprintf(result_id, id_len, "%s", r->result_id);
        snprintf(stored, stored_len, "%s", r->result ? r->result : it->outcome);
    } else if (rc != SF_ECONFLICT && !transient(rc)) {
        sf_error("outbox: the result of %s (%s) was refused: %s", it->meta->test_case, it->job_uid,
                 err.msg);
    }
    sf_rpc_result_free(&res);
    return rc;
}

/* Store one result: begin, every file, finish; then report it to the jobs service with the
 * outcome the results service holds for it. */
static int deliver_result(node_outbox *o, item *it)
{
    char result_id[256] = "", stored[16] = "";
    int backoff = BACKOFF_MIN_MS, rc;
    for (;;) {
        int finished = 0;
        if ((rc = begin_upload(o, it, &finished)))
            return rc;
        manifest m = {0};
        if (!finished)
            rc = put_files(o, it, &m);
        /* a finished upload's finish only tells its id and what it recorded */
        if (!rc)
            rc = finish_upload(o, it, finished ? NULL : &m, result_id, sizeof(result_id), stored,
                               sizeof(stored));
        manifest_clear(&m);
        if (!rc)
            break;
        if (rc != SF_ECONFLICT && !transient(rc)) /* 409: a file differs: send again */
            return rc;
        if (back_off(o, &backoff))
            return SF_EUNAVAIL;
    }
    if (strcmp(stored, it->outcome))
        sf_warn("outbox: %s (%s) was recorded first as %s, by the jobs service: its %s and "
                "artifacts are dropped",
                it->meta->test_case, it->job_uid, stored, it->outcome);
    sf_remove_tree(it->dir);
    Stbfarm__JobReport r = STBFARM__JOB_REPORT__INIT;
    r.job_uid = it->job_uid;
    r.event = (char *)"result";
    r.test_case = it->meta->test_case;
    r.result_id = result_id;
    r.outcome = stored;
    return send_report(o, &r);
}

static void *deliver(void *arg)
{
    node_outbox *o = arg;
    pthread_mutex_lock(&o->lock);
    for (;;) {
        while (!o->head && !o->stopping)
            pthread_cond_wait(&o->cond, &o->lock);
        if (o->stopping)
            break;
        item *it = o->head;
        o->head = it->next;
        if (!o->head)
            o->tail = NULL;
        o->busy = it;
        pthread_mutex_unlock(&o->lock);
        if (it->report)
            send_report(o, it->report);
        else
            deliver_result(o, it);
        pthread_mutex_lock(&o->lock);
        o->busy = NULL;
        item_free(it);
        pthread_cond_broadcast(&o->cond);
    }
    pthread_mutex_unlock(&o->lock);
    return NULL;
}

int node_outbox_start(node_outbox **out, const char *brokers, sf_error *err)
{
    node_outbox *o = calloc(1, sizeof(*o));
    if (!o)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->cond, NULL);
    int rc = sf_rpc_client_open(&o->results, brokers, SF_SVC_RESULTS, err);
    if (!rc)
        rc = sf_rpc_client_open(&o->jobs, brokers, SF_SVC_JOBS, err);
    if (!rc && pthread_create(&o->thread, NULL, deliver, o))
        rc = sf_fail(err, SF_EINTERNAL, "cannot start the outbox thread");
    if (rc) {
        sf_rpc_client_free(o->results);
        sf_rpc_client_free(o->jobs);
        free(o);
        return rc;
    }
    *out = o;
    return 0;
}

void node_outbox_stop(node_outbox *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->lock);
    o->stopping = 1;
    pthread_cond_broadcast(&o->cond);
    pthread_mutex_unlock(&o->lock);
    pthread_join(o->thread, NULL);
    while (o->head) {
        item *it = o->head;
        o->head = it->next;
        item_free(it);
    }
    sf_rpc_client_free(o->results);
    sf_rpc_client_free(o->jobs);
    free(o);
}
