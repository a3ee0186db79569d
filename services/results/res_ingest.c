/* Recording a test run: results.begin, put_chunk, status, finish and abort. Files are staged
 * in <store>/.staging/<upload_id>/, checked against the manifest, fsync'd, and renamed into
 * <store>/<result_id>/ in one step; only then does the record become visible. Each call may be
 * repeated (the node agent retries until answered): every one of them is idempotent. */
#include "res_fs.h"
#include "res_service.h"
#include "res_store.h"

#include "sf_caller.h"
#include "sf_crypto.h"
#include "sf_log.h"
#include "sf_metrics.h"
#include "sf_time.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHUNK       (8 << 20)
#define MAX_FILE_BYTES  (1LL << 40)
#define DONE_TTL_S      (7 * 86400) /* a finished upload answers repeats for a week */
#define FINISH_LEASE_MS 60000

/* The directory of a result under the store: "/n/a/1/t" -> parent "n/a/1", name "t". */
static void res_result_dir(const char *result_id, char *parent, size_t len, const char **name)
{
    const char *slash = strrchr(result_id, '/');
    snprintf(parent, len, "%.*s", (int)(slash - result_id - 1), result_id + 1);
    *name = slash + 1;
}

static int fs_fail(sf_error *err, int e, const char *what)
{
    if (e == -ENOSPC || e == -EDQUOT)
        return sf_fail(err, SF_ENOSPACE, "the artifact store is full (%s)", what);
    return sf_fail(err, SF_EINTERNAL, "%s: %s", what, strerror(-e));
}

static int check_upload_id(const char *id, sf_error *err)
{
    if (!res_upload_id_valid(id))
        return sf_fail(err, SF_EINVAL,
                       "invalid upload_id '%.80s': want 8 to 64 of A-Z a-z 0-9 "
                       "_ -",
                       id);
    return 0;
}

/* A node may touch only its own uploads (sf_caller.h); the farm any. */
static int check_owner(const sf_call *call, const res_upload *up, sf_error *err)
{
    char node[72];
    if (up->meta)
        snprintf(node, sizeof(node), "%s", up->meta->node_id);
    else
        sf_caller_node_of(up->result_id, node, sizeof(node));
    return sf_caller_speaks_for(call, node, err);
}

/* res_store_upload, for a caller that may touch the upload. */
static int caller_upload(sf_call *call, const char *upload_id, int64_t ttl_s, res_upload *up,
                         sf_error *err)
{
    int rc = res_store_upload(sf_worker_of(call)->redis, upload_id, ttl_s, up, err);
    if (!rc && (rc = check_owner(call, up, err)))
        res_upload_clear(up);
    return rc;
}

int res_begin(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__ResultsBeginRequest *q = (const Stbfarm__ResultsBeginRequest *)req;
    res_state *st = res_state_of(call);
    int rc = check_upload_id(q->upload_id, err);
    char job_node[72];
    if (rc || (rc = res_meta_check(q->meta, err)))
        return rc;
    sf_caller_node_of(q->meta->job_uid, job_node, sizeof(job_node));
    if ((rc = sf_caller_speaks_for(call, q->meta->node_id, err)) ||
        (rc = sf_caller_speaks_for(call, job_node, err)))
        return rc;
    res_upload up;
    if ((rc = res_store_begin(sf_worker_of(call)->redis, q->upload_id, q->meta,
                              st->cfg.upload_ttl_secs, &up, err)))
        return rc;
    if ((rc = check_owner(call, &up, err))) { /* another node's upload_id */
        res_upload_clear(&up);
        return rc;
    }
    if (!up.finished && mkdirat(st->staging_fd, q->upload_id, 0755) && errno != EEXIST)
        rc = fs_fail(err, -errno, "cannot make the staging directory");
    Stbfarm__ResultsBeginReply r = STBFARM__RESULTS_BEGIN_REPLY__INIT;
    r.result_id = up.result_id;
    r.finished = up.finished;
    if (!rc && sf_rpc_reply_msg(reply, &r.base))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    res_upload_clear(&up);
    return rc;
}

/* The open upload's staging directory; SF_ECONFLICT when the upload is already finished. */
static int open_staging(sf_call *call, const char *upload_id, res_upload *up, int *dfd,
                        sf_error *err)
{
    res_state *st = res_state_of(call);
    int rc = check_upload_id(upload_id, err);
    if (rc || (rc = caller_upload(call, upload_id, st->cfg.upload_ttl_secs, up, err)))
        return rc;
    if (up->finished) {
        rc = sf_fail(err, SF_ECONFLICT, "upload '%s' is finished: it is result %s", upload_id,
                     up->result_id);
    } else {
        int e = res_fs_open_dir(st->staging_fd, upload_id, 1, dfd);
        if (e)
            rc = fs_fail(err, e, "cannot open the staging directory");
    }
    if (rc)
        res_upload_clear(up);
    return rc;
}

