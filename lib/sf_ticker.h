/* sf_ticker.h - a thread of its own that runs one function again and again until it is stopped:
 * the sweepers, reapers and queue loops of the services. Each run says how long to wait before
 * the next; sf_ticker_kick cuts the wait short (something changed that the function must see
 * now). A kick during a run makes the next run start at once: it is never lost. */
#ifndef SF_TICKER_H
#define SF_TICKER_H

#include "sf_err.h"

/* One run; returns the milliseconds to wait before the next (0: at once). Runs on the ticker's
 * thread only, so what it alone touches (a Redis connection, a test pack) needs no lock. */
typedef long (*sf_tick_fn)(void *arg);

typedef struct sf_ticker sf_ticker;

/* Start a thread that calls fn(arg) now, then after each wait it asks for. name is for errors.
 * *out is set before fn first runs, so fn may pass it to sf_ticker_stopping. */
int sf_ticker_start(sf_ticker **out, const char *name, sf_tick_fn fn, void *arg, sf_error *err);

/* Run fn again as soon as the run in progress (if any) ends. Any thread; NULL is ignored. */
void sf_ticker_kick(sf_ticker *t);

/* 1 once sf_ticker_stop was called: a long run may look and end early. */
int sf_ticker_stopping(sf_ticker *t);

/* Stop the thread, waiting for a run in progress to end, and free t. NULL is ignored. */
void sf_ticker_stop(sf_ticker *t);

#endif
