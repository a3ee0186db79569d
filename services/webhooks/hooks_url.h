/* hooks_url.h - where webhooks may point. A webhook's URL is http or https with a host and no
 * user or password; neither that host's addresses nor (at delivery) the address actually
 * connected to may be loopback, link-local, unspecified, multicast or broadcast (loopback only
 * with allow_loopback, for tests and single-host setups), nor one of the farm's own services
 * (Redis, the brokers) at its port. The check is made when a webhook is made and again at each
 * connection, so a name that later resolves elsewhere (DNS rebinding) gains nothing. */
#ifndef HOOKS_URL_H
#define HOOKS_URL_H

#include "sf_err.h"

#include <stddef.h>
#include <sys/socket.h>

#define HOOKS_OWN_MAX 64

typedef struct hooks_policy {
    int allow_loopback;
    struct sockaddr_storage own[HOOKS_OWN_MAX]; /* address and port of each service endpoint */
    size_t n_own;
} hooks_policy;

/* The policy for a farm whose Redis is at redis and brokers at brokers (sf_config's forms);
 * unix and ipc addresses add nothing. Names that do not resolve are left out. */
void hooks_policy_init(hooks_policy *p, int allow_loopback, const char *redis, const char *brokers);

/* 0 when a connection to sa may be made; SF_EINVAL saying why not. */
int hooks_addr_allowed(const hooks_policy *p, const struct sockaddr *sa, sf_error *err);

/* 0 when url is a URL a webhook may have and every address its host resolves to is allowed;
 * SF_EINVAL saying what is wrong (the URL, or an address it resolves to). */
int hooks_url_check(const hooks_policy *p, const char *url, sf_error *err);

#endif
