/* The user menu's endpoints, for the portal and for scripts alike:
 *
 *   GET    /api/v2/tokens             your tokens: id, note, created, last_used (never the token)
 *   POST   /api/v2/tokens {"note"}    a new token, shown in this answer only
 *   DELETE /api/v2/tokens/<id>        revoke it: no gateway accepts it when this answers
 *
 * and the admin's:
 *
 *   GET    /api/v2/users                                    every account
 *   POST   /api/v2/users {"username", "role", "password"}   without a password, one is made
 *   PUT    /api/v2/users/<name> {"role", "password"}        either or both
 *   DELETE /api/v2/users/<name>                             with their tokens and sessions */
#include "gw_portal.h"

#include "hooks_store.h"
#include "sf_account.h"
#include "sf_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *token_json(const sf_token_info *t, const char *token)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", t->id);
    if (token)
        cJSON_AddStringToObject(o, "token", token);
    if (t->note)
        cJSON_AddStringToObject(o, "note", t->note);
    else
        cJSON_AddNullToObject(o, "note");
    cJSON_AddStringToObject(o, "created", t->created);
    if (t->used_us > 0) {
        char used[40];
        sf_time_format(t->used_us, used, sizeof(used), SF_TIME_ZULU);
        cJSON_AddStringToObject(o, "last_used", used);
    } else {
        cJSON_AddNullToObject(o, "last_used");
    }
    return o;
}

int gw_handle_tokens_list(gw_request *rq)
{
    sf_error err = SF_ERROR_INIT;
    sf_token_info *infos;
    size_t n;
    int rc = sf_token_list(rq->thread->redis, rq->user, &infos, &n, &err);
    if (rc)
        return gw_reply_sf_error(rq, rc, &err);
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(list, token_json(&infos[i], NULL));
    sf_token_infos_free(infos, n);
    return gw_reply_json(rq, 200, list);
}

int gw_handle_token_create(gw_request *rq)
{
    sf_error err = SF_ERROR_INIT;
    cJSON *body;
    const char *note = NULL;
    int rc = gw_body_object(rq, &body, &err);
    if (!rc)
        rc = gw_json_string(body, "note", &note, &err);
    char token[SF_TOKEN_LEN + 1];
    sf_token_info info = {0};
    if (!rc)
        rc = sf_token_create(rq->thread->redis, rq->user, note && *note ? note : NULL, token,
                             info.created, &err);
    if (rc) {
        cJSON_Delete(body);
        return gw_reply_sf_error(rq, rc, &err);
    }
    sf_token_digest d;
    sf_token_digest_of(token, SF_TOKEN_LEN, &d);
    snprintf(info.id, sizeof(info.id), "%s", d.selector);
    info.note = note && *note ? (char *)note : NULL;
    cJSON *o = token_json(&info, token);
    cJSON_Delete(body);
    return gw_reply_json(rq, 201, o);
}

int gw_handle_token_revoke(gw_request *rq)
{
    sf_error err = SF_ERROR_INIT;
    const char *id = gw_param(rq, "token_id");
    int rc = sf_token_revoke_id(rq->thread->redis, id ? id : "", rq->user, &err);
    if (rc)
        return gw_reply_sf_error(rq, rc, &err);
    return gw_reply_raw(rq, 204, NULL, NULL, 0, NULL);
}

/* ---- users ---- */

static cJSON *user_json(const sf_user *u)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "username", u->name);
    cJSON_AddStringToObject(o, "role", sf_role_name(u->role));
    cJSON_AddStringToObject(o, "created", u->created);
    return o;
}

int gw_handle_users_list(gw_request *rq)
{
    sf_error err = SF_ERROR_INIT;
    sf_user *users;
    size_t n;
    int rc = sf_user_list(rq->thread->redis, &users, &n, &err);
    if (rc)
        return gw_reply_sf_error(rq, rc, &err);
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(list, user_json(&users[i]));
    free(users);
    return gw_reply_json(rq, 200, list);
}

