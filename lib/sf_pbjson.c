#include "sf_pbjson.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_TYPE_NAME "stbfarm.Json"

static int is_json_type(const ProtobufCMessageDescriptor *d)
{
    return !strcmp(d->name, JSON_TYPE_NAME);
}

/* protoc turns `map<K, V> name` into `repeated NameEntry name` with fields key and value; the
 * descriptor keeps no flag for it, so recognise the shape. */
static int is_map_entry(const ProtobufCFieldDescriptor *f)
{
    if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label != PROTOBUF_C_LABEL_REPEATED)
        return 0;
    const ProtobufCMessageDescriptor *d = f->descriptor;
    size_t n = strlen(d->short_name);
    return d->n_fields == 2 && n > 5 && !strcmp(d->short_name + n - 5, "Entry") &&
           !strcmp(d->fields[0].name, "key") && !strcmp(d->fields[1].name, "value");
}

static const void *member(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    return (const char *)m + f->offset;
}

static void *member_mut(ProtobufCMessage *m, unsigned offset)
{
    return (char *)m + offset;
}

static size_t scalar_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    }
    return 0;
}

/* ---- protobuf -> JSON ---- */

static cJSON *value_to_json(const ProtobufCFieldDescriptor *f, const void *v);

static cJSON *message_to_json(const ProtobufCMessage *m)
{
    if (is_json_type(m->descriptor)) {
        const char *text = *(char *const *)member(m, &m->descriptor->fields[0]);
        cJSON *j = text ? cJSON_Parse(text) : NULL;
        return j ? j : cJSON_CreateNull();
    }
    cJSON *obj = cJSON_CreateObject();
    if (!obj)
        return NULL;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const void *v = member(m, f);
        cJSON *item = NULL;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
            const char *arr = *(const char *const *)v;
            if (is_map_entry(f)) {
                item = cJSON_CreateObject();
                for (size_t k = 0; item && k < n; k++) {
                    const ProtobufCMessage *e = ((const ProtobufCMessage *const *)arr)[k];
                    const ProtobufCMessageDescriptor *ed = e->descriptor;
                    const char *key = *(char *const *)member(e, &ed->fields[0]);
                    cJSON *val = value_to_json(&ed->fields[1], member(e, &ed->fields[1]));
                    if (val)
                        cJSON_AddItemToObject(item, key ? key : "", val);
                }
            } else {
                item = cJSON_CreateArray();
                size_t sz = scalar_size(f->type);
                for (size_t k = 0; item && k < n; k++) {
                    cJSON *el = value_to_json(f, arr + k * sz);
                    if (el)
                        cJSON_AddItemToArray(item, el);
                }
            }
        } else {
            int present = 1;
            if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
                present = *(const uint32_t *)((const char *)m + f->quantifier_offset) == f->id;
            } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
                if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
                    present = *(void *const *)v != NULL;
                else
                    present = *(const protobuf_c_boolean *)((const char *)m + f->quantifier_offset);
            }
            item = present ? value_to_json(f, v) : cJSON_CreateNull();
        }
        if (item)
            cJSON_AddItemToObject(obj, f->name, item);
    }
    return obj;
}

static cJSON *value_to_json(const ProtobufCFieldDescriptor *f, const void *v)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return cJSON_CreateNumber(*(const int32_t *)v);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return cJSON_CreateNumber(*(const uint32_t *)v);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: {
        /* printed exactly: cJSON would write large values in exponent form */
        char num[24];
        snprintf(num, sizeof(num), "%lld", (long long)*(const int64_t *)v);
        return cJSON_CreateRaw(num);
    }
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        char num[24];
        snprintf(num, sizeof(num), "%llu", (unsigned long long)*(const uint64_t *)v);
        return cJSON_CreateRaw(num);
    }
    case PROTOBUF_C_TYPE_FLOAT:
        return cJSON_CreateNumber(*(const float *)v);
    case PROTOBUF_C_TYPE_DOUBLE:
        return cJSON_CreateNumber(*(const double *)v);
    case PROTOBUF_C_TYPE_BOOL:
        return cJSON_CreateBool(*(const protobuf_c_boolean *)v);
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)v);
        return ev ? cJSON_CreateString(ev->name) : cJSON_CreateNumber(*(const int *)v);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)v;
        return cJSON_CreateString(s ? s : "");
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = v;
        char *s = malloc(b->len + 1);
        if (!s)
            return NULL;
        memcpy(s, b->data, b->len);
        s[b->len] = '\0';
        cJSON *j = cJSON_CreateString(s);
        free(s);
        return j;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)v;
        return sub ? message_to_json(sub) : cJSON_CreateNull();
    }
    }
    return cJSON_CreateNull();
}

