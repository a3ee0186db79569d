/* sf_account.h - local user accounts, their roles and passwords, and portal sessions.
 *
 * An account is the hash sf:user:<name> (role, pwhash, created) and a member of sf:users. The
 * password is kept only as an Argon2id hash (libsodium's crypto_pwhash_str, whose string holds
 * its own salt and cost, so the cost can rise later without a migration).
 *
 * A user with no account (a token made by `stbfarm-admin token create` for any name) acts with
 * the write role, as every token did before accounts existed.
 *
 * A session is what signing in to the portal makes: a random id (like a token, 32 bytes in
 * URL-safe base64) that lives only in the browser's cookie. Redis keeps sf:session:<selector>
 * (hash, user, created, expires), found and compared as tokens are (sf_token.h), with a TTL
 * that each use renews (the idle expiry) and an absolute expiry in `expires`. Each session is
 * indexed in sf:user:<name>:sessions, so that removing a user or changing their password can end
 * them all.
 *
 * Every function that ends a credential tells the gateways (sf_token_tell_gateways) and waits
 * until they have dropped their copies: when it returns, no gateway accepts it. */
#ifndef SF_ACCOUNT_H
#define SF_ACCOUNT_H

#include "sf_err.h"
#include "sf_redis.h"
#include "sf_token.h"

#include <stddef.h>
#include <stdint.h>

typedef enum sf_role {
    SF_ROLE_NONE = 0, /* no account: acts as write */
    SF_ROLE_MANUAL,   /* live video, screenshots, the remote control, reservations */
    SF_ROLE_READ,     /* everything there is to see; changes nothing */
    SF_ROLE_WRITE,    /* runs tests, stops jobs, as well as what manual and read may */
    SF_ROLE_ADMIN,    /* manages users, as well as everything write may */
} sf_role;

/* "manual", "read", "write", "admin" (SF_ROLE_NONE is "write": what it acts as). */
const char *sf_role_name(sf_role role);
/* As people read it: "manual control", "read", ... */
const char *sf_role_title(sf_role role);
/* Parse a role name ("manual" or "manual-control", any case). 0 or SF_EINVAL. */
int sf_role_parse(const char *text, sf_role *out);
/* The role a user acts with: their account's, or write without one. */
sf_role sf_role_effective(sf_role account_role);

#define SF_USER_KEY          "sf:user:"
#define SF_USERS_KEY         "sf:users"
#define SF_SESSION_KEY       "sf:session:"
#define SF_USER_SESSIONS_FMT "sf:user:%s:sessions"

#define SF_PASSWORD_MIN     8
#define SF_PASSWORD_MAX     1024
#define SF_PASSWORD_GEN_LEN 24 /* generated passwords: 18 random bytes, URL-safe base64 */
#define SF_PWHASH_MAX       128

/* 0, or SF_EINVAL saying what is wrong: SF_PASSWORD_MIN to SF_PASSWORD_MAX bytes of UTF-8
 * without control characters. */
int sf_password_check(const char *password, sf_error *err);
/* A new random password into out (SF_PASSWORD_GEN_LEN + 1 bytes). 0 or SF_EINTERNAL. */
int sf_password_generate(char *out);
/* The Argon2id hash string of password into out (SF_PWHASH_MAX bytes). Takes about 0.1 s and
 * 64 MiB (libsodium's "interactive" cost). */
int sf_password_hash(const char *password, char *out, sf_error *err);
/* 1 when password matches hash. */
int sf_password_verify(const char *hash, const char *password);

typedef struct sf_user {
    char name[SF_USERNAME_MAX + 1];
    sf_role role;
    char created[40]; /* ISO 8601 */
} sf_user;

/* Create an account (tokens made for the name before act with its role from now on).
 * SF_EINVAL for a bad name or password, SF_ECONFLICT when it exists. */
int sf_user_add(sf_redis *r, const char *name, sf_role role, const char *password, sf_error *err);
/* Read an account. SF_ENOTFOUND when there is none. */
int sf_user_get(sf_redis *r, const char *name, sf_user *out, sf_error *err);
/* The role name has, SF_ROLE_NONE without an account. */
int sf_user_role(sf_redis *r, const char *name, sf_role *out, sf_error *err);
/* Every account, by name: *out (free) holds *n. */
int sf_user_list(sf_redis *r, sf_user **out, size_t *n, sf_error *err);
/* Change the role; the user's tokens and sessions act with it at once. SF_ENOTFOUND. */
int sf_user_set_role(sf_redis *r, const char *name, sf_role role, sf_error *err);
/* Change the password and end every session of the user (tokens stay). SF_ENOTFOUND. */
int sf_user_set_password(sf_redis *r, const char *name, const char *password, sf_error *err);
/* Remove the account, every token of the user and every session. SF_ENOTFOUND. */
int sf_user_remove(sf_redis *r, const char *name, sf_error *err);

/* Check a user's password: 0 with *out, or SF_EFORBIDDEN "wrong username or password" alike for
 * an unknown user and a wrong password, taking the same time for both. */
int sf_user_authenticate(sf_redis *r, const char *name, const char *password, sf_user *out,
                         sf_error *err);

/* ---- sessions ---- */

#define SF_SESSION_ID_LEN    SF_TOKEN_LEN
#define SF_SESSIONS_PER_USER 100 /* signing in once more ends the user's oldest session */
#define SF_CSRF_LEN          43

/* Start a session for user, ending after idle_ms without use or max_ms after now, whichever
 * comes first (*expires_ms, unix ms: the latter). A user who has SF_SESSIONS_PER_USER loses
 * the oldest. id holds SF_SESSION_ID_LEN + 1. */
int sf_session_create(sf_redis *r, const char *user, int64_t idle_ms, int64_t max_ms, char *id,
                      int64_t *expires_ms, sf_error *err);
/* End the session whose id is id (sign-out). 0 also when it had ended already. */
int sf_session_end(sf_redis *r, const char *id, size_t len, sf_error *err);
/* End every session of user. */
int sf_session_end_all(sf_redis *r, const char *user, sf_error *err);

/* The CSRF token of a session: derived from its id (a one-way hash, so it gives nothing of the
 * id away), so nothing more is stored and every gateway computes the same. out holds
 * SF_CSRF_LEN + 1. */
void sf_session_csrf(const char *id, size_t len, char *out);

#endif
