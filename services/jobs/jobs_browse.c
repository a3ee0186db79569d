/* What the portal shows of jobs and the test pack beyond the spec (docs/api.md): the recent jobs
 * of a node (or of the farm) with what each was asked to do, the test pack's branches and tags,
 * and its remote controls with their keys. */
#include "jobs.h"

#include "sf_pbjson.h"
#include "sf_remote.h"
#include "sf_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LIST_DEFAULT = 20, LIST_MAX = 100 };

/* A JobDetail and the memory it points into. */
typedef struct detail_view {
    jobs_view v;
    Stbfarm__JobDetail d;
    Stbfarm__Json cases, tags;
    char queued_time[40], queue_deadline[40];
    char *queued_on_text; /* rec's candidates, split in place */
    char *queued_on[JOBS_CANDIDATES_MAX];
} detail_view;

static void detail_of(detail_view *x, const jobs_record *rec, const char *base_url)
{
    jobs_view_of(&x->v, rec, base_url);
    Stbfarm__JobDetail *d = &x->d;
    stbfarm__job_detail__init(d);
    d->end_time = x->v.job.end_time;
    d->job_uid = x->v.job.job_uid;
    d->job_url = x->v.job.job_url;
    d->log_url = x->v.job.log_url;
    d->result_counts = x->v.job.result_counts;
    d->start_time = x->v.job.start_time;
    d->status = x->v.job.status;
    d->triage_url = x->v.job.triage_url;
    d->node_id = (char *)rec->node_id;
    d->user = (char *)rec->user;
    d->test_pack_sha = rec->sha ? rec->sha : (char *)"";
    d->test_pack_branch = rec->branch && *rec->branch ? rec->branch : NULL;
    d->category = rec->category && *rec->category ? rec->category : NULL;
    d->soak = rec->soak && *rec->soak ? rec->soak : (char *)"run once";
    d->shuffle = rec->shuffle != 0;
    d->remote_control = rec->remote_control && *rec->remote_control ? rec->remote_control : NULL;
    stbfarm__json__init(&x->cases);
    stbfarm__json__init(&x->tags);
    x->cases.text = rec->test_cases_json ? rec->test_cases_json : (char *)"[]";
    x->tags.text = rec->tags_json ? rec->tags_json : (char *)"{}";
    d->test_cases = &x->cases;
    d->tags = &x->tags;
    d->current_test_case = rec->running ? rec->current : NULL;
    d->stopping = rec->stopping != 0;
    d->node_id = rec->node_id[0] ? (char *)rec->node_id : NULL;
    x->queued_on_text = NULL;
    if (rec->queued_us) { /* run with "queue": true */
        d->has_priority = 1;
        d->priority = rec->priority;
        sf_time_format(rec->queued_us, x->queued_time, sizeof(x->queued_time), SF_TIME_ZULU);
        sf_time_format(rec->queue_deadline_us, x->queue_deadline, sizeof(x->queue_deadline),
                       SF_TIME_ZULU);
        d->queued_time = x->queued_time;
        d->queue_deadline = x->queue_deadline;
        d->not_started_reason = rec->not_started;
        if (rec->queued && rec->candidates && (x->queued_on_text = strdup(rec->candidates))) {
            char *save = NULL;
            for (char *tok = strtok_r(x->queued_on_text, " ", &save);
                 tok && d->n_queued_on < JOBS_CANDIDATES_MAX; tok = strtok_r(NULL, " ", &save))
                x->queued_on[d->n_queued_on++] = tok;
            d->queued_on = x->queued_on;
        }
    }
}

int jobs_reply_detail(sf_rpc_reply *reply, const jobs_record *rec, const char *base_url,
                      sf_error *err)
{
    detail_view x;
    detail_of(&x, rec, base_url);
    cJSON *json = sf_pb_to_json(&x.d.base);
    free(x.queued_on_text);
    char *text = json ? cJSON_PrintUnformatted(json) : NULL;
    cJSON_Delete(json);
    if (!text || sf_rpc_reply_take_raw(reply, "application/json", text, strlen(text))) {
        free(text);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    return 0;
}

int jobs_reply_details(sf_rpc_reply *reply, const jobs_record *recs, size_t n, const char *base_url,
                       sf_error *err)
{
    detail_view *views = calloc(n ? n : 1, sizeof(*views));
    Stbfarm__JobDetail **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
    int rc = 0;
    if (!views || !ptrs) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        detail_of(&views[i], &recs[i], base_url);
        ptrs[i] = &views[i].d;
    }
    Stbfarm__JobDetailList list = STBFARM__JOB_DETAIL_LIST__INIT;
    list.n_jobs = n;
    list.jobs = ptrs;
    if (sf_rpc_reply_msg(reply, &list.base))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
cleanup:
    for (size_t i = 0; views && i < n; i++)
        free(views[i].queued_on_text);
    free(views);
    free(ptrs);
    return rc;
}

