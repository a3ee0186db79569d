#include "sf_rpc.h"

#include "sf_crypto.h"
#include "sf_link.h"
#include "sf_log.h"
#include "sf_metrics.h"
#include "sf_proc.h"
#include "sf_time.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    DEFAULT_RESEND_MS = 3000,
    MAX_REPLY_HEADERS = 8,
    MAX_DIALERS = 8, /* brokers one socket dials */
    /* nng redials every RECONNMAXT (1 s) at most: a dialer without a connection for this long
     * has stopped trying (below) */
    REDIAL_AFTER_MS = 3000,
    SERVE_WAKE_MS = 1000, /* how often an idle worker thread looks at its dialers */
};

/* The dialers of one socket, watched. nng 1.5.2 sometimes stops redialling for good after the
 * far end (a broker) restarted, and the process would never reach it again: a dialer that has
 * had no connection for REDIAL_AFTER_MS is closed and dialled anew. The pipe callbacks count
 * each dialer's connections. */
typedef struct dialers {
    pthread_mutex_t lock;
    nng_socket sock;
    size_t n;
    struct watched {
        char url[512];
        unsigned peers; /* the roles the far end may have (sf_link.h) */
        nng_dialer d;
        int pipes;
        int64_t down_since_ms; /* while pipes == 0 */
    } v[MAX_DIALERS];
} dialers;

struct sf_rpc_client {
    nng_socket sock;
    char name[64]; /* what the caller talks to, for error messages */
    dialers dials;
    sf_metric_family *calls, *latency;
    struct sf_rpc_client *parked_next;
};

/* Clients freed once the process is stopping (sf_stopping): kept, socket open, until the
 * process exits. nng 1.5 can panic ("pthread_mutex_lock: Invalid argument", in one of its own
 * threads) when a socket closes while its dialer redials a peer that is gone, which is what
 * every client to a node agent or broker stopped before us is doing at that point; a process
 * that exits needs no socket closed. Reachable from here, so no leak is reported. */
static pthread_mutex_t parked_lock = PTHREAD_MUTEX_INITIALIZER;
static sf_rpc_client *parked;

/* The metrics of either side: calls by service, method and status ("unavailable": no answer;
 * "dropped": the caller had given up), and their latency. */
typedef struct rpc_metrics {
    sf_metric_family *calls, *latency;
} rpc_metrics;

static rpc_metrics rpc_metrics_of(int server)
{
    sf_metrics *m = sf_metrics_process();
    rpc_metrics r;
    if (server) {
        r.calls = sf_metrics_counter(m, "stbfarm_rpc_server_calls_total",
                                     "RPC calls this process served, by service, method and status",
                                     "service,method,code");
        r.latency = sf_metrics_histogram(m, "stbfarm_rpc_server_duration_seconds",
                                         "Time to serve an RPC call, by service and method",
                                         "service,method", NULL, 0);
    } else {
        r.calls = sf_metrics_counter(m, "stbfarm_rpc_client_calls_total",
                                     "RPC calls this process made, by service, method and status "
                                     "(unavailable: no answer in time)",
                                     "service,method,code");
        r.latency = sf_metrics_histogram(m, "stbfarm_rpc_client_duration_seconds",
                                         "Time from sending an RPC call to its answer (or giving "
                                         "up), by service and method",
                                         "service,method", NULL, 0);
    }
    return r;
}

/* Count one call: the service is what the method name starts with ("nodes" of "nodes.get"). */
static void rpc_count(sf_metric_family *calls, sf_metric_family *latency, const char *method,
                      const char *code, int64_t t0_us)
{
    char service[32];
    const char *dot = strchr(method, '.');
    snprintf(service, sizeof(service), "%.*s", dot ? (int)(dot - method) : (int)strlen(method),
             method);
    sf_metric_inc(sf_metric_get(calls, SF_LABELS(service, method, code)));
    sf_metric_observe(sf_metric_get(latency, SF_LABELS(service, method)),
                      (double)(sf_now_us() - t0_us) / 1e6);
}

static void rpc_count_status(sf_metric_family *calls, sf_metric_family *latency, const char *method,
                             int status, int64_t t0_us)
{
    char code[16];
    snprintf(code, sizeof(code), "%d", status);
    rpc_count(calls, latency, method, code, t0_us);
}

