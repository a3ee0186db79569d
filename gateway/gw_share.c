/* Identical reads share one call (gw_share.h). */
#include "gw_share.h"

#include "sf_time.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum {
    SLOTS = 256,
    CALLS_PER_KEY = 2, /* calls in flight at once for one key; more requests share */
};

struct gw_flight {
    atomic_int refs;
    atomic_int done; /* a futex word: 1 once the answer is in */
    const gw_share *share;
    void *answer;
    uint64_t epoch; /* the share's epoch when the call started */
    int64_t at_us;
};

typedef struct slot {
    pthread_mutex_t lock;
    char *key;          /* NULL: free */
    int calling;        /* calls in flight for key */
    gw_flight *pending; /* a flight waiting for a free call, which requests join */
    atomic_int ended;   /* a futex word: counts calls ended, for the pending flight's caller */
    gw_flight *kept;    /* an answer kept for reuse */
} slot;

struct gw_share {
    gw_share_ops ops;
    int64_t keep_us;
    slot slots[SLOTS];
    _Atomic uint64_t epoch;
    atomic_int live;
};

int gw_share_new(gw_share **out, const gw_share_ops *ops, int64_t keep_us, sf_error *err)
{
    gw_share *s = calloc(1, sizeof(*s));
    if (!s)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    s->ops = *ops;
    s->keep_us = keep_us;
    for (int i = 0; i < SLOTS; i++)
        pthread_mutex_init(&s->slots[i].lock, NULL);
    *out = s;
    return 0;
}

const void *gw_flight_answer(const gw_flight *f)
{
    return f->answer;
}

void gw_flight_unref(gw_flight *f)
{
    if (f && atomic_fetch_sub(&f->refs, 1) == 1) {
        if (f->answer)
            f->share->ops.free_answer(f->answer);
        free(f);
    }
}

static gw_flight *ref(gw_flight *f)
{
    atomic_fetch_add(&f->refs, 1);
    return f;
}

/* Sleep while *word is still seen; wake up to n sleepers. */
static void futex_wait(atomic_int *word, int seen)
{
    syscall(SYS_futex, (int *)word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
}

static void futex_wake(atomic_int *word, int n)
{
    syscall(SYS_futex, (int *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* Waiters sleep on the flight itself, so that an answer wakes each of them once (a condition
 * variable would make them all fight for the slot's lock on the way out). */
static void wait_done(gw_flight *f)
{
    while (!atomic_load(&f->done))
        futex_wait(&f->done, 0);
}

static void set_done(gw_flight *f)
{
    atomic_store(&f->done, 1);
    futex_wake(&f->done, INT_MAX);
}

void gw_share_free(gw_share *s)
{
    if (!s)
        return;
    for (int i = 0; i < SLOTS; i++) {
        gw_flight_unref(s->slots[i].kept);
        free(s->slots[i].key);
        pthread_mutex_destroy(&s->slots[i].lock);
    }
    free(s);
}

void gw_share_invalidate(gw_share *s)
{
    atomic_fetch_add(&s->epoch, 1);
}

void gw_share_set_live(gw_share *s, int live)
{
    atomic_fetch_add(&s->epoch, 1);
    atomic_store(&s->live, live);
}

static int keepable(const gw_share *s, const gw_flight *f)
{
    return f && f->answer && s->ops.keepable && s->ops.keepable(f->answer) &&
           atomic_load(&s->live) && f->epoch == atomic_load(&s->epoch) &&
           sf_mono_us() - f->at_us < s->keep_us;
}

static gw_flight *new_flight(gw_share *s, int refs)
{
    gw_flight *f = calloc(1, sizeof(*f));
    if (f) {
        atomic_init(&f->refs, refs);
        f->share = s;
    }
    return f;
}

static void call_into(gw_share *s, gw_flight *f, void *arg)
{
    f->answer = s->ops.call(arg);
    f->at_us = sf_mono_us();
}

/* A call made alone, shared with nobody. */
static gw_flight *alone(gw_share *s, void *arg)
{
    gw_flight *f = new_flight(s, 1);
    if (f) {
        call_into(s, f, arg);
        atomic_store(&f->done, 1);
    }
    return f;
}

gw_flight *gw_share_call(gw_share *s, const char *key, int keep, void *arg, gw_flight *stale)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    slot *sl = &s->slots[h % SLOTS];

    pthread_mutex_lock(&sl->lock);
    if (sl->key && strcmp(sl->key, key)) {
        if (sl->calling || sl->pending) { /* busy with another key */
            pthread_mutex_unlock(&sl->lock);
            return alone(s, arg);
        }
        gw_flight_unref(sl->kept);
        sl->kept = NULL;
        free(sl->key);
        sl->key = NULL;
    }
    if (!sl->key && !(sl->key = strdup(key))) {
        pthread_mutex_unlock(&sl->lock);
        return alone(s, arg);
    }
    if (sl->kept && (sl->kept == stale || !keepable(s, sl->kept))) {
        gw_flight_unref(sl->kept);
        sl->kept = NULL;
    }
    if (keep && sl->kept) {
        gw_flight *f = ref(sl->kept);
        pthread_mutex_unlock(&sl->lock);
        return f;
    }
    if (sl->pending) { /* its call starts after we arrived: join it */
        gw_flight *f = ref(sl->pending);
        pthread_mutex_unlock(&sl->lock);
        wait_done(f);
        return f;
    }
    gw_flight *f = new_flight(s, 1);
    if (!f) {
        pthread_mutex_unlock(&sl->lock);
        return alone(s, arg);
    }
    if (sl->calling >= CALLS_PER_KEY) {
        /* Enough calls in flight (they may have read the store before we arrived): ours waits
         * for one of them to end, and requests arriving until then join it. */
        sl->pending = ref(f);
        while (sl->calling >= CALLS_PER_KEY) {
            int ended = atomic_load(&sl->ended);
            pthread_mutex_unlock(&sl->lock);
            futex_wait(&sl->ended, ended);
            pthread_mutex_lock(&sl->lock);
        }
        sl->pending = NULL;
        gw_flight_unref(f); /* the slot's reference */
    }
    sl->calling++;
    f->epoch = atomic_load(&s->epoch);
    pthread_mutex_unlock(&sl->lock);

    call_into(s, f, arg);
    set_done(f);

    pthread_mutex_lock(&sl->lock);
    sl->calling--;
    atomic_fetch_add(&sl->ended, 1);
    if (keep && keepable(s, f)) {
        gw_flight_unref(sl->kept);
        sl->kept = ref(f);
    }
    if (!sl->calling && !sl->pending && !sl->kept) {
        free(sl->key);
        sl->key = NULL;
    }
    pthread_mutex_unlock(&sl->lock);
    futex_wake(&sl->ended, 1);
    return f;
}
