#include "jobs_testcases.h"

#include <ctype.h>
#include <string.h>

int jobs_testcase_file(const char *path)
{
    size_t n = strlen(path);
    if (n < 4 || strcmp(path + n - 3, ".py") != 0)
        return 0;
    for (const char *p = path; *p; p++) {
        if (*p == '.' && (p == path || p[-1] == '/'))
            return 0; /* a hidden directory or file */
    }
    return 1;
}

static int ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* At the start of a line: "def test_name(" or "async def test_name(". Writes the name. */
static int match_def(const char *p, const char *end, char *name, size_t cap)
{
    if (end - p >= 6 && !strncmp(p, "async", 5) && (p[5] == ' ' || p[5] == '\t')) {
        p += 5;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
    }
    if (end - p < 4 || strncmp(p, "def", 3) || (p[3] != ' ' && p[3] != '\t'))
        return 0;
    p += 3;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (end - p < 5 || strncmp(p, "test_", 5))
        return 0;
    size_t n = 0;
    while (p < end && ident_char(*p) && n + 1 < cap)
        name[n++] = *p++;
    name[n] = '\0';
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p < end && *p == '(' && n < cap - 1;
}

size_t jobs_scan_python(const char *text, size_t len, void (*fn)(const char *name, void *arg),
                        void *arg)
{
    const char *p = text, *end = text + len;
    char quote = 0; /* the quote character of the string we are in, or 0 */
    int triple = 0; /* whether that string is triple-quoted */
    int at_line_start = 1;
    size_t found = 0;
    while (p < end) {
        char c = *p;
        if (quote) {
            if (c == '\\') {
                p += 2;
                continue;
            }
            if (c == quote) {
                if (!triple) {
                    quote = 0;
                } else if (end - p >= 3 && p[1] == quote && p[2] == quote) {
                    quote = 0;
                    p += 3;
                    continue;
                }
            } else if (c == '\n' && !triple) {
                quote = 0; /* an unterminated one-line string ends with its line */
            }
            if (c == '\n')
                at_line_start = 1;
            p++;
            continue;
        }
        if (at_line_start) {
            at_line_start = 0;
            char name[256];
            if (match_def(p, end, name, sizeof(name))) {
                fn(name, arg);
                found++;
            }
        }
        if (c == '#') {
            while (p < end && *p != '\n')
                p++;
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            triple = end - p >= 3 && p[1] == c && p[2] == c;
            p += triple ? 3 : 1;
            continue;
        }
        if (c == '\n')
            at_line_start = 1;
        p++;
    }
    return found;
}
