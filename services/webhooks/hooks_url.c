#include "hooks_url.h"

#include "hooks_store.h"
#include "sf_broker.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Add every address host resolves to, at ports [port, port + n). */
static void add_own(hooks_policy *p, const char *host, int port, int n)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res))
        return;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        for (int i = 0; i < n && p->n_own < HOOKS_OWN_MAX; i++) {
            struct sockaddr_storage *s = &p->own[p->n_own++];
            memcpy(s, a->ai_addr, a->ai_addrlen);
            if (s->ss_family == AF_INET)
                ((struct sockaddr_in *)s)->sin_port = htons((uint16_t)(port + i));
            else if (s->ss_family == AF_INET6)
                ((struct sockaddr_in6 *)s)->sin6_port = htons((uint16_t)(port + i));
            else
                p->n_own--;
        }
    }
    freeaddrinfo(res);
}

/* "tcp://host:port" or "host:port" (not unix:, ipc:): host and port, else -1. */
static int host_port(const char *addr, char *host, size_t len, int *port)
{
    if (!strncmp(addr, "tcp://", 6))
        addr += 6;
    else if (strstr(addr, "://") || !strncmp(addr, "unix:", 5))
        return -1;
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= len)
        return -1;
    size_t hl = (size_t)(colon - addr);
    if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') /* [v6]:port */
        addr++, hl -= 2;
    memcpy(host, addr, hl);
    host[hl] = '\0';
    *port = atoi(colon + 1);
    return *port > 0 && *port < 65536 ? 0 : -1;
}

static int add_broker(const char *base, void *arg)
{
    char host[256];
    int port;
    if (!host_port(base, host, sizeof(host), &port))
        add_own(arg, host, port, 2 * SF_SVC_COUNT); /* a front and a back per service */
    return 0;
}

void hooks_policy_init(hooks_policy *p, int allow_loopback, const char *redis, const char *brokers)
{
    memset(p, 0, sizeof(*p));
    p->allow_loopback = allow_loopback;
    char host[256];
    int port;
    if (redis && !host_port(redis, host, sizeof(host), &port))
        add_own(p, host, port, 1);
    if (brokers)
        sf_broker_each(brokers, add_broker, p);
}

static int same_endpoint(const struct sockaddr *a, const struct sockaddr_storage *b)
{
    if (a->sa_family != b->ss_family)
        return 0;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
}

int hooks_addr_allowed(const hooks_policy *p, const struct sockaddr *sa, sf_error *err)
{
    char text[INET6_ADDRSTRLEN] = "?";
    uint32_t v4 = 0;
    int is_v4 = 0, loopback = 0, refused = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
        v4 = ntohl(in->sin_addr.s_addr);
        is_v4 = 1;
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        const struct in6_addr *a = &in6->sin6_addr;
        inet_ntop(AF_INET6, a, text, sizeof(text));
        if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a)) {
            v4 = ((uint32_t)a->s6_addr[12] << 24) | ((uint32_t)a->s6_addr[13] << 16) |
                 ((uint32_t)a->s6_addr[14] << 8) | a->s6_addr[15];
            is_v4 = 1;
        } else {
            loopback = IN6_IS_ADDR_LOOPBACK(a);
            refused =
                IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_MULTICAST(a);
        }
    } else {
        return sf_fail(err, SF_EINVAL, "webhooks reach IPv4 and IPv6 addresses only");
    }
    if (is_v4) {
        loopback = (v4 >> 24) == 127;
        refused = (v4 >> 24) == 0 || (v4 >> 16) == 0xa9fe /* 169.254/16 */ ||
                  (v4 >> 28) == 0xe /* multicast */ || v4 == 0xffffffffu;
    }
    if (refused || (loopback && !p->allow_loopback))
        return sf_fail(err, SF_EINVAL, "webhook URLs may not point at %s (%s)%s", text,
                       loopback ? "loopback" : "link-local, unspecified or multicast",
                       loopback ? ": the operator may allow loopback (--webhook-allow-loopback)"
                                : "");
    for (size_t i = 0; i < p->n_own; i++) {
        if (same_endpoint(sa, &p->own[i]))
            return sf_fail(err, SF_EINVAL,
                           "webhook URLs may not point at the farm's own services (%s)", text);
    }
    return 0;
}

int hooks_url_check(const hooks_policy *p, const char *url, sf_error *err)
{
    if (strlen(url) > HOOKS_URL_MAX)
        return sf_fail(err, SF_EINVAL, "url: at most %d bytes", HOOKS_URL_MAX);
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *password = NULL;
    int rc = 0;
    if (!u)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    if (curl_url_set(u, CURLUPART_URL, url, 0) || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT)) {
        rc = sf_fail(err, SF_EINVAL, "url: not an absolute http or https URL");
    } else if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")) {
        rc = sf_fail(err, SF_EINVAL, "url: http or https only");
    } else if (!curl_url_get(u, CURLUPART_USER, &user, 0) ||
               !curl_url_get(u, CURLUPART_PASSWORD, &password, 0)) {
        rc = sf_fail(err, SF_EINVAL,
                     "url: no user or password in it (a secret in a URL is logged everywhere)");
    } else {
        char h[256];
        size_t hl = strlen(host);
        if (hl >= 2 && host[0] == '[') /* an IPv6 literal comes bracketed */
            snprintf(h, sizeof(h), "%.*s", (int)(hl - 2), host + 1);
        else
            snprintf(h, sizeof(h), "%s", host);
        struct addrinfo hints = {0}, *res = NULL;
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(h, port, &hints, &res)) {
            rc = sf_fail(err, SF_EINVAL, "url: its host %s does not resolve", h);
        } else {
            for (struct addrinfo *a = res; a && !rc; a = a->ai_next)
                rc = hooks_addr_allowed(p, a->ai_addr, err);
            freeaddrinfo(res);
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_free(password);
    curl_url_cleanup(u);
    return rc;
}
