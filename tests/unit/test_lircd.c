#include "sf_lircd.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>

static sf_lircd_conf *parse(const char *text, sf_error *err)
{
    sf_lircd_conf *c = NULL;
    if (sf_lircd_parse(text, strlen(text), &c, err))
        return NULL;
    return c;
}

static void test_codes_of_a_remote_are_its_keys(void)
{
    sf_lircd_conf *c = parse("# comment\n"
                             "begin remote\n"
                             "  name  roku   # the name\n"
                             "  bits 16\n"
                             "  flags SPACE_ENC|CONST_LENGTH\n"
                             "  header 9000 4500\n"
                             "  begin codes\n"
                             "    KEY_UP      0x20DF02FD\n"
                             "    KEY_DOWN    0x20DF827D 0x0\n"
                             "    KEY_OK      1234\n"
                             "  end codes\n"
                             "end remote\n",
                             NULL);
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK(c->n_remotes == 1);
    CHECK_STR(c->remotes[0].name, "roku");
    CHECK(c->remotes[0].n_keys == 3);
    const sf_lircd_remote *r = sf_lircd_remote_find(c, "roku");
    CHECK(r && sf_lircd_has_key(r, "KEY_DOWN") && sf_lircd_has_key(r, "KEY_OK"));
    CHECK(r && !sf_lircd_has_key(r, "KEY_LEFT") && !sf_lircd_has_key(r, "key_up"));
    CHECK(sf_lircd_remote_find(c, "other") == NULL);
    sf_lircd_free(c);
}

static void test_raw_codes_name_their_keys(void)
{
    sf_lircd_conf *c = parse("begin remote\nname tv\nflags RAW_CODES\neps 30\ngap 100000\n"
                             "begin raw_codes\n"
                             "  name KEY_POWER\n     9000 4500 560 560\n     560 1690\n"
                             "  name KEY_MUTE\n 9000 4500\n"
                             "end raw_codes\nend remote\n",
                             NULL);
    CHECK(c && c->remotes[0].n_keys == 2);
    CHECK(c && sf_lircd_has_key(&c->remotes[0], "KEY_POWER") &&
          sf_lircd_has_key(&c->remotes[0], "KEY_MUTE"));
    sf_lircd_free(c);
}

static void test_several_remotes_in_one_file(void)
{
    sf_lircd_conf *c =
        parse("begin remote\nname a\nbegin codes\nKEY_A 1\nend codes\nend remote\n"
              "\nBEGIN REMOTE\nname b\nbegin codes\nKEY_B 2\nend codes\nEND REMOTE\n",
              NULL);
    CHECK(c && c->n_remotes == 2);
    CHECK(c && sf_lircd_has_key(sf_lircd_remote_find(c, "b"), "KEY_B"));
    CHECK(c && !sf_lircd_has_key(sf_lircd_remote_find(c, "a"), "KEY_B"));
    sf_lircd_free(c);
}

static void check_error(const char *text, const char *expect)
{
    sf_error err = SF_ERROR_INIT;
    sf_lircd_conf *c = parse(text, &err);
    CHECK(c == NULL);
    CHECK(err.code == SF_EINVAL);
    if (!strstr(err.msg, expect)) {
        fprintf(stderr, "error \"%s\" lacks \"%s\"\n", err.msg, expect);
        test_failures++;
    }
    sf_lircd_free(c);
}

