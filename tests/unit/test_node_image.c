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

int main(void)
{
    RUN(test_png_is_lossless_and_full_size);
    RUN(test_thumbnail_is_a_scaled_jpeg);
    return TEST_EXIT();
}
