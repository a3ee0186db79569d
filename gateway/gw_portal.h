/* gw_portal.h - what the gateway keeps for the portal: sign-in limits, the slots for password
 * hashing and the web files (gw_static.c). Private to the
 * gateway's portal modules; gw.h declares their handlers. */
#ifndef GW_PORTAL_H
#define GW_PORTAL_H

#include "gw.h"

#include <semaphore.h>

/* Failed sign-ins allowed: burst at once, then one more every every_us. */
typedef struct gw_limit {
    long burst;
    int64_t every_us;
} gw_limit;

typedef struct gw_web gw_web;

struct gw_portal {
    gw_limit user_limit, address_limit;
    sem_t hashing; /* Argon2 takes 64 MiB and a core: a few at a time */
    gw_web *web;
};

/* Parse "BURST:SECONDS". 0 or SF_EINVAL. */
int gw_limit_parse(const char *text, gw_limit *out);

/* Run an Argon2 password operation in one of the hashing slots: wait for one (at most a few
 * seconds, else SF_EUNAVAIL). */
int gw_hashing_enter(gw_portal *p, sf_error *err);
void gw_hashing_leave(gw_portal *p);

/* The JSON object in the request body (at most 64 KiB; an empty body is {}): 0 with *out
 * (cJSON_Delete), or an error with err. */
int gw_body_object(gw_request *rq, cJSON **out, sf_error *err);
/* The string member name of obj: 0 with *out (NULL when absent or null), SF_EINVAL when it is
 * not a string. */
int gw_json_string(const cJSON *obj, const char *name, const char **out, sf_error *err);
/* The value of path parameter name, or NULL. */
const char *gw_param(const gw_request *rq, const char *name);

/* web files (gw_static.c) */
int gw_web_new(gw_web **out, const char *root, sf_error *err);
void gw_web_free(gw_web *w);

#endif
