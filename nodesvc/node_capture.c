#include "node_capture.h"

#include "sf_log.h"
#include "sf_time.h"

#include <libavcodec/avcodec.h>
#include <libavdevice/avdevice.h>
#include <libavformat/avformat.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { BACKOFF_MIN_MS = 100, BACKOFF_MAX_MS = 2000 };

struct node_capture {
    char *source, *format, *options;
    int lost_after_ms;
    int pace; /* the source runs faster than real time (lavfi, a file): play it at its rate */
    pthread_t thread;
    atomic_int stopping;
    atomic_llong io_deadline_ms; /* a read blocked past this is a stalled source */
    pthread_mutex_t lock;        /* guards what follows */
    pthread_cond_t cond;
    AVFrame *latest;
    uint64_t seq;
    int64_t latest_ms; /* monotonic time of the newest frame */
    char error[256];
    uint64_t reconnects;
    pthread_mutex_t sink_lock; /* held while sinks run; guards sinks */
    struct {
        node_capture_sink *fn;
        void *arg;
    } sinks[NODE_CAPTURE_SINKS];
};

static char *dup_opt(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int interrupt_cb(void *arg)
{
    node_capture *c = arg;
    long long deadline = atomic_load(&c->io_deadline_ms);
    return atomic_load(&c->stopping) || (deadline && sf_mono_ms() > deadline);
}

static void set_error(node_capture *c, const char *fmt, const char *detail)
{
    pthread_mutex_lock(&c->lock);
    snprintf(c->error, sizeof(c->error), fmt, detail);
    pthread_mutex_unlock(&c->lock);
}

static void publish(node_capture *c, AVFrame *f)
{
    AVFrame *ref = av_frame_clone(f);
    if (!ref)
        return;
    ref->pts = sf_now_us();
    pthread_mutex_lock(&c->lock);
    av_frame_free(&c->latest);
    c->latest = ref;
    c->seq++;
    c->latest_ms = sf_mono_ms();
    c->error[0] = '\0';
    uint64_t seq = c->seq;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    /* ref stays c->latest until this thread publishes again */
    pthread_mutex_lock(&c->sink_lock);
    for (int i = 0; i < NODE_CAPTURE_SINKS; i++) {
        if (c->sinks[i].fn)
            c->sinks[i].fn(c->sinks[i].arg, ref, seq);
    }
    pthread_mutex_unlock(&c->sink_lock);
}

/* Sleep ms, or less when stopping. */
static void nap(node_capture *c, int ms)
{
    struct timespec ts;
    sf_timespec_after(CLOCK_MONOTONIC, ms, &ts);
    pthread_mutex_lock(&c->lock);
    while (!atomic_load(&c->stopping) && pthread_cond_timedwait(&c->cond, &c->lock, &ts) == 0) {
    }
    pthread_mutex_unlock(&c->lock);
}

static const char *av_err(int rc, char *buf, size_t len)
{
    av_strerror(rc, buf, len);
    return buf;
}

/* Open the source and read it until it fails. Returns 1 when at least one frame came (the
 * back-off starts afresh), 0 otherwise. */
static int capture_once(node_capture *c)
{
    AVFormatContext *fmt = avformat_alloc_context();
    AVCodecContext *dec = NULL;
    AVDictionary *opts = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    char ebuf[128];
    int got = 0, rc;
    int64_t pace_wall0 = 0, pace_pts0 = AV_NOPTS_VALUE;
    if (!fmt || !pkt || !frame)
        goto cleanup;
    fmt->interrupt_callback.callback = interrupt_cb;
    fmt->interrupt_callback.opaque = c;
    if (c->options)
        av_dict_parse_string(&opts, c->options, "=", ",", 0);
    const AVInputFormat *ifmt = c->format ? av_find_input_format(c->format) : NULL;
    if (c->format && !ifmt) {
        set_error(c, "unknown video format '%s'", c->format);
        goto cleanup;
    }
    atomic_store(&c->io_deadline_ms, sf_mono_ms() + c->lost_after_ms + 3000);
    if ((rc = avformat_open_input(&fmt, c->source, ifmt, &opts)) < 0) {
        fmt = NULL; /* freed by the failed open */
        set_error(c, "cannot open the video source: %s", av_err(rc, ebuf, sizeof(ebuf)));
        goto cleanup;
    }
    fmt->probesize = 4 << 20;
    fmt->max_analyze_duration = 500000;
    if ((rc = avformat_find_stream_info(fmt, NULL)) < 0) {
        set_error(c, "cannot read the video source: %s", av_err(rc, ebuf, sizeof(ebuf)));
        goto cleanup;
    }
    const AVCodec *codec = NULL;
    int stream = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (stream < 0 || !codec || !(dec = avcodec_alloc_context3(codec)) ||
        avcodec_parameters_to_context(dec, fmt->streams[stream]->codecpar) < 0 ||
        avcodec_open2(dec, codec, NULL) < 0) {
        set_error(c, "%s", "the video source has no video stream libav can decode");
        goto cleanup;
    }
    AVRational tb = fmt->streams[stream]->time_base;
    sf_info("video source %s open: %s %dx%d", c->source, codec->name, dec->width, dec->height);
    /* a source that never blocks (lavfi, a file) reaches no interrupt callback: look here */
    while (!atomic_load(&c->stopping)) {
        atomic_store(&c->io_deadline_ms, sf_mono_ms() + c->lost_after_ms);
        rc = av_read_frame(fmt, pkt);
        if (rc < 0) {
            if (!atomic_load(&c->stopping))
                set_error(c,
                          rc == AVERROR_EOF ? "the video source ended%s"
                                            : "the video source failed: %s",
                          rc == AVERROR_EOF ? "" : av_err(rc, ebuf, sizeof(ebuf)));
            break;
        }
        if (pkt->stream_index != stream) {
            av_packet_unref(pkt);
            continue;
        }
        rc = avcodec_send_packet(dec, pkt);
        av_packet_unref(pkt);
        while (rc >= 0 && avcodec_receive_frame(dec, frame) == 0) {
            if (c->pace && frame->best_effort_timestamp != AV_NOPTS_VALUE) {
                int64_t pts_us = av_rescale_q(frame->best_effort_timestamp, tb, AV_TIME_BASE_Q);
                if (pace_pts0 == AV_NOPTS_VALUE) {
                    pace_pts0 = pts_us;
                    pace_wall0 = sf_mono_ms() * 1000;
                }
                int64_t ahead_ms = (pts_us - pace_pts0 - (sf_mono_ms() * 1000 - pace_wall0)) / 1000;
                if (ahead_ms > 0)
                    nap(c, ahead_ms > 1000 ? 1000 : (int)ahead_ms);
            }
            publish(c, frame);
            av_frame_unref(frame);
            got = 1;
        }
    }
cleanup:
    atomic_store(&c->io_deadline_ms, 0);
    av_dict_free(&opts);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    avformat_free_context(fmt);
    av_packet_free(&pkt);
    av_frame_free(&frame);
    return got;
}

static void *capture_thread(void *arg)
{
    node_capture *c = arg;
    int backoff = BACKOFF_MIN_MS;
    while (!atomic_load(&c->stopping)) {
        if (capture_once(c))
            backoff = BACKOFF_MIN_MS;
        if (atomic_load(&c->stopping))
            break;
        pthread_mutex_lock(&c->lock);
        sf_warn("video lost (%s); reconnecting in %d ms", c->error, backoff);
        c->reconnects++;
        pthread_mutex_unlock(&c->lock);
        nap(c, backoff);
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
    return NULL;
}

int node_capture_start(node_capture **out, const node_capture_opts *o, sf_error *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, avdevice_register_all);
    avformat_network_init();
    node_capture *c = calloc(1, sizeof(*c));
    if (!c)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    c->source = dup_opt(o->source);
    c->format = dup_opt(o->format);
    c->options = dup_opt(o->options);
    c->lost_after_ms = o->lost_after_ms > 0 ? o->lost_after_ms : 2000;
    struct stat st;
    c->pace = (o->format && !strcmp(o->format, "lavfi")) ||
              (stat(o->source, &st) == 0 && S_ISREG(st.st_mode));
    snprintf(c->error, sizeof(c->error), "no frame from %s yet", o->source);
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->sink_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    if (!c->source || pthread_create(&c->thread, NULL, capture_thread, c)) {
        free(c->source);
        free(c->format);
        free(c->options);
        free(c);
        return sf_fail(err, SF_EINTERNAL, "cannot start the capture thread");
    }
    *out = c;
    return 0;
}

void node_capture_stop(node_capture *c)
{
    if (!c)
        return;
    atomic_store(&c->stopping, 1);
    pthread_mutex_lock(&c->lock);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    av_frame_free(&c->latest);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->sink_lock);
    pthread_cond_destroy(&c->cond);
    free(c->source);
    free(c->format);
    free(c->options);
    free(c);
}

