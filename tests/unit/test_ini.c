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

static void test_a_long_continued_value_is_built_once(void)
{
    size_t lines = 200000, o = 0;
    char *in = malloc(16 + lines * 6);
    o += (size_t)sprintf(in, "[a]\nk = v\n");
    for (size_t i = 0; i < lines; i++)
        o += (size_t)sprintf(in + o, " more\n");
    cJSON *j;
    CHECK(sf_ini_parse(in, o, &j, NULL) == 0);
    const char *v = sf_ini_get(j, "a", "k");
    CHECK(v && strlen(v) == 1 + lines * 5 && !strncmp(v, "v\nmore\nmore", 11));
    cJSON_Delete(j);
    free(in);
}

static void test_sections_and_keys_are_bounded(void)
{
    size_t n = SF_INI_MAX_KEYS + 1, o = 0;
    char *in = malloc(16 + n * 24);
    o += (size_t)sprintf(in, "[a]\n");
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(in + o, "k%zu = v\n", i);
    cJSON *j;
    sf_error err = SF_ERROR_INIT;
    CHECK(sf_ini_parse(in, o, &j, &err) == SF_EINVAL && strstr(err.msg, "more than 4096 keys"));
    o = 0;
    for (size_t i = 0; i < SF_INI_MAX_SECTIONS + 1; i++)
        o += (size_t)sprintf(in + o, "[s%zu]\n", i);
    CHECK(sf_ini_parse(in, o, &j, &err) == SF_EINVAL && strstr(err.msg, "more than 4096 sections"));
    free(in);
}

int main(void)
{
    RUN(test_sections_become_objects);
    RUN(test_continuation_lines_join_with_newlines);
    RUN(test_comments_blank_lines_and_repeats);
    RUN(test_errors_name_the_line);
    RUN(test_get_reads_a_value);
    RUN(test_a_long_continued_value_is_built_once);
    RUN(test_sections_and_keys_are_bounded);
    return TEST_EXIT();
}
