/* The generic endpoint: HTTP request -> protobuf request -> service -> protobuf reply -> HTTP. */
#include "gw.h"

#include "sf_pbjson.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A text value (from the path or the query string) as the JSON type of the request field it
 * fills, so that one converter (sf_pb_from_json) checks everything. NULL for a value that does
 * not fit, with err naming it. */
static cJSON *typed_value(const ProtobufCFieldDescriptor *f, const char *what, const char *name,
                          const char *text, int code, sf_error *err)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        return cJSON_CreateString(text);
    case PROTOBUF_C_TYPE_BOOL:
        /* any case: Python's requests sends params={"include_tz": True} as "True" */
        if (!strcasecmp(text, "true") || !strcmp(text, "1"))
            return cJSON_CreateTrue();
        if (!strcasecmp(text, "false") || !strcmp(text, "0"))
            return cJSON_CreateFalse();
        sf_fail(err, code, "%s %s must be true or false, not '%s'", what, name, text);
        return NULL;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SINT64: {
        char *end;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (!*text || *end || errno || v > (1LL << 53) || v < -(1LL << 53)) {
            sf_fail(err, code, "%s %s must be an integer, not '%s'", what, name, text);
            return NULL;
        }
        return cJSON_CreateNumber((double)v);
    }
    default:
        sf_fail(err, code, "%s %s cannot be given here", what, name);
        return NULL;
    }
}

static int set_field(cJSON *obj, const ProtobufCMessageDescriptor *desc, const char *what,
                     const char *name, const char *value, int code, sf_error *err)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, name);
    if (!f || f->label == PROTOBUF_C_LABEL_REPEATED)
        return 0; /* a parameter the method does not take is ignored, as web APIs do */
    cJSON *v = typed_value(f, what, name, value, code, err);
    if (!v)
        return code;
    cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
    cJSON_AddItemToObject(obj, name, v);
    return 0;
}

static int add_query(cJSON *obj, const ProtobufCMessageDescriptor *desc, const char *query,
                     sf_error *err)
{
    if (!query)
        return 0;
    size_t qlen = strlen(query);
    char *key = malloc(qlen + 1), *val = malloc(qlen + 1);
    int rc = 0;
    if (!key || !val) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    for (const char *p = query; *p && !rc;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        size_t klen = eq ? (size_t)(eq - p) : n;
        if (klen > 0) {
            int kl = mg_url_decode(p, (int)klen, key, (int)qlen + 1, 1);
            int vl = eq ? mg_url_decode(eq + 1, (int)(n - klen - 1), val, (int)qlen + 1, 1) : 0;
            if (kl < 0 || vl < 0)
                rc = sf_fail(err, SF_EINVAL, "malformed query string");
            else if (!eq)
                val[0] = '\0';
            if (!rc && (strlen(key) != (size_t)kl || strlen(val) != (size_t)(eq ? vl : 0)))
                rc = sf_fail(err, SF_EINVAL, "query parameters must not contain NUL");
            if (!rc)
                rc = set_field(obj, desc, "query parameter", key, val, SF_EINVAL, err);
        }
        p = amp ? amp + 1 : p + n;
    }
cleanup:
    free(key);
    free(val);
    return rc;
}

int gw_build_request(gw_request *rq, ProtobufCMessage **out, sf_error *err)
{
    const gw_route *route = rq->route;
    cJSON *obj = NULL;
    int rc = 0;
    *out = NULL;
    if (route->flags & GW_BODY) {
        char *body;
        size_t len;
        if ((rc = gw_read_body(rq, rq->gw->cfg.max_body_bytes, &body, &len, err)))
            return rc;
        size_t i = 0;
        while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
            i++;
        rc = i == len ? 0 : sf_json_parse_object(body, len, &obj, err);
        free(body);
        if (rc)
            return rc;
    }
    if (!obj && !(obj = cJSON_CreateObject()))
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    rc = add_query(obj, route->req, rq->ri->query_string, err);
    for (size_t i = 0; !rc && i < rq->params.n; i++) {
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)rq->params.name_len[i], rq->params.name[i]);
        rc = set_field(obj, route->req, "path parameter", name, rq->params.value[i], SF_ENOTFOUND,
                       err);
    }
    if (!rc)
        rc = sf_pb_from_json(route->req, obj, out, err);
    cJSON_Delete(obj);
    return rc;
}

