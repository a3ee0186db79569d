/* node_video.h - recording the capture to an MP4 file (H.264 by libx264, the index moved to the
 * front with +faststart so that browsers play it while it downloads), between a start and a
 * stop: the jobs issue records each test run's video.mp4 with it.
 *
 * The recorder runs on its own thread and always takes the newest frame, so a slow machine drops
 * frames instead of falling behind; timestamps are the frames' capture times, so the file plays
 * in real time even across video loss. libx264 runs on one thread: a recording never takes more
 * than one core. */
#ifndef NODE_VIDEO_H
#define NODE_VIDEO_H

#include "node_capture.h"
#include "sf_err.h"

#include <stdint.h>

typedef struct node_video_opts {
    const char *preset; /* libx264 preset: "veryfast" */
    int crf;            /* libx264 constant rate factor: 23 */
} node_video_opts;

#define NODE_VIDEO_OPTS_INIT                                                                       \
    {                                                                                              \
        "veryfast", 23                                                                             \
    }

typedef struct node_video node_video;

/* Start recording cap into a new file at path (its directory must exist). The file is opened
 * when the first frame arrives, at that frame's size. */
int node_video_start(node_video **out, node_capture *cap, const char *path,
                     const node_video_opts *opts, sf_error *err);

typedef struct node_video_result {
    int64_t frames;      /* written */
    int64_t dropped;     /* captured while the encoder was busy */
    int64_t duration_us; /* from the first frame to the last */
} node_video_result;

/* Stop, finish the file and free v. Returns 0 with *res, or the error that ended the recording
 * (a file no frame ever came for is SF_EUNAVAIL and is not written). */
int node_video_stop(node_video *v, node_video_result *res, sf_error *err);

/* The path being recorded to. */
const char *node_video_path(const node_video *v);

enum { NODE_VIDEO_TEXTS = 8, NODE_VIDEO_TEXT_MAX = 160 };

/* Write text (stbt.draw_text) on the frames captured from now until until_us (unix
 * microseconds): white on black, a line of its own at the top left, lines of texts that have
 * ended taken again; with NODE_VIDEO_TEXTS lasting, a new text takes the line of the one that
 * ends soonest. Letters are drawn in capitals (the font has no others); what does not fit the
 * frame's width or NODE_VIDEO_TEXT_MAX bytes is cut. Safe from any thread. */
void node_video_text(node_video *v, const char *text, int64_t until_us);

#endif
