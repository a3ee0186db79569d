#include "node_image.h"

#include <libavcodec/avcodec.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <stdlib.h>
#include <string.h>

/* The quantiser of thumbnails: small files that still show text. */
enum { JPEG_QUALITY = 5 };

/* frame converted (and scaled) to fmt at w x h, as a new frame. */
static int convert(const AVFrame *in, enum AVPixelFormat fmt, int w, int h, AVFrame **out,
                   sf_error *err)
{
    AVFrame *f = av_frame_alloc();
    struct SwsContext *sws = NULL;
    int rc = 0;
    if (!f)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    f->format = fmt;
    f->width = w;
    f->height = h;
    if (av_frame_get_buffer(f, 0) < 0) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    int flags = (w == in->width && h == in->height) ? SWS_POINT : SWS_AREA;
    sws = sws_getContext(in->width, in->height, (enum AVPixelFormat)in->format, w, h, fmt, flags,
                         NULL, NULL, NULL);
    if (!sws) {
        rc = sf_fail(err, SF_EINTERNAL, "cannot convert %dx%d %s frames", in->width, in->height,
                     av_get_pix_fmt_name((enum AVPixelFormat)in->format));
        goto cleanup;
    }
    sws_scale(sws, (const uint8_t *const *)in->data, in->linesize, 0, in->height, f->data,
              f->linesize);
cleanup:
    sws_freeContext(sws);
    if (rc)
        av_frame_free(&f);
    *out = f;
    return rc;
}

/* Encode one frame with a fresh encoder of codec id. */
static int encode(enum AVCodecID id, const AVFrame *f, int quality, uint8_t **out, size_t *len,
                  sf_error *err)
{
    const AVCodec *codec = avcodec_find_encoder(id);
    AVCodecContext *enc = codec ? avcodec_alloc_context3(codec) : NULL;
    AVPacket *pkt = av_packet_alloc();
    int rc = 0;
    *out = NULL;
    *len = 0;
    if (!enc || !pkt) {
        rc = sf_fail(err, SF_EINTERNAL, "no %s encoder", avcodec_get_name(id));
        goto cleanup;
    }
    enc->width = f->width;
    enc->height = f->height;
    enc->pix_fmt = (enum AVPixelFormat)f->format;
    enc->time_base = (AVRational){1, 25};
    enc->color_range = f->color_range;
    if (quality) {
        enc->flags |= AV_CODEC_FLAG_QSCALE;
        enc->global_quality = FF_QP2LAMBDA * quality;
    } else {
        enc->compression_level = 1; /* zlib's fastest: screens compress well anyway */
    }
    if (avcodec_open2(enc, codec, NULL) < 0) {
        rc = sf_fail(err, SF_EINTERNAL, "cannot open the %s encoder", codec->name);
        goto cleanup;
    }
    AVFrame *in = (AVFrame *)f;
    in->quality = enc->global_quality;
    if (avcodec_send_frame(enc, in) < 0 || avcodec_receive_packet(enc, pkt) < 0) {
        rc = sf_fail(err, SF_EINTERNAL, "cannot encode a %s", codec->name);
        goto cleanup;
    }
    if (!(*out = av_malloc((size_t)pkt->size))) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    memcpy(*out, pkt->data, (size_t)pkt->size);
    *len = (size_t)pkt->size;
cleanup:
    av_packet_free(&pkt);
    avcodec_free_context(&enc);
    return rc;
}

int node_image_png(const AVFrame *frame, uint8_t **out, size_t *len, sf_error *err)
{
    AVFrame *rgb;
    int rc = convert(frame, AV_PIX_FMT_RGB24, frame->width, frame->height, &rgb, err);
    if (rc)
        return rc;
    rc = encode(AV_CODEC_ID_PNG, rgb, 0, out, len, err);
    av_frame_free(&rgb);
    return rc;
}

int node_image_jpeg(const AVFrame *frame, int width, uint8_t **out, size_t *len, sf_error *err)
{
    if (width <= 0 || width > frame->width)
        width = frame->width;
    int height = (int)((int64_t)frame->height * width / frame->width) & ~1;
    AVFrame *small;
    int rc = convert(frame, AV_PIX_FMT_YUVJ420P, width & ~1, height ? height : 2, &small, err);
    if (rc)
        return rc;
    small->color_range = AVCOL_RANGE_JPEG;
    rc = encode(AV_CODEC_ID_MJPEG, small, JPEG_QUALITY, out, len, err);
    av_frame_free(&small);
    return rc;
}

int node_image_bgr(struct SwsContext **sws, const AVFrame *frame, uint8_t *dst, int stride,
                   sf_error *err)
{
    /* the same conversion as screenshots (convert), so that a frame and a screenshot of one
     * picture have the same pixels */
    *sws = sws_getCachedContext(*sws, frame->width, frame->height,
                                (enum AVPixelFormat)frame->format, frame->width, frame->height,
                                AV_PIX_FMT_BGR24, SWS_POINT, NULL, NULL, NULL);
    if (!*sws)
        return sf_fail(err, SF_EINTERNAL, "cannot convert %dx%d %s frames", frame->width,
                       frame->height, av_get_pix_fmt_name((enum AVPixelFormat)frame->format));
    uint8_t *const planes[4] = {dst, NULL, NULL, NULL};
    const int strides[4] = {stride, 0, 0, 0};
    sws_scale(*sws, (const uint8_t *const *)frame->data, frame->linesize, 0, frame->height, planes,
              strides);
    return 0;
}
