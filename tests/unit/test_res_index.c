/* The in-memory index: filters, sorts and limits over rows applied as the store's changes. */
#include "res_index.h"
#include "test.h"

#include <stdlib.h>

/* A result for the index: the record it would have in Redis. */
typedef struct fake {
    char id[96];
    Stbfarm__ResultMeta meta;
    Stbfarm__ResultRecord rec;
    Stbfarm__ResultMeta__TagsEntry tag, *tag_ptr;
} fake;

static fake *make(const char *job, const char *node, const char *tc, const char *category,
                  const char *result, const char *reason, int64_t start_s, int64_t dur_s,
                  const char *model)
{
    fake *f = calloc(1, sizeof(*f));
    stbfarm__result_meta__init(&f->meta);
    stbfarm__result_record__init(&f->rec);
    snprintf(f->id, sizeof(f->id), "%s/%lld", job, (long long)start_s);
    f->meta.job_uid = (char *)job;
    f->meta.node_id = (char *)node;
    f->meta.test_case = (char *)tc;
    f->meta.test_pack_sha = "abc123";
    f->meta.username = "alice";
    f->meta.job_category = (char *)category;
    f->meta.start_time_us = start_s * 1000000;
    if (model) {
        stbfarm__result_meta__tags_entry__init(&f->tag);
        f->tag.key = "model";
        f->tag.value = (char *)model;
        f->tag_ptr = &f->tag;
        f->meta.n_tags = 1;
        f->meta.tags = &f->tag_ptr;
    }
    f->rec.meta = &f->meta;
    f->rec.result = (char *)result;
    f->rec.failure_reason = (char *)reason;
    f->rec.end_time_us = (start_s + dur_s) * 1000000;
    return f;
}

static fake *rows[8];

/* Eight results over two jobs and two nodes. */
static res_index *fixture(void)
{
    rows[0] =
        make("/n1/0a/1", "n1", "tests/epg.py::test_2", "nightly", "pass", NULL, 1000, 5, "T-1000");
    rows[1] = make("/n1/0a/1", "n1", "tests/epg.py::test_10", "nightly", "fail", "EPG is empty",
                   1010, 50, "T-1000");
    rows[2] = make("/n1/0a/1", "n1", "tests/menu.py::test_open", "nightly", "error",
                   "Timeout waiting", 1020, 1, "T-1000");
    rows[3] = make("/n2/0b/7", "n2", "tests/epg.py::test_2", "soak x", "fail", "epg stuck", 1005,
                   20, NULL);
    rows[4] = make("/n2/0b/7", "n2", "tests/menu.py::test_open", "soak x", "pass", NULL, 1015, 2,
                   "T-2000");
    rows[5] =
        make("/n2/0b/7", "n2", "tests/epg.py::test_10", "soak x", "pass", NULL, 1025, 3, NULL);
    rows[6] =
        make("/n2/0b/8", "n2", "tests/epg.py::test_2", "a-first", "pass", NULL, 1030, 9, NULL);
    rows[7] = make("/n1/0a/2", "n1", "tests/menu.py::test_close", "nightly", "fail",
                   "Menu EPG gone", 990, 4, NULL);
    res_change ch[8];
    for (int i = 0; i < 8; i++) {
        ch[i].id = rows[i]->id;
        ch[i].rec = &rows[i]->rec;
    }
    res_changes c = {8, 8, 0, 8, ch};
    res_index *idx;
    res_index_new(&idx, NULL);
    CHECK(res_index_apply(idx, &c, NULL) == 0);
    return idx;
}

static void teardown(res_index *idx)
{
    res_index_free(idx);
    for (int i = 0; i < 8; i++)
        free(rows[i]);
}

