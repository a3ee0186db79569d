/* Signing in to the portal, the session it makes, and signing out.
 *
 *   POST   /api/v2/session  {"username", "password"}  (no credential needed) sets the cookie
 *   GET    /api/v2/session  who you are, your role, the session's CSRF token and expiry
 *   DELETE /api/v2/session  signs out: the session ends on every gateway before the answer
 *
 * Failed sign-ins are charged to two GCRA buckets in Redis, one for the username and one for
 * the client's address, shared by every gateway; while either is over its limit, sign-ins are
 * refused (429, Retry-After) before any password is checked. A password check (Argon2id) takes
 * 64 MiB and about 0.1 s of a core, so only a few run at once. */
#include "gw_portal.h"

#include "gw_conns.h"

#include "sf_account.h"
#include "sf_json.h"
#include "sf_time.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { HASHING_SLOTS = 2, HASHING_WAIT_MS = 5000, BODY_MAX = 64 << 10 };

/* ---- what the portal modules share ---- */

int gw_limit_parse(const char *text, gw_limit *out)
{
    char *end;
    errno = 0;
    long burst = strtol(text, &end, 10);
    if (end == text || *end != ':' || burst < 1 || burst > 1000000)
        return SF_EINVAL;
    const char *s = end + 1;
    double secs = strtod(s, &end);
    if (end == s || *end || errno || !(secs > 0) || secs > 86400)
        return SF_EINVAL;
    out->burst = burst;
    out->every_us = (int64_t)ceil(secs * 1e6);
    return 0;
}

