/* screenshot_bench SOURCE FORMAT N: the baseline of bench/screenshot.sh. Captures one frame
 * from SOURCE (libav input FORMAT) with nodesvc's own capture module and encodes it N times to
 * PNG and to a thumbnail JPEG with nodesvc's own encoders, in this process: the time the
 * endpoints cannot go below. Prints one JSON object of medians in milliseconds. */
#include "node_capture.h"
#include "node_image.h"
#include "sf_time.h"

#include <libavutil/mem.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_ms(const AVFrame *f, int png, int n)
{
    double *t = calloc((size_t)n, sizeof(*t));
    for (int i = 0; i < n; i++) {
        uint8_t *out;
        size_t len;
        int64_t t0 = sf_now_us();
        int rc = png ? node_image_png(f, &out, &len, NULL)
                     : node_image_jpeg(f, NODE_THUMBNAIL_WIDTH, &out, &len, NULL);
        t[i] = (double)(sf_now_us() - t0) / 1000.0;
        if (!rc)
            av_free(out);
    }
    qsort(t, (size_t)n, sizeof(*t), cmp);
    double m = t[n / 2];
    free(t);
    return m;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: screenshot_bench SOURCE FORMAT N\n");
        return 2;
    }
    int n = atoi(argv[3]);
    node_capture_opts o = {argv[1], argv[2], NULL, 2000};
    node_capture *cap;
    sf_error err = SF_ERROR_INIT;
    AVFrame *f = NULL;
    if (n < 1 || node_capture_start(&cap, &o, &err))
        return 1;
    for (int i = 0; i < 100 && node_capture_next(cap, 0, 100, &f, NULL, &err); i++) {
    }
    node_capture_stop(cap);
    if (!f) {
        fprintf(stderr, "screenshot_bench: %s\n", err.msg);
        return 1;
    }
    printf("{\"width\": %d, \"height\": %d, \"png_ms\": %.2f, \"jpeg_ms\": %.2f}\n", f->width,
           f->height, median_ms(f, 1, n), median_ms(f, 0, n));
    av_frame_free(&f);
    return 0;
}
