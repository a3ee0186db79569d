#include "sf_json.h"
#include "test.h"

#include <pthread.h>
#include <stdlib.h>

static int check_text(const char *text, sf_error *err)
{
    return sf_json_check(text, strlen(text), SF_JSON_MAX_DEPTH, err);
}

static void accepts(const char *text)
{
    sf_error err = SF_ERROR_INIT;
    if (check_text(text, &err)) {
        fprintf(stderr, "refused %s: %s\n", text, err.msg);
        test_failures++;
    }
}

/* text is refused, with a message containing what, at byte at. */
static void refuses(const char *text, const char *what, size_t at)
{
    sf_error err = SF_ERROR_INIT;
    char where[48];
    snprintf(where, sizeof(where), "at byte %zu:", at);
    if (check_text(text, &err) != SF_EINVAL || !strstr(err.msg, what) || !strstr(err.msg, where)) {
        fprintf(stderr, "%s: got '%s', wanted '%s' %s\n", text, err.msg, what, where);
        test_failures++;
    }
}

static void test_accepts_what_rfc_8259_allows(void)
{
    accepts("{}");
    accepts(" {\"a\": [1, -0, 0.5, 1e5, 1E+5, -2.5e-3, true, false, null, \"x\"]}\r\n\t");
    accepts("\"just a string\"");
    accepts("0");
    accepts("[[], {}, [{}], {\"a\": {\"b\": []}}]");
    accepts("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00\"");
    accepts("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
    accepts("{\"a\": 1, \"b\": {\"a\": 2}, \"c\": [{\"a\": 3}, {\"a\": 4}]}"); /* one a each */
    accepts("{\"\": 1, \"x\": {\"\": 2}}");
}

static void test_refuses_control_characters_in_strings(void)
{
    refuses("{\"message\": \"a\x01"
            "b\"}",
            "control character (U+0001)", 14);
    refuses("{\"m\": \"tab\there\"}", "control character (U+0009)", 10);
    refuses("{\"m\": \"line\nbreak\"}", "control character (U+000A)", 11);
}

static void test_refuses_nul_raw_or_escaped(void)
{
    sf_error err = SF_ERROR_INIT;
    CHECK(sf_json_check("{\"a\": \"x\0y\"}", 12, 32, &err) == SF_EINVAL);
    CHECK(strstr(err.msg, "NUL") && strstr(err.msg, "at byte 8:"));
    CHECK(sf_json_check("{\"a\": 1}\0", 9, 32, &err) == SF_EINVAL);
    refuses("{\"a\": \"x\\u0000y\"}", "\\u0000", 8);
    accepts("{\"a\": \"x\\\\u0000y\"}"); /* an escaped backslash, then text */
}

static void test_refuses_numbers_outside_the_grammar(void)
{
    refuses("{\"duration_secs\": 010}", "leading zero", 18);
    refuses("[-01]", "leading zero", 1);
    refuses("[1.]", "'.' in a number must be followed by digits", 3);
    refuses("[.5]", "expected a value", 1);
    refuses("[1e]", "exponent must have digits", 3);
    refuses("[-]", "'-' must be followed by digits", 1);
    refuses("[+1]", "expected a value", 1);
    refuses("[NaN]", "expected a value", 1);
    refuses("[Infinity]", "expected a value", 1);
    refuses("[0x10]", "expected ','", 2);
    char big[100] = "[";
    memset(big + 1, '7', 70);
    strcpy(big + 71, "]");
    refuses(big, "longer than 63", 1);
}

static void test_refuses_trailing_commas_comments_and_other_extensions(void)
{
    refuses("{\"a\": 1,}", "trailing comma", 8);
    refuses("[1, 2,]", "trailing comma", 6);
    refuses("{\"a\": 1 /* c */}", "comments are not JSON", 8);
    refuses("// c\n{}", "comments are not JSON", 0);
    refuses("{'a': 1}", "double quotes", 1);
    refuses("{\"a\": 'x'}", "double quotes", 6);
    refuses("{a: 1}", "must be a string", 1);
    refuses("[1 2]", "expected ','", 3);
    refuses("{\"a\" 1}", "expected ':'", 5);
    refuses("{} {}", "text after the JSON value", 3);
    refuses("{\"a\": tru}", "expected a value", 6);
    refuses("{\"a\": truex}", "expected ','", 10);
    refuses("", "the body is empty", 0);
    refuses("   ", "the text ends", 3);
    refuses("{\"a\": [1", "the text ends", 8);
    refuses("{\"a\": \"open", "never closed", 6);
    refuses("\xef\xbb\xbf{}", "expected a value", 0); /* a byte order mark */
    refuses("{\"a\": \"\\x41\"}", "unknown escape", 7);
    refuses("{\"a\": \"\\u12G4\"}", "four hexadecimal digits", 7);
}

static void test_refuses_invalid_utf8_and_lone_surrogates(void)
{
    refuses("[\"\xff\"]", "invalid UTF-8", 2);
    refuses("[\"\xc0\xaf\"]", "invalid UTF-8", 2);         /* overlong '/' */
    refuses("[\"\xed\xa0\x80\"]", "invalid UTF-8", 2);     /* an encoded surrogate */
    refuses("[\"\xf4\x90\x80\x80\"]", "invalid UTF-8", 2); /* above U+10FFFF */
    refuses("[\"\xe2\x82\"]", "invalid UTF-8", 2);         /* cut short */
    refuses("[\"\\ud800\"]", "high surrogate", 2);
    refuses("[\"\\ud800\\u0041\"]", "high surrogate", 2);
    refuses("[\"\\udc00\"]", "low surrogate", 2);
}

static void test_refuses_keys_repeated_in_one_object(void)
{
    refuses("{\"a\": 1, \"a\": 2}", "a key repeated in one object: \"a\"", 9);
    refuses("{\"a\": 1, \"\\u0061\": 2}", "repeated", 9);
    refuses("{\"x\": {\"k\": 1, \"y\": 2, \"k\": 3}}", "repeated", 23);
    refuses("{\"\": 1, \"\": 2}", "repeated", 8);
    /* many keys: the table grows and still finds the repeat */
    size_t n = 5000, cap = n * 16 + 64, o = 0;
    char *text = malloc(cap);
    text[o++] = '{';
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(text + o, cap - o, "\"k%zu\": %zu, ", i, i);
    size_t at = o;
    o += (size_t)snprintf(text + o, cap - o, "\"k1234\": 0}");
    sf_error err = SF_ERROR_INIT;
    CHECK(sf_json_check(text, o, 32, &err) == SF_EINVAL && strstr(err.msg, "repeated"));
    char where[32];
    snprintf(where, sizeof(where), "at byte %zu:", at);
    CHECK(strstr(err.msg, where) != NULL);
    text[at + 2] = 'x'; /* "kx234": no repeat */
    CHECK(sf_json_check(text, o, 32, &err) == 0);
    free(text);
}

static char *nested(size_t levels)
{
    char *t = malloc(2 * levels + 1);
    memset(t, '[', levels);
    memset(t + levels, ']', levels);
    t[2 * levels] = '\0';
    return t;
}

static void test_nesting_is_bounded(void)
{
    sf_error err = SF_ERROR_INIT;
    char *ok = nested(SF_JSON_MAX_DEPTH), *deep = nested(SF_JSON_MAX_DEPTH + 1);
    CHECK(sf_json_check(ok, strlen(ok), SF_JSON_MAX_DEPTH, &err) == 0);
    CHECK(sf_json_check(deep, strlen(deep), SF_JSON_MAX_DEPTH, &err) == SF_EINVAL);
    CHECK(strstr(err.msg, "nested more than 32 levels deep") && strstr(err.msg, "at byte 32:"));
    CHECK(sf_json_check("[[1]]", 5, 1, &err) == SF_EINVAL);
    CHECK(sf_json_check("[[1]]", 5, 2, &err) == 0);
    free(ok);
    free(deep);
}

/* What a civetweb worker has: 100 KiB of stack. */
enum { WORKER_STACK = 100 * 1024 };

static void *parse_deep(void *arg)
{
    (void)arg;
    static const size_t depths[] = {2,      SF_JSON_MAX_DEPTH, SF_JSON_MAX_DEPTH + 1, 900, 100000,
                                    1000000};
    int *fails = calloc(1, sizeof(int));
    for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
        /* {"a": [[...]]}: an object at the top, as bodies are, depths[i] levels in all */
        char *inner = nested(depths[i] - 1), *t = malloc(strlen(inner) + 8);
        size_t len = (size_t)sprintf(t, "{\"a\":%s}", inner);
        cJSON *j = NULL;
        sf_error err = SF_ERROR_INIT;
        int rc = sf_json_parse_object(t, len, &j, &err);
        if ((depths[i] <= SF_JSON_MAX_DEPTH) != (rc == 0)) {
            fprintf(stderr, "%zu levels: %s\n", depths[i], rc ? err.msg : "accepted");
            (*fails)++;
        }
        cJSON_Delete(j);
        free(inner);
        free(t);
    }
    return fails;
}

