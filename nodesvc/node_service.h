/* node_service.h - what every handler of the node agent's RPC server finds in call->tls: the
 * modules that serve calls, made and owned by main.c. Each module's methods take their own
 * part (node_agent_of, and the runner's own), so no module needs another's header. */
#ifndef NODE_SERVICE_H
#define NODE_SERVICE_H

struct node_agent;
struct node_runner;
struct node_live;

typedef struct node_service {
    struct node_agent *agent;   /* agent.screenshot, press, video_*, status (node_agent.h) */
    struct node_runner *runner; /* agent.run_job, stop_job (node_runner.h) */
    struct node_live *live;     /* agent.live_frame, live_status (node_live.h) */
} node_service;

#endif
