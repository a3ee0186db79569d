/* node_stbt.h - the node agent's side of the stbt Python module (nodesvc/python/stbt): a unix
 * socket, one per job, through which the test scripts of that job press keys and read frames.
 *
 * Protocol: one JSON object per line each way.
 *   {"op": "press", "key": "KEY_MENU", "hold_secs": 0}  ->  {"ok": true}
 *   {"op": "frame", "after": <seq>}  ->  {"ok": true, "width": w, "height": h, "seq": n,
 *        "time": <unix seconds>, "size": w*h*3} and then that many bytes of BGR24 rows: the
 *        newest frame, or (after > 0) the first one newer than seq `after`.
 * An error is {"error": "<message>", "kind": "novideo" | "badkey" | "error"}. */
#ifndef NODE_STBT_H
#define NODE_STBT_H

#include "node_capture.h"
#include "sf_err.h"
#include "sf_remote.h"

typedef struct node_stbt node_stbt;

typedef struct node_stbt_opts {
    const char *path; /* the socket */
    node_capture *cap;
    const sf_remote *remote; /* the job's remote control: keys are checked against it */
    const char *lircd;       /* where presses go */
    int lirc_timeout_ms;
} node_stbt_opts;

/* Listen at opts->path and serve until stopped. opts' pointers must outlive the server. */
int node_stbt_start(node_stbt **out, const node_stbt_opts *opts, sf_error *err);

/* Close the socket and every connection, join their threads, remove the socket file. */
void node_stbt_stop(node_stbt *s);

#endif