cJSON *sf_pb_to_json(const ProtobufCMessage *m)
{
    return message_to_json(m);
}

/* ---- JSON -> protobuf ---- */

static int message_from_json(const ProtobufCMessageDescriptor *d, const cJSON *j, const char *path,
                             ProtobufCMessage **out, sf_error *err);

static const char *field_kind(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_BOOL:
        return "a boolean";
    case PROTOBUF_C_TYPE_STRING:
        return "a string";
    case PROTOBUF_C_TYPE_BYTES:
        return "a string";
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return "a number";
    case PROTOBUF_C_TYPE_MESSAGE:
        return "an object";
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return "a non-negative integer";
    default:
        return "an integer";
    }
}

static int integer_from_json(const cJSON *j, double lo, double hi, double *out)
{
    if (!cJSON_IsNumber(j))
        return -1;
    double v = j->valuedouble;
    if (!isfinite(v) || v != floor(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Convert one JSON value into the memory of one field element at dst. */
static int value_from_json(const ProtobufCFieldDescriptor *f, const cJSON *j, const char *path,
                           void *dst, sf_error *err)
{
    double v;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (integer_from_json(j, INT32_MIN, INT32_MAX, &v))
            break;
        *(int32_t *)dst = (int32_t)v;
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (integer_from_json(j, 0, UINT32_MAX, &v))
            break;
        *(uint32_t *)dst = (uint32_t)v;
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        /* JSON numbers are doubles: beyond 2^53 they are no longer exact integers. */
        if (integer_from_json(j, -9007199254740992.0, 9007199254740992.0, &v))
            break;
        *(int64_t *)dst = (int64_t)v;
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (integer_from_json(j, 0, 9007199254740992.0, &v))
            break;
        *(uint64_t *)dst = (uint64_t)v;
        return 0;
    case PROTOBUF_C_TYPE_FLOAT:
        if (!cJSON_IsNumber(j) || fabs(j->valuedouble) > FLT_MAX)
            break;
        *(float *)dst = (float)j->valuedouble;
        return 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        if (!cJSON_IsNumber(j))
            break;
        *(double *)dst = j->valuedouble;
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (!cJSON_IsBool(j))
            break;
        *(protobuf_c_boolean *)dst = cJSON_IsTrue(j);
        return 0;
    case PROTOBUF_C_TYPE_ENUM: {
        if (!cJSON_IsString(j))
            break;
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, j->valuestring);
        if (!ev)
            return sf_fail(err, SF_EINVAL, "%s: '%s' is not an allowed value", path,
                           j->valuestring);
        *(int *)dst = ev->value;
        return 0;
    }
    case PROTOBUF_C_TYPE_STRING: {
        if (!cJSON_IsString(j))
            break;
        char *s = strdup(j->valuestring);
        if (!s)
            return sf_fail(err, SF_EINTERNAL, "out of memory");
        *(char **)dst = s;
        return 0;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        if (!cJSON_IsString(j))
            break;
        ProtobufCBinaryData *b = dst;
        b->len = strlen(j->valuestring);
        b->data = malloc(b->len ? b->len : 1);
        if (!b->data)
            return sf_fail(err, SF_EINTERNAL, "out of memory");
        memcpy(b->data, j->valuestring, b->len);
        return 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessageDescriptor *sd = f->descriptor;
        if (is_json_type(sd)) {
            ProtobufCMessage *m = calloc(1, sd->sizeof_message);
            char *text = cJSON_PrintUnformatted(j);
            if (!m || !text) {
                free(m);
                free(text);
                return sf_fail(err, SF_EINTERNAL, "out of memory");
            }
            sd->message_init(m);
            *(char **)member_mut(m, sd->fields[0].offset) = text;
            *(ProtobufCMessage **)dst = m;
            return 0;
        }
        if (!cJSON_IsObject(j))
            break;
        return message_from_json(sd, j, path, (ProtobufCMessage **)dst, err);
    }
    }
    return sf_fail(err, SF_EINVAL, "%s must be %s", path, field_kind(f));
}

static int map_from_json(const ProtobufCFieldDescriptor *f, const cJSON *j, const char *path,
                         ProtobufCMessage *m, sf_error *err)
{
    if (!cJSON_IsObject(j))
        return sf_fail(err, SF_EINVAL, "%s must be an object", path);
    const ProtobufCMessageDescriptor *ed = f->descriptor;
    size_t n = (size_t)cJSON_GetArraySize(j);
    ProtobufCMessage **arr = calloc(n ? n : 1, sizeof(*arr));
    if (!arr)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    *(ProtobufCMessage ***)member_mut(m, f->offset) = arr;
    size_t *count = member_mut(m, f->quantifier_offset);
    const cJSON *item;
    cJSON_ArrayForEach(item, j)
    {
        char sub[256];
        snprintf(sub, sizeof(sub), "%.200s.%.50s", path, item->string);
        ProtobufCMessage *e = calloc(1, ed->sizeof_message);
        char *key = strdup(item->string);
        if (!e || !key) {
            free(e);
            free(key);
            return sf_fail(err, SF_EINTERNAL, "out of memory");
        }
        ed->message_init(e);
        *(char **)member_mut(e, ed->fields[0].offset) = key;
        arr[(*count)++] = e; /* counted before filling, so a failure frees it */
        if (cJSON_IsNull(item))
            return sf_fail(err, SF_EINVAL, "%s must not be null", sub);
        int rc =
            value_from_json(&ed->fields[1], item, sub, member_mut(e, ed->fields[1].offset), err);
        if (rc)
            return rc;
    }
    return 0;
}

static int repeated_from_json(const ProtobufCFieldDescriptor *f, const cJSON *j, const char *path,
                              ProtobufCMessage *m, sf_error *err)
{
    if (!cJSON_IsArray(j))
        return sf_fail(err, SF_EINVAL, "%s must be an array of %ss", path,
                       field_kind(f) + (field_kind(f)[1] == 'n' ? 3 : 2));
    size_t n = (size_t)cJSON_GetArraySize(j), sz = scalar_size(f->type);
    char *arr = calloc(n ? n : 1, sz);
    if (!arr)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    *(char **)member_mut(m, f->offset) = arr;
    size_t *count = member_mut(m, f->quantifier_offset);
    const cJSON *item;
    size_t k = 0;
    cJSON_ArrayForEach(item, j)
    {
        char sub[256];
        snprintf(sub, sizeof(sub), "%.200s[%zu]", path, k);
        int rc = value_from_json(f, item, sub, arr + k * sz, err);
        if (rc)
            return rc;
        *count = ++k;
    }
    return 0;
}

static int message_from_json(const ProtobufCMessageDescriptor *d, const cJSON *j, const char *path,
                             ProtobufCMessage **out, sf_error *err)
{
    ProtobufCMessage *m = calloc(1, d->sizeof_message);
    if (!m)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    d->message_init(m);
    int rc = 0;
    for (unsigned i = 0; !rc && i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char sub[256];
        snprintf(sub, sizeof(sub), "%.200s%s%.50s", path, *path ? "." : "", f->name);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, f->name);
        if (!v || cJSON_IsNull(v)) {
            if (f->label == PROTOBUF_C_LABEL_REQUIRED)
                rc = sf_fail(err, SF_EINVAL, "missing %s", sub);
            continue;
        }
        if (is_map_entry(f)) {
            rc = map_from_json(f, v, sub, m, err);
        } else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            rc = repeated_from_json(f, v, sub, m, err);
        } else {
            rc = value_from_json(f, v, sub, member_mut(m, f->offset), err);
            if (!rc && f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
                f->type != PROTOBUF_C_TYPE_MESSAGE) {
                if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
                    *(uint32_t *)member_mut(m, f->quantifier_offset) = f->id;
                else
                    *(protobuf_c_boolean *)member_mut(m, f->quantifier_offset) = 1;
            }
        }
    }
    if (rc) {
        protobuf_c_message_free_unpacked(m, NULL);
        return rc;
    }
    *out = m;
    return 0;
}

int sf_pb_from_json(const ProtobufCMessageDescriptor *desc, const cJSON *json,
                    ProtobufCMessage **out, sf_error *err)
{
    *out = NULL;
    if (!cJSON_IsObject(json))
        return sf_fail(err, SF_EINVAL, "the request body must be a JSON object");
    return message_from_json(desc, json, "", out, err);
}

ProtobufCMessage *sf_pb_copy(const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return NULL;
    protobuf_c_message_pack(m, buf);
    ProtobufCMessage *c = protobuf_c_message_unpack(m->descriptor, NULL, n, buf);
    free(buf);
    return c;
}
