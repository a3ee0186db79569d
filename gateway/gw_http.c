/* Writing responses and reading request bodies. Every response goes through gw_send, which
 * records the status and size for the access log. */
#include "gw.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define HTTP_DATE "%a, %d %b %Y %H:%M:%S GMT" /* RFC 9110 5.6.7 IMF-fixdate */

void gw_http_date(time_t t, char *out, size_t len)
{
    struct tm tm;
    strftime(out, len, HTTP_DATE, gmtime_r(&t, &tm));
}

int gw_http_date_parse(const char *text, time_t *out)
{
    struct tm tm = {0};
    const char *end = strptime(text, HTTP_DATE, &tm);
    if (!end || *end)
        return SF_EINVAL;
    *out = timegm(&tm);
    return 0;
}

/* civetweb's header functions send each header line in a write of its own, and with
 * tcp_nodelay each write is a packet. A response is therefore built here, status line, headers
 * and (when small) body, and written at once. */
static int keep_alive(const gw_request *rq)
{
    if (!rq->ri || rq->close)
        return 0; /* an error civetweb found in the request itself, or a connection to close */
    const char *c = mg_get_header(rq->conn, "Connection");
    if (c)
        return strcasestr(c, "keep-alive") != NULL;
    return rq->ri->http_version && !strcmp(rq->ri->http_version, "1.1");
}

/* The status line and headers of a response, into buf: its length, or -1 when they do not fit.
 * content_length < 0: none (204, 304). */
static int build_head(const gw_request *rq, int status, const char *content_type,
                      int64_t content_length, const char *extra_headers, char *buf, size_t size)
{
    char date[64];
    gw_http_date(time(NULL), date, sizeof(date));
    char type[320] = "", length[64] = "";
    if (content_type &&
        (size_t)snprintf(type, sizeof(type), "Content-Type: %s\r\n", content_type) >= sizeof(type))
        return -1;
    if (content_length >= 0)
        snprintf(length, sizeof(length), "Content-Length: %lld\r\n", (long long)content_length);
    int n =
        snprintf(buf, size, "HTTP/1.1 %d %s\r\n%s%s%sDate: %s\r\nConnection: %s\r\n\r\n", status,
                 sf_http_reason(status), type, length, extra_headers ? extra_headers : "", date,
                 keep_alive(rq) ? "keep-alive" : "close");
    return n < 0 || (size_t)n >= size ? -1 : n;
}

/* civetweb's way, for headers too long for build_head's buffer. */
static void send_head_civetweb(gw_request *rq, int status, const char *content_type,
                               int64_t content_length, const char *extra_headers)
{
    char clen[32];
    mg_response_header_start(rq->conn, status);
    if (content_type)
        mg_response_header_add(rq->conn, "Content-Type", content_type, -1);
    if (content_length >= 0) {
        snprintf(clen, sizeof(clen), "%lld", (long long)content_length);
        mg_response_header_add(rq->conn, "Content-Length", clen, -1);
    }
    if (extra_headers)
        mg_response_header_add_lines(rq->conn, extra_headers);
    mg_response_header_send(rq->conn);
}

static int gw_send(gw_request *rq, int status, const char *content_type, const void *data,
                   size_t len, const char *extra_headers)
{
    char buf[16384];
    int no_body = status == 204 || status == 304;
    int n = build_head(rq, status, content_type, no_body ? -1 : (int64_t)len, extra_headers, buf,
                       sizeof(buf));
    int body = !rq->head && len && !no_body;
    if (n < 0) {
        send_head_civetweb(rq, status, content_type, no_body ? -1 : (int64_t)len, extra_headers);
    } else {
        if (body && len <= sizeof(buf) - (size_t)n) { /* headers and body in one write */
            memcpy(buf + n, data, len);
            n += (int)len;
            body = 0;
        }
        mg_write(rq->conn, buf, (size_t)n);
    }
    if (body)
        mg_write(rq->conn, data, len);
    rq->status = status;
    rq->bytes = (int64_t)len;
    return status;
}

int gw_reply_head(gw_request *rq, int status, const char *content_type, int64_t content_length,
                  const char *extra_headers)
{
    char buf[8192];
    int n = build_head(rq, status, content_type, content_length, extra_headers, buf, sizeof(buf));
    if (n < 0)
        send_head_civetweb(rq, status, content_type, content_length, extra_headers);
    else
        mg_write(rq->conn, buf, (size_t)n);
    rq->status = status;
    return status;
}

