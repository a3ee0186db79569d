/* stbfarm-broker: one nng device per service. Callers dial a service's front (raw REP), workers
 * dial its back (raw REQ); the device forwards requests to whichever worker is ready and
 * replies back the way they came. The broker holds no state, so a second broker can run beside
 * it (every process dials both) and a restarted broker is simply dialled again. */
#include "sf_broker.h"
#include "sf_proc.h"
#include "sf_config.h"
#include "sf_link.h"
#include "sf_log.h"
#include "sf_rpc.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct broker_config {
    const char *listen;
    const char *log_level;
    sf_link_config link;
} broker_config;

typedef struct device {
    sf_service svc;
    nng_socket front, back;
    pthread_t thread;
} device;

/* A device that stops (nng ends both directions on any error of either) would leave a broker
 * that accepts connections and forwards nothing: its callers would not turn to another broker.
 * Exit instead, so that they do and the supervisor starts a new one. */
static void *run_device(void *arg)
{
    device *d = arg;
    int rv = nng_device(d->front, d->back);
    sf_error("device %s stopped: %s; exiting", sf_service_name(d->svc), nng_strerror(rv));
    _exit(1);
}

static int open_side(nng_socket *s, int front, const char *base, sf_service svc)
{
    char url[512];
    sf_error err = SF_ERROR_INIT;
    if (sf_broker_url(base, svc, front ? SF_BROKER_FRONT : SF_BROKER_BACK, url, sizeof(url),
                      &err)) {
        sf_error("%s", err.msg);
        return -1;
    }
    int rv = front ? nng_rep0_open_raw(s) : nng_req0_open_raw(s);
    if (rv) {
        sf_error("nng: %s", nng_strerror(rv));
        return -1;
    }
    nng_socket_set_size(*s, NNG_OPT_RECVMAXSZ, SF_RPC_MAX_MSG);
    /* callers and workers are farm processes, and node agents call the services too */
    if (sf_link_listen(*s, url, SF_PEER_FARM | SF_PEER_AGENT, &err)) {
        sf_error("%s", err.msg);
        return -1;
    }
    sf_info("%s %s listening on %s", sf_service_name(svc), front ? "front" : "back", url);
    return 0;
}

int main(int argc, char **argv)
{
    broker_config cfg;
    const sf_option options[] = {
        {"listen", "STBF_BROKER_LISTEN", SF_OPT_STR, "tcp://127.0.0.1:7100",
         "base URL to listen on (tcp://host:port, tls+tcp://host:port or ipc:///path)",
         &cfg.listen},
        {"log-level", "STBF_LOG_LEVEL", SF_OPT_STR, "info", "debug, info, warn or error",
         &cfg.log_level},
        SF_LINK_OPTIONS(&cfg.link),
    };
    int check_only =
        sf_config_load("stbfarm-broker", "Forwards requests between stbfarm callers and workers.",
                       options, sizeof(options) / sizeof(options[0]), argc, argv);
    if (sf_link_start("stbfarm-broker", &cfg.link, cfg.listen))
        return 2;
    if (check_only)
        return 0;

    sigset_t sigs;
    sf_stop_block(&sigs);

    device devices[SF_SVC_COUNT] = {0};
    int rc = 0;
    for (int i = 0; i < SF_SVC_COUNT && !rc; i++) {
        device *d = &devices[i];
        d->svc = (sf_service)i;
        if (open_side(&d->front, 1, cfg.listen, d->svc) ||
            open_side(&d->back, 0, cfg.listen, d->svc) ||
            pthread_create(&d->thread, NULL, run_device, d))
            rc = 1;
    }
    if (rc) {
        sf_error("broker not started");
        _exit(1);
    }
    sf_info("broker ready");
    sf_stop_wait(&sigs);
    /* No nng_close: in nng 1.5.2 closing a socket that nng_device is using can block forever
     * (nanomsg/nng#1503). The broker holds no state, so leaving at once loses nothing; callers
     * and workers redial it. */
    _exit(0);
}
