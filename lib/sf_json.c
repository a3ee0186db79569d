#include "sf_json.h"

#include "sf_buf.h"
#include "sf_utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The keys seen so far, each tagged with the object it belongs to, in one open-addressing table
 * over the whole text: duplicate keys are found in one pass, whatever the number of objects. */
typedef struct key_slot {
    uint32_t obj; /* the object's number, from 1; 0: empty slot */
    uint32_t hash;
    size_t off, len; /* the unescaped key, in the arena */
} key_slot;

typedef struct checker {
    const unsigned char *s;
    size_t len, pos;
    sf_error *err;
    sf_buf arena; /* unescaped keys */
    key_slot *slots;
    size_t n_slots, used;
} checker;

static int bad(checker *c, size_t at, const char *what)
{
    return sf_fail(c->err, SF_EINVAL, "invalid JSON at byte %zu: %s", at, what);
}

static int oom(checker *c)
{
    return sf_fail(c->err, SF_EINTERNAL, "out of memory");
}

static uint32_t fnv1a(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

static int grow_slots(checker *c)
{
    size_t n = c->n_slots ? c->n_slots * 2 : 64;
    key_slot *s = calloc(n, sizeof(*s));
    if (!s)
        return -1;
    for (size_t i = 0; i < c->n_slots; i++) {
        if (!c->slots[i].obj)
            continue;
        size_t j = c->slots[i].hash & (n - 1);
        while (s[j].obj)
            j = (j + 1) & (n - 1);
        s[j] = c->slots[i];
    }
    free(c->slots);
    c->slots = s;
    c->n_slots = n;
    return 0;
}

/* Record the key arena[off..] of object obj; 1 when the object already had it, -1 when out of
 * memory. A repeated key's bytes are dropped from the arena again. */
static int add_key(checker *c, uint32_t obj, size_t off)
{
    if ((c->used + 1) * 2 > c->n_slots && grow_slots(c))
        return -1;
    size_t len = c->arena.len - off;
    const char *key = c->arena.data ? c->arena.data + off : "";
    uint32_t h = fnv1a(key, len) ^ (obj * 2654435761u);
    size_t j = h & (c->n_slots - 1);
    for (; c->slots[j].obj; j = (j + 1) & (c->n_slots - 1)) {
        const key_slot *k = &c->slots[j];
        if (k->obj == obj && k->hash == h && k->len == len &&
            (len == 0 || !memcmp(c->arena.data + k->off, key, len))) {
            c->arena.len = off;
            return 1;
        }
    }
    c->slots[j] = (key_slot){obj, h, off, len};
    c->used++;
    return 0;
}

static int hex4(const unsigned char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char ch = p[i];
        v <<= 4;
        if (ch >= '0' && ch <= '9')
            v |= ch - '0';
        else if (ch >= 'a' && ch <= 'f')
            v |= ch - 'a' + 10;
        else if (ch >= 'A' && ch <= 'F')
            v |= ch - 'A' + 10;
        else
            return -1;
    }
    *out = v;
    return 0;
}

static void put_utf8(sf_buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    sf_buf_append(b, u, n);
}

/* The string at c->pos (its opening quote); on success c->pos is past the closing quote. With
 * keep, the unescaped text is appended to the arena. */
