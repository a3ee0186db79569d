/* sf_time.h - clocks and ISO 8601 timestamps. Times are int64 microseconds since the Unix epoch
 * (UTC) everywhere inside stbfarm; text only at the edges. */
#ifndef SF_TIME_H
#define SF_TIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

int64_t sf_now_us(void);  /* wall clock */
int64_t sf_mono_ms(void); /* monotonic, for timeouts */
int64_t sf_mono_us(void);

/* The time ms milliseconds from now on clock, as pthread_cond_timedwait wants it (a condition
 * variable waits on CLOCK_REALTIME unless made with pthread_condattr_setclock). */
void sf_timespec_after(clockid_t clock, int64_t ms, struct timespec *out);

enum {
    SF_TIME_ZULU = 0,        /* 2015-05-28T14:46:35.354791Z */
    SF_TIME_OFFSET = 1 << 0, /* 2015-05-28T14:46:35.354791+00:00 */
    SF_TIME_NO_FRAC = 1 << 1 /* drop the microseconds: 2023-02-07T12:22:16+00:00 */
};

/* Format us, shifted to a fixed UTC offset of offset_s seconds (0 for UTC), into buf. Returns
 * the length written (at most 33 characters plus the terminator; buf should hold 40). */
size_t sf_time_format_at(int64_t us, int offset_s, char *buf, size_t len, int flags);

static inline size_t sf_time_format(int64_t us, char *buf, size_t len, int flags)
{
    return sf_time_format_at(us, 0, buf, len, flags);
}

/* Parse an ISO 8601 date-time with an explicit zone ("Z" or "+hh:mm"), fractional seconds
 * optional. Returns 0, or SF_EINVAL when text is not such a timestamp. */
int sf_time_parse(const char *text, int64_t *us);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t sf_days_from_civil(int64_t y, unsigned m, unsigned d);
void sf_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#endif
