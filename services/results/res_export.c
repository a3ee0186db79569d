#include "res_export.h"

#include "sf_buf.h"
#include "sf_time.h"
#include "sf_utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void res_result_url(char *out, size_t len, const char *base_url, const char *id)
{
    snprintf(out, len, "%s/api/v2/results%s", base_url, id);
}

void res_triage_url(char *out, size_t len, const char *base_url, const char *id)
{
    snprintf(out, len, "%s/app/#/result/%s", base_url, id);
}

static int64_t floor_secs(int64_t us)
{
    return us / 1000000 - (us % 1000000 < 0);
}

void res_format_time(int64_t us, const sf_tz *tz, char *buf, size_t len)
{
    if (tz == sf_tz_utc()) {
        sf_time_format(us, buf, len, SF_TIME_ZULU);
        return;
    }
    sf_time_format_at(us, sf_tz_offset(tz, floor_secs(us)), buf, len, SF_TIME_OFFSET);
}

/* ---- CSV ---- */

static void csv_field(sf_buf *b, const char *s, int last)
{
    if (s && strpbrk(s, ",\"\r\n")) {
        sf_buf_putc(b, '"');
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                sf_buf_putc(b, '"');
            sf_buf_putc(b, *p);
        }
        sf_buf_putc(b, '"');
    } else if (s) {
        sf_buf_puts(b, s);
    }
    sf_buf_puts(b, last ? "\r\n" : ",");
}

int res_export_csv(const res_hits *h, const res_export_opts *o, char **out, size_t *len)
{
    static const char *const header[] = {
        "result_id", "job_uid",       "result_url", "triage_url", "start_time",
        "end_time",  "test_pack_sha", "test_case",  "result",     "failure_reason"};
    enum { N_COLS = sizeof(header) / sizeof(header[0]) };
    sf_buf b = SF_BUF_INIT;
    for (size_t i = 0; i < N_COLS; i++)
        csv_field(&b, header[i], i == N_COLS - 1);
    for (size_t i = 0; i < h->n; i++) {
        const res_hit *x = &h->hits[i];
        char rurl[RES_URL_MAX], turl[RES_URL_MAX], start[40], end[40];
        res_result_url(rurl, sizeof(rurl), o->base_url, x->id);
        res_triage_url(turl, sizeof(turl), o->base_url, x->id);
        res_format_time(x->start_us, o->tz, start, sizeof(start));
        res_format_time(x->end_us, o->tz, end, sizeof(end));
        const char *row[N_COLS] = {x->id,
                                   x->job_uid,
                                   rurl,
                                   turl,
                                   start,
                                   end,
                                   x->test_pack_sha,
                                   x->test_case,
                                   res_outcome_name(x->outcome),
                                   x->failure_reason};
        for (size_t c = 0; c < N_COLS; c++)
            csv_field(&b, row[c], c == N_COLS - 1);
    }
    *out = sf_buf_take(&b, len);
    return *out ? 0 : SF_EINTERNAL;
}

/* ---- JUnit XML ---- */

/* Text for an XML 1.0 document: markup escaped, and the control characters XML cannot carry at
 * all replaced by U+FFFD. In attributes white space is escaped too, so that it survives
 * attribute-value normalisation. */
static void xml_text(sf_buf *b, const char *s, int attr)
{
    for (const char *p = s ? s : ""; *p; p++) {
        unsigned char c = (unsigned char)*p;
        switch (c) {
        case '&':
            sf_buf_puts(b, "&amp;");
            break;
        case '<':
            sf_buf_puts(b, "&lt;");
            break;
        case '>':
            sf_buf_puts(b, "&gt;");
            break;
        case '"':
            sf_buf_puts(b, "&quot;");
            break;
        case '\n':
            sf_buf_puts(b, attr ? "&#10;" : "\n");
            break;
        case '\r':
            sf_buf_puts(b, "&#13;");
            break;
        case '\t':
            sf_buf_puts(b, attr ? "&#9;" : "\t");
            break;
        default:
            if (c < 0x20 || c == 0x7f)
                sf_buf_puts(b, "\xef\xbf\xbd");
            else
                sf_buf_putc(b, (char)c);
        }
    }
}

