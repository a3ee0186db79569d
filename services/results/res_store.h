/* res_store.h - test results in Redis. The results service and the admin tool go through here,
 * so the key layout is written once:
 *
 *   sf:res:r:<result_id>          HASH    s: packed ResultRecord, d: packed ResultDetail
 *   sf:res:date                   ZSET    result_id -> start time (us): retention order
 *   sf:res:seq                    STRING  +1 for every commit and every deletion
 *   sf:res:live                   ZSET    result_id -> seq of its commit
 *   sf:res:dead                   ZSET    result_id -> seq of its deletion; the last
 *                                         RES_DEAD_WINDOW deletions only
 *   sf:res:floor                  STRING  the highest seq dropped from sf:res:dead
 *   sf:res:gone                   ZSET    result_id -> deletion time (us): those answer 410
 *   sf:res:purge                  SET     deleted results whose artifacts are still on disk
 *   sf:res:up:<upload_id>         HASH    result_id, state (open, done), meta (packed
 *                                         ResultMeta, while open); expires
 *   sf:res:pending:<result_id>    STRING  upload_id: an open upload holds this id; expires
 *   sf:res:lease:<name>           STRING  the owner of a lease (a finish, the sweep)
 *
 * Every change is one Lua script, so a reader sees a result entirely or not at all. The seq
 * numbers let each replica keep its in-memory index current (res_index.h): it asks for what
 * changed since the seq it has seen. */
#ifndef RES_STORE_H
#define RES_STORE_H

#include "res_names.h"
#include "results.pb-c.h"
#include "sf_redis.h"

#include <stdint.h>

#define RES_DEAD_WINDOW 100000 /* deletions replicas can catch up on without a reload */

/* An upload as begin left it. */
typedef struct res_upload {
    char result_id[RES_ID_MAX];
    int finished;
    Stbfarm__ResultMeta *meta; /* while open; free with res_upload_clear */
} res_upload;

void res_upload_clear(res_upload *u);

/* Open the upload upload_id for meta, or find it: a result id is allocated on the first call
 * (the base id of res_names.h, then _2, _3, ... when taken) and every later call answers the
 * same. An open upload expires ttl_s after its last begin or res_store_upload(extend). */
int res_store_begin(sf_redis *r, const char *upload_id, const Stbfarm__ResultMeta *meta,
                    int64_t ttl_s, res_upload *out, sf_error *err);

/* Read an upload, extending an open one's life by ttl_s when ttl_s > 0. SF_ENOTFOUND when
 * there is no such upload (never begun, aborted or expired). */
int res_store_upload(sf_redis *r, const char *upload_id, int64_t ttl_s, res_upload *out,
                     sf_error *err);

/* Make the upload's result visible: the record built from meta and fin (free text repaired to
 * UTF-8 and cut to its maximum; no reason or traceback for a pass), indexed, in one script. A
 * finished upload is left as it is and remembered for done_ttl_s. result_id receives the id
 * (RES_ID_MAX). SF_ENOTFOUND for an unknown upload. */
int res_store_commit(sf_redis *r, const char *upload_id, const Stbfarm__ResultMeta *meta,
                     const Stbfarm__ResultsFinishRequest *fin, int64_t done_ttl_s, char *result_id,
                     sf_error *err);

/* How many results are stored (committed and not deleted). */
int res_store_count(sf_redis *r, long long *n, sf_error *err);

/* Forget an open upload. 0 also when it does not exist; SF_ECONFLICT when it is finished. */
int res_store_abort(sf_redis *r, const char *upload_id, sf_error *err);

/* A result's record and (when detail is not NULL) its detail; free each with
 * protobuf_c_message_free_unpacked. SF_EGONE when it was deleted, SF_ENOTFOUND when it never
 * existed (or is still being uploaded). */
int res_store_get(sf_redis *r, const char *result_id, Stbfarm__ResultRecord **rec,
                  Stbfarm__ResultDetail **detail, sf_error *err);

/* The details of n results at once; out[i] is NULL for one that no longer exists. Free each
 * with protobuf_c_message_free_unpacked. */
int res_store_details(sf_redis *r, char *const *ids, size_t n, Stbfarm__ResultDetail **out,
                      sf_error *err);

/* One change for an index: a committed result (rec set) or a deleted one (rec NULL). */
typedef struct res_change {
    char *id;
    Stbfarm__ResultRecord *rec;
} res_change;

typedef struct res_changes {
    uint64_t seq;  /* the store's seq now */
    uint64_t upto; /* the changes cover (since, upto] */
    int reload;    /* since is older than the deletions kept: start again from 0 with fresh */
    size_t n;
    res_change *items;
} res_changes;

/* The changes after seq since, at most max seqs' worth. With fresh set the caller has nothing
 * yet: deletions are skipped and reload is never asked for. Clear with res_changes_clear. */
int res_store_changes(sf_redis *r, uint64_t since, int fresh, uint64_t max, res_changes *out,
                      sf_error *err);
void res_changes_clear(res_changes *c);

/* The store's seq now (0 when nothing was ever stored). */
int res_store_seq(sf_redis *r, uint64_t *seq, sf_error *err);

/* Ids of up to max results that started before cutoff_us, oldest first. */
int res_store_expired(sf_redis *r, int64_t cutoff_us, size_t max, char ***ids, size_t *n,
                      sf_error *err);

/* Delete a result: it answers 410 from now on and its artifacts join the purge set. Deleting
 * what is already deleted does nothing. */
int res_store_delete(sf_redis *r, const char *result_id, sf_error *err);

/* Up to max results whose artifacts are still to be removed, and the removal done. */
int res_store_purge_list(sf_redis *r, size_t max, char ***ids, size_t *n, sf_error *err);
int res_store_purged(sf_redis *r, const char *result_id, sf_error *err);

void res_ids_free(char **ids, size_t n);

/* Take or renew (same owner) the lease called name for ttl_ms: *got is 1 when owner holds it.
 * Release gives it up if owner still holds it. */
int res_store_lease(sf_redis *r, const char *name, const char *owner, int ttl_ms, int *got,
                    sf_error *err);
int res_store_release(sf_redis *r, const char *name, const char *owner, sf_error *err);

#endif
