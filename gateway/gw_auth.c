/* Access tokens, portal sessions, roles and rate limits.
 *
 * A request is authenticated by its Authorization header (a token) or, without one, by its
 * session cookie (sf_account.h): both are credentials found by selector, their digest compared
 * here in constant time, and a session also has an absolute expiry and an idle one (its key's
 * TTL, renewed whenever a gateway asks Redis about it). A session may change nothing without
 * its CSRF token in X-CSRF-Token, and never from another site. Every credential acts with its
 * user's role (the account's, or write without one), which gw_authorize checks against the
 * route.
 *
 * The truth is in Redis: a credential's key and its rate bucket, charged with GCRA (generic cell
 * rate algorithm): each request moves a "theoretical arrival time" one emission interval T = 1/rate
 * later; a request is refused when that time would run more than burst*T ahead of now. The time
 * comes from Redis (TIME), so every gateway replica shares one clock and one bucket per token.
 *
 * Asking Redis on every request would cost more than everything else the gateway does, so the
 * gateway keeps what Redis told it, per credential:
 *   - the verified digest, user and role, for at most --token-cache-secs. Revocation is pushed:
 *     sf_token_revoke (and sign-out, and changes to a user) publishes on
 *     SF_TOKEN_REVOKED_CHANNEL and waits until every gateway has dropped the credential (or
 *     everything of the user) and acknowledged. The copies are used only while that subscription is
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

#include "sf_account.h"
#include "sf_crypto.h"
#include "sf_log.h"
#include "sf_time.h"
#include "sf_token.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* KEYS: the credential, its rate bucket. ARGV: T (us; 0: no limit), burst, the most credits to
 * grant, the idle expiry of a session (ms; 0 for a token). Notes when the credential was used
 * (once a minute at most), renews a session's idle expiry and ends one past its absolute
 * expiry. Returns {0} for an unknown credential; else {verdict, hash, user, value, role, left}
 * with verdict 1 (value: credits granted) or 2 (value: us to wait), role "" without an account,
 * left the us until a session's absolute expiry (-1: none). */
static const char *const AUTH_SCRIPT =
    "local t = redis.call('HMGET', KEYS[1], 'hash', 'user', 'expires', 'used')\n"
    "if not t[1] then return {0} end\n"
    "local now = redis.call('TIME')\n"
    "now = tonumber(now[1]) * 1000000 + tonumber(now[2])\n"
    "local left = -1\n"
    "if t[3] then\n"
    "  left = tonumber(t[3]) * 1000 - now\n"
    "  if left <= 0 then redis.call('DEL', KEYS[1]) return {0} end\n"
    "  local idle = tonumber(ARGV[4])\n"
    "  if idle > 0 then redis.call('PEXPIRE', KEYS[1], math.min(idle, math.ceil(left / 1000))) "
    "end\n"
    "end\n"
    "if not t[4] or now - tonumber(t[4]) > 60000000 then\n"
    "  redis.call('HSET', KEYS[1], 'used', string.format('%.0f', now))\n"
    "end\n"
    "local role = redis.call('HGET', 'sf:user:' .. t[2], 'role') or ''\n"
    "local T = tonumber(ARGV[1])\n"
    "if T == 0 then return {1, t[1], t[2], 0, role, left} end\n"
    "local B = tonumber(ARGV[2])\n"
    "local tat = tonumber(redis.call('GET', KEYS[2]) or 0)\n"
    "if tat < now then tat = now end\n"
    "local n = math.floor((now + B * T - tat) / T)\n"
    "if n < 1 then return {2, t[1], t[2], tat + T - B * T - now, role, left} end\n"
    "if n > tonumber(ARGV[3]) then n = tonumber(ARGV[3]) end\n"
    "local new_tat = tat + n * T\n"
    "redis.call('SET', KEYS[2], string.format('%.0f', new_tat), 'PX',\n"
    "           string.format('%.0f', math.ceil((new_tat - now) / 1000) + 1))\n"
    "return {1, t[1], t[2], n, role, left}\n";

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
    int session;  /* a session (sf:session:), not a token */
    sf_role role; /* of the user's account; SF_ROLE_NONE without one */
    int64_t verified_us;
    int64_t expires_us; /* a session's absolute expiry (monotonic); 0: none */
    lease lease[2];     /* api, artifact */
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