static void tune_socket(nng_socket s)
{
    nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, SF_RPC_MAX_MSG);
    nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 50);
    nng_socket_set_ms(s, NNG_OPT_RECONNMAXT, 1000);
}

static void pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    dialers *w = arg;
    int id = nng_dialer_id(nng_pipe_dialer(p));
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->n; i++) {
        if (nng_dialer_id(w->v[i].d) != id || id < 0)
            continue;
        w->v[i].pipes += ev == NNG_PIPE_EV_ADD_POST ? 1 : -1;
        if (w->v[i].pipes <= 0) {
            w->v[i].pipes = 0;
            w->v[i].down_since_ms = sf_mono_ms();
        }
    }
    pthread_mutex_unlock(&w->lock);
}

static void dialers_init(dialers *w, nng_socket sock)
{
    pthread_mutex_init(&w->lock, NULL);
    w->sock = sock;
    w->n = 0;
    nng_pipe_notify(sock, NNG_PIPE_EV_ADD_POST, pipe_event, w);
    nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, pipe_event, w);
}

/* After nng_close of the socket: no callback comes any more. */
static void dialers_fini(dialers *w)
{
    pthread_mutex_destroy(&w->lock);
}

/* Dial url; NONBLOCK so a far end that is down is retried in the background instead of failing
 * start-up. A dialer is recorded before it starts, so that the callback of its first pipe
 * finds it. */
static int dialers_add(dialers *w, const char *url, unsigned peers, sf_error *err)
{
    if (w->n == MAX_DIALERS)
        return sf_fail(err, SF_EINVAL, "more than %d brokers", MAX_DIALERS);
    nng_dialer d;
    int nrv, rc = sf_link_dialer(w->sock, url, peers, &d, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&w->lock);
    struct watched *v = &w->v[w->n++];
    snprintf(v->url, sizeof(v->url), "%s", url);
    v->peers = peers;
    v->d = d;
    v->pipes = 0;
    v->down_since_ms = sf_mono_ms();
    pthread_mutex_unlock(&w->lock);
    if ((nrv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)))
        return sf_fail(err, SF_EINVAL, "cannot dial %s: %s", url, nng_strerror(nrv));
    return 0;
}

/* Dial anew what has had no connection for REDIAL_AFTER_MS (a far end that is down is dialled
 * again every REDIAL_AFTER_MS: harmless). nng is called outside the lock, which its pipe
 * callbacks take; the first thread to see a stale dialer takes it on. */
static void dialers_check(dialers *w)
{
    size_t stale[MAX_DIALERS], n = 0;
    nng_dialer old[MAX_DIALERS];
    int64_t now = sf_mono_ms();
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->n; i++) {
        if (w->v[i].pipes > 0 || now - w->v[i].down_since_ms < REDIAL_AFTER_MS)
            continue;
        w->v[i].down_since_ms = now;
        old[n] = w->v[i].d;
        stale[n++] = i;
    }
    pthread_mutex_unlock(&w->lock);
    for (size_t k = 0; k < n; k++) {
        struct watched *v = &w->v[stale[k]]; /* url is never written after dialers_add */
        nng_dialer_close(old[k]);
        nng_dialer fresh;
        sf_error err = SF_ERROR_INIT;
        if (sf_link_dialer(w->sock, v->url, v->peers, &fresh, &err)) {
            sf_warn("redialling %s: %s", v->url, err.msg);
            continue;
        }
        int nrv;
        pthread_mutex_lock(&w->lock);
        v->d = fresh;
        v->pipes = 0;
        pthread_mutex_unlock(&w->lock);
        if ((nrv = nng_dialer_start(fresh, NNG_FLAG_NONBLOCK)))
            sf_warn("redialling %s: %s", v->url, nng_strerror(nrv));
        else
            sf_debug("redialled %s", v->url);
    }
}

typedef struct dial_ctx {
    dialers *w;
    sf_service svc;
    sf_broker_side side;
    sf_error *err;
} dial_ctx;

/* Dial one broker's side for a service; a broker that is down is retried in the background
 * instead of failing start-up. */
