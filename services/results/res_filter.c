/* A recursive-descent parser over the characters of the filter: a filter is words; a word is
 * bare text and "quoted strings" run together (as in a shell); a word is a "key:" term, a
 * negated word, or free text. */
#include "res_filter.h"

#include "sf_time.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const outcome_names[] = {"error", "fail", "pass"};

int res_outcome_parse(const char *text, res_outcome *out)
{
    for (int i = 0; i < 3; i++) {
        if (!strcasecmp(text, outcome_names[i])) {
            *out = (res_outcome)i;
            return 0;
        }
    }
    return SF_EINVAL;
}

const char *res_outcome_name(res_outcome o)
{
    return outcome_names[o];
}

static const struct {
    const char *key;
    res_term_kind kind;
} keys[] = {
    {"job", RES_TERM_JOB},           {"testcase", RES_TERM_TESTCASE}, {"result", RES_TERM_RESULT},
    {"category", RES_TERM_CATEGORY}, {"node", RES_TERM_NODE},         {"tag", RES_TERM_TAG},
    {"date", RES_TERM_DATE},
};
#define N_KEYS     (sizeof(keys) / sizeof(keys[0]))
#define KNOWN_KEYS "job, testcase, result, category, node, tag, date"

/* One word, unquoted. bare is how many leading characters came from outside quotes, so that
 * "job:x" is a term but "\"job:x\"" is text. */
typedef struct word {
    char *text;
    size_t len;
    size_t bare;
    size_t at; /* where the word starts in the filter, for messages */
} word;

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Read the word at *p into w->text (a buffer as long as the filter). */
static int read_word(const char **p, const char *start, word *w, sf_error *err)
{
    const char *s = *p;
    int quoted_yet = 0;
    w->len = 0;
    w->bare = 0;
    w->at = (size_t)(s - start);
    while (*s && !is_ws(*s)) {
        if (*s != '"') {
            w->text[w->len++] = *s++;
            if (!quoted_yet)
                w->bare = w->len;
            continue;
        }
        quoted_yet = 1;
        const char *open = s++;
        while (*s != '"') {
            if (!*s)
                return sf_fail(err, SF_EINVAL,
                               "invalid filter: the quote at character %zu is never closed",
                               (size_t)(open - start) + 1);
            if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
                s++;
            w->text[w->len++] = *s++;
        }
        s++;
    }
    w->text[w->len] = '\0';
    *p = s;
    return 0;
}

static char *dup_str(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* ---- dates ---- */

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d[m - 1] + (m == 2 && leap);
}

/* YYYY[-MM[-DD[(T| )hh[:mm[:ss[.ffffff]]][Z|+hh[:mm]|-hh[:mm]]]]], all of s. */
static int parse_date(const char *s, res_date *d)
{
    memset(d, 0, sizeof(*d));
    d->month = d->day = 1;
    if (digits(&s, 4, &d->year))
        return -1;
    d->precision = 'Y';
    if (*s == '-') {
        s++;
        if (digits(&s, 2, &d->month) || d->month < 1 || d->month > 12)
            return -1;
        d->precision = 'M';
        if (*s == '-') {
            s++;
            if (digits(&s, 2, &d->day) || d->day < 1 || d->day > days_in_month(d->year, d->month))
                return -1;
            d->precision = 'D';
            if (*s == 'T' || *s == 't' || *s == ' ') {
                s++;
                if (digits(&s, 2, &d->hour) || d->hour > 23)
                    return -1;
                d->precision = 'h';
                if (*s == ':') {
                    s++;
                    if (digits(&s, 2, &d->minute) || d->minute > 59)
                        return -1;
                    d->precision = 'm';
                    if (*s == ':') {
                        s++;
                        if (digits(&s, 2, &d->second) || d->second > 59)
                            return -1;
                        d->precision = 's';
                        if (*s == '.') {
                            int n = 0;
                            s++;
                            while (isdigit((unsigned char)*s)) {
                                if (n++ < 6)
                                    d->micro = d->micro * 10 + (*s - '0');
                                s++;
                            }
                            if (n == 0)
                                return -1;
                            for (; n < 6; n++)
                                d->micro *= 10;
                            d->precision = 'u';
                        }
                    }
                }
                if (*s == 'Z' || *s == 'z') {
                    s++;
                    d->has_zone = 1;
                } else if (*s == '+' || *s == '-') {
                    int sign = *s++ == '-' ? -1 : 1, zh, zm = 0;
                    if (digits(&s, 2, &zh) || zh > 23)
                        return -1;
                    if (*s == ':') {
                        s++;
                        if (digits(&s, 2, &zm) || zm > 59)
                            return -1;
                    }
                    d->has_zone = 1;
                    d->zone_s = sign * (zh * 3600 + zm * 60);
                }
            }
        }
    }
    return *s ? -1 : 0;
}