int res_put_chunk(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__ResultsPutChunkRequest *q = (const Stbfarm__ResultsPutChunkRequest *)req;
    if (!res_artifact_path_valid(q->path))
        return sf_fail(err, SF_EINVAL, "invalid artifact path '%.200s'", q->path);
    if (q->offset < 0 || q->data.len > MAX_CHUNK)
        return sf_fail(err, q->offset < 0 ? SF_EINVAL : SF_ETOOLARGE,
                       "a chunk has an offset >= 0 and at most %d bytes", MAX_CHUNK);
    if (q->offset + (int64_t)q->data.len > MAX_FILE_BYTES)
        return sf_fail(err, SF_ETOOLARGE, "artifact '%.200s' would exceed %lld bytes", q->path,
                       MAX_FILE_BYTES);
    res_upload up;
    int dfd = -1, fd = -1;
    int rc = open_staging(call, q->upload_id, &up, &dfd, err);
    if (rc)
        return rc;
    struct stat sb;
    int e = res_fs_open_file(dfd, q->path, O_WRONLY | O_CREAT, &fd);
    if (e) {
        rc = e == -ENOENT ? sf_fail(err, SF_ECONFLICT,
                                    "artifact path '%.200s' collides with "
                                    "another artifact",
                                    q->path)
                          : fs_fail(err, e, "cannot stage the artifact");
        goto cleanup;
    }
    if (fstat(fd, &sb)) {
        rc = fs_fail(err, -errno, "cannot stat the staged artifact");
        goto cleanup;
    }
    if (q->offset > sb.st_size) {
        rc = sf_fail(err, SF_ERANGE, "offset %lld is beyond the %lld bytes staged of '%.200s'",
                     (long long)q->offset, (long long)sb.st_size, q->path);
        goto cleanup;
    }
    for (size_t done = 0; done < q->data.len;) {
        ssize_t n =
            pwrite(fd, q->data.data + done, q->data.len - done, (off_t)(q->offset + (int64_t)done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = fs_fail(err, -errno, "cannot write the artifact");
            goto cleanup;
        }
        done += (size_t)n;
    }
    if (fstat(fd, &sb)) {
        rc = fs_fail(err, -errno, "cannot stat the staged artifact");
        goto cleanup;
    }
    Stbfarm__ResultsPutChunkReply r = STBFARM__RESULTS_PUT_CHUNK_REPLY__INIT;
    r.size = sb.st_size;
    if (sf_rpc_reply_msg(reply, &r.base))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
cleanup:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    res_upload_clear(&up);
    return rc;
}

typedef struct staged_list {
    size_t n, cap;
    Stbfarm__StagedFile *files;
} staged_list;

static int add_staged(const char *path, int64_t size, void *arg)
{
    staged_list *l = arg;
    if (size < 0)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        Stbfarm__StagedFile *f = realloc(l->files, cap * sizeof(*f));
        if (!f)
            return -ENOMEM;
        l->files = f;
        l->cap = cap;
    }
    Stbfarm__StagedFile *f = &l->files[l->n];
    stbfarm__staged_file__init(f);
    if (!(f->path = strdup(path)))
        return -ENOMEM;
    f->size = size;
    l->n++;
    return 0;
}

