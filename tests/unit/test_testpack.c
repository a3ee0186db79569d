/* sf_testpack against real repositories made with git in a temporary directory. */
#include "sf_testpack.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[256];

static int sh(const char *cmd)
{
    char full[2048];
    snprintf(full, sizeof(full),
             "cd %s && GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t "
             "GIT_COMMITTER_EMAIL=t@t %s >/dev/null 2>&1",
             dir, cmd);
    return system(full);
}

static void make_repo(void)
{
    snprintf(dir, sizeof(dir), "/tmp/sf-testpack-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    CHECK(sh("git init -q -b master repo && cd repo && mkdir -p tests config && "
             "printf 'def test_a():\\n    pass\\n' > tests/a.py && "
             "printf '[test_pack]\\ndefault_remote_control = vstb\\n' > .stbt.conf && "
             "git add -A && git commit -qm one && git tag v1 && "
             "git checkout -q -b feature && echo x > tests/b.py && git add -A && "
             "git commit -qm two && git checkout -q master") == 0);
}

static void test_resolves_branch_tag_sha_and_head(sf_testpack *tp)
{
    sf_revision a, b, c, d;
    CHECK(sf_testpack_resolve(tp, "master", &a, NULL) == 0);
    CHECK_STR(a.branch, "refs/heads/master");
    CHECK(sf_testpack_resolve(tp, "HEAD", &b, NULL) == 0);
    CHECK_STR(b.sha, a.sha);
    CHECK_STR(b.branch, "refs/heads/master");
    CHECK(sf_testpack_resolve(tp, "v1", &c, NULL) == 0);
    CHECK_STR(c.sha, a.sha);
    CHECK_STR(c.branch, "");
    char short_sha[8];
    snprintf(short_sha, sizeof(short_sha), "%.7s", a.sha);
    CHECK(sf_testpack_resolve(tp, short_sha, &d, NULL) == 0);
    CHECK_STR(d.sha, a.sha);
    CHECK_STR(d.branch, "");
    CHECK(sf_testpack_resolve(tp, "feature", &d, NULL) == 0);
    CHECK(strcmp(d.sha, a.sha) != 0);
}

static void test_unknown_and_odd_revisions_are_not_found(sf_testpack *tp)
{
    sf_revision r;
    sf_error err = SF_ERROR_INIT;
    CHECK(sf_testpack_resolve(tp, "nope", &r, &err) == SF_ENOTFOUND);
    CHECK(strstr(err.msg, "nope") != NULL);
    CHECK(sf_testpack_resolve(tp, "master~1", &r, NULL) == SF_ENOTFOUND);
    CHECK(sf_testpack_resolve(tp, "master..feature", &r, NULL) == SF_ENOTFOUND);
    CHECK(sf_testpack_resolve(tp, "deadbeefdeadbeef", &r, NULL) == SF_ENOTFOUND);
}

static int count_files(const char *path, const char *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    (void)path;
    (*(int *)arg)++;
    return 0;
}

static void test_reads_and_walks_files(sf_testpack *tp)
{
    sf_revision r;
    CHECK(sf_testpack_resolve(tp, "master", &r, NULL) == 0);
    char *data;
    size_t len;
    CHECK(sf_testpack_read(tp, r.sha, "tests/a.py", &data, &len, NULL) == 0);
    CHECK(len == 23 && !strncmp(data, "def test_a():", 13));
    free(data);
    CHECK(sf_testpack_read(tp, r.sha, "tests/nope.py", &data, &len, NULL) == SF_ENOTFOUND);
    CHECK(sf_testpack_read(tp, r.sha, "tests", &data, &len, NULL) == SF_ENOTFOUND);
    int n = 0;
    CHECK(sf_testpack_walk(tp, r.sha, count_files, &n, NULL) == 0);
    CHECK(n == 2);
}

static void test_checks_out_a_commit(sf_testpack *tp)
{
    sf_revision r;
    char out[300], cmd[700];
    CHECK(sf_testpack_resolve(tp, "feature", &r, NULL) == 0);
    snprintf(out, sizeof(out), "%s/work", dir);
    CHECK(sf_testpack_checkout(tp, r.sha, out, NULL) == 0);
    snprintf(cmd, sizeof(cmd), "test -f %s/tests/b.py && test -f %s/.stbt.conf", out, out);
    CHECK(system(cmd) == 0);
}

static void test_url_source_fetches_new_commits(void)
{
    char url[300], cache[300];
    snprintf(url, sizeof(url), "file://%s/repo", dir);
    snprintf(cache, sizeof(cache), "%s/cache", dir);
    sf_testpack *tp;
    CHECK(sf_testpack_open(&tp, url, cache, NULL) == 0);
    sf_revision r;
    CHECK(sf_testpack_resolve(tp, "HEAD", &r, NULL) == 0);
    CHECK_STR(r.branch, "refs/heads/master");
    CHECK(sh("cd repo && git checkout -q -b late && echo y > y && git add y && "
             "git commit -qm late && git checkout -q master") == 0);
    CHECK(sf_testpack_resolve(tp, "late", &r, NULL) == 0); /* found after a refetch */
    sf_testpack_free(tp);
}

int main(void)
{
    make_repo();
    char path[300];
    snprintf(path, sizeof(path), "%s/repo", dir);
    sf_testpack *tp = NULL;
    CHECK(sf_testpack_open(&tp, path, NULL, NULL) == 0);
    if (tp) {
        test_resolves_branch_tag_sha_and_head(tp);
        test_unknown_and_odd_revisions_are_not_found(tp);
        test_reads_and_walks_files(tp);
        test_checks_out_a_commit(tp);
        sf_testpack_free(tp);
    }
    RUN(test_url_source_fetches_new_commits);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return TEST_EXIT();
}
