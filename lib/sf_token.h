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

/* 1 when user is a valid username: 1 to 64 of [A-Za-z0-9._-], not starting with '.' or '-'. */
int sf_username_valid(const char *user);

/* Make a token for user and store its digest. out holds SF_TOKEN_LEN + 1. */
int sf_token_create(sf_redis *r, const char *user, char *out, sf_error *err);

/* Remove a token, then tell every gateway to forget it and wait (SF_TOKEN_ACK_WAIT_MS at most)
 * until each has: when this returns, no gateway accepts the token. SF_ENOTFOUND when no such
 * token exists (gateways are told all the same, in case its key was deleted by hand). Gateways
 * that do not answer in time are counted in a warning; each refuses the token anyway once its
 * copy expires (the gateway's --token-cache-secs). */
int sf_token_revoke(sf_redis *r, const char *token, sf_error *err);

#endif
