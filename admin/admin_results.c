/* stbfarm-admin result push / load: record test runs by hand, for operators, tests and the
 * benchmark.
 *
 * push sends one result through the real ingest protocol (results.begin, put_chunk, finish via
 * the broker), exactly as a node agent does, with the files of a directory as its artifacts.
 * load writes many results without artifacts straight into Redis through the results store,
 * for filling a farm quickly (bench/results.sh). */
#include "admin_results.h"

#include "res_fs.h"
#include "res_names.h"
#include "res_store.h"
#include "sf_buf.h"
#include "sf_crypto.h"
#include "sf_pbjson.h"
#include "sf_rpc.h"
#include "sf_tags.h"
#include "sf_time.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { RPC_TIMEOUT_MS = 60000, ATTEMPTS = 20 };

/* A result as the JSON file gives it (the fields of GET /api/v2/results/<id>, plus node_id),
 * as the messages of the ingest protocol. Strings point into the cJSON object; the tags are the
 * record's own (record_clear). */
typedef struct record {
    Stbfarm__ResultMeta meta;
    Stbfarm__ResultsFinishRequest fin;
    sf_tags tags;
} record;

static void record_clear(record *r)
{
    sf_tags_clear(&r->tags);
}

static const char *str_field(const cJSON *j, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int time_field(const cJSON *j, const char *name, int64_t *us, sf_error *err)
{
    const char *t = str_field(j, name);
    if (!t || sf_time_parse(t, us))
        return sf_fail(err, SF_EINVAL, "%s must be an ISO 8601 time with a zone", name);
    return 0;
}

static int record_from_json(const cJSON *j, record *r, sf_error *err)
{
    memset(r, 0, sizeof(*r));
    stbfarm__result_meta__init(&r->meta);
    stbfarm__results_finish_request__init(&r->fin);
    Stbfarm__ResultMeta *m = &r->meta;
    static const char *const required[] = {"job_uid",       "node_id",  "test_case",
                                           "test_pack_sha", "username", "result"};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (!str_field(j, required[i]))
            return sf_fail(err, SF_EINVAL, "%s must be a string", required[i]);
    }
    m->job_uid = (char *)str_field(j, "job_uid");
    m->node_id = (char *)str_field(j, "node_id");
    m->test_case = (char *)str_field(j, "test_case");
    m->test_pack_sha = (char *)str_field(j, "test_pack_sha");
    m->test_pack_branch = (char *)str_field(j, "test_pack_branch");
    m->username = (char *)str_field(j, "username");
    m->job_category =
        (char *)(str_field(j, "job_category") ? str_field(j, "job_category") : "default");
    r->fin.result = (char *)str_field(j, "result");
    r->fin.failure_reason = (char *)str_field(j, "failure_reason");
    r->fin.traceback = (char *)str_field(j, "traceback");
    int rc = time_field(j, "start_time", &m->start_time_us, err);
    if (rc || (rc = time_field(j, "end_time", &r->fin.end_time_us, err)))
        return rc;
    if ((rc = sf_tags_from_json(&r->tags, &stbfarm__result_meta__tags_entry__descriptor,
                                cJSON_GetObjectItemCaseSensitive(j, "tags"), err)))
        return rc;
    m->n_tags = r->tags.n;
    m->tags = (Stbfarm__ResultMeta__TagsEntry **)r->tags.entries;
    return res_meta_check(m, err);
}

static int read_file(const char *path, char **out, size_t *len, sf_error *err)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return sf_fail(err, SF_EINVAL, "cannot open %s: %s", path, strerror(errno));
    sf_buf b = SF_BUF_INIT;
    size_t got;
    do {
        if (sf_buf_reserve(&b, 65536)) {
            fclose(f);
            sf_buf_free(&b);
            return sf_fail(err, SF_EINTERNAL, "out of memory");
        }
        got = fread(b.data + b.len, 1, 65536, f);
        b.len += got;
    } while (got > 0);
    b.data[b.len] = '\0'; /* reserve kept room for it */
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        sf_buf_free(&b);
        return sf_fail(err, SF_EINVAL, "cannot read %s", path);
    }
    *out = sf_buf_take(&b, len);
    return *out ? 0 : sf_fail(err, SF_EINTERNAL, "out of memory");
}

