#include "sf_metrics_http.h"

#include "sf_log.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

enum {
    HEAD_MAX = 8192,  /* a scrape's request head is a few hundred bytes */
    IO_TIMEOUT_S = 3, /* a client slower than this is dropped */
};

struct sf_metrics_server {
    sf_metrics *metrics;
    int fd;
    int wake[2]; /* written to by sf_metrics_server_stop */
    pthread_t thread;
};

int sf_metrics_listen_parse(const char *text, char *host, size_t hostlen, int *port, sf_error *err)
{
    const char *p = text ? text : "", *colon = NULL;
    size_t hlen = 0;
    const char *h = "127.0.0.1";
    if (p[0] == '[') {
        const char *close = strchr(p, ']');
        if (!close || close[1] != ':')
            return sf_fail(err, SF_EINVAL, "--metrics-listen: '%s': want [ADDRESS]:PORT", p);
        h = p + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else if ((colon = strrchr(p, ':'))) {
        h = p;
        hlen = (size_t)(colon - p);
    } else {
        hlen = strlen(h);
    }
    if (!colon)
        colon = p - 1; /* just the port */
    else if (!hlen) {
        h = "127.0.0.1";
        hlen = strlen(h);
    }
    char *end;
    errno = 0;
    long v = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || v < 1 || v > 65535)
        return sf_fail(err, SF_EINVAL, "--metrics-listen: '%s': want PORT or HOST:PORT (1-65535)",
                       p);
    if (hlen >= hostlen)
        return sf_fail(err, SF_EINVAL, "--metrics-listen: host name too long");
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (int)v;
    return 0;
}

int sf_metrics_http_status(const char *buf, size_t len, int *head)
{
    *head = 0;
    const char *end = memchr(buf, '\n', len);
    if (!end)
        return 400;
    size_t line = (size_t)(end - buf);
    if (line && buf[line - 1] == '\r')
        line--;
    const char *sp = memchr(buf, ' ', line);
    if (!sp || sp == buf)
        return 400;
    size_t mlen = (size_t)(sp - buf);
    const char *target = sp + 1;
    const char *sp2 = memchr(target, ' ', line - mlen - 1);
    if (!sp2 || sp2 == target)
        return 400;
    size_t rest = line - (size_t)(sp2 + 1 - buf);
    if (rest < 5 || memcmp(sp2 + 1, "HTTP/", 5))
        return 400;
    size_t tlen = (size_t)(sp2 - target);
    const char *q = memchr(target, '?', tlen);
    if (q)
        tlen = (size_t)(q - target);
    int is_get = mlen == 3 && !memcmp(buf, "GET", 3);
    *head = mlen == 4 && !memcmp(buf, "HEAD", 4);
    if (tlen != 8 || memcmp(target, "/metrics", 8))
        return 404;
    return is_get || *head ? 200 : 405;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* the client went away or was too slow: nothing more to do for it */
        p += w;
        n -= (size_t)w;
    }
}

static void answer(sf_metrics_server *s, int fd)
{
    char buf[HEAD_MAX];
    size_t len = 0;
    while (len < sizeof(buf)) {
        ssize_t r = recv(fd, buf + len, sizeof(buf) - len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return;
        len += (size_t)r;
        if (len >= 4 && memmem(buf, len, "\r\n\r\n", 4))
            break;
        if (len >= 2 && memmem(buf, len, "\n\n", 2))
            break;
    }
    int head = 0, status = sf_metrics_http_status(buf, len, &head);
    sf_buf body = SF_BUF_INIT;
    const char *type = "text/plain; charset=utf-8";
    if (status == 200) {
        sf_metrics_render(s->metrics, &body);
        type = SF_METRICS_CONTENT_TYPE;
        if (body.oom) {
            status = 503;
            sf_buf_reset(&body);
        }
    }
    if (status != 200)
        sf_buf_printf(&body, "%s\n",
                      status == 404   ? "not found: only /metrics is served here"
                      : status == 405 ? "method not allowed: GET or HEAD /metrics"
                      : status == 503 ? "out of memory"
                                      : "bad request");
    char hdr[256];
    int n = snprintf(hdr, sizeof(hdr),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Connection: close\r\n\r\n",
                     status, sf_http_reason(status), type, body.len,
                     status == 405 ? "Allow: GET, HEAD\r\n" : "");
    send_all(fd, hdr, (size_t)n);
    if (!head && body.len)
        send_all(fd, body.data, body.len);
    sf_buf_free(&body);
}

static void *serve(void *arg)
{
    sf_metrics_server *s = arg;
    for (;;) {
        struct pollfd p[2] = {{s->fd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            sf_error("metrics: poll: %s", strerror(errno));
            return NULL;
        }
        if (p[1].revents)
            return NULL;
        int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC); /* test runs fork: not theirs */
        if (c < 0)
            continue; /* the client gave up before we took it, or descriptors ran out */
        struct timeval tv = {IO_TIMEOUT_S, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        answer(s, c);
        close(c);
    }
}

static int listen_on(const char *host, int port, sf_error *err)
{
    char service[8];
    snprintf(service, sizeof(service), "%d", port);
    struct addrinfo hints = {0}, *ai;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int gai = getaddrinfo(host, service, &hints, &ai);
    if (gai)
        return sf_fail(err, SF_EINVAL, "--metrics-listen: %s: %s", host, gai_strerror(gai));
    int fd = -1, saved = 0;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, a->ai_addr, a->ai_addrlen) || listen(fd, 16)) {
            saved = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0)
        return sf_fail(err, SF_EUNAVAIL, "cannot serve metrics on %s:%d: %s", host, port,
                       strerror(saved ? saved : EADDRNOTAVAIL));
    return fd;
}

int sf_metrics_serve(sf_metrics_server **out, sf_metrics *m, const char *addr, sf_error *err)
{
    char host[256];
    int port, rc;
    if ((rc = sf_metrics_listen_parse(addr, host, sizeof(host), &port, err)))
        return rc;
    sf_metrics_server *s = calloc(1, sizeof(*s));
    if (!s)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    s->metrics = m;
    s->wake[0] = s->wake[1] = -1;
    if ((s->fd = listen_on(host, port, err)) < 0) {
        rc = s->fd;
        goto fail;
    }
    if (pipe2(s->wake, O_CLOEXEC) || pthread_create(&s->thread, NULL, serve, s)) {
        rc = sf_fail(err, SF_EINTERNAL, "metrics: cannot start its thread");
        goto fail;
    }
    sf_info("metrics at http://%s%s%s:%d/metrics", strchr(host, ':') ? "[" : "", host,
            strchr(host, ':') ? "]" : "", port);
    *out = s;
    return 0;
fail:
    if (s->fd >= 0)
        close(s->fd);
    if (s->wake[0] >= 0) {
        close(s->wake[0]);
        close(s->wake[1]);
    }
    free(s);
    return rc;
}

void sf_metrics_server_stop(sf_metrics_server *s)
{
    if (!s)
        return;
    ssize_t w;
    do
        w = write(s->wake[1], "x", 1);
    while (w < 0 && errno == EINTR);
    pthread_join(s->thread, NULL);
    close(s->fd);
    close(s->wake[0]);
    close(s->wake[1]);
    free(s);
}