int gw_portal_new(gw_portal **out, const gw_config *cfg, sf_error *err)
{
    gw_portal *p = calloc(1, sizeof(*p));
    if (!p)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    if (gw_limit_parse(cfg->sign_in_user_limit, &p->user_limit) ||
        gw_limit_parse(cfg->sign_in_address_limit, &p->address_limit)) {
        free(p);
        return sf_fail(err, SF_EINVAL,
                       "--sign-in-user-limit and --sign-in-address-limit take BURST:SECONDS");
    }
    sem_init(&p->hashing, 0, HASHING_SLOTS);
    int rc = gw_web_new(&p->web, cfg->web_root, err);
    if (rc) {
        sem_destroy(&p->hashing);
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void gw_portal_free(gw_portal *p)
{
    if (!p)
        return;
    gw_web_free(p->web);
    sem_destroy(&p->hashing);
    free(p);
}

int gw_hashing_enter(gw_portal *p, sf_error *err)
{
    struct timespec until;
    sf_timespec_after(CLOCK_REALTIME, HASHING_WAIT_MS, &until);
    while (sem_timedwait(&p->hashing, &until)) {
        if (errno != EINTR)
            return sf_fail(err, SF_EUNAVAIL,
                           "too many passwords are being checked at once; "
                           "retry shortly");
    }
    return 0;
}

void gw_hashing_leave(gw_portal *p)
{
    sem_post(&p->hashing);
}

int gw_body_object(gw_request *rq, cJSON **out, sf_error *err)
{
    char *body;
    size_t len;
    *out = NULL;
    int rc = gw_read_body(rq, BODY_MAX, &body, &len, err);
    if (rc)
        return rc;
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    rc = i == len ? 0 : sf_json_parse_object(body, len, out, err);
    free(body);
    if (!rc && !*out && !(*out = cJSON_CreateObject()))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    return rc;
}

int gw_json_string(const cJSON *obj, const char *name, const char **out, sf_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return sf_fail(err, SF_EINVAL, "%s must be a string", name);
    *out = v->valuestring;
    return 0;
}

const char *gw_param(const gw_request *rq, const char *name)
{
    for (size_t i = 0; i < rq->params.n; i++) {
        if (rq->params.name_len[i] == strlen(name) &&
            !memcmp(rq->params.name[i], name, rq->params.name_len[i]))
            return rq->params.value[i];
    }
    return NULL;
}

/* ---- sign-in limits ---- */

/* KEYS: the user's bucket, the address's bucket. ARGV: mode ("check", "fail" or "ok"), then
 * T (us) and burst of each bucket. check: the us to wait before another attempt (0: go on);
 * fail: charge both; ok: forget the user's failures. */
static const char *const LIMIT_SCRIPT =
    "local now = redis.call('TIME')\n"
    "now = tonumber(now[1]) * 1000000 + tonumber(now[2])\n"
    "local wait = 0\n"
    "for i = 1, 2 do\n"
    "  local T, B = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])\n"
    "  local tat = tonumber(redis.call('GET', KEYS[i]) or 0)\n"
    "  if tat < now then tat = now end\n"
    "  if ARGV[1] == 'fail' then\n"
    "    tat = tat + T\n"
    "    redis.call('SET', KEYS[i], string.format('%.0f', tat), 'PX',\n"
    "               string.format('%.0f', math.ceil((tat - now) / 1000) + 1))\n"
    "  elseif ARGV[1] == 'check' then\n"
    "    local over = tat - now - (B - 1) * T\n"
    "    if over > wait then wait = over end\n"
    "  end\n"
    "end\n"
    "if ARGV[1] == 'ok' then redis.call('DEL', KEYS[1]) end\n"
    "return string.format('%.0f', wait)\n";

static int sign_in_limit(gw_request *rq, const char *mode, const char *user, long long *wait_us,
                         sf_error *err)
{
    const gw_portal *p = rq->gw->portal;
    char ukey[SF_USERNAME_MAX + 32], akey[96], tu[24], bu[24], ta[24], ba[24];
    /* a name that cannot be a user is charged to one bucket: guessing garbage is one user */
    snprintf(ukey, sizeof(ukey), "sf:signin:user:%s", sf_username_valid(user) ? user : "?");
    /* the client's address, as the edge in front forwarded it (gw_conns.h, main.c) */
    snprintf(akey, sizeof(akey), "sf:signin:addr:%.64s", rq->client);
    snprintf(tu, sizeof(tu), "%lld", (long long)p->user_limit.every_us);
    snprintf(bu, sizeof(bu), "%ld", p->user_limit.burst);
    snprintf(ta, sizeof(ta), "%lld", (long long)p->address_limit.every_us);
    snprintf(ba, sizeof(ba), "%ld", p->address_limit.burst);
    const char *args[] = {ukey, akey, mode, tu, bu, ta, ba};
    redisReply *reply;
    int rc = sf_redis_eval(rq->thread->redis, LIMIT_SCRIPT, &reply, err, 2, 7, args, NULL);
    if (rc)
        return rc;
    const char *w = sf_reply_str(reply);
    *wait_us = w ? strtoll(w, NULL, 10) : 0;
    freeReplyObject(reply);
    return 0;
}

/* ---- the session cookie ---- */

/* A Set-Cookie header line for value (NULL: delete the cookie). */
static void cookie_header(const gw_request *rq, const char *value, long max_age, char *out,
                          size_t len)
{
    snprintf(out, len,
             "Set-Cookie: " GW_SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; "
             "Max-Age=%ld%s\r\nCache-Control: no-store\r\n",
             value ? value : "", value ? max_age : 0L, gw_request_https(rq) ? "; Secure" : "");
}

static cJSON *session_json(const char *user, sf_role role, const char *csrf, int64_t expires_ms)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "login", user);
    cJSON_AddStringToObject(o, "role", sf_role_name(role));
    if (csrf)
        cJSON_AddStringToObject(o, "csrf_token", csrf);
    else
        cJSON_AddNullToObject(o, "csrf_token");
    if (expires_ms > 0) {
        char when[40];
        sf_time_format(expires_ms * 1000, when, sizeof(when), SF_TIME_ZULU);
        cJSON_AddStringToObject(o, "expires", when);
    } else {
        cJSON_AddNullToObject(o, "expires");
    }
    return o;
}

/* A body and headers, in one response. */
static int reply_json_headers(gw_request *rq, int status, cJSON *body, const char *headers)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    if (!text)
        return gw_reply_error(rq, 500, "out of memory");
    int rc = gw_reply_raw(rq, status, "application/json", text, strlen(text), headers);
    free(text);
    return rc;
}

/* ---- the handlers ---- */

static int json_content(const gw_request *rq)
{
    const char *type = mg_get_header(rq->conn, "Content-Type");
    return type && !strncasecmp(type, "application/json", 16) &&
           (type[16] == '\0' || type[16] == ';' || type[16] == ' ');
}

static int limited(gw_request *rq, long long wait_us)
{
    long long secs = (wait_us + 999999) / 1000000;
    char hdr[64];
    snprintf(hdr, sizeof(hdr), "Retry-After: %lld\r\n", secs < 1 ? 1 : secs);
    gw_metrics_limited(rq->gw, "sign_in");
    return gw_reply_error_headers(rq, 429, hdr,
                                  "too many failed sign-ins for this user or from this address: "
                                  "retry after %lld s",
                                  secs < 1 ? 1 : secs);
}

