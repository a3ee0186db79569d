/* GET /api/v2/openapi.json: an OpenAPI 3.1 document of every route, built from the route table
 * itself (paths, methods, path and query parameters, bodies and answers from the messages'
 * descriptors, by sf_pbjson's rules), so that it cannot drift from what the gateway serves. What
 * the table does not say (a summary, the answers beyond 200, the media type of a raw answer)
 * is in the table below, one entry per route; a route without one is a test failure
 * (tests/api/test_openapi.py), not a hole in the document. */
#include "gw.h"

#include "jobs.pb-c.h"
#include "results.pb-c.h"
#include "sf_pbjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct route_doc {
    const char *method, *pattern;
    const char *summary;
    const char *media; /* the media type of a raw answer (no reply message); NULL: JSON */
    int ok;            /* the success status: 200, or 204 */
    int statuses[8];   /* the other answers, 0-terminated; 403, 429 and 503 go on every route */
    int beyond_spec;   /* an stbfarm addition (docs/api.md) */
} route_doc;

#define NO_JOB_YET                                                                                 \
    "{\"type\": \"object\", \"properties\": {\"job_uid\": {\"type\": \"null\"}}, "                 \
    "\"required\": [\"job_uid\"], \"additionalProperties\": false}"

/* The JSON Schemas of what routes the gateway answers itself take (a body) and answer: the route
 * table has no message for them. */
#define STR         "{\"type\": \"string\"}"
#define STR_OR_NULL "{\"type\": [\"string\", \"null\"]}"
#define OBJ(p, r)   "{\"type\": \"object\", \"properties\": {" p "}, \"required\": [" r "]}"
#define ARRAY_OF(s) "{\"type\": \"array\", \"items\": " s "}"
#define SESSION                                                                                    \
    OBJ("\"login\": " STR ", \"role\": " STR ", \"csrf_token\": " STR_OR_NULL                      \
        ", \"expires\": " STR_OR_NULL,                                                             \
        "\"login\", \"role\", \"csrf_token\", \"expires\"")
#define TOKEN                                                                                      \
    OBJ("\"id\": " STR ", \"note\": " STR_OR_NULL ", \"created\": " STR                            \
        ", \"last_used\": " STR_OR_NULL ", \"token\": " STR,                                       \
        "\"id\", \"note\", \"created\", \"last_used\"")
#define USER                                                                                       \
    OBJ("\"username\": " STR ", \"role\": " STR ", \"created\": " STR ", \"password\": " STR,      \
        "\"username\", \"role\", \"created\"")

typedef struct local_schema {
    const char *method, *pattern;
    const char *body, *answer;
} local_schema;

static const local_schema local_schemas[] = {
    {"GET", "/api/v2/user", NULL, OBJ("\"login\": " STR, "\"login\"")},
    {"GET", "/healthz", NULL, "{\"type\": \"object\", \"additionalProperties\": " STR "}"},
    {"GET", "/api/v2/openapi.json", NULL,
     OBJ("\"openapi\": " STR ", \"paths\": {\"type\": \"object\"}", "\"openapi\", \"paths\"")},
    {"POST", "/api/v2/session",
     OBJ("\"username\": " STR ", \"password\": " STR, "\"username\", \"password\""), SESSION},
    {"GET", "/api/v2/session", NULL, SESSION},
    {"GET", "/api/v2/tokens", NULL, ARRAY_OF(TOKEN)},
    {"POST", "/api/v2/tokens", OBJ("\"note\": " STR_OR_NULL, ""), TOKEN},
    {"GET", "/api/v2/users", NULL, ARRAY_OF(USER)},
    {"POST", "/api/v2/users",
     OBJ("\"username\": " STR ", \"role\": " STR ", \"password\": " STR, "\"username\""), USER},
    {"PUT", "/api/v2/users/{username}", OBJ("\"role\": " STR ", \"password\": " STR, ""), USER},
};

