#include "jobs_validate.h"

#include <string.h>

int jobs_utf8_valid(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        unsigned c = *s;
        int n;
        unsigned min;
        if (c < 0x80) {
            s++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            min = 0x80;
            c &= 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            min = 0x800;
            c &= 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            min = 0x10000;
            c &= 0x07;
        } else {
            return 0;
        }
        for (int i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            c = (c << 6) | (s[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return 0;
        s += n + 1;
    }
    return 1;
}

int jobs_category_check(const char *category, sf_error *err)
{
    if (!*category)
        return sf_fail(err, SF_EINVAL, "category must not be empty");
    if (!jobs_utf8_valid(category))
        return sf_fail(err, SF_EINVAL, "category must be valid UTF-8");
    if (category[0] == '.' || category[0] == '-')
        return sf_fail(err, SF_EINVAL, "category must not start with '.' or '-'");
    for (const unsigned char *p = (const unsigned char *)category; *p; p++) {
        if (*p == '/' || *p == ':' || *p == '$')
            return sf_fail(err, SF_EINVAL, "category must not contain '%c'", *p);
        if (*p == '\n')
            return sf_fail(err, SF_EINVAL, "category must not contain a newline");
        if (*p < 0x20 || *p == 0x7f)
            return sf_fail(err, SF_EINVAL, "category must not contain control characters");
    }
    /* C1 control characters U+0080..U+009F are encoded as C2 80..C2 9F */
    for (const unsigned char *p = (const unsigned char *)category; p[0] && p[1]; p++) {
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            return sf_fail(err, SF_EINVAL, "category must not contain control characters");
    }
    return 0;
}

int jobs_soak_check(const char *soak, sf_error *err)
{
    if (!strcmp(soak, "run once") || !strcmp(soak, "run forever"))
        return 0;
    return sf_fail(err, SF_EINVAL, "soak must be \"run once\" or \"run forever\", not \"%.64s\"",
                   soak);
}

int jobs_test_case_shape_ok(const char *name)
{
    const char *sep = strstr(name, "::");
    if (!sep || sep == name || !sep[2] || strstr(sep + 2, "::"))
        return 0;
    return sep - name > 3 && !strncmp(sep - 3, ".py", 3);
}
