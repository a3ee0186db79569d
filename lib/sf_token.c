#include "sf_token.h"

#include "sf_crypto.h"
#include "sf_log.h"
#include "sf_time.h"
#include "sf_utf8.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
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

int sf_token_generate(char *out, sf_token_digest *d, sf_error *err)
{
    unsigned char raw[32];
    if (sf_random_bytes(raw, sizeof(raw)))
        return sf_fail(err, SF_EINTERNAL, "no randomness available");
    sf_base64url(raw, sizeof(raw), out);
    sf_token_digest_of(out, SF_TOKEN_LEN, d);
    return 0;
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

/* KEYS: the token's key, the user's index. ARGV: hash, user, created, note ("" none), the
 * selector, the most tokens a user may have. Index entries whose token is gone do not count. */
static const char *const CREATE_SCRIPT =
    "if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[6]) then\n"
    "  for _, s in ipairs(redis.call('SMEMBERS', KEYS[2])) do\n"
    "    if redis.call('EXISTS', 'sf:token:' .. s) == 0 then redis.call('SREM', KEYS[2], s) end\n"
    "  end\n"
    "  if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[6]) then\n"
    "    return redis.error_reply('409 ' .. ARGV[2] .. ' has ' .. ARGV[6] .. ' tokens already: "
    "revoke some first')\n"
    "  end\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'hash', ARGV[1], 'user', ARGV[2], 'created', ARGV[3])\n"
    "if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'note', ARGV[4]) end\n"
    "redis.call('SADD', KEYS[2], ARGV[5])\n"
    "return 1\n";

int sf_token_create(sf_redis *r, const char *user, const char *note, char *out, char *created_out,
                    sf_error *err)
{
    if (!sf_username_valid(user))
        return sf_fail(err, SF_EINVAL, "invalid username '%s': use 1 to 64 of A-Z a-z 0-9 . _ -",
                       user);
    if (!strcmp(user, SF_USER_HEALTH_CHECK))
        return sf_fail(err, SF_EINVAL, "the username '%s' is the farm's own", user);
    if (note && (strlen(note) > SF_TOKEN_NOTE_MAX || !sf_utf8_valid(note, strlen(note))))
        return sf_fail(err, SF_EINVAL, "note must be at most %d bytes of UTF-8", SF_TOKEN_NOTE_MAX);
    sf_token_digest d;
    int rc = sf_token_generate(out, &d, err);
    if (rc)
        return rc;
    char created[40], key[64], index[SF_USERNAME_MAX + 32], most[16];
    sf_time_format(sf_now_us(), created, sizeof(created), SF_TIME_ZULU);
    snprintf(key, sizeof(key), SF_TOKEN_KEY "%s", d.selector);
    snprintf(index, sizeof(index), SF_USER_TOKENS_FMT, user);
    snprintf(most, sizeof(most), "%d", SF_TOKENS_PER_USER);
    const char *args[] = {key, index, d.hash, user, created, note ? note : "", d.selector, most};
    redisReply *reply;
    rc = sf_redis_eval(r, CREATE_SCRIPT, &reply, err, 2, 8, args, NULL);
    if (rc)
        return rc;
    freeReplyObject(reply);
    if ((rc = sf_redis_durable(r, err)))
        return rc;
    if (created_out)
        memcpy(created_out, created, sizeof(created));
    return 0;
}

static int newest_first(const void *a, const void *b)
{
    return -strcmp(((const sf_token_info *)a)->created, ((const sf_token_info *)b)->created);
}

void sf_token_infos_free(sf_token_info *infos, size_t n)
{
    for (size_t i = 0; infos && i < n; i++)
        free(infos[i].note);
    free(infos);
}

/* KEYS: the user's index. Returns {selector, created, note, used, ...} of the user's tokens,
 * dropping index entries whose token is gone or belongs to someone else. */
static const char *const LIST_SCRIPT =
    "local out = {}\n"
    "for _, s in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  local t = redis.call('HMGET', 'sf:token:' .. s, 'user', 'created', 'note', 'used')\n"
    "  if t[1] == ARGV[1] then\n"
    "    out[#out + 1] = s; out[#out + 1] = t[2] or ''; out[#out + 1] = t[3] or ''\n"
    "    out[#out + 1] = t[4] or ''\n"
    "  else redis.call('SREM', KEYS[1], s) end\n"
    "end\n"
    "return out\n";

int sf_token_list(sf_redis *r, const char *user, sf_token_info **out, size_t *n, sf_error *err)
{
    *out = NULL;
    *n = 0;
    char index[SF_USERNAME_MAX + 32];
    snprintf(index, sizeof(index), SF_USER_TOKENS_FMT, user);
    const char *args[] = {index, user};
    redisReply *reply;
    int rc = sf_redis_eval(r, LIST_SCRIPT, &reply, err, 1, 2, args, NULL);
    if (rc)
        return rc;
    size_t count = reply->elements / 4;
    sf_token_info *infos = calloc(count ? count : 1, sizeof(*infos));
    if (!infos) {
        freeReplyObject(reply);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        const char *sel = sf_reply_str(reply->element[4 * i]);
        const char *created = sf_reply_str(reply->element[4 * i + 1]);
        const char *note = sf_reply_str(reply->element[4 * i + 2]);
        const char *used = sf_reply_str(reply->element[4 * i + 3]);
        snprintf(infos[i].id, sizeof(infos[i].id), "%s", sel ? sel : "");
        snprintf(infos[i].created, sizeof(infos[i].created), "%s", created ? created : "");
        infos[i].note = note && *note ? strdup(note) : NULL;
        infos[i].used_us = used ? strtoll(used, NULL, 10) : 0;
    }
    freeReplyObject(reply);
    qsort(infos, count, sizeof(*infos), newest_first);
    *out = infos;
    *n = count;
    return 0;
}

/* Publish the revocation and wait until every listener acknowledged it. */
int sf_token_tell_gateways(sf_redis *r, const char *subject, sf_error *err)
{
    unsigned char raw[12];
    char nonce[17], ack[64];
    if (sf_random_bytes(raw, sizeof(raw)))
        return sf_fail(err, SF_EINTERNAL, "no randomness available");
    sf_base64url(raw, sizeof(raw), nonce);
    snprintf(ack, sizeof(ack), SF_TOKEN_ACK_PREFIX "%s", nonce);
    redisReply *reply;
    int rc =
        sf_redis_cmd(r, &reply, err, "PUBLISH " SF_TOKEN_REVOKED_CHANNEL " %s:%s", subject, ack);
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

/* KEYS: the token's key. ARGV: the user it must belong to ("" anyone). Deletes it and its
 * index entry; returns 1, or 0 when there was no such token (of that user). */
static const char *const REVOKE_SCRIPT =
    "local u = redis.call('HGET', KEYS[1], 'user')\n"
    "if not u or (ARGV[1] ~= '' and u ~= ARGV[1]) then return 0 end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('SREM', 'sf:user:' .. u .. ':tokens', ARGV[2])\n"
    "return 1\n";

int sf_token_revoke_id(sf_redis *r, const char *selector, const char *user, sf_error *err)
{
    size_t n = strlen(selector);
    for (size_t i = 0; i < n; i++) {
        if (!((selector[i] >= '0' && selector[i] <= '9') ||
              (selector[i] >= 'a' && selector[i] <= 'f')))
            n = 0;
    }
    if (n != 32)
        return sf_fail(err, SF_ENOTFOUND, "no such token");
    char key[64];
    snprintf(key, sizeof(key), SF_TOKEN_KEY "%s", selector);
    const char *args[] = {key, user ? user : "", selector};
    redisReply *reply;
    int rc = sf_redis_eval(r, REVOKE_SCRIPT, &reply, err, 1, 3, args, NULL);
    if (rc)
        return rc;
    long long found = sf_reply_int(reply, 0);
    freeReplyObject(reply);
    /* gateways are told even when nothing was found, in case the key was deleted by hand; but
     * not about another user's token, which this caller has no business revoking */
    if (!found && user)
        return sf_fail(err, SF_ENOTFOUND, "no such token");
    if ((rc = sf_token_tell_gateways(r, selector, err)))
        return rc;
    return found ? 0 : sf_fail(err, SF_ENOTFOUND, "no such token");
}

int sf_token_revoke(sf_redis *r, const char *token, sf_error *err)
{
    sf_token_digest d;
    sf_token_digest_of(token, strlen(token), &d);
    return sf_token_revoke_id(r, d.selector, NULL, err);
}
