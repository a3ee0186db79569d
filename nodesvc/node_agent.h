/* node_agent.h - the node agent's RPC face and its registration.
 *
 * The agent listens on its own nng URL (--listen; ipc:// on one host, tcp:// across hosts) for
 * "agent.*" calls (proto/node_agent.proto) from the services, which reach it through
 * lib/sf_node_client.h at the address it registers. It registers that address (and its
 * version and local IP address) with a heartbeat to the nodes service through the broker every
 * --heartbeat-ms; the node is online while heartbeats arrive.
 *
 * Each module of nodesvc that serves calls exports a table of methods; main.c serves them all
 * on one server whose handlers find their module in call->tls (node_service.h). The device
 * under test (node_devices.h) is main.c's, shared with the test runner; what the runner is
 * doing the heartbeat learns through a callback. Each heartbeat names the agent's instance (an
 * id new at each start), the job it runs and the jobs it still delivers. */
#ifndef NODE_AGENT_H
#define NODE_AGENT_H

#include "node_activity.h"
#include "node_devices.h"
#include "node_service.h"
#include "sf_rpc.h"

#include <pthread.h>

#define NODE_AGENT_VERSION "0.1.0"

typedef struct node_agent_config {
    const char *node_id;
    const char *listen;    /* nng URL to listen on */
    const char *advertise; /* the URL callers dial; NULL: derived from listen */
    const char *local_ip;  /* NULL: the address of the interface that reaches the broker */
    const char *brokers;
    long heartbeat_ms;
    const char *instance; /* this start of the agent: random, never used before */
    /* What the agent is doing, for each heartbeat: fills *out (zeroed before the call). NULL:
     * the agent runs no jobs. Called on the heartbeat's thread. */
    void (*activity)(void *arg, node_activity *out);
    void *activity_arg;
} node_agent_config;

typedef struct node_agent {
    node_agent_config cfg;
    const node_devices *dev; /* the device under test; main.c's */
    char address[512];       /* what the heartbeat registers */
    char local_ip[64];
    pthread_mutex_t video_lock; /* guards video */
    node_video *video;          /* a recording asked for by agent.video_start */
    /* the heartbeat */
    sf_rpc_client *nodes;
    pthread_t heartbeat;
    pthread_mutex_t hb_lock;
    pthread_cond_t hb_cond;
    int hb_running, hb_stop;
} node_agent;

/* The agent.* methods of capture, screenshots, video and IR. */
extern const sf_rpc_method node_agent_methods[];
extern const size_t node_agent_n_methods;

/* Work out the address and local IP to register, and start the heartbeat. cfg and dev must be
 * set. On failure nothing is left running; node_agent_stop is still safe. */
int node_agent_start(node_agent *a, sf_error *err);

/* Stop the heartbeat and any recording in progress. */
void node_agent_stop(node_agent *a);

static inline node_agent *node_agent_of(const sf_call *call)
{
    return ((const node_service *)call->tls)->agent;
}

#endif
