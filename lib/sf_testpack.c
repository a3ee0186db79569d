#include "sf_testpack.h"

#include "sf_crypto.h"
#include "sf_ini.h"
#include "sf_log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct sf_testpack {
    git_repository *repo;
    char *url;    /* NULL for a local repository */
    char *mirror; /* the bare mirror of url */
};

static int git_fail(sf_error *err, int code, const char *what)
{
    const git_error *e = git_error_last();
    return sf_fail(err, code, "test pack: %s: %s", what, e && e->message ? e->message : "failed");
}

static int is_url(const char *source)
{
    return strstr(source, "://") != NULL || (strchr(source, '@') && strchr(source, ':'));
}

/* Hold the cache lock while fetching, so replicas sharing a cache never fetch at once. */
static int lock_mirror(const char *mirror)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s.lock", mirror);
    int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void unlock_mirror(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

static int fetch(sf_testpack *tp, sf_error *err)
{
    git_remote *remote = NULL;
    int rc = 0;
    int lock = lock_mirror(tp->mirror);
    if (git_remote_lookup(&remote, tp->repo, "origin") < 0) {
        rc = git_fail(err, SF_EUNAVAIL, "no remote");
        goto cleanup;
    }
    git_fetch_options opts;
    git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
    opts.prune = GIT_FETCH_PRUNE;
    opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
    if (git_remote_fetch(remote, NULL, &opts, NULL) < 0) {
        rc = git_fail(err, SF_EUNAVAIL, tp->url);
        goto cleanup;
    }
    /* HEAD follows the remote's default branch */
    git_buf def = {0};
    if (git_remote_default_branch(&def, remote) == 0) {
        git_repository_set_head(tp->repo, def.ptr);
        git_buf_dispose(&def);
    }
cleanup:
    git_remote_free(remote);
    unlock_mirror(lock);
    return rc;
}

static int open_mirror(sf_testpack *tp, const char *cache_dir, sf_error *err)
{
    char hash[41], path[4096];
    sf_sha1_hex(tp->url, strlen(tp->url), hash);
    if (mkdir(cache_dir, 0755) != 0 && errno != EEXIST)
        return sf_fail(err, SF_EUNAVAIL, "test pack: cannot create cache %s: %s", cache_dir,
                       strerror(errno));
    snprintf(path, sizeof(path), "%s/%.16s.git", cache_dir, hash);
    if (!(tp->mirror = strdup(path)))
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    int lock = lock_mirror(tp->mirror);
    int fresh = 0, rc = 0;
    if (git_repository_open_bare(&tp->repo, path) < 0) {
        git_remote *remote = NULL;
        if (git_repository_init(&tp->repo, path, 1) < 0 ||
            git_remote_create_with_fetchspec(&remote, tp->repo, "origin", tp->url,
                                             "+refs/heads/*:refs/heads/*") < 0)
            rc = git_fail(err, SF_EUNAVAIL, "cannot create the mirror");
        git_remote_free(remote);
        fresh = 1;
    }
    unlock_mirror(lock);
    if (!rc && fresh)
        rc = fetch(tp, err);
    return rc;
}

void sf_testpack_process_init(void)
{
    git_libgit2_init();
}

void sf_testpack_process_shutdown(void)
{
    git_libgit2_shutdown();
}

int sf_testpack_open(sf_testpack **out, const char *source, const char *cache_dir, sf_error *err)
{
    git_libgit2_init();
    sf_testpack *tp = calloc(1, sizeof(*tp));
    if (!tp) {
        git_libgit2_shutdown();
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    int rc;
    if (!source || !*source) {
        rc = sf_fail(err, SF_EUNAVAIL, "no test pack is configured (--test-pack)");
    } else if (is_url(source)) {
        tp->url = strdup(source);
        rc = tp->url ? open_mirror(tp, cache_dir ? cache_dir : "/tmp/stbfarm-testpack-cache", err)
                     : sf_fail(err, SF_EINTERNAL, "out of memory");
    } else {
        rc = git_repository_open_ext(&tp->repo, source, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0
                 ? git_fail(err, SF_EUNAVAIL, source)
                 : 0;
    }
    if (rc) {
        sf_testpack_free(tp);
        return rc;
    }
    *out = tp;
    return 0;
}

void sf_testpack_free(sf_testpack *tp)
{
    if (!tp)
        return;
    git_repository_free(tp->repo);
    free(tp->url);
    free(tp->mirror);
    free(tp);
    git_libgit2_shutdown();
}

int sf_testpack_rev_valid(const char *rev)
{
    size_t n = strlen(rev);
    if (n == 0 || n > 200 || rev[0] == '-' || rev[0] == '/' || rev[0] == '.' || rev[n - 1] == '/' ||
        rev[n - 1] == '.' || strstr(rev, "..") || strstr(rev, "//") || strstr(rev, "@{") ||
        strstr(rev, ".lock"))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)rev[i];
        if (c <= ' ' || c == 0x7f || strchr("~^:?*[\\", c))
            return 0;
    }
    return 1;
}

static int is_hex(const char *s)
{
    for (; *s; s++) {
        if (!isxdigit((unsigned char)*s))
            return 0;
    }
    return 1;
}

/* One attempt at resolving, without fetching. Returns 0, or SF_ENOTFOUND. */
static int resolve_once(sf_testpack *tp, const char *rev, sf_revision *out)
{
    git_reference *ref = NULL;
    git_object *obj = NULL;
    char name[240];
    int rc = SF_ENOTFOUND;
    out->branch[0] = '\0';
    if (!strcmp(rev, "HEAD")) {
        git_reference *head = NULL;
        if (git_repository_head(&head, tp->repo) == 0) {
            if (git_reference_is_branch(head))
                snprintf(out->branch, sizeof(out->branch), "%s", git_reference_name(head));
            ref = head;
        }
    } else {
        snprintf(name, sizeof(name), "refs/heads/%s", rev);
        if (git_reference_lookup(&ref, tp->repo, name) == 0) {
            snprintf(out->branch, sizeof(out->branch), "%s", name);
        } else {
            snprintf(name, sizeof(name), "refs/tags/%s", rev);
            git_reference_lookup(&ref, tp->repo, name);
        }
    }
    if (ref) {
        if (git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) != 0)
            obj = NULL;
    } else if (strlen(rev) >= 4 && strlen(rev) <= 40 && is_hex(rev)) {
        git_oid oid;
        if (git_oid_fromstrp(&oid, rev) == 0) {
            git_object *any = NULL;
            if (git_object_lookup_prefix(&any, tp->repo, &oid, strlen(rev), GIT_OBJECT_ANY) == 0) {
                if (git_object_peel(&obj, any, GIT_OBJECT_COMMIT) != 0)
                    obj = NULL;
                git_object_free(any);
            }
        }
    }
    if (obj) {
        git_oid_tostr(out->sha, sizeof(out->sha), git_object_id(obj));
        rc = 0;
    }
    git_object_free(obj);
    git_reference_free(ref);
    return rc;
}

