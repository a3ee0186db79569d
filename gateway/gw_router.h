/* gw_router.h - matching request paths against the route table. Pure code: no I/O, no
 * allocation, so it is unit-tested and fuzzed on its own.
 *
 * A pattern is a path of segments. A segment is a literal ("nodes", "screenshot.png") or a
 * parameter:
 *   {name}     exactly one segment
 *   {name:N}   exactly N segments, captured with a leading '/' ("/stb-tester-1/0a23/972"): the
 *              job_uid and result_id forms of the API, which clients append to a path
 *   {name*}    one or more segments, joined by '/' (an artifact's path, a branch name with
 *              slashes): all the path has beyond what the pattern's later segments need, one
 *              segment each
 * Paths are normalised first: repeated slashes collapse (clients append "/x/y" ids to URLs that
 * end in '/') and a trailing slash is dropped. A "." or ".." segment matches only inside a
 * {name*} parameter, whose owner judges it (an artifact path "../x" is "no such file", 404);
 * anywhere else the path matches nothing and the gateway answers 400. */
#ifndef GW_ROUTER_H
#define GW_ROUTER_H

#include "sf_err.h"

#include <stddef.h>

#define GW_PATH_MAX   4096
#define GW_MAX_PARAMS 4
#define GW_MAX_SEGS   64

typedef struct gw_params {
    size_t n;
    const char *name[GW_MAX_PARAMS];
    size_t name_len[GW_MAX_PARAMS];
    char *value[GW_MAX_PARAMS];                 /* NUL-terminated, in vbuf */
    char buf[GW_PATH_MAX + 1];                  /* the path split into segments */
    char vbuf[GW_PATH_MAX + 2 * GW_MAX_PARAMS]; /* the values */
} gw_params;

/* Decode the path raw as it came in the request line (%XX escapes, so %2F is a slash) and
 * normalise it into out (len bytes). Returns 0, SF_EINVAL for a NUL (%00) or another control
 * character, SF_ETOOLARGE when it does not fit; err says which. The decoded path is what every
 * check and the route see: a NUL can never make them see less than the client sent. */
int gw_path_normalize(const char *raw, char *out, size_t len, sf_error *err);

/* 1 when a segment of the normalised path is "." or "..". */
int gw_path_has_dots(const char *path);

/* Match a normalised path against one pattern. Returns 1 and fills params on a match. */
int gw_pattern_match(const char *pattern, const char *path, gw_params *params);

#endif