int gw_call(gw_request *rq, sf_service svc, const char *method, const ProtobufCMessage *req,
            const ProtobufCMessageDescriptor *reply_desc, sf_rpc_result *res, sf_error *err)
{
    sf_rpc_opts o = SF_RPC_OPTS_INIT;
    o.timeout_ms = (int)rq->gw->cfg.rpc_timeout_ms;
    o.user = rq->user[0] ? rq->user : NULL;
    o.base_url = rq->base_url;
    return sf_rpc_call(rq->gw->clients[svc], method, req, reply_desc, &o, res, err);
}

/* The service's extra headers as header lines, with any CR or LF dropped. */
static void header_lines(const sf_rpc_result *res, const char *more, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < res->n_headers && o < len; i++) {
        int n =
            snprintf(out + o, len - o, "%s: %s\r\n", res->headers[i]->name, res->headers[i]->value);
        if (n < 0 || (size_t)n >= len - o)
            break;
        for (int k = 0; k < n - 2; k++) {
            if (out[o + (size_t)k] == '\r' || out[o + (size_t)k] == '\n')
                out[o + (size_t)k] = ' ';
        }
        o += (size_t)n;
    }
    if (more && o < len)
        snprintf(out + o, len - o, "%s", more);
}

/* The single range a Range header asks of a file of size bytes (RFC 9110 14.1.2): 1 with
 * [*from, *to] for a satisfiable one, 0 to answer the whole file (no header, several ranges,
 * or a header we may ignore), -1 when nothing of the file is asked for (416). */
static int parse_range(const char *h, int64_t size, int64_t *from, int64_t *to)
{
    if (!h || strncasecmp(h, "bytes=", 6) || strchr(h, ','))
        return 0;
    const char *p = h + 6;
    while (*p == ' ')
        p++;
    char *end;
    errno = 0;
    if (*p == '-') { /* the last n bytes */
        long long n = strtoll(p + 1, &end, 10);
        if (end == p + 1 || *end || errno || n < 0)
            return 0;
        if (n == 0 || size == 0)
            return -1;
        *from = n >= size ? 0 : size - n;
        *to = size - 1;
        return 1;
    }
    if (*p < '0' || *p > '9')
        return 0;
    long long a = strtoll(p, &end, 10), b = -1;
    if (errno || *end != '-')
        return 0;
    p = end + 1;
    if (*p) {
        if (*p < '0' || *p > '9')
            return 0;
        b = strtoll(p, &end, 10);
        if (errno || *end || b < a)
            return 0;
    }
    if (a >= size)
        return -1;
    *from = a;
    *to = b < 0 || b >= size ? size - 1 : b;
    return 1;
}

/* Whether the client's copy is this version of the file (RFC 9110 13.1.2, 13.1.3). */
static int not_modified(gw_request *rq, const char *etag, time_t mtime)
{
    const char *inm = mg_get_header(rq->conn, "If-None-Match");
    if (inm) {
        while (*inm == ' ')
            inm++;
        return !strcmp(inm, "*") || strstr(inm, etag) != NULL;
    }
    const char *ims = mg_get_header(rq->conn, "If-Modified-Since");
    time_t since;
    return ims && !gw_http_date_parse(ims, &since) && mtime <= since;
}

/* Send [from, to] of a file: 200 with the whole file (sendfile) or 206 with a part. Headers
 * go in one write (civetweb's own file answers send each header line as a packet). */
static int send_file(gw_request *rq, const char *path, const struct stat *st,
                     const sf_rpc_result *res, const char *validators, int status, int64_t from,
                     int64_t to)
{
    char headers[2048], more[512], range[96] = "";
    if (status == 206)
        snprintf(range, sizeof(range), "Content-Range: bytes %lld-%lld/%lld\r\n", (long long)from,
                 (long long)to, (long long)st->st_size);
    snprintf(more, sizeof(more),
             "X-Content-Type-Options: nosniff\r\nAccept-Ranges: bytes\r\n"
             "Cache-Control: max-age=3600\r\n%s%s",
             validators, range);
    header_lines(res, more, headers, sizeof(headers));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gw_reply_error(rq, 404, "file not found");
    gw_reply_head(rq, status, res->content_type, to - from + 1, headers);
    if (rq->head) {
        close(fd);
        return status;
    }
    if (status == 200) {
        close(fd);
        if (mg_send_file_body(rq->conn, path) >= 0)
            rq->bytes = (int64_t)st->st_size;
        return status;
    }
    enum { BLOCK = 256 << 10 };
    char *buf = malloc(BLOCK);
    for (int64_t at = from; buf && at <= to;) {
        size_t want = to - at + 1 < BLOCK ? (size_t)(to - at + 1) : BLOCK;
        ssize_t n = pread(fd, buf, want, (off_t)at);
        if (n <= 0 || mg_write(rq->conn, buf, (size_t)n) != n)
            break; /* the file shrank or the client left: the short body tells it */
        at += n;
        rq->bytes += n;
    }
    free(buf);
    close(fd);
    return status;
}

