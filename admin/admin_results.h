/* admin_results.h - the "result" commands of stbfarm-admin. */
#ifndef ADMIN_RESULTS_H
#define ADMIN_RESULTS_H

#include "sf_err.h"
#include "sf_redis.h"

typedef struct admin_push_opts {
    const char *upload_id; /* NULL: a fresh one; the same one resumes an upload */
    long chunk_bytes;
    long stop_after_chunks; /* >= 0: send this many chunks, then stop without finishing */
    int finish_only;        /* begin and finish, sending no chunks */
} admin_push_opts;

/* Push the result in json_path (the fields of GET /api/v2/results/<id> plus node_id, times in
 * ISO 8601) with the regular files under artifacts (NULL: none) through the results service at
 * brokers. Prints the result id when begin answers. */
int admin_result_push(const char *brokers, const char *json_path, const char *artifacts,
                      const admin_push_opts *o, sf_error *err);

/* Store each line of jsonl_path (a result as for push, without artifacts) straight into Redis.
 * Prints how many. */
int admin_result_load(sf_redis *redis, const char *jsonl_path, sf_error *err);

#endif
