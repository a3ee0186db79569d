/* Test case discovery in Python sources, and the run_tests parameter rules. */
#include "jobs_testcases.h"
#include "jobs_validate.h"
#include "test.h"

#include <stdlib.h>

static char found[1024];

static void collect(const char *name, void *arg)
{
    (void)arg;
    strcat(found, name);
    strcat(found, ",");
}

static const char *scan(const char *src)
{
    found[0] = '\0';
    jobs_scan_python(src, strlen(src), collect, NULL);
    return found;
}

static void test_module_level_test_functions_are_found(void)
{
    CHECK_STR(scan("import stbt\n\ndef test_a():\n    pass\n\ndef helper():\n    pass\n"
                   "def test_b(x=1):\n    pass\n"),
              "test_a,test_b,");
    CHECK_STR(scan("@decorator\ndef test_decorated():\n    pass\nasync def test_async():\n"),
              "test_decorated,test_async,");
    CHECK_STR(scan("def   test_spaces  ():\n"), "test_spaces,");
}

static void test_methods_nested_functions_and_non_tests_are_not(void)
{
    CHECK_STR(scan("class T:\n    def test_method(self):\n        pass\n"), "");
    CHECK_STR(scan("def outer():\n    def test_inner():\n        pass\n"), "");
    CHECK_STR(scan("def testing():\n    pass\ndef tester_x():\n"), "");
    CHECK_STR(scan("def test_x\n"), ""); /* no parenthesis */
    CHECK_STR(scan("x = 1  # def test_comment():\n"), "");
}

static void test_definitions_inside_strings_are_not_found(void)
{
    CHECK_STR(scan("\"\"\"\ndef test_in_docstring():\n\"\"\"\ndef test_real():\n"), "test_real,");
    CHECK_STR(scan("x = '''\ndef test_in_string():\n'''\n"), "");
    CHECK_STR(scan("x = 'it\\'s'\ndef test_after_escape():\n"), "test_after_escape,");
    CHECK_STR(scan("x = \"unterminated\ndef test_next_line():\n"), "test_next_line,");
}

static void test_which_files_are_searched(void)
{
    CHECK(jobs_testcase_file("tests/menu.py"));
    CHECK(jobs_testcase_file("menu.py"));
    CHECK(!jobs_testcase_file("tests/menu.pyc"));
    CHECK(!jobs_testcase_file(".hidden/menu.py"));
    CHECK(!jobs_testcase_file("tests/.cache/x.py"));
    CHECK(!jobs_testcase_file("tests/.x.py"));
    CHECK(!jobs_testcase_file("py"));
}

static void test_category_rules_of_the_spec(void)
{
    sf_error err = SF_ERROR_INIT;
    CHECK(jobs_category_check("soak test of release x", NULL) == 0);
    CHECK(jobs_category_check("caf\xc3\xa9 \xe2\x9c\x93", NULL) == 0);
    CHECK(jobs_category_check("", &err) == SF_EINVAL);
    CHECK(strstr(err.msg, "empty") != NULL);
    CHECK(jobs_category_check("a/b", &err) == SF_EINVAL && strstr(err.msg, "'/'"));
    CHECK(jobs_category_check("a:b", &err) == SF_EINVAL && strstr(err.msg, "':'"));
    CHECK(jobs_category_check("a$b", &err) == SF_EINVAL && strstr(err.msg, "'$'"));
    CHECK(jobs_category_check("a\nb", &err) == SF_EINVAL && strstr(err.msg, "newline"));
    CHECK(jobs_category_check("a\tb", &err) == SF_EINVAL && strstr(err.msg, "control"));
    CHECK(jobs_category_check("a\x7f", &err) == SF_EINVAL);
    CHECK(jobs_category_check("a\xc2\x85", &err) == SF_EINVAL); /* U+0085, a C1 control */
    CHECK(jobs_category_check(".hidden", &err) == SF_EINVAL);
    CHECK(jobs_category_check("-flag", &err) == SF_EINVAL);
    CHECK(jobs_category_check("bad\xff", &err) == SF_EINVAL && strstr(err.msg, "UTF-8"));
}

static void test_utf8_validation(void)
{
    CHECK(jobs_utf8_valid("plain"));
    CHECK(jobs_utf8_valid("\xf0\x9f\x98\x80"));
    CHECK(!jobs_utf8_valid("\xc0\xaf"));         /* overlong '/' */
    CHECK(!jobs_utf8_valid("\xed\xa0\x80"));     /* a surrogate */
    CHECK(!jobs_utf8_valid("\xf4\x90\x80\x80")); /* above U+10FFFF */
    CHECK(!jobs_utf8_valid("\xe2\x9c"));         /* truncated */
}

static void test_soak_and_test_case_shapes(void)
{
    CHECK(jobs_soak_check("run once", NULL) == 0);
    CHECK(jobs_soak_check("run forever", NULL) == 0);
    CHECK(jobs_soak_check("forever", NULL) == SF_EINVAL);
    CHECK(jobs_test_case_shape_ok("tests/menu.py::test_x"));
    CHECK(!jobs_test_case_shape_ok("tests/menu.py"));
    CHECK(!jobs_test_case_shape_ok("::test_x"));
    CHECK(!jobs_test_case_shape_ok("tests/menu.py::"));
    CHECK(!jobs_test_case_shape_ok("tests/menu::test_x"));
    CHECK(!jobs_test_case_shape_ok("a.py::b::c"));
}

int main(void)
{
    RUN(test_module_level_test_functions_are_found);
    RUN(test_methods_nested_functions_and_non_tests_are_not);
    RUN(test_definitions_inside_strings_are_not_found);
    RUN(test_which_files_are_searched);
    RUN(test_category_rules_of_the_spec);
    RUN(test_utf8_validation);
    RUN(test_soak_and_test_case_shapes);
    return TEST_EXIT();
}
