/* node_devices.h - the device under test as the node agent reaches it: its video (the capture,
 * and how recordings of it are encoded) and its remote control (the LIRC daemon). main.c makes
 * one and gives it to both the agent's RPC face (node_agent.h: screenshots, presses, manual
 * recordings) and the test runner (node_runner.h: each run's video, screenshot and the stbt
 * module's presses), which never reach into each other for it. */
#ifndef NODE_DEVICES_H
#define NODE_DEVICES_H

#include "node_capture.h"
#include "node_video.h"

typedef struct node_devices {
    node_capture *cap;     /* the video: its newest frame */
    node_video_opts video; /* how recordings are encoded */
    const char *lircd;     /* the LIRC daemon: host:port or a unix socket path */
    int lirc_timeout_ms;   /* how long a press may take */
} node_devices;

#endif