int gw_reply_raw(gw_request *rq, int status, const char *content_type, const void *data, size_t len,
                 const char *extra_headers)
{
    return gw_send(rq, status, content_type, data, len, extra_headers);
}

int gw_reply_json(gw_request *rq, int status, cJSON *body)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    if (!text)
        return gw_send(rq, 500, "application/json", "{\"error\":\"out of memory\"}", 25, NULL);
    int rc = gw_send(rq, status, "application/json", text, strlen(text), NULL);
    free(text);
    return rc;
}

static int reply_error_text(gw_request *rq, int status, const char *msg, const char *extra)
{
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    if (o && cJSON_AddStringToObject(o, "error", msg))
        text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    int rc;
    if (text)
        rc = gw_send(rq, status, "application/json", text, strlen(text), extra);
    else
        rc = gw_send(rq, 500, "application/json", "{\"error\":\"out of memory\"}", 25, NULL);
    free(text);
    return rc;
}

int gw_reply_error(gw_request *rq, int status, const char *fmt, ...)
{
    char msg[SF_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return reply_error_text(rq, status, msg, NULL);
}

int gw_reply_error_headers(gw_request *rq, int status, const char *headers, const char *fmt, ...)
{
    char msg[SF_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return reply_error_text(rq, status, msg, headers);
}

int gw_reply_sf_error(gw_request *rq, int code, const sf_error *err)
{
    int status = sf_http_status(code);
    const char *msg = err && err->msg[0] ? err->msg : sf_http_reason(status);
    return reply_error_text(rq, status, msg, NULL);
}

int gw_read_body(gw_request *rq, long max, char **out, size_t *len, sf_error *err)
{
    long long declared = rq->ri->content_length;
    *out = NULL;
    *len = 0;
    if (declared > max)
        return sf_fail(err, SF_ETOOLARGE, "the request body is larger than %ld bytes", max);
    size_t cap = declared >= 0 ? (size_t)declared : 4096, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    for (;;) {
        if (n == cap) {
            if (declared >= 0)
                break;
            if (cap >= (size_t)max) {
                free(buf);
                return sf_fail(err, SF_ETOOLARGE, "the request body is larger than %ld bytes", max);
            }
            cap = cap * 2 > (size_t)max ? (size_t)max : cap * 2;
            char *bigger = realloc(buf, cap + 1);
            if (!bigger) {
                free(buf);
                return sf_fail(err, SF_EINTERNAL, "out of memory");
            }
            buf = bigger;
        }
        int r = mg_read(rq->conn, buf + n, cap - n);
        if (r < 0) {
            free(buf);
            return sf_fail(err, SF_EINVAL, "the request body could not be read");
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (declared >= 0 && n != (size_t)declared) {
        free(buf);
        return sf_fail(err, SF_EINVAL, "the request body ended after %zu of %lld bytes", n,
                       declared);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* The port and address text of a socket address; 0, or -1 for another family. */
static int addr_text(const struct sockaddr_storage *sa, char *out, size_t len, int *port)
{
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        *port = ntohs(in->sin_port);
        return inet_ntop(AF_INET, &in->sin_addr, out, (socklen_t)len) ? 0 : -1;
    }
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        *port = ntohs(in6->sin6_port);
        return inet_ntop(AF_INET6, &in6->sin6_addr, out, (socklen_t)len) ? 0 : -1;
    }
    return -1;
}

int gw_conn_socket(const gw_request *rq)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int found = -1;
    for (struct dirent *e; found < 0 && (e = readdir(d));) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || fd < 0 || fd == dirfd(d))
            continue;
        struct sockaddr_storage local, peer;
        socklen_t ll = sizeof(local), pl = sizeof(peer);
        char text[GW_ADDR_MAX];
        int lport, pport;
        if (getsockname((int)fd, (struct sockaddr *)&local, &ll) ||
            getpeername((int)fd, (struct sockaddr *)&peer, &pl) ||
            addr_text(&peer, text, sizeof(text), &pport) ||
            addr_text(&local, (char[GW_ADDR_MAX]){0}, GW_ADDR_MAX, &lport))
            continue;
        if (pport == rq->ri->remote_port && lport == rq->ri->server_port &&
            !strcmp(text, rq->ri->remote_addr))
            found = (int)fd;
    }
    closedir(d);
    return found;
}
