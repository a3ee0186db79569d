#include "sf_tags.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Where a map<string, string> entry type keeps its key and value. -1 for another type. */
static int string_entry(const ProtobufCMessageDescriptor *d, size_t *key, size_t *value)
{
    const ProtobufCFieldDescriptor *k = protobuf_c_message_descriptor_get_field_by_name(d, "key");
    const ProtobufCFieldDescriptor *v = protobuf_c_message_descriptor_get_field_by_name(d, "value");
    if (d->n_fields != 2 || !k || !v || k->type != PROTOBUF_C_TYPE_STRING ||
        v->type != PROTOBUF_C_TYPE_STRING)
        return -1;
    *key = k->offset;
    *value = v->offset;
    return 0;
}

static char **field(void *msg, size_t offset)
{
    return (char **)((char *)msg + offset);
}

/* Build out from n (key, value) pairs that get(i, &key, &value) gives: the pointer array, the
 * entries and every string in one block. */
typedef void (*pair_fn)(const void *src, size_t i, const char **key, const char **value);

static int build(sf_tags *out, const ProtobufCMessageDescriptor *entry, const void *src, size_t n,
                 pair_fn get, sf_error *err)
{
    memset(out, 0, sizeof(*out));
    size_t koff, voff;
    if (string_entry(entry, &koff, &voff))
        return sf_fail(err, SF_EINVAL, "%s is not a map<string, string> entry", entry->name);
    const size_t align = alignof(max_align_t);
    size_t ptrs = (n * sizeof(ProtobufCMessage *) + align - 1) / align * align;
    size_t each = (entry->sizeof_message + align - 1) / align * align;
    size_t total = ptrs + n * each;
    for (size_t i = 0; i < n; i++) {
        const char *k, *v;
        get(src, i, &k, &v);
        total += strlen(k) + strlen(v) + 2;
    }
    char *mem = malloc(total ? total : 1);
    if (!mem)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    ProtobufCMessage **entries = (ProtobufCMessage **)mem;
    char *text = mem + ptrs + n * each;
    for (size_t i = 0; i < n; i++) {
        const char *k, *v;
        get(src, i, &k, &v);
        ProtobufCMessage *e = (ProtobufCMessage *)(mem + ptrs + i * each);
        protobuf_c_message_init(entry, e);
        size_t kl = strlen(k) + 1, vl = strlen(v) + 1;
        *field(e, koff) = memcpy(text, k, kl);
        *field(e, voff) = memcpy(text + kl, v, vl);
        text += kl + vl;
        entries[i] = e;
    }
    out->entries = entries;
    out->n = n;
    return 0;
}

typedef struct entries_src {
    ProtobufCMessage *const *entries;
    size_t key, value;
} entries_src;

static void entry_pair(const void *src, size_t i, const char **key, const char **value)
{
    const entries_src *s = src;
    *key = *field(s->entries[i], s->key);
    *value = *field(s->entries[i], s->value);
    if (!*key)
        *key = "";
    if (!*value)
        *value = "";
}

int sf_tags_copy(sf_tags *out, const ProtobufCMessageDescriptor *entry,
                 ProtobufCMessage *const *src, size_t n, sf_error *err)
{
    memset(out, 0, sizeof(*out));
    entries_src s = {src, 0, 0};
    if (n && string_entry(src[0]->descriptor, &s.key, &s.value))
        return sf_fail(err, SF_EINVAL, "%s is not a map<string, string> entry",
                       src[0]->descriptor->name);
    return build(out, entry, &s, n, entry_pair, err);
}

static void json_pair(const void *src, size_t i, const char **key, const char **value)
{
    const cJSON *item = ((const cJSON *const *)src)[i];
    *key = item->string;
    *value = item->valuestring;
}

int sf_tags_from_json(sf_tags *out, const ProtobufCMessageDescriptor *entry, const cJSON *obj,
                      sf_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!obj)
        return build(out, entry, NULL, 0, json_pair, err);
    if (!cJSON_IsObject(obj))
        return sf_fail(err, SF_EINVAL, "tags must be an object of strings");
    size_t n = (size_t)cJSON_GetArraySize(obj), i = 0;
    const cJSON **items = malloc((n ? n : 1) * sizeof(*items));
    if (!items)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    const cJSON *t;
    cJSON_ArrayForEach(t, obj)
    {
        if (!cJSON_IsString(t)) {
            free(items);
            return sf_fail(err, SF_EINVAL, "tag %s must be a string", t->string);
        }
        items[i++] = t;
    }
    int rc = build(out, entry, items, n, json_pair, err);
    free(items);
    return rc;
}

int sf_tags_json(ProtobufCMessage *const *src, size_t n, char **json, sf_error *err)
{
    entries_src s = {src, 0, 0};
    if (n && string_entry(src[0]->descriptor, &s.key, &s.value))
        return sf_fail(err, SF_EINVAL, "%s is not a map<string, string> entry",
                       src[0]->descriptor->name);
    cJSON *o = cJSON_CreateObject();
    int ok = o != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        const char *k, *v;
        entry_pair(&s, i, &k, &v);
        ok = cJSON_AddStringToObject(o, k, v) != NULL;
    }
    char *text = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!text)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    *json = text;
    return 0;
}

void sf_tags_clear(sf_tags *t)
{
    free(t->entries);
    memset(t, 0, sizeof(*t));
}
