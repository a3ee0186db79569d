#include "gw_router.h"
#include "test.h"

static void test_normalize_collapses_slashes_and_drops_trailing_one(void)
{
    char out[256];
    CHECK(gw_path_normalize("//api//v2/jobs//n/a/1/", out, sizeof(out), NULL) == 0);
    CHECK_STR(out, "/api/v2/jobs/n/a/1");
    CHECK(gw_path_normalize("/", out, sizeof(out), NULL) == 0);
    CHECK_STR(out, "/");
    CHECK(gw_path_normalize("///", out, sizeof(out), NULL) == 0);
    CHECK_STR(out, "/");
}

static void test_normalize_refuses_control_characters_and_keeps_dot_segments(void)
{
    char out[256];
    CHECK(gw_path_normalize("/a\nb", out, sizeof(out), NULL) == SF_EINVAL);
    CHECK(gw_path_normalize("relative", out, sizeof(out), NULL) == SF_EINVAL);
    CHECK(gw_path_normalize("/api/...x/.hidden", out, sizeof(out), NULL) == 0);
    CHECK(!gw_path_has_dots(out));
    CHECK(gw_path_normalize("/api/../etc", out, sizeof(out), NULL) == 0);
    CHECK_STR(out, "/api/../etc");
    CHECK(gw_path_has_dots(out));
    CHECK(gw_path_normalize("/api/./x", out, sizeof(out), NULL) == 0);
    CHECK(gw_path_has_dots(out));
    CHECK(gw_path_normalize("/api/..", out, sizeof(out), NULL) == 0);
    CHECK(gw_path_has_dots(out));
}

static void test_dot_segments_match_only_inside_rest_parameters(void)
{
    gw_params p;
    CHECK(!gw_pattern_match("/api/v2/nodes/{node_id}", "/api/v2/nodes/..", &p));
    CHECK(!gw_pattern_match("/api/v2/jobs/{job_uid:3}", "/api/v2/jobs/a/../b", &p));
    CHECK(!gw_pattern_match("/api/v2/nodes", "/api/v2/./nodes", &p));
    CHECK(gw_pattern_match("/api/v2/results/{result_id:4}/artifacts/{filename*}",
                           "/api/v2/results/n/a/1/t/artifacts/../../etc/passwd", &p));
    CHECK_STR(p.value[1], "../../etc/passwd");
}

static void test_normalize_decodes_escapes_and_refuses_nul(void)
{
    char out[256];
    sf_error err = SF_ERROR_INIT;
    CHECK(gw_path_normalize("/api/v2/results/a%2Fb/%41%7e%zz%4", out, sizeof(out), NULL) == 0);
    CHECK_STR(out, "/api/v2/results/a/b/A~%zz%4");
    CHECK(gw_path_normalize("/%2F%2fx%2F", out, sizeof(out), NULL) == 0);
    CHECK_STR(out, "/x");
    CHECK(gw_path_normalize("/%2e%2e/etc", out, sizeof(out), NULL) == 0);
    CHECK(gw_path_has_dots(out));
    CHECK(gw_path_normalize("/api/v2/nodes/x%00junk", out, sizeof(out), &err) == SF_EINVAL);
    CHECK(strstr(err.msg, "NUL") != NULL);
    CHECK(gw_path_normalize("/a%0ab", out, sizeof(out), &err) == SF_EINVAL);
    CHECK(strstr(err.msg, "control characters") != NULL);
    CHECK(gw_path_normalize("/a%7Fb", out, sizeof(out), NULL) == SF_EINVAL);
}

static void test_normalize_reports_overflow(void)
{
    char out[8];
    CHECK(gw_path_normalize("/abcdefgh", out, sizeof(out), NULL) == SF_ETOOLARGE);
}