/* JUnit's "2015-05-28T14:46:35", local to tz, with "+hh:mm" when asked for. */
static void junit_time(int64_t us, const res_export_opts *o, char *buf, size_t len)
{
    int off = sf_tz_offset(o->tz, floor_secs(us));
    sf_time_format_at(us, off, buf, len, SF_TIME_NO_FRAC | SF_TIME_OFFSET);
    if (!o->include_tz)
        buf[19] = '\0';
}

/* "tests/epg.py::Class::test_x" -> classname "tests.epg.Class", name "test_x", as pytest. */
static void split_test_case(const char *tc, sf_buf *classname, const char **name)
{
    const char *sep = strstr(tc, "::"), *last = NULL;
    for (const char *p = sep; p; p = strstr(p + 2, "::"))
        last = p;
    *name = last ? last + 2 : tc;
    size_t file_len = sep ? (size_t)(sep - tc) : strlen(tc);
    if (file_len >= 3 && !strncmp(tc + file_len - 3, ".py", 3))
        file_len -= 3;
    for (size_t i = 0; i < file_len; i++)
        sf_buf_putc(classname, tc[i] == '/' ? '.' : tc[i]);
    for (const char *p = sep; p && p < last; p++) {
        if (p[0] == ':' && p[1] == ':') {
            sf_buf_putc(classname, '.');
            p++;
        } else {
            sf_buf_putc(classname, *p);
        }
    }
}

static const char *group_key(const res_hit *x, const res_export_opts *o)
{
    return o->group_by_category ? x->job_category : x->job_uid;
}

static void junit_suite(sf_buf *b, const res_hits *h, Stbfarm__ResultDetail *const *details,
                        const size_t *members, size_t n, const res_export_opts *o)
{
    size_t failures = 0, errors = 0;
    int64_t total_us = 0, first_us = h->hits[members[0]].start_us;
    for (size_t i = 0; i < n; i++) {
        const res_hit *x = &h->hits[members[i]];
        failures += x->outcome == RES_FAIL;
        errors += x->outcome == RES_ERROR;
        total_us += x->end_us - x->start_us;
        if (x->start_us < first_us)
            first_us = x->start_us;
    }
    char ts[48];
    junit_time(first_us, o, ts, sizeof(ts));
    const res_hit *first = &h->hits[members[0]];
    sf_buf_puts(b, "  <testsuite name=\"");
    xml_text(b, group_key(first, o), 1);
    sf_buf_printf(b,
                  "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\" "
                  "time=\"%.6f\" timestamp=\"%s\"",
                  n, failures, errors, (double)total_us / 1e6, ts);
    if (!o->group_by_category) {
        sf_buf_puts(b, " hostname=\"");
        xml_text(b, first->node_id, 1);
        sf_buf_putc(b, '"');
    }
    sf_buf_puts(b, ">\n");
    for (size_t i = 0; i < n; i++) {
        const res_hit *x = &h->hits[members[i]];
        const Stbfarm__ResultDetail *d = details ? details[members[i]] : NULL;
        sf_buf cls = SF_BUF_INIT;
        const char *name;
        split_test_case(x->test_case, &cls, &name);
        sf_buf_puts(b, "    <testcase classname=\"");
        xml_text(b, cls.data, 1);
        sf_buf_free(&cls);
        sf_buf_puts(b, "\" name=\"");
        xml_text(b, name, 1);
        sf_buf_printf(b, "\" time=\"%.6f\">\n", (double)(x->end_us - x->start_us) / 1e6);
        if (x->outcome != RES_PASS) {
            const char *el = x->outcome == RES_FAIL ? "failure" : "error";
            sf_buf_printf(b, "      <%s type=\"%s\" message=\"", el, res_outcome_name(x->outcome));
            xml_text(b, x->failure_reason, 1);
            sf_buf_puts(b, "\">");
            xml_text(b, d ? d->traceback : NULL, 0);
            sf_buf_printf(b, "</%s>\n", el);
        }
        char rurl[RES_URL_MAX], turl[RES_URL_MAX];
        res_result_url(rurl, sizeof(rurl), o->base_url, x->id);
        res_triage_url(turl, sizeof(turl), o->base_url, x->id);
        sf_buf_puts(b, "      <system-out>Result: ");
        xml_text(b, rurl, 0);
        sf_buf_puts(b, "\nTriage: ");
        xml_text(b, turl, 0);
        sf_buf_puts(b, "\n</system-out>\n    </testcase>\n");
    }
    sf_buf_puts(b, "  </testsuite>\n");
}

