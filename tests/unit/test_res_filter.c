/* The search language of GET /api/v2/results and its sort parameter. */
#include "res_filter.h"
#include "sf_time.h"
#include "test.h"

#include <stdlib.h>

static res_filter *parse(const char *text)
{
    res_filter *f = NULL;
    sf_error err = SF_ERROR_INIT;
    if (res_filter_parse(text, &f, &err))
        fprintf(stderr, "parse '%s': %s\n", text, err.msg);
    return f;
}

/* The error message of a filter that must not parse. */
static const char *refuse(const char *text)
{
    static sf_error err;
    res_filter *f = NULL;
    err = (sf_error)SF_ERROR_INIT;
    if (res_filter_parse(text, &f, &err) != SF_EINVAL) {
        res_filter_free(f);
        return "(accepted)";
    }
    return err.msg;
}

static int64_t utc_us(int y, unsigned mo, unsigned d, int h, int mi, int s)
{
    return (sf_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000000;
}

static void test_blank_filter_matches_everything(void)
{
    res_filter *f = parse(NULL);
    CHECK(f && f->n == 0);
    res_filter_free(f);
    f = parse("   \t ");
    CHECK(f && f->n == 0);
    res_filter_free(f);
}

static void test_each_key_makes_its_term(void)
{
    res_filter *f = parse("job:/stb-tester-abc/0a23/972 testcase:tests/epg.py::test_x "
                          "result:FAIL category:soak node:stb-tester-abc tag:model=T-1000 "
                          "date:2024-01-01");
    CHECK(f && f->n == 7);
    if (!f)
        return;
    CHECK(f->terms[0].kind == RES_TERM_JOB);
    CHECK_STR(f->terms[0].value, "/stb-tester-abc/0a23/972");
    CHECK(f->terms[1].kind == RES_TERM_TESTCASE);
    CHECK_STR(f->terms[1].value, "tests/epg.py::test_x");
    CHECK(f->terms[2].kind == RES_TERM_RESULT && f->terms[2].outcome == RES_FAIL);
    CHECK(f->terms[3].kind == RES_TERM_CATEGORY);
    CHECK_STR(f->terms[3].value, "soak");
    CHECK(f->terms[4].kind == RES_TERM_NODE);
    CHECK(f->terms[5].kind == RES_TERM_TAG);
    CHECK_STR(f->terms[5].value, "model");
    CHECK_STR(f->terms[5].tag_value, "T-1000");
    CHECK(f->terms[6].kind == RES_TERM_DATE);
    for (size_t i = 0; i < f->n; i++)
        CHECK(!f->terms[i].negate);
    res_filter_free(f);
}

static void test_keys_are_case_insensitive(void)
{
    res_filter *f = parse("Result:pass JOB:/a/b/c");
    CHECK(f && f->n == 2 && f->terms[0].kind == RES_TERM_RESULT &&
          f->terms[1].kind == RES_TERM_JOB);
    res_filter_free(f);
}

static void test_quotes_group_words_and_escape(void)
{
    res_filter *f = parse("category:\"soak test of release x\" \"EPG is empty\" "
                          "tag:\"my tag=a b\" \"say \\\"hi\\\"\"");
    CHECK(f && f->n == 4);
    if (!f)
        return;
    CHECK_STR(f->terms[0].value, "soak test of release x");
    CHECK(f->terms[1].kind == RES_TERM_TEXT);
    CHECK_STR(f->terms[1].value, "epg is empty"); /* text is matched case-insensitively */
    CHECK_STR(f->terms[2].value, "my tag");
    CHECK_STR(f->terms[2].tag_value, "a b");
    CHECK_STR(f->terms[3].value, "say \"hi\"");
    res_filter_free(f);
}

static void test_minus_negates_any_term(void)
{
    res_filter *f = parse("-result:pass -timeout -\"two words\"");
    CHECK(f && f->n == 3);
    if (!f)
        return;
    CHECK(f->terms[0].negate && f->terms[0].kind == RES_TERM_RESULT);
    CHECK(f->terms[1].negate && f->terms[1].kind == RES_TERM_TEXT);
    CHECK_STR(f->terms[1].value, "timeout");
    CHECK(f->terms[2].negate);
    CHECK_STR(f->terms[2].value, "two words");
    res_filter_free(f);
}

static void test_words_with_colons_that_are_not_keys_are_text(void)
{
    res_filter *f = parse("tests/epg.py::test_x \"job:quoted\" 12:30");
    CHECK(f && f->n == 3);
    if (!f)
        return;
    for (size_t i = 0; i < 3; i++)
        CHECK(f->terms[i].kind == RES_TERM_TEXT);
    CHECK_STR(f->terms[1].value, "job:quoted");
    res_filter_free(f);
}

static void test_tag_without_value_matches_any_value(void)
{
    res_filter *f = parse("tag:model");
    CHECK(f && f->n == 1 && f->terms[0].tag_value == NULL);
    res_filter_free(f);
    f = parse("tag:model=");
    CHECK(f && f->terms[0].tag_value && !*f->terms[0].tag_value);
    res_filter_free(f);
}

static void test_bad_filters_say_what_is_wrong(void)
{
    CHECK(strstr(refuse("resutl:fail"), "unknown term 'resutl:'"));
    CHECK(strstr(refuse("result:maybe"), "pass, fail or error"));
    CHECK(strstr(refuse("job:"), "needs a value"));
    CHECK(strstr(refuse("category:\"open"), "never closed"));
    CHECK(strstr(refuse("-"), "must be followed"));
    CHECK(strstr(refuse("tag:=x"), "names no tag"));
    CHECK(strstr(refuse("\"\""), "empty search text"));
    CHECK(strstr(refuse("date:yesterday"), "not a date"));
    CHECK(strstr(refuse("date:2024-02-30"), "not a date"));
    CHECK(strstr(refuse("date:2024-01-01T25:00"), "not a date"));
    CHECK(strstr(refuse("date:.."), "not a date"));
    CHECK(strstr(refuse("date:2024-01-01x"), "not a date"));
    for (const char *m = refuse("resutl:fail"); *m; m++)
        CHECK(*m != '\n');
    char many[1024] = "";
    for (int i = 0; i < 65; i++)
        strcat(many, "a ");
    CHECK(strstr(refuse(many), "more than 64 terms"));
    char *huge = malloc(RES_FILTER_MAX_BYTES + 2);
    memset(huge, 'a', RES_FILTER_MAX_BYTES + 1);
    huge[RES_FILTER_MAX_BYTES + 1] = '\0';
    CHECK(strstr(refuse(huge), "longer than"));
    free(huge);
}

/* The [from, to) a date term resolves to in zone tz (NULL: UTC). */
static void resolve(const char *text, const char *tz, int64_t *from, int64_t *to)
{
    res_filter *f = parse(text);
    sf_tz *zone = NULL;
    if (tz)
        sf_tz_load(NULL, tz, &zone, NULL);
    *from = *to = -1;
    if (f && f->n == 1) {
        res_filter_resolve(f, zone ? zone : sf_tz_utc());
        *from = f->terms[0].from_us;
        *to = f->terms[0].to_us;
    }
    res_filter_free(f);
    sf_tz_free(zone);
}

static void test_a_day_is_the_whole_day_in_utc(void)
{
    int64_t from, to;
    resolve("date:2024-01-31", NULL, &from, &to);
    CHECK(from == utc_us(2024, 1, 31, 0, 0, 0));
    CHECK(to == utc_us(2024, 2, 1, 0, 0, 0));
    resolve("date:2024-02", NULL, &from, &to);
    CHECK(from == utc_us(2024, 2, 1, 0, 0, 0) && to == utc_us(2024, 3, 1, 0, 0, 0));
    resolve("date:2024", NULL, &from, &to);
    CHECK(from == utc_us(2024, 1, 1, 0, 0, 0) && to == utc_us(2025, 1, 1, 0, 0, 0));
    resolve("date:2024-12", NULL, &from, &to);
    CHECK(to == utc_us(2025, 1, 1, 0, 0, 0));
}

static void test_ranges_and_comparisons(void)
{
    int64_t from, to;
    resolve("date:2024-01-01..2024-02-01", NULL, &from, &to);
    CHECK(from == utc_us(2024, 1, 1, 0, 0, 0) && to == utc_us(2024, 2, 2, 0, 0, 0));
    resolve("date:>2024-01-01", NULL, &from, &to);
    CHECK(from == utc_us(2024, 1, 2, 0, 0, 0) && to == INT64_MAX);
    resolve("date:>=2024-01-01", NULL, &from, &to);
    CHECK(from == utc_us(2024, 1, 1, 0, 0, 0) && to == INT64_MAX);
    resolve("date:<2024-01-01", NULL, &from, &to);
    CHECK(from == INT64_MIN && to == utc_us(2024, 1, 1, 0, 0, 0));
    resolve("date:<=2024-01-01", NULL, &from, &to);
    CHECK(from == INT64_MIN && to == utc_us(2024, 1, 2, 0, 0, 0));
    resolve("date:2024-01-01T10:30..", NULL, &from, &to);
    CHECK(from == utc_us(2024, 1, 1, 10, 30, 0) && to == INT64_MAX);
    resolve("date:..2024-01-01T10:30:05.25", NULL, &from, &to);
    CHECK(from == INT64_MIN && to == utc_us(2024, 1, 1, 10, 30, 5) + 250001);
}

static void test_dates_are_read_in_tz_unless_they_say_their_zone(void)
{
    int64_t from, to;
    /* a July day in Denver is UTC-6, a January one UTC-7 */
    resolve("date:2024-07-04", "America/Denver", &from, &to);
    CHECK(from == utc_us(2024, 7, 4, 6, 0, 0) && to == utc_us(2024, 7, 5, 6, 0, 0));
    resolve("date:2024-01-04", "America/Denver", &from, &to);
    CHECK(from == utc_us(2024, 1, 4, 7, 0, 0));
    /* the day Denver springs forward is 23 hours long */
    resolve("date:2024-03-10", "America/Denver", &from, &to);
    CHECK(to - from == 23LL * 3600 * 1000000);
    resolve("date:2024-07-04T12:00Z", "America/Denver", &from, &to);
    CHECK(from == utc_us(2024, 7, 4, 12, 0, 0));
    resolve("date:\"2024-07-04 12:00+02:00\"", "America/Denver", &from, &to);
    CHECK(from == utc_us(2024, 7, 4, 10, 0, 0));
    resolve("date:2024-07-04T12:00-05:30", NULL, &from, &to);
    CHECK(from == utc_us(2024, 7, 4, 17, 30, 0));
}

static void test_glob_stars_match_any_run(void)
{
    CHECK(res_glob_match("tests/epg.py::*", "tests/epg.py::test_x"));
    CHECK(res_glob_match("*epg*", "tests/epg.py::test_x"));
    CHECK(res_glob_match("*", ""));
    CHECK(res_glob_match("a*b*c", "aXXbYYc"));
    CHECK(res_glob_match("a*c", "abcbc"));
    CHECK(!res_glob_match("a*c", "abcb"));
    CHECK(!res_glob_match("epg", "tests/epg.py"));
    CHECK(res_glob_match("exact", "exact"));
}

static void test_sort_takes_field_and_direction(void)
{
    res_sort s;
    CHECK(res_sort_parse(NULL, &s, NULL) == 0 && s.field == RES_SORT_DATE && s.descending);
    CHECK(res_sort_parse("", &s, NULL) == 0 && s.field == RES_SORT_DATE && s.descending);
    CHECK(res_sort_parse("duration:asc", &s, NULL) == 0 && s.field == RES_SORT_DURATION &&
          !s.descending);
    CHECK(res_sort_parse("testcase:desc", &s, NULL) == 0 && s.field == RES_SORT_TESTCASE);
    const char *bad[] = {"date", "date:up", "name:asc", "date:asc:x", ":asc", "Date:asc"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sf_error err = SF_ERROR_INIT;
        CHECK(res_sort_parse(bad[i], &s, &err) == SF_EINVAL);
        CHECK(strstr(err.msg, "invalid sort"));
    }
}

int main(void)
{
    RUN(test_blank_filter_matches_everything);
    RUN(test_each_key_makes_its_term);
    RUN(test_keys_are_case_insensitive);
    RUN(test_quotes_group_words_and_escape);
    RUN(test_minus_negates_any_term);
    RUN(test_words_with_colons_that_are_not_keys_are_text);
    RUN(test_tag_without_value_matches_any_value);
    RUN(test_bad_filters_say_what_is_wrong);
    RUN(test_a_day_is_the_whole_day_in_utc);
    RUN(test_ranges_and_comparisons);
    RUN(test_dates_are_read_in_tz_unless_they_say_their_zone);
    RUN(test_glob_stars_match_any_run);
    RUN(test_sort_takes_field_and_direction);
    return TEST_EXIT();
}