int jobs_list(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    const Stbfarm__JobListRequest *q = (const Stbfarm__JobListRequest *)req;
    if (q->has_limit && (q->limit < 1 || q->limit > LIST_MAX))
        return sf_fail(err, SF_EINVAL, "limit must be 1 to %d, not %d", LIST_MAX, q->limit);
    if (q->node_id && (!*q->node_id || strlen(q->node_id) > 64 || strchr(q->node_id, ' ')))
        return sf_fail(err, SF_EINVAL, "invalid node_id '%.80s'", q->node_id);
    long limit = q->has_limit ? q->limit : LIST_DEFAULT;
    sf_redis *r = sf_worker_of(call)->redis;
    char **uids;
    size_t n;
    int rc = jobs_store_recent(r, q->node_id, limit, &uids, &n, err);
    if (rc)
        return rc;
    jobs_record *recs = calloc(n ? n : 1, sizeof(*recs));
    size_t got = 0;
    if (!recs) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        if (!jobs_uid_valid(uids[i]))
            continue;
        rc = jobs_get(r, uids[i], &recs[got], err);
        if (rc == SF_ENOTFOUND) { /* a job deleted by hand */
            rc = 0;
            continue;
        }
        if (!rc)
            got++;
    }
    if (!rc)
        rc = jobs_reply_details(reply, recs, got, call->base_url, err);
cleanup:
    for (size_t i = 0; recs && i < got; i++)
        jobs_record_clear(&recs[i]);
    free(recs);
    jobs_uids_free(uids, n);
    return rc;
}

/* ---- the test pack ---- */

int jobs_refs(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply, sf_error *err)
{
    (void)req;
    jobs_thread *t = jobs_thread_of(call);
    sf_refs refs;
    int rc = jobs_open_testpack(t, &jobs_state_of(call)->cfg, err);
    if (rc || (rc = sf_testpack_refs(t->tp, &refs, err)))
        return rc;
    Stbfarm__TestPackRefs out = STBFARM__TEST_PACK_REFS__INIT;
    out.default_branch = refs.default_branch[0] ? refs.default_branch : NULL;
    out.n_branches = refs.n_branches;
    out.branches = refs.branches;
    out.n_tags = refs.n_tags;
    out.tags = refs.tags;
    if (sf_rpc_reply_msg(reply, &out.base))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    sf_refs_clear(&refs);
    return rc;
}

#define REMOTES_DIR "config/remote-control/"
#define REMOTE_EXT  ".lircd.conf"

typedef struct names {
    char **v;
    size_t n;
    int oom;
} names;

static int add_remote(const char *path, const char *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    names *ns = arg;
    size_t dl = strlen(REMOTES_DIR), el = strlen(REMOTE_EXT), pl = strlen(path);
    if (strncmp(path, REMOTES_DIR, dl) || pl <= dl + el || strcmp(path + pl - el, REMOTE_EXT) ||
        memchr(path + dl, '/', pl - dl))
        return 0;
    char **grown = realloc(ns->v, (ns->n + 1) * sizeof(char *));
    if (!grown || !(grown[ns->n] = strndup(path + dl, pl - dl - el))) {
        if (grown)
            ns->v = grown;
        ns->oom = 1;
        return 1;
    }
    ns->v = grown;
    ns->n++;
    return 0;
}

static int resolve(sf_call *call, const char *rev, sf_revision *out, sf_error *err)
{
    jobs_thread *t = jobs_thread_of(call);
    int rc = jobs_open_testpack(t, &jobs_state_of(call)->cfg, err);
    return rc ? rc : sf_testpack_resolve(t->tp, rev, out, err);
}

int jobs_remote_controls(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                         sf_error *err)
{
    const Stbfarm__RemoteControlRequest *q = (const Stbfarm__RemoteControlRequest *)req;
    jobs_thread *t = jobs_thread_of(call);
    sf_revision rev;
    int rc = resolve(call, q->test_pack_revision, &rev, err);
    if (rc)
        return rc;
    names ns = {0};
    rc = sf_testpack_walk(t->tp, rev.sha, add_remote, &ns, err);
    if (ns.oom)
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    sf_remote def = {0};
    sf_error ignored = SF_ERROR_INIT;
    int has_default = !rc && sf_remote_open(t->tp, rev.sha, NULL, &def, &ignored) == 0;
    Stbfarm__RemoteControls out = STBFARM__REMOTE_CONTROLS__INIT;
    out.n_remote_controls = ns.n;
    out.remote_controls = ns.v;
    out.default_remote_control = has_default ? def.name : NULL;
    out.test_pack_sha = rev.sha;
    if (!rc && sf_rpc_reply_msg(reply, &out.base))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    if (has_default)
        sf_remote_close(&def);
    for (size_t i = 0; i < ns.n; i++)
        free(ns.v[i]);
    free(ns.v);
    return rc;
}

int jobs_remote_control(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                        sf_error *err)
{
    const Stbfarm__RemoteControlRequest *q = (const Stbfarm__RemoteControlRequest *)req;
    jobs_thread *t = jobs_thread_of(call);
    sf_revision rev;
    sf_remote remote = {0};
    int rc = resolve(call, q->test_pack_revision, &rev, err);
    if (rc || (rc = sf_remote_open(t->tp, rev.sha, q->remote_control, &remote, err)))
        return rc;
    Stbfarm__RemoteControl out = STBFARM__REMOTE_CONTROL__INIT;
    out.name = remote.name;
    out.lirc_name = (char *)remote.lirc_name;
    out.n_keys = remote.remote->n_keys;
    out.keys = remote.remote->keys;
    out.test_pack_sha = rev.sha;
    if (sf_rpc_reply_msg(reply, &out.base))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    sf_remote_close(&remote);
    return rc;
}
