/* gw_share: shared calls answer every request with a read made after it arrived, call fewer
 * times than they are asked, and keep only what they may. The "service" here is a function
 * reading a counter that a writer thread keeps moving. */
#include "gw_share.h"
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

static _Atomic long store;  /* the truth: moved by the writer */
static atomic_long calls;   /* calls made */
static atomic_int stopping; /* the writer stops */

typedef struct answer {
    long value;
    int keep;
    char key[32];
} answer;

typedef struct call_arg {
    const char *key;
    int keep;
    int slow_us;
} call_arg;

static void pause_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Reads the store at once, then takes its time answering, as a call through the broker does. */
static void *call(void *arg)
{
    const call_arg *c = arg;
    answer *a = calloc(1, sizeof(*a));
    a->value = atomic_load(&store);
    a->keep = c->keep;
    snprintf(a->key, sizeof(a->key), "%s", c->key);
    atomic_fetch_add(&calls, 1);
    pause_us(c->slow_us);
    return a;
}

static int keepable(const void *p)
{
    return ((const answer *)p)->keep;
}

static const gw_share_ops ops = {call, free, keepable};

static void *writer(void *arg)
{
    (void)arg;
    while (!atomic_load(&stopping)) {
        atomic_fetch_add(&store, 1);
        pause_us(300);
    }
    return NULL;
}

typedef struct reader {
    gw_share *share;
    long requests, stale;
    int wrong_key;
} reader;

static void *read_loop(void *arg)
{
    reader *r = arg;
    call_arg c = {"node-1", 0, 2000};
    for (int i = 0; i < 150; i++) {
        long before = atomic_load(&store);
        gw_flight *f = gw_share_call(r->share, c.key, 0, &c, NULL);
        const answer *a = gw_flight_answer(f);
        if (a->value < before)
            r->stale++;
        if (strcmp(a->key, c.key))
            r->wrong_key = 1;
        gw_flight_unref(f);
        r->requests++;
    }
    return NULL;
}

static void test_every_answer_is_read_after_its_request_and_calls_are_shared(void)
{
    gw_share *s;
    sf_error err = SF_ERROR_INIT;
    CHECK(gw_share_new(&s, &ops, 60000000, &err) == 0);
    atomic_store(&calls, 0);
    atomic_store(&stopping, 0);
    pthread_t w, t[16];
    reader r[16] = {0};
    pthread_create(&w, NULL, writer, NULL);
    for (int i = 0; i < 16; i++) {
        r[i].share = s;
        pthread_create(&t[i], NULL, read_loop, &r[i]);
    }
    long requests = 0, stale = 0;
    for (int i = 0; i < 16; i++) {
        pthread_join(t[i], NULL);
        requests += r[i].requests;
        stale += r[i].stale;
        CHECK(!r[i].wrong_key);
    }
    atomic_store(&stopping, 1);
    pthread_join(w, NULL);
    CHECK(requests == 16 * 150);
    CHECK(stale == 0);
    CHECK(atomic_load(&calls) < requests / 2); /* 16 readers of one key: most share */
    fprintf(stderr, "     %ld requests, %ld calls\n", requests, (long)atomic_load(&calls));
    gw_share_free(s);
}

static long calls_for(gw_share *s, const char *key, int keep, gw_flight *stale, long *value)
{
    call_arg c = {key, keep, 0};
    long before = atomic_load(&calls);
    gw_flight *f = gw_share_call(s, key, keep, &c, stale);
    *value = ((const answer *)gw_flight_answer(f))->value;
    gw_flight_unref(f);
    return atomic_load(&calls) - before;
}

static void test_keepable_answers_are_kept_while_live_and_valid(void)
{
    gw_share *s;
    sf_error err = SF_ERROR_INIT;
    CHECK(gw_share_new(&s, &ops, 60000000, &err) == 0);
    long v;
    atomic_store(&store, 100);
    /* not live yet: nothing is kept */
    CHECK(calls_for(s, "file", 1, NULL, &v) == 1);
    CHECK(calls_for(s, "file", 1, NULL, &v) == 1);
    gw_share_set_live(s, 1);
    CHECK(calls_for(s, "file", 1, NULL, &v) == 1);
    atomic_store(&store, 101);
    CHECK(calls_for(s, "file", 1, NULL, &v) == 0); /* kept */
    CHECK(v == 100);
    /* a route that may not keep never uses a kept answer */
    CHECK(calls_for(s, "other", 0, NULL, &v) == 1);
    CHECK(calls_for(s, "other", 0, NULL, &v) == 1);
    /* an invalidation drops kept answers */
    gw_share_invalidate(s);
    CHECK(calls_for(s, "file", 1, NULL, &v) == 1);
    CHECK(v == 101);
    CHECK(calls_for(s, "file", 1, NULL, &v) == 0);
    /* losing the subscription too */
    gw_share_set_live(s, 0);
    CHECK(calls_for(s, "file", 1, NULL, &v) == 1);
    gw_share_free(s);
}

static void test_a_stale_kept_answer_is_asked_again(void)
{
    gw_share *s;
    sf_error err = SF_ERROR_INIT;
    CHECK(gw_share_new(&s, &ops, 60000000, &err) == 0);
    gw_share_set_live(s, 1);
    call_arg c = {"file", 1, 0};
    gw_flight *first = gw_share_call(s, "file", 1, &c, NULL);
    gw_flight *kept = gw_share_call(s, "file", 1, &c, NULL);
    CHECK(kept == first);
    long before = atomic_load(&calls);
    gw_flight *again = gw_share_call(s, "file", 1, &c, kept);
    CHECK(again != kept);
    CHECK(atomic_load(&calls) == before + 1);
    gw_flight_unref(first);
    gw_flight_unref(kept);
    gw_flight_unref(again);
    gw_share_free(s);
}

static void test_kept_answers_expire(void)
{
    gw_share *s;
    sf_error err = SF_ERROR_INIT;
    CHECK(gw_share_new(&s, &ops, 20000, &err) == 0); /* 20 ms */
    gw_share_set_live(s, 1);
    long v;
    CHECK(calls_for(s, "file", 1, NULL, &v) == 1);
    CHECK(calls_for(s, "file", 1, NULL, &v) == 0);
    pause_us(30000);
    CHECK(calls_for(s, "file", 1, NULL, &v) == 1);
    gw_share_free(s);
}

static void test_many_keys_each_get_their_own_answer(void)
{
    gw_share *s;
    sf_error err = SF_ERROR_INIT;
    CHECK(gw_share_new(&s, &ops, 60000000, &err) == 0);
    gw_share_set_live(s, 1);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 2000; i++) { /* far more keys than slots: collisions */
            char key[32];
            snprintf(key, sizeof(key), "k%d", i);
            call_arg c = {key, i % 2, 0};
            gw_flight *f = gw_share_call(s, key, i % 2, &c, NULL);
            CHECK_STR(((const answer *)gw_flight_answer(f))->key, key);
            gw_flight_unref(f);
        }
    }
    gw_share_free(s);
}

int main(void)
{
    RUN(test_every_answer_is_read_after_its_request_and_calls_are_shared);
    RUN(test_keepable_answers_are_kept_while_live_and_valid);
    RUN(test_a_stale_kept_answer_is_asked_again);
    RUN(test_kept_answers_expire);
    RUN(test_many_keys_each_get_their_own_answer);
    return TEST_EXIT();
}
