/* stbfarm-nodesvc: the software of one Node. It owns one device under test: watches its video
 * (node_capture), serves screenshots and thumbnails (node_image), records video (node_video),
 * presses its remote control keys (node_lirc), and answers the services over nng at the address
 * it registers with a heartbeat (node_agent). */
#include "node_agent.h"
#include "node_live.h"
#include "node_runner.h"
#include "nodes_store.h"
#include "sf_testpack.h"
#include "sf_proc.h"
#include "sf_config.h"
#include "sf_crypto.h"
#include "sf_log.h"
#include "sf_metrics.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct nodesvc_config {
    node_agent_config agent;
    const char *video_source, *video_format, *video_options;
    long video_lost_ms;
    const char *lircd;
    long lirc_timeout_ms;
    const char *record_preset;
    long crf;
    long threads;
    const char *log_level;
    node_runner_config runner;
    sf_link_config link;
} nodesvc_config;

/* The method tables of the modules that serve calls; a module that adds methods (the test
 * runner) adds its table here. */
typedef struct method_table {
    const sf_rpc_method *methods;
    const size_t *n;
} method_table;

static const method_table MODULES[] = {
    {node_agent_methods, &node_agent_n_methods},
    {node_runner_methods, &node_runner_n_methods},
    {node_live_methods, &node_live_n_methods},
};

/* Every handler thread sees the same modules (node_service.h). */
/* What the metrics show of this node: its outbox and its video. */
typedef struct node_metrics {
    const char *node_id;
    node_runner *runner;
    node_capture *cap;
} node_metrics;

static void collect(void *arg)
{
    node_metrics *nm = arg;
    sf_metrics *m = sf_metrics_process();
    size_t items, results;
    node_runner_outbox_depth(nm->runner, &items, &results);
    node_capture_status st;
    node_capture_get_status(nm->cap, &st);
    const char *const *node = SF_LABELS(nm->node_id);
    sf_metric_set(sf_metric_get(sf_metrics_gauge(m, "stbfarm_agent_outbox_items",
                                                 "Reports and test results the node agent has "
                                                 "still to deliver",
                                                 "node"),
                                node),
                  (double)items);
    sf_metric_set(sf_metric_get(sf_metrics_gauge(m, "stbfarm_agent_outbox_results",
                                                 "Test results (with their artifacts) the node "
                                                 "agent has still to deliver",
                                                 "node"),
                                node),
                  (double)results);
    sf_metric_set(sf_metric_get(sf_metrics_counter(m, "stbfarm_capture_frames_total",
                                                   "Video frames captured and decoded (rate(): "
                                                   "the frame rate)",
                                                   "node"),
                                node),
                  (double)st.frames);
    sf_metric_set(sf_metric_get(sf_metrics_counter(m, "stbfarm_capture_reconnects_total",
                                                   "Times the video source was opened again "
                                                   "after it was lost",
                                                   "node"),
                                node),
                  (double)st.reconnects);
    sf_metric_set(
        sf_metric_get(sf_metrics_gauge(m, "stbfarm_capture_video_ok",
                                       "1 while video arrives, 0 while it is lost", "node"),
                      node),
        st.ok ? 1 : 0);
}

static void *service_of(void *arg)
{
    return arg;
}