/* Serve a file the service resolved in the artifact store. The service has checked the name;
 * the path must still resolve inside the store, so a bug there cannot serve /etc/passwd.
 * Validators are civetweb's (ETag "<mtime hex>.<size>", Last-Modified); ranges, If-Range and
 * conditional requests are answered here (civetweb 1.15 gets the end of a range wrong). */
static int reply_file(gw_request *rq, const sf_rpc_result *res, int *missing)
{
    const char *root = rq->gw->cfg.artifact_root;
    char real_root[PATH_MAX], real[PATH_MAX];
    struct stat st;
    if (!root || !realpath(root, real_root) || !realpath(res->file_path, real) ||
        strncmp(real, real_root, strlen(real_root)) || real[strlen(real_root)] != '/' ||
        stat(real, &st) || !S_ISREG(st.st_mode)) {
        if (missing) {
            *missing = 1;
            return 0;
        }
        return gw_reply_error(rq, 404, "file not found");
    }
    char etag[64], modified[64], validators[192];
    snprintf(etag, sizeof(etag), "\"%lx.%lld\"", (unsigned long)st.st_mtime, (long long)st.st_size);
    gw_http_date(st.st_mtime, modified, sizeof(modified));
    snprintf(validators, sizeof(validators), "ETag: %s\r\nLast-Modified: %s\r\n", etag, modified);
    if (not_modified(rq, etag, st.st_mtime))
        return gw_reply_raw(rq, 304, NULL, NULL, 0, validators);
    const char *if_range = mg_get_header(rq->conn, "If-Range");
    int64_t from = 0, to = (int64_t)st.st_size - 1;
    int range = parse_range(mg_get_header(rq->conn, "Range"), (int64_t)st.st_size, &from, &to);
    if (if_range && strcmp(if_range, etag) && strcmp(if_range, modified))
        range = 0; /* the client's copy is of another version: send all of this one */
    if (range < 0) {
        char hdr[64];
        snprintf(hdr, sizeof(hdr), "Content-Range: bytes */%lld\r\n", (long long)st.st_size);
        return gw_reply_error_headers(rq, 416, hdr, "the range is outside the file's %lld bytes",
                                      (long long)st.st_size);
    }
    if (range == 0) {
        from = 0;
        to = (int64_t)st.st_size - 1;
    }
    /* each download holds a worker for as long as the client reads: one token holds a few */
    const char *who = rq->token_id[0] ? rq->token_id : rq->client;
    long max = rq->gw->cfg.max_downloads_per_token;
    if (gw_tally_add(rq->gw->downloads, who, 1) > max) {
        gw_tally_add(rq->gw->downloads, who, -1);
        gw_metrics_limited(rq->gw, "downloads");
        return gw_reply_error_headers(rq, 429, "Retry-After: 1\r\n",
                                      "too many downloads at once: at most %ld per token", max);
    }
    int status = send_file(rq, real, &st, res, validators, range > 0 ? 206 : 200, from, to);
    gw_tally_add(rq->gw->downloads, who, -1);
    return status;
}

/* A reply message as the JSON the route answers. */
static cJSON *reply_json(const gw_request *rq, const ProtobufCMessage *msg)
{
    cJSON *json = sf_pb_to_json(msg);
    if (json && (rq->route->flags & GW_UNWRAP) && json->child) {
        cJSON *only = cJSON_DetachItemViaPointer(json, json->child);
        cJSON_Delete(json);
        json = only;
    }
    return json;
}

int gw_reply_result(gw_request *rq, const sf_rpc_result *res)
{
    return gw_reply_result_file(rq, res, NULL);
}

int gw_reply_result_file(gw_request *rq, const sf_rpc_result *res, int *missing)
{
    if (res->file_path)
        return reply_file(rq, res, missing);
    if (res->content_type) {
        char headers[2048];
        header_lines(res, NULL, headers, sizeof(headers));
        return gw_reply_raw(rq, res->status, res->content_type, res->body, res->body_len,
                            headers[0] ? headers : NULL);
    }
    if (res->status == 204 || !res->msg)
        return gw_reply_raw(rq, res->status, NULL, NULL, 0, NULL);
    return gw_reply_json(rq, res->status, reply_json(rq, res->msg));
}

