/* node_agent.h - the node agent's RPC face and its registration.
 *
 * The agent listens on its own nng URL (--listen; ipc:// on one host, tcp:// across hosts) for
 * "agent.*" calls (proto/node_agent.proto) from the services, which reach it through
 * services/nodes/node_client.h at the address it registers. It registers that address (and its
 * version and local IP address) with a heartbeat to the nodes service through the broker every
 * --heartbeat-ms; the node is online while heartbeats arrive.
 *
 * Each module of nodesvc that serves calls exports a table of methods; main.c serves them all
 * on one server whose handlers find the node_agent in call->tls. */
#ifndef NODE_AGENT_H
#define NODE_AGENT_H

#include "node_capture.h"
#include "node_video.h"
#include "sf_rpc.h"

#include <pthread.h>

#define NODE_AGENT_VERSION "0.1.0"

typedef struct node_agent_config {
    const char *node_id;
    const char *listen;    /* nng URL to listen on */
    const char *advertise; /* the URL callers dial; NULL: derived from listen */
    const char *local_ip;  /* NULL: the address of the interface that reaches the broker */
    const char *brokers;
    const char *lircd; /* LIRC daemon: host:port or a unix socket path */
    long lirc_timeout_ms;
    long heartbeat_ms;
    node_video_opts video;
} node_agent_config;

typedef struct node_agent {
    node_agent_config cfg;
    node_capture *cap;
    char address[512]; /* what the heartbeat registers */
    char local_ip[64];
    pthread_mutex_t video_lock; /* guards video */
    node_video *video;
    struct node_runner *runner; /* runs test jobs (node_runner.h) */
    struct node_live *live;     /* the live screen's last frame (node_live.h) */
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

/* Work out the address and local IP to register, and start the heartbeat. cfg and cap must be
 * set. */
int node_agent_start(node_agent *a, sf_error *err);

/* Stop the heartbeat and any recording in progress. */
void node_agent_stop(node_agent *a);

static inline node_agent *node_agent_of(const sf_call *call)
{
    return (node_agent *)call->tls;
}

#endif