static int dial_broker(const char *base, void *arg)
{
    dial_ctx *d = arg;
    char url[512];
    int rc = sf_broker_url(base, d->svc, d->side, url, sizeof(url), d->err);
    return rc ? rc : dialers_add(d->w, url, SF_PEER_FARM, d->err);
}

static int client_new(sf_rpc_client **out, const char *name, sf_error *err)
{
    sf_rpc_client *c = calloc(1, sizeof(*c));
    if (!c)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    int nrv = nng_req0_open(&c->sock);
    if (nrv) {
        free(c);
        return sf_fail(err, SF_EINTERNAL, "nng: %s", nng_strerror(nrv));
    }
    tune_socket(c->sock);
    dialers_init(&c->dials, c->sock);
    snprintf(c->name, sizeof(c->name), "%s", name);
    rpc_metrics rm = rpc_metrics_of(0);
    c->calls = rm.calls;
    c->latency = rm.latency;
    *out = c;
    return 0;
}

int sf_rpc_client_open(sf_rpc_client **out, const char *brokers, sf_service svc, sf_error *err)
{
    char name[64];
    snprintf(name, sizeof(name), "%s service", sf_service_name(svc));
    sf_rpc_client *c;
    int rc = client_new(&c, name, err);
    if (rc)
        return rc;
    dial_ctx d = {&c->dials, svc, SF_BROKER_FRONT, err};
    rc = sf_broker_each(brokers, dial_broker, &d);
    if (rc) {
        sf_rpc_client_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int sf_rpc_client_dial(sf_rpc_client **out, const char *url, const char *name, sf_error *err)
{
    sf_rpc_client *c;
    int rc = client_new(&c, name, err);
    if (rc)
        return rc;
    /* Only a node agent listens for direct calls. Its dialer is not watched and made anew as a
     * broker's is: nng redials a lost agent by itself, and closing a TLS dialer while it
     * connects (an agent across a cut link) can make nng 1.5 panic when the socket closes. */
    if ((rc = sf_link_dial(c->sock, url, SF_PEER_AGENT, err))) {
        sf_rpc_client_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void sf_rpc_client_free(sf_rpc_client *c)
{
    if (!c)
        return;
    if (sf_stopping()) {
        pthread_mutex_lock(&parked_lock);
        c->parked_next = parked;
        parked = c;
        pthread_mutex_unlock(&parked_lock);
        return;
    }
    nng_close(c->sock);
    dialers_fini(&c->dials);
    free(c);
}

void sf_rpc_result_free(sf_rpc_result *res)
{
    if (res->msg)
        protobuf_c_message_free_unpacked(res->msg, NULL);
    if (res->envelope)
        stbfarm__rpc_reply__free_unpacked(res->envelope, NULL);
    memset(res, 0, sizeof(*res));
}

/* Pack a message into a fresh nng message, so the bytes are written once. */
static int pack_nng(const ProtobufCMessage *m, nng_msg **out)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    if (nng_msg_alloc(out, n))
        return SF_EINTERNAL;
    protobuf_c_message_pack(m, nng_msg_body(*out));
    return 0;
}

/* One request and its reply on a context. The send's completion starts the receive from nng's
 * callback, so the caller sleeps once, until the reply or an error, not once for each. */
typedef struct exchange_state {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    nng_ctx ctx;
    nng_aio *aio;
    int64_t end_ms;
    int sending; /* the send is in flight; 0: the receive */
    int done;
    int rv;
    nng_msg *reply;
} exchange_state;

static void exchanged(void *arg)
{
    exchange_state *x = arg;
    int rv = nng_aio_result(x->aio);
    nng_msg *reply = NULL;
    if (x->sending) {
        if (!rv) {
            x->sending = 0;
            int64_t left = x->end_ms - sf_mono_ms();
            nng_aio_set_timeout(x->aio, left > 0 ? (nng_duration)left : 1);
            nng_ctx_recv(x->ctx, x->aio);
            return;
        }
        nng_msg_free(nng_aio_get_msg(x->aio)); /* a failed send leaves the message with us */
    } else if (!rv) {
        reply = nng_aio_get_msg(x->aio);
    }
    pthread_mutex_lock(&x->lock);
    x->rv = rv;
    x->reply = reply;
    x->done = 1;
    pthread_cond_signal(&x->cond);
    pthread_mutex_unlock(&x->lock);
}

/* Send on ctx and wait for the reply, both within timeout_ms. Takes msg in every case. */
static int exchange(nng_ctx ctx, nng_msg *msg, int timeout_ms, nng_msg **reply)
{
    exchange_state x = {.ctx = ctx, .sending = 1};
    int rv = nng_aio_alloc(&x.aio, exchanged, &x);
    if (rv) {
        nng_msg_free(msg);
        return rv;
    }
    pthread_mutex_init(&x.lock, NULL);
    pthread_cond_init(&x.cond, NULL);
    x.end_ms = sf_mono_ms() + timeout_ms;
    nng_aio_set_timeout(x.aio, timeout_ms);
    nng_aio_set_msg(x.aio, msg);
    nng_ctx_send(ctx, x.aio);
    pthread_mutex_lock(&x.lock);
    while (!x.done)
        pthread_cond_wait(&x.cond, &x.lock);
    pthread_mutex_unlock(&x.lock);
    nng_aio_wait(x.aio); /* until the callback has returned: x lives on this stack */
    nng_aio_free(x.aio);
    pthread_cond_destroy(&x.cond);
    pthread_mutex_destroy(&x.lock);
    *reply = x.reply;
    return x.rv;
}

static int call(sf_rpc_client *c, const char *method, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *reply_desc, const sf_rpc_opts *opts,
                sf_rpc_result *res, sf_error *err)
{
    static const sf_rpc_opts defaults = SF_RPC_OPTS_INIT;
    const sf_rpc_opts *o = opts ? opts : &defaults;
    memset(res, 0, sizeof(*res));

    char rid[33];
    if (o->request_id)
        snprintf(rid, sizeof(rid), "%s", o->request_id);
    else
        sf_random_hex(16, rid);

    uint8_t *body = NULL;
    size_t body_len = 0;
    if (req) {
        body_len = protobuf_c_message_get_packed_size(req);
        body = malloc(body_len ? body_len : 1);
        if (!body)
            return sf_fail(err, SF_EINTERNAL, "out of memory");
        protobuf_c_message_pack(req, body);
    }
    Stbfarm__RpcRequest env = STBFARM__RPC_REQUEST__INIT;
    env.method = (char *)method;
    env.request_id = rid;
    env.deadline_ms = sf_now_us() / 1000 + o->timeout_ms;
    env.user = (char *)o->user;
    env.base_url = (char *)o->base_url;
    env.credential = (char *)sf_link_credential();
    env.has_body = req != NULL;
    env.body.data = body;
    env.body.len = body_len;
    nng_msg *msg = NULL;
    int rc = pack_nng(&env.base, &msg);
    free(body);
    if (rc)
        return sf_fail(err, SF_EINTERNAL, "out of memory");

    dialers_check(&c->dials);
    nng_ctx ctx;
    int nrv = nng_ctx_open(&ctx, c->sock);
    if (nrv) {
        nng_msg_free(msg);
        return sf_fail(err, SF_EUNAVAIL, "%s: %s", c->name, nng_strerror(nrv));
    }
    nng_ctx_set_ms(ctx, NNG_OPT_REQ_RESENDTIME,
                   o->resend_ms > 0 ? o->resend_ms : DEFAULT_RESEND_MS);
    nng_msg *reply = NULL;
    nrv = exchange(ctx, msg, o->timeout_ms, &reply);
    nng_ctx_close(ctx);
    if (nrv == NNG_ETIMEDOUT)
        return sf_fail(err, SF_EUNAVAIL, "the %s did not answer within %d ms", c->name,
                       o->timeout_ms);
    if (nrv)
        return sf_fail(err, SF_EUNAVAIL, "the %s is unreachable: %s", c->name, nng_strerror(nrv));

    res->envelope = stbfarm__rpc_reply__unpack(NULL, nng_msg_len(reply), nng_msg_body(reply));
    nng_msg_free(reply);
    if (!res->envelope)
        return sf_fail(err, SF_EINTERNAL, "the %s sent a malformed reply", c->name);
    Stbfarm__RpcReply *r = res->envelope;
    res->status = r->status;
    res->content_type = r->content_type;
    res->file_path = r->file_path;
    res->n_headers = r->n_headers;
    res->headers = r->headers;
    if (r->has_body) {
        res->body = r->body.data;
        res->body_len = r->body.len;
    }
    if (r->status >= 400) {
        int code = (r->status <= 599) ? -r->status : SF_EINTERNAL;
        return sf_fail(err, code, "%s", r->error ? r->error : sf_http_reason(r->status));
    }
    if (reply_desc && !r->content_type && !r->file_path) {
        res->msg = protobuf_c_message_unpack(reply_desc, NULL, res->body_len, res->body);
        if (!res->msg)
            return sf_fail(err, SF_EINTERNAL, "the %s sent a malformed %s", c->name,
                           reply_desc->name);
    }
    return 0;
}

int sf_rpc_call(sf_rpc_client *c, const char *method, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *reply_desc, const sf_rpc_opts *opts,
                sf_rpc_result *res, sf_error *err)
{
    int64_t t0 = sf_now_us();
    int rc = call(c, method, req, reply_desc, opts, res, err);
    if (res->envelope)
        rpc_count_status(c->calls, c->latency, method, res->status, t0);
    else
        rpc_count(c->calls, c->latency, method, rc == SF_EUNAVAIL ? "unavailable" : "error", t0);
    return rc;
}

/* ---- worker side ---- */

struct sf_rpc_reply {
    int status;
    uint8_t *body;
    size_t body_len;
    char *content_type;
    char *file_path;
    size_t n_headers;
    char *header_name[MAX_REPLY_HEADERS];
    char *header_value[MAX_REPLY_HEADERS];
};

struct sf_rpc_server {
    nng_socket sock;
    dialers dials; /* none when it listens */
    sf_rpc_server_opts o;
    rpc_metrics metrics;
    char ping[96];
    int n_threads;
    pthread_t *threads;
};

int sf_rpc_remaining_ms(const sf_call *call)
{
    int64_t left = call->deadline_ms - sf_now_us() / 1000;
    return left > 0 ? (left > 0x7fffffff ? 0x7fffffff : (int)left) : 0;
}

void sf_rpc_reply_status(sf_rpc_reply *r, int status)
{
    r->status = status;
}

static int set_body(sf_rpc_reply *r, const char *content_type, void *data, size_t len)
{
    char *ct = NULL;
    if (content_type && !(ct = strdup(content_type)))
        return SF_EINTERNAL;
    free(r->body);
    free(r->content_type);
    r->body = data;
    r->body_len = len;
    r->content_type = ct;
    return 0;
}

int sf_rpc_reply_msg(sf_rpc_reply *r, const ProtobufCMessage *msg)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return SF_EINTERNAL;
    protobuf_c_message_pack(msg, buf);
    if (set_body(r, NULL, buf, n)) {
        free(buf);
        return SF_EINTERNAL;
    }
    return 0;
}

int sf_rpc_reply_raw(sf_rpc_reply *r, const char *content_type, const void *data, size_t len)
{
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return SF_EINTERNAL;
    memcpy(buf, data, len);
    return sf_rpc_reply_take_raw(r, content_type, buf, len);
}

int sf_rpc_reply_take_raw(sf_rpc_reply *r, const char *content_type, void *data, size_t len)
{
    int rc = set_body(r, content_type, data, len);
    if (rc)
        free(data);
    return rc;
}

int sf_rpc_reply_file(sf_rpc_reply *r, const char *path, const char *content_type)
{
    char *p = strdup(path);
    if (!p || set_body(r, content_type, NULL, 0)) {
        free(p);
        return SF_EINTERNAL;
    }
    free(r->file_path);
    r->file_path = p;
    return 0;
}

int sf_rpc_reply_header(sf_rpc_reply *r, const char *name, const char *value)
{
    if (r->n_headers == MAX_REPLY_HEADERS)
        return SF_EINTERNAL;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return SF_EINTERNAL;
    }
    r->header_name[r->n_headers] = n;
    r->header_value[r->n_headers++] = v;
    return 0;
}

static void reply_clear(sf_rpc_reply *r)
{
    free(r->body);
    free(r->content_type);
    free(r->file_path);
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->header_name[i]);
        free(r->header_value[i]);
    }
    memset(r, 0, sizeof(*r));
}

