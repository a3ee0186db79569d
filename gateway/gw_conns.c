#include "gw_conns.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N_BUCKETS = 4096, MAX_TRUSTED = 32 };

typedef struct tally_entry {
    struct tally_entry *next;
    long n;
    char key[];
} tally_entry;

struct gw_tally {
    pthread_mutex_t lock;
    tally_entry *buckets[N_BUCKETS];
};

/* An address or prefix: family, bytes, prefix length in bits. */
typedef struct net {
    int family;
    unsigned char bytes[16];
    int bits;
} net;

struct gw_conns {
    long max_per_address, workers;
    atomic_long open;
    net trusted[MAX_TRUSTED];
    size_t n_trusted;
    gw_tally *per_address;
};

static int parse_addr(const char *text, net *n)
{
    memset(n, 0, sizeof(*n));
    if (inet_pton(AF_INET, text, n->bytes) == 1) {
        n->family = AF_INET;
        n->bits = 32;
        return 0;
    }
    if (inet_pton(AF_INET6, text, n->bytes) == 1) {
        n->family = AF_INET6;
        n->bits = 128;
        return 0;
    }
    return -1;
}

static int parse_net(const char *text, size_t len, net *n)
{
    char buf[64];
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    char *slash = strchr(buf, '/');
    long bits = -1;
    if (slash) {
        char *end;
        *slash = '\0';
        bits = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end)
            return -1;
    }
    if (parse_addr(buf, n))
        return -1;
    if (bits >= 0) {
        if (bits > n->bits)
            return -1;
        n->bits = (int)bits;
    }
    return 0;
}

static int in_net(const net *prefix, const net *a)
{
    if (prefix->family != a->family)
        return 0;
    int full = prefix->bits / 8, rest = prefix->bits % 8;
    if (memcmp(prefix->bytes, a->bytes, (size_t)full))
        return 0;
    if (!rest)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (prefix->bytes[full] & mask) == (a->bytes[full] & mask);
}

static size_t bucket_of(const char *key)
{
    uint32_t h = 2166136261u;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % N_BUCKETS;
}

int gw_tally_new(gw_tally **out)
{
    gw_tally *t = calloc(1, sizeof(*t));
    if (!t)
        return SF_EINTERNAL;
    pthread_mutex_init(&t->lock, NULL);
    *out = t;
    return 0;
}

void gw_tally_free(gw_tally *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < N_BUCKETS; i++) {
        for (tally_entry *e = t->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    pthread_mutex_destroy(&t->lock);
    free(t);
}

long gw_tally_add(gw_tally *t, const char *key, long delta)
{
    pthread_mutex_lock(&t->lock);
    tally_entry **p = &t->buckets[bucket_of(key)];
    while (*p && strcmp((*p)->key, key))
        p = &(*p)->next;
    if (!*p && delta > 0) {
        size_t len = strlen(key);
        tally_entry *e = calloc(1, sizeof(*e) + len + 1);
        if (e) {
            memcpy(e->key, key, len + 1);
            *p = e;
        }
    }
    long n = 0;
    if (*p) {
        n = (*p)->n += delta;
        if (n <= 0) {
            tally_entry *gone = *p;
            *p = gone->next;
            free(gone);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return n > 0 ? n : 0;
}

int gw_conns_new(gw_conns **out, long max_per_address, long workers, const char *trusted,
                 sf_error *err)
{
    gw_conns *c = calloc(1, sizeof(*c));
    if (!c)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    if (gw_tally_new(&c->per_address)) {
        free(c);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    c->max_per_address = max_per_address;
    c->workers = workers;
    for (const char *p = trusted ? trusted : ""; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len && *p == ' ') {
            p++;
            len--;
        }
        while (len && p[len - 1] == ' ')
            len--;
        if (len) {
            if (c->n_trusted == MAX_TRUSTED) {
                gw_conns_free(c);
                return sf_fail(err, SF_EINVAL, "at most %d trusted proxies", MAX_TRUSTED);
            }
            if (parse_net(p, len, &c->trusted[c->n_trusted])) {
                gw_conns_free(c);
                return sf_fail(err, SF_EINVAL,
                               "'%.*s' is not an IP address or a CIDR prefix (10.0.0.0/8)",
                               (int)len, p);
            }
            c->n_trusted++;
        }
        p = comma ? comma + 1 : p + strlen(p);
    }
    *out = c;
    return 0;
}

void gw_conns_free(gw_conns *c)
{
    if (!c)
        return;
    gw_tally_free(c->per_address);
    free(c);
}

int gw_conns_trusted(const gw_conns *c, const char *addr)
{
    net a;
    if (parse_addr(addr, &a))
        return 0;
    for (size_t i = 0; i < c->n_trusted; i++) {
        if (in_net(&c->trusted[i], &a))
            return 1;
    }
    return 0;
}

void gw_conns_open(gw_conns *c, const char *addr, gw_conn_slot *slot)
{
    memset(slot, 0, sizeof(*slot));
    snprintf(slot->addr, sizeof(slot->addr), "%s", addr);
    slot->trusted = gw_conns_trusted(c, addr);
    atomic_fetch_add(&c->open, 1);
    if (!slot->trusted)
        slot->over = gw_tally_add(c->per_address, slot->addr, 1) > c->max_per_address;
}

void gw_conns_close(gw_conns *c, const gw_conn_slot *slot)
{
    atomic_fetch_sub(&c->open, 1);
    if (!slot->trusted)
        gw_tally_add(c->per_address, slot->addr, -1);
}

int gw_conns_pressed(gw_conns *c)
{
    return atomic_load(&c->open) * 4 > c->workers * 3;
}

long gw_conns_count(gw_conns *c, const char *addr)
{
    return gw_tally_add(c->per_address, addr, 0);
}

long gw_conns_max_per_address(const gw_conns *c)
{
    return c->max_per_address;
}

int gw_forwarded_for(const char *const *values, size_t n, char *out, size_t len)
{
    if (n == 0 || !values[n - 1])
        return SF_EINVAL;
    const char *v = values[n - 1], *last = strrchr(v, ',');
    const char *start = last ? last + 1 : v;
    while (*start == ' ' || *start == '\t')
        start++;
    size_t l = strlen(start);
    while (l && (start[l - 1] == ' ' || start[l - 1] == '\t'))
        l--;
    char buf[GW_ADDR_MAX];
    net a;
    if (l == 0 || l >= sizeof(buf) || l >= len)
        return SF_EINVAL;
    memcpy(buf, start, l);
    buf[l] = '\0';
    if (parse_addr(buf, &a))
        return SF_EINVAL;
    memcpy(out, buf, l + 1);
    return 0;
}
