/* The endpoints of the spec's "Test results" section: the list (JSON, CSV, JUnit XML) from the
 * in-memory index, one result and its artifacts from Redis and the artifact store. */
#include "res_export.h"
#include "res_fs.h"
#include "res_service.h"
#include "res_store.h"

#include "sf_crypto.h"
#include "sf_pbjson.h"
#include "sf_tags.h"
#include "sf_time.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEXT_PLAIN "text/plain; charset=utf-8"

/* Parse the parameters of a list request, bring the index up to date and run the query. */
static int run_query(sf_call *call, const Stbfarm__ResultsListRequest *q, const sf_tz **tz,
                     res_hits *hits, sf_error *err)
{
    res_state *st = res_state_of(call);
    res_sort sort;
    res_filter *f = NULL;
    if (q->has_limit && (q->limit < 1 || q->limit > RES_LIST_LIMIT))
        return sf_fail(err, SF_EINVAL, "limit must be 1 to %d, not %d", RES_LIST_LIMIT, q->limit);
    int rc = res_sort_parse(q->sort, &sort, err);
    if (rc || (rc = sf_tz_cache_get(st->tzs, q->tz && *q->tz ? q->tz : "UTC", tz, err)) ||
        (rc = res_filter_parse(q->filter, &f, err)))
        return rc;
    res_filter_resolve(f, *tz);
    if (!(rc = res_index_sync(st->index, sf_worker_of(call)->redis, err)))
        rc = res_index_query(st->index, f, &sort, q->has_limit ? (size_t)q->limit : RES_LIST_LIMIT,
                             hits, err);
    res_filter_free(f);
    return rc;
}

/* The text one element of the list points at. */
typedef struct summary_text {
    char result_url[RES_URL_MAX], triage_url[RES_URL_MAX], start[40], end[40];
} summary_text;

/* The spec's fields of a list element, the same in ResultSummary and ResultRow. */
#define SET_SUMMARY(s, t, x)                                                                       \
    do {                                                                                           \
        (s)->result_id = (char *)(x)->id;                                                          \
        (s)->job_uid = (char *)(x)->job_uid;                                                       \
        (s)->result_url = (t)->result_url;                                                         \
        (s)->triage_url = (t)->triage_url;                                                         \
        (s)->start_time = (t)->start;                                                              \
        (s)->end_time = (t)->end;                                                                  \
        (s)->test_pack_sha = (char *)(x)->test_pack_sha;                                           \
        (s)->test_case = (char *)(x)->test_case;                                                   \
        (s)->result = (char *)res_outcome_name((x)->outcome);                                      \
        (s)->failure_reason = (char *)(x)->failure_reason;                                         \
    } while (0)

static void format_text(sf_call *call, const res_hit *x, summary_text *t)
{
    res_result_url(t->result_url, RES_URL_MAX, call->base_url, x->id);
    res_triage_url(t->triage_url, RES_URL_MAX, call->base_url, x->id);
    res_format_time(x->start_us, sf_tz_utc(), t->start, sizeof(t->start));
    res_format_time(x->end_us, sf_tz_utc(), t->end, sizeof(t->end));
}

/* details=true: rows with the portal's columns, answered as the bare JSON array (the route
 * renders ResultList; this is another message, so the service renders it itself). */
