#include "sf_account.h"
#include "sf_token.h"

#include "sf_crypto.h"
#include "sf_time.h"
#include "sf_utf8.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- roles ---- */

static const char *const ROLE_NAMES[] = {"write", "manual", "read", "write", "admin"};
static const char *const ROLE_TITLES[] = {"write", "manual control", "read", "write", "admin"};

const char *sf_role_name(sf_role role)
{
    return role >= SF_ROLE_NONE && role <= SF_ROLE_ADMIN ? ROLE_NAMES[role] : "write";
}

const char *sf_role_title(sf_role role)
{
    return role >= SF_ROLE_NONE && role <= SF_ROLE_ADMIN ? ROLE_TITLES[role] : "write";
}

int sf_role_parse(const char *text, sf_role *out)
{
    if (!text)
        return SF_EINVAL;
    if (!strcasecmp(text, "manual-control") || !strcasecmp(text, "manual control") ||
        !strcasecmp(text, "manual_control")) {
        *out = SF_ROLE_MANUAL;
        return 0;
    }
    for (int r = SF_ROLE_MANUAL; r <= SF_ROLE_ADMIN; r++) {
        if (!strcasecmp(text, ROLE_NAMES[r])) {
            *out = (sf_role)r;
            return 0;
        }
    }
    return SF_EINVAL;
}

sf_role sf_role_effective(sf_role account_role)
{
    return account_role == SF_ROLE_NONE ? SF_ROLE_WRITE : account_role;
}

/* ---- passwords ---- */

int sf_password_check(const char *password, sf_error *err)
{
    size_t n = strlen(password);
    if (n < SF_PASSWORD_MIN || n > SF_PASSWORD_MAX)
        return sf_fail(err, SF_EINVAL, "a password must be %d to %d bytes long", SF_PASSWORD_MIN,
                       SF_PASSWORD_MAX);
    if (!sf_utf8_valid(password, n))
        return sf_fail(err, SF_EINVAL, "a password must be valid UTF-8");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)password[i];
        if (c < 0x20 || c == 0x7f)
            return sf_fail(err, SF_EINVAL, "a password must not contain control characters");
    }
    return 0;
}

int sf_password_generate(char *out)
{
    unsigned char raw[SF_PASSWORD_GEN_LEN * 3 / 4];
    if (sf_random_bytes(raw, sizeof(raw)))
        return SF_EINTERNAL;
    sf_base64url(raw, sizeof(raw), out);
    return 0;
}

int sf_password_hash(const char *password, char *out, sf_error *err)
{
    _Static_assert(SF_PWHASH_MAX >= crypto_pwhash_STRBYTES, "room for the hash string");
    if (sodium_init() < 0)
        return sf_fail(err, SF_EINTERNAL, "libsodium could not start");
    if (crypto_pwhash_str_alg(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13))
        return sf_fail(err, SF_EUNAVAIL, "out of memory hashing the password");
    return 0;
}

