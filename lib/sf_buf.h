/* sf_buf.h - a growable byte buffer for building anything piece by piece: replies (CSV, XML),
 * logs, lines, files read whole.
 *
 * Appending never fails visibly: when memory runs out the buffer remembers it (oom) and ignores
 * further appends, so a writer checks once, at the end. The data is always NUL-terminated after
 * the first append. */
#ifndef SF_BUF_H
#define SF_BUF_H

#include <stddef.h>

typedef struct sf_buf {
    char *data; /* malloc'd; NULL until the first append */
    size_t len;
    size_t cap;
    int oom;
} sf_buf;

#define SF_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

void sf_buf_append(sf_buf *b, const void *p, size_t n);
void sf_buf_puts(sf_buf *b, const char *s);
void sf_buf_putc(sf_buf *b, char c);
void sf_buf_printf(sf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Make room for n more bytes; 0, or -1 (and oom set) when memory ran out. */
int sf_buf_reserve(sf_buf *b, size_t n);

/* Hand the data to the caller (free() it) and leave the buffer empty. NULL when out of memory
 * (the buffer is then freed). *len receives the length. */
char *sf_buf_take(sf_buf *b, size_t *len);

/* Empty the buffer, keeping its memory for what comes next, and forget an earlier failure to
 * grow it (the data held then is gone anyway). */
void sf_buf_reset(sf_buf *b);

void sf_buf_free(sf_buf *b);

#endif
