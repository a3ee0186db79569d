/* sf_utf8.h - UTF-8 checks. Everything stbfarm writes as JSON, CSV or XML must be valid UTF-8,
 * but test output (failure reasons, tracebacks, logs) is whatever a test printed. */
#ifndef SF_UTF8_H
#define SF_UTF8_H

#include <stddef.h>

/* 1 when the n bytes of s are valid UTF-8 (no overlong forms, surrogates or code points above
 * U+10FFFF). */
int sf_utf8_valid(const char *s, size_t n);

/* The length of the valid UTF-8 sequence at s (at most n bytes), or 0 when s does not start
 * one. */
size_t sf_utf8_seq_len(const char *s, size_t n);

/* A copy of the NUL-terminated s with every invalid byte replaced by U+FFFD; NULL when out of
 * memory. The caller frees it. */
char *sf_utf8_repair(const char *s);

#endif
