/* gw_conns.h - who is connected: connections counted per client address, the proxies whose
 * X-Forwarded-For is believed, and the client address a request is from. Pure code (no
 * civetweb), so it is unit-tested on its own.
 *
 * Each civetweb worker serves one connection at a time, so a client holding many connections
 * holds many workers. A connection is counted from its first request (civetweb tells nothing of
 * it before) to its close. Every address may hold at most max_per_address connections at once
 * (a trusted proxy, which speaks for many clients, any number): a request on a connection past
 * the cap is answered 503 at once and the connection closed. How many connections are open in
 * all tells the gateway when workers run short, and it then closes each connection after its
 * response instead of keeping it alive idle (gw_conns_pressed). Connections that never finish
 * a request cost a worker until --header-timeout-ms: the edge (edge/haproxy.cfg) is what keeps
 * those away from the gateway. */
#ifndef GW_CONNS_H
#define GW_CONNS_H

#include "sf_err.h"

#include <stddef.h>

/* The longest textual IPv6 address, with its NUL. */
#define GW_ADDR_MAX 48

/* A count per key (an address, a token), for limits on what one holds at once. */
typedef struct gw_tally gw_tally;
int gw_tally_new(gw_tally **out); /* 0 or SF_EINTERNAL */
void gw_tally_free(gw_tally *t);
/* Add delta to key's count and return the new count (0 and forgotten when it reaches 0). */
long gw_tally_add(gw_tally *t, const char *key, long delta);

typedef struct gw_conns gw_conns;

/* One connection's record, held from open to close. */
typedef struct gw_conn_slot {
    char addr[GW_ADDR_MAX];
    int over;    /* its address held too many connections when it opened */
    int trusted; /* it is from a trusted proxy */
} gw_conn_slot;

/* trusted: comma-separated addresses and CIDR prefixes ("127.0.0.1,10.0.0.0/8,::1"), or NULL
 * for none. workers: the number of worker threads. Returns 0 or SF_EINVAL naming the bad entry;
 * *out is freed with gw_conns_free. */
int gw_conns_new(gw_conns **out, long max_per_address, long workers, const char *trusted,
                 sf_error *err);
void gw_conns_free(gw_conns *c);

/* A connection from addr opened: fills *slot (which the caller keeps until the close). */
void gw_conns_open(gw_conns *c, const char *addr, gw_conn_slot *slot);
void gw_conns_close(gw_conns *c, const gw_conn_slot *slot);

/* 1 when so many connections are open that idle ones would keep new ones waiting for a worker
 * (more than three quarters of the workers). */
int gw_conns_pressed(gw_conns *c);

/* How many connections addr holds (for tests and messages). */
long gw_conns_count(gw_conns *c, const char *addr);
long gw_conns_max_per_address(const gw_conns *c);

/* 1 when addr (an IPv4 or IPv6 address in text) is one of the trusted proxies. */
int gw_conns_trusted(const gw_conns *c, const char *addr);

/* The client address a trusted proxy forwarded: the last entry of the last X-Forwarded-For
 * header (values[0..n), in the order they came), which is the one the proxy wrote. 0 and out
 * filled, or SF_EINVAL when there is none or it is not an IP address. */
int gw_forwarded_for(const char *const *values, size_t n, char *out, size_t len);

#endif
