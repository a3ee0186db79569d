/* Access tokens and rate limits.
 *
 * The truth is in Redis: a token's key (found by selector, its digest compared here in constant
 * time) and its rate bucket, charged with GCRA (generic cell rate algorithm): each request moves
 * a "theoretical arrival time" one emission interval T = 1/rate later; a request is refused when
 * that time would run more than burst*T ahead of now. The time comes from Redis (TIME), so every
 * gateway replica shares one clock and one bucket per token.
 *
 * Asking Redis on every request would cost more than everything else the gateway does, so the
 * gateway keeps what Redis told it, per token:
 *   - the verified digest and user, for at most --token-cache-secs. Revocation is pushed:
 *     sf_token_revoke publishes on SF_TOKEN_REVOKED_CHANNEL and waits until every gateway has
 *     dropped the token and acknowledged. The copies are used only while that subscription is
 *     live; losing it drops them all (a revocation may have been missed).
 *   - a lease of rate-limit credits: the script charges the bucket for up to LEASE conforming
 *     requests at once (never more than the bucket allows now), and the gateway spends them
 *     locally within LEASE_US. Credits a gateway does not spend in time are lost, so the limit
 *     every replica shares is never exceeded, only, at worst, tightened by a few requests.
 *   - a refusal: until the wait Redis gave has passed, more requests get 429 here.
 * Any change of the subscription's state or a revocation bumps an epoch; what a request read
 * from Redis is stored only when the epoch did not move meanwhile, so a revocation that
 * overtakes a read in flight is never undone by it. */
#include "gw.h"

#include "sf_crypto.h"
#include "sf_log.h"
#include "sf_time.h"
#include "sf_token.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ARGV: T (us; 0: no limit), burst, the most credits to grant. Returns {0} for an unknown
 * token; {1, hash, user, credits granted}; {2, hash, user, us to wait}. */
static const char *const AUTH_SCRIPT =
    "local t = redis.call('HMGET', KEYS[1], 'hash', 'user')\n"
    "if not t[1] then return {0} end\n"
    "local T = tonumber(ARGV[1])\n"
    "if T == 0 then return {1, t[1], t[2], 0} end\n"
    "local B = tonumber(ARGV[2])\n"
    "local now = redis.call('TIME')\n"
    "now = tonumber(now[1]) * 1000000 + tonumber(now[2])\n"
    "local tat = tonumber(redis.call('GET', KEYS[2]) or 0)\n"
    "if tat < now then tat = now end\n"
    "local n = math.floor((now + B * T - tat) / T)\n"
    "if n < 1 then return {2, t[1], t[2], tat + T - B * T - now} end\n"
    "if n > tonumber(ARGV[3]) then n = tonumber(ARGV[3]) end\n"
    "local new_tat = tat + n * T\n"
    "redis.call('SET', KEYS[2], string.format('%.0f', new_tat), 'PX',\n"
    "           string.format('%.0f', math.ceil((new_tat - now) / 1000) + 1))\n"
    "return {1, t[1], t[2], n}\n";

enum {
    SLOTS = 4096, /* direct-mapped by selector: a collision just costs a Redis read */
    STRIPES = 64,
    LEASE_MAX = 1024,
};
#define LEASE_US       1000000LL /* credits unspent after this are lost */
#define LEASE_OF_RATE  0.05      /* a lease holds at most 50 ms of the rate ... */
#define LEASE_OF_BURST 16        /* ... and at most 1/16 of the burst */

typedef struct lease {
    long credits;
    int64_t expires_us;
    int64_t refused_until_us;
} lease;

typedef struct entry {
    char selector[33]; /* "" when free */
    char hash[65];
    char user[SF_USERNAME_MAX + 1];
    int64_t verified_us;
    lease lease[2]; /* api, artifact */
} entry;

struct gw_tokens {
    int64_t ttl_us; /* 0: no copies, Redis on every request */
    pthread_mutex_t stripes[STRIPES];
    entry slots[SLOTS];
    _Atomic uint64_t epoch;
    atomic_int live;
    sf_redis *ack; /* the subscriber thread's connection for acknowledgements */
};

static size_t slot_of(const char *selector)
{
    size_t v = 0;
    for (int i = 0; i < 3; i++) {
        char c = selector[i];
        v = v * 16 + (size_t)(c >= 'a' ? c - 'a' + 10 : c - '0');
    }
    return v % SLOTS;
}

int gw_tokens_new(gw_tokens **out, const char *redis, long ttl_secs, sf_error *err)
{
    gw_tokens *t = calloc(1, sizeof(*t));
    if (!t)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    int rc = sf_redis_open(&t->ack, redis, err);
    if (rc) {
        free(t);
        return rc;
    }
    t->ttl_us = ttl_secs * 1000000LL;
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&t->stripes[i], NULL);
    *out = t;
    return 0;
}

void gw_tokens_free(gw_tokens *t)
{
    if (!t)
        return;
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&t->stripes[i]);
    sf_redis_free(t->ack);
    free(t);
}