static int scan_string(checker *c, int keep)
{
    size_t start = c->pos++;
    while (c->pos < c->len) {
        unsigned char ch = c->s[c->pos];
        if (ch == '"') {
            c->pos++;
            return c->arena.oom ? oom(c) : 0;
        }
        if (ch < 0x20) {
            char what[96];
            snprintf(what, sizeof(what),
                     "a control character (U+%04X) inside a string must be written as an escape",
                     ch);
            return ch ? bad(c, c->pos, what)
                      : bad(c, c->pos, "a NUL byte inside a string (a NUL is never allowed)");
        }
        if (ch >= 0x80) {
            size_t n = sf_utf8_seq_len((const char *)c->s + c->pos, c->len - c->pos);
            if (!n)
                return bad(c, c->pos, "invalid UTF-8 inside a string");
            if (keep)
                sf_buf_append(&c->arena, c->s + c->pos, n);
            c->pos += n;
            continue;
        }
        if (ch != '\\') {
            if (keep)
                sf_buf_putc(&c->arena, (char)ch);
            c->pos++;
            continue;
        }
        if (c->pos + 1 >= c->len)
            break;
        unsigned char e = c->s[c->pos + 1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char unescaped[] = "\"\\/\b\f\n\r\t";
            if (keep)
                sf_buf_putc(&c->arena, unescaped[simple - "\"\\/bfnrt"]);
            c->pos += 2;
            continue;
        }
        if (e != 'u')
            return bad(c, c->pos,
                       "an unknown escape in a string (only \\\" \\\\ \\/ \\b \\f \\n "
                       "\\r \\t and \\uXXXX are JSON)");
        unsigned cp, lo;
        if (c->pos + 6 > c->len || hex4(c->s + c->pos + 2, &cp))
            return bad(c, c->pos, "\\u must be followed by four hexadecimal digits");
        if (cp == 0)
            return bad(c, c->pos, "\\u0000 inside a string (a NUL is never allowed)");
        if (cp >= 0xdc00 && cp <= 0xdfff)
            return bad(c, c->pos, "a low surrogate escape without a high surrogate before it");
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (c->pos + 12 > c->len || c->s[c->pos + 6] != '\\' || c->s[c->pos + 7] != 'u' ||
                hex4(c->s + c->pos + 8, &lo) || lo < 0xdc00 || lo > 0xdfff)
                return bad(c, c->pos,
                           "a high surrogate escape not followed by a low surrogate escape");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            c->pos += 6;
        }
        if (keep)
            put_utf8(&c->arena, cp);
        c->pos += 6;
    }
    return bad(c, start, "a string that is never closed");
}

static int is_digit(unsigned char ch)
{
    return ch >= '0' && ch <= '9';
}

static int scan_number(checker *c)
{
    size_t start = c->pos;
    if (c->s[c->pos] == '-')
        c->pos++;
    if (c->pos >= c->len || !is_digit(c->s[c->pos]))
        return bad(c, start, "a '-' must be followed by digits");
    if (c->s[c->pos] == '0' && c->pos + 1 < c->len && is_digit(c->s[c->pos + 1]))
        return bad(c, start, "a number must not start with a leading zero");
    while (c->pos < c->len && is_digit(c->s[c->pos]))
        c->pos++;
    if (c->pos < c->len && c->s[c->pos] == '.') {
        c->pos++;
        if (c->pos >= c->len || !is_digit(c->s[c->pos]))
            return bad(c, c->pos, "a '.' in a number must be followed by digits");
        while (c->pos < c->len && is_digit(c->s[c->pos]))
            c->pos++;
    }
    if (c->pos < c->len && (c->s[c->pos] == 'e' || c->s[c->pos] == 'E')) {
        c->pos++;
        if (c->pos < c->len && (c->s[c->pos] == '+' || c->s[c->pos] == '-'))
            c->pos++;
        if (c->pos >= c->len || !is_digit(c->s[c->pos]))
            return bad(c, c->pos, "an exponent must have digits");
        while (c->pos < c->len && is_digit(c->s[c->pos]))
            c->pos++;
    }
    if (c->pos - start > SF_JSON_MAX_NUMBER)
        return bad(c, start, "a number longer than 63 characters");
    return 0;
}

static int scan_literal(checker *c)
{
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if (c->len - c->pos >= n && !memcmp(c->s + c->pos, words[i], n)) {
            c->pos += n;
            return 0;
        }
    }
    return -1;
}

static void skip_ws(checker *c)
{
    while (c->pos < c->len && (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' ||
                               c->s[c->pos] == '\n' || c->s[c->pos] == '\r'))
        c->pos++;
}

/* What may come next. */
enum expect { VALUE, VALUE_OR_END, KEY, KEY_OR_END, AFTER_VALUE };

static int unexpected(checker *c, enum expect want, int after_comma)
{
    unsigned char ch = c->s[c->pos];
    if (after_comma && (ch == ']' || ch == '}'))
        return bad(c, c->pos, "a trailing comma");
    if (ch == '/')
        return bad(c, c->pos, "comments are not JSON");
    if (want == KEY || want == KEY_OR_END)
        return bad(c, c->pos, "an object key must be a string in double quotes");
    if (want == AFTER_VALUE)
        return bad(c, c->pos, "expected ',' or the end of the array or object");
    if (ch == '\'')
        return bad(c, c->pos, "strings must be in double quotes");
    return bad(c, c->pos, "expected a value");
}

/* The deepest nesting any caller may ask for: the checker's own stack. */
enum { DEPTH_CAP = 255 };

