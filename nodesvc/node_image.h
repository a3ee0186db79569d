/* node_image.h - still images of a captured frame: PNG (lossless, full size, for screenshots)
 * and JPEG (scaled down, for thumbnails), with libavcodec and libswscale. Thread-safe: every
 * call makes its own encoder. The bench (bench/screenshot_bench.c) times these same functions. */
#ifndef NODE_IMAGE_H
#define NODE_IMAGE_H

#include "sf_err.h"

#include <libavutil/frame.h>
#include <libswscale/swscale.h>
#include <stddef.h>
#include <stdint.h>

#define NODE_THUMBNAIL_WIDTH 320

/* Encode frame (any pixel format) as a PNG of the same size. *out (av_free) holds *len bytes. */
int node_image_png(const AVFrame *frame, uint8_t **out, size_t *len, sf_error *err);

/* Encode frame as a JPEG `width` pixels wide (height keeping the aspect ratio). */
int node_image_jpeg(const AVFrame *frame, int width, uint8_t **out, size_t *len, sf_error *err);

/* The frame as BGR24 rows, as numpy and OpenCV want them (the stbt module's frames), written
 * to dst: height rows `stride` bytes apart (stride >= width * 3). *sws is the caller's
 * conversion context, made or remade as frames need it (NULL at first; sws_freeContext it). */
int node_image_bgr(struct SwsContext **sws, const AVFrame *frame, uint8_t *dst, int stride,
                   sf_error *err);

#endif