int gw_handle_sign_in(gw_request *rq)
{
    /* JSON only: a form on another site cannot send it without a preflight, which this
     * gateway never grants, so no other site can sign a browser in as someone */
    if (!json_content(rq))
        return gw_reply_error(rq, 415,
                              "send the credentials as application/json: "
                              "{\"username\": ..., \"password\": ...}");
    const char *site = mg_get_header(rq->conn, "Sec-Fetch-Site");
    if (site && !strcasecmp(site, "cross-site"))
        return gw_reply_error(rq, 403, "sign in from the portal's own page");
    sf_error err = SF_ERROR_INIT;
    cJSON *body;
    const char *user, *password;
    int rc = gw_body_object(rq, &body, &err);
    if (rc)
        return gw_reply_sf_error(rq, rc, &err);
    if ((rc = gw_json_string(body, "username", &user, &err)) ||
        (rc = gw_json_string(body, "password", &password, &err)) ||
        (!user || !password ? (rc = sf_fail(&err, SF_EINVAL, "username and password are needed"))
                            : 0)) {
        cJSON_Delete(body);
        return gw_reply_sf_error(rq, rc, &err);
    }
    long long wait = 0;
    int status;
    if ((rc = sign_in_limit(rq, "check", user, &wait, &err))) {
        status = gw_reply_sf_error(rq, SF_EUNAVAIL, &err);
        goto done;
    }
    if (wait > 0) {
        status = limited(rq, wait);
        goto done;
    }
    sf_user u;
    if (!(rc = gw_hashing_enter(rq->gw->portal, &err))) {
        rc = sf_user_authenticate(rq->thread->redis, user, password, &u, &err);
        gw_hashing_leave(rq->gw->portal);
    }
    if (rc == SF_EFORBIDDEN) {
        sign_in_limit(rq, "fail", user, &wait, NULL);
        status = gw_reply_sf_error(rq, rc, &err);
        goto done;
    }
    char id[SF_SESSION_ID_LEN + 1], csrf[SF_CSRF_LEN + 1], headers[256];
    int64_t expires = 0;
    if (rc ||
        (rc = sf_session_create(rq->thread->redis, u.name, rq->gw->cfg.session_idle_secs * 1000,
                                rq->gw->cfg.session_max_secs * 1000, id, &expires, &err))) {
        status = gw_reply_sf_error(rq, rc, &err);
        goto done;
    }
    sign_in_limit(rq, "ok", user, &wait, NULL);
    snprintf(rq->user, sizeof(rq->user), "%s", u.name);
    sf_session_csrf(id, strlen(id), csrf);
    cookie_header(rq, id, rq->gw->cfg.session_max_secs, headers, sizeof(headers));
    status = reply_json_headers(rq, 200, session_json(u.name, u.role, csrf, expires), headers);
done:
    cJSON_Delete(body);
    return status;
}

int gw_handle_session(gw_request *rq)
{
    if (!rq->by_session)
        return gw_reply_json(rq, 200, session_json(rq->user, (sf_role)rq->role, NULL, 0));
    char id[SF_TOKEN_MAX + 1], csrf[SF_CSRF_LEN + 1];
    if (gw_session_id(rq, id, sizeof(id)))
        return gw_reply_error(rq, 403, "your session has ended: sign in again");
    sf_token_digest d;
    sf_token_digest_of(id, strlen(id), &d);
    redisReply *reply;
    sf_error err = SF_ERROR_INIT;
    int rc = sf_redis_cmd(rq->thread->redis, &reply, &err, "HGET " SF_SESSION_KEY "%s expires",
                          d.selector);
    if (rc)
        return gw_reply_sf_error(rq, rc, &err);
    const char *expires = sf_reply_str(reply);
    int64_t ms = expires ? strtoll(expires, NULL, 10) : 0;
    freeReplyObject(reply);
    if (!ms)
        return gw_reply_error(rq, 403, "your session has ended: sign in again");
    sf_session_csrf(id, strlen(id), csrf);
    char headers[64];
    snprintf(headers, sizeof(headers), "Cache-Control: no-store\r\n");
    return reply_json_headers(rq, 200, session_json(rq->user, (sf_role)rq->role, csrf, ms),
                              headers);
}

int gw_handle_sign_out(gw_request *rq)
{
    char id[SF_TOKEN_MAX + 1];
    if (!rq->by_session || gw_session_id(rq, id, sizeof(id)))
        return gw_reply_error(rq, 400,
                              "this request has no session to end: a token is revoked "
                              "with DELETE /api/v2/tokens/<id>");
    sf_error err = SF_ERROR_INIT;
    int rc = sf_session_end(rq->thread->redis, id, strlen(id), &err);
    if (rc)
        return gw_reply_sf_error(rq, rc, &err);
    char headers[256];
    cookie_header(rq, NULL, 0, headers, sizeof(headers));
    return gw_reply_raw(rq, 204, NULL, NULL, 0, headers);
}
