/* CSV and JUnit exports, URLs, times in a zone, and stbt.log conversion. */
#include "res_export.h"
#include "test.h"

#include <stdlib.h>

static res_hit hit(const char *id, const char *job, const char *tc, const char *category,
                   res_outcome o, const char *reason, int64_t start_us, int64_t dur_us)
{
    res_hit h = {0};
    h.id = id;
    h.job_uid = job;
    h.node_id = "stb-tester-abcdef123456";
    h.test_case = tc;
    h.test_pack_sha = "c2c82cad";
    h.username = "alice";
    h.job_category = category;
    h.failure_reason = reason;
    h.start_us = start_us;
    h.end_us = start_us + dur_us;
    h.outcome = o;
    return h;
}

static void test_urls_are_the_spec_examples(void)
{
    char u[RES_URL_MAX];
    const char *id = "/stb-tester-abcdef123456/0a23/972/2015-05-28_14.46.34";
    res_result_url(u, sizeof(u), "https://company.stb-tester.com", id);
    CHECK_STR(u, "https://company.stb-tester.com/api/v2/results/stb-tester-abcdef123456/0a23/972/"
                 "2015-05-28_14.46.34");
    res_triage_url(u, sizeof(u), "https://company.stb-tester.com", id);
    CHECK_STR(u, "https://company.stb-tester.com/app/#/result//stb-tester-abcdef123456/0a23/972/"
                 "2015-05-28_14.46.34");
}

static void test_times_are_utc_with_z_or_local_with_offset(void)
{
    char b[48];
    res_format_time(1432824395354791LL, sf_tz_utc(), b, sizeof(b));
    CHECK_STR(b, "2015-05-28T14:46:35.354791Z");
    sf_tz *denver = NULL;
    CHECK(sf_tz_load(NULL, "America/Denver", &denver, NULL) == 0);
    res_format_time(1432824395354791LL, denver, b, sizeof(b));
    CHECK_STR(b, "2015-05-28T08:46:35.354791-06:00");
    sf_tz_free(denver);
}

static void test_csv_has_a_header_and_quotes_what_it_must(void)
{
    res_hit hits[2] = {
        hit("/n/a/1/t1", "/n/a/1", "tests/a.py::test_x", "c", RES_PASS, NULL, 1000000, 2500000),
        hit("/n/a/1/t2", "/n/a/1", "tests/a.py::test_y", "c", RES_FAIL, "expected \"1\", got\r\n2",
            0, 1),
    };
    res_hits h = {2, hits, NULL};
    res_export_opts o = {"http://farm", sf_tz_utc(), 0, 0};
    char *csv;
    size_t len;
    CHECK(res_export_csv(&h, &o, &csv, &len) == 0);
    CHECK(len == strlen(csv));
    const char *expect =
        "result_id,job_uid,result_url,triage_url,start_time,end_time,test_pack_sha,test_case,"
        "result,failure_reason\r\n"
        "/n/a/1/t1,/n/a/1,http://farm/api/v2/results/n/a/1/t1,http://farm/app/#/result//n/a/1/t1,"
        "1970-01-01T00:00:01.000000Z,1970-01-01T00:00:03.500000Z,c2c82cad,tests/a.py::test_x,"
        "pass,\r\n"
        "/n/a/1/t2,/n/a/1,http://farm/api/v2/results/n/a/1/t2,http://farm/app/#/result//n/a/1/t2,"
        "1970-01-01T00:00:00.000000Z,1970-01-01T00:00:00.000001Z,c2c82cad,tests/a.py::test_y,"
        "fail,\"expected \"\"1\"\", got\r\n2\"\r\n";
    CHECK_STR(csv, expect);
    free(csv);
}