static void test_deep_bodies_are_refused_on_a_worker_sized_stack(void)
{
    pthread_attr_t a;
    pthread_t t;
    void *fails = NULL;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, WORKER_STACK);
    CHECK(pthread_create(&t, &a, parse_deep, NULL) == 0);
    pthread_join(t, &fails);
    pthread_attr_destroy(&a);
    CHECK(fails && *(int *)fails == 0);
    free(fails);
}

static void test_parse_object(void)
{
    cJSON *j;
    sf_error err = SF_ERROR_INIT;
    CHECK(sf_json_parse_object("[1]", 3, &j, &err) == SF_EINVAL && !j);
    CHECK(strstr(err.msg, "must be a JSON object") != NULL);
    CHECK(sf_json_parse_object("{\"a\":", 5, &j, &err) == SF_EINVAL && !j);
    CHECK(sf_json_parse_object("{\"a\":1}\n ", 9, &j, &err) == 0);
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "a")->valueint == 1);
    cJSON_Delete(j);
    CHECK(sf_json_parse_object("{\"s\":\"\\u00e9\\ud83d\\ude00\"}", 26, &j, &err) == 0);
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(j, "s")->valuestring, "\xc3\xa9\xf0\x9f\x98\x80");
    cJSON_Delete(j);
}

int main(void)
{
    RUN(test_accepts_what_rfc_8259_allows);
    RUN(test_refuses_control_characters_in_strings);
    RUN(test_refuses_nul_raw_or_escaped);
    RUN(test_refuses_numbers_outside_the_grammar);
    RUN(test_refuses_trailing_commas_comments_and_other_extensions);
    RUN(test_refuses_invalid_utf8_and_lone_surrogates);
    RUN(test_refuses_keys_repeated_in_one_object);
    RUN(test_nesting_is_bounded);
    RUN(test_deep_bodies_are_refused_on_a_worker_sized_stack);
    RUN(test_parse_object);
    return TEST_EXIT();
}