static void test_errors_name_the_line_and_the_problem(void)
{
    check_error("", "no \"begin remote\"");
    check_error("# only a comment\n", "no \"begin remote\"");
    check_error("name x\n", "line 1: expected \"begin remote\"");
    check_error("begin remote\nbegin codes\nKEY_A 1\nend codes\nend remote\n",
                "line 5: this remote has no \"name\"");
    check_error("begin remote\nname a\nbegin codes\nKEY_A\nend codes\nend remote\n",
                "line 4: a code line is a key name and its code");
    check_error("begin remote\nname a\nbegin codes\nKEY_A 0xZZ\nend codes\nend remote\n",
                "line 4: a code is a hex");
    check_error("begin remote\nname a\nbegin codes\nKEY_A 1\n", "ends inside a \"begin codes\"");
    check_error("begin remote\nname a\n", "ends inside a \"begin remote\"");
    check_error("begin remote\nname a\nname b\nend remote\n", "line 3: this remote already");
    check_error("begin remote\nname a\nbegin raw_codes\n100 200\nend raw_codes\nend remote\n",
                "line 4: raw codes must follow");
    check_error("include \"other.conf\"\n", "include directives are not supported");
    check_error("begin remote\nname a\nbits\nend remote\n", "line 3: a parameter needs a value");
    check_error("begin remote\nname a\nend codes\nend remote\n", "line 3: expected");
}

static void test_nul_bytes_are_refused(void)
{
    sf_lircd_conf *c = NULL;
    sf_error err = SF_ERROR_INIT;
    CHECK(sf_lircd_parse("begin remote\0", 13, &c, &err) == SF_EINVAL);
    CHECK(c == NULL);
}

/* The demo test pack's remote control is the vstb's: every key of one is a key of the other. */
static void test_demo_remote_control_parses(void)
{
    FILE *f = fopen(SF_SOURCE_DIR "/demo/test-pack/config/remote-control/vstb.lircd.conf", "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    char buf[16384];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    sf_lircd_conf *c = NULL;
    sf_error err = SF_ERROR_INIT;
    CHECK(sf_lircd_parse(buf, n, &c, &err) == 0);
    CHECK(c && sf_lircd_remote_find(c, "vstb") && sf_lircd_has_key(&c->remotes[0], "KEY_MENU"));
    sf_lircd_free(c);
}

static char *repeat_lines(const char *head, const char *line, size_t n, const char *tail)
{
    size_t len = strlen(head) + n * (strlen(line) + 20) + strlen(tail) + 1, o = 0;
    char *t = malloc(len);
    o += (size_t)sprintf(t + o, "%s", head);
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(t + o, line, i);
    sprintf(t + o, "%s", tail);
    return t;
}

static void test_keys_and_remotes_are_bounded(void)
{
    sf_lircd_conf *c = NULL;
    sf_error err = SF_ERROR_INIT;
    char *ok = repeat_lines("begin remote\nname r\nbegin codes\n", "KEY_%zu 0x1\n",
                            SF_LIRCD_MAX_KEYS, "end codes\nend remote\n");
    CHECK(sf_lircd_parse(ok, strlen(ok), &c, &err) == 0 && c->remotes[0].n_keys == 2048);
    sf_lircd_free(c);
    free(ok);
    char *many = repeat_lines("begin remote\nname r\nbegin codes\n", "KEY_%zu 0x1\n",
                              SF_LIRCD_MAX_KEYS + 1, "end codes\nend remote\n");
    CHECK(sf_lircd_parse(many, strlen(many), &c, &err) == SF_EINVAL);
    CHECK(strstr(err.msg, "at most 2048 keys") != NULL);
    free(many);
    char *remotes =
        repeat_lines("", "begin remote\nname r%zu\nend remote\n", SF_LIRCD_MAX_REMOTES + 1, "");
    CHECK(sf_lircd_parse(remotes, strlen(remotes), &c, &err) == SF_EINVAL);
    CHECK(strstr(err.msg, "at most 128 remotes") != NULL);
    free(remotes);
}

int main(void)
{
    RUN(test_codes_of_a_remote_are_its_keys);
    RUN(test_raw_codes_name_their_keys);
    RUN(test_several_remotes_in_one_file);
    RUN(test_errors_name_the_line_and_the_problem);
    RUN(test_nul_bytes_are_refused);
    RUN(test_demo_remote_control_parses);
    RUN(test_keys_and_remotes_are_bounded);
    return TEST_EXIT();
}
