#include "node_image.h"
#include "test.h"

#include <libavcodec/avcodec.h>

/* A frame of a pattern no two neighbouring pixels share. */
static AVFrame *pattern(int w, int h)
{
    AVFrame *f = av_frame_alloc();
    f->format = AV_PIX_FMT_RGB24;
    f->width = w;
    f->height = h;
    av_frame_get_buffer(f, 0);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            uint8_t *p = f->data[0] + y * f->linesize[0] + x * 3;
            p[0] = (uint8_t)(x * 7 + y);
            p[1] = (uint8_t)(y * 13);
            p[2] = (uint8_t)(x ^ y);
        }
    }
    return f;
}

static AVFrame *decode(enum AVCodecID id, const uint8_t *data, size_t len)
{
    const AVCodec *codec = avcodec_find_decoder(id);
    AVCodecContext *dec = avcodec_alloc_context3(codec);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_alloc();
    avcodec_open2(dec, codec, NULL);
    pkt->data = (uint8_t *)data;
    pkt->size = (int)len;
    if (avcodec_send_packet(dec, pkt) < 0 || avcodec_receive_frame(dec, f) < 0)
        av_frame_free(&f);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    return f;
}

static void test_png_is_lossless_and_full_size(void)
{
    AVFrame *in = pattern(640, 360);
    uint8_t *png;
    size_t len;
    CHECK(node_image_png(in, &png, &len, NULL) == 0);
    CHECK(len > 8 && !memcmp(png, "\x89PNG\r\n\x1a\n", 8));
    AVFrame *out = decode(AV_CODEC_ID_PNG, png, len);
    CHECK(out && out->width == 640 && out->height == 360 && out->format == AV_PIX_FMT_RGB24);
    int same = 1;
    for (int y = 0; out && y < 360; y++)
        same &= !memcmp(in->data[0] + y * in->linesize[0], out->data[0] + y * out->linesize[0],
                        640 * 3);
    CHECK(same);
    av_free(png);
    av_frame_free(&in);
    av_frame_free(&out);
}

static void test_thumbnail_is_a_scaled_jpeg(void)
{
    AVFrame *in = pattern(1280, 720);
    uint8_t *jpeg;
    size_t len;
    CHECK(node_image_jpeg(in, NODE_THUMBNAIL_WIDTH, &jpeg, &len, NULL) == 0);
    CHECK(len > 2 && jpeg[0] == 0xff && jpeg[1] == 0xd8);
    AVFrame *out = decode(AV_CODEC_ID_MJPEG, jpeg, len);
    CHECK(out && out->width == 320 && out->height == 180);
    av_free(jpeg);
    av_frame_free(&out);
    /* wider than the frame: the frame's own width */
    CHECK(node_image_jpeg(in, 5000, &jpeg, &len, NULL) == 0);
    out = decode(AV_CODEC_ID_MJPEG, jpeg, len);
    CHECK(out && out->width == 1280 && out->height == 720);
    av_free(jpeg);
    av_frame_free(&out);
    av_frame_free(&in);
}

/* A frame as a capture card or the vstb's JPEGs give it: YUV 4:2:0, full range. */
static AVFrame *yuv_of(const AVFrame *rgb)
{
    AVFrame *f = av_frame_alloc();
    f->format = AV_PIX_FMT_YUVJ420P;
    f->width = rgb->width;
    f->height = rgb->height;
    av_frame_get_buffer(f, 0);
    struct SwsContext *sws =
        sws_getContext(rgb->width, rgb->height, AV_PIX_FMT_RGB24, f->width, f->height,
                       AV_PIX_FMT_YUVJ420P, SWS_POINT, NULL, NULL, NULL);
    sws_scale(sws, (const uint8_t *const *)rgb->data, rgb->linesize, 0, rgb->height, f->data,
              f->linesize);
    sws_freeContext(sws);
    return f;
}

/* BGR rows at any stride, with the very pixels of a screenshot of the same frame. */
static void test_bgr_has_the_pixels_of_the_screenshot(void)
{
    enum { W = 322, H = 180, STRIDE = W * 3 + 58 };
    AVFrame *rgb = pattern(W, H), *yuv = yuv_of(rgb);
    static uint8_t bgr[STRIDE * H];
    memset(bgr, 0xAB, sizeof(bgr));
    struct SwsContext *sws = NULL;
    CHECK(node_image_bgr(&sws, rgb, bgr, STRIDE, NULL) == 0);
    int same = 1, untouched = 1;
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            const uint8_t *a = rgb->data[0] + y * rgb->linesize[0] + x * 3,
                          *b = bgr + y * STRIDE + x * 3;
            same &= a[0] == b[2] && a[1] == b[1] && a[2] == b[0];
        }
        for (int x = W * 3; x < STRIDE; x++)
            untouched &= bgr[y * STRIDE + x] == 0xAB;
    }
    CHECK(same && untouched);
    /* a YUV frame (the context is made again for it) against its screenshot */
    uint8_t *png;
    size_t len;
    CHECK(node_image_bgr(&sws, yuv, bgr, STRIDE, NULL) == 0);
    CHECK(node_image_png(yuv, &png, &len, NULL) == 0);
    AVFrame *shot = decode(AV_CODEC_ID_PNG, png, len);
    same = shot != NULL;
    for (int y = 0; shot && y < H; y++) {
        for (int x = 0; x < W; x++) {
            const uint8_t *a = shot->data[0] + y * shot->linesize[0] + x * 3,
                          *b = bgr + y * STRIDE + x * 3;
            same &= a[0] == b[2] && a[1] == b[1] && a[2] == b[0];
        }
    }
    CHECK(same);
    sws_freeContext(sws);
    av_free(png);
    av_frame_free(&shot);
    av_frame_free(&rgb);
    av_frame_free(&yuv);
}

int main(void)
{
    RUN(test_png_is_lossless_and_full_size);
    RUN(test_thumbnail_is_a_scaled_jpeg);
    RUN(test_bgr_has_the_pixels_of_the_screenshot);
    return TEST_EXIT();
}
