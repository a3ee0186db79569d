#include "node_outbox.h"

#include "node_journal.h"
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
    uint64_t n;               /* its place in the journal, and the order of delivery */
    int journaled;            /* its file is written (node_journal.h) */
    Stbfarm__OutboxItem *rec; /* owned: a report or a result (proto/outbox.proto) */
    char job_uid[160];
    char upload_id[SF_UPLOAD_ID_MAX + 1]; /* a result's */
    char *dir;                            /* a result's artifacts, in the journal */
} item;

struct node_outbox {
    sf_rpc_client *results, *jobs;
    node_journal *journal;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    item *head, *tail;
    item *busy;    /* the item the thread took off the queue and is delivering */
    uint64_t next; /* the next item's n */
    int stopping;
    int disk_full;      /* an item could not be journaled: the work directory is full */
    int store_full;     /* the results service's last answer was 507 */
    size_t n_results;   /* results queued or in delivery */
    char stop_job[160]; /* the job the jobs service asked to stop */
};

/* ---- queue ---- */

static void item_free(item *it)
{
    if (it->rec)
        stbfarm__outbox_item__free_unpacked(it->rec, NULL);
    free(it->dir);
    free(it);
}

/* Journal the items not journaled yet (the one in delivery, then the queue, in order), stopping
 * at the first the disk refuses. Called with the lock held. */
static void journal_pending(node_outbox *o)
{
    o->disk_full = 0;
    for (item *it = o->busy ? o->busy : o->head; it; it = it == o->busy ? o->head : it->next) {
        if (it->journaled)
            continue;
        sf_error err = SF_ERROR_INIT;
        int durable = !it->rec->report || strcmp(it->rec->report->event, "log");
        if (node_journal_write(o->journal, it->n, it->rec, durable, &err)) {
            o->disk_full = err.code == SF_ENOSPACE;
            if (!o->disk_full)
                sf_error("outbox: %s", err.msg);
            return;
        }
        it->journaled = 1;
    }
}

/* Queue it (n set), journaling it unless an earlier item waits for room. */
static void push(node_outbox *o, item *it)
{
    pthread_mutex_lock(&o->lock);
    if (o->tail)
        o->tail->next = it;
    else
        o->head = it;
    o->tail = it;
    if (it->rec->result)
        o->n_results++;
    journal_pending(o);
    pthread_cond_broadcast(&o->cond);
    pthread_mutex_unlock(&o->lock);
}

static uint64_t take_number(node_outbox *o)
{
    pthread_mutex_lock(&o->lock);
    uint64_t n = o->next++;
    pthread_mutex_unlock(&o->lock);
    return n;
}

/* An item for rec (copied); it->n is taken. */
static item *item_new(node_outbox *o, const Stbfarm__OutboxItem *rec, const char *job_uid)
{
    item *it = calloc(1, sizeof(*it));
    if (!it || !(it->rec = (Stbfarm__OutboxItem *)sf_pb_copy(&rec->base))) {
        free(it);
        return NULL;
    }
    it->n = take_number(o);
    snprintf(it->job_uid, sizeof(it->job_uid), "%s", job_uid);
    return it;
}

int node_outbox_report(node_outbox *o, const Stbfarm__JobReport *report, sf_error *err)
{
    Stbfarm__OutboxItem rec = STBFARM__OUTBOX_ITEM__INIT;
    rec.report = (Stbfarm__JobReport *)report;
    item *it = item_new(o, &rec, report->job_uid);
    if (!it)
        return sf_fail(err, SF_EINTERNAL, "outbox: out of memory; a %s report of %s is lost",
                       report->event, report->job_uid);
    push(o, it);
    return 0;
}

int node_outbox_result(node_outbox *o, const node_result *r, sf_error *err)
{
    Stbfarm__OutboxResult res = STBFARM__OUTBOX_RESULT__INIT;
    res.meta = (Stbfarm__ResultMeta *)r->meta;
    res.seq = r->seq;
    res.outcome = (char *)r->outcome;
    res.failure_reason = (char *)r->failure_reason;
    res.traceback = (char *)r->traceback;
    res.end_time_us = r->end_time_us;
    Stbfarm__OutboxItem rec = STBFARM__OUTBOX_ITEM__INIT;
    rec.result = &res;
    item *it = item_new(o, &rec, r->meta->job_uid);
    char moved[1100];
    if (!it || !(it->dir = malloc(sizeof(moved)))) {
        if (it)
            item_free(it);
        return sf_fail(err, SF_EINTERNAL, "outbox: out of memory; the result of %s is lost",
                       r->meta->test_case);
    }
    int rc = node_journal_take_run(o->journal, it->n, r->dir, it->dir, sizeof(moved), err);
    if (rc) {
        item_free(it);
        return rc;
    }
    sf_run_upload_id(r->meta->job_uid, r->seq, it->upload_id);
    push(o, it);
    return 0;
}

