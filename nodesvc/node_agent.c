#include "node_agent.h"

#include "node_agent.pb-c.h"
#include "node_image.h"
#include "node_lirc.h"
#include "nodes.pb-c.h"
#include "sf_log.h"
#include "sf_time.h"

#include <arpa/inet.h>
#include <libavutil/mem.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- screenshots ---- */

static int agent_screenshot(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                            sf_error *err)
{
    (void)req;
    AVFrame *f;
    uint8_t *png;
    size_t len;
    int rc = node_capture_frame(node_agent_of(call)->dev->cap, &f, NULL, err);
    if (rc)
        return rc;
    rc = node_image_png(f, &png, &len, err);
    av_frame_free(&f);
    if (rc)
        return rc;
    rc = sf_rpc_reply_raw(reply, "image/png", png, len);
    av_free(png);
    return rc ? sf_fail(err, SF_EINTERNAL, "out of memory") : 0;
}

static int agent_thumbnail(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                           sf_error *err)
{
    const Stbfarm__AgentImageRequest *q = (const Stbfarm__AgentImageRequest *)req;
    AVFrame *f;
    uint8_t *jpeg;
    size_t len;
    int rc = node_capture_frame(node_agent_of(call)->dev->cap, &f, NULL, err);
    if (rc)
        return rc;
    rc = node_image_jpeg(f, q->has_width ? q->width : NODE_THUMBNAIL_WIDTH, &jpeg, &len, err);
    av_frame_free(&f);
    if (rc)
        return rc;
    rc = sf_rpc_reply_raw(reply, "image/jpeg", jpeg, len);
    av_free(jpeg);
    return rc ? sf_fail(err, SF_EINTERNAL, "out of memory") : 0;
}

/* ---- IR ---- */

static int agent_press(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                       sf_error *err)
{
    const Stbfarm__AgentPressRequest *q = (const Stbfarm__AgentPressRequest *)req;
    node_agent *a = node_agent_of(call);
    int timeout = a->dev->lirc_timeout_ms, left = sf_rpc_remaining_ms(call);
    Stbfarm__AgentPressReply out = STBFARM__AGENT_PRESS_REPLY__INIT;
    out.start_time_us = sf_now_us();
    int rc = node_lirc_send(a->dev->lircd, "SEND_ONCE", q->remote_control, q->key,
                            left < timeout ? left : timeout, err);
    if (rc)
        return rc;
    out.end_time_us = sf_now_us();
    sf_info("pressed %s %s in %.1f ms", q->remote_control, q->key,
            (double)(out.end_time_us - out.start_time_us) / 1000.0);
    return sf_rpc_reply_msg(reply, &out.base) ? sf_fail(err, SF_EINTERNAL, "out of memory") : 0;
}

/* ---- video ---- */

static int agent_video_start(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                             sf_error *err)
{
    (void)reply;
    const Stbfarm__AgentVideoStartRequest *q = (const Stbfarm__AgentVideoStartRequest *)req;
    node_agent *a = node_agent_of(call);
    if (q->path[0] != '/')
        return sf_fail(err, SF_EINVAL, "the video path must be absolute, not '%.200s'", q->path);
    pthread_mutex_lock(&a->video_lock);
    int rc = 0;
    if (a->video)
        rc = sf_fail(err, SF_ECONFLICT, "already recording to %s", node_video_path(a->video));
    else
        rc = node_video_start(&a->video, a->dev->cap, q->path, &a->dev->video, err);
    pthread_mutex_unlock(&a->video_lock);
    if (!rc)
        sf_info("recording to %s", q->path);
    return rc;
}

