#include "sf_redis.h"

#include "sf_crypto.h"
#include "sf_metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct sf_redis {
    redisContext *c;
    char *addr;
    int connected_before; /* a connection now is a reconnect */
    int replicated;       /* found through sentinels: sf_redis_durable waits for a replica */
    sf_metric *connects, *reconnects, *unavailable, *failed, *unreplicated;
};

enum { CONNECT_TIMEOUT_MS = 1000, COMMAND_TIMEOUT_MS = 5000 };

/* The process's Redis user and password (sf_redis_auth_setup), set once at start. */
static struct {
    char user[128];
    char password[256];
} auth;

int sf_redis_auth_setup(const char *user, const char *password_file, sf_error *err)
{
    if (!user)
        return 0;
    if (!password_file)
        return sf_fail(err, SF_EINVAL, "--redis-user needs --redis-password-file");
    if (strlen(user) >= sizeof(auth.user) || strpbrk(user, " \t\r\n"))
        return sf_fail(err, SF_EINVAL, "--redis-user: not a Redis user name");
    FILE *f = fopen(password_file, "r");
    if (!f)
        return sf_fail(err, SF_EINVAL, "cannot read the Redis password file %s", password_file);
    struct stat st;
    int rc = 0;
    if (fstat(fileno(f), &st) || (st.st_mode & 077))
        rc = sf_fail(err, SF_EINVAL, "%s is readable by others (chmod 600 it)", password_file);
    else if (!fgets(auth.password, sizeof(auth.password), f))
        rc = sf_fail(err, SF_EINVAL, "the Redis password file %s is empty", password_file);
    fclose(f);
    auth.password[strcspn(auth.password, "\r\n")] = '\0';
    if (!rc && !auth.password[0])
        rc = sf_fail(err, SF_EINVAL, "the Redis password file %s is empty", password_file);
    if (!rc)
        snprintf(auth.user, sizeof(auth.user), "%s", user);
    return rc;
}

/* AUTH on a fresh connection, when the process has a user. */
static int authenticate(redisContext *c, const char *addr, sf_error *err)
{
    if (!auth.user[0])
        return 0;
    redisReply *reply = redisCommand(c, "AUTH %s %s", auth.user, auth.password);
    int rc = 0;
    if (!reply)
        rc = sf_fail(err, SF_EUNAVAIL, "Redis at %s is unavailable: %s", addr, c->errstr);
    else if (reply->type == REDIS_REPLY_ERROR)
        rc = sf_fail(err, SF_EUNAVAIL, "Redis at %s refused user %s: %s", addr, auth.user,
                     reply->str);
    if (reply)
        freeReplyObject(reply);
    return rc;
}

enum { SENTINELS_MAX = 8, SENTINEL_TIMEOUT_MS = 500, WAIT_TIMEOUT_MS = 2000 };

/* Where a connection goes: one server (a unix socket or host:port), or the master that the
 * sentinels name. */
typedef struct {
    char host[256];
    int port, is_unix;
    int sentinels; /* 0: one server */
    char name[64]; /* the master's name at the sentinels */
    struct {
        char host[256];
        int port;
    } sentinel[SENTINELS_MAX];
} redis_target;

static int parse_hostport(const char *s, size_t len, char *host, size_t hostlen, int *port)
{
    const char *colon = memrchr(s, ':', len);
    if (!colon || colon == s || (size_t)(colon - s) >= hostlen)
        return SF_EINVAL;
    char digits[8];
    size_t dl = len - (size_t)(colon + 1 - s);
    if (!dl || dl >= sizeof(digits))
        return SF_EINVAL;
    memcpy(digits, colon + 1, dl);
    digits[dl] = '\0';
    char *end;
    long p = strtol(digits, &end, 10);
    if (*end || p <= 0 || p > 65535)
        return SF_EINVAL;
    snprintf(host, hostlen, "%.*s", (int)(colon - s), s);
    *port = (int)p;
    return 0;
}

