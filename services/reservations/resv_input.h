/* resv_input.h - what the reservations service accepts from users, and the Markdown it renders.
 * Pure code (no I/O), unit-tested and fuzzed on its own.
 *
 * Messages are Markdown. They are rendered with libcmark (CommonMark) with raw HTML *escaped*:
 * every HTML block or inline HTML node of the parse tree becomes a text node before rendering,
 * so "<script>" reaches the page as the text &lt;script&gt;, never as markup. Links and images
 * keep cmark's safe mode: javascript:, vbscript:, file: and non-image data: URLs are dropped.
 * The final newline cmark writes is dropped, as in the spec's examples. */
#ifndef RESV_INPUT_H
#define RESV_INPUT_H

#include "sf_err.h"

#include <stddef.h>
#include <stdint.h>

#define RESV_MESSAGE_MAX       65536                     /* bytes of one message */
#define RESV_MAX_NODES         1000                      /* node_ids in one request */
#define RESV_MAX_DURATION_SECS (100LL * 366 * 24 * 3600) /* a century: "forever" is null */

/* A mandatory message: present, not blank, at most RESV_MESSAGE_MAX bytes of UTF-8. field names
 * it in the error ("message"). Returns 0 or SF_EINVAL. */
int resv_check_message(const char *field, const char *text, sf_error *err);

/* A duration: has says whether it was given. Given, it must be 1..RESV_MAX_DURATION_SECS;
 * absent is fine unless mandatory. Returns 0 or SF_EINVAL. */
int resv_check_duration(int has, int64_t secs, int mandatory, sf_error *err);

/* The node_ids of a reservation request: 1..RESV_MAX_NODES of them, none twice. Whether each
 * names a node is for the store to say (404). Returns 0 or SF_EINVAL. */
int resv_check_node_ids(char *const *ids, size_t n, sf_error *err);

/* 1 when the len bytes at s are well-formed UTF-8 (no overlongs, surrogates or code points
 * beyond U+10FFFF). */
int resv_utf8_valid(const char *s, size_t len);

/* Render Markdown to HTML with raw HTML escaped (see above). Returns 0 with *html to free with
 * free(), or SF_EINTERNAL when out of memory. */
int resv_markdown_html(const char *text, size_t len, char **html, sf_error *err);

#endif
