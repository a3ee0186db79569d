/* GET /api/v2/nodes/<id>/live.mjpeg[?fps=N&width=W]: a node's live screen as MJPEG
 * (multipart/x-mixed-replace, chunked), for the portal's node page and for scripts (curl, ffplay,
 * VLC and OpenCV read it).
 *
 * The gateway asks the node for one frame at a time (nodes.live_frame, waiting for a frame newer
 * than the last it sent) and writes each as a part as soon as it comes, at most fps a second; so
 * the picture is as fresh as the capture, and a node nobody watches does no work at all. The
 * stream ends when the client goes (the next write fails; while the picture stands still the
 * last frame is sent again every 2 s, so a closed tab is noticed within that), when the node
 * stays unreachable for 10 s, or after --long-poll-secs * 60 (a client that wants more
 * reconnects).
 *
 * Viewers are counted per node across every gateway (the sorted set sf:live:<node>, each viewer
 * renewing its entry every few seconds, so a gateway that dies loses its viewers' places within
 * VIEWER_TTL_MS), at most --live-viewers; and each stream holds a civetweb worker, so it counts
 * against this gateway's --max-long-polls like any long poll. */
#include "gw_portal.h"

#include "node_agent.pb-c.h"
#include "nodes.pb-c.h"
#include "sf_crypto.h"
#include "sf_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BOUNDARY "stbfarmframe"

enum {
    VIEWER_TTL_MS = 15000,
    RENEW_MS = 5000,
    FRAME_WAIT_MS = 1000,
    REPEAT_MS = 2000,   /* a still picture is sent again this often */
    GIVE_UP_MS = 10000, /* the node unreachable this long: end the stream */
    FPS_DEFAULT = 25,
    FPS_MAX = 60,
};

/* KEYS: the node's viewers. ARGV: viewer, now (ms), ttl (ms), cap, mode ("join" or "renew").
 * join: 1 when there was room (and the viewer is in), else 0; renew: 1. */
static const char *const VIEWERS_SCRIPT =
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])\n"
    "if ARGV[5] == 'join' and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then\n"
    "  return 0\n"
    "end\n"
    "redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]), ARGV[1])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
    "return 1\n";

static int viewers(gw_request *rq, const char *node, const char *viewer, const char *mode,
                   int *admitted, sf_error *err)
{
    char key[128], now[24], ttl[24], cap[24];
    snprintf(key, sizeof(key), "sf:live:%s", node);
    snprintf(now, sizeof(now), "%lld", (long long)(sf_now_us() / 1000));
    snprintf(ttl, sizeof(ttl), "%d", VIEWER_TTL_MS);
    snprintf(cap, sizeof(cap), "%ld", rq->gw->cfg.live_viewers);
    const char *args[] = {key, viewer, now, ttl, cap, mode};
    redisReply *reply;
    int rc = sf_redis_eval(rq->thread->redis, VIEWERS_SCRIPT, &reply, err, 1, 6, args, NULL);
    if (rc)
        return rc;
    *admitted = (int)sf_reply_int(reply, 0);
    freeReplyObject(reply);
    return 0;
}

static void leave(gw_request *rq, const char *node, const char *viewer)
{
    redisReply *reply;
    if (!sf_redis_cmd(rq->thread->redis, &reply, NULL, "ZREM sf:live:%s %s", node, viewer))
        freeReplyObject(reply);
}

/* A query parameter as an integer in [lo, hi]: 0 with *out (def when absent), or SF_EINVAL. */
static int query_int(const gw_request *rq, const char *name, long lo, long hi, long def, long *out,
                     sf_error *err)
{
    char buf[32];
    const char *q = rq->ri->query_string;
    *out = def;
    if (!q || mg_get_var(q, strlen(q), name, buf, sizeof(buf)) < 0)
        return 0;
    char *end;
    long v = strtol(buf, &end, 10);
    if (!*buf || *end || v < lo || v > hi)
        return sf_fail(err, SF_EINVAL, "%s must be an integer from %ld to %ld", name, lo, hi);
    *out = v;
    return 0;
}

/* One frame: 0 with res (free it), or an error (nothing to free). */
static int frame(gw_request *rq, const char *node, uint64_t after, long width, sf_rpc_result *res,
                 sf_error *err)
{
    Stbfarm__AgentLiveFrameRequest f = STBFARM__AGENT_LIVE_FRAME_REQUEST__INIT;
    f.has_after_seq = after > 0;
    f.after_seq = after;
    f.has_width = width > 0;
    f.width = (int32_t)width;
    f.has_timeout_ms = 1;
    f.timeout_ms = FRAME_WAIT_MS;
    Stbfarm__NodeLiveFrameRequest q = STBFARM__NODE_LIVE_FRAME_REQUEST__INIT;
    q.node_id = (char *)node;
    q.frame = &f;
    int rc = gw_call(rq, SF_SVC_NODES, "nodes.live_frame", &q.base, NULL, res, err);
    if (!rc && (!res->content_type || !res->body_len))
        rc = sf_fail(err, SF_EUNAVAIL, "node %s sent no frame", node);
    if (rc)
        sf_rpc_result_free(res); /* a failed call's result is freed too (sf_rpc.h) */
    return rc;
}