static const local_schema *local_schema_of(const gw_route *r)
{
    for (size_t i = 0; i < sizeof(local_schemas) / sizeof(local_schemas[0]); i++) {
        if (!strcmp(local_schemas[i].method, r->method) &&
            !strcmp(local_schemas[i].pattern, r->pattern))
            return &local_schemas[i];
    }
    return NULL;
}

/* With details=true (stbfarm's addition) jobs.get answers a JobDetail and results.list a list of
 * ResultRow: the other message a route's success answer may be. */
static cJSON *details_schema(const gw_route *r, cJSON *defs)
{
    if (r->rpc && !strcmp(r->rpc, "jobs.get") && r->handler != gw_handle_await)
        return sf_pb_schema(&stbfarm__job_detail__descriptor, 1, defs);
    if (r->rpc && !strcmp(r->rpc, "results.list")) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "type", "array");
        cJSON_AddItemToObject(a, "items", sf_pb_schema(&stbfarm__result_row__descriptor, 1, defs));
        return a;
    }
    return NULL;
}

/* A JSON Schema the success answer of a route may match instead of its reply's, or NULL: the
 * node's await_completion answers {"job_uid": null} for a node that never ran a job. */
static const char *also_of(const gw_route *r)
{
    if (!strcmp(r->pattern, "/api/v2/nodes/{node_id}/job/await_completion"))
        return NO_JOB_YET;
    return NULL;
}