static void test_junit_groups_by_job_and_escapes(void)
{
    res_hit hits[3] = {
        hit("/n/a/1/t1", "/n/a/1", "tests/epg.py::test_that_epg_is_populated", "c", RES_FAIL,
            "EPG <empty> & \"x\"", 1432824395354791LL, 6970641),
        hit("/n/a/2/t1", "/n/a/2", "tests/x.py::Suite::test_y", "c", RES_ERROR, "boom\x01", 0,
            1000000),
        hit("/n/a/1/t2", "/n/a/1", "no_colons", "c", RES_PASS, NULL, 0, 0),
    };
    Stbfarm__ResultDetail d0 = STBFARM__RESULT_DETAIL__INIT;
    d0.traceback = "Traceback:\n  assert a < b";
    Stbfarm__ResultDetail *details[3] = {&d0, NULL, NULL};
    res_hits h = {3, hits, NULL};
    res_export_opts o = {"http://farm", sf_tz_utc(), 0, 0};
    char *xml;
    size_t len;
    CHECK(res_export_junit(&h, details, &o, &xml, &len) == 0);
    CHECK(strstr(xml, "<testsuites tests=\"3\" failures=\"1\" errors=\"1\""));
    /* two suites, in the order the hits first name their jobs, members in hit order */
    const char *s1 =
        strstr(xml, "<testsuite name=\"/n/a/1\" tests=\"2\" failures=\"1\" errors=\"0\"");
    const char *s2 = strstr(xml, "<testsuite name=\"/n/a/2\" tests=\"1\"");
    CHECK(s1 && s2 && s1 < s2);
    CHECK(strstr(xml, "timestamp=\"1970-01-01T00:00:00\""));
    CHECK(strstr(xml, "<testcase classname=\"tests.epg\" name=\"test_that_epg_is_populated\" "
                      "time=\"6.970641\">"));
    CHECK(strstr(xml, "<failure type=\"fail\" message=\"EPG &lt;empty&gt; &amp; &quot;x&quot;\">"
                      "Traceback:\n  assert a &lt; b</failure>"));
    CHECK(strstr(xml, "classname=\"tests.x.Suite\" name=\"test_y\""));
    CHECK(strstr(xml, "<error type=\"error\" message=\"boom\xef\xbf\xbd\"></error>"));
    CHECK(strstr(xml, "classname=\"no_colons\" name=\"no_colons\""));
    CHECK(strstr(xml, "<system-out>Result: http://farm/api/v2/results/n/a/1/t1\n"));
    free(xml);
}

static void test_junit_by_category_with_zone(void)
{
    res_hit hits[2] = {
        hit("/n/a/1/t1", "/n/a/1", "t::a", "soak", RES_PASS, NULL, 1432824395354791LL, 1),
        hit("/n/a/2/t1", "/n/a/2", "t::b", "soak", RES_PASS, NULL, 1432824396354791LL, 1),
    };
    res_hits h = {2, hits, NULL};
    sf_tz *denver = NULL;
    sf_tz_load(NULL, "America/Denver", &denver, NULL);
    res_export_opts o = {"http://farm", denver, 1, 1};
    char *xml;
    size_t len;
    CHECK(res_export_junit(&h, NULL, &o, &xml, &len) == 0);
    CHECK(strstr(xml, "<testsuite name=\"soak\" tests=\"2\""));
    CHECK(strstr(xml, "timestamp=\"2015-05-28T08:46:35-06:00\""));
    CHECK(!strstr(xml, "hostname"));
    free(xml);
    o.include_tz = 0;
    CHECK(res_export_junit(&h, NULL, &o, &xml, &len) == 0);
    CHECK(strstr(xml, "timestamp=\"2015-05-28T08:46:35\""));
    free(xml);
    sf_tz_free(denver);
}

static char *convert(const char *log, const char *zone)
{
    static char out[1024];
    sf_tz *tz = NULL;
    sf_tz_load(NULL, zone, &tz, NULL);
    FILE *in = fmemopen((void *)log, strlen(log), "r");
    FILE *o = fmemopen(out, sizeof(out), "w");
    CHECK(res_log_convert(in, o, tz) == 0);
    fclose(in);
    fclose(o);
    sf_tz_free(tz);
    return out;
}

static void test_log_lines_move_to_the_zone(void)
{
    CHECK_STR(convert("2015-06-16T13:29:17.162452+00:00 stbt-run: Arguments:\n"
                      "  continued line\n"
                      "2015-12-16T13:29:17+00:00 winter\n"
                      "no stamp here\n"
                      "2015-06-16T13:29:17.162615+00:00 last, no newline",
                      "America/Denver"),
              "2015-06-16T07:29:17.162452-06:00 stbt-run: Arguments:\n"
              "  continued line\n"
              "2015-12-16T06:29:17-07:00 winter\n"
              "no stamp here\n"
              "2015-06-16T07:29:17.162615-06:00 last, no newline");
    CHECK_STR(convert("2015-06-16T13:29:17.162452Z x\n", "Europe/London"),
              "2015-06-16T14:29:17.162452+01:00 x\n");
}

int main(void)
{
    RUN(test_urls_are_the_spec_examples);
    RUN(test_times_are_utc_with_z_or_local_with_offset);
    RUN(test_csv_has_a_header_and_quotes_what_it_must);
    RUN(test_junit_groups_by_job_and_escapes);
    RUN(test_junit_by_category_with_zone);
    RUN(test_log_lines_move_to_the_zone);
    return TEST_EXIT();
}