/* The start seconds of what a query finds, joined by ',' (to compare as a string). */
static const char *query(res_index *idx, const char *filter, const char *sort, size_t limit)
{
    static char out[256];
    res_filter *f = NULL;
    res_sort s;
    res_hits h;
    out[0] = '\0';
    if (res_filter_parse(filter, &f, NULL) || res_sort_parse(sort, &s, NULL))
        return "(bad)";
    res_filter_resolve(f, sf_tz_utc());
    if (res_index_query(idx, f, &s, limit, &h, NULL) == 0) {
        for (size_t i = 0; i < h.n; i++)
            snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%lld", i ? "," : "",
                     (long long)(h.hits[i].start_us / 1000000));
        res_hits_clear(&h);
    }
    res_filter_free(f);
    return out;
}

static void test_default_order_is_newest_first_and_limited(void)
{
    res_index *idx = fixture();
    CHECK(res_index_count(idx) == 8);
    CHECK_STR(query(idx, NULL, NULL, 100), "1030,1025,1020,1015,1010,1005,1000,990");
    CHECK_STR(query(idx, NULL, "date:asc", 3), "990,1000,1005");
    CHECK_STR(query(idx, NULL, NULL, 2), "1030,1025");
    teardown(idx);
}

static void test_each_term_alone(void)
{
    res_index *idx = fixture();
    CHECK_STR(query(idx, "job:/n1/0a/1", NULL, 100), "1020,1010,1000");
    CHECK_STR(query(idx, "job:/n1/*", NULL, 100), "1020,1010,1000,990");
    CHECK_STR(query(idx, "job:/nope/0/0", NULL, 100), "");
    CHECK_STR(query(idx, "testcase:tests/epg.py::test_2", NULL, 100), "1030,1005,1000");
    CHECK_STR(query(idx, "testcase:tests/menu.py::*", NULL, 100), "1020,1015,990");
    CHECK_STR(query(idx, "result:fail", NULL, 100), "1010,1005,990");
    CHECK_STR(query(idx, "result:error", NULL, 100), "1020");
    CHECK_STR(query(idx, "category:\"soak x\"", NULL, 100), "1025,1015,1005");
    CHECK_STR(query(idx, "node:n2", NULL, 100), "1030,1025,1015,1005");
    CHECK_STR(query(idx, "tag:model=T-1000", NULL, 100), "1020,1010,1000");
    CHECK_STR(query(idx, "tag:model", NULL, 100), "1020,1015,1010,1000");
    CHECK_STR(query(idx, "tag:model=T-3000", NULL, 100), "");
    CHECK_STR(query(idx, "date:1970-01-01T00:16:40..1970-01-01T00:16:50", NULL, 100),
              "1010,1005,1000");
    /* free text: the test case or the failure reason, any case */
    CHECK_STR(query(idx, "epg", NULL, 100), "1030,1025,1010,1005,1000,990");
    CHECK_STR(query(idx, "TIMEOUT", NULL, 100), "1020");
    CHECK_STR(query(idx, "\"epg is\"", NULL, 100), "1010");
    teardown(idx);
}

static void test_terms_combine_with_and_and_negate(void)
{
    res_index *idx = fixture();
    CHECK_STR(query(idx, "node:n2 result:fail", NULL, 100), "1005");
    CHECK_STR(query(idx, "-result:pass", NULL, 100), "1020,1010,1005,990");
    CHECK_STR(query(idx, "-result:pass -node:n1", NULL, 100), "1005");
    CHECK_STR(query(idx, "epg -menu", NULL, 100), "1030,1025,1010,1005,1000");
    CHECK_STR(query(idx, "-tag:model", NULL, 100), "1030,1025,1005,990");
    CHECK_STR(query(idx, "-job:/nope/0/0", NULL, 100), "1030,1025,1020,1015,1010,1005,1000,990");
    CHECK_STR(query(idx, "job:/n1/0a/1 -job:/n1/0a/1", NULL, 100), "");
    teardown(idx);
}