static int parse_date_term(const char *v, res_term *t, const word *w, sf_error *err)
{
    const char *range = strstr(v, "..");
    int rc = 0;
    if (range) {
        char *a = dup_str(v, (size_t)(range - v));
        const char *b = range + 2;
        if (!a)
            return sf_fail(err, SF_EINTERNAL, "out of memory");
        if (!*a && !*b)
            rc = -1;
        if (!rc && *a) {
            t->from = (res_bound){1, 0, {0}};
            rc = parse_date(a, &t->from.date);
        }
        if (!rc && *b) {
            t->to = (res_bound){1, 1, {0}};
            rc = parse_date(b, &t->to.date);
        }
        free(a);
    } else if (v[0] == '>' || v[0] == '<') {
        int eq = v[1] == '=';
        res_bound *b = v[0] == '>' ? &t->from : &t->to;
        b->set = 1;
        b->at_end = v[0] == '>' ? !eq : eq; /* >d: after d; >=d: from d; <d: before; <=d: to */
        rc = parse_date(v + 1 + eq, &b->date);
    } else {
        t->from = (res_bound){1, 0, {0}};
        t->to = (res_bound){1, 1, {0}};
        rc = parse_date(v, &t->from.date);
        t->to.date = t->from.date;
    }
    if (rc)
        return sf_fail(err, SF_EINVAL,
                       "invalid filter: '%s' at character %zu is not a date or date range "
                       "(YYYY-MM-DD[THH:MM[:SS[.ffffff]]][Z|+HH:MM], with .., >, >=, < or <=)",
                       w->text, w->at + 1);
    return 0;
}

/* Seconds since 1970-01-01T00:00 of the start of d's period, or of the next period. */
static int64_t local_seconds(const res_date *d, int at_end)
{
    int64_t y = d->year, mo = d->month, day = d->day, h = d->hour, mi = d->minute, s = d->second;
    if (at_end) {
        switch (d->precision) {
        case 'Y':
            y++;
            break;
        case 'M':
            if (++mo > 12) {
                mo = 1;
                y++;
            }
            break;
        case 'D':
            day++;
            break;
        case 'h':
            h++;
            break;
        case 'm':
            mi++;
            break;
        case 's':
            s++;
            break;
        default:
            break;
        }
    }
    /* days_from_civil is linear in the day, so day 32 is the 1st of the next month */
    return sf_days_from_civil(y, (unsigned)mo, 1) * 86400 + (day - 1) * 86400 + h * 3600 + mi * 60 +
           s;
}

static int64_t resolve_bound(const res_bound *b, const sf_tz *tz)
{
    const res_date *d = &b->date;
    int64_t local = local_seconds(d, b->at_end);
    int64_t utc = d->has_zone ? local - d->zone_s : sf_tz_to_utc(tz, local);
    int64_t us = utc * 1000000;
    if (d->precision == 'u')
        us += d->micro + (b->at_end ? 1 : 0);
    return us;
}

void res_filter_resolve(res_filter *f, const sf_tz *tz)
{
    for (size_t i = 0; i < f->n; i++) {
        res_term *t = &f->terms[i];
        if (t->kind != RES_TERM_DATE)
            continue;
        t->from_us = t->from.set ? resolve_bound(&t->from, tz) : INT64_MIN;
        t->to_us = t->to.set ? resolve_bound(&t->to, tz) : INT64_MAX;
    }
}

/* ---- terms ---- */

static void term_clear(res_term *t)
{
    free(t->value);
    free(t->tag_value);
}

void res_filter_free(res_filter *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        term_clear(&f->terms[i]);
    free(f->terms);
    free(f);
}

/* The value of a "key:value" term of kind k into t. */
static int parse_keyed(res_term_kind k, const char *v, const word *w, res_term *t, sf_error *err)
{
    t->kind = k;
    if (!*v)
        return sf_fail(err, SF_EINVAL, "invalid filter: '%s' at character %zu needs a value",
                       w->text, w->at + 1);
    switch (k) {
    case RES_TERM_RESULT:
        if (res_outcome_parse(v, &t->outcome))
            return sf_fail(err, SF_EINVAL,
                           "invalid filter: result must be pass, fail or error, "
                           "not '%s'",
                           v);
        return 0;
    case RES_TERM_DATE:
        return parse_date_term(v, t, w, err);
    case RES_TERM_TAG: {
        const char *eq = strchr(v, '=');
        if (eq == v)
            return sf_fail(err, SF_EINVAL, "invalid filter: '%s' at character %zu names no tag",
                           w->text, w->at + 1);
        t->value = dup_str(v, eq ? (size_t)(eq - v) : strlen(v));
        if (eq)
            t->tag_value = dup_str(eq + 1, strlen(eq + 1));
        break;
    }
    default:
        t->value = dup_str(v, strlen(v));
        break;
    }
    if (!t->value || (k == RES_TERM_TAG && strchr(v, '=') && !t->tag_value))
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    return 0;
}

