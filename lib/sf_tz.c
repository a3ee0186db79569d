#include "sf_tz.h"

#include "sf_time.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAX_TZIF_BYTES = 1 << 20, SECS_PER_DAY = 86400 };

/* Times are clamped to +-2^40 s (about 34,000 years), far beyond any date stbfarm parses, so
 * that no arithmetic below can overflow. */
#define MAX_SECS ((int64_t)1 << 40)

/* One end of a POSIX TZ rule: the day (Jn, n or Mm.w.d) and the local time of day. */
typedef struct tz_rule_date {
    char kind;    /* 'J': Julian day 1-365 without Feb 29; 'D': day 0-365; 'M': month.week.day */
    int a, b, c;  /* J/D: the day in a; M: month a, week b (5: last), weekday c (0: Sunday) */
    int32_t time; /* seconds after local midnight; may be negative or past 24h (RFC 8536) */
} tz_rule_date;

typedef struct tz_rule {
    int32_t std_off; /* seconds east of UTC */
    int32_t dst_off;
    int has_dst;
    tz_rule_date start, end; /* DST starts (in standard time) and ends (in daylight time) */
} tz_rule;

struct sf_tz {
    char name[SF_TZ_NAME_MAX + 1];
    size_t n_trans;
    int64_t *trans; /* transition instants, ascending */
    uint8_t *trans_type;
    size_t n_types;
    int32_t *type_off;
    int has_rule;
    tz_rule rule;
};

int sf_tz_valid_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > SF_TZ_NAME_MAX)
        return 0;
    const char *seg = name;
    for (const char *p = name;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t n = (size_t)(p - seg);
            if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
                return 0;
            if (*p == '\0')
                return 1;
            seg = p + 1;
            continue;
        }
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '+' || c == '-'))
            return 0;
    }
}

/* ---- the POSIX TZ string of the footer ---- */

/* An abbreviation: three or more letters, or <...> of letters, digits, '+' and '-'. */
static int parse_abbr(const char **p)
{
    const char *s = *p;
    size_t n = 0;
    if (*s == '<') {
        s++;
        while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
               *s == '+' || *s == '-') {
            s++;
            n++;
        }
        if (*s != '>' || n < 3)
            return -1;
        *p = s + 1;
        return 0;
    }
    while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) {
        s++;
        n++;
    }
    if (n < 3)
        return -1;
    *p = s;
    return 0;
}

static int parse_num(const char **p, int min, int max, int *out)
{
    const char *s = *p;
    int v = 0, digits = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s++ - '0');
        if (++digits > 3)
            return -1;
    }
    if (!digits || v < min || v > max)
        return -1;
    *p = s;
    *out = v;
    return 0;
}