/* Drop the copy of a token. A revocation also moves the epoch when there was no copy: a read
 * in flight may be about to make one. */
static void forget(gw_tokens *t, const char *selector, int revoked)
{
    size_t i = slot_of(selector);
    pthread_mutex_lock(&t->stripes[i % STRIPES]);
    int held = !strcmp(t->slots[i].selector, selector);
    if (held || revoked)
        atomic_fetch_add(&t->epoch, 1);
    if (held)
        memset(&t->slots[i], 0, sizeof(t->slots[i]));
    pthread_mutex_unlock(&t->stripes[i % STRIPES]);
}

static void on_state(void *arg, int live)
{
    gw_tokens *t = arg;
    atomic_store(&t->live, live);
    for (size_t s = 0; s < STRIPES; s++) {
        pthread_mutex_lock(&t->stripes[s]);
        atomic_fetch_add(&t->epoch, 1);
        for (size_t i = s; i < SLOTS; i += STRIPES)
            memset(&t->slots[i], 0, sizeof(t->slots[i]));
        pthread_mutex_unlock(&t->stripes[s]);
    }
}

/* "<selector>:<ack key>" */
static void on_revoked(void *arg, const char *payload, size_t len)
{
    gw_tokens *t = arg;
    if (len < 34 || payload[32] != ':' || len - 33 > 128)
        return;
    char selector[33], ack[129];
    memcpy(selector, payload, 32);
    selector[32] = '\0';
    memcpy(ack, payload + 33, len - 33);
    ack[len - 33] = '\0';
    for (int i = 0; i < 32; i++) {
        if (!((selector[i] >= '0' && selector[i] <= '9') ||
              (selector[i] >= 'a' && selector[i] <= 'f')))
            return;
    }
    forget(t, selector, 1);
    if (strncmp(ack, SF_TOKEN_ACK_PREFIX, strlen(SF_TOKEN_ACK_PREFIX)) || strchr(ack, ' '))
        return;
    sf_error err = SF_ERROR_INIT;
    redisReply *reply;
    int rc = sf_redis_cmd(t->ack, &reply, &err, "RPUSH %s 1", ack);
    if (!rc) {
        freeReplyObject(reply);
        rc = sf_redis_cmd(t->ack, &reply, &err, "PEXPIRE %s 60000", ack);
    }
    if (rc) {
        sf_warn("token revocation not acknowledged: %s", err.msg);
        return;
    }
    freeReplyObject(reply);
}

sf_events_listener gw_tokens_listener(gw_tokens *t)
{
    sf_events_listener l = {SF_TOKEN_REVOKED_CHANNEL, on_revoked, on_state, t};
    return l;
}

int gw_rate_parse(const char *text, gw_rate *out)
{
    if (!strcmp(text, "off")) {
        out->enabled = 0;
        out->per_second = 0;
        out->burst = 0;
        return 0;
    }
    char *end;
    double rps = strtod(text, &end);
    if (end == text || *end != ':' || !(rps > 0) || rps > 1e6)
        return SF_EINVAL;
    const char *b = end + 1;
    long burst = strtol(b, &end, 10);
    if (end == b || *end || burst < 1 || burst > 1000000)
        return SF_EINVAL;
    out->enabled = 1;
    out->per_second = rps;
    out->burst = burst;
    return 0;
}

static long lease_size(const gw_tokens *t, const gw_rate *rate)
{
    if (!t->ttl_us)
        return 1;
    double n = fmin(rate->per_second * LEASE_OF_RATE, (double)rate->burst / LEASE_OF_BURST);
    return n < 1 ? 1 : n > LEASE_MAX ? LEASE_MAX : (long)n;
}

enum { MISS, HIT, HIT_REFUSED };

/* Answer from the copy when it can: HIT with user set, HIT_REFUSED with *wait_us, or MISS. */
static int from_copy(gw_tokens *t, const sf_token_digest *d, int kind, const gw_rate *rate,
                     int64_t now, char *user, size_t user_len, int64_t *wait_us)
{
    if (!t->ttl_us || !atomic_load(&t->live))
        return MISS;
    size_t i = slot_of(d->selector);
    int verdict = MISS;
    pthread_mutex_lock(&t->stripes[i % STRIPES]);
    entry *e = &t->slots[i];
    if (!strcmp(e->selector, d->selector) && sf_consttime_equal(e->hash, d->hash, 64) &&
        now - e->verified_us < t->ttl_us) {
        lease *l = &e->lease[kind];
        if (!rate->enabled) {
            verdict = HIT;
        } else if (now < l->refused_until_us) {
            verdict = HIT_REFUSED;
            *wait_us = l->refused_until_us - now;
        } else if (l->credits > 0 && now < l->expires_us) {
            l->credits--;
            verdict = HIT;
        }
        if (verdict == HIT)
            snprintf(user, user_len, "%s", e->user);
    }
    pthread_mutex_unlock(&t->stripes[i % STRIPES]);
    return verdict;
}