int sf_testpack_resolve(sf_testpack *tp, const char *rev, sf_revision *out, sf_error *err)
{
    if (!sf_testpack_rev_valid(rev))
        return sf_fail(err, SF_ENOTFOUND, "'%.200s' is not a branch, tag or commit sha", rev);
    if (resolve_once(tp, rev, out) == 0)
        return 0;
    if (tp->url) {
        sf_error ferr = SF_ERROR_INIT;
        if (fetch(tp, &ferr) == 0 && resolve_once(tp, rev, out) == 0)
            return 0;
        if (ferr.code)
            sf_warn("%s", ferr.msg);
    }
    return sf_fail(err, SF_ENOTFOUND, "commit sha or branch '%.200s' not found in the test pack",
                   rev);
}

static int commit_tree(sf_testpack *tp, const char *sha, git_tree **tree, sf_error *err)
{
    git_oid oid;
    git_commit *commit = NULL;
    if (git_oid_fromstr(&oid, sha) < 0 || git_commit_lookup(&commit, tp->repo, &oid) < 0)
        return sf_fail(err, SF_ENOTFOUND, "commit %.40s not found in the test pack", sha);
    int rc = git_commit_tree(tree, commit) < 0 ? git_fail(err, SF_EINTERNAL, "tree") : 0;
    git_commit_free(commit);
    return rc;
}

int sf_testpack_node_config(sf_testpack *tp, const char *sha, const char *node_id, cJSON **ini,
                            sf_error *err)
{
    char path[128], *text;
    size_t len;
    *ini = NULL;
    snprintf(path, sizeof(path), "config/test-farm/%.64s.conf", node_id);
    int rc = sf_testpack_read(tp, sha, path, &text, &len, err);
    if (!rc && (rc = sf_ini_parse(text, len, ini, err)))
        sf_wrap(err, rc, "%s at %.12s: ", path, sha);
    free(text);
    return rc;
}