static const route_doc docs[] = {
    {"GET",
     "/healthz",
     "Health of this gateway, Redis and every service",
     NULL,
     200,
     {400, 503},
     1},
    {"GET", "/api/v2/user", "The user the token belongs to", NULL, 200, {0}, 1},
    {"GET", "/api/v2/openapi.json", "This document", NULL, 200, {0}, 1},
    {"GET", "/", "Redirects to the portal", NULL, 302, {400}, 1},
    {"GET", "/app", "The portal (a single-page web app)", "text/html", 200, {304, 400}, 1},
    {"GET",
     "/app/{file*}",
     "One file of the portal",
     "application/octet-stream",
     200,
     {304, 404},
     1},
    {"GET", "/favicon.ico", "The portal's icon", "image/x-icon", 200, {304, 400, 404}, 1},
    {"POST",
     "/api/v2/session",
     "Sign in with a username and password: a session cookie",
     NULL,
     200,
     {400, 403, 415, 429},
     1},
    {"GET", "/api/v2/session", "The session (or token) and its role", NULL, 200, {0}, 1},
    {"DELETE",
     "/api/v2/session",
     "Sign out: the session ends on every gateway",
     NULL,
     204,
     {400},
     1},
    {"GET", "/api/v2/tokens", "Your access tokens", NULL, 200, {0}, 1},
    {"POST", "/api/v2/tokens", "A new access token, shown once", NULL, 201, {400, 409}, 1},
    {"DELETE",
     "/api/v2/tokens/{token_id}",
     "Revoke one of your tokens on every gateway",
     NULL,
     204,
     {404},
     1},
    {"GET", "/api/v2/users", "Every account (admin)", NULL, 200, {0}, 1},
    {"POST", "/api/v2/users", "A new account (admin)", NULL, 201, {400, 409}, 1},
    {"PUT",
     "/api/v2/users/{username}",
     "Change an account's role or password (admin)",
     NULL,
     200,
     {400, 404, 409},
     1},
    {"DELETE",
     "/api/v2/users/{username}",
     "Remove an account and revoke its credentials (admin)",
     NULL,
     204,
     {404, 409},
     1},
    {"GET", "/api/v2/nodes", "Every node and its status", NULL, 200, {0}, 0},
    {"GET", "/api/v2/nodes/{node_id}", "A node's status", NULL, 200, {404}, 0},
    {"GET",
     "/api/v2/nodes/{node_id}/screenshot.png",
     "A screenshot of the device, full size",
     "image/png",
     200,
     {404},
     0},
    {"GET",
     "/api/v2/nodes/{node_id}/thumbnail.jpg",
     "A small JPEG of the device's screen",
     "image/jpeg",
     200,
     {404},
     1},
    {"POST",
     "/api/v2/nodes/{node_id}/press",
     "Press a key of the node's remote control",
     NULL,
     200,
     {400, 404, 409},
     0},
    {"GET",
     "/api/v2/test_pack/{test_pack_revision*}/test_case_names",
     "The test cases of a test-pack revision",
     NULL,
     200,
     {404},
     0},
    {"POST",
     "/api/v2/run_tests",
     "Run test cases on a node (or queue them: stbfarm's addition)",
     NULL,
     200,
     {400, 404, 409},
     0},
    {"GET", "/api/v2/jobs/{job_uid:3}", "A job's status", NULL, 200, {404}, 0},
    {"GET",
     "/api/v2/jobs/{job_uid:3}/await_completion",
     "Wait until the job has finished (202 after 55 s: ask again)",
     NULL,
     200,
     {202, 404},
     0},
    {"PUT",
     "/api/v2/jobs/{job_uid:3}/stop",
     "Stop a job (202: stopping, ask again)",
     NULL,
     200,
     {202, 404, 409},
     0},
    {"POST",
     "/api/v2/jobs/{job_uid:3}/stop",
     "Stop a job (202: stopping, ask again)",
     NULL,
     200,
     {202, 404, 409},
     0},
    {"GET", "/api/v2/jobs/{job_uid:3}/log", "A job's log", "text/plain", 200, {404}, 0},
    {"GET", "/api/v2/jobs", "The most recent jobs, of the farm or of a node", NULL, 200, {400}, 1},
    {"GET", "/api/v2/test_pack/refs", "The test pack's branches and tags", NULL, 200, {0}, 1},
    {"GET",
     "/api/v2/test_pack/{test_pack_revision*}/remote_controls",
     "The remote controls of a test-pack revision",
     NULL,
     200,
     {404},
     1},
    {"GET",
     "/api/v2/test_pack/{test_pack_revision*}/remote_controls/{remote_control}",
     "The keys of one remote control",
     NULL,
     200,
     {400, 404},
     1},
    {"GET",
     "/api/v2/nodes/{node_id}/live.mjpeg",
     "The node's screen as it happens (MJPEG)",
     "multipart/x-mixed-replace",
     200,
     {404},
     1},
    {"GET", "/api/v2/nodes/{node_id}/job", "The node's current or latest job", NULL, 200, {404}, 0},
    {"GET",
     "/api/v2/nodes/{node_id}/job/await_completion",
     "Wait until the node's current job has finished",
     NULL,
     200,
     {202, 404},
     0},
    {"POST",
     "/api/v2/nodes/{node_id}/job/stop",
     "Stop the node's current job",
     NULL,
     200,
     {202, 404, 409},
     0},
    {"GET",
     "/api/v2/nodes/{node_id}/queue",
     "The jobs queued for the node, in the order they would start",
     NULL,
     200,
     {404},
     1},
    {"GET", "/api/v2/reservations", "The current reservations", NULL, 200, {0}, 0},
    {"POST", "/api/v2/reservations", "Reserve nodes, all or none", NULL, 200, {400, 404, 409}, 0},
    {"GET",
     "/api/v2/reservations/{reservation_id}",
     "A reservation, current or ended",
     NULL,
     200,
     {404},
     0},
    {"DELETE",
     "/api/v2/reservations/{reservation_id}",
     "End your reservation",
     NULL,
     204,
     {400, 404},
     0},
    {"POST",
     "/api/v2/reservations/{reservation_id}/extend",
     "Extend your reservation",
     NULL,
     204,
     {400, 404},
     0},
    {"POST",
     "/api/v2/reservations/{reservation_id}/interrupt",
     "End someone's reservation, with a message",
     NULL,
     204,
     {400, 404},
     0},
    {"GET", "/api/v2/results", "Test results matching a filter", NULL, 200, {400}, 0},
    {"GET", "/api/v2/results.csv", "Test results as CSV", "text/csv", 200, {400}, 0},
    {"GET", "/api/v2/results.xml", "Test results as JUnit XML", "application/xml", 200, {400}, 0},
    {"GET", "/api/v2/results/{result_id:4}", "A test result", NULL, 200, {404, 410}, 0},
    {"GET",
     "/api/v2/results/{result_id:4}/stbt.log",
     "A test result's log",
     "text/plain",
     200,
     {404, 410},
     0},
    {"GET",
     "/api/v2/results/{result_id:4}/screenshot.png",
     "A test result's final screenshot",
     "image/png",
     200,
     {404, 410},
     0},
    {"GET",
     "/api/v2/results/{result_id:4}/artifacts",
     "A test result's files",
     NULL,
     200,
     {404, 410},
     0},
    {"GET",
     "/api/v2/results/{result_id:4}/artifacts/{filename*}",
     "One file of a test result",
     "application/octet-stream",
     200,
     {206, 304, 404, 410, 416},
     0},
};

