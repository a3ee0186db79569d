#include "node_live.h"

#include "node_agent.pb-c.h"
#include "node_image.h"
#include "node_service.h"

#include <libavutil/mem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WAIT_DEFAULT_MS = 1000, WAIT_MAX_MS = 5000 };

/* The last frame encoded, for the next caller who asks for the same frame at the same width. */
struct node_live {
    const node_devices *dev;
    pthread_mutex_t lock;
    uint64_t seq;
    int width;
    uint8_t *jpeg; /* av_malloc'd */
    size_t len;
    uint64_t encoded;
};

int node_live_new(node_live **out, const node_devices *dev)
{
    node_live *l = calloc(1, sizeof(*l));
    if (!l)
        return SF_EINTERNAL;
    l->dev = dev;
    pthread_mutex_init(&l->lock, NULL);
    *out = l;
    return 0;
}

void node_live_free(node_live *l)
{
    if (!l)
        return;
    av_free(l->jpeg);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

/* Copy the cached JPEG of (seq, width) into the reply: 1 when it was there. */
static int from_cache(node_live *l, uint64_t seq, int width, sf_rpc_reply *reply, int *oom)
{
    pthread_mutex_lock(&l->lock);
    int hit = l->jpeg && l->seq == seq && l->width == width;
    if (hit)
        *oom = sf_rpc_reply_raw(reply, "image/jpeg", l->jpeg, l->len) != 0;
    pthread_mutex_unlock(&l->lock);
    return hit;
}

static void keep(node_live *l, uint64_t seq, int width, uint8_t *jpeg, size_t len)
{
    pthread_mutex_lock(&l->lock);
    l->encoded++;
    if (!l->jpeg || seq > l->seq || (seq == l->seq && width != l->width)) {
        av_free(l->jpeg);
        l->jpeg = jpeg;
        l->len = len;
        l->seq = seq;
        l->width = width;
        jpeg = NULL;
    }
    pthread_mutex_unlock(&l->lock);
    av_free(jpeg);
}

static int agent_live_frame(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                            sf_error *err)
{
    const Stbfarm__AgentLiveFrameRequest *q = (const Stbfarm__AgentLiveFrameRequest *)req;
    node_live *l = ((const node_service *)call->tls)->live;
    int wait = q->has_timeout_ms && q->timeout_ms > 0 ? q->timeout_ms : WAIT_DEFAULT_MS;
    int left = sf_rpc_remaining_ms(call) - 50;
    wait = wait > WAIT_MAX_MS ? WAIT_MAX_MS : wait;
    wait = left < wait ? (left > 1 ? left : 1) : wait;
    AVFrame *f;
    uint64_t seq;
    int rc = q->has_after_seq && q->after_seq
                 ? node_capture_next(l->dev->cap, q->after_seq, wait, &f, &seq, err)
                 : node_capture_frame(l->dev->cap, &f, &seq, err);
    if (rc)
        return rc;
    int width = q->has_width && q->width > 0 && q->width < f->width ? q->width & ~1 : f->width;
    int64_t captured = f->pts;
    int oom = 0;
    if (!from_cache(l, seq, width, reply, &oom)) {
        uint8_t *jpeg;
        size_t len;
        rc = node_image_jpeg(f, width, &jpeg, &len, err);
        if (!rc) {
            oom = sf_rpc_reply_raw(reply, "image/jpeg", jpeg, len) != 0;
            keep(l, seq, width, jpeg, len);
        }
    }
    av_frame_free(&f);
    if (rc)
        return rc;
    char text[32];
    snprintf(text, sizeof(text), "%llu", (unsigned long long)seq);
    oom |= sf_rpc_reply_header(reply, "X-Frame-Seq", text) != 0;
    snprintf(text, sizeof(text), "%lld", (long long)captured);
    oom |= sf_rpc_reply_header(reply, "X-Frame-Time", text) != 0;
    return oom ? sf_fail(err, SF_EINTERNAL, "out of memory") : 0;
}

static int agent_live_status(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                             sf_error *err)
{
    (void)req;
    node_live *l = ((const node_service *)call->tls)->live;
    Stbfarm__AgentLiveStatus out = STBFARM__AGENT_LIVE_STATUS__INIT;
    pthread_mutex_lock(&l->lock);
    out.frames_encoded = (int64_t)l->encoded;
    pthread_mutex_unlock(&l->lock);
    return sf_rpc_reply_msg(reply, &out.base) ? sf_fail(err, SF_EINTERNAL, "out of memory") : 0;
}

const sf_rpc_method node_live_methods[] = {
    {"agent.live_frame", &stbfarm__agent_live_frame_request__descriptor, agent_live_frame},
    {"agent.live_status", NULL, agent_live_status},
};
const size_t node_live_n_methods = sizeof(node_live_methods) / sizeof(node_live_methods[0]);