static void test_sorts_by_each_field_both_ways(void)
{
    res_index *idx = fixture();
    /* natural order: test_2 before test_10; ties by date in the same direction */
    CHECK_STR(query(idx, "testcase:tests/epg.py::*", "testcase:asc", 100),
              "1000,1005,1030,1010,1025");
    CHECK_STR(query(idx, "testcase:tests/epg.py::*", "testcase:desc", 100),
              "1025,1010,1030,1005,1000");
    CHECK_STR(query(idx, NULL, "duration:desc", 3), "1010,1005,1030");
    CHECK_STR(query(idx, NULL, "duration:asc", 3), "1020,1015,1025");
    CHECK_STR(query(idx, NULL, "result:asc", 100), "1020,990,1005,1010,1000,1015,1025,1030");
    CHECK_STR(query(idx, NULL, "result:desc", 100), "1030,1025,1015,1000,1010,1005,990,1020");
    CHECK_STR(query(idx, NULL, "category:asc", 100), "1030,990,1000,1010,1020,1005,1015,1025");
    CHECK_STR(query(idx, NULL, "category:desc", 2), "1025,1015");
    CHECK_STR(query(idx, NULL, "job:asc", 100), "1000,1010,1020,990,1005,1015,1025,1030");
    CHECK_STR(query(idx, NULL, "job:desc", 1), "1030");
    teardown(idx);
}

static void test_deletions_leave_the_index(void)
{
    res_index *idx = fixture();
    res_change del[2] = {{rows[1]->id, NULL}, {rows[7]->id, NULL}};
    res_changes c = {10, 10, 0, 2, del};
    CHECK(res_index_apply(idx, &c, NULL) == 0);
    CHECK(res_index_count(idx) == 6);
    CHECK_STR(query(idx, "result:fail", NULL, 100), "1005");
    CHECK_STR(query(idx, "\"epg is empty\"", NULL, 100), "");
    teardown(idx);
}

static void test_many_results_out_of_order_are_kept_in_date_order(void)
{
    enum { N = 3000 };
    res_index *idx;
    res_index_new(&idx, NULL);
    fake **f = calloc(N, sizeof(*f));
    res_change *ch = calloc(N, sizeof(*ch));
    char *tcs = calloc(N, 32);
    for (int i = 0; i < N; i++) {
        snprintf(tcs + 32 * i, 32, "tests/t.py::test_%d", i % 50);
        f[i] = make("/n/0/1", "n", tcs + 32 * i, "c", i % 3 ? "pass" : "fail", NULL, (i * 7919) % N,
                    1, NULL);
        ch[i].id = f[i]->id;
        ch[i].rec = &f[i]->rec;
    }
    /* in two batches: a large one (appended and sorted) and a small one (inserted in place) */
    res_changes a = {N, N - 10, 0, N - 10, ch}, b = {N, N, 0, 10, ch + N - 10};
    CHECK(res_index_apply(idx, &a, NULL) == 0);
    CHECK(res_index_apply(idx, &b, NULL) == 0);
    CHECK(res_index_count(idx) == N);
    CHECK_STR(query(idx, NULL, "date:asc", 5), "0,1,2,3,4");
    CHECK_STR(query(idx, NULL, NULL, 3), "2999,2998,2997");
    res_filter *flt = NULL;
    res_sort s;
    res_hits h;
    res_filter_parse("result:fail", &flt, NULL);
    res_sort_parse(NULL, &s, NULL);
    CHECK(res_index_query(idx, flt, &s, 2000, &h, NULL) == 0);
    CHECK(h.n == 1000);
    int ordered = 1;
    for (size_t i = 1; i < h.n; i++)
        ordered &= h.hits[i - 1].start_us > h.hits[i].start_us;
    CHECK(ordered);
    res_hits_clear(&h);
    res_filter_free(flt);
    res_index_free(idx);
    for (int i = 0; i < N; i++)
        free(f[i]);
    free(f);
    free(ch);
    free(tcs);
}

int main(void)
{
    RUN(test_default_order_is_newest_first_and_limited);
    RUN(test_each_term_alone);
    RUN(test_terms_combine_with_and_and_negate);
    RUN(test_sorts_by_each_field_both_ways);
    RUN(test_deletions_leave_the_index);
    RUN(test_many_results_out_of_order_are_kept_in_date_order);
    return TEST_EXIT();
}
