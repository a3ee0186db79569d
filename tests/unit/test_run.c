/* sf_run: the upload id of a test run, which the node agent and the jobs service derive alike. */
#include "sf_run.h"
#include "test.h"

static void test_upload_id_names_node_job_and_run(void)
{
    char id[SF_UPLOAD_ID_MAX + 1];
    sf_run_upload_id("/stb-tester-abcdef123456/0a23/972", 17, id);
    CHECK_STR(id, "stb-tester-abcdef123456-0a23-972-17");
}

static void test_upload_id_of_an_awkward_node_is_a_digest(void)
{
    char a[SF_UPLOAD_ID_MAX + 1], b[SF_UPLOAD_ID_MAX + 1], c[SF_UPLOAD_ID_MAX + 1];
    sf_run_upload_id("/node.example/0a23/972", 1, a); /* '.' is not allowed in upload ids */
    sf_run_upload_id("/node.example/0a23/972", 1, b);
    sf_run_upload_id("/node.example/0a23/972", 2, c);
    CHECK(strncmp(a, "run-", 4) == 0 && strlen(a) == 44);
    CHECK_STR(a, b);
    CHECK(strcmp(a, c) != 0);
    char longer[SF_UPLOAD_ID_MAX + 1];
    sf_run_upload_id("/a234567890123456789012345678901234567890123456789012345678901234/0a23/"
                     "972",
                     3, longer);
    CHECK(strncmp(longer, "run-", 4) == 0 && strlen(longer) <= SF_UPLOAD_ID_MAX);
}

int main(void)
{
    RUN(test_upload_id_names_node_job_and_run);
    RUN(test_upload_id_of_an_awkward_node_is_a_digest);
    return TEST_EXIT();
}
