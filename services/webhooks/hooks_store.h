/* hooks_store.h - webhooks in Redis. The gateway makes, lists and removes them; the deliverer
 * (stbfarm-webhooks) leases, delivers and records; both go through here, so the key layout
 * lives in this module alone:
 *   sf:hooks               SET of webhook ids
 *   sf:hook:<id>           HASH: id, user, url, events (topics, comma-separated), secret,
 *                          created (us), pos (the last feed entry dealt with, sf_feed.h),
 *                          attempt (failed attempts at the entry after pos), retry_at (ms, when
 *                          to try it again), failing_since (ms, its first failure)
 *   sf:hook:<id>:log       LIST: the last HOOKS_LOG_MAX deliveries as JSON, newest first
 *   sf:hook:<id>:lease     STRING with a TTL: the deliverer that owns the hook for now
 * The secret is stored (HMAC needs it) but never answered or logged. */
#ifndef HOOKS_STORE_H
#define HOOKS_STORE_H

#include "sf_err.h"
#include "sf_feed.h"
#include "sf_redis.h"

#include <cjson/cJSON.h>
#include <stdint.h>

#define HOOKS_ID_LEN       16 /* hex digits */
#define HOOKS_LOG_MAX      20
#define HOOKS_URL_MAX      2048
#define HOOKS_SECRET_MIN   16
#define HOOKS_SECRET_MAX   1024
#define HOOKS_MAX_PER_USER 20

typedef struct hooks_record {
    char id[HOOKS_ID_LEN + 1];
    char *user, *url, *secret;
    unsigned mask; /* topics, 1 << sf_feed_topic */
    int64_t created_us;
    sf_feed_id pos;
    int attempt;
    int64_t retry_at_ms, failing_since_ms;
} hooks_record;

void hooks_record_clear(hooks_record *h);

/* A new webhook of user's, delivering what follows the feed's newest entry now. SF_ECONFLICT
 * when user has HOOKS_MAX_PER_USER already. out is filled (clear it) on success. */
int hooks_create(sf_redis *r, const char *user, const char *url, unsigned mask, const char *secret,
                 hooks_record *out, sf_error *err);

/* One webhook; SF_ENOTFOUND when there is none. */
int hooks_get(sf_redis *r, const char *id, hooks_record *out, sf_error *err);

/* Every webhook id (free with hooks_ids_free). */
int hooks_list(sf_redis *r, char ***ids, size_t *n, sf_error *err);
void hooks_ids_free(char **ids, size_t n);

/* Remove a webhook and its log: 0, or SF_ENOTFOUND. */
int hooks_delete(sf_redis *r, const char *id, sf_error *err);

/* Remove every webhook of user (their account was removed). */
int hooks_remove_user(sf_redis *r, const char *user, sf_error *err);

/* The webhook's last deliveries, newest first, as a JSON array (the caller owns it). */
int hooks_deliveries(sf_redis *r, const char *id, cJSON **out, sf_error *err);

/* ---- for the deliverer ---- */

/* Take or renew the lease of webhook id for owner (ttl_ms): *held 1 when owner has it now. */
int hooks_lease(sf_redis *r, const char *id, const char *owner, int ttl_ms, int *held,
                sf_error *err);
void hooks_release(sf_redis *r, const char *id, const char *owner);

/* While owner holds the lease: the webhook has dealt with everything up to pos (its failures
 * are over), and delivered (log: one delivery's JSON, or NULL for entries it skipped).
 * SF_ECONFLICT when the lease is no longer owner's (another deliverer goes on). */
int hooks_advance(sf_redis *r, const char *id, const char *owner, sf_feed_id pos, const char *log,
                  sf_error *err);

/* While owner holds the lease: the delivery after pos failed (log says how); try again at
 * retry_at_ms. */
int hooks_failed(sf_redis *r, const char *id, const char *owner, int attempt, int64_t retry_at_ms,
                 int64_t failing_since_ms, const char *log, sf_error *err);

#endif
