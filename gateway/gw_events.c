/* GET /api/v2/events?topics=jobs,nodes,reservations,results: the farm's change feed (sf_feed.h)
 * as Server-Sent Events. Each event is `id:` (the feed entry's id), `event:` (job, node,
 * reservation, result) and `data:` (the object as its GET answers it, read when the event is
 * sent). A client that reconnects with Last-Event-ID (or ?last_event_id=) gets every event
 * after that one still in the feed; when some may have been trimmed away already, an event
 * `lost` comes first, so the client knows to read the state afresh.
 *
 * Each stream reads the feed with XREAD BLOCK on a Redis connection of its own (never the
 * worker's, which short requests share) and holds a civetweb worker, so it counts against
 * --max-long-polls, and also against --max-event-streams (503) and, per token,
 * --max-event-streams-per-token (429). A slow reader is cut off, not buffered for: the socket's
 * send buffer is made small, the stream writes one batch at a time and keeps nothing but its
 * position in the feed, and a write that cannot go out within civetweb's request timeout
 * (--header-timeout-ms) ends the stream; a client that closes its end is noticed within a
 * second (the socket polled between reads). The client's credentials are checked again every
 * RECHECK_MS (from the gateway's copy, which revocations reach at once), so a revoked token's
 * stream ends too. Streams end after --long-poll-secs * 60; EventSource reconnects by itself. */
#include "gw.h"
#include "gw_portal.h"

#include "sf_account.h"
#include "sf_feed.h"
#include "sf_log.h"
#include "sf_time.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

enum {
    BATCH = 100,          /* entries read and sent at once */
    BLOCK_MS = 1000,      /* an XREAD waits this long, then the stream looks around */
    KEEPALIVE_MS = 15000, /* a comment this often: proxies keep the stream, a gone client is seen */
    RECHECK_MS = 5000,    /* the credentials are checked again this often */
    SEND_BUFFER = 16384,  /* bytes the kernel may hold for a client that does not read */
};

/* A chunk of the chunked response. 0, or -1 when the client has gone or stopped reading. */
static int send_chunk(gw_request *rq, const char *text, size_t len)
{
    char head[24];
    int hn = snprintf(head, sizeof(head), "%zx\r\n", len);
    size_t total = (size_t)hn + len + 2;
    char *buf = malloc(total);
    if (!buf)
        return -1;
    memcpy(buf, head, (size_t)hn);
    memcpy(buf + hn, text, len);
    memcpy(buf + hn + len, "\r\n", 2);
    int ok = mg_write(rq->conn, buf, total) == (int)total;
    free(buf);
    if (ok)
        rq->bytes += (int64_t)total;
    return ok ? 0 : -1;
}

static int send_event(gw_request *rq, const char *event, sf_feed_id id, const char *data)
{
    char ids[SF_FEED_ID_MAX];
    sf_feed_id_format(id, ids);
    size_t n = strlen(event) + strlen(ids) + strlen(data) + 32;
    char *text = malloc(n);
    if (!text)
        return -1;
    int len = snprintf(text, n, "id: %s\nevent: %s\ndata: %s\n\n", ids, event, data);
    int rc = send_chunk(rq, text, (size_t)len);
    free(text);
    return rc;
}

/* The topics asked for (all when none are named), and whether the role may see them: results
 * need a role that may read results. */
static int topics_of(gw_request *rq, unsigned *mask, sf_error *err)
{
    char text[256];
    const char *q = rq->ri->query_string;
    int n = q ? mg_get_var(q, strlen(q), "topics", text, sizeof(text)) : -1;
    if (n == -2)
        return sf_fail(err, SF_EINVAL, "topics: too long");
    if (n < 0) {
        *mask = SF_FEED_ALL;
        if (rq->role == SF_ROLE_MANUAL)
            *mask &= ~(1u << SF_FEED_RESULTS);
        return 0;
    }
    int rc = sf_feed_topics_parse(text, mask, err);
    if (!rc && (*mask & (1u << SF_FEED_RESULTS)) && rq->role == SF_ROLE_MANUAL)
        rc = sf_fail(err, SF_EFORBIDDEN,
                     "the results topic needs the role read, write or admin; %s has the role %s",
                     rq->user, sf_role_title((sf_role)rq->role));
    return rc;
}

