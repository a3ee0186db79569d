#include "sf_ini.h"
#include "test.h"

#include <stdlib.h>

static char *parse_to_text(const char *in)
{
    cJSON *j;
    if (sf_ini_parse(in, strlen(in), &j, NULL))
        return NULL;
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

static void test_sections_become_objects(void)
{
    char *s = parse_to_text("# a node\n[node]\nfriendly_name = Rack 3, Node 1\n\n"
                            "[device_under_test]\ndevice_type: roku\nIP_Address=192.168.1.108\n");
    CHECK_STR(s, "{\"node\":{\"friendly_name\":\"Rack 3, Node 1\"},\"device_under_test\":{"
                 "\"device_type\":\"roku\",\"ip_address\":\"192.168.1.108\"}}");
    free(s);
}

static void test_continuation_lines_join_with_newlines(void)
{
    char *s = parse_to_text("[a]\nk = one\n  two\n\tthree\nj = x\n");
    CHECK_STR(s, "{\"a\":{\"k\":\"one\\ntwo\\nthree\",\"j\":\"x\"}}");
    free(s);
}

static void test_comments_blank_lines_and_repeats(void)
{
    char *s = parse_to_text("; c\n[a]\n# c\nk = 1\n[b]\n[a]\nk = 2\nempty =\n");
    CHECK_STR(s, "{\"a\":{\"k\":\"2\",\"empty\":\"\"},\"b\":{}}");
    free(s);
}

static void test_errors_name_the_line(void)
{
    cJSON *j;
    sf_error err = SF_ERROR_INIT;
    CHECK(sf_ini_parse("k = v\n", 6, &j, &err) == SF_EINVAL);
    CHECK(strstr(err.msg, "line 1") != NULL);
    CHECK(sf_ini_parse("[a]\njunk\n", 9, &j, &err) == SF_EINVAL);
    CHECK(strstr(err.msg, "line 2") != NULL);
    CHECK(sf_ini_parse("[a\n", 3, &j, &err) == SF_EINVAL);
    CHECK(sf_ini_parse("[a]\n=v\n", 7, &j, &err) == SF_EINVAL);
}

static void test_get_reads_a_value(void)
{
    cJSON *j;
    const char *in = "[test_pack]\ndefault_remote_control = vstb\n";
    CHECK(sf_ini_parse(in, strlen(in), &j, NULL) == 0);
    CHECK_STR(sf_ini_get(j, "test_pack", "default_remote_control"), "vstb");
    CHECK(sf_ini_get(j, "test_pack", "nope") == NULL);
    CHECK(sf_ini_get(j, "nope", "x") == NULL);
    cJSON_Delete(j);
}

int main(void)
{
    RUN(test_sections_become_objects);
    RUN(test_continuation_lines_join_with_newlines);
    RUN(test_comments_blank_lines_and_repeats);
    RUN(test_errors_name_the_line);
    RUN(test_get_reads_a_value);
    return TEST_EXIT();
}
