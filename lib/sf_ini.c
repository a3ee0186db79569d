#include "sf_ini.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trim [*s, *e) of white space. */
static void trim(const char **s, const char **e)
{
    while (*s < *e && is_space(**s))
        (*s)++;
    while (*e > *s && is_space((*e)[-1]))
        (*e)--;
}

static char *dup_range(const char *s, const char *e)
{
    char *out = malloc((size_t)(e - s) + 1);
    if (out) {
        memcpy(out, s, (size_t)(e - s));
        out[e - s] = '\0';
    }
    return out;
}

/* Append "\n" + continuation to the value of item (configparser joins continued lines). */
static int append_line(cJSON *item, const char *s, const char *e)
{
    size_t old = strlen(item->valuestring), add = (size_t)(e - s);
    char *v = malloc(old + 1 + add + 1);
    if (!v)
        return -1;
    memcpy(v, item->valuestring, old);
    v[old] = '\n';
    memcpy(v + old + 1, s, add);
    v[old + 1 + add] = '\0';
    char *set = cJSON_SetValuestring(item, v);
    free(v);
    if (!set)
        return -1;
    return 0;
}

int sf_ini_parse(const char *text, size_t len, cJSON **out, sf_error *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *section = NULL, *last = NULL;
    const char *p = text, *end = text + len;
    int lineno = 0, rc = 0;
    if (!root)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    if (memchr(text, '\0', len)) {
        cJSON_Delete(root);
        return sf_fail(err, SF_EINVAL, "NUL byte in INI text");
    }
    while (p < end && !rc) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *s = p, *e = nl ? nl : end;
        p = nl ? nl + 1 : end;
        lineno++;
        int indented = s < e && is_space(*s);
        trim(&s, &e);
        if (s == e) {
            last = NULL; /* a blank line ends a continued value */
            continue;
        }
        if (*s == '#' || *s == ';')
            continue;
        if (indented && last) {
            if (append_line(last, s, e))
                rc = sf_fail(err, SF_EINTERNAL, "out of memory");
            continue;
        }
        if (*s == '[') {
            const char *close = memchr(s, ']', (size_t)(e - s));
            if (!close || close + 1 != e) {
                rc = sf_fail(err, SF_EINVAL, "line %d: a section header is '[name]'", lineno);
                break;
            }
            const char *ns = s + 1, *ne = close;
            trim(&ns, &ne);
            char *name = dup_range(ns, ne);
            if (!name) {
                rc = sf_fail(err, SF_EINTERNAL, "out of memory");
                break;
            }
            section = cJSON_GetObjectItemCaseSensitive(root, name);
            if (!section && (section = cJSON_CreateObject()))
                cJSON_AddItemToObject(root, name, section);
            free(name);
            last = NULL;
            if (!section)
                rc = sf_fail(err, SF_EINTERNAL, "out of memory");
            continue;
        }
        const char *sep = s;
        while (sep < e && *sep != '=' && *sep != ':')
            sep++;
        if (sep == e || sep == s) {
            rc = sf_fail(err, SF_EINVAL, "line %d: expected 'key = value'", lineno);
            break;
        }
        if (!section) {
            rc = sf_fail(err, SF_EINVAL, "line %d: 'key = value' before any [section]", lineno);
            break;
        }
        const char *ks = s, *ke = sep, *vs = sep + 1, *ve = e;
        trim(&ks, &ke);
        trim(&vs, &ve);
        char *key = dup_range(ks, ke), *value = dup_range(vs, ve);
        if (!key || !value) {
            free(key);
            free(value);
            rc = sf_fail(err, SF_EINTERNAL, "out of memory");
            break;
        }
        for (char *k = key; *k; k++)
            *k = (char)tolower((unsigned char)*k);
        cJSON_DeleteItemFromObjectCaseSensitive(section, key);
        last = cJSON_AddStringToObject(section, key, value);
        free(key);
        free(value);
        if (!last)
            rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    if (rc) {
        cJSON_Delete(root);
        return rc;
    }
    *out = root;
    return 0;
}

const char *sf_ini_get(const cJSON *ini, const char *section, const char *key)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(ini, section);
    const cJSON *v = s ? cJSON_GetObjectItemCaseSensitive(s, key) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