static const sf_rpc_method *find_method(const sf_rpc_server *s, const char *name)
{
    for (size_t i = 0; i < s->o.n_methods; i++) {
        if (!strcmp(s->o.methods[i].name, name))
            return &s->o.methods[i];
    }
    return NULL;
}

static int handle_ping(const sf_rpc_server *s, sf_rpc_reply *reply)
{
    Stbfarm__Pong pong = STBFARM__PONG__INIT;
    pong.service = (char *)s->o.service;
    pong.version = (char *)"0.1.0";
    pong.pid = (int32_t)getpid();
    return sf_rpc_reply_msg(reply, &pong.base);
}

/* Decode one request, run its handler, and build the reply envelope into *out. Returns 1 when
 * there is a reply to send, 0 when the request is dropped (its caller already gave up). */
static int dispatch(const sf_rpc_server *s, void *tls, nng_msg *in, nng_msg **out)
{
    int64_t t0 = sf_now_us();
    Stbfarm__RpcRequest *env =
        stbfarm__rpc_request__unpack(NULL, nng_msg_len(in), nng_msg_body(in));
    const char *known = "unknown"; /* the method, for the metrics: only names we serve */
    sf_rpc_reply reply = {0};
    sf_error err = SF_ERROR_INIT;
    int rc = 0;
    if (!env) {
        rc = sf_fail(&err, SF_EINVAL, "malformed request envelope");
    } else if (env->deadline_ms < sf_now_us() / 1000) {
        sf_debug("dropping %s %s: its deadline has passed", env->method, env->request_id);
        const sf_rpc_method *m = find_method(s, env->method);
        rpc_count(s->metrics.calls, s->metrics.latency, m ? m->name : known, "dropped", t0);
        stbfarm__rpc_request__free_unpacked(env, NULL);
        return 0;
    } else if (!strcmp(env->method, s->ping)) {
        known = s->ping;
        rc = handle_ping(s, &reply);
    } else {
        const sf_rpc_method *m = find_method(s, env->method);
        if (m)
            known = m->name;
        ProtobufCMessage *req = NULL;
        if (!m) {
            rc = sf_fail(&err, SF_ENOTFOUND, "the %s service has no method '%s'", s->o.service,
                         env->method);
        } else if (m->req &&
                   !(req = protobuf_c_message_unpack(
                         m->req, NULL, env->has_body ? env->body.len : 0, env->body.data))) {
            rc = sf_fail(&err, SF_EINVAL, "malformed %s for %s", m->req->name, env->method);
        } else {
            sf_call call = {env->method,
                            env->request_id,
                            env->user ? env->user : "",
                            env->base_url ? env->base_url : "",
                            env->deadline_ms,
                            tls,
                            env->credential ? env->credential : "",
                            ""};
            if (!s->o.authorize || !(rc = s->o.authorize(&call, &err)))
                rc = m->fn(&call, req, &reply, &err);
            if (rc && !err.msg[0])
                sf_fail(&err, rc, "%s failed", env->method);
        }
        if (req)
            protobuf_c_message_free_unpacked(req, NULL);
    }

    Stbfarm__RpcReply r = STBFARM__RPC_REPLY__INIT;
    Stbfarm__Header hdrs[MAX_REPLY_HEADERS], *hp[MAX_REPLY_HEADERS];
    if (rc) {
        r.status = sf_http_status(rc);
        r.error = err.msg;
        if (r.status >= 500)
            sf_warn("%s: %d %s", env ? env->method : "?", r.status, err.msg);
    } else {
        r.status = reply.status ? reply.status : 200;
        r.has_body = reply.body != NULL;
        r.body.data = reply.body;
        r.body.len = reply.body_len;
        r.content_type = reply.content_type;
        r.file_path = reply.file_path;
        for (size_t i = 0; i < reply.n_headers; i++) {
            stbfarm__header__init(&hdrs[i]);
            hdrs[i].name = reply.header_name[i];
            hdrs[i].value = reply.header_value[i];
            hp[i] = &hdrs[i];
        }
        r.n_headers = reply.n_headers;
        r.headers = hp;
    }
    if (env)
        sf_debug("%s %s -> %d", env->method, env->request_id, r.status);
    rpc_count_status(s->metrics.calls, s->metrics.latency, known, r.status, t0);
    int packed = pack_nng(&r.base, out) == 0;
    reply_clear(&reply);
    if (env)
        stbfarm__rpc_request__free_unpacked(env, NULL);
    return packed;
}

