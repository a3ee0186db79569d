#include "sf_time.h"

#include "sf_err.h"

#include <ctype.h>
#include <stdio.h>
#include <time.h>

int64_t sf_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sf_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sf_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void sf_timespec_after(clockid_t clock, int64_t ms, struct timespec *out)
{
    clock_gettime(clock, out);
    if (ms < 0)
        ms = 0;
    out->tv_sec += (time_t)(ms / 1000);
    out->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (out->tv_nsec >= 1000000000L) {
        out->tv_sec++;
        out->tv_nsec -= 1000000000L;
    }
}

/* Howard Hinnant's civil calendar algorithms: exact for every Gregorian date, no libc time zone
 * state, so they are safe in any thread. */
int64_t sf_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void sf_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

size_t sf_time_format_at(int64_t us, int offset_s, char *buf, size_t len, int flags)
{
    int64_t local = us + (int64_t)offset_s * 1000000;
    int64_t secs = floor_div(local, 1000000);
    int64_t frac = local - secs * 1000000;
    int64_t days = floor_div(secs, 86400);
    int64_t sod = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    sf_civil_from_days(days, &y, &m, &d);
    int n = snprintf(buf, len, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, m, d,
                     (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
    if (!(flags & SF_TIME_NO_FRAC))
        n += snprintf(buf + n, len - (size_t)n, ".%06lld", (long long)frac);
    if (offset_s == 0 && !(flags & SF_TIME_OFFSET)) {
        n += snprintf(buf + n, len - (size_t)n, "Z");
    } else {
        int a = offset_s < 0 ? -offset_s : offset_s;
        n += snprintf(buf + n, len - (size_t)n, "%c%02d:%02d", offset_s < 0 ? '-' : '+', a / 3600,
                      a / 60 % 60);
    }
    return (size_t)n;
}

static int parse_digits(const char **p, int count, int *out)
{
    int v = 0;
    for (int i = 0; i < count; i++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

int sf_time_parse(const char *text, int64_t *us)
{
    const char *p = text;
    int y, mo, d, h, mi, s, frac = 0, fdigits = 0;
    if (parse_digits(&p, 4, &y) || *p++ != '-' || parse_digits(&p, 2, &mo) || *p++ != '-' ||
        parse_digits(&p, 2, &d) || (*p != 'T' && *p != ' ') || !*p++ || parse_digits(&p, 2, &h) ||
        *p++ != ':' || parse_digits(&p, 2, &mi) || *p++ != ':' || parse_digits(&p, 2, &s))
        return SF_EINVAL;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            if (fdigits < 6) {
                frac = frac * 10 + (*p - '0');
                fdigits++;
            }
            p++;
        }
        if (fdigits == 0)
            return SF_EINVAL;
        while (fdigits++ < 6)
            frac *= 10;
    }
    int offset = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (parse_digits(&p, 2, &oh) || *p++ != ':' || parse_digits(&p, 2, &om) || oh > 23 ||
            om > 59)
            return SF_EINVAL;
        offset = sign * (oh * 3600 + om * 60);
    } else {
        return SF_EINVAL;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return SF_EINVAL;
    int64_t days = sf_days_from_civil(y, (unsigned)mo, (unsigned)d);
    *us = ((days * 86400 + h * 3600 + mi * 60 + s) - offset) * (int64_t)1000000 + frac;
    return 0;
}