int sf_password_verify(const char *hash, const char *password)
{
    if (sodium_init() < 0)
        return 0;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* A hash of a password nobody has, at the cost sf_password_hash uses: checked when the user is
 * unknown, so that a wrong name takes as long as a wrong password. */
static const char DUMMY_HASH[] = "$argon2id$v=19$m=65536,t=2,p=1$R/"
                                 "p4avjyE9szEgNamYDEBw$Fh9f+s1DvPOZXs6MrQjmETVa8koCDz6QI23HkZROvaE";

/* ---- accounts ---- */

static int check_name(const char *name, sf_error *err)
{
    if (!sf_username_valid(name))
        return sf_fail(err, SF_EINVAL, "invalid username '%.80s': use 1 to 64 of A-Z a-z 0-9 . _ -",
                       name);
    if (!strcmp(name, SF_USER_HEALTH_CHECK))
        return sf_fail(err, SF_EINVAL, "the username '%s' is the farm's own", name);
    return 0;
}

/* KEYS: the account, the set of accounts. ARGV: name, role, pwhash, created. */
static const char *const ADD_SCRIPT =
    "if redis.call('EXISTS', KEYS[1]) == 1 then\n"
    "  return redis.error_reply('409 the user ' .. ARGV[1] .. ' exists already')\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'role', ARGV[2], 'pwhash', ARGV[3], 'created', ARGV[4])\n"
    "redis.call('SADD', KEYS[2], ARGV[1])\n"
    "return 1\n";

int sf_user_add(sf_redis *r, const char *name, sf_role role, const char *password, sf_error *err)
{
    char hash[SF_PWHASH_MAX], created[40], key[SF_USERNAME_MAX + 16];
    int rc;
    if ((rc = check_name(name, err)) || (rc = sf_password_check(password, err)) ||
        (rc = sf_password_hash(password, hash, err)))
        return rc;
    if (role < SF_ROLE_MANUAL || role > SF_ROLE_ADMIN)
        return sf_fail(err, SF_EINVAL, "a user needs a role: manual, read, write or admin");
    sf_time_format(sf_now_us(), created, sizeof(created), SF_TIME_ZULU);
    snprintf(key, sizeof(key), SF_USER_KEY "%s", name);
    const char *args[] = {key, SF_USERS_KEY, name, sf_role_name(role), hash, created};
    redisReply *reply;
    if ((rc = sf_redis_eval(r, ADD_SCRIPT, &reply, err, 2, 6, args, NULL)))
        return rc;
    freeReplyObject(reply);
    if ((rc = sf_redis_durable(r, err)))
        return rc;
    /* tokens made for this name before it had an account now act with its role */
    char subject[SF_USERNAME_MAX + 2];
    snprintf(subject, sizeof(subject), "@%s", name);
    return sf_token_tell_gateways(r, subject, err);
}

/* Read name's account into out (may be NULL) and its hash into pwhash (may be NULL). */
static int read_user(sf_redis *r, const char *name, sf_user *out, char *pwhash, sf_error *err)
{
    redisReply *reply;
    int rc = sf_redis_cmd(r, &reply, err, "HMGET " SF_USER_KEY "%s role pwhash created", name);
    if (rc)
        return rc;
    const char *role = reply->elements == 3 ? sf_reply_str(reply->element[0]) : NULL;
    const char *hash = role ? sf_reply_str(reply->element[1]) : NULL;
    const char *created = role ? sf_reply_str(reply->element[2]) : NULL;
    sf_role parsed = SF_ROLE_NONE;
    if (!role || !hash || sf_role_parse(role, &parsed)) {
        freeReplyObject(reply);
        return sf_fail(err, SF_ENOTFOUND, "no user named '%.80s'", name);
    }
    if (out) {
        snprintf(out->name, sizeof(out->name), "%s", name);
        out->role = parsed;
        snprintf(out->created, sizeof(out->created), "%s", created ? created : "");
    }
    if (pwhash)
        snprintf(pwhash, SF_PWHASH_MAX, "%s", hash);
    freeReplyObject(reply);
    return 0;
}

int sf_user_get(sf_redis *r, const char *name, sf_user *out, sf_error *err)
{
    int rc = check_name(name, err);
    return rc ? (rc == SF_EINVAL ? sf_fail(err, SF_ENOTFOUND, "no user named '%.80s'", name) : rc)
              : read_user(r, name, out, NULL, err);
}

int sf_user_role(sf_redis *r, const char *name, sf_role *out, sf_error *err)
{
    sf_user u;
    int rc = sf_user_get(r, name, &u, err);
    *out = rc ? SF_ROLE_NONE : u.role;
    return rc == SF_ENOTFOUND ? 0 : rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const sf_user *)a)->name, ((const sf_user *)b)->name);
}