/* ---- push ---- */

/* The regular files of the artifacts directory, as the manifest. Anything else (a link the test
 * left, a fifo) is not an artifact: a node agent never follows links out of a test's directory. */
typedef struct manifest {
    int dirfd;
    size_t n, cap;
    Stbfarm__ManifestEntry *entries;
    Stbfarm__ManifestEntry **ptrs;
} manifest;

static int add_file(const char *path, int64_t size, void *arg)
{
    manifest *m = arg;
    if (size < 0) {
        fprintf(stderr, "stbfarm-admin: skipping %s: not a regular file\n", path);
        return 0;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        Stbfarm__ManifestEntry *e = realloc(m->entries, cap * sizeof(*e));
        if (!e)
            return -ENOMEM;
        m->entries = e;
        m->cap = cap;
    }
    Stbfarm__ManifestEntry *e = &m->entries[m->n];
    stbfarm__manifest_entry__init(e);
    int fd;
    int rc = res_fs_open_file(m->dirfd, path, O_RDONLY, &fd);
    if (rc)
        return rc;
    char md5[33];
    uint64_t got;
    rc = sf_md5_fd_hex(fd, md5, &got) ? -EIO : 0;
    close(fd);
    if (rc || !(e->path = strdup(path)) || !(e->md5 = strdup(md5)))
        return rc ? rc : -ENOMEM;
    e->size = (int64_t)got;
    m->n++;
    return 0;
}

static void manifest_clear(manifest *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->entries[i].path);
        free(m->entries[i].md5);
    }
    free(m->entries);
    free(m->ptrs);
    if (m->dirfd >= 0)
        close(m->dirfd);
}

/* Call a method, retrying while the service is unavailable, as a node agent does. */
static int call(sf_rpc_client *c, const char *method, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *reply, sf_rpc_result *res, sf_error *err)
{
    sf_rpc_opts o = SF_RPC_OPTS_INIT;
    o.timeout_ms = RPC_TIMEOUT_MS;
    int rc = SF_EUNAVAIL;
    for (int attempt = 0; attempt < ATTEMPTS && rc == SF_EUNAVAIL; attempt++) {
        if (attempt) {
            sf_rpc_result_free(res);
            sleep(1);
        }
        rc = sf_rpc_call(c, method, req, reply, &o, res, err);
    }
    return rc;
}

