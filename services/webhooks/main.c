/* stbfarm-webhooks: delivers the change feed (sf_feed.h) to the webhooks users made
 * (hooks_store.h). Any number of replicas, each with --threads delivery threads: a thread takes
 * a webhook's lease in Redis, delivers what follows the webhook's position in the feed, one
 * entry at a time and in order, and moves the position on only once the receiver answered 2xx,
 * so every event arrives at least once (a deliverer that dies between a delivery and its record
 * delivers that event again). A failed delivery is tried again after 1 s, 2 s, 4 s ... (at most
 * an hour apart) until --retry-secs (a day) after its first failure; then it is given up, and the
 * log says so. Each delivery is a JSON POST signed with HMAC-SHA256 of its body
 * (X-Stbfarm-Signature: sha256=<hex>), libcurl, no redirects, no proxy, and the address it
 * connects to is checked (hooks_url.h) as it connects. */
#include "hooks_store.h"
#include "hooks_url.h"

#include "sf_account.h"
#include "sf_broker.h"
#include "sf_config.h"
#include "sf_crypto.h"
#include "sf_feed.h"
#include "sf_log.h"
#include "sf_proc.h"
#include "sf_rpc.h"
#include "sf_time.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
    LEASE_MS = 60000,    /* longer than any one delivery takes */
    IDLE_MS = 250,       /* after a failure, a thread looks again this soon */
    IDLE_WAIT_MS = 1000, /* an idle thread waits this long on the feed: back-offs end meanwhile */
    BATCH = 20,          /* feed entries read at once for one webhook */
    ANSWER_MAX = 512,    /* bytes of a receiver's answer kept in the log */
    BACKOFF_MAX_MS = 3600000,
};

typedef struct hooks_config {
    sf_common_config common;
    const char *public_url;
    int allow_loopback;
    long timeout_ms;
    long retry_secs;
} hooks_config;

typedef struct hooks_state {
    hooks_config cfg;
    hooks_policy policy;
    sf_rpc_client *clients[SF_SVC_COUNT];
    atomic_int stopping;
    pthread_mutex_t lock;
    pthread_cond_t cond;
} hooks_state;

typedef struct hooks_thread {
    hooks_state *s;
    sf_redis *redis;
    char owner[48]; /* this thread's name in leases */
    pthread_t tid;
} hooks_thread;

/* What one POST came to: the status (0: none) and the start of the answer, or curl's error. */
typedef struct delivery {
    long status;
    char answer[ANSWER_MAX + 1];
    size_t len;
    char refused[SF_ERROR_MSG_MAX]; /* why the address was refused */
    const hooks_policy *policy;
} delivery;

static size_t keep_answer(char *data, size_t size, size_t n, void *arg)
{
    delivery *d = arg;
    size_t len = size * n, room = ANSWER_MAX - d->len;
    memcpy(d->answer + d->len, data, len < room ? len : room);
    d->len += len < room ? len : room;
    d->answer[d->len] = '\0';
    return len; /* the rest is read and dropped: the log keeps a bounded start */
}

/* Every connection libcurl opens goes through here: its address is checked as it is dialled. */
static curl_socket_t open_checked(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)purpose;
    delivery *d = arg;
    sf_error err = SF_ERROR_INIT;
    if (hooks_addr_allowed(d->policy, &a->addr, &err)) {
        snprintf(d->refused, sizeof(d->refused), "%s", err.msg);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

static void sign(const char *secret, const char *body, size_t len, char out[72])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "sha256=", 7);
    sf_hex(mac, sizeof(mac), out + 7);
}