/* Keep what Redis said at epoch: credits left over, or a refusal lasting wait_us. */
static void keep(gw_tokens *t, uint64_t epoch, const sf_token_digest *d, const char *user, int kind,
                 long credits, int64_t wait_us, int64_t now)
{
    if (!t->ttl_us || strlen(user) > SF_USERNAME_MAX)
        return;
    size_t i = slot_of(d->selector);
    pthread_mutex_lock(&t->stripes[i % STRIPES]);
    entry *e = &t->slots[i];
    if (atomic_load(&t->live) && atomic_load(&t->epoch) == epoch) {
        if (strcmp(e->selector, d->selector) || strcmp(e->hash, d->hash) || strcmp(e->user, user)) {
            memset(e, 0, sizeof(*e));
            memcpy(e->selector, d->selector, sizeof(e->selector));
            memcpy(e->hash, d->hash, sizeof(e->hash));
            snprintf(e->user, sizeof(e->user), "%s", user);
        }
        e->verified_us = now;
        lease *l = &e->lease[kind];
        if (wait_us > 0) {
            l->refused_until_us = now + wait_us;
        } else {
            l->credits = (now < l->expires_us ? l->credits : 0) + credits;
            l->expires_us = now + LEASE_US;
            l->refused_until_us = 0;
        }
    }
    pthread_mutex_unlock(&t->stripes[i % STRIPES]);
}

static int refused(const gw_rate *rate, int64_t wait_us, int *retry_after_s, sf_error *err)
{
    *retry_after_s = (int)((wait_us + 999999) / 1000000);
    if (*retry_after_s < 1)
        *retry_after_s = 1;
    return sf_fail(err, SF_ETOOMANY,
                   "rate limit exceeded (%g requests/s, burst %ld): retry after %d s",
                   rate->per_second, rate->burst, *retry_after_s);
}

int gw_authenticate(gw_request *rq, int artifact, int *retry_after_s, sf_error *err)
{
    const char *tok;
    size_t len;
    int rc = sf_token_parse_header(mg_get_header(rq->conn, "Authorization"), &tok, &len, err);
    if (rc)
        return rc;
    sf_token_digest d;
    sf_token_digest_of(tok, len, &d);
    snprintf(rq->token_id, sizeof(rq->token_id), "%s", d.selector);

    gw_tokens *t = rq->gw->tokens;
    const gw_rate *rate = artifact ? &rq->gw->artifact_rate : &rq->gw->rate;
    int64_t now = sf_mono_us(), wait_us = 0;
    int hit = from_copy(t, &d, artifact, rate, now, rq->user, sizeof(rq->user), &wait_us);
    if (hit == HIT)
        return 0;
    if (hit == HIT_REFUSED)
        return refused(rate, wait_us, retry_after_s, err);

    uint64_t epoch = atomic_load(&t->epoch);
    char key[64], bucket[80], interval[32], burst[32], most[32];
    snprintf(key, sizeof(key), SF_TOKEN_KEY "%s", d.selector);
    snprintf(bucket, sizeof(bucket), "sf:rl:%s:%s", d.selector, artifact ? "artifact" : "api");
    snprintf(interval, sizeof(interval), "%.0f",
             rate->enabled ? ceil(1e6 / rate->per_second) : 0.0);
    snprintf(burst, sizeof(burst), "%ld", rate->burst);
    snprintf(most, sizeof(most), "%ld", lease_size(t, rate));
    const char *args[] = {key, bucket, interval, burst, most};
    redisReply *reply;
    rc = sf_redis_eval(rq->thread->redis, AUTH_SCRIPT, &reply, err, 2, 5, args, NULL);
    if (rc)
        return SF_EUNAVAIL; /* the token store failing is the farm's fault, not the client's */
    long long verdict = reply->elements ? sf_reply_int(reply->element[0], 0) : 0;
    const char *hash = reply->elements >= 4 ? sf_reply_str(reply->element[1]) : NULL;
    const char *user = reply->elements >= 4 ? sf_reply_str(reply->element[2]) : NULL;
    long long value = reply->elements >= 4 ? sf_reply_int(reply->element[3], 0) : 0;
    if (verdict == 0 || !hash || !user || strlen(hash) != 64 ||
        !sf_consttime_equal(hash, d.hash, 64)) {
        freeReplyObject(reply);
        forget(t, d.selector, 0); /* its key was deleted without a revocation */
        return sf_fail(err, SF_EFORBIDDEN, "invalid or revoked access token");
    }
    snprintf(rq->user, sizeof(rq->user), "%s", user);
    if (verdict == 2) {
        int64_t wait = value > 0 ? value : 1000000;
        keep(t, epoch, &d, user, artifact, 0, wait, now);
        freeReplyObject(reply);
        return refused(rate, wait, retry_after_s, err);
    }
    keep(t, epoch, &d, user, artifact, value > 1 ? (long)value - 1 : 0, 0, now);
    freeReplyObject(reply);
    return 0;
}
