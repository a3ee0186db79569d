/* What the results service accepts as ids, artifact paths and records. */
#include "res_names.h"
#include "sf_utf8.h"
#include "test.h"

#include <stdlib.h>

static void test_upload_ids(void)
{
    CHECK(res_upload_id_valid("0123456789abcdef0123456789abcdef"));
    CHECK(res_upload_id_valid("node-1_upload"));
    CHECK(!res_upload_id_valid("short"));
    CHECK(!res_upload_id_valid("has/slash-in-it"));
    CHECK(!res_upload_id_valid("has space in it"));
    CHECK(!res_upload_id_valid("../../../etc"));
}

static void test_job_and_result_ids_have_three_and_four_safe_segments(void)
{
    CHECK(res_job_uid_valid("/stb-tester-abcdef123456/0a23/972"));
    CHECK(!res_job_uid_valid("stb-tester-abcdef123456/0a23/972"));
    CHECK(!res_job_uid_valid("/a/b"));
    CHECK(!res_job_uid_valid("/a/b/c/d"));
    CHECK(!res_job_uid_valid("/a/../c"));
    CHECK(!res_job_uid_valid("/a/.b/c"));
    CHECK(!res_job_uid_valid("/a//c"));
    CHECK(res_result_id_valid("/stb-tester-abcdef123456/0a23/972/2015-05-28_14.46.34"));
    CHECK(res_result_id_valid("/n/0a23/972/2015-05-28_14.46.34_2"));
    CHECK(!res_result_id_valid("/n/0a23/972/.."));
    CHECK(!res_result_id_valid("/n/0a23/972/a b"));
    CHECK(!res_result_id_valid("/n/0a23/972/x/"));
}

static void test_base_id_is_the_job_and_the_utc_second(void)
{
    char id[RES_ID_MAX];
    res_result_id_base("/stb-tester-abcdef123456/0a23/972", 1432824394999999LL, id, sizeof(id));
    CHECK_STR(id, "/stb-tester-abcdef123456/0a23/972/2015-05-28_14.46.34");
}

static void test_artifact_paths_stay_inside_the_result(void)
{
    CHECK(res_artifact_path_valid("video.mp4"));
    CHECK(res_artifact_path_valid("a/file in a subdirectory/another.log"));
    CHECK(res_artifact_path_valid(".hidden/x"));
    CHECK(res_artifact_path_valid("caf\xc3\xa9.log"));
    CHECK(!res_artifact_path_valid(""));
    CHECK(!res_artifact_path_valid("../x"));
    CHECK(!res_artifact_path_valid("a/../../x"));
    CHECK(!res_artifact_path_valid("a/./x"));
    CHECK(!res_artifact_path_valid("/etc/passwd"));
    CHECK(!res_artifact_path_valid("a//b"));
    CHECK(!res_artifact_path_valid("a/"));
    CHECK(!res_artifact_path_valid("..."
                                   "/../x"));
    CHECK(!res_artifact_path_valid("a\nb"));
    CHECK(!res_artifact_path_valid("bad\xff.log"));
    char deep[200] = "";
    for (int i = 0; i < RES_PATH_DEPTH + 1; i++)
        strcat(deep, "d/");
    strcat(deep, "f");
    CHECK(!res_artifact_path_valid(deep));
}

static void test_content_types_come_from_the_extension(void)
{
    CHECK_STR(res_content_type("screenshot.png"), "image/png");
    CHECK_STR(res_content_type("a/video.MP4"), "video/mp4");
    CHECK_STR(res_content_type("stbt.log"), "text/plain; charset=utf-8");
    CHECK_STR(res_content_type("thumbnail.jpg"), "image/jpeg");
    CHECK_STR(res_content_type("noext"), "application/octet-stream");
    CHECK_STR(res_content_type("dir.png/noext"), "application/octet-stream");
    CHECK_STR(res_content_type("x.unknown"), "application/octet-stream");
}

static Stbfarm__ResultMeta meta(void)
{
    Stbfarm__ResultMeta m = STBFARM__RESULT_META__INIT;
    m.job_uid = "/stb-tester-abcdef123456/0a23/972";
    m.node_id = "stb-tester-abcdef123456";
    m.test_case = "tests/epg.py::test_that_epg_is_populated";
    m.test_pack_sha = "c2c82cad08114f973e2c36f0bbfbfb0a78dad911";
    m.username = "johnsmith";
    m.job_category = "soak test of release x";
    m.start_time_us = 1432824395354791LL;
    return m;
}

