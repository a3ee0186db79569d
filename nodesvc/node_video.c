#include "node_video.h"

#include "sf_font.h"
#include "sf_log.h"
#include "sf_time.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
#include <pthread.h>
#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WAIT_MS = 200 };

/* How draw_text's lines look: 5x7 glyphs of 2x2 pixels in a black box with a 4 pixel border,
 * from (16, 16) down. All even, so that the box covers whole 2x2 blocks of chroma. */
enum { TEXT_SCALE = 2, TEXT_PAD = 4, TEXT_X = 16, TEXT_Y = 16, TEXT_LINE = 24 };

typedef struct text_line {
    char text[NODE_VIDEO_TEXT_MAX + 1]; /* "" when the line was never used */
    int64_t from_us, until_us;
} text_line;

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
    pthread_mutex_t text_lock; /* guards texts, which any thread may add to */
    text_line texts[NODE_VIDEO_TEXTS];
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

void node_video_text(node_video *v, const char *text, int64_t until_us)
{
    int64_t now = sf_now_us();
    pthread_mutex_lock(&v->text_lock);
    text_line *line = &v->texts[0];
    for (int i = 0; i < NODE_VIDEO_TEXTS; i++) {
        text_line *t = &v->texts[i];
        if (!t->text[0] || t->until_us <= now) {
            line = t; /* the first free line */
            break;
        }
        if (t->until_us < line->until_us)
            line = t;
    }
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)text; *c && n < NODE_VIDEO_TEXT_MAX; c++) {
        if ((*c & 0xC0) == 0x80)
            continue; /* a UTF-8 continuation: one blank per character, not per byte */
        line->text[n++] = *c < 0x80 ? (char)toupper(*c) : ' ';
    }
    line->text[n] = '\0';
    line->from_us = now;
    line->until_us = n ? until_us : 0; /* an empty text takes no line */
    pthread_mutex_unlock(&v->text_lock);
}

/* Draw the texts lasting at capture time t onto f (planar YUV 4:2:0). f must be writable. */
static void draw_texts(const text_line *lines, int n, AVFrame *f)
{
    int full = f->format == AV_PIX_FMT_YUVJ420P;
    const uint8_t black = full ? 0 : 16, white = full ? 255 : 235, grey = 128;
    sf_plane y = {f->data[0], f->width, f->height, 1, (size_t)f->linesize[0]};
    sf_plane u = {f->data[1], f->width / 2, f->height / 2, 1, (size_t)f->linesize[1]};
    sf_plane v = {f->data[2], f->width / 2, f->height / 2, 1, (size_t)f->linesize[2]};
    for (int i = 0; i < n; i++) {
        const text_line *t = &lines[i];
        if (!t->text[0])
            continue;
        int top = TEXT_Y + i * TEXT_LINE;
        int w = sf_font_width(strlen(t->text), TEXT_SCALE) + 2 * TEXT_PAD;
        int h = SF_GLYPH_H * TEXT_SCALE + 2 * TEXT_PAD;
        sf_font_fill(&y, TEXT_X, top, w, h, &black);
        sf_font_fill(&u, TEXT_X / 2, top / 2, w / 2, h / 2, &grey);
        sf_font_fill(&v, TEXT_X / 2, top / 2, w / 2, h / 2, &grey);
        sf_font_text(&y, TEXT_X + TEXT_PAD, top + TEXT_PAD, TEXT_SCALE, &white, t->text);
    }
}

/* The texts lasting at t, on their lines (a line with none is ""); how many lines to draw. */
static int texts_at(node_video *v, int64_t t, text_line *out)
{
    int n = 0;
    pthread_mutex_lock(&v->text_lock);
    for (int i = 0; i < NODE_VIDEO_TEXTS; i++) {
        const text_line *l = &v->texts[i];
        int on = l->text[0] && l->from_us <= t && t < l->until_us;
        out[i] = *l;
        if (!on)
            out[i].text[0] = '\0';
        else
            n = i + 1;
    }
    pthread_mutex_unlock(&v->text_lock);
    return n;
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
    text_line lines[NODE_VIDEO_TEXTS];
    int n = texts_at(v, f->pts, lines);
    /* the capture's frame is shared with every other reader of it: drawn on, it is copied */
    if (n && in == f && av_frame_make_writable(f) < 0)
        return sf_fail(&v->err, SF_EINTERNAL, "recording: out of memory");
    if (n)
        draw_texts(lines, n, in);
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
    pthread_mutex_init(&v->text_lock, NULL);
    node_capture_status st;
    node_capture_get_status(cap, &st);
    v->last_seq = st.frames; /* from the next frame on */
    if (pthread_create(&v->thread, NULL, record_thread, v)) {
        pthread_mutex_destroy(&v->text_lock);
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
    pthread_mutex_destroy(&v->text_lock);
    free(v->path);
    free(v);
    return rc;
}