static void test_literal_patterns_match_exactly(void)
{
    gw_params p;
    CHECK(gw_pattern_match("/api/v2/nodes", "/api/v2/nodes", &p));
    CHECK(p.n == 0);
    CHECK(!gw_pattern_match("/api/v2/nodes", "/api/v2/nodes/x", &p));
    CHECK(!gw_pattern_match("/api/v2/nodes", "/api/v2", &p));
    CHECK(!gw_pattern_match("/api/v2/nodes", "/api/v2/node", &p));
}

static void test_one_segment_parameter(void)
{
    gw_params p;
    CHECK(gw_pattern_match("/api/v2/nodes/{node_id}/screenshot.png",
                           "/api/v2/nodes/stb-1/screenshot.png", &p));
    CHECK(p.n == 1);
    CHECK(p.name_len[0] == 7 && !strncmp(p.name[0], "node_id", 7));
    CHECK_STR(p.value[0], "stb-1");
    CHECK(!gw_pattern_match("/api/v2/nodes/{node_id}", "/api/v2/nodes/a/b", &p));
}

static void test_counted_parameter_keeps_leading_slash(void)
{
    gw_params p;
    CHECK(
        gw_pattern_match("/api/v2/jobs/{job_uid:3}/stop", "/api/v2/jobs/stb-1/0a23/972/stop", &p));
    CHECK_STR(p.value[0], "/stb-1/0a23/972");
    CHECK(p.name_len[0] == 7);
    CHECK(!gw_pattern_match("/api/v2/jobs/{job_uid:3}/stop", "/api/v2/jobs/stb-1/0a23/stop", &p));
    CHECK(gw_pattern_match("/api/v2/results/{result_id:4}",
                           "/api/v2/results/n/a/1/2015-05-28_14.46.34", &p));
    CHECK_STR(p.value[0], "/n/a/1/2015-05-28_14.46.34");
}

static void test_rest_parameter_takes_the_remaining_segments(void)
{
    gw_params p;
    CHECK(gw_pattern_match("/api/v2/results/{result_id:4}/artifacts/{filename*}",
                           "/api/v2/results/n/a/1/t/artifacts/a/file in a dir/x.log", &p));
    CHECK(p.n == 2);
    CHECK_STR(p.value[0], "/n/a/1/t");
    CHECK_STR(p.value[1], "a/file in a dir/x.log");
    CHECK(!gw_pattern_match("/api/v2/results/{result_id:4}/artifacts/{filename*}",
                            "/api/v2/results/n/a/1/t/artifacts", &p));
}

static void test_rest_parameter_leaves_room_for_later_segments(void)
{
    gw_params p;
    CHECK(gw_pattern_match("/api/v2/test_pack/{rev*}/test_case_names",
                           "/api/v2/test_pack/feature/x/y/test_case_names", &p));
    CHECK_STR(p.value[0], "feature/x/y");
    CHECK(gw_pattern_match("/api/v2/test_pack/{rev*}/test_case_names",
                           "/api/v2/test_pack/master/test_case_names", &p));
    CHECK_STR(p.value[0], "master");
    CHECK(!gw_pattern_match("/api/v2/test_pack/{rev*}/test_case_names",
                            "/api/v2/test_pack/test_case_names", &p));
    CHECK(!gw_pattern_match("/api/v2/test_pack/{rev*}/test_case_names",
                            "/api/v2/test_pack/master/other", &p));
}

int main(void)
{
    RUN(test_normalize_collapses_slashes_and_drops_trailing_one);
    RUN(test_normalize_refuses_control_characters_and_keeps_dot_segments);
    RUN(test_dot_segments_match_only_inside_rest_parameters);
    RUN(test_normalize_decodes_escapes_and_refuses_nul);
    RUN(test_normalize_reports_overflow);
    RUN(test_literal_patterns_match_exactly);
    RUN(test_one_segment_parameter);
    RUN(test_counted_parameter_keeps_leading_slash);
    RUN(test_rest_parameter_takes_the_remaining_segments);
    RUN(test_rest_parameter_leaves_room_for_later_segments);
    return TEST_EXIT();
}
