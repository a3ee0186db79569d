/* sf_ticker: runs at once, again after the wait it asks for, at once when kicked (a kick during
 * a run is not lost), and stops promptly whatever wait it asked for. No timed assertions: the
 * waits asked for are long, so only a kick or a stop can explain a run. */
#include "sf_ticker.h"
#include "sf_time.h"
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

typedef struct counter {
    atomic_int runs;
    atomic_int kick_during; /* kick the ticker from inside the run that has this number */
    sf_ticker *t;
    long wait_ms;
} counter;

static long count(void *arg)
{
    counter *c = arg;
    int n = atomic_fetch_add(&c->runs, 1) + 1;
    if (n == atomic_load(&c->kick_during))
        sf_ticker_kick(c->t);
    return c->wait_ms;
}

/* Wait (by polling, up to 10 s) until c has run n times; 1 when it did. */
static int runs_reach(counter *c, int n)
{
    for (int i = 0; i < 1000 && atomic_load(&c->runs) < n; i++) {
        struct timespec ms10 = {0, 10 * 1000 * 1000};
        nanosleep(&ms10, NULL);
    }
    return atomic_load(&c->runs) >= n;
}

static void test_runs_at_once_and_again_when_kicked(void)
{
    counter c = {0};
    c.wait_ms = 600000; /* ten minutes: only a kick brings the next run */
    CHECK(sf_ticker_start(&c.t, "test", count, &c, NULL) == 0);
    CHECK(runs_reach(&c, 1));
    sf_ticker_kick(c.t);
    CHECK(runs_reach(&c, 2));
    sf_ticker_kick(c.t);
    CHECK(runs_reach(&c, 3));
    CHECK(!sf_ticker_stopping(c.t));
    sf_ticker_stop(c.t); /* returns although the wait asked for is ten minutes */
    CHECK(atomic_load(&c.runs) == 3);
}

static void test_a_kick_during_a_run_brings_another_run(void)
{
    counter c = {0};
    c.wait_ms = 600000;
    atomic_store(&c.kick_during, 1);
    CHECK(sf_ticker_start(&c.t, "test", count, &c, NULL) == 0);
    CHECK(runs_reach(&c, 2));
    sf_ticker_stop(c.t);
}

static void test_runs_again_after_the_wait_it_asks_for(void)
{
    counter c = {0};
    c.wait_ms = 1;
    CHECK(sf_ticker_start(&c.t, "test", count, &c, NULL) == 0);
    CHECK(runs_reach(&c, 5));
    sf_ticker_stop(c.t);
}

static void test_null_is_ignored(void)
{
    sf_ticker_kick(NULL);
    sf_ticker_stop(NULL);
}

int main(void)
{
    RUN(test_runs_at_once_and_again_when_kicked);
    RUN(test_a_kick_during_a_run_brings_another_run);
    RUN(test_runs_again_after_the_wait_it_asks_for);
    RUN(test_null_is_ignored);
    return TEST_EXIT();
}