static void post(hooks_thread *t, const hooks_record *h, const char *event, const char *id,
                 const char *body, delivery *d)
{
    memset(d, 0, sizeof(*d));
    d->policy = &t->s->policy;
    char sig[72], h_sig[128], h_event[80], h_id[80], h_hook[64];
    sign(h->secret, body, strlen(body), sig);
    snprintf(h_sig, sizeof(h_sig), "X-Stbfarm-Signature: %s", sig);
    snprintf(h_event, sizeof(h_event), "X-Stbfarm-Event: %s", event);
    snprintf(h_id, sizeof(h_id), "X-Stbfarm-Delivery: %s", id);
    snprintf(h_hook, sizeof(h_hook), "X-Stbfarm-Webhook: %s", h->id);
    struct curl_slist *hs = NULL;
    const char *lines[] = {
        "Content-Type: application/json", "Expect:", h_sig, h_event, h_id, h_hook};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        hs = curl_slist_append(hs, lines[i]);
    CURL *c = curl_easy_init();
    if (!c || !hs) {
        snprintf(d->answer, sizeof(d->answer), "out of memory");
        curl_slist_free_all(hs);
        curl_easy_cleanup(c);
        return;
    }
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, h->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "stbfarm-webhooks");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, t->s->cfg.timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* never the environment's proxy: it is not checked */
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_checked);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, d);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_answer);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &d->status);
    } else {
        d->status = 0;
        snprintf(d->answer, sizeof(d->answer), "%s",
                 d->refused[0] ? d->refused
                 : cerr[0]     ? cerr
                               : curl_easy_strerror(rc));
    }
    curl_slist_free_all(hs);
    curl_easy_cleanup(c);
}

/* One delivery as the webhook's log shows it (malloc'd JSON). */
static char *log_entry(const char *id, const char *event, int attempt, const delivery *d,
                       const char *outcome)
{
    char when[40];
    sf_time_format(sf_now_us(), when, sizeof(when), SF_TIME_ZULU);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event_id", id);
    cJSON_AddStringToObject(o, "event", event);
    cJSON_AddStringToObject(o, "time", when);
    cJSON_AddNumberToObject(o, "attempt", attempt);
    if (d->status)
        cJSON_AddNumberToObject(o, "status", (double)d->status);
    else
        cJSON_AddNullToObject(o, "status");
    cJSON_AddStringToObject(o, "answer", d->answer);
    cJSON_AddStringToObject(o, "outcome", outcome);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* The body of one delivery: {"webhook_id", "id", "event", "data"}. */
static char *body_of(const hooks_record *h, const char *id, const char *event, const char *data)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "webhook_id", h->id);
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "event", event);
    cJSON *d = cJSON_Parse(data);
    cJSON_AddItemToObject(o, "data", d ? d : cJSON_CreateNull());
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* Deliver one event at `at` and record it: 1 when the webhook may go on, 0 when it failed
 * (its retry is recorded) or the lease was lost. */
static int deliver(hooks_thread *t, hooks_record *h, sf_feed_id at, const char *event,
                   const char *data)
{
    char id[SF_FEED_ID_MAX];
    sf_feed_id_format(at, id);
    char *body = body_of(h, id, event, data);
    if (!body)
        return 0;
    delivery d;
    post(t, h, event, id, body, &d);
    free(body);
    int attempt = h->attempt + 1, ok = d.status >= 200 && d.status < 300;
    int64_t now = sf_now_us() / 1000;
    int64_t since = h->failing_since_ms ? h->failing_since_ms : now;
    int give_up = !ok && now - since >= t->s->cfg.retry_secs * 1000;
    char *log = log_entry(id, event, attempt, &d,
                          ok        ? "delivered"
                          : give_up ? "gave up"
                                    : "will retry");
    sf_error err = SF_ERROR_INIT;
    int rc;
    if (ok || give_up) {
        rc = hooks_advance(t->redis, h->id, t->owner, at, log, &err);
        if (give_up)
            sf_warn("webhook %s: gave up on event %s after %d attempts", h->id, id, attempt);
    } else {
        int64_t wait = 1000;
        for (int i = 1; i < attempt && wait < BACKOFF_MAX_MS; i++)
            wait *= 2;
        if (wait > BACKOFF_MAX_MS)
            wait = BACKOFF_MAX_MS;
        rc = hooks_failed(t->redis, h->id, t->owner, attempt, now + wait, since, log, &err);
    }
    free(log);
    if (!rc && (ok || give_up)) {
        h->pos = at;
        h->attempt = 0;
        h->failing_since_ms = 0;
    }
    return !rc && (ok || give_up);
}

