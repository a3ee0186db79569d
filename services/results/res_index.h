/* res_index.h - every stored result's summary in memory, for the queries of GET /api/v2/results.
 *
 * Redis holds the truth (res_store.h). Each replica of the service keeps this index of it: one
 * compact row per result (strings interned, so 100,000 results of a few hundred test cases cost
 * a few tens of MB) in start-time order. A query scans the rows, which is fast enough for any
 * mix of terms, negations, globs and substrings, sorts by any field, and needs no index in
 * Redis beyond the change log.
 *
 * Before each query the caller syncs the index: one round trip when nothing changed, else the
 * changes since the last seq seen (res_store_changes), so a result committed through any
 * replica is in the next query's answer on every replica.
 *
 * Thread-safe: any number of queries run at once; a sync waits for them to leave and applies
 * its changes alone. */
#ifndef RES_INDEX_H
#define RES_INDEX_H

#include "res_filter.h"
#include "res_store.h"
#include "sf_err.h"
#include "sf_redis.h"

#include <stddef.h>
#include <stdint.h>

typedef struct res_index res_index;

int res_index_new(res_index **out, sf_error *err);
void res_index_free(res_index *idx);

/* Bring the index up to date with the store through r (the calling thread's connection). */
int res_index_sync(res_index *idx, sf_redis *r, sf_error *err);

/* Apply one batch of changes, as sync does with what the store returns (and the unit tests
 * with changes of their own). */
int res_index_apply(res_index *idx, const res_changes *ch, sf_error *err);

/* Results held now. */
size_t res_index_count(res_index *idx);

/* One result a query found, with its own copies of everything (valid until res_hits_clear). */
typedef struct res_hit {
    const char *id;
    const char *job_uid;
    const char *node_id;
    const char *test_case;
    const char *test_pack_sha;
    const char *test_pack_branch; /* NULL: none */
    const char *username;
    const char *job_category;
    const char *failure_reason; /* NULL: none */
    int64_t start_us, end_us;
    res_outcome outcome;
} res_hit;

typedef struct res_arena res_arena;

typedef struct res_hits {
    size_t n;
    res_hit *hits;
    res_arena *arena;
} res_hits;

/* The results matching every term of f (whose dates are resolved), ordered by sort, then by
 * start time in the same direction, then by id; at most limit of them. */
int res_index_query(res_index *idx, const res_filter *f, const res_sort *sort, size_t limit,
                    res_hits *out, sf_error *err);
void res_hits_clear(res_hits *h);

#endif
