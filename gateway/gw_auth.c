/* Access tokens and rate limits, in one Redis round trip per request.
 *
 * The script finds the token's key by selector, and charges the token's bucket with GCRA
 * (generic cell rate algorithm): each request moves a "theoretical arrival time" one emission
 * interval T = 1/rate later; a request is refused when that time would run more than burst*T
 * ahead of now. The time comes from Redis (TIME), so every gateway replica shares one clock and
 * one bucket per token. The digest is compared here, in constant time. */
#include "gw.h"

#include "sf_crypto.h"
#include "sf_token.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const AUTH_SCRIPT =
    "local t = redis.call('HMGET', KEYS[1], 'hash', 'user')\n"
    "if not t[1] then return {0} end\n"
    "local T = tonumber(ARGV[1])\n"
    "if T == 0 then return {1, t[1], t[2], 0} end\n"
    "local now = redis.call('TIME')\n"
    "now = tonumber(now[1]) * 1000000 + tonumber(now[2])\n"
    "local tat = tonumber(redis.call('GET', KEYS[2]) or 0)\n"
    "if tat < now then tat = now end\n"
    "local allow_at = tat + T - tonumber(ARGV[2]) * T\n"
    "if now < allow_at then return {2, t[1], t[2], allow_at - now} end\n"
    "local new_tat = tat + T\n"
    "redis.call('SET', KEYS[2], string.format('%.0f', new_tat), 'PX',\n"
    "           string.format('%.0f', math.ceil((new_tat - now) / 1000) + 1))\n"
    "return {1, t[1], t[2], 0}\n";

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

int gw_authenticate(gw_request *rq, int artifact, int *retry_after_s, sf_error *err)
{
    const char *tok;
    size_t len;
    int rc = sf_token_parse_header(mg_get_header(rq->conn, "Authorization"), &tok, &len, err);
    if (rc)
        return rc;
    sf_token_digest d;
    sf_token_digest_of(tok, len, &d);

    const gw_rate *rate = artifact ? &rq->gw->artifact_rate : &rq->gw->rate;
    char key[64], bucket[80], interval[32], burst[32];
    snprintf(key, sizeof(key), SF_TOKEN_KEY "%s", d.selector);
    snprintf(bucket, sizeof(bucket), "sf:rl:%s:%s", d.selector, artifact ? "artifact" : "api");
    snprintf(interval, sizeof(interval), "%.0f",
             rate->enabled ? ceil(1e6 / rate->per_second) : 0.0);
    snprintf(burst, sizeof(burst), "%ld", rate->burst);
    const char *args[] = {key, bucket, interval, burst};
    redisReply *reply;
    rc = sf_redis_eval(rq->thread->redis, AUTH_SCRIPT, &reply, err, 2, 4, args, NULL);
    if (rc)
        return SF_EUNAVAIL; /* the token store failing is the farm's fault, not the client's */
    long long verdict = reply->elements ? sf_reply_int(reply->element[0], 0) : 0;
    const char *hash = reply->elements >= 3 ? sf_reply_str(reply->element[1]) : NULL;
    const char *user = reply->elements >= 3 ? sf_reply_str(reply->element[2]) : NULL;
    if (verdict == 0 || !hash || !user || strlen(hash) != 64 ||
        !sf_consttime_equal(hash, d.hash, 64)) {
        freeReplyObject(reply);
        return sf_fail(err, SF_EFORBIDDEN, "invalid or revoked access token");
    }
    snprintf(rq->user, sizeof(rq->user), "%s", user);
    if (verdict == 2) {
        long long wait_us = sf_reply_int(reply->element[3], 1000000);
        *retry_after_s = (int)((wait_us + 999999) / 1000000);
        if (*retry_after_s < 1)
            *retry_after_s = 1;
        freeReplyObject(reply);
        return sf_fail(err, SF_ETOOMANY,
                       "rate limit exceeded (%g requests/s, burst %ld): retry after %d s",
                       rate->per_second, rate->burst, *retry_after_s);
    }
    freeReplyObject(reply);
    return 0;
}
