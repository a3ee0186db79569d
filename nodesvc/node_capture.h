/* node_capture.h - the node's video input: one thread reading a libav source (the vstb's MJPEG
 * stream, a V4L2 capture card, lavfi, any URL libav opens), decoding it and keeping the newest
 * frame for whoever asks (screenshots, recording, the test runner).
 *
 * When the source fails or stalls, the capture reports the video as lost and reconnects with
 * back-off (100 ms doubling to 2 s); it never exits for that. */
#ifndef NODE_CAPTURE_H
#define NODE_CAPTURE_H

#include "sf_err.h"

#include <libavutil/frame.h>
#include <stdint.h>

typedef struct node_capture_opts {
    const char *source;  /* URL or device: "http://127.0.0.1:8766/video.mjpeg", "/dev/video0" */
    const char *format;  /* libav input format ("mpjpeg", "v4l2", "lavfi"), NULL: probe */
    const char *options; /* input options "video_size=1280x720,framerate=25", or NULL */
    int lost_after_ms;   /* no frame for this long: the video is lost */
} node_capture_opts;

typedef struct node_capture node_capture;

/* Start capturing (in the background: a source that is down now is retried). The strings of
 * opts are copied. */
int node_capture_start(node_capture **out, const node_capture_opts *opts, sf_error *err);
void node_capture_stop(node_capture *c);

/* The newest frame, as a new reference the caller frees with av_frame_free. Its pts is the
 * wall-clock time it was decoded, in microseconds since the epoch. *seq (may be NULL) numbers
 * frames from 1. SF_EUNAVAIL naming the reason when the video is lost. */
int node_capture_frame(node_capture *c, AVFrame **out, uint64_t *seq, sf_error *err);

/* As node_capture_frame, for a frame newer than `after`: waits up to timeout_ms for one.
 * SF_EUNAVAIL when none came. */
int node_capture_next(node_capture *c, uint64_t after, int timeout_ms, AVFrame **out, uint64_t *seq,
                      sf_error *err);

/* Called on the capture thread with every frame as it is decoded (its pts the wall-clock time
 * in microseconds, seq as node_capture_frame numbers it). The frame is only lent for the call.
 * It must be quick: the capture waits for it. */
typedef void node_capture_sink(void *arg, const AVFrame *frame, uint64_t seq);

enum { NODE_CAPTURE_SINKS = 4 };

/* Call sink(arg, ...) with every frame from now on; SF_EINTERNAL when NODE_CAPTURE_SINKS are
 * already. */
int node_capture_add_sink(node_capture *c, node_capture_sink *sink, void *arg, sf_error *err);

/* Stop calling sink(arg, ...): once this returns no call of it is under way or will be. */
void node_capture_remove_sink(node_capture *c, node_capture_sink *sink, void *arg);

typedef struct node_capture_status {
    int ok;            /* a frame arrived within lost_after_ms */
    char error[256];   /* why not */
    int width, height; /* of the newest frame; 0 before the first */
    uint64_t frames;   /* decoded since start */
    uint64_t reconnects;
    int lost_after_ms; /* as configured */
} node_capture_status;

void node_capture_get_status(node_capture *c, node_capture_status *out);

#endif