/* Last-Event-ID, else ?last_event_id=: 0 with *have, or SF_EINVAL. */
static int last_id_of(gw_request *rq, int *have, sf_feed_id *id, sf_error *err)
{
    char text[SF_FEED_ID_MAX + 8];
    const char *h = mg_get_header(rq->conn, "Last-Event-ID");
    const char *q = rq->ri->query_string;
    *have = 0;
    if (h && *h) {
        if (strlen(h) >= sizeof(text))
            return sf_fail(err, SF_EINVAL, "Last-Event-ID: too long");
        snprintf(text, sizeof(text), "%s", h);
    } else {
        int n = q ? mg_get_var(q, strlen(q), "last_event_id", text, sizeof(text)) : -1;
        if (n == -2)
            return sf_fail(err, SF_EINVAL, "last_event_id: too long");
        if (n <= 0)
            return 0;
    }
    *have = 1;
    return sf_feed_id_parse(text, id, err);
}

/* 1 when the client has closed its end: its stream (and its place under the caps) goes at
 * once, not at the next write. An SSE client sends nothing after its request, so anything
 * readable is a close too. */
static int client_gone(int fd)
{
    struct pollfd p = {fd, POLLIN | POLLRDHUP, 0};
    return fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR));
}

/* Still allowed to read the feed: the credentials hold and the role still may see the topics. */
static int still_allowed(gw_request *rq, unsigned mask)
{
    int retry = 0;
    sf_error err = SF_ERROR_INIT;
    int rc = gw_authenticate(rq, 0, &retry, &err);
    if (rc == SF_EFORBIDDEN)
        return 0;
    return !(rc == 0 && (mask & (1u << SF_FEED_RESULTS)) && rq->role == SF_ROLE_MANUAL);
}

/* Send the entries of b that the stream wants (*wrote: some were). 0, or -1 when the client
 * has gone. */
static int send_batch(gw_request *rq, unsigned mask, const sf_feed_batch *b, sf_feed_id *pos,
                      int *wrote)
{
    *wrote = 0;
    sf_rpc_opts o = SF_RPC_OPTS_INIT;
    o.timeout_ms = (int)rq->gw->cfg.rpc_timeout_ms;
    o.user = rq->user[0] ? rq->user : NULL;
    o.base_url = rq->base_url;
    for (size_t i = 0; i < b->n; i++) {
        const sf_feed_entry *e = &b->entries[i];
        if (e->topic >= 0 && (mask & (1u << e->topic))) {
            char *json;
            sf_error err = SF_ERROR_INIT;
            int rc = sf_feed_render(rq->gw->clients, e, &o, &json, &err);
            if (rc == SF_EUNAVAIL || rc == SF_EINTERNAL) {
                /* the event is not skipped: the stream ends, and the client resumes after pos */
                sf_warn("event stream: %s", err.msg);
                return -1;
            }
            if (!rc) { /* else the object has gone since: nothing to show */
                int sent = send_event(rq, sf_feed_event_name((sf_feed_topic)e->topic), e->id, json);
                free(json);
                if (sent)
                    return -1;
                *wrote = 1;
            }
        }
        *pos = e->id;
    }
    return 0;
}