static int list_rows(sf_call *call, const res_hits *h, summary_text *text, sf_rpc_reply *reply,
                     sf_error *err)
{
    Stbfarm__ResultRow *rows = calloc(h->n ? h->n : 1, sizeof(*rows));
    Stbfarm__ResultRow **ptrs = calloc(h->n ? h->n : 1, sizeof(*ptrs));
    int rc = 0;
    char *json = NULL;
    if (!rows || !ptrs) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < h->n; i++) {
        const res_hit *x = &h->hits[i];
        stbfarm__result_row__init(&rows[i]);
        format_text(call, x, &text[i]);
        SET_SUMMARY(&rows[i], &text[i], x);
        rows[i].job_category = (char *)x->job_category;
        rows[i].node_id = (char *)x->node_id;
        rows[i].username = (char *)x->username;
        ptrs[i] = &rows[i];
    }
    Stbfarm__ResultRowList list = STBFARM__RESULT_ROW_LIST__INIT;
    list.n_results = h->n;
    list.results = ptrs;
    cJSON *obj = sf_pb_to_json(&list.base);
    cJSON *arr = obj ? cJSON_GetObjectItemCaseSensitive(obj, "results") : NULL;
    json = arr ? cJSON_PrintUnformatted(arr) : NULL;
    cJSON_Delete(obj);
    if (!json || sf_rpc_reply_take_raw(reply, "application/json", json, strlen(json))) {
        free(json);
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    }
cleanup:
    free(rows);
    free(ptrs);
    return rc;
}

int res_list(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__ResultsListRequest *q = (const Stbfarm__ResultsListRequest *)req;
    const sf_tz *tz;
    res_hits h;
    int rc = run_query(call, q, &tz, &h, err);
    if (rc)
        return rc;
    summary_text *text = calloc(h.n ? h.n : 1, sizeof(*text));
    Stbfarm__ResultSummary *v = NULL, **ptrs = NULL;
    if (!text) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    if (q->has_details && q->details) {
        rc = list_rows(call, &h, text, reply, err);
        goto cleanup;
    }
    v = calloc(h.n ? h.n : 1, sizeof(*v));
    ptrs = calloc(h.n ? h.n : 1, sizeof(*ptrs));
    if (!v || !ptrs) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < h.n; i++) {
        const res_hit *x = &h.hits[i];
        stbfarm__result_summary__init(&v[i]);
        format_text(call, x, &text[i]);
        SET_SUMMARY(&v[i], &text[i], x);
        ptrs[i] = &v[i];
    }
    Stbfarm__ResultList list = STBFARM__RESULT_LIST__INIT;
    list.n_results = h.n;
    list.results = ptrs;
    if (sf_rpc_reply_msg(reply, &list.base))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
cleanup:
    free(text);
    free(v);
    free(ptrs);
    res_hits_clear(&h);
    return rc;
}

static void export_opts(sf_call *call, const Stbfarm__ResultsListRequest *q, const sf_tz *tz,
                        res_export_opts *o)
{
    o->base_url = call->base_url;
    o->tz = tz;
    o->include_tz = q->has_include_tz && q->include_tz;
    o->group_by_category = q->group_by && !strcmp(q->group_by, "category");
}

int res_list_csv(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__ResultsListRequest *q = (const Stbfarm__ResultsListRequest *)req;
    const sf_tz *tz;
    res_hits h;
    int rc = run_query(call, q, &tz, &h, err);
    if (rc)
        return rc;
    res_export_opts o;
    export_opts(call, q, tz, &o);
    char *csv;
    size_t len;
    if (res_export_csv(&h, &o, &csv, &len) ||
        sf_rpc_reply_take_raw(reply, "text/csv; charset=utf-8", csv, len))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    res_hits_clear(&h);
    return rc;
}

int res_list_xml(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__ResultsListRequest *q = (const Stbfarm__ResultsListRequest *)req;
    if (q->group_by && strcmp(q->group_by, "job") && strcmp(q->group_by, "category"))
        return sf_fail(err, SF_EINVAL, "invalid group_by '%.50s': use job or category",
                       q->group_by);
    const sf_tz *tz;
    res_hits h;
    int rc = run_query(call, q, &tz, &h, err);
    if (rc)
        return rc;
    char **ids = malloc((h.n ? h.n : 1) * sizeof(*ids));
    Stbfarm__ResultDetail **details = calloc(h.n ? h.n : 1, sizeof(*details));
    if (!ids || !details) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < h.n; i++)
        ids[i] = (char *)h.hits[i].id;
    if ((rc = res_store_details(sf_worker_of(call)->redis, ids, h.n, details, err)))
        goto cleanup;
    res_export_opts o;
    export_opts(call, q, tz, &o);
    char *xml;
    size_t len;
    if (res_export_junit(&h, details, &o, &xml, &len) ||
        sf_rpc_reply_take_raw(reply, "application/xml; charset=utf-8", xml, len))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