int sf_user_list(sf_redis *r, sf_user **out, size_t *n, sf_error *err)
{
    *out = NULL;
    *n = 0;
    redisReply *reply;
    int rc = sf_redis_cmd(r, &reply, err, "SMEMBERS " SF_USERS_KEY);
    if (rc)
        return rc;
    sf_user *users = calloc(reply->elements ? reply->elements : 1, sizeof(*users));
    if (!users) {
        freeReplyObject(reply);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    size_t count = 0;
    for (size_t i = 0; i < reply->elements && !rc; i++) {
        const char *name = sf_reply_str(reply->element[i]);
        if (!name || !sf_username_valid(name))
            continue;
        rc = read_user(r, name, &users[count], NULL, err);
        if (rc == SF_ENOTFOUND) /* removed meanwhile */
            rc = 0;
        else if (!rc)
            count++;
    }
    freeReplyObject(reply);
    if (rc) {
        free(users);
        return rc;
    }
    qsort(users, count, sizeof(*users), by_name);
    *out = users;
    *n = count;
    return 0;
}

int sf_user_set_role(sf_redis *r, const char *name, sf_role role, sf_error *err)
{
    int rc = sf_user_get(r, name, NULL, err);
    if (rc)
        return rc;
    if (role < SF_ROLE_MANUAL || role > SF_ROLE_ADMIN)
        return sf_fail(err, SF_EINVAL, "a user needs a role: manual, read, write or admin");
    redisReply *reply;
    if ((rc = sf_redis_cmd(r, &reply, err, "HSET " SF_USER_KEY "%s role %s", name,
                           sf_role_name(role))))
        return rc;
    freeReplyObject(reply);
    char subject[SF_USERNAME_MAX + 2];
    snprintf(subject, sizeof(subject), "@%s", name);
    return sf_token_tell_gateways(r, subject, err);
}

int sf_user_set_password(sf_redis *r, const char *name, const char *password, sf_error *err)
{
    char hash[SF_PWHASH_MAX];
    int rc;
    if ((rc = sf_user_get(r, name, NULL, err)) || (rc = sf_password_check(password, err)) ||
        (rc = sf_password_hash(password, hash, err)))
        return rc;
    redisReply *reply;
    if ((rc = sf_redis_cmd(r, &reply, err, "HSET " SF_USER_KEY "%s pwhash %s", name, hash)))
        return rc;
    freeReplyObject(reply);
    return sf_session_end_all(r, name, err);
}

/* KEYS: the account, the set of accounts, the user's tokens, the user's sessions. ARGV: name.
 * Deletes all of them and what the two indexes name; returns how many things it deleted. */
static const char *const REMOVE_SCRIPT =
    "local n = redis.call('DEL', KEYS[1])\n"
    "redis.call('SREM', KEYS[2], ARGV[1])\n"
    "for _, s in ipairs(redis.call('SMEMBERS', KEYS[3])) do\n"
    "  if redis.call('HGET', 'sf:token:' .. s, 'user') == ARGV[1] then\n"
    "    n = n + redis.call('DEL', 'sf:token:' .. s)\n"
    "  end\n"
    "end\n"
    "for _, s in ipairs(redis.call('SMEMBERS', KEYS[4])) do\n"
    "  n = n + redis.call('DEL', 'sf:session:' .. s)\n"
    "end\n"
    "redis.call('DEL', KEYS[3], KEYS[4])\n"
    "return n\n";

/* Tokens made before tokens were indexed per user are found by looking at every token. */
static int remove_unindexed_tokens(sf_redis *r, const char *name, long long *removed, sf_error *err)
{
    char cursor[32] = "0";
    do {
        redisReply *reply;
        int rc = sf_redis_cmd(r, &reply, err, "SCAN %s MATCH " SF_TOKEN_KEY "* COUNT 1000", cursor);
        if (rc)
            return rc;
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
            freeReplyObject(reply);
            return sf_fail(err, SF_EUNAVAIL, "Redis answered SCAN strangely");
        }
        snprintf(cursor, sizeof(cursor), "%s", sf_reply_str(reply->element[0]));
        const redisReply *keys = reply->element[1];
        for (size_t i = 0; i < keys->elements && !rc; i++) {
            const char *key = sf_reply_str(keys->element[i]);
            redisReply *u;
            if (!key || (rc = sf_redis_cmd(r, &u, err, "HGET %s user", key)))
                continue;
            const char *user = sf_reply_str(u);
            int mine = user && !strcmp(user, name);
            freeReplyObject(u);
            if (mine && !(rc = sf_redis_cmd(r, &u, err, "DEL %s", key))) {
                *removed += sf_reply_int(u, 0);
                freeReplyObject(u);
            }
        }
        freeReplyObject(reply);
        if (rc)
            return rc;
    } while (strcmp(cursor, "0"));
    return 0;
}

