#include "sf_ini.h"

#include "sf_buf.h"

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

/* The key = value being read: it is stored once its continuation lines have all been read, so
 * that a long continued value is built in one buffer instead of copied at every line. */
typedef struct pending {
    cJSON *section;
    char *key;
    sf_buf value;
    long n_keys; /* keys of the section so far, for the bound */
} pending;

/* Store the pending value, if any. 0, or -1 when out of memory. */
static int commit(pending *pd)
{
    if (!pd->key)
        return 0;
    sf_buf_putc(&pd->value, '\0');
    int rc = pd->value.oom ? -1 : 0;
    if (!rc) {
        cJSON_DeleteItemFromObjectCaseSensitive(pd->section, pd->key);
        if (!cJSON_AddStringToObject(pd->section, pd->key, pd->value.data))
            rc = -1;
    }
    free(pd->key);
    pd->key = NULL;
    sf_buf_free(&pd->value);
    return rc;
}

int sf_ini_parse(const char *text, size_t len, cJSON **out, sf_error *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *section = NULL;
    pending pd = {NULL, NULL, SF_BUF_INIT, 0};
    const char *p = text, *end = text + len;
    int lineno = 0, rc = 0, n_sections = 0;
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
            if (commit(&pd)) /* a blank line ends a continued value */
                rc = sf_fail(err, SF_EINTERNAL, "out of memory");
            continue;
        }
        if (*s == '#' || *s == ';')
            continue;
        if (indented && pd.key) { /* configparser joins continued lines with "\n" */
            sf_buf_putc(&pd.value, '\n');
            sf_buf_append(&pd.value, s, (size_t)(e - s));
            continue;
        }
        if (commit(&pd)) {
            rc = sf_fail(err, SF_EINTERNAL, "out of memory");
            break;
        }
        if (*s == '[') {
            const char *close = memchr(s, ']', (size_t)(e - s));
            if (!close || close + 1 != e) {
                rc = sf_fail(err, SF_EINVAL, "line %d: a section header is '[name]'", lineno);
                break;
            }
            if (++n_sections > SF_INI_MAX_SECTIONS) {
                rc = sf_fail(err, SF_EINVAL, "line %d: more than %d sections", lineno,
                             SF_INI_MAX_SECTIONS);
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
            pd.n_keys = cJSON_GetArraySize(section);
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
        if (++pd.n_keys > SF_INI_MAX_KEYS) {
            rc = sf_fail(err, SF_EINVAL, "line %d: more than %d keys in one section", lineno,
                         SF_INI_MAX_KEYS);
            break;
        }
        const char *ks = s, *ke = sep, *vs = sep + 1, *ve = e;
        trim(&ks, &ke);
        trim(&vs, &ve);
        if (!(pd.key = dup_range(ks, ke))) {
            rc = sf_fail(err, SF_EINTERNAL, "out of memory");
            break;
        }
        for (char *k = pd.key; *k; k++)
            *k = (char)tolower((unsigned char)*k);
        pd.section = section;
        sf_buf_append(&pd.value, vs, (size_t)(ve - vs));
    }
    if (!rc && commit(&pd))
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
    free(pd.key);
    sf_buf_free(&pd.value);
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