cleanup:
    for (size_t i = 0; details && i < h.n; i++) {
        if (details[i])
            stbfarm__result_detail__free_unpacked(details[i], NULL);
    }
    free(details);
    free(ids);
    res_hits_clear(&h);
    return rc;
}

/* ---- one result ---- */

/* The record and detail of a result. SF_ENOTFOUND for an id that cannot be one. */
static int load(sf_call *call, const char *result_id, Stbfarm__ResultRecord **rec,
                Stbfarm__ResultDetail **det, sf_error *err)
{
    if (!res_result_id_valid(result_id))
        return sf_fail(err, SF_ENOTFOUND, "unknown result_id '%.200s'", result_id);
    return res_store_get(sf_worker_of(call)->redis, result_id, rec, det, err);
}

static void release(Stbfarm__ResultRecord *rec, Stbfarm__ResultDetail *det)
{
    if (rec)
        stbfarm__result_record__free_unpacked(rec, NULL);
    if (det)
        stbfarm__result_detail__free_unpacked(det, NULL);
}

/* The artifacts map of the API: path -> {size, md5}. */
typedef struct artifact_map {
    size_t n;
    Stbfarm__ArtifactInfo *info;
    Stbfarm__Result__ArtifactsEntry *entries;
    Stbfarm__Result__ArtifactsEntry **ptrs;
} artifact_map;

/* Result.artifacts and ArtifactList.artifacts have the same shape; protoc-c makes them two
 * types, so the list borrows this one's entries through a cast (see res_artifacts). */
static int build_artifacts(const Stbfarm__ResultDetail *det, artifact_map *m)
{
    m->n = det->n_artifacts;
    m->info = calloc(m->n ? m->n : 1, sizeof(*m->info));
    m->entries = calloc(m->n ? m->n : 1, sizeof(*m->entries));
    m->ptrs = calloc(m->n ? m->n : 1, sizeof(*m->ptrs));
    if (!m->info || !m->entries || !m->ptrs)
        return SF_EINTERNAL;
    for (size_t i = 0; i < m->n; i++) {
        stbfarm__artifact_info__init(&m->info[i]);
        m->info[i].size = det->artifacts[i]->size;
        m->info[i].md5 = det->artifacts[i]->md5;
        stbfarm__result__artifacts_entry__init(&m->entries[i]);
        m->entries[i].key = det->artifacts[i]->path;
        m->entries[i].value = &m->info[i];
        m->ptrs[i] = &m->entries[i];
    }
    return 0;
}

static void artifact_map_clear(artifact_map *m)
{
    free(m->info);
    free(m->entries);
    free(m->ptrs);
}

