#include "resv_input.h"
#include "test.h"

#include <stdlib.h>

static char *render(const char *md)
{
    char *html = NULL;
    sf_error err = SF_ERROR_INIT;
    CHECK(resv_markdown_html(md, strlen(md), &html, &err) == 0);
    return html;
}

#define CHECK_RENDERS(md, want)                                                                    \
    do {                                                                                           \
        char *got_ = render(md);                                                                   \
        CHECK_STR(got_, want);                                                                     \
        free(got_);                                                                                \
    } while (0)

static void test_markdown_renders_the_spec_example(void)
{
    CHECK_RENDERS("Reserved for overnight DVR soak\n\nSee JIRA-12345 for details",
                  "<p>Reserved for overnight DVR soak</p>\n<p>See JIRA-12345 for details</p>");
    CHECK_RENDERS("Overnight DVR soak", "<p>Overnight DVR soak</p>");
}

static void test_markdown_renders_emphasis_links_and_lists(void)
{
    CHECK_RENDERS("*soak* and **dvr** [JIRA](https://jira.example.com/X-1)",
                  "<p><em>soak</em> and <strong>dvr</strong> "
                  "<a href=\"https://jira.example.com/X-1\">JIRA</a></p>");
    CHECK_RENDERS("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>");
}

static void test_markdown_escapes_an_html_block(void)
{
    CHECK_RENDERS("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
    CHECK_RENDERS("<div onclick=\"x()\">\nhi\n</div>",
                  "<p>&lt;div onclick=&quot;x()&quot;&gt;\nhi\n&lt;/div&gt;</p>");
}

static void test_markdown_escapes_inline_html(void)
{
    CHECK_RENDERS("Hi <img src=x onerror=alert(1)> there",
                  "<p>Hi &lt;img src=x onerror=alert(1)&gt; there</p>");
    CHECK_RENDERS("a <!-- comment --> b", "<p>a &lt;!-- comment --&gt; b</p>");
}

static void test_markdown_drops_javascript_links(void)
{
    CHECK_RENDERS("[x](javascript:alert(1))", "<p><a href=\"\">x</a></p>");
}

static void test_markdown_of_code_keeps_its_text(void)
{
    CHECK_RENDERS("`<b>`", "<p><code>&lt;b&gt;</code></p>");
}

static void test_message_must_be_given_and_not_blank(void)
{
    sf_error err = SF_ERROR_INIT;
    CHECK(resv_check_message("message", NULL, &err) == SF_EINVAL);
    CHECK_STR(err.msg, "message is mandatory");
    CHECK(resv_check_message("message", "", &err) == SF_EINVAL);
    CHECK_STR(err.msg, "message must not be empty");
    CHECK(resv_check_message("message", " \n\t", &err) == SF_EINVAL);
    CHECK(resv_check_message("message", "soak", &err) == 0);
}

static void test_message_must_be_utf8_of_bounded_length(void)
{
    sf_error err = SF_ERROR_INIT;
    CHECK(resv_check_message("message", "caf\xc3\xa9", &err) == 0);
    CHECK(resv_check_message("message", "caf\xe9", &err) == SF_EINVAL);
    CHECK_STR(err.msg, "message must be valid UTF-8");
    char *big = malloc(RESV_MESSAGE_MAX + 2);
    memset(big, 'a', RESV_MESSAGE_MAX + 1);
    big[RESV_MESSAGE_MAX + 1] = '\0';
    CHECK(resv_check_message("message", big, &err) == SF_EINVAL);
    big[RESV_MESSAGE_MAX] = '\0';
    CHECK(resv_check_message("message", big, &err) == 0);
    free(big);
}

static void test_utf8_validation_refuses_overlongs_surrogates_and_truncation(void)
{
    CHECK(resv_utf8_valid("\xf0\x9f\x93\xba", 4));  /* U+1F4FA */
    CHECK(!resv_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    CHECK(!resv_utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
    CHECK(!resv_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    CHECK(!resv_utf8_valid("\xf4\x90\x80\x80", 4)); /* beyond U+10FFFF */
    CHECK(!resv_utf8_valid("\xe2\x82", 2));         /* cut short */
    CHECK(!resv_utf8_valid("\x80", 1));
}

static void test_duration_is_a_positive_integer_or_absent(void)
{
    sf_error err = SF_ERROR_INIT;
    CHECK(resv_check_duration(0, 0, 0, &err) == 0);
    CHECK(resv_check_duration(0, 0, 1, &err) == SF_EINVAL);
    CHECK_STR(err.msg, "duration_secs is mandatory");
    CHECK(resv_check_duration(1, 0, 0, &err) == SF_EINVAL);
    CHECK(resv_check_duration(1, -5, 0, &err) == SF_EINVAL);
    CHECK(resv_check_duration(1, 1, 1, &err) == 0);
    CHECK(resv_check_duration(1, RESV_MAX_DURATION_SECS, 0, &err) == 0);
    CHECK(resv_check_duration(1, RESV_MAX_DURATION_SECS + 1, 0, &err) == SF_EINVAL);
}

static void test_node_ids_are_one_or_more_and_distinct(void)
{
    sf_error err = SF_ERROR_INIT;
    char *two[] = {"stb-tester-000000000001", "stb-tester-000000000002"};
    char *dup[] = {"stb-tester-000000000001", "stb-tester-000000000001"};
    CHECK(resv_check_node_ids(two, 0, &err) == SF_EINVAL);
    CHECK(resv_check_node_ids(two, 2, &err) == 0);
    CHECK(resv_check_node_ids(dup, 2, &err) == SF_EINVAL);
    CHECK_STR(err.msg, "node_ids names 'stb-tester-000000000001' twice");
    CHECK(resv_check_node_ids(two, RESV_MAX_NODES + 1, &err) == SF_EINVAL);
}

int main(void)
{
    RUN(test_markdown_renders_the_spec_example);
    RUN(test_markdown_renders_emphasis_links_and_lists);
    RUN(test_markdown_escapes_an_html_block);
    RUN(test_markdown_escapes_inline_html);
    RUN(test_markdown_drops_javascript_links);
    RUN(test_markdown_of_code_keeps_its_text);
    RUN(test_message_must_be_given_and_not_blank);
    RUN(test_message_must_be_utf8_of_bounded_length);
    RUN(test_utf8_validation_refuses_overlongs_surrogates_and_truncation);
    RUN(test_duration_is_a_positive_integer_or_absent);
    RUN(test_node_ids_are_one_or_more_and_distinct);
    return TEST_EXIT();
}