int res_status(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__ResultsStatusRequest *q = (const Stbfarm__ResultsStatusRequest *)req;
    res_upload up;
    int dfd = -1, rc = check_upload_id(q->upload_id, err);
    if (rc || (rc = caller_upload(call, q->upload_id, 0, &up, err)))
        return rc;
    staged_list l = {0};
    Stbfarm__StagedFile **ptrs = NULL;
    if (!up.finished) {
        int e = res_fs_open_dir(res_state_of(call)->staging_fd, q->upload_id, 1, &dfd);
        if (!e)
            e = res_fs_walk(dfd, add_staged, &l);
        if (e)
            rc = fs_fail(err, e, "cannot list the staged files");
    }
    if (!rc && !(ptrs = malloc((l.n ? l.n : 1) * sizeof(*ptrs))))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    if (!rc) {
        for (size_t i = 0; i < l.n; i++)
            ptrs[i] = &l.files[i];
        Stbfarm__ResultsStatusReply r = STBFARM__RESULTS_STATUS_REPLY__INIT;
        r.result_id = up.result_id;
        r.finished = up.finished;
        r.n_files = l.n;
        r.files = ptrs;
        if (sf_rpc_reply_msg(reply, &r.base))
            rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    for (size_t i = 0; i < l.n; i++)
        free(l.files[i].path);
    free(l.files);
    free(ptrs);
    if (dfd >= 0)
        close(dfd);
    res_upload_clear(&up);
    return rc;
}

/* ---- finish ---- */

typedef struct finish_run {
    sf_call *call;
    const Stbfarm__ResultsFinishRequest *q;
    const char **paths; /* the manifest's paths, sorted, for prune */
    char lease[96];
    char owner[33];
} finish_run;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int in_manifest(const char *path, void *arg)
{
    const finish_run *f = arg;
    return bsearch(&path, f->paths, f->q->n_artifacts, sizeof(*f->paths), cmp_str) != NULL;
}

/* Every manifest entry is in dir with its size and md5. The lease is renewed after each file,
 * since a long video takes a while to read. */
static int verify(finish_run *f, int dir, sf_error *err)
{
    sf_redis *r = sf_worker_of(f->call)->redis;
    for (size_t i = 0; i < f->q->n_artifacts; i++) {
        const Stbfarm__ManifestEntry *e = f->q->artifacts[i];
        int fd, got = 0;
        int rc = res_fs_open_file(dir, e->path, O_RDONLY, &fd);
        if (rc == -ENOENT)
            return sf_fail(err, SF_ECONFLICT, "artifact '%.200s' was not uploaded", e->path);
        if (rc)
            return fs_fail(err, rc, "cannot read a staged artifact");
        char md5[33];
        uint64_t size;
        rc = sf_md5_fd_hex(fd, md5, &size);
        close(fd);
        if (rc)
            return fs_fail(err, -errno, "cannot read a staged artifact");
        if (size != (uint64_t)e->size)
            return sf_fail(err, SF_ECONFLICT, "artifact '%.200s': %llu of %lld bytes uploaded",
                           e->path, (unsigned long long)size, (long long)e->size);
        if (strcmp(md5, e->md5))
            return sf_fail(err, SF_ECONFLICT,
                           "artifact '%.200s': the upload's md5 is %s, the "
                           "manifest's %s",
                           e->path, md5, e->md5);
        if ((rc = res_store_lease(r, f->lease, f->owner, FINISH_LEASE_MS, &got, err)))
            return rc;
    }
    return 0;
}

/* Move the checked, fsync'd files from the staging directory to <store>/<result_id>/ in one
 * rename. Retried once when the retention sweep removed the (empty) parent in between. */
static int move_into_store(finish_run *f, int dir, const char *parent, const char *name,
                           sf_error *err)
{
    res_state *st = res_state_of(f->call);
    int e = res_fs_prune(dir, in_manifest, f);
    if (e || (e = res_fs_sync_tree(dir)))
        return fs_fail(err, e, "cannot make the artifacts durable");
    for (int attempt = 0;; attempt++) {
        int pfd;
        if ((e = res_fs_open_dir(st->root_fd, parent, 1, &pfd)))
            return fs_fail(err, e, "cannot make the result's directory");
        e = 0;
        if (renameat(st->staging_fd, f->q->upload_id, pfd, name) || fsync(pfd) ||
            fsync(st->staging_fd))
            e = -errno;
        close(pfd);
        if (!e)
            return 0;
        if (e != -ENOENT || attempt == 1)
            return fs_fail(err, e, "cannot move the artifacts into the store");
    }
}

/* Put the upload's files in place, or find them there from an earlier attempt that stopped
 * before its commit. */
static int place_files(finish_run *f, const res_upload *up, sf_error *err)
{
    res_state *st = res_state_of(f->call);
    const char *upload_id = f->q->upload_id, *name;
    char parent[RES_ID_MAX];
    int dir = -1, rc = 0, e;
    if (f->q->n_artifacts == 0) { /* nothing to keep, and no directory for the result */
        e = res_fs_remove_tree(st->staging_fd, upload_id);
        return e ? fs_fail(err, e, "cannot remove the staging directory") : 0;
    }
    res_result_dir(up->result_id, parent, sizeof(parent), &name);
    if (!res_fs_open_dir(st->root_fd, up->result_id + 1, 0, &dir)) {
        if (!(rc = verify(f, dir, err)) && (e = res_fs_remove_tree(st->staging_fd, upload_id)))
            rc = fs_fail(err, e, "cannot remove the staging directory");
    } else if ((e = res_fs_open_dir(st->staging_fd, upload_id, 0, &dir))) {
        rc = e == -ENOENT ? sf_fail(err, SF_ECONFLICT, "artifact '%.200s' was not uploaded",
                                    f->q->artifacts[0]->path)
                          : fs_fail(err, e, "cannot open the staging directory");
    } else if (!(rc = verify(f, dir, err))) {
        rc = move_into_store(f, dir, parent, name, err);
    }
    if (dir >= 0)
        close(dir);
    return rc;
}

/* Wait (until the caller's deadline) for the finish lease of this upload: a repeat of a finish
 * that is still running waits for it and then answers as it did. */
static int take_lease(finish_run *f, sf_error *err)
{
    sf_redis *r = sf_worker_of(f->call)->redis;
    for (;;) {
        int got = 0;
        int rc = res_store_lease(r, f->lease, f->owner, FINISH_LEASE_MS, &got, err);
        if (rc || got)
            return rc;
        if (sf_rpc_remaining_ms(f->call) < 200)
            return sf_fail(err, SF_EUNAVAIL,
                           "a finish of upload '%s' is already running; "
                           "retry",
                           f->q->upload_id);
        struct timespec ts = {0, 100 * 1000000};
        nanosleep(&ts, NULL);
    }
}

/* A result this replica committed, and its artifacts' bytes. */
static void count_commit(const Stbfarm__ResultsFinishRequest *q)
{
    sf_metrics *m = sf_metrics_process();
    int64_t bytes = 0;
    for (size_t i = 0; i < q->n_artifacts; i++)
        bytes += q->artifacts[i]->size;
    sf_metric_inc(sf_metric_get(sf_metrics_counter(m, "stbfarm_results_committed_total",
                                                   "Test results this process committed, by "
                                                   "outcome (pass, fail, error)",
                                                   "result"),
                                SF_LABELS(q->result)));
    sf_metric_add(sf_metric_get(sf_metrics_counter(m, "stbfarm_results_artifact_bytes_total",
                                                   "Bytes of the artifacts of the results this "
                                                   "process committed",
                                                   NULL),
                                NULL),
                  (double)bytes);
}

int res_finish(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__ResultsFinishRequest *q = (const Stbfarm__ResultsFinishRequest *)req;
    sf_redis *r = sf_worker_of(call)->redis;
    finish_run f = {call, q, NULL, {0}, {0}};
    res_upload up = {0};
    int rc = check_upload_id(q->upload_id, err), leased = 0;
    if (rc)
        return rc;
    snprintf(f.lease, sizeof(f.lease), "finish:%s", q->upload_id);
    sf_random_hex(16, f.owner);
    if ((rc = take_lease(&f, err)))
        return rc;
    leased = 1;
    char result_id[RES_ID_MAX];
    Stbfarm__ResultRecord *stored = NULL; /* the record an earlier finish committed */
    Stbfarm__ResultsFinishReply out = STBFARM__RESULTS_FINISH_REPLY__INIT;
    if ((rc = caller_upload(call, q->upload_id, res_state_of(call)->cfg.upload_ttl_secs, &up, err)))
        goto cleanup;
    snprintf(result_id, sizeof(result_id), "%s", up.result_id);
    if (up.finished) {
        /* the first finish stands, whoever sent it: say what it recorded (deleted since: unsaid) */
        sf_error gone = SF_ERROR_INIT;
        if (res_store_get(r, result_id, &stored, NULL, &gone) == 0)
            out.result = stored->result;
    } else {
        if (!up.meta) {
            rc = sf_fail(err, SF_EINTERNAL, "upload '%s' has no record", q->upload_id);
            goto cleanup;
        }
        if ((rc = res_finish_check(up.meta, q, err)))
            goto cleanup;
        if (!(f.paths = malloc((q->n_artifacts ? q->n_artifacts : 1) * sizeof(*f.paths)))) {
            rc = sf_fail(err, SF_EINTERNAL, "out of memory");
            goto cleanup;
        }
        for (size_t i = 0; i < q->n_artifacts; i++)
            f.paths[i] = q->artifacts[i]->path;
        qsort(f.paths, q->n_artifacts, sizeof(*f.paths), cmp_str);
        if ((rc = place_files(&f, &up, err)) ||
            (rc = res_store_commit(r, q->upload_id, up.meta, q, DONE_TTL_S, result_id, err)))
            goto cleanup;
        sf_info("result %s recorded (%zu artifacts)", result_id, q->n_artifacts);
        count_commit(q);
        out.result = q->result;
    }
    out.result_id = result_id;
    if (sf_rpc_reply_msg(reply, &out.base))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
cleanup:
    if (leased) {
        sf_error ignored = SF_ERROR_INIT;
        res_store_release(r, f.lease, f.owner, &ignored);
    }
    free(f.paths);
    if (stored)
        stbfarm__result_record__free_unpacked(stored, NULL);
    res_upload_clear(&up);
    return rc;
}

int res_abort(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__ResultsAbortRequest *q = (const Stbfarm__ResultsAbortRequest *)req;
    int rc = check_upload_id(q->upload_id, err);
    if (rc || (rc = res_store_abort(sf_worker_of(call)->redis, q->upload_id, err)))
        return rc;
    int e = res_fs_remove_tree(res_state_of(call)->staging_fd, q->upload_id);
    if (e)
        return fs_fail(err, e, "cannot remove the staging directory");
    sf_rpc_reply_status(reply, 204);
    return 0;
}