int res_get(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__ResultGetRequest *q = (const Stbfarm__ResultGetRequest *)req;
    Stbfarm__ResultRecord *rec;
    Stbfarm__ResultDetail *det;
    int rc = load(call, q->result_id, &rec, &det, err);
    if (rc)
        return rc;
    const Stbfarm__ResultMeta *m = rec->meta;
    artifact_map am = {0};
    sf_tags tags = {0};
    if ((rc = sf_tags_copy(&tags, &stbfarm__result__tags_entry__descriptor,
                           (ProtobufCMessage *const *)m->tags, m->n_tags, err)))
        goto cleanup;
    if (build_artifacts(det, &am)) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    char rurl[RES_URL_MAX], turl[RES_URL_MAX], start[40], end[40];
    res_result_url(rurl, sizeof(rurl), call->base_url, q->result_id);
    res_triage_url(turl, sizeof(turl), call->base_url, q->result_id);
    res_format_time(m->start_time_us, sf_tz_utc(), start, sizeof(start));
    res_format_time(rec->end_time_us, sf_tz_utc(), end, sizeof(end));
    Stbfarm__Result r = STBFARM__RESULT__INIT;
    r.result_id = q->result_id;
    r.job_uid = m->job_uid;
    r.result_url = rurl;
    r.triage_url = turl;
    r.start_time = start;
    r.end_time = end;
    r.test_case = m->test_case;
    r.test_pack_branch = m->test_pack_branch;
    r.test_pack_sha = m->test_pack_sha;
    r.username = m->username;
    r.result = rec->result;
    r.failure_reason = rec->failure_reason;
    r.job_category = m->job_category;
    r.traceback = det->traceback;
    r.n_artifacts = am.n;
    r.artifacts = am.ptrs;
    r.n_tags = tags.n;
    r.tags = (Stbfarm__Result__TagsEntry **)tags.entries;
    r.node_id = m->node_id;
    if (sf_rpc_reply_msg(reply, &r.base))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
cleanup:
    artifact_map_clear(&am);
    sf_tags_clear(&tags);
    release(rec, det);
    return rc;
}

int res_artifacts(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__ResultGetRequest *q = (const Stbfarm__ResultGetRequest *)req;
    Stbfarm__ResultRecord *rec;
    Stbfarm__ResultDetail *det;
    int rc = load(call, q->result_id, &rec, &det, err);
    if (rc)
        return rc;
    artifact_map am = {0};
    if (build_artifacts(det, &am)) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    } else {
        _Static_assert(sizeof(Stbfarm__Result__ArtifactsEntry) ==
                           sizeof(Stbfarm__ArtifactList__ArtifactsEntry),
                       "the two map entry types differ");
        for (size_t i = 0; i < am.n; i++)
            am.entries[i].base.descriptor = &stbfarm__artifact_list__artifacts_entry__descriptor;
        Stbfarm__ArtifactList list = STBFARM__ARTIFACT_LIST__INIT;
        list.n_artifacts = am.n;
        list.artifacts = (Stbfarm__ArtifactList__ArtifactsEntry **)am.ptrs;
        if (sf_rpc_reply_msg(reply, &list.base))
            rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    artifact_map_clear(&am);
    release(rec, det);
    return rc;
}

static int cmp_entry_path(const void *key, const void *elem)
{
    return strcmp(key, (*(Stbfarm__ManifestEntry *const *)elem)->path);
}

/* The path (under the store) of a file of a result: it must be in the result's manifest and on
 * disk as a regular file reached without a link. *path holds PATH_MAX. */
static int artifact_path(sf_call *call, const char *result_id, const char *filename, char *path,
                         size_t len, struct stat *sb, sf_error *err)
{
    res_state *st = res_state_of(call);
    Stbfarm__ResultRecord *rec;
    Stbfarm__ResultDetail *det;
    int rc = load(call, result_id, &rec, &det, err);
    if (rc)
        return rc;
    /* the manifest is sorted by path when stored */
    if (!res_artifact_path_valid(filename) || !det->n_artifacts ||
        !bsearch(filename, det->artifacts, det->n_artifacts, sizeof(*det->artifacts),
                 cmp_entry_path)) {
        rc = sf_fail(err, SF_ENOTFOUND, "result %s has no artifact '%.200s'", result_id, filename);
    } else {
        char rel[RES_ID_MAX + RES_PATH_MAX + 2];
        int fd = -1;
        snprintf(rel, sizeof(rel), "%s/%s", result_id + 1, filename);
        if (res_fs_open_file(st->root_fd, rel, O_RDONLY, &fd) || fstat(fd, sb))
            rc = sf_fail(err, SF_ENOTFOUND, "the file of artifact '%.200s' is missing", filename);
        else
            snprintf(path, len, "%s/%s", st->root, rel);
        if (fd >= 0)
            close(fd);
    }
    release(rec, det);
    return rc;
}