/* 1 while an item queued or in delivery is not journaled. Called with the lock held. */
static int any_unjournaled(const node_outbox *o)
{
    if (o->busy && !o->busy->journaled)
        return 1;
    for (const item *it = o->head; it; it = it->next) {
        if (!it->journaled)
            return 1;
    }
    return 0;
}

int node_outbox_durable(node_outbox *o, int timeout_ms)
{
    struct timespec until;
    sf_timespec_after(CLOCK_REALTIME, timeout_ms, &until);
    pthread_mutex_lock(&o->lock);
    journal_pending(o);
    while (any_unjournaled(o) && pthread_cond_timedwait(&o->cond, &o->lock, &until) != ETIMEDOUT)
        ;
    int durable = !any_unjournaled(o);
    pthread_mutex_unlock(&o->lock);
    return durable;
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
    if (!out->trouble[0] && o->disk_full)
        snprintf(out->trouble, sizeof(out->trouble),
                 "the work directory is full: %zu finished test run%s wait%s in memory for room",
                 o->n_results, o->n_results == 1 ? "" : "s", o->n_results == 1 ? "s" : "");
    else if (!out->trouble[0] && o->store_full)
        snprintf(out->trouble, sizeof(out->trouble),
                 "the artifact store is full: %zu finished test run%s wait%s on the node",
                 o->n_results, o->n_results == 1 ? "" : "s", o->n_results == 1 ? "s" : "");
    pthread_mutex_unlock(&o->lock);
}

void node_outbox_depth(node_outbox *o, size_t *items, size_t *results)
{
    pthread_mutex_lock(&o->lock);
    size_t n = o->busy != NULL;
    for (const item *it = o->head; it; it = it->next)
        n++;
    *items = n;
    *results = o->n_results;
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
    if (o->disk_full)
        journal_pending(o); /* room may have come back meanwhile */
    while (!o->stopping && pthread_cond_timedwait(&o->cond, &o->lock, &until) != ETIMEDOUT)
        ;
    int s = o->stopping;
    pthread_mutex_unlock(&o->lock);
    *ms = *ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *ms * 2;
    return s;
}

/* A call that is worth repeating: the service did not answer, was not there, or had no room. */
static int transient(int rc)
{
    return rc == SF_EUNAVAIL || rc == SF_EINTERNAL || rc == SF_ETOOMANY || rc == SF_ENOSPACE;
}

static int call(sf_rpc_client *c, const char *method, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *reply, sf_rpc_result *res, sf_error *err)
{
    sf_rpc_opts opts = SF_RPC_OPTS_INIT;
    opts.timeout_ms = CALL_TIMEOUT_MS;
    opts.resend_ms = CALL_TIMEOUT_MS; /* chunks are idempotent, but large: no early resend */
    return sf_rpc_call(c, method, req, reply, &opts, res, err);
}

/* A call to the results service, noting whether it said that its store is full. */
static int results_call(node_outbox *o, const char *method, const ProtobufCMessage *req,
                        const ProtobufCMessageDescriptor *reply, sf_rpc_result *res, sf_error *err)
{
    int rc = call(o->results, method, req, reply, res, err);
    if (rc == 0 || rc == SF_ENOSPACE) {
        pthread_mutex_lock(&o->lock);
        if (rc && !o->store_full)
            sf_warn("outbox: %s; retrying until there is room", err->msg);
        o->store_full = rc != 0;
        pthread_mutex_unlock(&o->lock);
    }
    return rc;
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

/* Send one file in chunks and add it to the manifest, skipping the chunks that lie within the
 * staged bytes (-1: none staged). A file the results service refuses (a name it cannot store)
 * is left out with a warning; a service that is away or full is waited for. */
static int put_file(node_outbox *o, const item *it, const char *full, const char *rel,
                    int64_t staged, manifest *m)
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
        if (n > 0 && offset + n <= staged) { /* already there: a resumed upload */
            offset += n;
            if (n < CHUNK)
                break;
            continue;
        }
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
            rc = results_call(o, "results.put_chunk", &q.base,
                              &stbfarm__results_put_chunk_reply__descriptor, &res, &err);
            sf_rpc_result_free(&res);
            if (!rc)
                break;
            if (!transient(rc)) {
                sf_warn("outbox: %s of %s refused: %s; left out of the result", rel,
                        it->rec->result->meta->test_case, err.msg);
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
    if (l->n)
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
        b.meta = it->rec->result->meta;
        sf_rpc_result res;
        sf_error err = SF_ERROR_INIT;
        int rc = results_call(o, "results.begin", &b.base,
                              &stbfarm__results_begin_reply__descriptor, &res, &err);
        if (!rc)
            *finished = ((const Stbfarm__ResultsBeginReply *)res.msg)->finished;
        sf_rpc_result_free(&res);
        if (!rc)
            return 0;
        if (!transient(rc)) {
            sf_error("outbox: the result of %s (%s) was refused: %s",
                     it->rec->result->meta->test_case, it->job_uid, err.msg);
            return rc;
        }
        if (back_off(o, &backoff))
            return SF_EUNAVAIL;
    }
}

