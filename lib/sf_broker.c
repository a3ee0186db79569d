#include "sf_broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const service_names[SF_SVC_COUNT] = {"nodes", "jobs", "results", "reservations"};

const char *sf_service_name(sf_service svc)
{
    return (unsigned)svc < SF_SVC_COUNT ? service_names[svc] : "unknown";
}

int sf_service_parse(const char *name, sf_service *out)
{
    for (int i = 0; i < SF_SVC_COUNT; i++) {
        if (!strcmp(name, service_names[i])) {
            *out = (sf_service)i;
            return 0;
        }
    }
    return SF_EINVAL;
}

int sf_broker_url(const char *base, sf_service svc, sf_broker_side side, char *out, size_t len,
                  sf_error *err)
{
    const char *sname = side == SF_BROKER_FRONT ? "front" : "back";
    if ((unsigned)svc >= SF_SVC_COUNT)
        return sf_fail(err, SF_EINVAL, "unknown service %d", (int)svc);
    if (!strncmp(base, "ipc://", 6)) {
        int n = snprintf(out, len, "%s-%s-%s.sock", base, service_names[svc], sname);
        if (n < 0 || (size_t)n >= len)
            return sf_fail(err, SF_EINVAL, "broker address '%s' is too long", base);
        return 0;
    }
    size_t scheme = !strncmp(base, "tcp://", 6) ? 6 : !strncmp(base, "tls+tcp://", 10) ? 10 : 0;
    if (scheme) {
        const char *colon = strrchr(base + scheme, ':');
        char *end;
        long port = colon ? strtol(colon + 1, &end, 10) : 0;
        if (!colon || *end || port <= 0 || port + 2 * SF_SVC_COUNT > 65535)
            return sf_fail(err, SF_EINVAL, "broker address '%s' has no usable port", base);
        int n = snprintf(out, len, "%.*s:%ld", (int)(colon - base), base,
                         port + 2 * (long)svc + (side == SF_BROKER_BACK));
        if (n < 0 || (size_t)n >= len)
            return sf_fail(err, SF_EINVAL, "broker address '%s' is too long", base);
        return 0;
    }
    return sf_fail(err, SF_EINVAL,
                   "broker address '%s' is neither tcp://host:port, tls+tcp://host:port nor "
                   "ipc:///path",
                   base);
}

int sf_broker_each(const char *list, int (*fn)(const char *base, void *arg), void *arg)
{
    char one[512];
    const char *p = list;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n > 0 && n < sizeof(one)) {
            memcpy(one, p, n);
            one[n] = '\0';
            int rc = fn(one, arg);
            if (rc)
                return rc;
        } else if (n >= sizeof(one)) {
            return SF_EINVAL;
        }
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}