char *gw_render_json(const gw_request *rq, const ProtobufCMessage *msg)
{
    cJSON *json = reply_json(rq, msg);
    char *text = json ? cJSON_PrintUnformatted(json) : NULL;
    cJSON_Delete(json);
    return text;
}

/* ---- shared calls (gw_share.h) as RPCs ---- */

typedef struct answer {
    int rc;
    sf_error err;
    sf_rpc_result res;
    char *json; /* a JSON answer, rendered once for every request sharing it */
} answer;

typedef struct share_call {
    gw_request *rq;
    const ProtobufCMessage *req;
} share_call;

static void *rpc_call(void *arg)
{
    share_call *c = arg;
    answer *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->err = (sf_error)SF_ERROR_INIT;
    a->rc = gw_call(c->rq, (sf_service)c->rq->route->svc, c->rq->route->rpc, c->req,
                    c->rq->route->reply, &a->res, &a->err);
    if (!a->rc && a->res.msg && !a->res.file_path && !a->res.content_type && a->res.status != 204)
        a->json = gw_render_json(c->rq, a->res.msg);
    return a;
}

static void free_answer(void *p)
{
    answer *a = p;
    sf_rpc_result_free(&a->res);
    free(a->json);
    free(a);
}

/* A stored result's file never changes: where it is may be kept. */
static int keepable(const void *p)
{
    const answer *a = p;
    return !a->rc && a->res.file_path;
}

const gw_share_ops gw_rpc_share_ops = {rpc_call, free_answer, keepable};

static void results_deleted(void *arg, const char *payload, size_t len)
{
    (void)payload;
    (void)len;
    gw_share_invalidate(arg);
}

static void share_state(void *arg, int live)
{
    gw_share_set_live(arg, live);
}

sf_events_listener gw_share_listener(gw_share *s)
{
    sf_events_listener l = {SF_RESULTS_DELETED_CHANNEL, results_deleted, share_state, s};
    return l;
}

static int reply_answer(gw_request *rq, const gw_flight *f, int *missing)
{
    const answer *a = f ? gw_flight_answer(f) : NULL;
    if (!a)
        return gw_reply_error(rq, 503, "out of memory");
    if (a->rc)
        return gw_reply_sf_error(rq, a->rc, &a->err);
    if (a->json)
        return gw_reply_raw(rq, a->res.status, "application/json", a->json, strlen(a->json), NULL);
    return gw_reply_result_file(rq, &a->res, missing);
}

/* Answer a GW_SHARED route's request through the gateway's share; -1 when its key is too long
 * to share (the caller calls alone). The key: route, raw path, query string, user, base URL. */
static int shared_proxy(gw_request *rq, const ProtobufCMessage *req)
{
    const struct mg_request_info *ri = rq->ri;
    char key[GW_PATH_MAX + 1024];
    int n = snprintf(key, sizeof(key), "%d %s?%s %s %s", (int)(rq->route - gw_routes),
                     ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri,
                     ri->query_string ? ri->query_string : "", rq->user, rq->base_url);
    if (n < 0 || (size_t)n >= sizeof(key))
        return -1;
    share_call c = {rq, req};
    int keep = (rq->route->flags & GW_IMMUTABLE) != 0, missing = 0;
    gw_flight *f = gw_share_call(rq->gw->share, key, keep, &c, NULL);
    int status = reply_answer(rq, f, &missing);
    if (missing) { /* a kept answer whose file has gone (retention): ask again */
        gw_flight *again = gw_share_call(rq->gw->share, key, keep, &c, f);
        status = reply_answer(rq, again, NULL);
        gw_flight_unref(again);
    }
    gw_flight_unref(f);
    return status;
}

int gw_proxy(gw_request *rq)
{
    sf_error err = SF_ERROR_INIT;
    ProtobufCMessage *req = NULL;
    int rc = gw_build_request(rq, &req, &err);
    if (rc)
        return gw_reply_sf_error(rq, rc, &err);
    if ((rq->route->flags & GW_SHARED) && (rc = shared_proxy(rq, req)) >= 0) {
        protobuf_c_message_free_unpacked(req, NULL);
        return rc;
    }
    sf_rpc_result res;
    rc = gw_call(rq, (sf_service)rq->route->svc, rq->route->rpc, req, rq->route->reply, &res, &err);
    protobuf_c_message_free_unpacked(req, NULL);
    int status = rc ? gw_reply_sf_error(rq, rc, &err) : gw_reply_result(rq, &res);
    sf_rpc_result_free(&res);
    return status;
}
