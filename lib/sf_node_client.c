#include "sf_node_client.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One dialled client, shared by the calls using it. */
typedef struct held {
    sf_rpc_client *client;
    int refs; /* calls in flight, plus one while it is the node's current client */
} held;

typedef struct entry {
    char *node_id;
    char *address;
    held *h;
} entry;

struct sf_node_clients {
    pthread_mutex_t lock;
    entry *entries;
    size_t n, cap;
};

int sf_node_clients_new(sf_node_clients **out, sf_error *err)
{
    sf_node_clients *nc = calloc(1, sizeof(*nc));
    if (!nc)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    pthread_mutex_init(&nc->lock, NULL);
    *out = nc;
    return 0;
}

/* Drop one reference; the last one frees. Called with the lock held. */
static void unref(held *h)
{
    if (--h->refs == 0) {
        sf_rpc_client_free(h->client);
        free(h);
    }
}

void sf_node_clients_free(sf_node_clients *nc)
{
    if (!nc)
        return;
    for (size_t i = 0; i < nc->n; i++) {
        unref(nc->entries[i].h);
        free(nc->entries[i].node_id);
        free(nc->entries[i].address);
    }
    free(nc->entries);
    pthread_mutex_destroy(&nc->lock);
    free(nc);
}

static entry *find(sf_node_clients *nc, const char *id)
{
    for (size_t i = 0; i < nc->n; i++) {
        if (!strcmp(nc->entries[i].node_id, id))
            return &nc->entries[i];
    }
    return NULL;
}

/* The client of node id at address, dialled now if the node is new or moved; referenced for
 * the caller. Called with the lock held. */
static int acquire(sf_node_clients *nc, const char *id, const char *address, held **out,
                   sf_error *err)
{
    entry *e = find(nc, id);
    if (e && !strcmp(e->address, address)) {
        e->h->refs++;
        *out = e->h;
        return 0;
    }
    char name[160];
    snprintf(name, sizeof(name), "agent of node %.100s", id);
    held *h = calloc(1, sizeof(*h));
    char *addr = strdup(address);
    int rc = !h || !addr ? sf_fail(err, SF_EINTERNAL, "out of memory")
                         : sf_rpc_client_dial(&h->client, address, name, err);
    if (!rc && !e) {
        if (nc->n == nc->cap) {
            size_t cap = nc->cap ? nc->cap * 2 : 16;
            entry *bigger = realloc(nc->entries, cap * sizeof(*bigger));
            if (!bigger) {
                rc = sf_fail(err, SF_EINTERNAL, "out of memory");
            } else {
                nc->entries = bigger;
                nc->cap = cap;
            }
        }
        char *copy = rc ? NULL : strdup(id);
        if (!rc && !copy)
            rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        if (!rc) {
            e = &nc->entries[nc->n++];
            e->node_id = copy;
            e->address = NULL;
            e->h = NULL;
        }
    }
    if (rc) {
        if (h)
            sf_rpc_client_free(h->client);
        free(h);
        free(addr);
        return rc == SF_EINVAL ? sf_fail(err, SF_EUNAVAIL,
                                         "node %s registered an address "
                                         "that cannot be dialled: %s",
                                         id, address)
                               : rc;
    }
    if (e->h)
        unref(e->h); /* the old client goes when its last call returns */
    free(e->address);
    e->address = addr;
    e->h = h;
    h->refs = 2; /* the entry's and the caller's */
    *out = h;
    return 0;
}

int sf_node_call(sf_node_clients *nc, const char *node_id, const char *address, const char *method,
                 const ProtobufCMessage *req, const ProtobufCMessageDescriptor *reply_desc,
                 int timeout_ms, sf_rpc_result *res, sf_error *err)
{
    memset(res, 0, sizeof(*res));
    if (!address)
        return sf_fail(err, SF_EUNAVAIL, "Node %s is offline", node_id);
    held *h = NULL;
    pthread_mutex_lock(&nc->lock);
    int rc = acquire(nc, node_id, address, &h, err);
    pthread_mutex_unlock(&nc->lock);
    if (rc)
        return rc;
    sf_rpc_opts o = SF_RPC_OPTS_INIT;
    o.timeout_ms = timeout_ms;
    o.resend_ms = timeout_ms + 1000; /* a resent press would press twice */
    rc = sf_rpc_call(h->client, method, req, reply_desc, &o, res, err);
    pthread_mutex_lock(&nc->lock);
    unref(h);
    pthread_mutex_unlock(&nc->lock);
    return rc;
}
