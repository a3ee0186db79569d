/* sf_token.h - API access tokens.
 *
 * A token is 32 random bytes in URL-safe base64 (43 characters). Redis never sees it: the first
 * 32 hex digits of its SHA-256 name the key (sf:token:<selector>), and the key holds the whole
 * hex digest and the username. The gateway finds the key by selector and compares the digest
 * in constant time, so neither the token nor timing gives anything away. */
#ifndef SF_TOKEN_H
#define SF_TOKEN_H

#include "sf_err.h"
#include "sf_redis.h"

#include <stddef.h>
#include <stdint.h>

#define SF_TOKEN_LEN    43
#define SF_TOKEN_MAX    256 /* longest token the gateway will look at */
#define SF_TOKEN_KEY    "sf:token:"
#define SF_USERNAME_MAX 64

/* Revocation: the channel every process that caches verified tokens (the gateways) listens on.
 * A message is "<selector>:<ack key>"; a listener drops the token, then RPUSHes to the ack key. */
#define SF_TOKEN_REVOKED_CHANNEL "sf:tokens:revoked"
#define SF_TOKEN_ACK_PREFIX      "sf:tokens:ack:"
#define SF_TOKEN_ACK_WAIT_MS     3000

typedef struct sf_token_digest {
    char selector[33];
    char hash[65];
} sf_token_digest;

/* Find the token in an Authorization header value: the scheme "token" (any case), spaces, then
 * the token of printable ASCII without spaces. Returns 0 with *tok and *len pointing into
 * header, or SF_EFORBIDDEN with a message saying what is malformed. */
int sf_token_parse_header(const char *header, const char **tok, size_t *len, sf_error *err);

void sf_token_digest_of(const char *tok, size_t len, sf_token_digest *out);

/* A new random credential (a token or a session id: 32 bytes, URL-safe base64) into out
 * (SF_TOKEN_LEN + 1 bytes) and its digest. 0 or SF_EINTERNAL. */
int sf_token_generate(char *out, sf_token_digest *d, sf_error *err);

/* The user node health checks run as (services/jobs/jobs_health.c): no token or account is
 * made for this name, so nobody else acts as it. */
#define SF_USER_HEALTH_CHECK "health-check"

/* 1 when user is a valid username: 1 to 64 of [A-Za-z0-9._-], not starting with '.' or '-'. */
int sf_username_valid(const char *user);

/* The set of a user's token selectors (what GET /api/v2/tokens lists). */
#define SF_USER_TOKENS_FMT "sf:user:%s:tokens"
#define SF_TOKEN_NOTE_MAX  200 /* bytes of the note a token may carry */
#define SF_TOKENS_PER_USER 200

/* Make a token for user and store its digest, the note (NULL: none; at most SF_TOKEN_NOTE_MAX
 * bytes of UTF-8) and the time, written into created (40 bytes; may be NULL); index it under
 * the user. out holds SF_TOKEN_LEN + 1. SF_EINVAL for a bad username or note; SF_ECONFLICT when
 * the user has SF_TOKENS_PER_USER. */
int sf_token_create(sf_redis *r, const char *user, const char *note, char *out, char *created,
                    sf_error *err);

/* What GET /api/v2/tokens shows of one token; never the token itself. */
typedef struct sf_token_info {
    char id[33];      /* its selector */
    char created[40]; /* ISO 8601 */
    char *note;       /* NULL: none */
    int64_t used_us;  /* when a gateway last verified it (to within a minute); 0: never */
} sf_token_info;

/* A user's tokens, newest first: *out (sf_token_infos_free) holds *n. Index entries whose
 * token is gone are dropped on the way. */
int sf_token_list(sf_redis *r, const char *user, sf_token_info **out, size_t *n, sf_error *err);
void sf_token_infos_free(sf_token_info *infos, size_t n);

/* Remove a token, then tell every gateway to forget it and wait (SF_TOKEN_ACK_WAIT_MS at most)
 * until each has: when this returns, no gateway accepts the token. SF_ENOTFOUND when no such
 * token exists (gateways are told all the same, in case its key was deleted by hand). Gateways
 * that do not answer in time are counted in a warning; each refuses the token anyway once its
 * copy expires (the gateway's --token-cache-secs). */
int sf_token_revoke(sf_redis *r, const char *token, sf_error *err);

/* sf_token_revoke for the token with this selector, only if it belongs to user (NULL: anyone's).
 * SF_ENOTFOUND otherwise. */
int sf_token_revoke_id(sf_redis *r, const char *selector, const char *user, sf_error *err);

/* Tell every gateway to drop what it keeps of subject, and wait until each has (as for
 * sf_token_revoke). subject is a credential's selector (a token or a session), or "@<user>"
 * for everything of that user (their role changed, or they were removed). */
int sf_token_tell_gateways(sf_redis *r, const char *subject, sf_error *err);

#endif
