/* node_activity.h - what a node agent's heartbeat says it is doing, so that the jobs service
 * tells an agent that runs or still delivers a job from one that restarted or is done with it.
 * The runner fills it (node_runner_activity); the agent sends it (node_agent.h). */
#ifndef NODE_ACTIVITY_H
#define NODE_ACTIVITY_H

#include <stddef.h>

#define NODE_ACTIVITY_JOBS 64 /* jobs a heartbeat names as still delivering, oldest first */

typedef struct node_activity {
    char job[160]; /* the job running now; "" when idle */
    /* the jobs whose runs or reports are not delivered yet (the outbox's) */
    char delivering[NODE_ACTIVITY_JOBS][160];
    size_t n_delivering;
    char trouble[256]; /* why the node cannot work as it should (a full disk); "" none */
} node_activity;

#endif
