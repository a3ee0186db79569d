/* sf_events.h - wake-ups between processes ("job /x/y/1 changed"), over Redis pub/sub.
 *
 * Events are hints, never the truth: a woken waiter re-reads the store. A waiter may also wake
 * for no reason (a lost connection wakes everyone, since events may have been missed), so every
 * wait sits in a loop that re-checks its condition.
 *
 * Use: register with sf_events_watch *before* reading the state you wait on (so an event
 * published between the read and the wait is not lost), read, then sf_events_wait until the
 * state is what you want or time runs out, then sf_events_unwatch. */
#ifndef SF_EVENTS_H
#define SF_EVENTS_H

#include "sf_err.h"
#include "sf_redis.h"

#include <stdint.h>

#define SF_EVENT_TOPIC_MAX 256

typedef struct sf_events sf_events;

typedef struct sf_events_waiter {
    char topic[SF_EVENT_TOPIC_MAX];
    uint64_t fired; /* events seen for this topic since the last wait */
    struct sf_events_waiter *next;
} sf_events_waiter;

/* Announces each result deleted (retention); the payload is its id. */
#define SF_RESULTS_DELETED_CHANNEL "sf:results:deleted"

/* A process that keeps a copy of some state (the gateway's verified tokens) listens on a
 * channel of its own for invalidations. Unlike topics, such a channel is outside the sf:ev:
 * namespace, so PUBLISH on it counts exactly its listeners (which a publisher waiting for
 * acknowledgements needs). Both callbacks run on the subscriber thread. */
typedef struct sf_events_listener {
    const char *channel; /* a whole Redis channel name, e.g. "sf:tokens:revoked" */
    void (*on_message)(void *arg, const char *payload, size_t len);
    /* live 1: subscribed, every message from now on arrives; live 0: the subscription is
     * lost, and messages may be missed until the next call with 1. Starts at 0. */
    void (*on_state)(void *arg, int live);
    void *arg;
} sf_events_listener;

/* Start the subscriber thread of a process on the Redis at addr, with n listeners (copied;
 * n may be 0). Returns 0 even when Redis is down (the thread keeps reconnecting). Stop with
 * sf_events_stop. */
int sf_events_start(sf_events **out, const char *redis_addr, const sf_events_listener *listeners,
                    size_t n, sf_error *err);
void sf_events_stop(sf_events *e);

void sf_events_watch(sf_events *e, sf_events_waiter *w, const char *topic);
void sf_events_unwatch(sf_events *e, sf_events_waiter *w);

/* Block until an event for w's topic arrives (or one arrived since the last wait) or timeout_ms
 * pass. Returns 1 when woken by an event, 0 on timeout. */
int sf_events_wait(sf_events *e, sf_events_waiter *w, int timeout_ms);

/* Publish an event on topic through r. Failure only loses a hint; it is logged, not returned. */
void sf_events_publish(sf_redis *r, const char *topic);

#endif