static int agent_video_stop(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                            sf_error *err)
{
    (void)req;
    node_agent *a = node_agent_of(call);
    pthread_mutex_lock(&a->video_lock);
    node_video *v = a->video;
    a->video = NULL;
    pthread_mutex_unlock(&a->video_lock);
    if (!v)
        return sf_fail(err, SF_ECONFLICT, "no recording is in progress");
    char *path = strdup(node_video_path(v));
    node_video_result res;
    int rc = node_video_stop(v, &res, err);
    if (!rc) {
        sf_info("recorded %s: %lld frames (%lld dropped) in %.1f s", path, (long long)res.frames,
                (long long)res.dropped, (double)res.duration_us / 1e6);
        Stbfarm__AgentVideoStopReply out = STBFARM__AGENT_VIDEO_STOP_REPLY__INIT;
        out.path = path ? path : (char *)"";
        out.frames = res.frames;
        out.duration_us = res.duration_us;
        if (sf_rpc_reply_msg(reply, &out.base))
            rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    free(path);
    return rc;
}

/* ---- status ---- */

static int agent_status(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                        sf_error *err)
{
    (void)req;
    node_agent *a = node_agent_of(call);
    node_capture_status st;
    node_capture_get_status(a->dev->cap, &st);
    Stbfarm__AgentStatus out = STBFARM__AGENT_STATUS__INIT;
    out.node_id = (char *)a->cfg.node_id;
    out.version = (char *)NODE_AGENT_VERSION;
    out.video_ok = st.ok;
    out.video_error = st.ok ? NULL : st.error;
    out.width = st.width;
    out.height = st.height;
    out.frames = (int64_t)st.frames;
    pthread_mutex_lock(&a->video_lock);
    char *recording = a->video ? strdup(node_video_path(a->video)) : NULL;
    pthread_mutex_unlock(&a->video_lock);
    out.recording = recording;
    int rc = sf_rpc_reply_msg(reply, &out.base) ? sf_fail(err, SF_EINTERNAL, "out of memory") : 0;
    free(recording);
    return rc;
}

const sf_rpc_method node_agent_methods[] = {
    {"agent.screenshot", &stbfarm__agent_image_request__descriptor, agent_screenshot},
    {"agent.thumbnail", &stbfarm__agent_image_request__descriptor, agent_thumbnail},
    {"agent.press", &stbfarm__agent_press_request__descriptor, agent_press},
    {"agent.video_start", &stbfarm__agent_video_start_request__descriptor, agent_video_start},
    {"agent.video_stop", NULL, agent_video_stop},
    {"agent.status", NULL, agent_status},
};
const size_t node_agent_n_methods = sizeof(node_agent_methods) / sizeof(node_agent_methods[0]);

/* ---- registration ---- */

/* The local address of the interface that routes to host (no packet is sent: connecting a UDP
 * socket only picks the route). */
static int route_ip(const char *host, char *out, size_t len)
{
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, "9", &hints, &ai) || !ai)
        return -1;
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int rc = -1;
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
        getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        const void *addr = ss.ss_family == AF_INET
                               ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
                               : (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
        rc = inet_ntop(ss.ss_family, addr, out, (socklen_t)len) ? 0 : -1;
    }
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return rc;
}

/* The length of a TCP URL's scheme (tcp:// or tls+tcp://), or 0 for another URL. */
static size_t tcp_scheme(const char *url)
{
    return !strncmp(url, "tcp://", 6) ? 6 : !strncmp(url, "tls+tcp://", 10) ? 10 : 0;
}

/* The host of the first broker URL (tcp://host:port), or "" for ipc://. */
static void broker_host(const char *brokers, char *out, size_t len)
{
    out[0] = '\0';
    size_t scheme = tcp_scheme(brokers);
    if (!scheme)
        return;
    const char *h = brokers + scheme, *end = strchr(h, ',');
    size_t n = end ? (size_t)(end - h) : strlen(h);
    const char *colon = memrchr(h, ':', n);
    if (colon)
        n = (size_t)(colon - h);
    if (n && h[0] == '[') { /* [v6]:port */
        h++;
        n -= 2;
    }
    snprintf(out, len, "%.*s", (int)n, h);
}

static void find_addresses(node_agent *a)
{
    char host[256];
    if (a->cfg.local_ip) {
        snprintf(a->local_ip, sizeof(a->local_ip), "%s", a->cfg.local_ip);
    } else {
        broker_host(a->cfg.brokers, host, sizeof(host));
        if (!host[0] || route_ip(host, a->local_ip, sizeof(a->local_ip)))
            snprintf(a->local_ip, sizeof(a->local_ip), "127.0.0.1");
    }
    const char *l = a->cfg.listen;
    size_t scheme = tcp_scheme(l);
    if (a->cfg.advertise) {
        snprintf(a->address, sizeof(a->address), "%s", a->cfg.advertise);
    } else if (scheme && (!strncmp(l + scheme, "0.0.0.0:", 8) || !strncmp(l + scheme, "*:", 2))) {
        snprintf(a->address, sizeof(a->address), "%.*s%s:%s", (int)scheme, l, a->local_ip,
                 strrchr(l, ':') + 1);
    } else {
        snprintf(a->address, sizeof(a->address), "%s", l);
    }
}