/* With the lock held: is the newest frame fresh? */
static int fresh(const node_capture *c)
{
    return c->latest && sf_mono_ms() - c->latest_ms <= c->lost_after_ms;
}

static int lost(const node_capture *c, sf_error *err)
{
    return sf_fail(err, SF_EUNAVAIL, "no video: %s", c->error[0] ? c->error : "no frame recently");
}

int node_capture_frame(node_capture *c, AVFrame **out, uint64_t *seq, sf_error *err)
{
    *out = NULL;
    pthread_mutex_lock(&c->lock);
    int rc = 0;
    if (!fresh(c))
        rc = lost(c, err);
    else if (!(*out = av_frame_clone(c->latest)))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    if (!rc && seq)
        *seq = c->seq;
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int node_capture_next(node_capture *c, uint64_t after, int timeout_ms, AVFrame **out, uint64_t *seq,
                      sf_error *err)
{
    struct timespec ts;
    sf_timespec_after(CLOCK_MONOTONIC, timeout_ms, &ts);
    *out = NULL;
    pthread_mutex_lock(&c->lock);
    while (c->seq <= after && !atomic_load(&c->stopping)) {
        if (pthread_cond_timedwait(&c->cond, &c->lock, &ts))
            break;
    }
    int rc = 0;
    if (c->seq <= after || !fresh(c))
        rc = lost(c, err);
    else if (!(*out = av_frame_clone(c->latest)))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    if (!rc && seq)
        *seq = c->seq;
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int node_capture_add_sink(node_capture *c, node_capture_sink *sink, void *arg, sf_error *err)
{
    int slot = -1;
    pthread_mutex_lock(&c->sink_lock);
    for (int i = 0; i < NODE_CAPTURE_SINKS && slot < 0; i++) {
        if (!c->sinks[i].fn)
            slot = i;
    }
    if (slot >= 0) {
        c->sinks[slot].fn = sink;
        c->sinks[slot].arg = arg;
    }
    pthread_mutex_unlock(&c->sink_lock);
    if (slot < 0)
        return sf_fail(err, SF_EINTERNAL, "the capture has %d frame sinks already",
                       NODE_CAPTURE_SINKS);
    return 0;
}

void node_capture_remove_sink(node_capture *c, node_capture_sink *sink, void *arg)
{
    pthread_mutex_lock(&c->sink_lock);
    for (int i = 0; i < NODE_CAPTURE_SINKS; i++) {
        if (c->sinks[i].fn == sink && c->sinks[i].arg == arg)
            c->sinks[i].fn = NULL;
    }
    pthread_mutex_unlock(&c->sink_lock);
}

void node_capture_get_status(node_capture *c, node_capture_status *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&c->lock);
    out->ok = fresh(c);
    if (!out->ok)
        snprintf(out->error, sizeof(out->error), "%s",
                 c->error[0] ? c->error : "no frame recently");
    if (c->latest) {
        out->width = c->latest->width;
        out->height = c->latest->height;
    }
    out->frames = c->seq;
    out->reconnects = c->reconnects;
    out->lost_after_ms = c->lost_after_ms;
    pthread_mutex_unlock(&c->lock);
}
