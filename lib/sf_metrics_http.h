/* sf_metrics_http.h - GET /metrics: a registry served over plain HTTP for Prometheus to scrape.
 *
 * One thread accepts and answers one connection at a time, then closes it: a scrape is one
 * short request every few seconds, and nothing else is served here. A client that is slow to
 * send its request or to read the answer is dropped after a few seconds, so it can hold up
 * scrapes only that long. Every program takes --metrics-listen (sf_config_load starts this). */
#ifndef SF_METRICS_HTTP_H
#define SF_METRICS_HTTP_H

#include "sf_err.h"
#include "sf_metrics.h"

#include <stddef.h>

/* "PORT", "HOST:PORT" or "[V6]:PORT"; HOST defaults to 127.0.0.1. 0, or SF_EINVAL saying why. */
int sf_metrics_listen_parse(const char *text, char *host, size_t hostlen, int *port, sf_error *err);

/* The status the listener answers a request head (buf, len bytes, not NUL-terminated) with: 200
 * for GET or HEAD of /metrics (with any query), 404 for another path, 405 for another method,
 * 400 when it is not an HTTP request line. *head is set for HEAD. */
int sf_metrics_http_status(const char *buf, size_t len, int *head);

typedef struct sf_metrics_server sf_metrics_server;

/* Listen on addr (sf_metrics_listen_parse) and serve m there until stopped. m must outlive the
 * server. 0, SF_EINVAL (a bad address) or SF_EUNAVAIL (cannot listen: the port is in use). */
int sf_metrics_serve(sf_metrics_server **out, sf_metrics *m, const char *addr, sf_error *err);

/* Stop the thread (waiting for the answer under way) and close the socket. NULL is a no-op. */
void sf_metrics_server_stop(sf_metrics_server *s);

#endif