/* Answer a file of a result. Artifacts are whatever a test wrote, so a browser must never run
 * them as part of the portal: the gateway adds nosniff, and the sandbox keeps HTML and SVG
 * in an origin of their own. */
static int reply_artifact(sf_call *call, const char *result_id, const char *filename,
                          sf_rpc_reply *reply, sf_error *err)
{
    char path[4096 + RES_ID_MAX + RES_PATH_MAX + 8];
    struct stat sb;
    int rc = artifact_path(call, result_id, filename, path, sizeof(path), &sb, err);
    if (rc)
        return rc;
    if (sf_rpc_reply_file(reply, path, res_content_type(filename)) ||
        sf_rpc_reply_header(reply, "Content-Security-Policy", "sandbox"))
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    return 0;
}

int res_artifact(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__ArtifactGetRequest *q = (const Stbfarm__ArtifactGetRequest *)req;
    return reply_artifact(call, q->result_id, q->filename, reply, err);
}

int res_screenshot(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__ResultGetRequest *q = (const Stbfarm__ResultGetRequest *)req;
    return reply_artifact(call, q->result_id, "screenshot.png", reply, err);
}

/* ---- stbt.log in another zone ---- */

/* The log converted to tz, made once into <store>/.cache/log/ and reused while it is newer than
 * the log. */
static int converted_log(res_state *st, const char *result_id, const char *src,
                         const struct stat *src_st, const sf_tz *tz, char *path, size_t len,
                         sf_error *err)
{
    char key[RES_ID_MAX + SF_TZ_NAME_MAX + 2], digest[65], name[80], tmp[112];
    snprintf(key, sizeof(key), "%s\n%s", result_id, sf_tz_name(tz));
    sf_sha256_hex(key, strlen(key), digest);
    snprintf(name, sizeof(name), "%.40s.log", digest);
    snprintf(path, len, "%s/" RES_CACHE_DIR "/%s", st->root, name);
    struct stat sb;
    if (!fstatat(st->cache_fd, name, &sb, AT_SYMLINK_NOFOLLOW) && S_ISREG(sb.st_mode) &&
        sb.st_mtime >= src_st->st_mtime)
        return 0;
    char rnd[17];
    sf_random_hex(8, rnd);
    snprintf(tmp, sizeof(tmp), "%s.%s.tmp", name, rnd);
    int ofd = openat(st->cache_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    FILE *in = fopen(src, "re"), *out = ofd >= 0 ? fdopen(ofd, "w") : NULL;
    int rc = 0;
    if (!in || !out || res_log_convert(in, out, tz) || fflush(out) ||
        renameat(st->cache_fd, tmp, st->cache_fd, name))
        rc = sf_fail(err, SF_EINTERNAL, "cannot convert the log: %s", strerror(errno));
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    else if (ofd >= 0)
        close(ofd);
    if (rc)
        unlinkat(st->cache_fd, tmp, 0);
    return rc;
}

int res_log(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__ResultGetRequest *q = (const Stbfarm__ResultGetRequest *)req;
    res_state *st = res_state_of(call);
    const sf_tz *tz;
    int rc = sf_tz_cache_get(st->tzs, q->tz && *q->tz ? q->tz : "UTC", &tz, err);
    if (rc)
        return rc;
    char src[4096 + RES_ID_MAX + RES_PATH_MAX + 8], conv[4096 + 128];
    struct stat sb;
    if ((rc = artifact_path(call, q->result_id, "stbt.log", src, sizeof(src), &sb, err)))
        return rc;
    /* the node writes the log in UTC, so UTC is the file itself */
    const char *path = src;
    if (tz != sf_tz_utc()) {
        if ((rc = converted_log(st, q->result_id, src, &sb, tz, conv, sizeof(conv), err)))
            return rc;
        path = conv;
    }
    if (sf_rpc_reply_file(reply, path, TEXT_PLAIN))
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    return 0;
}
