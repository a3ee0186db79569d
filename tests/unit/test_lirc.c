#include "sf_lirc.h"
#include "test.h"

/* Feed the lines of text to r; the last return of sf_lirc_reply_line. */
static int feed(sf_lirc_reply *r, const char *text)
{
    int rc = 0;
    const char *p = text;
    while (*p && rc == 0) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        rc = sf_lirc_reply_line(r, p, n);
        p += n + (nl ? 1 : 0);
    }
    return rc;
}

static void test_success_reply_completes(void)
{
    sf_lirc_reply r;
    sf_lirc_reply_init(&r, "SEND_ONCE vstb KEY_OK");
    CHECK(feed(&r, "BEGIN\nSEND_ONCE vstb KEY_OK\nSUCCESS\nEND\n") == 1);
    CHECK(r.success == 1);
}

static void test_error_reply_carries_its_message(void)
{
    sf_lirc_reply r;
    sf_lirc_reply_init(&r, "SEND_ONCE vstb KEY_X");
    CHECK(feed(&r, "BEGIN\r\nSEND_ONCE vstb KEY_X\r\nERROR\r\nDATA\r\n1\r\n"
                   "unknown command: \"KEY_X\"\r\nEND\r\n") == 1);
    CHECK(r.success == 0);
    CHECK_STR(r.data, "unknown command: \"KEY_X\"");
}

static void test_broadcasts_and_other_blocks_are_skipped(void)
{
    sf_lirc_reply r;
    sf_lirc_reply_init(&r, "SEND_ONCE vstb KEY_OK");
    CHECK(feed(&r, "0000000000f40bf0 00 KEY_UP vstb\nBEGIN\nSIGHUP\nEND\n"
                   "BEGIN\nSEND_ONCE vstb KEY_OK\nSUCCESS\nEND\n") == 1);
    CHECK(r.success == 1);
}

static void test_protocol_violations_are_errors(void)
{
    sf_lirc_reply r;
    sf_lirc_reply_init(&r, "X");
    CHECK(feed(&r, "BEGIN\nX\nMAYBE\n") == SF_EINVAL);
    sf_lirc_reply_init(&r, "X");
    CHECK(feed(&r, "BEGIN\nX\nERROR\nDATA\nmany\n") == SF_EINVAL);
    sf_lirc_reply_init(&r, "X");
    CHECK(feed(&r, "BEGIN\nX\nSUCCESS\nEXTRA\n") == SF_EINVAL);
    sf_lirc_reply_init(&r, "X");
    CHECK(feed(&r, "BEGIN\nX\nSUCCESS\nDATA\n0\nnot end\n") == SF_EINVAL);
}

static void test_incomplete_reply_waits(void)
{
    sf_lirc_reply r;
    sf_lirc_reply_init(&r, "X");
    CHECK(feed(&r, "BEGIN\nX\nSUCCESS\n") == 0);
}

static void test_reply_format_is_what_lircd_writes(void)
{
    char buf[512];
    const char *data[] = {"unknown remote: \"tv\""};
    size_t n = sf_lirc_reply_format(buf, sizeof(buf), "SEND_ONCE tv KEY_OK", 0, data, 1);
    CHECK(n == strlen(buf));
    CHECK_STR(buf, "BEGIN\nSEND_ONCE tv KEY_OK\nERROR\nDATA\n1\nunknown remote: \"tv\"\nEND\n");
    sf_lirc_reply_format(buf, sizeof(buf), "SEND_ONCE vstb KEY_OK", 1, NULL, 0);
    CHECK_STR(buf, "BEGIN\nSEND_ONCE vstb KEY_OK\nSUCCESS\nEND\n");
    CHECK(sf_lirc_reply_format(buf, 10, "SEND_ONCE vstb KEY_OK", 1, NULL, 0) == 0);
}

static void test_format_and_parse_agree(void)
{
    char buf[512];
    const char *data[] = {"a", "b"};
    sf_lirc_reply_format(buf, sizeof(buf), "LIST", 1, data, 2);
    sf_lirc_reply r;
    sf_lirc_reply_init(&r, "LIST");
    CHECK(feed(&r, buf) == 1);
    CHECK(r.success && !strcmp(r.data, "a"));
}

static void test_commands_split_into_words(void)
{
    sf_lirc_cmd c;
    CHECK(sf_lirc_cmd_parse("send_once  vstb\tKEY_OK 3\r", 25, &c) == 0);
    CHECK_STR(c.directive, "SEND_ONCE");
    CHECK(c.argc == 3);
    CHECK_STR(c.argv[0], "vstb");
    CHECK_STR(c.argv[1], "KEY_OK");
    CHECK_STR(c.argv[2], "3");
    CHECK(sf_lirc_cmd_parse("   ", 3, &c) == SF_EINVAL);
    CHECK(sf_lirc_cmd_parse("A 1 2 3 4 5", 11, &c) == SF_EINVAL);
    char longword[300];
    memset(longword, 'K', sizeof(longword));
    CHECK(sf_lirc_cmd_parse(longword, sizeof(longword), &c) == SF_EINVAL);
}

int main(void)
{
    RUN(test_success_reply_completes);
    RUN(test_error_reply_carries_its_message);
    RUN(test_broadcasts_and_other_blocks_are_skipped);
    RUN(test_protocol_violations_are_errors);
    RUN(test_incomplete_reply_waits);
    RUN(test_reply_format_is_what_lircd_writes);
    RUN(test_format_and_parse_agree);
    RUN(test_commands_split_into_words);
    return TEST_EXIT();
}