static const route_doc *doc_of(const gw_route *r)
{
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        if (!strcmp(docs[i].method, r->method) && !strcmp(docs[i].pattern, r->pattern))
            return &docs[i];
    }
    return NULL;
}

/* A path parameter of a pattern: its name, and how many segments it takes (0: one or more). */
typedef struct param {
    char name[64];
    int segments;
} param;

/* The OpenAPI path of a pattern ("{job_uid:3}" becomes "{job_uid}", after the slash before
 * it, since job_uid itself starts with one) and its parameters. */
static void openapi_path(const char *pattern, char *out, size_t len, param *ps, size_t *n)
{
    size_t o = 0;
    *n = 0;
    for (const char *p = pattern; *p && o + 1 < len;) {
        if (*p != '{') {
            out[o++] = *p++;
            continue;
        }
        const char *close = strchr(p, '}');
        size_t nl = strcspn(p + 1, ":*}");
        param *q = &ps[(*n)++];
        snprintf(q->name, sizeof(q->name), "%.*s", (int)nl, p + 1);
        q->segments = p[1 + nl] == ':' ? atoi(p + 2 + nl) : p[1 + nl] == '*' ? 0 : 1;
        if (q->segments != 1 && o > 0 && out[o - 1] == '/')
            o--; /* the value brings its own leading slash */
        o += (size_t)snprintf(out + o, len - o, "{%s}", q->name);
        p = close + 1;
    }
    out[o < len ? o : len - 1] = '\0';
}

static int is_path_param(const param *ps, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(ps[i].name, name))
            return 1;
    }
    return 0;
}

static cJSON *error_response(const char *description)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "description", description);
    cJSON *json =
        cJSON_AddObjectToObject(cJSON_AddObjectToObject(r, "content"), "application/json");
    cJSON_AddItemToObject(cJSON_AddObjectToObject(json, "schema"), "$ref",
                          cJSON_CreateString("#/components/schemas/Error"));
    return r;
}

static cJSON *json_response(const char *description, cJSON *schema)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "description", description);
    cJSON *json =
        cJSON_AddObjectToObject(cJSON_AddObjectToObject(r, "content"), "application/json");
    cJSON_AddItemToObject(json, "schema", schema);
    return r;
}

/* The schema of a route's JSON answer: the reply message, or with GW_UNWRAP its one field. */
static cJSON *answer_schema(const gw_route *r, cJSON *defs)
{
    if (r->reply && (r->flags & GW_UNWRAP))
        return sf_pb_field_schema(&r->reply->fields[0], 1, defs);
    if (r->reply)
        return sf_pb_schema(r->reply, 1, defs);
    const local_schema *l = local_schema_of(r);
    cJSON *s = l && l->answer ? cJSON_Parse(l->answer) : NULL;
    return s ? s : cJSON_CreateObject(); /* answered by the gateway itself: its own shape */
}