static int stream(gw_request *rq, unsigned mask, int have_after, sf_feed_id after)
{
    gw_state *gw = rq->gw;
    sf_error err = SF_ERROR_INIT;
    sf_redis *r = NULL;
    int lost = 0, rc;
    if ((rc = sf_redis_open(&r, gw->cfg.common.redis, &err)) ||
        (rc = sf_feed_start(r, have_after, &after, &lost, &err))) {
        sf_redis_free(r);
        return gw_reply_sf_error(rq, SF_EUNAVAIL, &err);
    }
    int fd = gw_conn_socket(rq);
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){SEND_BUFFER}, sizeof(int));
    rq->close = 1;
    gw_reply_head(rq, 200, "text/event-stream", -1,
                  "Transfer-Encoding: chunked\r\nCache-Control: no-store\r\n"
                  "X-Accel-Buffering: no\r\nX-Content-Type-Options: nosniff\r\n");
    int alive = !rq->head;
    static const char hello[] = "retry: 2000\n: stbfarm events\n\n";
    if (alive)
        alive = send_chunk(rq, hello, sizeof(hello) - 1) == 0;
    if (alive && lost)
        alive = send_event(rq, "lost", after,
                           "{\"error\": \"events after the Last-Event-ID may have been dropped "
                           "from the retained history: read the state afresh\"}") == 0;
    int64_t now = sf_mono_ms(), sent_at = now, checked_at = now;
    int64_t until = now + gw->cfg.long_poll_secs * 60 * 1000;
    int failing = 0;
    while (alive && !atomic_load(&gw->stopping) && (now = sf_mono_ms()) < until &&
           !client_gone(fd)) {
        if (now - checked_at >= RECHECK_MS) {
            checked_at = now;
            if (!still_allowed(rq, mask))
                break;
        }
        sf_feed_batch b;
        rc = sf_feed_read(r, after, BATCH, BLOCK_MS, &b, &err);
        if (rc) {
            if (!failing++)
                sf_warn("event stream: %s", err.msg);
            struct timespec ts = {1, 0}; /* Redis away: look again in a second */
            nanosleep(&ts, NULL);
        } else {
            failing = 0;
            int wrote;
            alive = send_batch(rq, mask, &b, &after, &wrote) == 0;
            if (wrote) /* entries of other topics write nothing: the keepalive still goes */
                sent_at = sf_mono_ms();
        }
        sf_feed_batch_free(&b);
        if (alive && sf_mono_ms() - sent_at >= KEEPALIVE_MS) {
            static const char ka[] = ": keepalive\n\n";
            alive = send_chunk(rq, ka, sizeof(ka) - 1) == 0;
            sent_at = sf_mono_ms();
        }
    }
    if (alive)
        mg_write(rq->conn, "0\r\n\r\n", 5);
    sf_redis_free(r);
    return 200;
}

static int events(gw_request *rq)
{
    gw_state *gw = rq->gw;
    sf_error err = SF_ERROR_INIT;
    unsigned mask;
    int have_after;
    sf_feed_id after = {0, 0};
    int rc;
    if ((rc = topics_of(rq, &mask, &err)) || (rc = last_id_of(rq, &have_after, &after, &err)))
        return gw_reply_sf_error(rq, rc, &err);
    long per_token = gw->cfg.max_event_streams_per_token;
    if (gw_tally_add(gw->event_streams_by_token, rq->token_id, 1) > per_token) {
        gw_tally_add(gw->event_streams_by_token, rq->token_id, -1);
        return gw_reply_error_headers(rq, 429, "Retry-After: 10\r\n",
                                      "too many event streams at once: at most %ld per token",
                                      per_token);
    }
    int status;
    if (atomic_fetch_add(&gw->event_streams, 1) >= gw->cfg.max_event_streams) {
        status = gw_reply_error_headers(
            rq, 503, "Retry-After: 10\r\n",
            "this gateway is already serving %ld event streams; retry shortly",
            gw->cfg.max_event_streams);
    } else {
        status = stream(rq, mask, have_after, after);
    }
    atomic_fetch_sub(&gw->event_streams, 1);
    gw_tally_add(gw->event_streams_by_token, rq->token_id, -1);
    return status;
}

int gw_handle_events(gw_request *rq)
{
    return gw_long_poll(rq, events);
}
