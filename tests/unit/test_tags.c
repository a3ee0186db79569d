/* sf_tags: one conversion between the map<string, string> of every message that carries tags
 * and the JSON of a job's record. */
#include "jobs.pb-c.h"
#include "results.pb-c.h"
#include "runner.pb-c.h"
#include "sf_tags.h"
#include "test.h"

#include <stdlib.h>

static void test_copy_between_two_map_types_keeps_names_and_values(void)
{
    Stbfarm__RunJob__TagsEntry a = STBFARM__RUN_JOB__TAGS_ENTRY__INIT, b = a;
    a.key = (char *)"model";
    a.value = (char *)"T-1000";
    b.key = (char *)"empty";
    b.value = (char *)"";
    ProtobufCMessage *src[] = {&a.base, &b.base};
    sf_tags t;
    sf_error err = SF_ERROR_INIT;
    CHECK(sf_tags_copy(&t, &stbfarm__result_meta__tags_entry__descriptor, src, 2, &err) == 0);
    CHECK(t.n == 2);
    Stbfarm__ResultMeta__TagsEntry **e = (Stbfarm__ResultMeta__TagsEntry **)t.entries;
    CHECK(e[0]->base.descriptor == &stbfarm__result_meta__tags_entry__descriptor);
    CHECK_STR(e[0]->key, "model");
    CHECK_STR(e[0]->value, "T-1000");
    CHECK_STR(e[1]->key, "empty");
    CHECK_STR(e[1]->value, "");
    CHECK(e[0]->key != a.key); /* owned, not borrowed */
    /* a message holding them packs as any other */
    Stbfarm__ResultMeta m = STBFARM__RESULT_META__INIT;
    m.job_uid = m.node_id = m.test_case = m.test_pack_sha = m.username = m.job_category =
        (char *)"x";
    m.n_tags = t.n;
    m.tags = e;
    uint8_t buf[256];
    size_t len = stbfarm__result_meta__pack(&m, buf);
    Stbfarm__ResultMeta *back = stbfarm__result_meta__unpack(NULL, len, buf);
    CHECK(back && back->n_tags == 2 && !strcmp(back->tags[0]->value, "T-1000"));
    stbfarm__result_meta__free_unpacked(back, NULL);
    sf_tags_clear(&t);
    CHECK(t.entries == NULL && t.n == 0);
}

static void test_no_tags_is_an_empty_list(void)
{
    sf_tags t;
    CHECK(sf_tags_copy(&t, &stbfarm__run_job__tags_entry__descriptor, NULL, 0, NULL) == 0);
    CHECK(t.n == 0);
    sf_tags_clear(&t);
    CHECK(sf_tags_from_json(&t, &stbfarm__run_job__tags_entry__descriptor, NULL, NULL) == 0);
    CHECK(t.n == 0);
    sf_tags_clear(&t);
}

static void test_json_round_trip(void)
{
    Stbfarm__RunTestsRequest__TagsEntry a = STBFARM__RUN_TESTS_REQUEST__TAGS_ENTRY__INIT;
    a.key = (char *)"caf\xc3\xa9";
    a.value = (char *)"a \"quoted\"\nline";
    ProtobufCMessage *src[] = {&a.base};
    char *json = NULL;
    CHECK(sf_tags_json(src, 1, &json, NULL) == 0);
    CHECK_STR(json, "{\"caf\xc3\xa9\":\"a \\\"quoted\\\"\\nline\"}");
    cJSON *obj = cJSON_Parse(json);
    sf_tags t;
    CHECK(sf_tags_from_json(&t, &stbfarm__result_meta__tags_entry__descriptor, obj, NULL) == 0);
    CHECK(t.n == 1);
    CHECK_STR(((Stbfarm__ResultMeta__TagsEntry *)t.entries[0])->value, "a \"quoted\"\nline");
    sf_tags_clear(&t);
    cJSON_Delete(obj);
    free(json);
    CHECK(sf_tags_json(NULL, 0, &json, NULL) == 0);
    CHECK_STR(json, "{}");
    free(json);
}

static void test_json_that_is_not_an_object_of_strings_is_refused(void)
{
    sf_tags t;
    sf_error err = SF_ERROR_INIT;
    cJSON *arr = cJSON_Parse("[\"a\"]"), *num = cJSON_Parse("{\"a\":\"b\",\"n\":1}");
    CHECK(sf_tags_from_json(&t, &stbfarm__result_meta__tags_entry__descriptor, arr, &err) ==
          SF_EINVAL);
    CHECK_STR(err.msg, "tags must be an object of strings");
    CHECK(sf_tags_from_json(&t, &stbfarm__result_meta__tags_entry__descriptor, num, &err) ==
          SF_EINVAL);
    CHECK_STR(err.msg, "tag n must be a string");
    cJSON_Delete(arr);
    cJSON_Delete(num);
}

static void test_a_type_that_is_not_a_string_map_entry_is_refused(void)
{
    sf_tags t;
    sf_error err = SF_ERROR_INIT;
    CHECK(sf_tags_copy(&t, &stbfarm__result_meta__descriptor, NULL, 0, &err) == SF_EINVAL);
    CHECK(sf_tags_copy(&t, &stbfarm__results_list_request__descriptor, NULL, 0, &err) == SF_EINVAL);
}

int main(void)
{
    RUN(test_copy_between_two_map_types_keeps_names_and_values);
    RUN(test_no_tags_is_an_empty_list);
    RUN(test_json_round_trip);
    RUN(test_json_that_is_not_an_object_of_strings_is_refused);
    RUN(test_a_type_that_is_not_a_string_map_entry_is_refused);
    return TEST_EXIT();
}