static void *serve(void *arg)
{
    sf_rpc_server *s = arg;
    void *tls = NULL;
    if (s->o.thread_init && !(tls = s->o.thread_init(s->o.arg))) {
        sf_error("%s: a worker thread could not start", s->o.service);
        return NULL;
    }
    nng_ctx ctx;
    nng_aio *aio = NULL;
    if (nng_ctx_open(&ctx, s->sock) || nng_aio_alloc(&aio, NULL, NULL)) {
        sf_error("%s: cannot open an nng context", s->o.service);
        goto cleanup;
    }
    /* waking every SERVE_WAKE_MS when idle, to redial a broker nng gave up on */
    nng_ctx_set_ms(ctx, NNG_OPT_RECVTIMEO, SERVE_WAKE_MS);
    for (;;) {
        nng_ctx_recv(ctx, aio);
        nng_aio_wait(aio);
        int rv = nng_aio_result(aio);
        if (rv == NNG_ECLOSED)
            break;
        if (rv == NNG_ETIMEDOUT)
            dialers_check(&s->dials);
        if (rv)
            continue;
        nng_msg *in = nng_aio_get_msg(aio), *out = NULL;
        int answer = dispatch(s, tls, in, &out);
        nng_msg_free(in);
        if (!answer)
            continue;
        nng_aio_set_msg(aio, out);
        nng_ctx_send(ctx, aio);
        nng_aio_wait(aio);
        if (nng_aio_result(aio))
            nng_msg_free(out); /* the caller went away; the message is still ours */
    }
    nng_ctx_close(ctx);
cleanup:
    nng_aio_free(aio);
    if (s->o.thread_fini && tls)
        s->o.thread_fini(tls);
    return NULL;
}

