/* The baseline of bench/results.sh: civetweb serving a directory as static files, configured as
 * the gateway configures civetweb. An artifact download through the gateway does all this does
 * (civetweb sends the file) plus auth, rate limit, the RPC to the results service and its
 * checks: the ratio of the two rates is that cost. */
#include <civetweb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: static_civetweb HOST:PORT THREADS DIRECTORY\n");
        return 2;
    }
    const char *options[] = {"listening_ports",
                             argv[1],
                             "num_threads",
                             argv[2],
                             "document_root",
                             argv[3],
                             "enable_keep_alive",
                             "yes",
                             "keep_alive_timeout_ms",
                             "5000",
                             "tcp_nodelay",
                             "1",
                             NULL};
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    mg_init_library(0);
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof(cb));
    struct mg_context *ctx = mg_start(&cb, NULL, options);
    if (!ctx) {
        fprintf(stderr, "static_civetweb: cannot listen on %s\n", argv[1]);
        return 1;
    }
    int sig;
    sigwait(&sigs, &sig);
    mg_stop(ctx);
    mg_exit_library();
    return 0;
}
