#include "sf_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sf_buf_reserve(sf_buf *b, size_t n)
{
    if (b->oom)
        return -1;
    if (b->len + n + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) {
        if (cap > ((size_t)-1) / 2) {
            b->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (!d) {
        b->oom = 1;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

void sf_buf_append(sf_buf *b, const void *p, size_t n)
{
    if (sf_buf_reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sf_buf_puts(sf_buf *b, const char *s)
{
    sf_buf_append(b, s, strlen(s));
}

void sf_buf_putc(sf_buf *b, char c)
{
    sf_buf_append(b, &c, 1);
}

void sf_buf_printf(sf_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || sf_buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *sf_buf_take(sf_buf *b, size_t *len)
{
    if (b->oom) {
        sf_buf_free(b);
        return NULL;
    }
    if (sf_buf_reserve(b, 0))
        return NULL;
    char *d = b->data;
    *len = b->len;
    memset(b, 0, sizeof(*b));
    return d;
}

void sf_buf_reset(sf_buf *b)
{
    b->len = 0;
    b->oom = 0;
    if (b->data)
        b->data[0] = '\0';
}

void sf_buf_free(sf_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}