/* The role member of body: 0 with *out (def when absent), SF_EINVAL naming the choices. */
static int body_role(const cJSON *body, sf_role def, sf_role *out, int *given, sf_error *err)
{
    const char *text;
    int rc = gw_json_string(body, "role", &text, err);
    *out = def;
    *given = text != NULL;
    if (rc || !text)
        return rc;
    if (sf_role_parse(text, out))
        return sf_fail(err, SF_EINVAL, "unknown role '%.40s': use manual, read, write or admin",
                       text);
    return 0;
}

int gw_handle_user_create(gw_request *rq)
{
    sf_error err = SF_ERROR_INIT;
    cJSON *body;
    const char *name = NULL, *password = NULL;
    sf_role role;
    int given;
    char generated[SF_PASSWORD_GEN_LEN + 1] = "";
    int rc = gw_body_object(rq, &body, &err);
    if (!rc && !(rc = gw_json_string(body, "username", &name, &err)) && !name)
        rc = sf_fail(&err, SF_EINVAL, "username is needed");
    if (!rc)
        rc = gw_json_string(body, "password", &password, &err);
    if (!rc)
        rc = body_role(body, SF_ROLE_WRITE, &role, &given, &err);
    if (!rc && !password) {
        if (sf_password_generate(generated))
            rc = sf_fail(&err, SF_EINTERNAL, "no randomness available");
        password = generated;
    }
    if (!rc && !(rc = gw_hashing_enter(rq->gw->portal, &err))) {
        rc = sf_user_add(rq->thread->redis, name, role, password, &err);
        gw_hashing_leave(rq->gw->portal);
    }
    sf_user u;
    if (!rc)
        rc = sf_user_get(rq->thread->redis, name, &u, &err);
    cJSON_Delete(body);
    if (rc)
        return gw_reply_sf_error(rq, rc, &err);
    cJSON *o = user_json(&u);
    if (generated[0])
        cJSON_AddStringToObject(o, "password", generated);
    return gw_reply_json(rq, 201, o);
}

int gw_handle_user_update(gw_request *rq)
{
    sf_error err = SF_ERROR_INIT;
    const char *name = gw_param(rq, "username");
    cJSON *body;
    const char *password = NULL;
    sf_role role;
    int given = 0;
    sf_user u;
    int rc = sf_user_get(rq->thread->redis, name ? name : "", &u, &err);
    if (rc)
        return gw_reply_sf_error(rq, rc, &err);
    if ((rc = gw_body_object(rq, &body, &err)))
        return gw_reply_sf_error(rq, rc, &err);
    if (!(rc = gw_json_string(body, "password", &password, &err)))
        rc = body_role(body, u.role, &role, &given, &err);
    if (!rc && given && role != u.role && !strcmp(u.name, rq->user))
        rc = sf_fail(&err, SF_ECONFLICT, "you cannot change your own role");
    if (!rc && password && !(rc = gw_hashing_enter(rq->gw->portal, &err))) {
        rc = sf_user_set_password(rq->thread->redis, u.name, password, &err);
        gw_hashing_leave(rq->gw->portal);
    }
    if (!rc && given && role != u.role)
        rc = sf_user_set_role(rq->thread->redis, u.name, role, &err);
    sf_user now;
    if (!rc)
        rc = sf_user_get(rq->thread->redis, u.name, &now, &err);
    cJSON_Delete(body);
    if (rc)
        return gw_reply_sf_error(rq, rc, &err);
    return gw_reply_json(rq, 200, user_json(&now));
}

int gw_handle_user_remove(gw_request *rq)
{
    sf_error err = SF_ERROR_INIT;
    const char *name = gw_param(rq, "username");
    if (name && !strcmp(name, rq->user))
        return gw_reply_error(rq, 409, "you cannot remove your own account");
    int rc = sf_user_get(rq->thread->redis, name ? name : "", NULL, &err);
    if (!rc)
        rc = sf_user_remove(rq->thread->redis, name, &err);
    if (!rc) /* what they set up goes with them */
        rc = hooks_remove_user(rq->thread->redis, name, &err);
    if (rc)
        return gw_reply_sf_error(rq, rc, &err);
    return gw_reply_raw(rq, 204, NULL, NULL, 0, NULL);
}
