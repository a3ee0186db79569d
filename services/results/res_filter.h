/* res_filter.h - the search language of GET /api/v2/results (the portal's search box) and its
 * sort parameter. Pure code: no I/O, unit-tested and fuzzed. docs/api.md holds the grammar:
 *
 *   job:/stb-tester-abc/0a23/972  testcase:tests/epg.py::*  result:fail  category:"soak x"
 *   node:stb-tester-abc  tag:model=T-1000  date:2024-01-01..2024-02-01  date:>=2024-03-01T09:00
 *   -result:pass  "EPG is empty"  timeout
 *
 * Terms are separated by white space and must all hold (AND); '-' before a term negates it.
 * A word that is not a known "key:" is free text, matched case-insensitively against the test
 * case and the failure reason. Dates without an explicit zone are read in the request's tz, so
 * the parsed filter is resolved against a zone (res_filter_resolve) before it is used. */
#ifndef RES_FILTER_H
#define RES_FILTER_H

#include "sf_err.h"
#include "sf_tz.h"

#include <stddef.h>
#include <stdint.h>

#define RES_FILTER_MAX_BYTES 4096
#define RES_FILTER_MAX_TERMS 64

typedef enum {
    RES_TERM_JOB,
    RES_TERM_TESTCASE,
    RES_TERM_RESULT,
    RES_TERM_CATEGORY,
    RES_TERM_NODE,
    RES_TERM_TAG,
    RES_TERM_DATE,
    RES_TERM_TEXT,
} res_term_kind;

/* The outcomes of a test run, in the order "result" sorts them (alphabetical). */
typedef enum { RES_ERROR, RES_FAIL, RES_PASS } res_outcome;

/* "pass", "fail" or "error" (case-insensitive) as an outcome. Returns 0 or SF_EINVAL. */
int res_outcome_parse(const char *text, res_outcome *out);
const char *res_outcome_name(res_outcome o);

/* A date or date-time as written, to the precision written: 'Y' 2024, 'M' 2024-01,
 * 'D' 2024-01-31, 'h' ...T10, 'm' ...T10:30, 's' ...T10:30:05, 'u' ...T10:30:05.25. */
typedef struct res_date {
    int year, month, day, hour, minute, second, micro;
    char precision;
    int has_zone;   /* an explicit "Z" or "+hh:mm": tz does not apply */
    int32_t zone_s; /* its offset, seconds east */
} res_date;

/* One end of a date range: the start of the written period, or its end ("<=2024-01-31" runs to
 * the end of that day). */
typedef struct res_bound {
    int set;
    int at_end;
    res_date date;
} res_bound;

typedef struct res_term {
    res_term_kind kind;
    int negate;
    char *value;     /* job, testcase, category, node: a name, '*' matching any run of
                        characters; tag: the tag's name; text: the words, lower-cased */
    char *tag_value; /* tag: the value wanted, or NULL for any */
    res_outcome outcome;
    res_bound from, to;     /* date, as written */
    int64_t from_us, to_us; /* date, resolved: from_us <= start_time < to_us */
} res_term;

typedef struct res_filter {
    size_t n;
    res_term *terms;
} res_filter;

/* Parse text (NUL-terminated; NULL or blank matches everything). Returns 0 with *out (free with
 * res_filter_free), or SF_EINVAL with a message starting "invalid filter: " that says what is
 * wrong and where. */
int res_filter_parse(const char *text, res_filter **out, sf_error *err);

/* Turn the written dates of every date term into UTC instants, reading those without a zone
 * in tz. */
void res_filter_resolve(res_filter *f, const sf_tz *tz);

void res_filter_free(res_filter *f);

/* 1 when name matches pattern, where '*' matches any run of characters (and nothing else is
 * special). */
int res_glob_match(const char *pattern, const char *name);

/* ---- sort ---- */

typedef enum {
    RES_SORT_CATEGORY,
    RES_SORT_DATE,
    RES_SORT_DURATION,
    RES_SORT_JOB,
    RES_SORT_TESTCASE,
    RES_SORT_RESULT,
} res_sort_field;

typedef struct res_sort {
    res_sort_field field;
    int descending;
} res_sort;

/* "<field>:asc" or "<field>:desc"; NULL or "" is the default, date:desc. Returns 0 or
 * SF_EINVAL ("invalid sort: ..."). */
int res_sort_parse(const char *text, res_sort *out, sf_error *err);

#endif