static void test_meta_check_names_the_bad_field(void)
{
    Stbfarm__ResultMeta m = meta();
    sf_error err = SF_ERROR_INIT;
    CHECK(res_meta_check(&m, &err) == 0);
    m.job_uid = "/a/b";
    CHECK(res_meta_check(&m, &err) == SF_EINVAL && strstr(err.msg, "job_uid"));
    m = meta();
    m.test_case = "tab\tin name";
    CHECK(res_meta_check(&m, &err) == SF_EINVAL && strstr(err.msg, "test_case"));
    m = meta();
    m.username = "-x";
    CHECK(res_meta_check(&m, &err) == SF_EINVAL && strstr(err.msg, "username"));
    m = meta();
    m.start_time_us = 0;
    CHECK(res_meta_check(&m, &err) == SF_EINVAL && strstr(err.msg, "start_time"));
    m = meta();
    Stbfarm__ResultMeta__TagsEntry t = STBFARM__RESULT_META__TAGS_ENTRY__INIT, *tp = &t;
    t.key = "a=b";
    t.value = "x";
    m.n_tags = 1;
    m.tags = &tp;
    CHECK(res_meta_check(&m, &err) == SF_EINVAL && strstr(err.msg, "tag"));
}

static void test_finish_check_refuses_bad_manifests(void)
{
    Stbfarm__ResultMeta m = meta();
    Stbfarm__ResultsFinishRequest f = STBFARM__RESULTS_FINISH_REQUEST__INIT;
    Stbfarm__ManifestEntry e[3], *ep[3] = {&e[0], &e[1], &e[2]};
    for (int i = 0; i < 3; i++) {
        stbfarm__manifest_entry__init(&e[i]);
        e[i].size = 1;
        e[i].md5 = "d41d8cd98f00b204e9800998ecf8427e";
    }
    e[0].path = "a.log";
    e[1].path = "a.log.1";
    e[2].path = "b/c.log";
    f.result = "pass";
    f.end_time_us = m.start_time_us + 1;
    f.n_artifacts = 3;
    f.artifacts = ep;
    sf_error err = SF_ERROR_INIT;
    CHECK(res_finish_check(&m, &f, &err) == 0);
    f.result = "PASS";
    CHECK(res_finish_check(&m, &f, &err) == SF_EINVAL && strstr(err.msg, "result"));
    f.result = "fail";
    f.end_time_us = m.start_time_us - 1;
    CHECK(res_finish_check(&m, &f, &err) == SF_EINVAL && strstr(err.msg, "end_time"));
    f.end_time_us = m.start_time_us;
    e[1].path = "a.log";
    CHECK(res_finish_check(&m, &f, &err) == SF_EINVAL && strstr(err.msg, "twice"));
    e[1].path = "b";
    CHECK(res_finish_check(&m, &f, &err) == SF_EINVAL && strstr(err.msg, "file and a directory"));
    e[1].path = "../escape";
    CHECK(res_finish_check(&m, &f, &err) == SF_EINVAL && strstr(err.msg, "path"));
    e[1].path = "ok.log";
    e[1].md5 = "D41D8CD98F00B204E9800998ECF8427E";
    CHECK(res_finish_check(&m, &f, &err) == SF_EINVAL && strstr(err.msg, "md5"));
}

static void test_utf8_checks_and_repairs(void)
{
    CHECK(sf_utf8_valid("plain", 5));
    CHECK(sf_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
    CHECK(!sf_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    CHECK(!sf_utf8_valid("\xed\xa0\x80", 3));     /* a surrogate */
    CHECK(!sf_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    CHECK(!sf_utf8_valid("\xe2\x82", 2));         /* cut short */
    char *r = sf_utf8_repair("ok\xff\xc3\xa9!");
    CHECK_STR(r, "ok\xef\xbf\xbd\xc3\xa9!");
    free(r);
}

int main(void)
{
    RUN(test_upload_ids);
    RUN(test_job_and_result_ids_have_three_and_four_safe_segments);
    RUN(test_base_id_is_the_job_and_the_utc_second);
    RUN(test_artifact_paths_stay_inside_the_result);
    RUN(test_content_types_come_from_the_extension);
    RUN(test_meta_check_names_the_bad_field);
    RUN(test_finish_check_refuses_bad_manifests);
    RUN(test_utf8_checks_and_repairs);
    return TEST_EXIT();
}
