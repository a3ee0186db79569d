/* node_frames.h - a job's video in shared memory: a ring of the newest captured frames as
 * BGR24, which the stbt module (nodesvc/python/stbt/_agent.py) maps and copies frames out of,
 * so that no frame travels through a socket and none is converted per read.
 *
 * The ring is a memfd: anonymous memory that exists while a process holds it open or mapped,
 * so it goes with the job even when the agent or a test is killed. It is sealed: no process can
 * resize it or map it writable but the agent's own mapping. On the capture thread the agent
 * converts every decoded frame once, into the slot of its seq, while a job runs.
 *
 * Layout (native byte order, 64-bit fields 8-byte aligned; _agent.py reads exactly this):
 *   the header, at 0:
 *      0  char[8]  "SFRING01"
 *      8  u32      slots
 *     12  u32      lost_after_ms  a newest frame older than this may mean lost video: ask
 *     16  u64      slot_bytes     from one slot to the next
 *     24  u64      pixel_bytes    what a slot's pixels may take
 *     32  u64      newest         seq of the newest whole frame; 0: none yet
 *     40  u32      replaced       1: frames outgrew this ring; a new one holds them
 *   slot i, at NODE_FRAMES_HEADER + i * slot_bytes, holds frame seq when seq % slots == i:
 *      0  u64      seq            of the frame in it; 0 while it is being written
 *      8  u32      width
 *     12  u32      height
 *     16  u32      stride         bytes from one row to the next (>= width * 3)
 *     24  i64      time_us        wall-clock time the frame was captured
 *     64           the pixels: height rows of stride bytes, B G R
 * Each slot is a seqlock: the agent sets seq to 0, writes, then stores the frame's seq (with
 * release ordering) and then newest. A reader reads seq, copies the slot, reads seq again: the
 * same non-zero value both times means it copied one whole frame. */
#ifndef NODE_FRAMES_H
#define NODE_FRAMES_H

#include "node_capture.h"
#include "sf_err.h"

#include <stddef.h>
#include <stdint.h>

enum { NODE_FRAMES_HEADER = 4096, NODE_FRAMES_SLOT_HEADER = 64 };

typedef struct node_frames node_frames;

typedef struct node_frames_opts {
    node_capture *cap;
    int slots; /* frames the ring holds: how far a reader may fall behind */
} node_frames_opts;

/* Make the ring (sized for the capture's current frame size, grown when frames outgrow it),
 * put the newest frame in it, and fill it with every frame from now on. */
int node_frames_start(node_frames **out, const node_frames_opts *opts, sf_error *err);

/* Stop filling the ring and drop the agent's hold on it. */
void node_frames_stop(node_frames *f);

/* A new descriptor of the current ring, for a reader (the caller closes it), and its size. */
int node_frames_share(node_frames *f, int *fd, size_t *size, sf_error *err);

/* Wait up to timeout_ms for a frame newer than seq `after` in the ring; *newest is the newest
 * one's seq. after = 0 asks for the newest frame now. SF_EUNAVAIL naming the reason when the
 * video is lost or no frame came. */
int node_frames_wait(node_frames *f, uint64_t after, int timeout_ms, uint64_t *newest,
                     sf_error *err);

#endif