/* Register once; log only when the outcome changes (*ok: 1 registered, 0 failing). */
static void beat(node_agent *a, int *ok)
{
    Stbfarm__NodeHeartbeat hb = STBFARM__NODE_HEARTBEAT__INIT;
    hb.node_id = (char *)a->cfg.node_id;
    hb.address = a->address;
    hb.version = (char *)NODE_AGENT_VERSION;
    hb.local_ip_address = a->local_ip;
    hb.agent_instance = (char *)a->cfg.instance;
    node_activity act;
    memset(&act, 0, sizeof(act));
    if (a->cfg.activity)
        a->cfg.activity(a->cfg.activity_arg, &act);
    char *delivering[NODE_ACTIVITY_JOBS];
    for (size_t i = 0; i < act.n_delivering; i++)
        delivering[i] = act.delivering[i];
    hb.job_uid = act.job;
    hb.trouble = act.trouble;
    hb.n_delivering = act.n_delivering;
    hb.delivering = delivering;
    sf_rpc_opts o = SF_RPC_OPTS_INIT;
    o.timeout_ms = (int)(a->cfg.heartbeat_ms < 2000 ? a->cfg.heartbeat_ms : 2000);
    sf_rpc_result res;
    sf_error err = SF_ERROR_INIT;
    int rc = sf_rpc_call(a->nodes, "nodes.heartbeat", &hb.base, NULL, &o, &res, &err);
    sf_rpc_result_free(&res);
    if (rc && *ok != 0)
        sf_warn("heartbeat: %s", err.msg);
    else if (!rc && *ok != 1)
        sf_info("registered as %s at %s", a->cfg.node_id, a->address);
    *ok = rc == 0;
}

static void *heartbeat_thread(void *arg)
{
    node_agent *a = arg;
    int ok = -1; /* unknown yet: the first beat is logged either way */
    pthread_mutex_lock(&a->hb_lock);
    while (!a->hb_stop) {
        pthread_mutex_unlock(&a->hb_lock);
        beat(a, &ok);
        pthread_mutex_lock(&a->hb_lock);
        struct timespec ts;
        sf_timespec_after(CLOCK_MONOTONIC, a->cfg.heartbeat_ms, &ts);
        while (!a->hb_stop && pthread_cond_timedwait(&a->hb_cond, &a->hb_lock, &ts) == 0) {
        }
    }
    pthread_mutex_unlock(&a->hb_lock);
    return NULL;
}

int node_agent_start(node_agent *a, sf_error *err)
{
    pthread_mutex_init(&a->video_lock, NULL);
    pthread_mutex_init(&a->hb_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->hb_cond, &ca);
    find_addresses(a);
    int rc = sf_rpc_client_open(&a->nodes, a->cfg.brokers, SF_SVC_NODES, err);
    if (rc)
        return rc;
    if (pthread_create(&a->heartbeat, NULL, heartbeat_thread, a))
        return sf_fail(err, SF_EINTERNAL, "cannot start the heartbeat");
    a->hb_running = 1;
    sf_info("node %s: registering %s (local IP %s) every %ld ms", a->cfg.node_id, a->address,
            a->local_ip, a->cfg.heartbeat_ms);
    return 0;
}

void node_agent_stop(node_agent *a)
{
    if (a->hb_running) {
        pthread_mutex_lock(&a->hb_lock);
        a->hb_stop = 1;
        pthread_cond_broadcast(&a->hb_cond);
        pthread_mutex_unlock(&a->hb_lock);
        pthread_join(a->heartbeat, NULL);
        a->hb_running = 0;
    }
    sf_rpc_client_free(a->nodes);
    a->nodes = NULL;
    if (a->video) {
        node_video_result res;
        sf_error err = SF_ERROR_INIT;
        if (node_video_stop(a->video, &res, &err))
            sf_warn("%s", err.msg);
        a->video = NULL;
    }
}