int res_export_junit(const res_hits *h, Stbfarm__ResultDetail *const *details,
                     const res_export_opts *o, char **out, size_t *len)
{
    /* Suites in the order the hits first name them; members in hit order. */
    size_t n = h->n;
    size_t *suite_of = malloc((n ? n : 1) * sizeof(size_t)); /* hit -> its suite's first hit */
    size_t *members = malloc((n ? n : 1) * sizeof(size_t));
    size_t *firsts = malloc((n ? n : 1) * sizeof(size_t));
    size_t n_suites = 0;
    sf_buf b = SF_BUF_INIT;
    if (!suite_of || !members || !firsts) {
        free(suite_of);
        free(members);
        free(firsts);
        return SF_EINTERNAL;
    }
    size_t failures = 0, errors = 0;
    int64_t total_us = 0;
    for (size_t i = 0; i < n; i++) {
        const char *key = group_key(&h->hits[i], o);
        size_t s = 0;
        while (s < n_suites && strcmp(group_key(&h->hits[firsts[s]], o), key))
            s++;
        if (s == n_suites)
            firsts[n_suites++] = i;
        suite_of[i] = s;
        failures += h->hits[i].outcome == RES_FAIL;
        errors += h->hits[i].outcome == RES_ERROR;
        total_us += h->hits[i].end_us - h->hits[i].start_us;
    }
    sf_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    sf_buf_printf(&b, "<testsuites tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" time=\"%.6f\">\n",
                  n, failures, errors, (double)total_us / 1e6);
    for (size_t s = 0; s < n_suites; s++) {
        size_t m = 0;
        for (size_t i = firsts[s]; i < n; i++) {
            if (suite_of[i] == s)
                members[m++] = i;
        }
        junit_suite(&b, h, details, members, m, o);
    }
    sf_buf_puts(&b, "</testsuites>\n");
    free(suite_of);
    free(members);
    free(firsts);
    *out = sf_buf_take(&b, len);
    return *out ? 0 : SF_EINTERNAL;
}

/* ---- stbt.log ---- */

int res_log_convert(FILE *in, FILE *out, const sf_tz *tz)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) > 0) {
        char *space = memchr(line, ' ', (size_t)n);
        int64_t us;
        if (space && space - line < 40) {
            char stamp[40];
            memcpy(stamp, line, (size_t)(space - line));
            stamp[space - line] = '\0';
            if (!sf_time_parse(stamp, &us)) {
                char local[48];
                int flags = SF_TIME_OFFSET | (strchr(stamp, '.') ? 0 : SF_TIME_NO_FRAC);
                sf_time_format_at(us, sf_tz_offset(tz, floor_secs(us)), local, sizeof(local),
                                  flags);
                fputs(local, out);
                fwrite(space, 1, (size_t)(n - (space - line)), out);
                continue;
            }
        }
        fwrite(line, 1, (size_t)n, out);
    }
    free(line);
    return ferror(in) || ferror(out) ? -1 : 0;
}
