/* node_live.h - the live screen's frames (agent.live_frame): the newest captured frame as a
 * JPEG, encoded only when someone asks and once per frame and width, however many ask. An
 * agent nobody watches encodes nothing: agent.live_status counts the frames encoded. */
#ifndef NODE_LIVE_H
#define NODE_LIVE_H

#include "node_devices.h"
#include "sf_rpc.h"

#include <stddef.h>
#include <stdint.h>

typedef struct node_live node_live;

/* The live screen of dev's capture (dev must outlive it). */
int node_live_new(node_live **out, const node_devices *dev);
void node_live_free(node_live *l);

extern const sf_rpc_method node_live_methods[];
extern const size_t node_live_n_methods;

#endif
