/* Webhooks (hooks_store.h; delivered by stbfarm-webhooks):
 *
 *   POST   /api/v2/webhooks {"url", "events", "secret"}   a new webhook (201), without its secret
 *   GET    /api/v2/webhooks                              your webhooks (an admin: everyone's)
 *   GET    /api/v2/webhooks/<id>                         one, with its last deliveries
 *   DELETE /api/v2/webhooks/<id>                         remove it (204)
 *
 * A webhook's URL is checked here (hooks_url.h) and again at every delivery. The secret is kept
 * for signing and never answered. */
#include "gw_portal.h"

#include "hooks_store.h"
#include "hooks_url.h"
#include "sf_account.h"
#include "sf_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *hook_json(gw_request *rq, const hooks_record *h)
{
    cJSON *o = cJSON_CreateObject();
    char when[40];
    cJSON_AddStringToObject(o, "id", h->id);
    cJSON_AddStringToObject(o, "url", h->url);
    cJSON_AddStringToObject(o, "user", h->user);
    cJSON *ev = cJSON_AddArrayToObject(o, "events");
    for (int t = 0; t < SF_FEED_TOPICS; t++) {
        if (h->mask & (1u << t))
            cJSON_AddItemToArray(ev, cJSON_CreateString(sf_feed_topic_name((sf_feed_topic)t)));
    }
    sf_time_format(h->created_us, when, sizeof(when), SF_TIME_ZULU);
    cJSON_AddStringToObject(o, "created", when);
    cJSON_AddNumberToObject(o, "failed_attempts", h->attempt);
    if (h->retry_at_ms > 0) {
        sf_time_format(h->retry_at_ms * 1000, when, sizeof(when), SF_TIME_ZULU);
        cJSON_AddStringToObject(o, "next_retry", when);
    } else {
        cJSON_AddNullToObject(o, "next_retry");
    }
    cJSON *deliveries = NULL;
    if (hooks_deliveries(rq->thread->redis, h->id, &deliveries, NULL))
        deliveries = cJSON_CreateArray();
    cJSON_AddItemToObject(o, "deliveries", deliveries);
    return o;
}

/* The webhook of the path, when the user may see it (theirs, or any for an admin). */
static int hook_of_path(gw_request *rq, hooks_record *h, sf_error *err)
{
    const char *id = gw_param(rq, "webhook_id");
    int rc = hooks_get(rq->thread->redis, id ? id : "", h, err);
    if (!rc && rq->role != SF_ROLE_ADMIN && strcmp(h->user, rq->user)) {
        hooks_record_clear(h);
        rc = sf_fail(err, SF_ENOTFOUND, "no webhook %s", id);
    }
    return rc;
}

/* "events": a non-empty array of topic names. */
static int events_of(const cJSON *body, unsigned *mask, sf_error *err)
{
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(body, "events");
    *mask = 0;
    if (!cJSON_IsArray(ev) || !cJSON_GetArraySize(ev))
        return sf_fail(err, SF_EINVAL,
                       "events must be a non-empty array of jobs, nodes, reservations, results");
    for (const cJSON *e = ev->child; e; e = e->next) {
        unsigned one;
        if (!cJSON_IsString(e) || strchr(e->valuestring, ',') ||
            sf_feed_topics_parse(e->valuestring, &one, err))
            return sf_fail(err, SF_EINVAL,
                           "events: each must be one of jobs, nodes, reservations, results");
        *mask |= one;
    }
    return 0;
}

int gw_handle_webhook_create(gw_request *rq)
{
    sf_error err = SF_ERROR_INIT;
    cJSON *body = NULL;
    const char *url = NULL, *secret = NULL;
    unsigned mask = 0;
    hooks_record h = {0};
    int rc = gw_body_object(rq, &body, &err);
    if (!rc)
        rc = gw_json_string(body, "url", &url, &err);
    if (!rc)
        rc = gw_json_string(body, "secret", &secret, &err);
    if (!rc && !url)
        rc = sf_fail(&err, SF_EINVAL, "url is required");
    if (!rc && (!secret || strlen(secret) < HOOKS_SECRET_MIN || strlen(secret) > HOOKS_SECRET_MAX))
        rc = sf_fail(&err, SF_EINVAL,
                     "secret is required: %d to %d bytes, which sign every delivery",
                     HOOKS_SECRET_MIN, HOOKS_SECRET_MAX);
    if (!rc)
        rc = events_of(body, &mask, &err);
    if (!rc)
        rc = hooks_url_check(rq->gw->hooks_policy, url, &err);
    if (!rc)
        rc = hooks_create(rq->thread->redis, rq->user, url, mask, secret, &h, &err);
    cJSON_Delete(body);
    if (rc)
        return gw_reply_sf_error(rq, rc, &err);
    int status = gw_reply_json(rq, 201, hook_json(rq, &h));
    hooks_record_clear(&h);
    return status;
}

int gw_handle_webhooks_list(gw_request *rq)
{
    sf_error err = SF_ERROR_INIT;
    char **ids;
    size_t n;
    int rc = hooks_list(rq->thread->redis, &ids, &n, &err);
    if (rc)
        return gw_reply_sf_error(rq, rc, &err);
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        hooks_record h;
        if (hooks_get(rq->thread->redis, ids[i], &h, NULL))
            continue;
        if (rq->role == SF_ROLE_ADMIN || !strcmp(h.user, rq->user))
            cJSON_AddItemToArray(list, hook_json(rq, &h));
        hooks_record_clear(&h);
    }
    hooks_ids_free(ids, n);
    return gw_reply_json(rq, 200, list);
}

int gw_handle_webhook_get(gw_request *rq)
{
    sf_error err = SF_ERROR_INIT;
    hooks_record h;
    int rc = hook_of_path(rq, &h, &err);
    if (rc)
        return gw_reply_sf_error(rq, rc, &err);
    int status = gw_reply_json(rq, 200, hook_json(rq, &h));
    hooks_record_clear(&h);
    return status;
}

int gw_handle_webhook_delete(gw_request *rq)
{
    sf_error err = SF_ERROR_INIT;
    hooks_record h;
    int rc = hook_of_path(rq, &h, &err);
    if (!rc)
        rc = hooks_delete(rq->thread->redis, h.id, &err);
    hooks_record_clear(&h);
    if (rc)
        return gw_reply_sf_error(rq, rc, &err);
    return gw_reply_raw(rq, 204, NULL, NULL, 0, NULL);
}