/* "sentinel://host:port,host:port/name": the sentinels, then the master's name. */
static int parse_sentinels(const char *spec, redis_target *t)
{
    const char *slash = strchr(spec, '/');
    if (!slash || !slash[1] || strlen(slash + 1) >= sizeof(t->name) ||
        strspn(slash + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
            strlen(slash + 1))
        return SF_EINVAL;
    snprintf(t->name, sizeof(t->name), "%s", slash + 1);
    const char *p = spec;
    while (p < slash) {
        const char *comma = memchr(p, ',', (size_t)(slash - p));
        const char *end = comma ? comma : slash;
        if (t->sentinels == SENTINELS_MAX ||
            parse_hostport(p, (size_t)(end - p), t->sentinel[t->sentinels].host,
                           sizeof(t->sentinel[0].host), &t->sentinel[t->sentinels].port))
            return SF_EINVAL;
        t->sentinels++;
        p = end + 1;
    }
    return t->sentinels ? 0 : SF_EINVAL;
}

static int parse_addr(const char *addr, redis_target *t)
{
    memset(t, 0, sizeof(*t));
    if (!strncmp(addr, "sentinel://", 11))
        return parse_sentinels(addr + 11, t);
    if (!strncmp(addr, "unix:", 5)) {
        const char *path = addr + 5;
        while (path[0] == '/' && path[1] == '/')
            path++;
        if (!*path || strlen(path) >= sizeof(t->host))
            return SF_EINVAL;
        snprintf(t->host, sizeof(t->host), "%s", path);
        t->is_unix = 1;
        return 0;
    }
    if (!strncmp(addr, "tcp://", 6))
        addr += 6;
    return parse_hostport(addr, strlen(addr), t->host, sizeof(t->host), &t->port);
}

static int bad_addr(const char *addr, sf_error *err)
{
    return sf_fail(err, SF_EINVAL,
                   "bad Redis address '%s' (want unix:/path, tcp://host:port or "
                   "sentinel://host:port[,host:port...]/name)",
                   addr ? addr : "");
}

/* A connection to one server, authenticated; a command timeout of timeout_ms (0: none). */
static redisContext *connect_server(const char *host, int port, int is_unix, int connect_ms,
                                    int timeout_ms, const char *addr, sf_error *err)
{
    struct timeval tv = {connect_ms / 1000, (connect_ms % 1000) * 1000};
    redisContext *c =
        is_unix ? redisConnectUnixWithTimeout(host, tv) : redisConnectWithTimeout(host, port, tv);
    if (!c || c->err) {
        sf_fail(err, SF_EUNAVAIL, "Redis at %s is unavailable: %s", addr,
                c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return NULL;
    }
    if (timeout_ms) {
        struct timeval ct = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        redisSetTimeout(c, ct);
    }
    if (authenticate(c, addr, err)) {
        redisFree(c);
        return NULL;
    }
    return c;
}

/* Ask one sentinel where the master is: 0 with host and port, or SF_EUNAVAIL. */
static int ask_sentinel(const redis_target *t, int i, char *host, size_t hostlen, int *port,
                        sf_error *err)
{
    char where[300];
    snprintf(where, sizeof(where), "sentinel %s:%d", t->sentinel[i].host, t->sentinel[i].port);
    redisContext *s = connect_server(t->sentinel[i].host, t->sentinel[i].port, 0,
                                     SENTINEL_TIMEOUT_MS, SENTINEL_TIMEOUT_MS, where, err);
    if (!s)
        return SF_EUNAVAIL;
    redisReply *reply = redisCommand(s, "SENTINEL get-master-addr-by-name %s", t->name);
    int rc = SF_EUNAVAIL;
    if (!reply)
        sf_fail(err, rc, "%s is unavailable: %s", where, s->errstr);
    else if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
             !sf_reply_str(reply->element[0]) || !sf_reply_str(reply->element[1]))
        sf_fail(err, rc, "%s knows no master '%s'%s%s", where, t->name,
                reply->type == REDIS_REPLY_ERROR ? ": " : "",
                reply->type == REDIS_REPLY_ERROR ? reply->str : "");
    else {
        long p = strtol(reply->element[1]->str, NULL, 10);
        if (p > 0 && p <= 65535 && strlen(reply->element[0]->str) < hostlen) {
            snprintf(host, hostlen, "%s", reply->element[0]->str);
            *port = (int)p;
            rc = 0;
        } else
            sf_fail(err, rc, "%s named no usable master address", where);
    }
    if (reply)
        freeReplyObject(reply);
    redisFree(s);
    return rc;
}

/* Whether the server on c is a master now (ROLE): during a failover a sentinel may still name
 * the old one, and an old master that came back is a replica until told otherwise. */
static int is_master(redisContext *c, const char *addr, sf_error *err)
{
    redisReply *reply = redisCommand(c, "ROLE");
    int ok = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
             sf_reply_str(reply->element[0]) && !strcmp(reply->element[0]->str, "master");
    if (!ok)
        sf_fail(err, SF_EUNAVAIL, "Redis at %s is not the master (yet)", addr);
    if (reply)
        freeReplyObject(reply);
    return ok;
}

/* The master that the sentinels name, tried in turn until one names a server that is master. */
static redisContext *connect_master(const redis_target *t, int timeout_ms, const char *addr,
                                    sf_error *err)
{
    sf_error e = SF_ERROR_INIT;
    for (int i = 0; i < t->sentinels; i++) {
        char host[256], where[384];
        int port;
        if (ask_sentinel(t, i, host, sizeof(host), &port, &e))
            continue;
        snprintf(where, sizeof(where), "%s:%d (master '%s')", host, port, t->name);
        redisContext *c = connect_server(host, port, 0, CONNECT_TIMEOUT_MS, timeout_ms, where, &e);
        if (c && is_master(c, where, &e))
            return c;
        if (c)
            redisFree(c);
    }
    sf_fail(err, SF_EUNAVAIL, "no Redis master from the sentinels of %s: %s", addr, e.msg);
    return NULL;
}

redisContext *sf_redis_connect_raw(const char *addr, int with_timeout, sf_error *err)
{
    redis_target t;
    if (parse_addr(addr, &t)) {
        bad_addr(addr, err);
        return NULL;
    }
    int timeout_ms = with_timeout ? COMMAND_TIMEOUT_MS : 0;
    if (t.sentinels)
        return connect_master(&t, timeout_ms, addr, err);
    return connect_server(t.host, t.port, t.is_unix, CONNECT_TIMEOUT_MS, timeout_ms, addr, err);
}

int sf_redis_open(sf_redis **out, const char *addr, sf_error *err)
{
    redis_target t;
    if (!addr || parse_addr(addr, &t))
        return bad_addr(addr, err);
    sf_redis *r = calloc(1, sizeof(*r));
    if (!r || !(r->addr = strdup(addr))) {
        free(r);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    r->replicated = t.sentinels > 0;
    sf_metrics *m = sf_metrics_process();
    r->connects = sf_metric_get(
        sf_metrics_counter(m, "stbfarm_redis_connects_total",
                           "Connections made to Redis (each thread has its own)", NULL),
        NULL);
    r->reconnects = sf_metric_get(
        sf_metrics_counter(m, "stbfarm_redis_reconnects_total",
                           "Connections to Redis made again after one was lost", NULL),
        NULL);
    sf_metric_family *errors =
        sf_metrics_counter(m, "stbfarm_redis_errors_total",
                           "Redis commands that failed: unavailable (no connection, a timeout, "
                           "a connection lost, not the master), error (an error reply that is "
                           "not an API answer of a script) or unreplicated (a write that reached "
                           "no replica in time)",
                           "kind");
    r->unavailable = sf_metric_get(errors, SF_LABELS("unavailable"));
    r->failed = sf_metric_get(errors, SF_LABELS("error"));
    r->unreplicated = sf_metric_get(errors, SF_LABELS("unreplicated"));
    *out = r;
    return 0;
}

void sf_redis_free(sf_redis *r)
{
    if (!r)
        return;
    if (r->c)
        redisFree(r->c);
    free(r->addr);
    free(r);
}

const char *sf_redis_addr(const sf_redis *r)
{
    return r->addr;
}

/* Turn an error reply into a code: "404 unknown node" from a script keeps its status. */
static int error_reply_code(const redisReply *reply, sf_error *err)
{
    const char *s = reply->str;
    if (reply->len > 4 && (s[0] == '4' || s[0] == '5') && s[1] >= '0' && s[1] <= '9' &&
        s[2] >= '0' && s[2] <= '9' && s[3] == ' ') {
        int status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
        return sf_fail(err, -status, "%s", s + 4);
    }
    return sf_fail(err, SF_EINTERNAL, "Redis: %s", s);
}

/* An error that says this server cannot serve us now, though another could: a replica's
 * refusal to write (also from inside a script), or a server still loading its data. */
static int not_master(const redisReply *reply)
{
    return !strncmp(reply->str, "READONLY", 8) || !strncmp(reply->str, "LOADING", 7) ||
           strstr(reply->str, "-READONLY") || strstr(reply->str, "READONLY You can't write");
}

/* Send one formatted command, reconnecting when needed. A connection found broken is retried
 * once on a fresh one, so a Redis restart costs idle threads nothing. */
static int run(sf_redis *r, const char *cmd, size_t len, redisReply **out, sf_error *err)
{
    *out = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        int fresh = 0;
        if (!r->c) {
            r->c = sf_redis_connect_raw(r->addr, 1, err);
            if (!r->c) {
                sf_metric_inc(r->unavailable);
                return SF_EUNAVAIL;
            }
            sf_metric_inc(r->connects);
            if (r->connected_before)
                sf_metric_inc(r->reconnects);
            r->connected_before = 1;
            fresh = 1;
        }
        redisReply *reply = NULL;
        if (redisAppendFormattedCommand(r->c, cmd, len) != REDIS_OK ||
            redisGetReply(r->c, (void **)&reply) != REDIS_OK || !reply) {
            sf_fail(err, SF_EUNAVAIL, "Redis at %s is unavailable: %s", r->addr, r->c->errstr);
            redisFree(r->c);
            r->c = NULL;
            if (fresh) {
                sf_metric_inc(r->unavailable);
                return SF_EUNAVAIL;
            }
            continue;
        }
        if (reply->type == REDIS_REPLY_ERROR && not_master(reply)) {
            /* a master turned replica by a failover, or one still loading its data: find the
             * master again */
            sf_fail(err, SF_EUNAVAIL, "Redis at %s is not the master now: %.200s", r->addr,
                    reply->str);
            freeReplyObject(reply);
            redisFree(r->c);
            r->c = NULL;
            if (fresh) {
                sf_metric_inc(r->unavailable);
                return SF_EUNAVAIL;
            }
            continue;
        }
        if (reply->type == REDIS_REPLY_ERROR) {
            int rc = error_reply_code(reply, err);
            /* NOSCRIPT is sf_redis_eval's cue to send the script, not a failure */
            if (rc == SF_EINTERNAL && strncmp(reply->str, "NOSCRIPT", 8))
                sf_metric_inc(r->failed);
            freeReplyObject(reply);
            return rc;
        }
        *out = reply;
        return 0;
    }
    return SF_EUNAVAIL;
}

int sf_redis_durable(sf_redis *r, sf_error *err)
{
    if (!r->replicated)
        return 0;
    /* Not run(): a fresh connection has written nothing, and its WAIT would prove nothing. */
    if (!r->c)
        return sf_fail(err, SF_EUNAVAIL,
                       "Redis at %s: the connection was lost before the write "
                       "was on a replica",
                       r->addr);
    redisReply *reply = redisCommand(r->c, "WAIT 1 %d", WAIT_TIMEOUT_MS);
    int rc = 0;
    if (!reply || reply->type != REDIS_REPLY_INTEGER) {
        rc = sf_fail(err, SF_EUNAVAIL, "Redis at %s: no answer to WAIT: %s", r->addr,
                     reply && reply->type == REDIS_REPLY_ERROR ? reply->str : r->c->errstr);
        if (!reply) {
            redisFree(r->c);
            r->c = NULL;
        }
    } else if (reply->integer < 1)
        rc = sf_fail(err, SF_EUNAVAIL,
                     "Redis at %s: the write is on the master but on no replica within %d ms",
                     r->addr, WAIT_TIMEOUT_MS);
    if (rc)
        sf_metric_inc(r->unreplicated);
    if (reply)
        freeReplyObject(reply);
    return rc;
}

int sf_redis_cmdargv(sf_redis *r, redisReply **out, sf_error *err, int argc, const char **argv,
                     const size_t *lens)
{
    char *cmd;
    *out = NULL;
    int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
    if (len < 0)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    int rc = run(r, cmd, (size_t)len, out, err);
    redisFreeCommand(cmd);
    return rc;
}

int sf_redis_cmd(sf_redis *r, redisReply **out, sf_error *err, const char *fmt, ...)
{
    char *cmd;
    va_list ap;
    *out = NULL;
    va_start(ap, fmt);
    int len = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    if (len < 0)
        return sf_fail(err, SF_EINTERNAL, "bad Redis command format");
    int rc = run(r, cmd, (size_t)len, out, err);
    redisFreeCommand(cmd);
    return rc;
}

int sf_redis_eval(sf_redis *r, const char *script, redisReply **out, sf_error *err, int nkeys,
                  int nargs, const char **args, const size_t *lens)
{
    /* A script may take any number of keys (one request reserves many nodes at once). */
    const char **argv = malloc((size_t)(nargs + 3) * sizeof(*argv));
    size_t *argl = malloc((size_t)(nargs + 3) * sizeof(*argl));
    *out = NULL;
    if (!argv || !argl) {
        free(argv);
        free(argl);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    char sha[41], nk[16];
    sf_sha1_hex(script, strlen(script), sha);
    snprintf(nk, sizeof(nk), "%d", nkeys);
    argv[0] = "EVALSHA";
    argv[1] = sha;
    argv[2] = nk;
    for (int i = 0; i < nargs; i++) {
        argv[3 + i] = args[i];
        argl[3 + i] = lens ? lens[i] : strlen(args[i]);
    }
    argl[0] = 7;
    argl[1] = 40;
    argl[2] = strlen(nk);
    sf_error e = SF_ERROR_INIT;
    int rc = sf_redis_cmdargv(r, out, &e, nargs + 3, argv, argl);
    if (rc == SF_EINTERNAL && !strncmp(e.msg, "Redis: NOSCRIPT", 15)) {
        argv[0] = "EVAL";
        argl[0] = 4;
        argv[1] = script;
        argl[1] = strlen(script);
        rc = sf_redis_cmdargv(r, out, &e, nargs + 3, argv, argl);
    }
    if (rc)
        sf_fail(err, rc, "%s", e.msg);
    free(argv);
    free(argl);
    return rc;
}

const char *sf_reply_str(const redisReply *r)
{
    if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS))
        return r->str;
    return NULL;
}

long long sf_reply_int(const redisReply *r, long long def)
{
    if (!r)
        return def;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING)
        return strtoll(r->str, NULL, 10);
    return def;
}

int sf_reply_strings(redisReply *reply, char ***out, size_t *n, sf_error *err)
{
    *out = NULL;
    *n = 0;
    size_t cap = reply->type == REDIS_REPLY_ARRAY ? reply->elements : 0;
    char **v = calloc(cap ? cap : 1, sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; v && i < cap; i++) {
        const char *s = sf_reply_str(reply->element[i]);
        if (s && !(v[k++] = strdup(s))) {
            sf_strings_free(v, k);
            v = NULL;
        }
    }
    freeReplyObject(reply);
    if (!v)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    *out = v;
    *n = k;
    return 0;
}

void sf_strings_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}
