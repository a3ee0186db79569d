/* A reservation message as a user sends it: the checks, then Markdown -> HTML. Whatever the
 * input, the HTML holds only the tags cmark makes from Markdown (raw HTML is escaped, never
 * passed through) and no link to a javascript:, vbscript: or file: URL. */
#include "fuzz.h"
#include "resv_input.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const TAGS[] = {"p",  "em", "strong", "a",          "img", "code", "pre",
                                   "ul", "ol", "li",     "blockquote", "h1",  "h2",   "h3",
                                   "h4", "h5", "h6",     "hr",         "br"};

static int allowed_tag(const char *p)
{
    if (*p == '/')
        p++;
    for (size_t i = 0; i < sizeof(TAGS) / sizeof(TAGS[0]); i++) {
        size_t n = strlen(TAGS[i]);
        if (!strncmp(p, TAGS[i], n) && (p[n] == '>' || p[n] == ' ' || p[n] == '/'))
            return 1;
    }
    return 0;
}

static int dangerous_url(const char *v)
{
    return !strncasecmp(v, "javascript:", 11) || !strncasecmp(v, "vbscript:", 9) ||
           !strncasecmp(v, "file:", 5);
}

static void check_html(const char *html)
{
    for (const char *p = strchr(html, '<'); p; p = strchr(p + 1, '<')) {
        if (!allowed_tag(p + 1))
            abort();
    }
    for (const char *p = html; (p = strstr(p, " href=\"")); p += 7) {
        if (dangerous_url(p + 7))
            abort();
    }
    for (const char *p = html; (p = strstr(p, " src=\"")); p += 6) {
        if (dangerous_url(p + 6))
            abort();
    }
}

static void one_input(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = '\0';
    if (resv_check_message("message", text, NULL) == 0) {
        char *html = NULL;
        if (resv_markdown_html(text, strlen(text), &html, NULL) == 0) {
            check_html(html);
            free(html);
        }
    }
    free(text);
}

FUZZ_TARGET(FUZZ_SERVICE_STACK, one_input)
