/* gw_share.h - identical reads share one call.
 *
 * Many clients poll the same thing (a node's status, a job, a result's artifact). A request
 * makes its own call while fewer than a few (CALLS_PER_KEY) are in flight for its key; past
 * that, it joins the *next* call, which starts when one of those ends. It never takes the answer
 * of a call already in flight, which may have read the store before the request arrived: every
 * request gets an answer read after it arrived, exactly as if it had made the call alone. A few
 * clients polling one node see no difference; with 64, one call answers dozens.
 *
 * An answer the owner calls keepable (a stored result's file, which never changes) is also kept
 * and reused without a call, for keep_us, while the share is live and not invalidated since the
 * call started. The table is direct-mapped: a key whose slot is busy with another key makes its
 * call alone. Pure: the call is a function of the caller's, so the logic is unit-tested. */
#ifndef GW_SHARE_H
#define GW_SHARE_H

#include "sf_err.h"

#include <stdint.h>

typedef struct gw_share gw_share;
typedef struct gw_flight gw_flight;

typedef struct gw_share_ops {
    void *(*call)(void *arg);            /* make the call; the answer, or NULL */
    void (*free_answer)(void *answer);   /* free an answer call returned */
    int (*keepable)(const void *answer); /* may this answer be kept? NULL: never */
} gw_share_ops;

int gw_share_new(gw_share **out, const gw_share_ops *ops, int64_t keep_us, sf_error *err);
void gw_share_free(gw_share *s);

/* The answer to ops->call(arg) for key, shared with identical requests; NULL when out of memory.
 * keep: the key's answers may be kept. stale: a flight from an earlier call for this key whose
 * answer turned out unusable (a kept file that has gone), never to be reused, or NULL. */
gw_flight *gw_share_call(gw_share *s, const char *key, int keep, void *arg, gw_flight *stale);
const void *gw_flight_answer(const gw_flight *f);
void gw_flight_unref(gw_flight *f);

/* Drop every kept answer (something they depend on changed). */
void gw_share_invalidate(gw_share *s);
/* Kept answers are used only while live (the subscription announcing changes is up). */
void gw_share_set_live(gw_share *s, int live);

#endif