int main(int argc, char **argv)
{
    static nodesvc_config c;
    static node_devices dev;
    static node_agent agent;
    static node_service service;
    char default_listen[160];
    const sf_option options[] = {
        {"node-id", "STBF_NODE_ID", SF_OPT_STR, NULL, "this node's id (stb-tester-...)",
         &c.agent.node_id},
        {"listen", "STBF_NODE_LISTEN", SF_OPT_STR, NULL,
         "nng URL the agent listens on (default ipc:///tmp/stbfarm-nodesvc-<id>.sock)",
         &c.agent.listen},
        {"advertise", "STBF_NODE_ADVERTISE", SF_OPT_STR, NULL,
         "URL the services dial to reach this agent (behind NAT: the forwarded address)",
         &c.agent.advertise},
        {"local-ip", "STBF_NODE_LOCAL_IP", SF_OPT_STR, NULL,
         "local_ip_address to report (default: the interface that routes to the broker)",
         &c.agent.local_ip},
        {"broker", "STBF_BROKER", SF_OPT_STR, "tcp://127.0.0.1:7100",
         "broker base URL(s), comma-separated, for heartbeats", &c.agent.brokers},
        {"video-source", "STBF_VIDEO_SOURCE", SF_OPT_STR, "http://127.0.0.1:8766/video.mjpeg",
         "libav input: a URL, a V4L2 device (/dev/video0) or a lavfi graph", &c.video_source},
        {"video-format", "STBF_VIDEO_FORMAT", SF_OPT_STR, NULL,
         "libav input format: mpjpeg, v4l2, lavfi... (default: probe)", &c.video_format},
        {"video-options", "STBF_VIDEO_OPTIONS", SF_OPT_STR, NULL,
         "libav input options, k=v,k=v (video_size=1280x720,input_format=mjpeg)", &c.video_options},
        {"video-lost-ms", "STBF_VIDEO_LOST_MS", SF_OPT_INT, "2000",
         "no frame for this long: video lost, reconnect", &c.video_lost_ms},
        {"lircd", "STBF_LIRCD", SF_OPT_STR, "127.0.0.1:8765",
         "LIRC daemon: host:port or a unix socket path", &c.lircd},
        {"lirc-timeout-ms", "STBF_LIRC_TIMEOUT_MS", SF_OPT_INT, "3000",
         "how long a key press may take", &c.lirc_timeout_ms},
        {"record-preset", "STBF_RECORD_PRESET", SF_OPT_STR, "veryfast",
         "libx264 preset of video recordings", &c.record_preset},
        {"record-crf", "STBF_RECORD_CRF", SF_OPT_INT, "23", "libx264 CRF of video recordings",
         &c.crf},
        {"heartbeat-ms", "STBF_HEARTBEAT_MS", SF_OPT_INT, "2000",
         "how often to register (the node goes offline 6 s after the last)", &c.agent.heartbeat_ms},
        {"threads", "STBF_THREADS", SF_OPT_INT, "8", "calls served at once", &c.threads},
        SF_TESTPACK_OPTIONS(&c.runner.test_pack, &c.runner.test_pack_cache),
        {"work-dir", "STBF_NODE_WORK_DIR", SF_OPT_STR, NULL,
         "where test jobs check out and write (default /tmp/stbfarm-node-<id>)",
         &c.runner.work_dir},
        {"python", "STBF_PYTHON", SF_OPT_STR, "/usr/bin/python3", "the Python that runs tests",
         &c.runner.python},
        {"stbt-dir", "STBF_STBT_DIR", SF_OPT_STR, SF_STBT_DIR,
         "the directory of the stbt module and stbt_run.py", &c.runner.stbt_dir},
        {"work-dir-min-free-mb", "STBF_NODE_WORK_DIR_MIN_FREE_MB", SF_OPT_INT, "64",
         "a test run starts only with this much free in the work directory", &c.runner.min_free_mb},
        {"test-timeout-secs", "STBF_TEST_TIMEOUT_SECS", SF_OPT_INT, "1800",
         "a test case running longer is stopped and counts as an error",
         &c.runner.test_timeout_secs},
        {"frame-ring", "STBF_FRAME_RING", SF_OPT_INT, "25",
         "frames a job keeps in shared memory for its tests (how far one may fall behind)",
         &c.runner.frame_ring},
        {"log-level", "STBF_LOG_LEVEL", SF_OPT_STR, "info", "debug, info, warn or error",
         &c.log_level},
        SF_LINK_OPTIONS(&c.link),
    };
    int check_only = sf_config_load("stbfarm-nodesvc",
                                    "The node agent: video capture, screenshots, recording "
                                    "and remote control of one device under test.",
                                    options, sizeof(options) / sizeof(options[0]), argc, argv);
    if (!c.agent.node_id || !nodes_valid_id(c.agent.node_id)) {
        fprintf(stderr, "stbfarm-nodesvc: --node-id must be given: 1 to 64 of "
                        "[A-Za-z0-9_.-], starting with a letter or digit\n");
        return 2;
    }
    if (c.agent.heartbeat_ms < 100 || c.agent.heartbeat_ms >= NODES_ONLINE_TTL_MS) {
        fprintf(stderr, "stbfarm-nodesvc: --heartbeat-ms takes 100 to %d\n",
                NODES_ONLINE_TTL_MS - 1);
        return 2;
    }
    char default_work[160];
    if (!c.runner.work_dir) {
        snprintf(default_work, sizeof(default_work), "/tmp/stbfarm-node-%s", c.agent.node_id);
        c.runner.work_dir = default_work;
    }
    if (strlen(c.runner.work_dir) > 90) {
        fprintf(stderr, "stbfarm-nodesvc: --work-dir must be at most 90 bytes long (its stbt "
                        "socket must fit a unix socket path)\n");
        return 2;
    }
    if (c.runner.min_free_mb < 0) {
        fprintf(stderr, "stbfarm-nodesvc: --work-dir-min-free-mb takes 0 or more\n");
        return 2;
    }
    if (c.runner.test_timeout_secs < 1) {
        fprintf(stderr, "stbfarm-nodesvc: --test-timeout-secs takes a positive number\n");
        return 2;
    }
    if (c.runner.frame_ring < 2 || c.runner.frame_ring > 1000) {
        fprintf(stderr, "stbfarm-nodesvc: --frame-ring takes 2 to 1000\n");
        return 2;
    }
    if (!c.agent.listen) {
        snprintf(default_listen, sizeof(default_listen), "ipc:///tmp/stbfarm-nodesvc-%s.sock",
                 c.agent.node_id);
        c.agent.listen = default_listen;
    }
    sf_error err = SF_ERROR_INIT;
    if (sf_link_start("stbfarm-nodesvc", &c.link, c.agent.brokers))
        return 2;
    if (sf_link_check(c.agent.listen, &err)) {
        fprintf(stderr, "stbfarm-nodesvc: --listen: %s\n", err.msg);
        return 2;
    }
    dev.video.preset = c.record_preset;
    dev.video.crf = (int)c.crf;
    dev.lircd = c.lircd;
    dev.lirc_timeout_ms = (int)c.lirc_timeout_ms;
    c.runner.brokers = c.agent.brokers;
    if (check_only)
        return 0;
    char instance[33];
    sf_random_hex(16, instance);
    c.agent.instance = c.runner.instance = instance;
    av_log_set_level(AV_LOG_ERROR);

    sigset_t sigs;
    sf_stop_block(&sigs);

    int rc = 1;
    sf_rpc_server *server = NULL;
    node_metrics *collecting = NULL;
    size_t n = 0;
    for (size_t i = 0; i < sizeof(MODULES) / sizeof(MODULES[0]); i++)
        n += *MODULES[i].n;
    sf_rpc_method *methods = calloc(n, sizeof(*methods));
    if (!methods)
        return 1;
    n = 0;
    for (size_t i = 0; i < sizeof(MODULES) / sizeof(MODULES[0]); i++) {
        memcpy(methods + n, MODULES[i].methods, *MODULES[i].n * sizeof(*methods));
        n += *MODULES[i].n;
    }

    node_capture_opts co = {c.video_source, c.video_format, c.video_options, (int)c.video_lost_ms};
    if (node_capture_start(&dev.cap, &co, &err)) {
        sf_error("%s", err.msg);
        goto cleanup;
    }
    sf_rpc_server_opts so = {0};
    so.service = "agent";
    so.listen_url = c.agent.listen;
    so.threads = (int)c.threads;
    so.methods = methods;
    so.n_methods = n;
    so.thread_init = service_of;
    so.arg = &service;
    sf_testpack_process_init();
    if (node_runner_new(&service.runner, &dev, &c.runner, &err)) {
        sf_error("%s", err.msg);
        goto cleanup;
    }
    if (node_live_new(&service.live, &dev)) {
        sf_error("out of memory");
        goto cleanup;
    }
    agent.cfg = c.agent;
    agent.cfg.activity = node_runner_activity;
    agent.cfg.activity_arg = service.runner;
    agent.dev = &dev;
    service.agent = &agent;
    if (sf_rpc_server_start(&server, &so, &err) || node_agent_start(&agent, &err)) {
        sf_error("%s", err.msg);
        goto cleanup;
    }
    node_metrics nm = {agent.cfg.node_id, service.runner, dev.cap};
    if (sf_metrics_add_collector(sf_metrics_process(), collect, &nm))
        sf_warn("out of memory: no metrics of the outbox and the video");
    collecting = &nm;
    sf_info("stbfarm-nodesvc %s listening on %s; video from %s; LIRC at %s", agent.cfg.node_id,
            agent.cfg.listen, c.video_source, dev.lircd);
    sf_stop_wait(&sigs);
    rc = 0;
cleanup:
    if (collecting)
        sf_metrics_remove_collector(sf_metrics_process(), collect, collecting);
    sf_rpc_server_stop(server);
    node_agent_stop(&agent);
    node_runner_free(service.runner);
    sf_testpack_process_shutdown();
    node_live_free(service.live);
    node_capture_stop(dev.cap);
    free(methods);
    return rc;
}