int sf_testpack_read(sf_testpack *tp, const char *sha, const char *path, char **data, size_t *len,
                     sf_error *err)
{
    git_tree *tree = NULL;
    git_tree_entry *entry = NULL;
    git_blob *blob = NULL;
    *data = NULL;
    *len = 0;
    int rc = commit_tree(tp, sha, &tree, err);
    if (rc)
        return rc;
    if (git_tree_entry_bypath(&entry, tree, path) < 0 ||
        git_tree_entry_type(entry) != GIT_OBJECT_BLOB ||
        git_blob_lookup(&blob, tp->repo, git_tree_entry_id(entry)) < 0) {
        rc =
            sf_fail(err, SF_ENOTFOUND, "%.200s: no such file in the test pack at %.12s", path, sha);
        goto cleanup;
    }
    size_t n = (size_t)git_blob_rawsize(blob);
    char *buf = malloc(n + 1);
    if (!buf) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    memcpy(buf, git_blob_rawcontent(blob), n);
    buf[n] = '\0';
    *data = buf;
    *len = n;
cleanup:
    git_blob_free(blob);
    git_tree_entry_free(entry);
    git_tree_free(tree);
    return rc;
}

typedef struct walk_ctx {
    sf_testpack *tp;
    int (*fn)(const char *path, const char *data, size_t len, void *arg);
    void *arg;
    int rc;
} walk_ctx;

static int walk_entry(const char *root, const git_tree_entry *entry, void *payload)
{
    walk_ctx *w = payload;
    if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB)
        return 0;
    git_blob *blob = NULL;
    if (git_blob_lookup(&blob, w->tp->repo, git_tree_entry_id(entry)) < 0)
        return 0;
    char path[4096];
    snprintf(path, sizeof(path), "%s%s", root, git_tree_entry_name(entry));
    w->rc = w->fn(path, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), w->arg);
    git_blob_free(blob);
    return w->rc ? -1 : 0;
}

int sf_testpack_walk(sf_testpack *tp, const char *sha,
                     int (*fn)(const char *path, const char *data, size_t len, void *arg),
                     void *arg, sf_error *err)
{
    git_tree *tree = NULL;
    int rc = commit_tree(tp, sha, &tree, err);
    if (rc)
        return rc;
    walk_ctx w = {tp, fn, arg, 0};
    git_tree_walk(tree, GIT_TREEWALK_PRE, walk_entry, &w);
    git_tree_free(tree);
    return w.rc;
}

int sf_testpack_checkout(sf_testpack *tp, const char *sha, const char *dir, sf_error *err)
{
    git_tree *tree = NULL;
    int rc = commit_tree(tp, sha, &tree, err);
    if (rc)
        return rc;
    git_checkout_options opts;
    git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
    opts.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
    opts.target_directory = dir;
    if (git_checkout_tree(tp->repo, (git_object *)tree, &opts) < 0)
        rc = git_fail(err, SF_EINTERNAL, "checkout");
    git_tree_free(tree);
    return rc;
}

typedef struct refs_ctx {
    sf_refs *refs;
    int oom;
} refs_ctx;

static int add_ref(char ***list, size_t *n, const char *name)
{
    char **grown = realloc(*list, (*n + 1) * sizeof(char *));
    if (!grown)
        return -1;
    *list = grown;
    if (!(grown[*n] = strdup(name)))
        return -1;
    (*n)++;
    return 0;
}

static int each_ref(const char *name, void *arg)
{
    refs_ctx *c = arg;
    if (!strncmp(name, "refs/heads/", 11))
        c->oom |= add_ref(&c->refs->branches, &c->refs->n_branches, name + 11);
    else if (!strncmp(name, "refs/tags/", 10))
        c->oom |= add_ref(&c->refs->tags, &c->refs->n_tags, name + 10);
    return c->oom;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int sf_testpack_refs(sf_testpack *tp, sf_refs *out, sf_error *err)
{
    memset(out, 0, sizeof(*out));
    refs_ctx c = {out, 0};
    if (git_reference_foreach_name(tp->repo, each_ref, &c) < 0 && !c.oom) {
        sf_refs_clear(out);
        return git_fail(err, SF_EUNAVAIL, "listing branches and tags");
    }
    if (c.oom) {
        sf_refs_clear(out);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    if (out->n_branches) /* qsort of NULL, even of none, is undefined */
        qsort(out->branches, out->n_branches, sizeof(char *), by_name);
    if (out->n_tags)
        qsort(out->tags, out->n_tags, sizeof(char *), by_name);
    git_reference *head = NULL;
    if (git_repository_head(&head, tp->repo) == 0 && git_reference_is_branch(head))
        snprintf(out->default_branch, sizeof(out->default_branch), "%s",
                 git_reference_shorthand(head));
    git_reference_free(head);
    return 0;
}

void sf_refs_clear(sf_refs *refs)
{
    for (size_t i = 0; i < refs->n_branches; i++)
        free(refs->branches[i]);
    for (size_t i = 0; i < refs->n_tags; i++)
        free(refs->tags[i]);
    free(refs->branches);
    free(refs->tags);
    memset(refs, 0, sizeof(*refs));
}