static int check(checker *c, int max_depth)
{
    /* The open arrays ('[') and objects ('{', with their number), innermost last. */
    char kind[DEPTH_CAP];
    uint32_t obj[DEPTH_CAP];
    uint32_t n_objects = 0;
    int depth = 0, after_comma = 0, rc;
    enum expect want = VALUE;
    if (max_depth < 0 || max_depth > DEPTH_CAP)
        max_depth = DEPTH_CAP;
    for (;;) {
        skip_ws(c);
        if (c->pos == c->len) {
            if (want == AFTER_VALUE && depth == 0)
                return 0;
            return bad(c, c->pos, c->len ? "the text ends inside a value" : "the body is empty");
        }
        unsigned char ch = c->s[c->pos];
        switch (want) {
        case VALUE_OR_END:
            if (ch == ']') {
                c->pos++;
                depth--;
                want = AFTER_VALUE;
                continue;
            }
            /* fall through */
        case VALUE:
            if (ch == '[' || ch == '{') {
                if (depth == max_depth) {
                    char what[64];
                    snprintf(what, sizeof(what), "nested more than %d levels deep", max_depth);
                    return bad(c, c->pos, what);
                }
                kind[depth] = (char)ch;
                if (ch == '{') {
                    if (n_objects == UINT32_MAX)
                        return bad(c, c->pos, "too many objects");
                    obj[depth] = ++n_objects;
                }
                depth++;
                c->pos++;
                want = ch == '[' ? VALUE_OR_END : KEY_OR_END;
                after_comma = 0;
                continue;
            }
            if (ch == '"')
                rc = scan_string(c, 0);
            else if (ch == '-' || is_digit(ch))
                rc = scan_number(c);
            else if ((rc = scan_literal(c)))
                return unexpected(c, want, after_comma);
            if (rc)
                return rc;
            want = AFTER_VALUE;
            continue;
        case KEY_OR_END:
            if (ch == '}') {
                c->pos++;
                depth--;
                want = AFTER_VALUE;
                continue;
            }
            /* fall through */
        case KEY: {
            if (ch != '"')
                return unexpected(c, want, after_comma);
            size_t at = c->pos, off = c->arena.len;
            if ((rc = scan_string(c, 1)))
                return rc;
            int dup = add_key(c, obj[depth - 1], off);
            if (dup < 0)
                return oom(c);
            if (dup) {
                /* the key as written, cut at a character boundary: the message must be UTF-8 */
                size_t n = 0;
                for (size_t l; n < 64 && at + n < c->pos; n += l) {
                    l = sf_utf8_seq_len((const char *)c->s + at + n, c->pos - at - n);
                    if (!l || n + l > 64)
                        break;
                }
                char what[128];
                snprintf(what, sizeof(what), "a key repeated in one object: %.*s%s", (int)n,
                         (const char *)c->s + at, at + n < c->pos ? "..." : "");
                return bad(c, at, what);
            }
            skip_ws(c);
            if (c->pos == c->len || c->s[c->pos] != ':')
                return bad(c, c->pos, "expected ':' after an object key");
            c->pos++;
            want = VALUE;
            after_comma = 0;
            continue;
        }
        case AFTER_VALUE:
            if (depth == 0)
                return bad(c, c->pos, "text after the JSON value");
            if (ch == ',') {
                c->pos++;
                want = kind[depth - 1] == '[' ? VALUE : KEY;
                after_comma = 1;
                continue;
            }
            if ((ch == ']' && kind[depth - 1] == '[') || (ch == '}' && kind[depth - 1] == '{')) {
                c->pos++;
                depth--;
                continue;
            }
            return unexpected(c, want, 0);
        }
    }
}

int sf_json_check(const char *text, size_t len, int max_depth, sf_error *err)
{
    checker c = {(const unsigned char *)text, len, 0, err, SF_BUF_INIT, NULL, 0, 0};
    int rc = check(&c, max_depth);
    sf_buf_free(&c.arena);
    free(c.slots);
    return rc;
}

int sf_json_parse(const char *text, size_t len, cJSON **out, sf_error *err)
{
    *out = NULL;
    int rc = sf_json_check(text, len, SF_JSON_MAX_DEPTH, err);
    if (rc)
        return rc;
    cJSON *j = cJSON_ParseWithLength(text, len);
    if (!j) /* the check passed, so only memory can have run out */
        return sf_fail(err, SF_EINTERNAL, "out of memory parsing JSON");
    *out = j;
    return 0;
}

int sf_json_parse_object(const char *text, size_t len, cJSON **out, sf_error *err)
{
    int rc = sf_json_parse(text, len, out, err);
    if (rc)
        return rc;
    if (!cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return sf_fail(err, SF_EINVAL, "the request body must be a JSON object");
    }
    return 0;
}