/* What the results service has staged of the upload already (an agent that restarted, or a
 * retry after a lost answer), as a sorted list; empty when it cannot say. SF_EUNAVAIL only when
 * the outbox stops. */
static int staged_files(node_outbox *o, const item *it, Stbfarm__ResultsStatusReply **out)
{
    *out = NULL;
    int backoff = BACKOFF_MIN_MS;
    for (;;) {
        Stbfarm__ResultsStatusRequest q = STBFARM__RESULTS_STATUS_REQUEST__INIT;
        q.upload_id = (char *)it->upload_id;
        sf_rpc_result res;
        sf_error err = SF_ERROR_INIT;
        int rc = results_call(o, "results.status", &q.base,
                              &stbfarm__results_status_reply__descriptor, &res, &err);
        if (!rc) {
            *out = (Stbfarm__ResultsStatusReply *)sf_pb_copy(res.msg);
            sf_rpc_result_free(&res);
            return 0;
        }
        sf_rpc_result_free(&res);
        if (!transient(rc))
            return 0; /* send it all */
        if (back_off(o, &backoff))
            return SF_EUNAVAIL;
    }
}

static int64_t staged_size(const Stbfarm__ResultsStatusReply *st, const char *path)
{
    for (size_t i = 0; st && i < st->n_files; i++) {
        if (!strcmp(st->files[i]->path, path))
            return st->files[i]->size;
    }
    return -1;
}

/* Send every file of the run's directory, from what is staged already when resume is set; m
 * receives the manifest. */
static int put_files(node_outbox *o, item *it, int resume, manifest *m)
{
    Stbfarm__ResultsStatusReply *st = NULL;
    if (resume && staged_files(o, it, &st))
        return SF_EUNAVAIL;
    file_list files;
    list_files(it->dir, &files);
    int rc = 0;
    int64_t staged = 0;
    for (size_t i = 0; st && i < st->n_files; i++)
        staged += st->files[i]->size;
    if (staged > 0)
        sf_info("outbox: resuming the upload of %s (%s): %lld bytes in %zu files are staged",
                it->rec->result->meta->test_case, it->upload_id, (long long)staged, st->n_files);
    for (size_t i = 0; !rc && i < files.n; i++) {
        char full[4096];
        snprintf(full, sizeof(full), "%s/%s", it->dir, files.paths[i]);
        rc = put_file(o, it, full, files.paths[i], staged_size(st, files.paths[i]), m);
    }
    free_files(&files);
    if (st)
        stbfarm__results_status_reply__free_unpacked(st, NULL);
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
    f.result = it->rec->result->outcome;
    f.failure_reason = it->rec->result->failure_reason;
    f.traceback = it->rec->result->traceback;
    f.end_time_us = it->rec->result->end_time_us;
    f.n_artifacts = m ? m->n : 0;
    f.artifacts = m ? m->entries : NULL;
    sf_rpc_result res;
    sf_error err = SF_ERROR_INIT;
    int rc = results_call(o, "results.finish", &f.base, &stbfarm__results_finish_reply__descriptor,
                          &res, &err);
    if (!rc) {
        const Stbfarm__ResultsFinishReply *r = (const Stbfarm__ResultsFinishReply *)res.msg;
        snprintf(result_id, id_len, "%s", r->result_id);
        snprintf(stored, stored_len, "%s", r->result ? r->result : it->rec->result->outcome);
    } else if (rc != SF_ECONFLICT && !transient(rc)) {
        sf_error("outbox: the result of %s (%s) was refused: %s", it->rec->result->meta->test_case,
                 it->job_uid, err.msg);
    }
    sf_rpc_result_free(&res);
    return rc;
}

/* Store one result: begin, every file, finish; then report it to the jobs service with the
 * outcome the results service holds for it. */
