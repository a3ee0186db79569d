/* sf_broker.h - the services behind the broker and where each one's endpoints are.
 *
 * Every process is configured with the broker's base URL only. The broker serves one device per
 * service; its front (raw REP, dialled by callers) and back (raw REQ, dialled by workers)
 * addresses derive from the base:
 *   tcp://host:7100      -> service i: front tcp://host:(7100+2i), back tcp://host:(7101+2i)
 *   tls+tcp://host:7100  -> the same ports, over mutual TLS (sf_link.h)
 *   ipc:///run/broker    -> ipc:///run/broker-<service>-front.sock, ...-back.sock
 * The order of the services below is part of the wire contract: append, never reorder. */
#ifndef SF_BROKER_H
#define SF_BROKER_H

#include "sf_err.h"

#include <stddef.h>

typedef enum {
    SF_SVC_NODES,
    SF_SVC_JOBS,
    SF_SVC_RESULTS,
    SF_SVC_RESERVATIONS,
    SF_SVC_COUNT
} sf_service;

typedef enum { SF_BROKER_FRONT, SF_BROKER_BACK } sf_broker_side;

const char *sf_service_name(sf_service svc);

/* Returns 0, or SF_EINVAL for a name that is not a service. */
int sf_service_parse(const char *name, sf_service *out);

/* The URL of one side of one service's device on the broker at base. Returns 0, or SF_EINVAL
 * for a base that is neither tcp://host:port, tls+tcp://host:port nor ipc:///path. */
int sf_broker_url(const char *base, sf_service svc, sf_broker_side side, char *out, size_t len,
                  sf_error *err);

/* Call fn for each comma-separated base URL in list (one per redundant broker). Stops at and
 * returns the first non-zero return of fn. */
int sf_broker_each(const char *list, int (*fn)(const char *base, void *arg), void *arg);

#endif