int sf_user_remove(sf_redis *r, const char *name, sf_error *err)
{
    int rc = check_name(name, err);
    if (rc)
        return sf_fail(err, SF_ENOTFOUND, "no user named '%.80s'", name);
    char key[SF_USERNAME_MAX + 16], tokens[SF_USERNAME_MAX + 32], sessions[SF_USERNAME_MAX + 32];
    snprintf(key, sizeof(key), SF_USER_KEY "%s", name);
    snprintf(tokens, sizeof(tokens), SF_USER_TOKENS_FMT, name);
    snprintf(sessions, sizeof(sessions), SF_USER_SESSIONS_FMT, name);
    const char *args[] = {key, SF_USERS_KEY, tokens, sessions, name};
    redisReply *reply;
    if ((rc = sf_redis_eval(r, REMOVE_SCRIPT, &reply, err, 4, 5, args, NULL)))
        return rc;
    long long removed = sf_reply_int(reply, 0);
    freeReplyObject(reply);
    if ((rc = remove_unindexed_tokens(r, name, &removed, err)))
        return rc;
    char subject[SF_USERNAME_MAX + 2];
    snprintf(subject, sizeof(subject), "@%s", name);
    if ((rc = sf_token_tell_gateways(r, subject, err)))
        return rc;
    return removed ? 0 : sf_fail(err, SF_ENOTFOUND, "no user named '%.80s'", name);
}

int sf_user_authenticate(sf_redis *r, const char *name, const char *password, sf_user *out,
                         sf_error *err)
{
    char hash[SF_PWHASH_MAX];
    int rc = sf_username_valid(name) ? read_user(r, name, out, hash, err) : SF_ENOTFOUND;
    if (rc && rc != SF_ENOTFOUND)
        return rc;
    int ok = sf_password_verify(rc ? DUMMY_HASH : hash, password);
    sodium_memzero(hash, sizeof(hash));
    if (rc || !ok)
        return sf_fail(err, SF_EFORBIDDEN, "wrong username or password");
    return 0;
}

/* ---- sessions ---- */

/* KEYS: the session, the user's sessions. ARGV: hash, user, created, expires (unix ms),
 * idle (ms), selector, the most sessions a user may have. Index entries of sessions that have
 * ended are dropped on the way; a user at the most loses the session made first, whose selector
 * is returned (else ""). */
static const char *const SESSION_SCRIPT =
    "local oldest, oldest_at = '', nil\n"
    "for _, s in ipairs(redis.call('SMEMBERS', KEYS[2])) do\n"
    "  local at = redis.call('HGET', 'sf:session:' .. s, 'created')\n"
    "  if not at then redis.call('SREM', KEYS[2], s)\n"
    "  elseif not oldest_at or at < oldest_at then oldest, oldest_at = s, at end\n"
    "end\n"
    "if redis.call('SCARD', KEYS[2]) < tonumber(ARGV[7]) then oldest = '' end\n"
    "if oldest ~= '' then\n"
    "  redis.call('DEL', 'sf:session:' .. oldest)\n"
    "  redis.call('SREM', KEYS[2], oldest)\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'hash', ARGV[1], 'user', ARGV[2], 'created', ARGV[3],\n"
    "           'expires', ARGV[4])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[5])\n"
    "redis.call('SADD', KEYS[2], ARGV[6])\n"
    "return oldest\n";