/* [+-]hh[:mm[:ss]], hours up to max_h; the value in seconds, signed as written. */
static int parse_hms(const char **p, int max_h, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;
    if (**p == '+' || **p == '-')
        sign = *(*p)++ == '-' ? -1 : 1;
    if (parse_num(p, 0, max_h, &h))
        return -1;
    if (**p == ':') {
        (*p)++;
        if (parse_num(p, 0, 59, &m))
            return -1;
        if (**p == ':') {
            (*p)++;
            if (parse_num(p, 0, 59, &s))
                return -1;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return 0;
}

static int parse_rule_date(const char **p, tz_rule_date *d)
{
    if (**p == 'J') {
        (*p)++;
        d->kind = 'J';
        if (parse_num(p, 1, 365, &d->a))
            return -1;
    } else if (**p == 'M') {
        (*p)++;
        d->kind = 'M';
        if (parse_num(p, 1, 12, &d->a) || *(*p)++ != '.' || parse_num(p, 1, 5, &d->b) ||
            *(*p)++ != '.' || parse_num(p, 0, 6, &d->c))
            return -1;
    } else {
        d->kind = 'D';
        if (parse_num(p, 0, 365, &d->a))
            return -1;
    }
    d->time = 2 * 3600;
    if (**p == '/') {
        (*p)++;
        if (parse_hms(p, 167, &d->time))
            return -1;
    }
    return 0;
}

/* std offset [dst [offset] [,start[/time],end[/time]]]. POSIX offsets count hours west of
 * UTC; ours count seconds east. */
static int parse_posix_tz(const char *s, tz_rule *r)
{
    int32_t off;
    memset(r, 0, sizeof(*r));
    if (parse_abbr(&s) || parse_hms(&s, 24, &off))
        return -1;
    r->std_off = -off;
    if (*s == '\0')
        return 0;
    if (parse_abbr(&s))
        return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*s && *s != ',') {
        if (parse_hms(&s, 24, &off))
            return -1;
        r->dst_off = -off;
    }
    if (*s == '\0') { /* no rule: the US one, as glibc assumes */
        r->start = (tz_rule_date){'M', 3, 2, 0, 2 * 3600};
        r->end = (tz_rule_date){'M', 11, 1, 0, 2 * 3600};
        return 0;
    }
    if (*s++ != ',' || parse_rule_date(&s, &r->start) || *s++ != ',' ||
        parse_rule_date(&s, &r->end) || *s != '\0')
        return -1;
    return 0;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The day of year (0 = January 1) a rule date falls on in year y. */
static int64_t rule_day(const tz_rule_date *d, int64_t y)
{
    if (d->kind == 'J')
        return d->a - 1 + (is_leap(y) && d->a >= 60);
    if (d->kind == 'D')
        return d->a;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t jan1 = sf_days_from_civil(y, 1, 1);
    int64_t first = sf_days_from_civil(y, (unsigned)d->a, 1);
    int64_t dow = ((first + 4) % 7 + 7) % 7; /* 1970-01-01 was a Thursday */
    int64_t day = (d->c - dow + 7) % 7 + 7 * (d->b - 1);
    int len = mdays[d->a - 1] + (d->a == 2 && is_leap(y));
    while (day >= len)
        day -= 7;
    return first - jan1 + day;
}

static int64_t rule_instant(const tz_rule_date *d, int64_t y, int32_t off)
{
    return (sf_days_from_civil(y, 1, 1) + rule_day(d, y)) * SECS_PER_DAY + d->time - off;
}

static int32_t rule_offset(const tz_rule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    int64_t y;
    unsigned m, d;
    int64_t days = (t + r->std_off) / SECS_PER_DAY - ((t + r->std_off) % SECS_PER_DAY < 0);
    sf_civil_from_days(days, &y, &m, &d);
    int64_t start = rule_instant(&r->start, y, r->std_off);
    int64_t end = rule_instant(&r->end, y, r->dst_off);
    int dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? r->dst_off : r->std_off;
}

/* ---- TZif ---- */

typedef struct tzif_header {
    char version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_header;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int read_header(const uint8_t *p, size_t left, tzif_header *h)
{
    if (left < 44 || memcmp(p, "TZif", 4))
        return -1;
    h->version = (char)p[4];
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    return 0;
}

/* Size of the data block after a header whose times take tsize bytes. */
static uint64_t block_size(const tzif_header *h, unsigned tsize)
{
    return (uint64_t)h->timecnt * (tsize + 1) + (uint64_t)h->typecnt * 6 + h->charcnt +
           (uint64_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

void sf_tz_free(sf_tz *tz)
{
    if (!tz)
        return;
    free(tz->trans);
    free(tz->trans_type);
    free(tz->type_off);
    free(tz);
}

int sf_tz_parse(const void *data, size_t len, const char *name, sf_tz **out, sf_error *err)
{
    const uint8_t *p = data;
    tzif_header h;
    unsigned tsize = 4;
    *out = NULL;
    if (read_header(p, len, &h))
        return sf_fail(err, SF_EINVAL, "%s is not a TZif file", name);
    uint64_t size = block_size(&h, 4);
    if (h.version >= '2') {
        if (44 + size > len)
            return sf_fail(err, SF_EINVAL, "%s: truncated TZif data", name);
        p += 44 + size; /* from here on, p and len describe the version 2 header and the rest */
        len -= (size_t)(44 + size);
        if (read_header(p, len, &h))
            return sf_fail(err, SF_EINVAL, "%s: no second TZif header", name);
        tsize = 8;
        size = block_size(&h, 8);
    }
    if (44 + size > len)
        return sf_fail(err, SF_EINVAL, "%s: truncated TZif data", name);
    if (h.typecnt == 0 || h.typecnt > 256 || h.charcnt == 0 ||
        (h.isutcnt && h.isutcnt != h.typecnt) || (h.isstdcnt && h.isstdcnt != h.typecnt))
        return sf_fail(err, SF_EINVAL, "%s: inconsistent TZif counts", name);
    if (h.leapcnt)
        return sf_fail(err, SF_EINVAL, "%s: zones with leap seconds are not supported", name);

    sf_tz *tz = calloc(1, sizeof(*tz));
    if (!tz)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    snprintf(tz->name, sizeof(tz->name), "%s", name);
    tz->n_trans = h.timecnt;
    tz->n_types = h.typecnt;
    tz->trans = malloc(sizeof(int64_t) * (h.timecnt ? h.timecnt : 1));
    tz->trans_type = malloc(h.timecnt ? h.timecnt : 1);
    tz->type_off = malloc(sizeof(int32_t) * h.typecnt);
    int rc = 0;
    if (!tz->trans || !tz->trans_type || !tz->type_off) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto done;
    }
    const uint8_t *q = p + 44;
    for (uint32_t i = 0; i < h.timecnt; i++, q += tsize) {
        tz->trans[i] = tsize == 8 ? be64(q) : (int32_t)be32(q);
        if (i > 0 && tz->trans[i] <= tz->trans[i - 1]) {
            rc = sf_fail(err, SF_EINVAL, "%s: transitions out of order", name);
            goto done;
        }
    }
    for (uint32_t i = 0; i < h.timecnt; i++, q++) {
        if (*q >= h.typecnt) {
            rc = sf_fail(err, SF_EINVAL, "%s: transition to an unknown type", name);
            goto done;
        }
        tz->trans_type[i] = *q;
    }
    for (uint32_t i = 0; i < h.typecnt; i++, q += 6) {
        int32_t off = (int32_t)be32(q);
        if (off < -25 * 3600 || off > 26 * 3600 || q[5] >= h.charcnt) {
            rc = sf_fail(err, SF_EINVAL, "%s: bad local time type", name);
            goto done;
        }
        tz->type_off[i] = off;
    }
    if (tsize == 8) {
        /* The footer: "\n" POSIX-TZ "\n" right after the data block. */
        const uint8_t *f = p + 44 + size, *end = p + len;
        char footer[128];
        if (f >= end || *f != '\n') {
            rc = sf_fail(err, SF_EINVAL, "%s: no TZ string footer", name);
            goto done;
        }
        const uint8_t *nl = memchr(f + 1, '\n', (size_t)(end - f - 1));
        size_t flen = nl ? (size_t)(nl - f - 1) : 0;
        if (!nl || flen >= sizeof(footer) || memchr(f + 1, '\0', flen)) {
            rc = sf_fail(err, SF_EINVAL, "%s: malformed TZ string footer", name);
            goto done;
        }
        memcpy(footer, f + 1, flen);
        footer[flen] = '\0';
        if (flen) {
            if (parse_posix_tz(footer, &tz->rule)) {
                rc = sf_fail(err, SF_EINVAL, "%s: unsupported TZ string '%s'", name, footer);
                goto done;
            }
            tz->has_rule = 1;
        }
    }
done:
    if (rc) {
        sf_tz_free(tz);
        return rc;
    }
    *out = tz;
    return 0;
}

int sf_tz_load(const char *dir, const char *name, sf_tz **out, sf_error *err)
{
    char path[4096 + SF_TZ_NAME_MAX + 2];
    *out = NULL;
    if (!sf_tz_valid_name(name))
        return sf_fail(err, SF_EINVAL, "unknown time zone '%.100s'", name);
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : SF_TZ_DIR, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > MAX_TZIF_BYTES) {
        if (fd >= 0)
            close(fd);
        return sf_fail(err, SF_EINVAL, "unknown time zone '%s'", name);
    }
    uint8_t *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!buf)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    sf_error perr = SF_ERROR_INIT;
    int rc = sf_tz_parse(buf, got, name, out, &perr);
    free(buf);
    if (rc == SF_EINVAL)
        return sf_fail(err, SF_EINVAL, "unknown time zone '%s' (%s)", name, perr.msg);
    if (rc)
        return sf_fail(err, rc, "%s", perr.msg);
    return 0;
}

static const sf_tz utc_zone = {.name = "UTC"};

const sf_tz *sf_tz_utc(void)
{
    return &utc_zone;
}

const char *sf_tz_name(const sf_tz *tz)
{
    return tz->name;
}

int sf_tz_offset(const sf_tz *tz, int64_t utc_s)
{
    if (tz->n_types == 0) /* the built-in UTC */
        return 0;
    if (utc_s > MAX_SECS)
        utc_s = MAX_SECS;
    if (utc_s < -MAX_SECS)
        utc_s = -MAX_SECS;
    if (tz->n_trans == 0)
        return tz->has_rule ? rule_offset(&tz->rule, utc_s) : tz->type_off[0];
    if (utc_s < tz->trans[0])
        return tz->type_off[0];
    size_t lo = 0, hi = tz->n_trans; /* the last transition at or before utc_s is in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= utc_s)
            lo = mid;
        else
            hi = mid;
    }
    if (lo == tz->n_trans - 1 && tz->has_rule)
        return rule_offset(&tz->rule, utc_s);
    return tz->type_off[tz->trans_type[lo]];
}

/* Offsets change at most a few times a year, never twice within a day of each other, so the
 * offsets a day before and a day after a local time are the only ones it can be read with. */
int64_t sf_tz_to_utc(const sf_tz *tz, int64_t local_s)
{
    if (local_s > MAX_SECS)
        local_s = MAX_SECS;
    if (local_s < -MAX_SECS)
        local_s = -MAX_SECS;
    int before = sf_tz_offset(tz, local_s - SECS_PER_DAY);
    int after = sf_tz_offset(tz, local_s + SECS_PER_DAY);
    int64_t a = local_s - before, b = local_s - after;
    int a_ok = sf_tz_offset(tz, a) == before, b_ok = sf_tz_offset(tz, b) == after;
    if (a_ok && b_ok)
        return a < b ? a : b;
    if (b_ok)
        return b;
    return a; /* valid, or a gap: the offset before it */
}

/* ---- the cache ---- */

struct sf_tz_cache {
    pthread_mutex_t mu;
    char *dir;
    size_t n, cap;
    sf_tz **zones;
};

int sf_tz_cache_new(sf_tz_cache **out, const char *dir, sf_error *err)
{
    sf_tz_cache *c = calloc(1, sizeof(*c));
    if (!c || !(c->dir = strdup(dir ? dir : SF_TZ_DIR))) {
        free(c);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return 0;
}

void sf_tz_cache_free(sf_tz_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        sf_tz_free(c->zones[i]);
    free(c->zones);
    free(c->dir);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int sf_tz_cache_get(sf_tz_cache *c, const char *name, const sf_tz **out, sf_error *err)
{
    if (!strcmp(name, "UTC")) {
        *out = &utc_zone;
        return 0;
    }
    int rc = 0;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++) {
        if (!strcmp(c->zones[i]->name, name)) {
            *out = c->zones[i];
            goto done;
        }
    }
    sf_tz *tz;
    if ((rc = sf_tz_load(c->dir, name, &tz, err)))
        goto done;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        sf_tz **z = realloc(c->zones, cap * sizeof(*z));
        if (!z) {
            sf_tz_free(tz);
            rc = sf_fail(err, SF_EINTERNAL, "out of memory");
            goto done;
        }
        c->zones = z;
        c->cap = cap;
    }
    c->zones[c->n++] = tz;
    *out = tz;
done:
    pthread_mutex_unlock(&c->mu);
    return rc;
}
