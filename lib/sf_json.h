/* sf_json.h - JSON text from outside, checked strictly before anything parses it.
 *
 * cJSON accepts much that RFC 8259 forbids (raw control characters in strings, leading zeros,
 * lone surrogates, invalid UTF-8) and recurses once per level of nesting, so a body of a few
 * thousand brackets overflows a civetweb worker's 100 KiB stack. sf_json_check walks the text
 * once, without recursion, and only text it accepts reaches cJSON:
 *   - exactly one JSON value (RFC 8259 grammar), whitespace only space, tab, CR and LF;
 *   - strings: valid UTF-8, no unescaped U+0000-U+001F, only the escapes RFC 8259 lists, no
 *     NUL (raw or \u0000: a NUL would cut a C string short), no lone surrogate escapes;
 *   - numbers: no leading zeros, digits after '.' and after the exponent, at most
 *     SF_JSON_MAX_NUMBER characters;
 *   - no two keys of one object equal after unescaping ("a" and "\u0061" are the same key);
 *   - arrays and objects nested at most max_depth deep.
 * Anything else is SF_EINVAL with a message naming the problem and its byte offset. Every text
 * it accepts is also accepted by Python's json module (tests/fuzz checks a corpus against it). */
#ifndef SF_JSON_H
#define SF_JSON_H

#include "sf_err.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* The deepest nesting a request body may have (the API's deepest needs 3). */
#define SF_JSON_MAX_DEPTH 32

/* The longest number, in characters (cJSON reads at most 63). */
#define SF_JSON_MAX_NUMBER 63

/* 0 when text[0..len) is one strict JSON value nested at most max_depth levels (at most 255;
 * a negative or larger max_depth means 255); otherwise
 * SF_EINVAL with err saying what and where. SF_EINTERNAL when memory ran out. */
int sf_json_check(const char *text, size_t len, int max_depth, sf_error *err);

/* Check text as sf_json_check does (SF_JSON_MAX_DEPTH) and parse it: 0 with *out to free with
 * cJSON_Delete, or an error (nothing to free). */
int sf_json_parse(const char *text, size_t len, cJSON **out, sf_error *err);

/* sf_json_parse of a request body that must be a JSON object. */
int sf_json_parse_object(const char *text, size_t len, cJSON **out, sf_error *err);

#endif