int sf_session_create(sf_redis *r, const char *user, int64_t idle_ms, int64_t max_ms, char *id,
                      int64_t *expires_ms, sf_error *err)
{
    sf_token_digest d;
    int rc = sf_token_generate(id, &d, err);
    if (rc)
        return rc;
    int64_t now = sf_now_us();
    char key[64], index[SF_USERNAME_MAX + 32], created[40], expires[24], idle[24];
    snprintf(key, sizeof(key), SF_SESSION_KEY "%s", d.selector);
    snprintf(index, sizeof(index), SF_USER_SESSIONS_FMT, user);
    sf_time_format(now, created, sizeof(created), SF_TIME_ZULU);
    snprintf(expires, sizeof(expires), "%lld", (long long)(now / 1000 + max_ms));
    snprintf(idle, sizeof(idle), "%lld", (long long)(idle_ms < max_ms ? idle_ms : max_ms));
    char most[16];
    snprintf(most, sizeof(most), "%d", SF_SESSIONS_PER_USER);
    const char *args[] = {key, index, d.hash, user, created, expires, idle, d.selector, most};
    redisReply *reply;
    rc = sf_redis_eval(r, SESSION_SCRIPT, &reply, err, 2, 9, args, NULL);
    if (rc)
        return rc;
    char evicted[33] = "";
    if (sf_reply_str(reply))
        snprintf(evicted, sizeof(evicted), "%s", sf_reply_str(reply));
    freeReplyObject(reply);
    *expires_ms = now / 1000 + max_ms;
    return evicted[0] ? sf_token_tell_gateways(r, evicted, err) : 0;
}

int sf_session_end(sf_redis *r, const char *id, size_t len, sf_error *err)
{
    sf_token_digest d;
    sf_token_digest_of(id, len, &d);
    redisReply *reply;
    int rc = sf_redis_cmd(r, &reply, err, "HGET " SF_SESSION_KEY "%s user", d.selector);
    if (rc)
        return rc;
    char user[SF_USERNAME_MAX + 1] = "";
    if (sf_reply_str(reply))
        snprintf(user, sizeof(user), "%s", sf_reply_str(reply));
    freeReplyObject(reply);
    if ((rc = sf_redis_cmd(r, &reply, err, "DEL " SF_SESSION_KEY "%s", d.selector)))
        return rc;
    freeReplyObject(reply);
    if (user[0] &&
        !sf_redis_cmd(r, &reply, err, "SREM " SF_USER_SESSIONS_FMT " %s", user, d.selector))
        freeReplyObject(reply);
    return sf_token_tell_gateways(r, d.selector, err);
}

int sf_session_end_all(sf_redis *r, const char *user, sf_error *err)
{
    redisReply *reply;
    int rc = sf_redis_cmd(r, &reply, err, "SMEMBERS " SF_USER_SESSIONS_FMT, user);
    if (rc)
        return rc;
    for (size_t i = 0; i < reply->elements && !rc; i++) {
        const char *sel = sf_reply_str(reply->element[i]);
        redisReply *del;
        if (sel && !(rc = sf_redis_cmd(r, &del, err, "DEL " SF_SESSION_KEY "%s", sel)))
            freeReplyObject(del);
    }
    freeReplyObject(reply);
    if (rc || (rc = sf_redis_cmd(r, &reply, err, "DEL " SF_USER_SESSIONS_FMT, user)))
        return rc;
    freeReplyObject(reply);
    char subject[SF_USERNAME_MAX + 2];
    snprintf(subject, sizeof(subject), "@%s", user);
    return sf_token_tell_gateways(r, subject, err);
}

void sf_session_csrf(const char *id, size_t len, char *out)
{
    char buf[SF_TOKEN_MAX + 16], hex[65];
    int n = snprintf(buf, sizeof(buf), "stbfarm-csrf:%.*s",
                     (int)(len < SF_TOKEN_MAX ? len : SF_TOKEN_MAX), id);
    sf_sha256_hex(buf, (size_t)n, hex);
    memcpy(out, hex, SF_CSRF_LEN);
    out[SF_CSRF_LEN] = '\0';
}
