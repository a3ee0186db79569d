/* node_stbt.h - the node agent's side of the stbt Python module (nodesvc/python/stbt): a unix
 * socket, one per job, through which the test scripts of that job press keys and find their
 * frames. The frames themselves are in shared memory (node_frames.h), started on the first
 * request for them and kept until the job ends.
 *
 * Protocol: one JSON object per line each way.
 *   {"op": "press", "key": "KEY_MENU", "hold_secs": 0}  ->  {"ok": true, "start_time": t0,
 *        "end_time": t1}: unix seconds just before the key went to the LIRC daemon and when
 *        it said it was sent (a held key: SEND_START to the end of SEND_STOP).
 *   {"op": "frames"}  ->  {"ok": true, "size": n}, with the ring's memfd (SCM_RIGHTS) in the
 *        same message: map n bytes of it read-only.
 *   {"op": "wait", "after": seq, "timeout_ms": ms}  ->  {"ok": true, "newest": seq'}: once
 *        the ring holds a frame newer than `after` (after = 0: the newest frame, now); ms
 *        defaults to 5000.
 *   {"op": "draw_text", "text": "...", "duration_secs": 3}  ->  {"ok": true, "recorded": b}:
 *        the text is written on the test run's video for duration_secs from now
 *        (node_video_text); b is false when no video is being recorded.
 * An error is {"error": "<message>", "kind": "novideo" | "badkey" | "error"}. */
#ifndef NODE_STBT_H
#define NODE_STBT_H

#include "node_capture.h"
#include "node_video.h"
#include "sf_err.h"
#include "sf_remote.h"

typedef struct node_stbt node_stbt;

typedef struct node_stbt_opts {
    const char *path; /* the socket */
    node_capture *cap;
    const sf_remote *remote; /* the job's remote control: keys are checked against it */
    const char *lircd;       /* where presses go */
    int lirc_timeout_ms;
    int frame_slots; /* frames the ring holds */
} node_stbt_opts;

/* Listen at opts->path and serve until stopped. opts' pointers must outlive the server. */
int node_stbt_start(node_stbt **out, const node_stbt_opts *opts, sf_error *err);

/* The recording draw_text writes on from now on (NULL: none), until the next call: the runner
 * sets it when a test run's recording starts and clears it before it stops. */
void node_stbt_set_video(node_stbt *s, node_video *v);

/* Close the socket and every connection, join their threads, remove the socket file, drop the
 * agent's hold on the frames' shared memory (gone once the job's processes are). */
void node_stbt_stop(node_stbt *s);

#endif
