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
    sf_metric *connects, *reconnects, *unavailable, *failed;
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

static int parse_addr(const char *addr, char *host, size_t hostlen, int *port, int *is_unix)
{
    if (!strncmp(addr, "unix:", 5)) {
        const char *path = addr + 5;
        while (path[0] == '/' && path[1] == '/')
            path++;
        if (!*path || strlen(path) >= hostlen)
            return SF_EINVAL;
        snprintf(host, hostlen, "%s", path);
        *is_unix = 1;
        return 0;
    }
    if (!strncmp(addr, "tcp://", 6))
        addr += 6;
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || (size_t)(colon - addr) >= hostlen)
        return SF_EINVAL;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p <= 0 || p > 65535)
        return SF_EINVAL;
    snprintf(host, hostlen, "%.*s", (int)(colon - addr), addr);
    *port = (int)p;
    *is_unix = 0;
    return 0;
}

redisContext *sf_redis_connect_raw(const char *addr, int with_timeout, sf_error *err)
{
    char host[256];
    int port = 0, is_unix = 0;
    if (parse_addr(addr, host, sizeof(host), &port, &is_unix)) {
        sf_fail(err, SF_EINVAL, "bad Redis address '%s' (want unix:/path or tcp://host:port)",
                addr);
        return NULL;
    }
    struct timeval tv = {CONNECT_TIMEOUT_MS / 1000, (CONNECT_TIMEOUT_MS % 1000) * 1000};
    redisContext *c =
        is_unix ? redisConnectUnixWithTimeout(host, tv) : redisConnectWithTimeout(host, port, tv);
    if (!c || c->err) {
        sf_fail(err, SF_EUNAVAIL, "Redis at %s is unavailable: %s", addr,
                c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return NULL;
    }
    if (with_timeout) {
        struct timeval ct = {COMMAND_TIMEOUT_MS / 1000, 0};
        redisSetTimeout(c, ct);
    }
    if (authenticate(c, addr, err)) {
        redisFree(c);
        return NULL;
    }
    return c;
}

int sf_redis_open(sf_redis **out, const char *addr, sf_error *err)
{
    char host[256];
    int port, is_unix;
    if (!addr || parse_addr(addr, host, sizeof(host), &port, &is_unix))
        return sf_fail(err, SF_EINVAL,
                       "bad Redis address '%s' (want unix:/path or tcp://host:port)",
                       addr ? addr : "");
    sf_redis *r = calloc(1, sizeof(*r));
    if (!r || !(r->addr = strdup(addr))) {
        free(r);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
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
                           "a connection lost) or error (an error reply that is not an API "
                           "answer of a script)",
                           "kind");
    r->unavailable = sf_metric_get(errors, SF_LABELS("unavailable"));
    r->failed = sf_metric_get(errors, SF_LABELS("error"));
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
