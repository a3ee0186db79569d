#include "node_video.h"

#include "sf_log.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WAIT_MS = 200 };

struct node_video {
    node_capture *cap;
    char *path;
    node_video_opts opts;
    pthread_t thread;
    atomic_int stopping;
    /* the recorder thread's own */
    AVFormatContext *mux;
    AVCodecContext *enc;
    AVStream *st;
    AVPacket *pkt;
    struct SwsContext *sws;
    AVFrame *conv;
    int header_written;
    int64_t first_us, last_pts;
    uint64_t last_seq;
    node_video_result res;
    sf_error err;
    int rc;
};

static int fail_av(node_video *v, int code, const char *what, int averr)
{
    char buf[128];
    av_strerror(averr, buf, sizeof(buf));
    return sf_fail(&v->err, code, "recording %s: %s: %s", v->path, what, buf);
}

/* Open the file and the encoder for frames like f. */
static int open_output(node_video *v, const AVFrame *f)
{
    int rc = avformat_alloc_output_context2(&v->mux, NULL, "mp4", v->path);
    if (rc < 0)
        return fail_av(v, SF_EINTERNAL, "mp4 muxer", rc);
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    if (!codec)
        return sf_fail(&v->err, SF_EINTERNAL, "recording: libav has no libx264 encoder");
    if (!(v->enc = avcodec_alloc_context3(codec)) || !(v->st = avformat_new_stream(v->mux, NULL)))
        return sf_fail(&v->err, SF_EINTERNAL, "out of memory");
    /* x264 takes full-range 4:2:0 as it is; anything else is converted */
    enum AVPixelFormat fmt = (enum AVPixelFormat)f->format;
    if (fmt != AV_PIX_FMT_YUV420P && fmt != AV_PIX_FMT_YUVJ420P)
        fmt = AV_PIX_FMT_YUV420P;
    v->enc->width = f->width & ~1;
    v->enc->height = f->height & ~1;
    v->enc->pix_fmt = fmt;
    v->enc->color_range = fmt == AV_PIX_FMT_YUVJ420P ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
    v->enc->time_base = (AVRational){1, 1000}; /* capture times in ms: variable frame rate */
    v->enc->framerate = (AVRational){25, 1};
    v->enc->thread_count = 1;
    v->enc->gop_size = 250;
    if (v->mux->oformat->flags & AVFMT_GLOBALHEADER)
        v->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary *eo = NULL;
    char crf[16];
    snprintf(crf, sizeof(crf), "%d", v->opts.crf);
    av_dict_set(&eo, "preset", v->opts.preset, 0);
    av_dict_set(&eo, "crf", crf, 0);
    rc = avcodec_open2(v->enc, codec, &eo);
    av_dict_free(&eo);
    if (rc < 0)
        return fail_av(v, SF_EINTERNAL, "libx264", rc);
    if ((rc = avcodec_parameters_from_context(v->st->codecpar, v->enc)) < 0)
        return fail_av(v, SF_EINTERNAL, "stream", rc);
    v->st->time_base = v->enc->time_base;
    if ((rc = avio_open(&v->mux->pb, v->path, AVIO_FLAG_WRITE)) < 0)
        return fail_av(v, SF_EINVAL, "cannot create the file", rc);
    AVDictionary *mo = NULL;
    av_dict_set(&mo, "movflags", "+faststart", 0);
    rc = avformat_write_header(v->mux, &mo);
    av_dict_free(&mo);
    if (rc < 0)
        return fail_av(v, SF_EINTERNAL, "mp4 header", rc);
    v->header_written = 1;
    if (fmt != (enum AVPixelFormat)f->format || v->enc->width != f->width ||
        v->enc->height != f->height) {
        v->conv = av_frame_alloc();
        if (!v->conv)
            return sf_fail(&v->err, SF_EINTERNAL, "out of memory");
        v->conv->format = fmt;
        v->conv->width = v->enc->width;
        v->conv->height = v->enc->height;
        if (av_frame_get_buffer(v->conv, 0) < 0)
            return sf_fail(&v->err, SF_EINTERNAL, "out of memory");
    }
    return 0;
}

/* Send frame (NULL: flush) to the encoder and write what comes out. */
static int write_frame(node_video *v, AVFrame *frame)
{
    int rc = avcodec_send_frame(v->enc, frame);
    if (rc < 0)
        return fail_av(v, SF_EINTERNAL, "encoding", rc);
    while ((rc = avcodec_receive_packet(v->enc, v->pkt)) == 0) {
        av_packet_rescale_ts(v->pkt, v->enc->time_base, v->st->time_base);
        v->pkt->stream_index = v->st->index;
        if ((rc = av_interleaved_write_frame(v->mux, v->pkt)) < 0)
            return fail_av(v, SF_EINTERNAL, "writing", rc);
    }
    return rc == AVERROR(EAGAIN) || rc == AVERROR_EOF ? 0
                                                      : fail_av(v, SF_EINTERNAL, "encoding", rc);
}