static const char *header_of(const sf_rpc_result *res, const char *name)
{
    for (size_t i = 0; i < res->n_headers; i++) {
        if (!strcmp(res->headers[i]->name, name))
            return res->headers[i]->value;
    }
    return NULL;
}

/* Write one part (the frame in res) as one HTTP chunk, in one write. 0, or -1 when the client
 * has gone. */
static int send_part(gw_request *rq, const sf_rpc_result *res)
{
    char head[256];
    const char *when = header_of(res, "X-Frame-Time"), *seq = header_of(res, "X-Frame-Seq");
    int hn = snprintf(head, sizeof(head),
                      "--" BOUNDARY "\r\nContent-Type: image/jpeg\r\nContent-Length: %zu\r\n"
                      "X-Frame-Time: %s\r\nX-Frame-Seq: %s\r\n\r\n",
                      res->body_len, when ? when : "0", seq ? seq : "0");
    size_t part = (size_t)hn + res->body_len + 2;
    char *buf = malloc(part + 32);
    if (!buf)
        return -1;
    int cn = snprintf(buf, 32, "%zx\r\n", part);
    memcpy(buf + cn, head, (size_t)hn);
    memcpy(buf + cn + hn, res->body, res->body_len);
    memcpy(buf + cn + hn + res->body_len, "\r\n\r\n", 4);
    size_t total = (size_t)cn + part + 2;
    int ok = mg_write(rq->conn, buf, total) == (int)total;
    free(buf);
    if (ok)
        rq->bytes += (int64_t)total;
    return ok ? 0 : -1;
}

static void pause_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static uint64_t seq_of(const sf_rpc_result *res)
{
    const char *s = header_of(res, "X-Frame-Seq");
    return s ? strtoull(s, NULL, 10) : 0;
}

static int stream(gw_request *rq, const char *node, const char *viewer)
{
    sf_error err = SF_ERROR_INIT;
    long fps, width;
    int rc;
    if ((rc = query_int(rq, "fps", 1, FPS_MAX, FPS_DEFAULT, &fps, &err)) ||
        (rc = query_int(rq, "width", 0, 8192, 0, &width, &err)))
        return gw_reply_sf_error(rq, rc, &err);
    int admitted = 0;
    if ((rc = viewers(rq, node, viewer, "join", &admitted, &err)))
        return gw_reply_sf_error(rq, SF_EUNAVAIL, &err);
    if (!admitted)
        return gw_reply_error_headers(rq, 503, "Retry-After: 5\r\n",
                                      "node %s has %ld viewers of its live screen already, the "
                                      "most --live-viewers allows; retry when one has left",
                                      node, rq->gw->cfg.live_viewers);
    sf_rpc_result last;
    if ((rc = frame(rq, node, 0, width, &last, &err))) {
        leave(rq, node, viewer);
        return gw_reply_sf_error(rq, rc, &err);
    }
    gw_reply_head(rq, 200, "multipart/x-mixed-replace; boundary=" BOUNDARY, -1,
                  "Transfer-Encoding: chunked\r\nCache-Control: no-store\r\n"
                  "X-Content-Type-Options: nosniff\r\n");
    int64_t period = 1000 / fps, now = sf_mono_ms();
    int64_t sent_at = now, renewed = now, failing_since = 0;
    int64_t until = now + rq->gw->cfg.long_poll_secs * 60 * 1000;
    int alive = !rq->head && send_part(rq, &last) == 0;
    while (alive && sf_mono_ms() < until) {
        pause_ms(sent_at + period - sf_mono_ms());
        sf_rpc_result next;
        rc = frame(rq, node, seq_of(&last), width, &next, &err);
        now = sf_mono_ms();
        if (!rc) {
            sf_rpc_result_free(&last);
            last = next;
            failing_since = 0;
            alive = send_part(rq, &last) == 0;
            sent_at = now;
        } else {
            if (!failing_since)
                failing_since = now;
            if (now - failing_since > GIVE_UP_MS)
                break;
            if (now - sent_at >= REPEAT_MS) { /* a still picture, or a node away for now */
                alive = send_part(rq, &last) == 0;
                sent_at = now;
            }
            pause_ms(100);
        }
        if (alive && now - renewed >= RENEW_MS) {
            viewers(rq, node, viewer, "renew", &admitted, NULL);
            renewed = now;
        }
    }
    sf_rpc_result_free(&last);
    if (alive)
        mg_write(rq->conn, "0\r\n\r\n", 5);
    leave(rq, node, viewer);
    return 200;
}

static int live(gw_request *rq)
{
    const char *node = gw_param(rq, "node_id");
    if (!node || strlen(node) > 64)
        return gw_reply_error(rq, 404, "unknown node_id");
    char viewer[33];
    sf_random_hex(16, viewer);
    return stream(rq, node, viewer);
}

int gw_handle_live(gw_request *rq)
{
    return gw_long_poll(rq, live);
}
