/* stbfarm-reservations: the reservations service. Reserves nodes for a user's exclusive use
 * (POST/GET /api/v2/reservations, extend, end, interrupt), all state in Redis (resv_store.h).
 *
 * Redis ends a reservation by itself at its expiry (its node's key expires). Each replica also
 * runs a sweeper thread that, at each expiry, writes the end into the reservation's record and
 * drops it from the current ones; the replica that made or extended a reservation wakes its
 * sweeper for it, and every sweeper looks at least once a second, so any replica will do. */
#include "nodes_store.h"
#include "reservations.pb-c.h"
#include "resv_input.h"
#include "resv_store.h"
#include "sf_log.h"
#include "sf_ticker.h"
#include "sf_service.h"
#include "sf_time.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SWEEP_MAX_WAIT_MS 1000

typedef struct resv_service {
    sf_redis *redis; /* the sweeper's own connection */
    sf_ticker *sweeper;
    int failing; /* sweeps failed in a row: the sweeper's alone */
} resv_service;

/* Wake the sweeper: a reservation's expiry changed. */
static void poke(resv_service *s)
{
    sf_ticker_kick(s->sweeper);
}

/* End what has expired; look again at the next expiry, or in a second at the latest. */
static long sweep_tick(void *arg)
{
    resv_service *s = arg;
    int64_t now = 0, next = -1, wait_ms = SWEEP_MAX_WAIT_MS;
    sf_error err = SF_ERROR_INIT;
    if (resv_sweep(s->redis, &now, &next, &err)) {
        if (!s->failing++) /* once per outage, not once a second */
            sf_warn("expiry sweep: %s", err.msg);
    } else {
        if (s->failing)
            sf_info("expiry sweep works again");
        s->failing = 0;
        if (next >= now && next - now < SWEEP_MAX_WAIT_MS)
            wait_ms = next - now + 1; /* Redis drops a key once its time has passed */
    }
    return (long)wait_ms;
}

static int service_start(void *state, const sf_common_config *common)
{
    resv_service *s = state;
    sf_error err = SF_ERROR_INIT;
    if (sf_redis_open(&s->redis, common->redis, &err) ||
        sf_ticker_start(&s->sweeper, "expiry sweeper", sweep_tick, s, &err)) {
        sf_error("%s", err.msg);
        sf_redis_free(s->redis);
        s->redis = NULL;
        return -1;
    }
    return 0;
}

static void service_stop(void *state)
{
    resv_service *s = state;
    sf_ticker_stop(s->sweeper);
    s->sweeper = NULL;
    sf_redis_free(s->redis);
    s->redis = NULL;
}

/* ---- handlers ---- */

static int need_user(const sf_call *call, sf_error *err)
{
    return call->user[0] ? 0 : sf_fail(err, SF_EFORBIDDEN, "reservations need an access token");
}

static int reply_list(sf_rpc_reply *reply, resv_views *vs, sf_error *err)
{
    Stbfarm__ReservationList list = STBFARM__RESERVATION_LIST__INIT;
    list.n_reservations = vs->n;
    list.reservations = vs->msgs;
    int rc = sf_rpc_reply_msg(reply, &list.base) ? sf_fail(err, SF_EINTERNAL, "out of memory") : 0;
    resv_views_clear(vs);
    return rc;
}

static int reservations_create(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                               sf_error *err)
{
    const Stbfarm__ReservationCreateRequest *q = (const Stbfarm__ReservationCreateRequest *)req;
    sf_worker *w = sf_worker_of(call);
    int rc;
    if ((rc = need_user(call, err)) ||
        (rc = resv_check_node_ids(q->node_ids, q->n_node_ids, err)) ||
        (rc = resv_check_message("message", q->message, err)) ||
        (rc = resv_check_duration(q->has_duration_secs, q->duration_secs, 0, err)))
        return rc;
    for (size_t i = 0; i < q->n_node_ids; i++) {
        if (!nodes_valid_id(q->node_ids[i]))
            return sf_fail(err, SF_ENOTFOUND, "unknown node_id '%.64s'", q->node_ids[i]);
    }
    char *html;
    if ((rc = resv_markdown_html(q->message, strlen(q->message), &html, err)))
        return rc;
    resv_new n = {call->user,      q->node_ids, q->n_node_ids,
                  q->message,      html,        q->has_duration_secs ? q->duration_secs : 0,
                  call->request_id};
    resv_views vs;
    rc = resv_create(w->redis, &n, &vs, err);
    free(html);
    if (rc)
        return rc;
    poke(w->service);
    for (size_t i = 0; i < q->n_node_ids; i++) {
        sf_error e = SF_ERROR_INIT;
        if (nodes_touch(w->redis, q->node_ids[i], call->user, &e)) /* last_used_by: a hint */
            sf_warn("node %s: last_used_by not recorded: %s", q->node_ids[i], e.msg);
    }
    return reply_list(reply, &vs, err);
}

