#include "sf_ticker.h"

#include "sf_time.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct sf_ticker {
    sf_tick_fn fn;
    void *arg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* on CLOCK_MONOTONIC: a clock step neither hurries nor stalls it */
    int stopping, kicked;
};

static void *loop(void *arg)
{
    sf_ticker *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        t->kicked = 0;
        pthread_mutex_unlock(&t->lock);
        long wait_ms = t->fn(t->arg);
        struct timespec until;
        sf_timespec_after(CLOCK_MONOTONIC, wait_ms > 0 ? wait_ms : 0, &until);
        pthread_mutex_lock(&t->lock);
        while (!t->stopping && !t->kicked &&
               pthread_cond_timedwait(&t->cond, &t->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

int sf_ticker_start(sf_ticker **out, const char *name, sf_tick_fn fn, void *arg, sf_error *err)
{
    sf_ticker *t = calloc(1, sizeof(*t));
    if (!t)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    t->fn = fn;
    t->arg = arg;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&t->lock, NULL);
    *out = t; /* before the thread starts: fn may ask sf_ticker_stopping(*out) */
    if (pthread_create(&t->thread, NULL, loop, t)) {
        *out = NULL;
        pthread_cond_destroy(&t->cond);
        pthread_mutex_destroy(&t->lock);
        free(t);
        return sf_fail(err, SF_EINTERNAL, "cannot start the thread of the %s", name);
    }
    return 0;
}

void sf_ticker_kick(sf_ticker *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->kicked = 1;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
}

int sf_ticker_stopping(sf_ticker *t)
{
    pthread_mutex_lock(&t->lock);
    int stopping = t->stopping;
    pthread_mutex_unlock(&t->lock);
    return stopping;
}

void sf_ticker_stop(sf_ticker *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    free(t);
}
