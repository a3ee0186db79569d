#include "sf_token.h"
#include "test.h"

static void test_parse_header_finds_the_token(void)
{
    const char *tok;
    size_t len;
    CHECK(sf_token_parse_header("token abc123", &tok, &len, NULL) == 0);
    CHECK(len == 6 && !strncmp(tok, "abc123", 6));
    CHECK(sf_token_parse_header("  Token   abc_-XYZ  ", &tok, &len, NULL) == 0);
    CHECK(len == 8 && !strncmp(tok, "abc_-XYZ", 8));
    CHECK(sf_token_parse_header("TOKEN\tq", &tok, &len, NULL) == 0);
}

static void test_parse_header_refuses_malformed_values(void)
{
    const char *tok;
    size_t len;
    sf_error err = SF_ERROR_INIT;
    CHECK(sf_token_parse_header(NULL, &tok, &len, &err) == SF_EFORBIDDEN);
    CHECK(strstr(err.msg, "missing") != NULL);
    CHECK(sf_token_parse_header("", &tok, &len, NULL) == SF_EFORBIDDEN);
    CHECK(sf_token_parse_header("token", &tok, &len, NULL) == SF_EFORBIDDEN);
    CHECK(sf_token_parse_header("token ", &tok, &len, NULL) == SF_EFORBIDDEN);
    CHECK(sf_token_parse_header("tokenabc", &tok, &len, NULL) == SF_EFORBIDDEN);
    CHECK(sf_token_parse_header("Bearer abc", &tok, &len, NULL) == SF_EFORBIDDEN);
    CHECK(sf_token_parse_header("token a b", &tok, &len, NULL) == SF_EFORBIDDEN);
    char big[400] = "token ";
    memset(big + 6, 'x', 300);
    CHECK(sf_token_parse_header(big, &tok, &len, NULL) == SF_EFORBIDDEN);
}

static void test_digest_selector_is_hash_prefix(void)
{
    sf_token_digest d;
    sf_token_digest_of("abc", 3, &d);
    CHECK_STR(d.hash, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_STR(d.selector, "ba7816bf8f01cfea414140de5dae2223");
}

static void test_usernames(void)
{
    CHECK(sf_username_valid("alice"));
    CHECK(sf_username_valid("john.smith_2-x"));
    CHECK(!sf_username_valid(""));
    CHECK(!sf_username_valid("-x"));
    CHECK(!sf_username_valid(".x"));
    CHECK(!sf_username_valid("a b"));
    CHECK(!sf_username_valid("a/b"));
}

int main(void)
{
    RUN(test_parse_header_finds_the_token);
    RUN(test_parse_header_refuses_malformed_values);
    RUN(test_digest_selector_is_hash_prefix);
    RUN(test_usernames);
    return TEST_EXIT();
}