/* Deliver what is due of webhook h (its lease held). Returns how many entries it dealt with. */
static int serve(hooks_thread *t, hooks_record *h)
{
    if (h->retry_at_ms > sf_now_us() / 1000)
        return 0;
    sf_error err = SF_ERROR_INIT;
    sf_feed_id pos = h->pos;
    int lost, done = 0;
    if (sf_feed_start(t->redis, 1, &pos, &lost, &err))
        return 0;
    if (lost && !deliver(t, h, pos, "lost",
                         "{\"error\": \"events after the webhook's position were dropped from "
                         "the retained history before they could be delivered\"}"))
        return 1;
    sf_feed_batch b;
    if (sf_feed_read(t->redis, h->pos, BATCH, 0, &b, &err)) {
        sf_feed_batch_free(&b);
        return done;
    }
    sf_role role = SF_ROLE_NONE;
    if (!sf_user_role(t->redis, h->user, &role, &err) && role == SF_ROLE_MANUAL)
        h->mask &= ~(1u << SF_FEED_RESULTS); /* the owner may no longer see results */
    sf_rpc_opts o = SF_RPC_OPTS_INIT;
    o.timeout_ms = 10000;
    o.user = h->user;
    o.base_url = t->s->cfg.public_url;
    sf_feed_id skipped = h->pos;
    int stop = 0;
    for (size_t i = 0; i < b.n && !stop; i++) {
        const sf_feed_entry *e = &b.entries[i];
        done++;
        char *json = NULL;
        int rc = e->topic >= 0 && (h->mask & (1u << e->topic))
                     ? sf_feed_render(t->s->clients, e, &o, &json, &err)
                     : SF_ENOTFOUND;
        if (rc == SF_ENOTFOUND || rc == SF_EGONE || (rc && rc > -500)) {
            skipped = e->id; /* not for this webhook, or gone since */
            continue;
        }
        if (rc) { /* a service is away: try again later, nothing counted against the receiver */
            stop = 1;
            break;
        }
        if (sf_feed_id_cmp(skipped, h->pos) &&
            hooks_advance(t->redis, h->id, t->owner, skipped, NULL, &err)) {
            free(json);
            break;
        }
        h->pos = skipped;
        stop = !deliver(t, h, e->id, sf_feed_event_name((sf_feed_topic)e->topic), json);
        skipped = h->pos;
        free(json);
        int held = 0;
        if (!stop && (hooks_lease(t->redis, h->id, t->owner, LEASE_MS, &held, &err) || !held))
            stop = 1;
    }
    if (!stop && sf_feed_id_cmp(skipped, h->pos))
        hooks_advance(t->redis, h->id, t->owner, skipped, NULL, &err);
    sf_feed_batch_free(&b);
    return done;
}

static void pause_idle(hooks_state *s)
{
    struct timespec until;
    sf_timespec_after(CLOCK_MONOTONIC, IDLE_MS, &until);
    pthread_mutex_lock(&s->lock);
    while (!atomic_load(&s->stopping) && pthread_cond_timedwait(&s->cond, &s->lock, &until) == 0) {
    }
    pthread_mutex_unlock(&s->lock);
}

/* 1 when webhook h has something to deliver now: feed entries after its position (or its
 * position is no longer in the feed), and no back-off to wait out. */
static int due(const hooks_record *h, sf_feed_id newest)
{
    return sf_feed_id_cmp(h->pos, newest) != 0 && h->retry_at_ms <= sf_now_us() / 1000;
}

/* Round after round: every webhook that is due, under its lease. Between rounds with nothing to
 * do, the thread waits on the feed itself (XREAD BLOCK), so a new entry is delivered at once
 * and an idle farm costs a few commands a second. */
