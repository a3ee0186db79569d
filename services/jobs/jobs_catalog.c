/* The test cases of a test pack revision: GET /api/v2/test_pack/<rev>/test_case_names and the
 * check that every test case run_tests names exists. */
#include "jobs.h"
#include "jobs_testcases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jobs_catalog_clear(jobs_catalog *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->names[i]);
    free(c->names);
    memset(c, 0, sizeof(*c));
}

typedef struct scan_ctx {
    jobs_catalog *c;
    const char *path;
    int oom;
} scan_ctx;

static void add_name(const char *function, void *arg)
{
    scan_ctx *s = arg;
    jobs_catalog *c = s->c;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        char **names = realloc(c->names, cap * sizeof(char *));
        if (!names) {
            s->oom = 1;
            return;
        }
        c->names = names;
        c->cap = cap;
    }
    size_t len = strlen(s->path) + 2 + strlen(function) + 1;
    char *name = malloc(len);
    if (!name) {
        s->oom = 1;
        return;
    }
    snprintf(name, len, "%s::%s", s->path, function);
    c->names[c->n++] = name;
}

static int scan_file(const char *path, const char *data, size_t len, void *arg)
{
    scan_ctx *s = arg;
    if (!jobs_testcase_file(path))
        return 0;
    s->path = path;
    jobs_scan_python(data, len, add_name, s);
    return s->oom;
}

int jobs_open_testpack(jobs_thread *t, const jobs_config *cfg, sf_error *err)
{
    if (t->tp)
        return 0;
    return sf_testpack_open(&t->tp, cfg->test_pack, cfg->test_pack_cache, err);
}

int jobs_catalog_load(jobs_thread *t, const char *sha, sf_error *err)
{
    if (!strcmp(t->catalog.sha, sha))
        return 0;
    jobs_catalog_clear(&t->catalog);
    scan_ctx s = {&t->catalog, NULL, 0};
    int rc = sf_testpack_walk(t->tp, sha, scan_file, &s, err);
    if (rc || s.oom) {
        jobs_catalog_clear(&t->catalog);
        return rc ? rc : sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    snprintf(t->catalog.sha, sizeof(t->catalog.sha), "%s", sha);
    return 0;
}

int jobs_catalog_has(const jobs_catalog *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++) {
        if (!strcmp(c->names[i], name))
            return 1;
    }
    return 0;
}

int jobs_test_case_names(sf_call *call, const ProtobufCMessage *req, sf_rpc_reply *reply,
                         sf_error *err)
{
    const Stbfarm__TestCaseNamesRequest *q = (const Stbfarm__TestCaseNamesRequest *)req;
    jobs_thread *t = jobs_thread_of(call);
    sf_revision rev;
    int rc = jobs_open_testpack(t, &jobs_state_of(call)->cfg, err);
    if (!rc)
        rc = sf_testpack_resolve(t->tp, q->test_pack_revision, &rev, err);
    if (!rc)
        rc = jobs_catalog_load(t, rev.sha, err);
    if (rc)
        return rc;
    Stbfarm__TestCaseNames names = STBFARM__TEST_CASE_NAMES__INIT;
    names.n_names = t->catalog.n;
    names.names = t->catalog.names;
    return sf_rpc_reply_msg(reply, &names.base) ? sf_fail(err, SF_EINTERNAL, "out of memory") : 0;
}
