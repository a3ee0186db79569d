#include "gw_router.h"

#include <string.h>

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The byte at *p, decoding a %XX escape (a '%' without two hex digits is itself); *p moves past
 * it. */
static unsigned char next_byte(const char **p)
{
    const char *s = *p;
    int hi, lo;
    if (s[0] == '%' && (hi = hex_digit(s[1])) >= 0 && (lo = hex_digit(s[2])) >= 0) {
        *p = s + 3;
        return (unsigned char)(hi << 4 | lo);
    }
    *p = s + 1;
    return (unsigned char)s[0];
}

int gw_path_normalize(const char *raw, char *out, size_t len, sf_error *err)
{
    size_t o = 0;
    if (!raw || raw[0] != '/')
        return sf_fail(err, SF_EINVAL, "malformed path: it must start with '/'");
    for (const char *p = raw; *p;) {
        unsigned char b = next_byte(&p);
        if (b == 0)
            return sf_fail(err, SF_EINVAL, "malformed path: a NUL (%%00) is not allowed");
        if (b < 0x20 || b == 0x7f)
            return sf_fail(err, SF_EINVAL, "malformed path: control characters are not allowed");
        if (b == '/' && o > 0 && out[o - 1] == '/')
            continue;    /* repeated slashes collapse */
        if (o + 2 > len) /* this byte and the terminator */
            return sf_fail(err, SF_ETOOLARGE, "the path is too long");
        out[o++] = (char)b;
    }
    if (o > 1 && out[o - 1] == '/')
        o--; /* a trailing slash */
    out[o] = '\0';
    return 0;
}

static int is_dots(const char *seg, size_t n)
{
    return (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.');
}

int gw_path_has_dots(const char *path)
{
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        const char *seg = p;
        while (*p && *p != '/')
            p++;
        if (is_dots(seg, (size_t)(p - seg)))
            return 1;
    }
    return 0;
}

/* Split "/a/b/c" into segments pointing into buf (a copy of path with '/' replaced by NULs). */
static size_t split(const char *path, char *buf, size_t buflen, char **segs, size_t max)
{
    size_t n = strlen(path);
    if (n + 1 > buflen)
        return (size_t)-1;
    memcpy(buf, path, n + 1);
    size_t count = 0;
    for (char *p = buf; *p;) {
        if (*p == '/') {
            *p++ = '\0';
            continue;
        }
        if (count == max)
            return (size_t)-1;
        segs[count++] = p;
        while (*p && *p != '/')
            p++;
    }
    return count;
}

int gw_pattern_match(const char *pattern, const char *path, gw_params *params)
{
    char *segs[GW_MAX_SEGS];
    size_t nsegs = split(path, params->buf, sizeof(params->buf), segs, GW_MAX_SEGS);
    if (nsegs == (size_t)-1)
        return 0;
    params->n = 0;
    size_t s = 0, vused = 0;
    const char *p = pattern;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *pseg = p;
        while (*p && *p != '/')
            p++;
        size_t plen = (size_t)(p - pseg);
        if (pseg[0] != '{') {
            if (s >= nsegs || strlen(segs[s]) != plen || memcmp(segs[s], pseg, plen))
                return 0;
            s++;
            continue;
        }
        /* a parameter: {name}, {name:N} or {name*} */
        const char *name = pseg + 1, *close = pseg + plen - 1;
        const char *colon = memchr(name, ':', (size_t)(close - name));
        size_t take;
        int rest = close[-1] == '*', slash_first = 0;
        size_t name_len = (size_t)((colon ? colon : close - rest) - name);
        if (rest) {
            /* all but what the pattern's remaining segments need, one each */
            size_t after = 0;
            for (const char *q = p; *q; q++)
                after += *q == '/' && q[1] && q[1] != '/';
            if (s + after >= nsegs)
                return 0;
            take = nsegs - s - after;
        } else if (colon) {
            take = 0;
            for (const char *d = colon + 1; d < close; d++)
                take = take * 10 + (size_t)(*d - '0');
            slash_first = 1;
        } else {
            take = 1;
        }
        if (take == 0 || s + take > nsegs || params->n == GW_MAX_PARAMS)
            return 0;
        for (size_t k = 0; !rest && k < take; k++) {
            if (is_dots(segs[s + k], strlen(segs[s + k])))
                return 0;
        }
        /* Copy the taken segments, joined by '/', into the value buffer. */
        char *start = params->vbuf + vused;
        for (size_t k = 0; k < take; k++) {
            size_t n = strlen(segs[s + k]);
            if (k > 0 || slash_first)
                params->vbuf[vused++] = '/';
            memcpy(params->vbuf + vused, segs[s + k], n);
            vused += n;
        }
        params->vbuf[vused++] = '\0';
        params->name[params->n] = name;
        params->name_len[params->n] = name_len;
        params->value[params->n] = start;
        params->n++;
        s += take;
    }
    return s == nsegs;
}
