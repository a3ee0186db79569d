#include "sf_utf8.h"

#include <stdlib.h>
#include <string.h>

size_t sf_utf8_seq_len(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n == 0)
        return 0;
    if (u[0] < 0x80)
        return 1;
    size_t len;
    unsigned lo = 0x80, hi = 0xbf; /* the allowed range of the second byte */
    if (u[0] >= 0xc2 && u[0] <= 0xdf) {
        len = 2;
    } else if (u[0] >= 0xe0 && u[0] <= 0xef) {
        len = 3;
        if (u[0] == 0xe0)
            lo = 0xa0; /* overlong */
        if (u[0] == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
        len = 4;
        if (u[0] == 0xf0)
            lo = 0x90;
        if (u[0] == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || u[1] < lo || u[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++) {
        if (u[i] < 0x80 || u[i] > 0xbf)
            return 0;
    }
    return len;
}

int sf_utf8_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t l = sf_utf8_seq_len(s + i, n - i);
        if (!l)
            return 0;
        i += l;
    }
    return 1;
}

char *sf_utf8_repair(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1); /* each bad byte becomes three */
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t l = sf_utf8_seq_len(s + i, n - i);
        if (l) {
            memcpy(out + o, s + i, l);
            o += l;
            i += l;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    return out;
}