static const char *status_text(int status)
{
    switch (status) {
    case 202:
        return "Accepted: not finished yet; ask again";
    case 204:
        return "Done; no content";
    case 206:
        return "Part of the file (a Range request)";
    case 302:
        return "Found: the portal is at /app/";
    case 304:
        return "Not modified (a conditional request)";
    default:
        return sf_http_reason(status);
    }
}

static cJSON *operation(const gw_route *r, const route_doc *d, cJSON *defs)
{
    cJSON *op = cJSON_CreateObject();
    char id[160], path[GW_PATH_MAX];
    param ps[GW_MAX_PARAMS + 1];
    size_t np;
    openapi_path(r->pattern, path, sizeof(path), ps, &np);
    snprintf(id, sizeof(id), "%s%s", r->method, r->pattern);
    for (char *c = id; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
            *c = '_';
    }
    cJSON_AddStringToObject(op, "operationId", id);
    cJSON_AddStringToObject(op, "x-stbfarm-pattern", r->pattern); /* the route table's form */
    cJSON_AddStringToObject(op, "summary", d->summary);
    const char *tag = r->svc >= 0 ? sf_service_name((sf_service)r->svc) : "gateway";
    cJSON_AddItemToObject(op, "tags", cJSON_CreateStringArray(&tag, 1));
    if (d->beyond_spec)
        cJSON_AddTrueToObject(op, "x-stbfarm-beyond-spec");
    if (r->flags & GW_PUBLIC)
        cJSON_AddItemToObject(op, "security", cJSON_CreateArray());

    cJSON *params = cJSON_CreateArray();
    for (size_t i = 0; i < np; i++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "name", ps[i].name);
        cJSON_AddStringToObject(p, "in", "path");
        cJSON_AddTrueToObject(p, "required");
        char what[256];
        if (ps[i].segments > 1)
            snprintf(what, sizeof(what),
                     "%d path segments with a leading '/', as the API writes %.64s", ps[i].segments,
                     ps[i].name);
        else if (ps[i].segments == 0)
            snprintf(what, sizeof(what), "one or more path segments");
        else
            snprintf(what, sizeof(what), "one path segment");
        cJSON_AddStringToObject(p, "description", what);
        cJSON_AddItemToObject(cJSON_AddObjectToObject(p, "schema"), "type",
                              cJSON_CreateString("string"));
        cJSON_AddItemToArray(params, p);
    }
    /* the request's other scalar fields come from the query string, or from the body */
    cJSON *body = NULL, *body_props = NULL, *body_required = NULL;
    const local_schema *local = local_schema_of(r);
    if (local && local->body) {
        cJSON *rb = cJSON_AddObjectToObject(op, "requestBody");
        cJSON_AddTrueToObject(rb, "required");
        cJSON_AddItemToObject(
            cJSON_AddObjectToObject(cJSON_AddObjectToObject(rb, "content"), "application/json"),
            "schema", cJSON_Parse(local->body));
    }
    if (r->flags & GW_BODY) {
        body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "type", "object");
        body_props = cJSON_AddObjectToObject(body, "properties");
        body_required = cJSON_AddArrayToObject(body, "required");
    }
    for (unsigned i = 0; r->req && i < r->req->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &r->req->fields[i];
        if (is_path_param(ps, np, f->name))
            continue;
        if (body) {
            cJSON_AddItemToObject(body_props, f->name, sf_pb_field_schema(f, 0, defs));
            if (f->label == PROTOBUF_C_LABEL_REQUIRED)
                cJSON_AddItemToArray(body_required, cJSON_CreateString(f->name));
        } else if (f->label != PROTOBUF_C_LABEL_REPEATED && f->type != PROTOBUF_C_TYPE_MESSAGE) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "name", f->name);
            cJSON_AddStringToObject(p, "in", "query");
            cJSON_AddBoolToObject(p, "required", f->label == PROTOBUF_C_LABEL_REQUIRED);
            cJSON *s = sf_pb_field_schema(f, 0, defs);
            cJSON_DeleteItemFromObject(s, "type"); /* a query value is text of that type */
            cJSON_AddStringToObject(s, "type",
                                    f->type == PROTOBUF_C_TYPE_BOOL     ? "boolean"
                                    : f->type == PROTOBUF_C_TYPE_STRING ? "string"
                                                                        : "integer");
            cJSON_AddItemToObject(p, "schema", s);
            cJSON_AddItemToArray(params, p);
        }
    }
    if (cJSON_GetArraySize(params))
        cJSON_AddItemToObject(op, "parameters", params);
    else
        cJSON_Delete(params);
    if (body && r->req == &stbfarm__run_tests_request__descriptor) {
        /* the spec's node_id, or one of stbfarm's ways to name several nodes */
        cJSON_AddItemToObject(body, "oneOf",
                              cJSON_Parse("[{\"required\": [\"node_id\"]}, {\"required\": "
                                          "[\"node_ids\"]}, {\"required\": [\"node_pool\"]}]"));
    }
    if (body) {
        cJSON_AddBoolToObject(body, "additionalProperties", 1);
        cJSON *rb = cJSON_AddObjectToObject(op, "requestBody");
        cJSON_AddTrueToObject(rb, "required");
        cJSON_AddItemToObject(
            cJSON_AddObjectToObject(cJSON_AddObjectToObject(rb, "content"), "application/json"),
            "schema", body);
    }

    cJSON *responses = cJSON_AddObjectToObject(op, "responses");
    char code[8];
    snprintf(code, sizeof(code), "%d", d->ok);
    if (d->ok == 204 || d->ok == 302) {
        cJSON *nc = cJSON_AddObjectToObject(responses, code);
        cJSON_AddStringToObject(nc, "description", status_text(d->ok));
    } else if (d->media) {
        cJSON *raw = cJSON_AddObjectToObject(responses, code);
        cJSON_AddStringToObject(raw, "description", "Success");
        cJSON_AddObjectToObject(cJSON_AddObjectToObject(raw, "content"), d->media);
    } else {
        cJSON *schema = answer_schema(r, defs), *also = also_of(r) ? cJSON_Parse(also_of(r)) : NULL;
        if (!also)
            also = details_schema(r, defs);
        if (also) { /* anyOf: an empty list is both kinds */
            cJSON *either = cJSON_CreateObject(), *any = cJSON_AddArrayToObject(either, "anyOf");
            cJSON_AddItemToArray(any, schema);
            cJSON_AddItemToArray(any, also);
            schema = either;
        }
        cJSON_AddItemToObject(responses, code, json_response("Success", schema));
    }
    static const int everywhere[] = {403, 429, 503};
    int all[16], n = 0;
    for (size_t i = 0; i < 8 && d->statuses[i]; i++)
        all[n++] = d->statuses[i];
    for (size_t i = 0; i < 3 && !(r->flags & GW_PUBLIC); i++)
        all[n++] = everywhere[i];
    for (int i = 0; i < n; i++) {
        snprintf(code, sizeof(code), "%d", all[i]);
        if (cJSON_GetObjectItemCaseSensitive(responses, code))
            continue;
        if (all[i] == 202)
            cJSON_AddItemToObject(responses, code,
                                  json_response(status_text(202), answer_schema(r, defs)));
        else if (all[i] < 400)
            cJSON_AddStringToObject(cJSON_AddObjectToObject(responses, code), "description",
                                    status_text(all[i]));
        else
            cJSON_AddItemToObject(responses, code, error_response(status_text(all[i])));
    }
    if ((r->flags & GW_BODY) && !cJSON_GetObjectItemCaseSensitive(responses, "413"))
        cJSON_AddItemToObject(responses, "413", error_response("the body is over 1 MiB"));
    if (!(r->flags & GW_PUBLIC) && !cJSON_GetObjectItemCaseSensitive(responses, "400"))
        cJSON_AddItemToObject(responses, "400",
                              error_response("Bad Request: a malformed request (a NUL, a bad "
                                             "path or query string, invalid JSON)"));
    return op;
}