static int record_frame(node_video *v, AVFrame *f, uint64_t seq)
{
    if (!v->mux) {
        int rc = open_output(v, f);
        if (rc)
            return rc;
        v->first_us = f->pts;
        v->last_pts = -1;
    }
    if (v->last_seq && seq > v->last_seq + 1)
        v->res.dropped += (int64_t)(seq - v->last_seq - 1);
    v->last_seq = seq;
    AVFrame *in = f;
    if (v->conv) {
        if (f->width < v->enc->width || f->height < v->enc->height)
            return 0; /* the source changed size mid-recording: skip until it returns */
        v->sws = sws_getCachedContext(v->sws, f->width, f->height, (enum AVPixelFormat)f->format,
                                      v->enc->width, v->enc->height, v->enc->pix_fmt, SWS_BILINEAR,
                                      NULL, NULL, NULL);
        if (!v->sws || av_frame_make_writable(v->conv) < 0)
            return sf_fail(&v->err, SF_EINTERNAL, "recording: cannot convert frames");
        sws_scale(v->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, v->conv->data,
                  v->conv->linesize);
        in = v->conv;
    } else if (f->width != v->enc->width || f->height != v->enc->height) {
        return 0;
    }
    int64_t pts = (f->pts - v->first_us) / 1000;
    if (pts <= v->last_pts)
        pts = v->last_pts + 1;
    int64_t capture_us = f->pts;
    in->pts = pts;
    in->pict_type = AV_PICTURE_TYPE_NONE;
    int rc = write_frame(v, in);
    f->pts = capture_us;
    v->last_pts = pts;
    v->res.frames++;
    v->res.duration_us = capture_us - v->first_us;
    return rc;
}

static void *record_thread(void *arg)
{
    node_video *v = arg;
    while (!atomic_load(&v->stopping) && !v->rc) {
        AVFrame *f;
        uint64_t seq;
        if (node_capture_next(v->cap, v->last_seq, WAIT_MS, &f, &seq, NULL))
            continue; /* video lost: the file freezes, then goes on when it returns */
        v->rc = record_frame(v, f, seq);
        av_frame_free(&f);
    }
    if (v->rc)
        sf_error("%s", v->err.msg);
    return NULL;
}

int node_video_start(node_video **out, node_capture *cap, const char *path,
                     const node_video_opts *opts, sf_error *err)
{
    static const node_video_opts defaults = NODE_VIDEO_OPTS_INIT;
    node_video *v = calloc(1, sizeof(*v));
    if (!v || !(v->path = strdup(path)) || !(v->pkt = av_packet_alloc())) {
        if (v)
            free(v->path);
        free(v);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    v->cap = cap;
    v->opts = opts ? *opts : defaults;
    node_capture_status st;
    node_capture_get_status(cap, &st);
    v->last_seq = st.frames; /* from the next frame on */
    if (pthread_create(&v->thread, NULL, record_thread, v)) {
        av_packet_free(&v->pkt);
        free(v->path);
        free(v);
        return sf_fail(err, SF_EINTERNAL, "cannot start the recorder");
    }
    *out = v;
    return 0;
}

const char *node_video_path(const node_video *v)
{
    return v->path;
}

int node_video_stop(node_video *v, node_video_result *res, sf_error *err)
{
    atomic_store(&v->stopping, 1);
    pthread_join(v->thread, NULL);
    int rc = v->rc;
    if (!rc && !v->mux)
        rc = sf_fail(&v->err, SF_EUNAVAIL, "recording %s: no video arrived", v->path);
    if (!rc)
        rc = write_frame(v, NULL);
    if (v->header_written) {
        int trc = av_write_trailer(v->mux);
        if (!rc && trc < 0)
            rc = fail_av(v, SF_EINTERNAL, "finishing the file", trc);
    }
    if (v->mux && v->mux->pb)
        avio_closep(&v->mux->pb);
    if (rc && err)
        *err = v->err;
    *res = v->res;
    avformat_free_context(v->mux);
    avcodec_free_context(&v->enc);
    av_packet_free(&v->pkt);
    av_frame_free(&v->conv);
    sws_freeContext(v->sws);
    free(v->path);
    free(v);
    return rc;
}