static int parse_term(word *w, res_term *t, sf_error *err)
{
    const char *s = w->text;
    size_t bare = w->bare;
    memset(t, 0, sizeof(*t));
    if (bare > 0 && s[0] == '-') {
        t->negate = 1;
        s++;
        bare--;
        if (!*s)
            return sf_fail(err, SF_EINVAL,
                           "invalid filter: '-' at character %zu must be followed by a term",
                           w->at + 1);
    }
    /* "key:" where key is letters and came from outside quotes */
    size_t klen = 0;
    while (klen < bare && isalpha((unsigned char)s[klen]))
        klen++;
    if (klen > 0 && klen < bare && s[klen] == ':') {
        for (size_t i = 0; i < N_KEYS; i++) {
            if (strlen(keys[i].key) == klen && !strncasecmp(keys[i].key, s, klen))
                return parse_keyed(keys[i].kind, s + klen + 1, w, t, err);
        }
        return sf_fail(err, SF_EINVAL,
                       "invalid filter: unknown term '%.*s:' at character %zu (known: " KNOWN_KEYS
                       "; quote text that contains a colon)",
                       (int)klen, s, w->at + 1 + (size_t)t->negate);
    }
    if (!*s)
        return sf_fail(err, SF_EINVAL, "invalid filter: empty search text at character %zu",
                       w->at + 1);
    t->kind = RES_TERM_TEXT;
    if (!(t->value = dup_str(s, strlen(s))))
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    for (char *c = t->value; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return 0;
}

int res_filter_parse(const char *text, res_filter **out, sf_error *err)
{
    *out = NULL;
    if (!text)
        text = "";
    size_t len = strlen(text);
    if (len > RES_FILTER_MAX_BYTES)
        return sf_fail(err, SF_EINVAL, "invalid filter: longer than %d characters",
                       RES_FILTER_MAX_BYTES);
    res_filter *f = calloc(1, sizeof(*f));
    word w = {0};
    int rc = 0;
    if (!f || !(w.text = malloc(len + 1)) ||
        !(f->terms = calloc(RES_FILTER_MAX_TERMS, sizeof(res_term)))) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto done;
    }
    for (const char *p = text;;) {
        while (is_ws(*p))
            p++;
        if (!*p)
            break;
        if (f->n == RES_FILTER_MAX_TERMS) {
            rc =
                sf_fail(err, SF_EINVAL, "invalid filter: more than %d terms", RES_FILTER_MAX_TERMS);
            break;
        }
        if ((rc = read_word(&p, text, &w, err)))
            break;
        rc = parse_term(&w, &f->terms[f->n], err);
        f->n++; /* counted even when it failed, so that free releases what it holds */
        if (rc)
            break;
    }
done:
    free(w.text);
    if (rc) {
        res_filter_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

int res_glob_match(const char *pattern, const char *name)
{
    /* Greedy with one backtrack point: the last '*' seen. */
    const char *star = NULL, *resume = NULL;
    while (*name) {
        if (*pattern == '*') {
            star = ++pattern;
            resume = name;
        } else if (*pattern == *name) {
            pattern++;
            name++;
        } else if (star) {
            pattern = star;
            name = ++resume;
        } else {
            return 0;
        }
    }
    while (*pattern == '*')
        pattern++;
    return *pattern == '\0';
}

/* ---- sort ---- */

int res_sort_parse(const char *text, res_sort *out, sf_error *err)
{
    static const char *const fields[] = {"category", "date",     "duration",
                                         "job",      "testcase", "result"};
    out->field = RES_SORT_DATE;
    out->descending = 1;
    if (!text || !*text)
        return 0;
    const char *colon = strchr(text, ':');
    if (colon && (!strcmp(colon + 1, "asc") || !strcmp(colon + 1, "desc"))) {
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
            if (strlen(fields[i]) == (size_t)(colon - text) &&
                !strncmp(fields[i], text, (size_t)(colon - text))) {
                out->field = (res_sort_field)i;
                out->descending = colon[2] == 'e';
                return 0;
            }
        }
    }
    return sf_fail(err, SF_EINVAL,
                   "invalid sort '%.100s': use <field>:asc or <field>:desc, where <field> is "
                   "category, date, duration, job, testcase or result",
                   text);
}
