#include "sf_events.h"

#include "sf_log.h"
#include "sf_time.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define CHANNEL_PREFIX "sf:ev:"

struct sf_events {
    char *addr;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    sf_events_waiter *waiters;
    sf_events_listener *listeners;
    size_t n_listeners;
    redisContext *sub; /* owned by the thread; shut down by sf_events_stop to unblock it */
    int stopping;
};

static void fire(sf_events *e, const char *topic)
{
    pthread_mutex_lock(&e->lock);
    for (sf_events_waiter *w = e->waiters; w; w = w->next) {
        if (!topic || !strcmp(w->topic, topic))
            w->fired++;
    }
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->lock);
}

static void set_live(sf_events *e, int live)
{
    for (size_t i = 0; i < e->n_listeners; i++) {
        if (e->listeners[i].on_state)
            e->listeners[i].on_state(e->listeners[i].arg, live);
    }
}

/* One reply on the subscribed connection; counts subscription confirmations in *confirmed and
 * goes live when all of them (the pattern and every listener's channel) are in. */
static void on_reply(sf_events *e, const redisReply *r, size_t *confirmed)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
        r->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = r->element[0]->str;
    if (!strcmp(kind, "psubscribe") || !strcmp(kind, "subscribe")) {
        if (++*confirmed == 1 + e->n_listeners) {
            fire(e, NULL); /* events may have been missed while disconnected */
            set_live(e, 1);
        }
    } else if (!strcmp(kind, "pmessage") && r->elements == 4 &&
               r->element[2]->type == REDIS_REPLY_STRING &&
               !strncmp(r->element[2]->str, CHANNEL_PREFIX, strlen(CHANNEL_PREFIX))) {
        fire(e, r->element[2]->str + strlen(CHANNEL_PREFIX));
    } else if (!strcmp(kind, "message") && r->element[1]->type == REDIS_REPLY_STRING &&
               r->element[2]->type == REDIS_REPLY_STRING) {
        for (size_t i = 0; i < e->n_listeners; i++) {
            const sf_events_listener *l = &e->listeners[i];
            if (!strcmp(l->channel, r->element[1]->str) && l->on_message)
                l->on_message(l->arg, r->element[2]->str, r->element[2]->len);
        }
    }
}

static void *subscriber(void *arg)
{
    sf_events *e = arg;
    int backoff_ms = 50;
    for (;;) {
        pthread_mutex_lock(&e->lock);
        int stopping = e->stopping;
        pthread_mutex_unlock(&e->lock);
        if (stopping)
            break;
        sf_error err = SF_ERROR_INIT;
        redisContext *c = sf_redis_connect_raw(e->addr, 0, &err);
        if (!c) {
            struct timespec ts = {0, backoff_ms * 1000000L};
            nanosleep(&ts, NULL);
            backoff_ms = backoff_ms < 1000 ? backoff_ms * 2 : 1000;
            continue;
        }
        int ok = redisAppendCommand(c, "PSUBSCRIBE " CHANNEL_PREFIX "*") == REDIS_OK;
        for (size_t i = 0; ok && i < e->n_listeners; i++)
            ok = redisAppendCommand(c, "SUBSCRIBE %s", e->listeners[i].channel) == REDIS_OK;
        pthread_mutex_lock(&e->lock);
        e->sub = c;
        stopping = e->stopping;
        pthread_mutex_unlock(&e->lock);
        if (!stopping && ok) {
            size_t confirmed = 0;
            redisReply *r;
            while (redisGetReply(c, (void **)&r) == REDIS_OK && r) {
                backoff_ms = 50;
                on_reply(e, r, &confirmed);
                freeReplyObject(r);
            }
        }
        set_live(e, 0);
        pthread_mutex_lock(&e->lock);
        e->sub = NULL;
        pthread_mutex_unlock(&e->lock);
        redisFree(c);
        fire(e, NULL);
    }
    return NULL;
}

int sf_events_start(sf_events **out, const char *redis_addr, const sf_events_listener *listeners,
                    size_t n, sf_error *err)
{
    sf_events *e = calloc(1, sizeof(*e));
    if (!e || !(e->addr = strdup(redis_addr)) ||
        (n && !(e->listeners = malloc(n * sizeof(*listeners))))) {
        if (e)
            free(e->addr);
        free(e);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    if (n)
        memcpy(e->listeners, listeners, n * sizeof(*listeners));
    e->n_listeners = n;
    pthread_mutex_init(&e->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&e->thread, NULL, subscriber, e)) {
        free(e->listeners);
        free(e->addr);
        free(e);
        return sf_fail(err, SF_EINTERNAL, "cannot start the event thread");
    }
    *out = e;
    return 0;
}

void sf_events_stop(sf_events *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    e->stopping = 1;
    if (e->sub)
        shutdown(e->sub->fd, SHUT_RDWR); /* wakes redisGetReply in the thread */
    pthread_mutex_unlock(&e->lock);
    pthread_join(e->thread, NULL);
    pthread_cond_destroy(&e->cond);
    pthread_mutex_destroy(&e->lock);
    free(e->listeners);
    free(e->addr);
    free(e);
}

void sf_events_watch(sf_events *e, sf_events_waiter *w, const char *topic)
{
    snprintf(w->topic, sizeof(w->topic), "%s", topic);
    w->fired = 0;
    pthread_mutex_lock(&e->lock);
    w->next = e->waiters;
    e->waiters = w;
    pthread_mutex_unlock(&e->lock);
}

void sf_events_unwatch(sf_events *e, sf_events_waiter *w)
{
    pthread_mutex_lock(&e->lock);
    for (sf_events_waiter **p = &e->waiters; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            break;
        }
    }
    pthread_mutex_unlock(&e->lock);
}

int sf_events_wait(sf_events *e, sf_events_waiter *w, int timeout_ms)
{
    struct timespec until;
    sf_timespec_after(CLOCK_MONOTONIC, timeout_ms, &until);
    pthread_mutex_lock(&e->lock);
    int rc = 0;
    while (!w->fired && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&e->cond, &e->lock, &until);
    int woken = w->fired > 0;
    w->fired = 0;
    pthread_mutex_unlock(&e->lock);
    return woken;
}

void sf_events_publish(sf_redis *r, const char *topic)
{
    redisReply *reply;
    sf_error err = SF_ERROR_INIT;
    if (sf_redis_cmd(r, &reply, &err, "PUBLISH " CHANNEL_PREFIX "%s x", topic)) {
        sf_warn("event %s not published: %s", topic, err.msg);
        return;
    }
    freeReplyObject(reply);
}
