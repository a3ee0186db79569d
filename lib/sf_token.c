#include "sf_token.h"

#include "sf_crypto.h"
#include "sf_log.h"
#include "sf_time.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int sf_token_parse_header(const char *header, const char **tok, size_t *len, sf_error *err)
{
    if (!header)
        return sf_fail(err, SF_EFORBIDDEN,
                       "missing access token: send the header 'Authorization: token <token>'");
    while (*header == ' ' || *header == '\t')
        header++;
    if (strncasecmp(header, "token", 5) != 0 || (header[5] != ' ' && header[5] != '\t'))
        return sf_fail(err, SF_EFORBIDDEN,
                       "malformed Authorization header: expected 'token <token>'");
    const char *p = header + 5;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *start = p;
    while (*p > ' ' && *p < 0x7f)
        p++;
    const char *end = p;
    while (*p == ' ' || *p == '\t')
        p++;
    if (end == start || *p || (size_t)(end - start) > SF_TOKEN_MAX)
        return sf_fail(err, SF_EFORBIDDEN,
                       "malformed Authorization header: expected 'token <token>'");
    *tok = start;
    *len = (size_t)(end - start);
    return 0;
}

void sf_token_digest_of(const char *tok, size_t len, sf_token_digest *out)
{
    sf_sha256_hex(tok, len, out->hash);
    memcpy(out->selector, out->hash, 32);
    out->selector[32] = '\0';
}

int sf_username_valid(const char *user)
{
    size_t n = strlen(user);
    if (n == 0 || n > SF_USERNAME_MAX || user[0] == '.' || user[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)user[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return 0;
    }
    return 1;
}

int sf_token_create(sf_redis *r, const char *user, char *out, sf_error *err)
{
    if (!sf_username_valid(user))
        return sf_fail(err, SF_EINVAL, "invalid username '%s': use 1 to 64 of A-Z a-z 0-9 . _ -",
                       user);
    unsigned char raw[32];
    if (sf_random_bytes(raw, sizeof(raw)))
        return sf_fail(err, SF_EINTERNAL, "no randomness available");
    sf_base64url(raw, sizeof(raw), out);
    sf_token_digest d;
    sf_token_digest_of(out, SF_TOKEN_LEN, &d);
    char created[40];
    sf_time_format(sf_now_us(), created, sizeof(created), SF_TIME_ZULU);
    redisReply *reply;
    int rc = sf_redis_cmd(r, &reply, err, "HSET " SF_TOKEN_KEY "%s hash %s user %s created %s",
                          d.selector, d.hash, user, created);
    if (rc)
        return rc;
    freeReplyObject(reply);
    return 0;
}

/* Publish the revocation and wait until every listener acknowledged it. */
static int tell_gateways(sf_redis *r, const char *selector, sf_error *err)
{
    unsigned char raw[12];
    char nonce[17], ack[64];
    if (sf_random_bytes(raw, sizeof(raw)))
        return sf_fail(err, SF_EINTERNAL, "no randomness available");
    sf_base64url(raw, sizeof(raw), nonce);
    snprintf(ack, sizeof(ack), SF_TOKEN_ACK_PREFIX "%s", nonce);
    redisReply *reply;
    int rc =
        sf_redis_cmd(r, &reply, err, "PUBLISH " SF_TOKEN_REVOKED_CHANNEL " %s:%s", selector, ack);
    if (rc)
        return rc;
    long long listeners = sf_reply_int(reply, 0), acked = 0;
    freeReplyObject(reply);
    int64_t until = sf_mono_ms() + SF_TOKEN_ACK_WAIT_MS;
    while (acked < listeners && sf_mono_ms() < until) {
        struct timespec pause = {0, 2 * 1000000L};
        nanosleep(&pause, NULL);
        if ((rc = sf_redis_cmd(r, &reply, err, "LLEN %s", ack)))
            return rc;
        acked = sf_reply_int(reply, 0);
        freeReplyObject(reply);
    }
    if (acked < listeners)
        sf_warn("token revoked, but only %lld of %lld gateways confirmed within %d ms; the others "
                "forget it when their copy expires",
                acked, listeners, SF_TOKEN_ACK_WAIT_MS);
    if (!sf_redis_cmd(r, &reply, err, "DEL %s", ack))
        freeReplyObject(reply);
    return 0;
}

int sf_token_revoke(sf_redis *r, const char *token, sf_error *err)
{
    sf_token_digest d;
    sf_token_digest_of(token, strlen(token), &d);
    redisReply *reply;
    int rc = sf_redis_cmd(r, &reply, err, "DEL " SF_TOKEN_KEY "%s", d.selector);
    if (rc)
        return rc;
    long long n = sf_reply_int(reply, 0);
    freeReplyObject(reply);
    if ((rc = tell_gateways(r, d.selector, err)))
        return rc;
    return n ? 0 : sf_fail(err, SF_ENOTFOUND, "no such token");
}
