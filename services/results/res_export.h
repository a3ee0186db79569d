/* res_export.h - results as the API shows them: their URLs, their times in a zone, and the
 * CSV (RFC 4180) and JUnit XML (as Jenkins reads it) exports of results.csv and results.xml,
 * and stbt.log in another zone. Pure code: unit-tested here, and the API tests parse the output
 * with Python's csv module and python3-junitparser. */
#ifndef RES_EXPORT_H
#define RES_EXPORT_H

#include "res_index.h"
#include "results.pb-c.h"
#include "sf_tz.h"

#include <stddef.h>
#include <stdio.h>

#define RES_URL_MAX 1024

/* <base>/api/v2/results<id> and <base>/app/#/result/<id>, as the spec's examples have them. */
void res_result_url(char *out, size_t len, const char *base_url, const char *id);
void res_triage_url(char *out, size_t len, const char *base_url, const char *id);

/* An instant as the API shows it in tz: "2015-05-28T14:46:35.354791Z" in UTC, with the zone's
 * offset ("...-06:00") elsewhere. buf holds 40. */
void res_format_time(int64_t us, const sf_tz *tz, char *buf, size_t len);

typedef struct res_export_opts {
    const char *base_url;
    const sf_tz *tz;
    int include_tz;        /* JUnit: timestamps with their offset */
    int group_by_category; /* JUnit: a testsuite per category instead of per job */
} res_export_opts;

/* The hits as CSV: a header row with the fields of GET /api/v2/results, then one row per hit,
 * CRLF line ends, fields quoted when they must be. Returns 0 with *out (free()) and *len, or
 * SF_EINTERNAL when out of memory. */
int res_export_csv(const res_hits *h, const res_export_opts *o, char **out, size_t *len);

/* The hits as JUnit XML: <testsuites>, a <testsuite> per job (or category) in the order the
 * hits first name it, a <testcase> per hit with classname and name from the test case
 * ("tests/epg.py::test_x" is tests.epg / test_x) and its duration, and a <failure> or <error>
 * with the reason as message and the traceback as text. details[i] belongs to hits[i] and may
 * be NULL. */
int res_export_junit(const res_hits *h, Stbfarm__ResultDetail *const *details,
                     const res_export_opts *o, char **out, size_t *len);

/* Copy a stbt.log from in to out with the ISO 8601 timestamp that starts each line moved to tz
 * ("2015-06-16T13:29:17.162452+00:00 msg" becomes "...07:29:17.162452-06:00 msg" in Denver);
 * lines that start with no timestamp (a message's continuation lines) are copied as they are.
 * Returns 0, or -1 on a read or write error. */
int res_log_convert(FILE *in, FILE *out, const sf_tz *tz);

#endif