int gw_openapi_missing(const char **method, const char **pattern)
{
    for (size_t i = 0; i < gw_n_routes; i++) {
        if (!doc_of(&gw_routes[i])) {
            *method = gw_routes[i].method;
            *pattern = gw_routes[i].pattern;
            return 1;
        }
    }
    return 0;
}

char *gw_openapi_render(void)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "openapi", "3.1.0");
    cJSON *info = cJSON_AddObjectToObject(doc, "info");
    cJSON_AddStringToObject(info, "title", "stbfarm: the Stb-tester REST API v2, and more");
    cJSON_AddStringToObject(info, "version", "2");
    cJSON_AddStringToObject(info, "description",
                            "Every endpoint stbfarm serves: those of the Stb-tester REST API v2, "
                            "and its additions (marked x-stbfarm-beyond-spec; docs/api.md).");
    cJSON *license = cJSON_AddObjectToObject(info, "license");
    cJSON_AddStringToObject(license, "name", "see the project's LICENSE");
    cJSON_AddStringToObject(license, "url", "https://stb-tester.com/manual/rest-api-v2");
    cJSON *servers = cJSON_AddArrayToObject(doc, "servers");
    cJSON *server = cJSON_CreateObject();
    cJSON_AddStringToObject(server, "url", "/");
    cJSON_AddItemToArray(servers, server);
    cJSON *sec = cJSON_CreateObject();
    cJSON_AddItemToObject(sec, "token", cJSON_CreateArray());
    cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "security"), sec);
    cJSON *paths = cJSON_AddObjectToObject(doc, "paths");
    cJSON *components = cJSON_AddObjectToObject(doc, "components");
    cJSON *defs = cJSON_AddObjectToObject(components, "schemas");
    cJSON *err = cJSON_AddObjectToObject(defs, "Error");
    cJSON_AddStringToObject(err, "type", "object");
    cJSON_AddItemToObject(
        cJSON_AddObjectToObject(cJSON_AddObjectToObject(err, "properties"), "error"), "type",
        cJSON_CreateString("string"));
    const char *req[] = {"error"};
    cJSON_AddItemToObject(err, "required", cJSON_CreateStringArray(req, 1));
    cJSON *schemes = cJSON_AddObjectToObject(components, "securitySchemes");
    cJSON *token = cJSON_AddObjectToObject(schemes, "token");
    cJSON_AddStringToObject(token, "type", "apiKey");
    cJSON_AddStringToObject(token, "in", "header");
    cJSON_AddStringToObject(token, "name", "Authorization");
    cJSON_AddStringToObject(token, "description", "'token <access token>'");
    for (size_t i = 0; i < gw_n_routes; i++) {
        const gw_route *r = &gw_routes[i];
        const route_doc *d = doc_of(r);
        if (!d)
            continue; /* gw_openapi_missing names it; the test fails */
        char path[GW_PATH_MAX], method[16];
        param ps[GW_MAX_PARAMS + 1];
        size_t np;
        openapi_path(r->pattern, path, sizeof(path), ps, &np);
        cJSON *item = cJSON_GetObjectItemCaseSensitive(paths, path);
        if (!item)
            item = cJSON_AddObjectToObject(paths, path);
        size_t m = 0;
        for (; r->method[m] && m + 1 < sizeof(method); m++)
            method[m] = (char)(r->method[m] | 0x20); /* lower case */
        method[m] = '\0';
        cJSON_AddItemToObject(item, method, operation(r, d, defs));
    }
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return text;
}

int gw_handle_openapi(gw_request *rq)
{
    char *text = gw_openapi_render();
    if (!text)
        return gw_reply_error(rq, 500, "out of memory");
    int status = gw_reply_raw(rq, 200, "application/json", text, strlen(text), NULL);
    free(text);
    return status;
}
