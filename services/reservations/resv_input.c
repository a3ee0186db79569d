#include "resv_input.h"

#include <cmark.h>
#include <stdlib.h>
#include <string.h>

int resv_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        size_t n;
        unsigned min, cp;
        if (c < 0x80) {
            p++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1, min = 0x80, cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2, min = 0x800, cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return 0;
        }
        if ((size_t)(end - p) <= n)
            return 0;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        p += n + 1;
    }
    return 1;
}

int resv_check_message(const char *field, const char *text, sf_error *err)
{
    if (!text)
        return sf_fail(err, SF_EINVAL, "%s is mandatory", field);
    size_t len = strlen(text);
    if (strspn(text, " \t\r\n") == len)
        return sf_fail(err, SF_EINVAL, "%s must not be empty", field);
    if (len > RESV_MESSAGE_MAX)
        return sf_fail(err, SF_EINVAL, "%s must be at most %d bytes long", field, RESV_MESSAGE_MAX);
    if (!resv_utf8_valid(text, len))
        return sf_fail(err, SF_EINVAL, "%s must be valid UTF-8", field);
    return 0;
}

int resv_check_duration(int has, int64_t secs, int mandatory, sf_error *err)
{
    if (!has)
        return mandatory ? sf_fail(err, SF_EINVAL, "duration_secs is mandatory") : 0;
    if (secs <= 0 || secs > RESV_MAX_DURATION_SECS)
        return sf_fail(err, SF_EINVAL, "duration_secs must be a positive integer of at most %lld",
                       (long long)RESV_MAX_DURATION_SECS);
    return 0;
}

int resv_check_node_ids(char *const *ids, size_t n, sf_error *err)
{
    if (n == 0)
        return sf_fail(err, SF_EINVAL, "node_ids is mandatory and must not be empty");
    if (n > RESV_MAX_NODES)
        return sf_fail(err, SF_EINVAL, "node_ids may name at most %d nodes", RESV_MAX_NODES);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(ids[i], ids[j]))
                return sf_fail(err, SF_EINVAL, "node_ids names '%.64s' twice", ids[i]);
        }
    }
    return 0;
}

/* A text node holding what an HTML node held, so that the renderer escapes it. An HTML block
 * becomes a paragraph of that text; its trailing newlines go, as a paragraph's would. */
static cmark_node *as_text(cmark_node *html)
{
    const char *lit = cmark_node_get_literal(html);
    size_t n = lit ? strlen(lit) : 0;
    while (n > 0 && (lit[n - 1] == '\n' || lit[n - 1] == '\r'))
        n--;
    char *copy = strndup(lit ? lit : "", n);
    cmark_node *text = cmark_node_new(CMARK_NODE_TEXT);
    if (!copy || !text || !cmark_node_set_literal(text, copy)) {
        free(copy);
        cmark_node_free(text);
        return NULL;
    }
    free(copy);
    if (cmark_node_get_type(html) == CMARK_NODE_HTML_INLINE)
        return text;
    cmark_node *para = cmark_node_new(CMARK_NODE_PARAGRAPH);
    if (!para || !cmark_node_append_child(para, text)) {
        cmark_node_free(para);
        cmark_node_free(text);
        return NULL;
    }
    return para;
}

int resv_markdown_html(const char *text, size_t len, char **html, sf_error *err)
{
    *html = NULL;
    cmark_node *doc = cmark_parse_document(text, len, CMARK_OPT_DEFAULT);
    cmark_iter *it = doc ? cmark_iter_new(doc) : NULL;
    cmark_node **raw = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    if (!it) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    /* Collect first: the tree must not change under the iterator. */
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *node = cmark_iter_get_node(it);
        cmark_node_type type = cmark_node_get_type(node);
        if (ev != CMARK_EVENT_ENTER ||
            (type != CMARK_NODE_HTML_BLOCK && type != CMARK_NODE_HTML_INLINE))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            cmark_node **grown = realloc(raw, cap * sizeof(*raw));
            if (!grown) {
                rc = sf_fail(err, SF_EINTERNAL, "out of memory");
                goto cleanup;
            }
            raw = grown;
        }
        raw[n++] = node;
    }
    for (size_t i = 0; i < n; i++) {
        cmark_node *repl = as_text(raw[i]);
        if (!repl || !cmark_node_replace(raw[i], repl)) {
            cmark_node_free(repl);
            rc = sf_fail(err, SF_EINTERNAL, "out of memory");
            goto cleanup;
        }
        cmark_node_free(raw[i]);
    }
    /* Safe mode (no CMARK_OPT_UNSAFE) also drops dangerous link and image URLs. */
    if (!(*html = cmark_render_html(doc, CMARK_OPT_DEFAULT))) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    size_t end = strlen(*html); /* the spec's message_html has no final newline */
    while (end > 0 && (*html)[end - 1] == '\n')
        (*html)[--end] = '\0';
cleanup:
    free(raw);
    if (it)
        cmark_iter_free(it);
    if (doc)
        cmark_node_free(doc);
    return rc;
}
