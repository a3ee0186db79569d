/* sf_rpc.h - request/reply between stbfarm processes: protobuf-c messages over nng.
 *
 * Callers (the gateway, a service calling another) hold an sf_rpc_client: one nng REQ socket
 * that dials every broker given (or one node agent directly). Each call runs on its own nng
 * context with its own deadline, so any number of threads may call at once on one client.
 * A call carries a request id and a deadline; nng resends it when the connection carrying it
 * drops or no reply came within the resend interval, so every handler must be safe to run twice
 * for the same request id.
 *
 * Workers hold an sf_rpc_server: one REP socket dialling every broker's back side (or listening
 * for direct calls), served by `threads` threads, each with its own nng context and its own
 * per-thread state (a Redis connection, say) made by thread_init. Handlers block as they like:
 * they run on those threads, never in an nng callback. Every server answers "<service>.ping".
 *
 * Every call carries the calling process's credential (sf_link_credential), which the
 * server's authorize hook checks before the handler runs (lib/sf_caller.h).
 */
#ifndef SF_RPC_H
#define SF_RPC_H

#include "common.pb-c.h"
#include "rpc.pb-c.h"
#include "sf_broker.h"
#include "sf_err.h"

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

#define SF_RPC_MAX_MSG (64u << 20) /* largest message any socket accepts */

/* ---- caller side ---- */

typedef struct sf_rpc_client sf_rpc_client;

/* A client of one service through the brokers in the comma-separated base list. Dialling goes
 * on in the background: a broker that is down now is reached when it comes up. */
int sf_rpc_client_open(sf_rpc_client **out, const char *brokers, sf_service svc, sf_error *err);

/* A client of one endpoint that listens itself (a node agent). */
int sf_rpc_client_dial(sf_rpc_client **out, const char *url, const char *name, sf_error *err);

void sf_rpc_client_free(sf_rpc_client *c);

typedef struct sf_rpc_opts {
    int timeout_ms;         /* how long the caller waits for the reply */
    int resend_ms;          /* resend when no reply came in this time; 0: a default */
    const char *user;       /* acting user, or NULL */
    const char *base_url;   /* portal public URL, or NULL */
    const char *request_id; /* NULL: a fresh random id */
} sf_rpc_opts;

#define SF_RPC_OPTS_INIT                                                                           \
    {                                                                                              \
        5000, 0, NULL, NULL, NULL                                                                  \
    }

/* What a call returned. All pointers belong to the result; free with sf_rpc_result_free. */
typedef struct sf_rpc_result {
    int status;               /* the HTTP status the service chose */
    ProtobufCMessage *msg;    /* the reply message, when a descriptor was given and not raw */
    const char *content_type; /* raw reply: its type, and body/body_len its bytes */
    const uint8_t *body;
    size_t body_len;
    const char *file_path; /* the service asks the gateway to stream this file */
    size_t n_headers;
    Stbfarm__Header **headers;
    Stbfarm__RpcReply *envelope; /* owns everything above */
} sf_rpc_result;

/* Call method ("nodes.get") with req (NULL: no body). Returns 0 when the service answered with a
 * status below 400; the service's error code and message when it answered 4xx/5xx; SF_EUNAVAIL
 * when nothing answered within timeout_ms. res is filled in all cases where the service answered
 * and must be freed; on SF_EUNAVAIL it is empty (freeing is still safe). */
int sf_rpc_call(sf_rpc_client *c, const char *method, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *reply_desc, const sf_rpc_opts *opts,
                sf_rpc_result *res, sf_error *err);

void sf_rpc_result_free(sf_rpc_result *res);

/* ---- worker side ---- */

/* One incoming call, as its handler sees it. */
typedef struct sf_call {
    const char *method;
    const char *request_id;
    const char *user;       /* "" when none */
    const char *base_url;   /* "" when none */
    int64_t deadline_ms;    /* unix ms */
    void *tls;              /* this thread's state, from thread_init */
    const char *credential; /* what the caller proved itself with ("" none; sf_caller.h) */
    char node[72];          /* the node the caller speaks for, once authorised; "" the farm */
} sf_call;

/* Milliseconds until the caller stops waiting (0 when past). */
int sf_rpc_remaining_ms(const sf_call *call);

/* What a handler answers. Every setter copies what it is given, except sf_rpc_reply_take_raw. */
typedef struct sf_rpc_reply sf_rpc_reply;

void sf_rpc_reply_status(sf_rpc_reply *r, int status);
int sf_rpc_reply_msg(sf_rpc_reply *r, const ProtobufCMessage *msg);
int sf_rpc_reply_raw(sf_rpc_reply *r, const char *content_type, const void *data, size_t len);
/* As sf_rpc_reply_raw, but takes data (malloc'd) instead of copying it: the reply owns it from
 * the call on, and a failure (out of memory) has freed it. */
int sf_rpc_reply_take_raw(sf_rpc_reply *r, const char *content_type, void *data, size_t len);
int sf_rpc_reply_file(sf_rpc_reply *r, const char *path, const char *content_type);
int sf_rpc_reply_header(sf_rpc_reply *r, const char *name, const char *value);

/* A handler returns 0 (the reply as built, status 200 unless set) or an error code with err
 * filled; the caller then sees that status and message. */
typedef int (*sf_rpc_handler)(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                              sf_error *err);

typedef struct sf_rpc_method {
    const char *name;                      /* "nodes.get" */
    const ProtobufCMessageDescriptor *req; /* the request message type; NULL: no body */
    sf_rpc_handler fn;
} sf_rpc_method;

typedef struct sf_rpc_server_opts {
    const char *service; /* name answered by "<service>.ping" */
    const char *brokers; /* dial each broker's back side for svc ... */
    sf_service svc;
    const char *listen_url; /* ... or, when set, listen here for direct calls */
    int threads;
    const sf_rpc_method *methods;
    size_t n_methods;
    void *(*thread_init)(void *arg); /* per-thread state; NULL return stops the server */
    /* run before every handler but ping's: 0 to go on, or an error the caller gets instead */
    int (*authorize)(sf_call *call, sf_error *err);
    void (*thread_fini)(void *tls);
    void *arg;
} sf_rpc_server_opts;

typedef struct sf_rpc_server sf_rpc_server;

int sf_rpc_server_start(sf_rpc_server **out, const sf_rpc_server_opts *opts, sf_error *err);

/* Close the socket, let each thread finish the call it is in, join them, free everything. */
void sf_rpc_server_stop(sf_rpc_server *s);

#endif
