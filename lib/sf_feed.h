/* sf_feed.h - the farm's change feed: a Redis stream (sf:events) with one entry per change of a
 * job, a node's status, a reservation or a new result, for the SSE stream of the gateway and for
 * webhooks.
 *
 * Unlike sf_events (pub/sub wake-ups, lost when nobody listens), the feed is durable and
 * ordered: every store script that changes one of those objects appends an entry from inside
 * the same script (SF_FEED_LUA), so an entry exists exactly when its change does. An entry
 * names the topic and the object's id (t, k); a reader renders the object as the API shows it
 * when it reads the entry (sf_feed_render), through the service that owns it. The stream keeps
 * about SF_FEED_MAX_LEN entries and none older than SF_FEED_MAX_AGE_SECS (trimmed by each append,
 * whole macro nodes at a time, so a little more may stay). */
#ifndef SF_FEED_H
#define SF_FEED_H

#include "sf_broker.h"
#include "sf_err.h"
#include "sf_redis.h"
#include "sf_rpc.h"

#include <stddef.h>
#include <stdint.h>

#define SF_FEED_KEY          "sf:events"
#define SF_FEED_MAX_LEN      100000
#define SF_FEED_MAX_AGE_SECS 86400 /* a day: as long as webhooks retry */
#define SF_FEED_STR_(x)      #x
#define SF_FEED_STR(x)       SF_FEED_STR_(x)

/* Lua for any script that changes a fed object. It defines
 *   sf_feed(topic, id): append {t = topic, k = id} to the feed and trim it.
 * topic is one of "jobs", "nodes", "reservations", "results". The scripts touch a key they do not
 * declare, which is fine on the single Redis stbfarm uses. */
#define SF_FEED_LUA                                                                                \
    "local function sf_feed(topic, id)\n"                                                          \
    "  redis.call('XADD', '" SF_FEED_KEY "', 'MAXLEN', '~',\n"                                     \
    "              '" SF_FEED_STR(                                                                 \
        SF_FEED_MAX_LEN) "', '*', 't', topic, 'k', id)\n"                                          \
                         "  local now = redis.call('TIME')\n"                                      \
                         "  redis.call('XTRIM', '" SF_FEED_KEY "', 'MINID', '~',\n"                \
                         "             string.format('%d', (tonumber(now[1]) - " SF_FEED_STR(      \
                             SF_FEED_MAX_AGE_SECS) ") * 1000))\n"                                  \
                                                   "end\n"

typedef enum sf_feed_topic {
    SF_FEED_JOBS,
    SF_FEED_NODES,
    SF_FEED_RESERVATIONS,
    SF_FEED_RESULTS,
    SF_FEED_TOPICS
} sf_feed_topic;

#define SF_FEED_ALL ((1u << SF_FEED_TOPICS) - 1)

/* "jobs", ...; and the event name of one entry: "job", "node", "reservation", "result". */
const char *sf_feed_topic_name(sf_feed_topic t);
const char *sf_feed_event_name(sf_feed_topic t);

/* Parse a comma-separated list of topic names ("jobs,nodes") into a bit mask (1 << topic).
 * Returns 0, or SF_EINVAL with a message naming the bad item (empty items, unknown names and
 * an empty list are refused; repeats are fine). */
int sf_feed_topics_parse(const char *text, unsigned *mask, sf_error *err);

/* A stream entry id, <ms>-<seq>. */
typedef struct sf_feed_id {
    uint64_t ms, seq;
} sf_feed_id;

#define SF_FEED_ID_MAX 48 /* "<20 digits>-<20 digits>" and a NUL */

/* Parse "<ms>-<seq>" (decimal, no sign, no spaces, each at most 20 digits and within 64 bits).
 * Returns 0, or SF_EINVAL. */
int sf_feed_id_parse(const char *text, sf_feed_id *out, sf_error *err);
void sf_feed_id_format(sf_feed_id id, char out[SF_FEED_ID_MAX]);
/* <0, 0, >0 as a is before, equal to or after b. */
int sf_feed_id_cmp(sf_feed_id a, sf_feed_id b);

/* Where a reader that has seen everything up to *after (its Last-Event-ID) starts. *lost is 1
 * when entries after it may have been dropped already: it is older than the oldest entry kept,
 * or newer than any entry ever written (as after a reset of Redis); *after then becomes the
 * position to go on from (just before the oldest entry kept, or the newest entry), which is
 * also the id a reader should remember for the loss. With have_after 0, *after becomes the
 * newest entry (a reader that starts now). The check errs on the side of *lost: a reader whose
 * last entry was the very last one trimmed is told so too. */
int sf_feed_start(sf_redis *r, int have_after, sf_feed_id *after, int *lost, sf_error *err);

/* One entry as read. */
typedef struct sf_feed_entry {
    sf_feed_id id;
    int topic;       /* sf_feed_topic, or -1 for an entry of an unknown topic (skip it) */
    const char *key; /* the object's id; points into the batch's reply */
} sf_feed_entry;

typedef struct sf_feed_batch {
    sf_feed_entry *entries;
    size_t n;
    redisReply *reply; /* owns what entries point to */
} sf_feed_batch;

/* Up to max entries after `after`, waiting up to block_ms for the first (0: do not wait). An
 * empty batch (n 0) when none came. Free with sf_feed_batch_free, in every case. */
int sf_feed_read(sf_redis *r, sf_feed_id after, int max, int block_ms, sf_feed_batch *out,
                 sf_error *err);
void sf_feed_batch_free(sf_feed_batch *b);

/* The object an entry names, as the API shows it to user (its GET: /api/v2/jobs/<uid>,
 * /api/v2/nodes/<id>, /api/v2/reservations/<id>, /api/v2/results/<id>), asked of its service
 * through clients (indexed by sf_service) now. Returns 0 with *json (malloc'd JSON text);
 * SF_ENOTFOUND or SF_EGONE when the object is gone (skip the entry); another error when the
 * service did not answer. */
int sf_feed_render(sf_rpc_client *const clients[SF_SVC_COUNT], const sf_feed_entry *e,
                   const sf_rpc_opts *opts, char **json, sf_error *err);

/* The service that owns a topic's objects. */
sf_service sf_feed_service(sf_feed_topic t);

#endif