static int put_file(sf_rpc_client *c, const manifest *m, const char *upload_id,
                    const Stbfarm__ManifestEntry *e, long chunk, long *budget, sf_error *err)
{
    int fd;
    int rc = res_fs_open_file(m->dirfd, e->path, O_RDONLY, &fd);
    if (rc)
        return sf_fail(err, SF_EINVAL, "cannot open %s: %s", e->path, strerror(-rc));
    uint8_t *buf = malloc((size_t)chunk);
    if (!buf) {
        close(fd);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    int64_t offset = 0;
    do { /* an empty file still takes one (empty) chunk, which creates it */
        if (*budget == 0)
            break;
        ssize_t n = pread(fd, buf, (size_t)chunk, offset);
        if (n < 0) {
            rc = sf_fail(err, SF_EINVAL, "cannot read %s: %s", e->path, strerror(errno));
            break;
        }
        Stbfarm__ResultsPutChunkRequest q = STBFARM__RESULTS_PUT_CHUNK_REQUEST__INIT;
        q.upload_id = (char *)upload_id;
        q.path = e->path;
        q.offset = offset;
        q.data.data = buf;
        q.data.len = (size_t)n;
        sf_rpc_result res;
        rc = call(c, "results.put_chunk", &q.base, &stbfarm__results_put_chunk_reply__descriptor,
                  &res, err);
        sf_rpc_result_free(&res);
        offset += n;
        if (*budget > 0)
            (*budget)--;
    } while (!rc && offset < e->size);
    free(buf);
    close(fd);
    return rc;
}

int admin_result_push(const char *brokers, const char *json_path, const char *artifacts,
                      const admin_push_opts *o, sf_error *err)
{
    char *text = NULL, upload_id[65];
    size_t len;
    cJSON *j = NULL;
    record r = {0};
    manifest m = {.dirfd = -1};
    sf_rpc_client *c = NULL;
    sf_rpc_result res = {0};
    long budget = o->stop_after_chunks;
    int rc = read_file(json_path, &text, &len, err);
    if (rc || (rc = sf_json_parse_object(text, len, &j, err)) ||
        (rc = record_from_json(j, &r, err)))
        goto cleanup;
    if (artifacts) {
        m.dirfd = open(artifacts, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int e = m.dirfd < 0 ? -errno : res_fs_walk(m.dirfd, add_file, &m);
        if (e) {
            rc = sf_fail(err, SF_EINVAL, "cannot read the artifacts in %s: %s", artifacts,
                         strerror(-e));
            goto cleanup;
        }
    }
    if (!(m.ptrs = calloc(m.n ? m.n : 1, sizeof(*m.ptrs)))) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < m.n; i++)
        m.ptrs[i] = &m.entries[i];
    if (o->upload_id)
        snprintf(upload_id, sizeof(upload_id), "%s", o->upload_id);
    else
        sf_random_hex(16, upload_id);
    if ((rc = sf_rpc_client_open(&c, brokers, SF_SVC_RESULTS, err)))
        goto cleanup;

    Stbfarm__ResultsBeginRequest b = STBFARM__RESULTS_BEGIN_REQUEST__INIT;
    b.upload_id = upload_id;
    b.meta = &r.meta;
    if ((rc = call(c, "results.begin", &b.base, &stbfarm__results_begin_reply__descriptor, &res,
                   err)))
        goto cleanup;
    const Stbfarm__ResultsBeginReply *br = (const Stbfarm__ResultsBeginReply *)res.msg;
    printf("%s\n", br->result_id);
    fflush(stdout);
    if (br->finished) /* recorded already (this is a retry): nothing more to send */
        goto cleanup;
    sf_rpc_result_free(&res);
    for (size_t i = 0; !o->finish_only && i < m.n && !rc; i++)
        rc = put_file(c, &m, upload_id, &m.entries[i], o->chunk_bytes, &budget, err);
    if (rc || (o->stop_after_chunks >= 0 && !o->finish_only))
        goto cleanup;
    r.fin.upload_id = upload_id;
    r.fin.n_artifacts = m.n;
    r.fin.artifacts = m.ptrs;
    rc = call(c, "results.finish", &r.fin.base, &stbfarm__results_finish_reply__descriptor, &res,
              err);
cleanup:
    sf_rpc_result_free(&res);
    sf_rpc_client_free(c);
    manifest_clear(&m);
    record_clear(&r);
    cJSON_Delete(j);
    free(text);
    return rc;
}

/* ---- load ---- */

int admin_result_load(sf_redis *redis, const char *jsonl_path, sf_error *err)
{
    char *text = NULL;
    size_t len, count = 0, line_no = 0;
    int rc = read_file(jsonl_path, &text, &len, err);
    for (char *line = text, *next; !rc && line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        line_no++;
        if (!*line)
            continue;
        cJSON *j = NULL;
        record r = {0};
        res_upload up = {0};
        char upload_id[33], result_id[RES_ID_MAX];
        sf_random_hex(16, upload_id);
        if (!(rc = sf_json_parse_object(line, strlen(line), &j, err)) &&
            !(rc = record_from_json(j, &r, err)) &&
            !(rc = res_finish_check(&r.meta, &r.fin, err)) &&
            !(rc = res_store_begin(redis, upload_id, &r.meta, 3600, &up, err)))
            rc = res_store_commit(redis, upload_id, &r.meta, &r.fin, 60, result_id, err);
        if (rc) {
            char msg[SF_ERROR_MSG_MAX];
            snprintf(msg, sizeof(msg), "%s", err->msg);
            sf_fail(err, rc, "line %zu: %s", line_no, msg);
        } else {
            count++;
        }
        res_upload_clear(&up);
        record_clear(&r);
        cJSON_Delete(j);
    }
    free(text);
    if (!rc)
        printf("%zu\n", count);
    return rc;
}