static int deliver_result(node_outbox *o, item *it)
{
    char result_id[256] = "", stored[16] = "";
    int backoff = BACKOFF_MIN_MS, rc, resume = 1;
    for (;;) {
        int finished = 0;
        if ((rc = begin_upload(o, it, &finished)))
            return rc;
        manifest m = {0};
        if (!finished)
            rc = put_files(o, it, resume, &m);
        /* a finished upload's finish only tells its id and what it recorded */
        if (!rc)
            rc = finish_upload(o, it, finished ? NULL : &m, result_id, sizeof(result_id), stored,
                               sizeof(stored));
        manifest_clear(&m);
        if (!rc)
            break;
        if (rc != SF_ECONFLICT && !transient(rc))
            return rc;
        if (rc == SF_ECONFLICT) /* a file differs: send every file again, from its start */
            resume = 0;
        if (back_off(o, &backoff))
            return SF_EUNAVAIL;
    }
    if (strcmp(stored, it->rec->result->outcome))
        sf_warn("outbox: %s (%s) was recorded first as %s, by the jobs service: its %s and "
                "artifacts are dropped",
                it->rec->result->meta->test_case, it->job_uid, stored, it->rec->result->outcome);
    sf_remove_tree(it->dir);
    Stbfarm__JobReport r = STBFARM__JOB_REPORT__INIT;
    r.job_uid = it->job_uid;
    r.event = (char *)"result";
    r.test_case = it->rec->result->meta->test_case;
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
        if (it->rec->report)
            send_report(o, it->rec->report);
        else
            deliver_result(o, it);
        pthread_mutex_lock(&o->lock);
        /* delivered, or refused for good; when the outbox stops instead, it stays journaled
         * for the next start */
        if (!o->stopping) {
            if (it->journaled)
                node_journal_remove(o->journal, it->n);
            else if (it->dir)
                sf_remove_tree(it->dir);
            if (it->rec->result)
                o->n_results--;
            o->busy = NULL;
            item_free(it);
            journal_pending(o); /* what was delivered made room */
        }
        pthread_cond_broadcast(&o->cond);
    }
    pthread_mutex_unlock(&o->lock);
    return NULL;
}

/* An item a previous start left in the journal, queued again as it was. */
static void reload(void *arg, uint64_t n, Stbfarm__OutboxItem *rec, const char *run_dir)
{
    node_outbox *o = arg;
    item *it = calloc(1, sizeof(*it));
    const char *job = rec->report ? rec->report->job_uid : rec->result->meta->job_uid;
    if (!it || (run_dir && !(it->dir = strdup(run_dir)))) {
        sf_error("outbox: out of memory; item %llu stays in the journal for the next start",
                 (unsigned long long)n);
        free(it);
        stbfarm__outbox_item__free_unpacked(rec, NULL);
        return;
    }
    it->n = n;
    it->journaled = 1;
    it->rec = rec;
    snprintf(it->job_uid, sizeof(it->job_uid), "%s", job);
    if (rec->result)
        sf_run_upload_id(job, rec->result->seq, it->upload_id);
    if (o->tail)
        o->tail->next = it;
    else
        o->head = it;
    o->tail = it;
    if (rec->result)
        o->n_results++;
}

static void queue_free(node_outbox *o)
{
    size_t lost = 0;
    if (o->busy) {
        lost += !o->busy->journaled;
        item_free(o->busy);
    }
    while (o->head) {
        item *it = o->head;
        o->head = it->next;
        lost += !it->journaled;
        item_free(it);
    }
    if (lost)
        sf_error("outbox: %zu item%s that the full disk could not keep %s lost", lost,
                 lost == 1 ? "" : "s", lost == 1 ? "is" : "are");
}

int node_outbox_start(node_outbox **out, const char *brokers, const char *dir, sf_error *err)
{
    node_outbox *o = calloc(1, sizeof(*o));
    if (!o)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->cond, NULL);
    int rc = node_journal_open(&o->journal, dir, err);
    if (!rc)
        rc = node_journal_load(o->journal, reload, o, &o->next, err);
    if (!rc && o->head)
        sf_info("outbox: %zu finished test run%s and the reports after them left to deliver",
                o->n_results, o->n_results == 1 ? "" : "s");
    if (!rc)
        rc = sf_rpc_client_open(&o->results, brokers, SF_SVC_RESULTS, err);
    if (!rc)
        rc = sf_rpc_client_open(&o->jobs, brokers, SF_SVC_JOBS, err);
    if (!rc && pthread_create(&o->thread, NULL, deliver, o))
        rc = sf_fail(err, SF_EINTERNAL, "cannot start the outbox thread");
    if (rc) {
        sf_rpc_client_free(o->results);
        sf_rpc_client_free(o->jobs);
        o->tail = NULL;
        while (o->head) { /* they stay in the journal */
            item *it = o->head;
            o->head = it->next;
            item_free(it);
        }
        node_journal_close(o->journal);
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
    queue_free(o);
    sf_rpc_client_free(o->results);
    sf_rpc_client_free(o->jobs);
    node_journal_close(o->journal);
    free(o);
}
