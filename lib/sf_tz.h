/* sf_tz.h - Olson time zones, read from the TZif files of the tz database (RFC 8536), without
 * libc's process-wide TZ state: no setenv("TZ"), no tzset(), so any thread may convert times in
 * any zone at once.
 *
 * A zone is immutable once parsed. Transitions come from the file's 64-bit table (version 2
 * and later; the 32-bit one for version 1 files); times after the last transition follow the
 * POSIX TZ rule in the file's footer ("MST7MDT,M3.2.0,M11.1.0"). Files with leap-second records
 * ("right/" zones) are refused: every time in stbfarm is POSIX time.
 *
 * A process keeps its zones in an sf_tz_cache, which it creates at its top and which hands out
 * zones that live as long as the cache. "UTC" is built in, so it works without tzdata. */
#ifndef SF_TZ_H
#define SF_TZ_H

#include "sf_err.h"

#include <stddef.h>
#include <stdint.h>

#define SF_TZ_DIR      "/usr/share/zoneinfo"
#define SF_TZ_NAME_MAX 255

typedef struct sf_tz sf_tz;

/* 1 when name can name a zone file: segments of [A-Za-z0-9._+-] joined by '/', none of them
 * "." or "..", at most SF_TZ_NAME_MAX characters. Says nothing about whether the zone exists. */
int sf_tz_valid_name(const char *name);

/* Parse the len bytes of a TZif file as the zone called name. Pure. Returns 0 with *out (free
 * with sf_tz_free), or SF_EINVAL saying what is wrong with the data. */
int sf_tz_parse(const void *data, size_t len, const char *name, sf_tz **out, sf_error *err);

/* Read and parse the zone called name under dir (NULL: SF_TZ_DIR). SF_EINVAL "unknown time zone
 * 'X'" when the name is not valid, there is no such file, or it is not a TZif file. */
int sf_tz_load(const char *dir, const char *name, sf_tz **out, sf_error *err);

void sf_tz_free(sf_tz *tz);

/* The built-in UTC zone: static, never freed. */
const sf_tz *sf_tz_utc(void);

const char *sf_tz_name(const sf_tz *tz);

/* The offset from UTC (seconds east, e.g. -25200 for MST) in effect at utc_s seconds since the
 * epoch. */
int sf_tz_offset(const sf_tz *tz, int64_t utc_s);

/* The UTC instant of a local wall-clock time, given as seconds since 1970-01-01T00:00 local.
 * A time that happens twice (when clocks go back) is the earlier instant; a time that never
 * happens (when clocks go forward) is read with the offset before the change, so 02:30 on the
 * day Denver springs forward is 03:30 MDT. */
int64_t sf_tz_to_utc(const sf_tz *tz, int64_t local_s);

/* A process's zones by name, loaded once each; safe to use from any number of threads. */
typedef struct sf_tz_cache sf_tz_cache;

int sf_tz_cache_new(sf_tz_cache **out, const char *dir, sf_error *err);
void sf_tz_cache_free(sf_tz_cache *c);

/* The zone called name, loaded on first use. *out lives as long as the cache. Errors as
 * sf_tz_load. */
int sf_tz_cache_get(sf_tz_cache *c, const char *name, const sf_tz **out, sf_error *err);

#endif