/* Drop every copy of a user's credentials: their role changed or they were removed. */
static void forget_user(gw_tokens *t, const char *user)
{
    for (size_t s = 0; s < STRIPES; s++) {
        pthread_mutex_lock(&t->stripes[s]);
        atomic_fetch_add(&t->epoch, 1);
        for (size_t i = s; i < SLOTS; i += STRIPES) {
            if (t->slots[i].selector[0] && !strcmp(t->slots[i].user, user))
                memset(&t->slots[i], 0, sizeof(t->slots[i]));
        }
        pthread_mutex_unlock(&t->stripes[s]);
    }
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

/* Acknowledge a revocation to whoever waits on the ack key. */
static void acknowledge(gw_tokens *t, const char *ack)
{
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

/* "<selector>:<ack key>" for a credential, "@<user>:<ack key>" for everything of a user. */
static void on_revoked(void *arg, const char *payload, size_t len)
{
    gw_tokens *t = arg;
    const char *colon = memchr(payload, ':', len);
    if (!colon || len - (size_t)(colon + 1 - payload) > 128)
        return;
    char subject[SF_USERNAME_MAX + 2], ack[129];
    size_t slen = (size_t)(colon - payload);
    if (slen >= sizeof(subject))
        return;
    memcpy(subject, payload, slen);
    subject[slen] = '\0';
    memcpy(ack, colon + 1, len - slen - 1);
    ack[len - slen - 1] = '\0';
    if (subject[0] == '@') {
        if (!sf_username_valid(subject + 1))
            return;
        forget_user(t, subject + 1);
    } else {
        if (slen != 32)
            return;
        for (int i = 0; i < 32; i++) {
            if (!((subject[i] >= '0' && subject[i] <= '9') ||
                  (subject[i] >= 'a' && subject[i] <= 'f')))
                return;
        }
        forget(t, subject, 1);
    }
    acknowledge(t, ack);
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

/* What a verified credential is: its user and role. */
typedef struct verified {
    char user[SF_USERNAME_MAX + 1];
    sf_role role;
} verified;

/* Answer from the copy when it can: HIT with *who set, HIT_REFUSED with *wait_us, or MISS. */
static int from_copy(gw_tokens *t, const sf_token_digest *d, int session, int kind,
                     const gw_rate *rate, int64_t now, verified *who, int64_t *wait_us)
{
    if (!t->ttl_us || !atomic_load(&t->live))
        return MISS;
    size_t i = slot_of(d->selector);
    int verdict = MISS;
    pthread_mutex_lock(&t->stripes[i % STRIPES]);
    entry *e = &t->slots[i];
    if (!strcmp(e->selector, d->selector) && sf_consttime_equal(e->hash, d->hash, 64) &&
        e->session == session && now - e->verified_us < t->ttl_us &&
        (!e->expires_us || now < e->expires_us)) {
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
        if (verdict == HIT) {
            snprintf(who->user, sizeof(who->user), "%s", e->user);
            who->role = e->role;
        }
    }
    pthread_mutex_unlock(&t->stripes[i % STRIPES]);
    return verdict;
}

/* Keep what Redis said at epoch: credits left over, or a refusal lasting wait_us; a session
 * expiring at expires_us (0: none). */
static void keep(gw_tokens *t, uint64_t epoch, const sf_token_digest *d, int session,
                 const verified *who, int64_t expires_us, int kind, long credits, int64_t wait_us,
                 int64_t now)
{
    const char *user = who->user;
    if (!t->ttl_us)
        return;
    size_t i = slot_of(d->selector);
    pthread_mutex_lock(&t->stripes[i % STRIPES]);
    entry *e = &t->slots[i];
    if (atomic_load(&t->live) && atomic_load(&t->epoch) == epoch) {
        if (strcmp(e->selector, d->selector) || strcmp(e->hash, d->hash) || strcmp(e->user, user) ||
            e->session != session) {
            memset(e, 0, sizeof(*e));
            memcpy(e->selector, d->selector, sizeof(e->selector));
            memcpy(e->hash, d->hash, sizeof(e->hash));
            snprintf(e->user, sizeof(e->user), "%s", user);
            e->session = session;
        }
        e->role = who->role;
        e->expires_us = expires_us;
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

/* The session id in the request's cookie: 0 with id (NUL-terminated), or SF_ENOTFOUND. */
static int session_cookie(const gw_request *rq, char *id, size_t len)
{
    const char *cookies = mg_get_header(rq->conn, "Cookie");
    if (!cookies)
        return SF_ENOTFOUND;
    int n = mg_get_cookie(cookies, GW_SESSION_COOKIE, id, len);
    return n > 0 ? 0 : SF_ENOTFOUND;
}

int gw_session_id(const gw_request *rq, char *id, size_t len)
{
    return session_cookie(rq, id, len);
}

static int safe_method(const char *method)
{
    return !strcmp(method, "GET") || !strcmp(method, "HEAD") || !strcmp(method, "OPTIONS");
}

/* A session may act only from the portal's own pages: never from another site, and a change
 * only with the session's CSRF token, which only a page of this origin can read. */
static int session_allowed(const gw_request *rq, const char *id, size_t len, sf_error *err)
{
    const char *site = mg_get_header(rq->conn, "Sec-Fetch-Site");
    if (site && !strcasecmp(site, "cross-site"))
        return sf_fail(err, SF_EFORBIDDEN,
                       "a session cookie does not authorise requests from "
                       "another site");
    if (safe_method(rq->ri->request_method))
        return 0;
    char want[SF_CSRF_LEN + 1];
    sf_session_csrf(id, len, want);
    const char *got = mg_get_header(rq->conn, GW_CSRF_HEADER);
    if (!got || strlen(got) != SF_CSRF_LEN || !sf_consttime_equal(got, want, SF_CSRF_LEN))
        return sf_fail(err, SF_EFORBIDDEN,
                       "missing or wrong CSRF token: a request that changes anything with a "
                       "session cookie must send the session's csrf_token (GET /api/v2/session) "
                       "in the " GW_CSRF_HEADER " header");
    return 0;
}

int gw_authenticate(gw_request *rq, int artifact, int *retry_after_s, sf_error *err)
{
    const char *tok, *header = mg_get_header(rq->conn, "Authorization");
    size_t len;
    char cookie[SF_TOKEN_MAX + 1];
    int session = !header && !session_cookie(rq, cookie, sizeof(cookie));
    int rc = 0;
    if (session) {
        tok = cookie;
        len = strlen(cookie);
        if ((rc = session_allowed(rq, cookie, len, err)))
            return rc;
    } else if ((rc = sf_token_parse_header(header, &tok, &len, err))) {
        return rc;
    }
    rq->by_session = session;
    sf_token_digest d;
    sf_token_digest_of(tok, len, &d);
    snprintf(rq->token_id, sizeof(rq->token_id), "%s", d.selector);

    gw_tokens *t = rq->gw->tokens;
    const gw_rate *rate = artifact ? &rq->gw->artifact_rate : &rq->gw->rate;
    int64_t now = sf_mono_us(), wait_us = 0;
    verified who = {0};
    int hit = from_copy(t, &d, session, artifact, rate, now, &who, &wait_us);
    if (hit == HIT) {
        snprintf(rq->user, sizeof(rq->user), "%s", who.user);
        rq->role = sf_role_effective(who.role);
        return 0;
    }
    if (hit == HIT_REFUSED)
        return refused(rate, wait_us, retry_after_s, err);

    uint64_t epoch = atomic_load(&t->epoch);
    char key[64], bucket[80], interval[32], burst[32], most[32], idle[32];
    snprintf(key, sizeof(key), "%s%s", session ? SF_SESSION_KEY : SF_TOKEN_KEY, d.selector);
    snprintf(bucket, sizeof(bucket), "sf:rl:%s:%s", d.selector, artifact ? "artifact" : "api");
    snprintf(interval, sizeof(interval), "%.0f",
             rate->enabled ? ceil(1e6 / rate->per_second) : 0.0);
    snprintf(burst, sizeof(burst), "%ld", rate->burst);
    snprintf(most, sizeof(most), "%ld", lease_size(t, rate));
    snprintf(idle, sizeof(idle), "%ld", session ? rq->gw->cfg.session_idle_secs * 1000 : 0L);
    const char *args[] = {key, bucket, interval, burst, most, idle};
    redisReply *reply;
    rc = sf_redis_eval(rq->thread->redis, AUTH_SCRIPT, &reply, err, 2, 6, args, NULL);
    if (rc)
        return SF_EUNAVAIL; /* the token store failing is the farm's fault, not the client's */
    int full = reply->elements >= 6;
    long long verdict = reply->elements ? sf_reply_int(reply->element[0], 0) : 0;
    const char *hash = full ? sf_reply_str(reply->element[1]) : NULL;
    const char *user = full ? sf_reply_str(reply->element[2]) : NULL;
    long long value = full ? sf_reply_int(reply->element[3], 0) : 0;
    const char *role = full ? sf_reply_str(reply->element[4]) : NULL;
    long long left = full ? sf_reply_int(reply->element[5], -1) : -1;
    if (verdict == 0 || !hash || !user || strlen(hash) != 64 ||
        !sf_consttime_equal(hash, d.hash, 64) || strlen(user) > SF_USERNAME_MAX) {
        freeReplyObject(reply);
        forget(t, d.selector, 0); /* its key was deleted without a revocation */
        return sf_fail(err, SF_EFORBIDDEN,
                       session ? "your session has ended: sign in again"
                               : "invalid or revoked access token");
    }
    snprintf(who.user, sizeof(who.user), "%s", user);
    if (!role || !*role || sf_role_parse(role, &who.role))
        who.role = SF_ROLE_NONE;
    snprintf(rq->user, sizeof(rq->user), "%s", user);
    rq->role = sf_role_effective(who.role);
    int64_t expires = left >= 0 ? now + left : 0;
    if (verdict == 2) {
        int64_t wait = value > 0 ? value : 1000000;
        keep(t, epoch, &d, session, &who, expires, artifact, 0, wait, now);
        freeReplyObject(reply);
        return refused(rate, wait, retry_after_s, err);
    }
    keep(t, epoch, &d, session, &who, expires, artifact, value > 1 ? (long)value - 1 : 0, 0, now);
    freeReplyObject(reply);
    return 0;
}

/* The roles a route admits, as a sentence: "manual control, write or admin". */
static void roles_needed(unsigned flags, char *out, size_t len)
{
    if (flags & GW_ADMIN_ONLY) {
        snprintf(out, len, "admin");
        return;
    }
    snprintf(out, len, "%s%s%swrite or admin", flags & GW_ROLE_MANUAL ? "manual control, " : "",
             flags & GW_ROLE_READ ? "read, " : "", "");
}

int gw_authorize(gw_request *rq, sf_error *err)
{
    unsigned flags = rq->route->flags;
    int ok;
    switch (rq->role) {
    case SF_ROLE_ADMIN:
        ok = 1;
        break;
    case SF_ROLE_MANUAL:
        ok = (flags & GW_ROLE_MANUAL) != 0;
        break;
    case SF_ROLE_READ:
        ok = (flags & GW_ROLE_READ) != 0;
        break;
    default:
        ok = !(flags & GW_ADMIN_ONLY);
        break;
    }
    if (ok)
        return 0;
    char needed[80];
    roles_needed(flags, needed, sizeof(needed));
    return sf_fail(err, SF_EFORBIDDEN, "%s %s needs the role %s; %s has the role %s",
                   rq->ri->request_method, rq->route->pattern, needed, rq->user,
                   sf_role_title((sf_role)rq->role));
}