static int reservations_list(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                             sf_error *err)
{
    (void)req;
    resv_views vs;
    int rc = resv_list_current(sf_worker_of(call)->redis, call->user, &vs, err);
    return rc ? rc : reply_list(reply, &vs, err);
}

static int reservations_get(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                            sf_error *err)
{
    const Stbfarm__ReservationRef *q = (const Stbfarm__ReservationRef *)req;
    resv_view v;
    int rc = resv_get(sf_worker_of(call)->redis, q->reservation_id, call->user, &v, err);
    if (rc)
        return rc;
    if (sf_rpc_reply_msg(reply, &v.msg.base))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    resv_view_clear(&v);
    return rc;
}

static int reservations_end(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                            sf_error *err)
{
    const Stbfarm__ReservationRef *q = (const Stbfarm__ReservationRef *)req;
    int rc;
    if ((rc = need_user(call, err)) ||
        (rc = resv_end(sf_worker_of(call)->redis, q->reservation_id, call->user, err)))
        return rc;
    sf_rpc_reply_status(reply, 204);
    return 0;
}

static int reservations_extend(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                               sf_error *err)
{
    const Stbfarm__ReservationExtendRequest *q = (const Stbfarm__ReservationExtendRequest *)req;
    sf_worker *w = sf_worker_of(call);
    int rc;
    if ((rc = need_user(call, err)) ||
        (rc = resv_check_duration(q->has_duration_secs, q->duration_secs, 1, err)) ||
        (rc = resv_extend(w->redis, q->reservation_id, call->user, q->duration_secs,
                          call->request_id, err)))
        return rc;
    poke(w->service);
    sf_rpc_reply_status(reply, 204);
    return 0;
}

static int reservations_interrupt(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                                  sf_error *err)
{
    const Stbfarm__ReservationInterruptRequest *q =
        (const Stbfarm__ReservationInterruptRequest *)req;
    char *html;
    int rc;
    if ((rc = need_user(call, err)) || (rc = resv_check_message("message", q->message, err)) ||
        (rc = resv_markdown_html(q->message, strlen(q->message), &html, err)))
        return rc;
    rc = resv_interrupt(sf_worker_of(call)->redis, q->reservation_id, call->user, q->message, html,
                        err);
    free(html);
    if (!rc)
        sf_rpc_reply_status(reply, 204);
    return rc;
}

static const sf_rpc_method methods[] = {
    {"reservations.create", &stbfarm__reservation_create_request__descriptor, reservations_create},
    {"reservations.list", &stbfarm__reservation_list_request__descriptor, reservations_list},
    {"reservations.get", &stbfarm__reservation_ref__descriptor, reservations_get},
    {"reservations.end", &stbfarm__reservation_ref__descriptor, reservations_end},
    {"reservations.extend", &stbfarm__reservation_extend_request__descriptor, reservations_extend},
    {"reservations.interrupt", &stbfarm__reservation_interrupt_request__descriptor,
     reservations_interrupt},
};

int main(int argc, char **argv)
{
    static resv_service state;
    sf_service_def def = {0};
    def.program = "stbfarm-reservations";
    def.about = "The reservations service: exclusive use of nodes.";
    def.svc = SF_SVC_RESERVATIONS;
    def.methods = methods;
    def.n_methods = sizeof(methods) / sizeof(methods[0]);
    def.default_threads = "16";
    def.state = &state;
    def.start = service_start;
    def.stop = service_stop;
    return sf_service_main(&def, argc, argv);
}