static void *thread_main(void *arg)
{
    hooks_thread *t = arg;
    hooks_state *s = t->s;
    int failing = 0;
    while (!atomic_load(&s->stopping)) {
        sf_error err = SF_ERROR_INIT;
        char **ids = NULL;
        size_t n = 0;
        int busy = 0, lost;
        sf_feed_id newest;
        if (sf_feed_start(t->redis, 0, &newest, &lost, &err) ||
            hooks_list(t->redis, &ids, &n, &err)) {
            if (!failing++)
                sf_warn("webhooks: %s", err.msg);
            pause_idle(s);
            continue;
        }
        failing = 0;
        for (size_t i = 0; i < n && !atomic_load(&s->stopping); i++) {
            hooks_record h;
            int held = 0;
            if (hooks_get(t->redis, ids[i], &h, &err))
                continue;
            int now_due = due(&h, newest);
            hooks_record_clear(&h);
            if (!now_due || hooks_lease(t->redis, ids[i], t->owner, LEASE_MS, &held, &err) || !held)
                continue;
            if (!hooks_get(t->redis, ids[i], &h, &err)) { /* as it is now that it is ours */
                busy += serve(t, &h);
                hooks_record_clear(&h);
            }
            hooks_release(t->redis, ids[i], t->owner);
        }
        hooks_ids_free(ids, n);
        if (!busy && !atomic_load(&s->stopping)) {
            sf_feed_batch b;
            if (sf_feed_read(t->redis, newest, 1, IDLE_WAIT_MS, &b, &err))
                pause_idle(s);
            sf_feed_batch_free(&b);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static hooks_state s;
    hooks_config *c = &s.cfg;
    const sf_option options[] = {
        SF_COMMON_OPTIONS(&c->common, "4"),
        {"public-url", "STBF_PUBLIC_URL", SF_OPT_STR, "http://localhost:8080",
         "URL clients reach the portal at, for the *_url fields of what is delivered",
         &c->public_url},
        {"webhook-allow-loopback", "STBF_WEBHOOK_ALLOW_LOOPBACK", SF_OPT_BOOL, "false",
         "let webhooks reach loopback addresses (tests, single-host setups)", &c->allow_loopback},
        {"delivery-timeout-ms", "STBF_DELIVERY_TIMEOUT_MS", SF_OPT_INT, "10000",
         "how long a receiver may take to answer a delivery", &c->timeout_ms},
        {"retry-secs", "STBF_WEBHOOK_RETRY_SECS", SF_OPT_INT, "86400",
         "how long a failing delivery is retried before it is given up", &c->retry_secs},
    };
    int check_only = sf_config_load("stbfarm-webhooks", "Delivers the farm's changes to webhooks.",
                                    options, sizeof(options) / sizeof(options[0]), argc, argv);
    if (c->common.threads < 1 || c->common.threads > 256 || c->timeout_ms < 100 ||
        c->retry_secs < 0) {
        fprintf(stderr, "stbfarm-webhooks: --threads takes 1 to 256, --delivery-timeout-ms at "
                        "least 100, --retry-secs at least 0\n");
        return 2;
    }
    if (check_only)
        return 0;
    sigset_t sigs;
    sf_stop_block(&sigs);
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT)) {
        sf_error("cannot initialise libsodium or libcurl");
        return 1;
    }
    hooks_policy_init(&s.policy, c->allow_loopback, c->common.redis, c->common.broker);
    sf_error err = SF_ERROR_INIT;
    int rc = 1;
    size_t started = 0, nt = (size_t)c->common.threads;
    hooks_thread *threads = calloc(nt, sizeof(*threads));
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s.cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s.lock, NULL);
    if (!threads)
        goto cleanup;
    for (int i = 0; i < SF_SVC_COUNT; i++) {
        if (sf_rpc_client_open(&s.clients[i], c->common.broker, (sf_service)i, &err)) {
            sf_error("%s", err.msg);
            goto cleanup;
        }
    }
    char host[64];
    if (gethostname(host, sizeof(host)))
        snprintf(host, sizeof(host), "?");
    host[sizeof(host) - 1] = '\0';
    for (; started < nt; started++) {
        hooks_thread *t = &threads[started];
        t->s = &s;
        snprintf(t->owner, sizeof(t->owner), "%.24s:%d:%zu", host, (int)getpid(), started);
        if (sf_redis_open(&t->redis, c->common.redis, &err)) {
            sf_error("%s", err.msg);
            goto cleanup;
        }
        if (pthread_create(&t->tid, NULL, thread_main, t)) {
            sf_redis_free(t->redis);
            sf_error("cannot start a delivery thread");
            goto cleanup;
        }
    }
    sf_info("stbfarm-webhooks delivering with %zu threads", nt);
    sf_stop_wait(&sigs);
    rc = 0;
cleanup:
    atomic_store(&s.stopping, 1);
    pthread_mutex_lock(&s.lock);
    pthread_cond_broadcast(&s.cond);
    pthread_mutex_unlock(&s.lock);
    for (size_t i = 0; i < started; i++) {
        pthread_join(threads[i].tid, NULL);
        sf_redis_free(threads[i].redis);
    }
    free(threads);
    for (int i = 0; i < SF_SVC_COUNT; i++)
        sf_rpc_client_free(s.clients[i]);
    pthread_cond_destroy(&s.cond);
    pthread_mutex_destroy(&s.lock);
    curl_global_cleanup();
    sf_log_flush();
    return rc;
}