int sf_rpc_server_start(sf_rpc_server **out, const sf_rpc_server_opts *opts, sf_error *err)
{
    sf_rpc_server *s = calloc(1, sizeof(*s));
    if (!s)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    s->o = *opts;
    s->metrics = rpc_metrics_of(1);
    snprintf(s->ping, sizeof(s->ping), "%s.ping", opts->service);
    int nrv = nng_rep0_open(&s->sock);
    if (nrv) {
        free(s);
        return sf_fail(err, SF_EINTERNAL, "nng: %s", nng_strerror(nrv));
    }
    tune_socket(s->sock);
    dialers_init(&s->dials, s->sock);
    int rc = 0;
    if (opts->listen_url) {
        /* direct calls come from the farm's services only, never from another agent */
        rc = sf_link_listen(s->sock, opts->listen_url, SF_PEER_FARM, err);
    } else {
        dial_ctx d = {&s->dials, opts->svc, SF_BROKER_BACK, err};
        rc = sf_broker_each(opts->brokers, dial_broker, &d);
    }
    int n = opts->threads > 0 ? opts->threads : 1;
    if (!rc && !(s->threads = calloc((size_t)n, sizeof(pthread_t))))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    for (int i = 0; !rc && i < n; i++) {
        if (pthread_create(&s->threads[i], NULL, serve, s))
            rc = sf_fail(err, SF_EINTERNAL, "cannot start worker thread %d", i);
        else
            s->n_threads++;
    }
    if (rc) {
        sf_rpc_server_stop(s);
        return rc;
    }
    *out = s;
    return 0;
}

void sf_rpc_server_stop(sf_rpc_server *s)
{
    if (!s)
        return;
    nng_close(s->sock);
    for (int i = 0; i < s->n_threads; i++)
        pthread_join(s->threads[i], NULL);
    dialers_fini(&s->dials);
    free(s->threads);
    free(s);
}
