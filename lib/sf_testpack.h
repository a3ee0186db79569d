/* sf_testpack.h - the farm's test pack: one git repository, read through libgit2.
 *
 * The source is a local repository (a path, bare or not) or a URL. A URL is fetched into a bare
 * mirror under the cache directory, and fetched again when a revision is not found, so a commit
 * pushed a second ago resolves. Everything is read straight from git objects; only the node's
 * test runner checks files out.
 *
 * An sf_testpack belongs to one thread at a time (it holds a libgit2 repository). Several
 * threads and processes may share one cache directory: fetches take a lock on it. */
#ifndef SF_TESTPACK_H
#define SF_TESTPACK_H

#include "sf_err.h"

#include <cjson/cJSON.h>

#include <stddef.h>

typedef struct sf_testpack sf_testpack;

/* The two options of every process that reads the test pack, for its sf_option table (with
 * sf_config.h): --test-pack (STBF_TEST_PACK) and --test-pack-cache (STBF_TEST_PACK_CACHE). */
#define SF_TESTPACK_OPTIONS(source, cache_dir)                                                     \
    {"test-pack",                                                                                  \
     "STBF_TEST_PACK",                                                                             \
     SF_OPT_STR,                                                                                   \
     NULL,                                                                                         \
     "the test pack: a git repository's path or URL (docs/operations.md)",                         \
     (source)},                                                                                    \
    {                                                                                              \
        "test-pack-cache", "STBF_TEST_PACK_CACHE", SF_OPT_STR, "/tmp/stbfarm-testpack-cache",      \
            "where a test pack given by URL is mirrored", (cache_dir)                              \
    }

/* A process whose threads use test packs holds libgit2 open from before its first thread
 * starts until after its last one ended: libgit2 frees each thread's state when the thread
 * exits, but only while the library is still initialised. */
void sf_testpack_process_init(void);
void sf_testpack_process_shutdown(void);

/* Open source ("/srv/test-pack", "file:///srv/tp.git", "https://..."), cloning a URL into
 * cache_dir on first use. Returns 0, or SF_EUNAVAIL when it cannot be opened or fetched. */
int sf_testpack_open(sf_testpack **out, const char *source, const char *cache_dir, sf_error *err);
void sf_testpack_free(sf_testpack *tp);

typedef struct sf_revision {
    char sha[41];
    char branch[256]; /* "refs/heads/master" when rev named a branch (or HEAD); "" otherwise */
} sf_revision;

/* Resolve rev like git: "HEAD" (the default branch), a branch, a tag, a full or abbreviated
 * (4+ hex digits) commit sha. Anything else, or a revision the repository does not have even
 * after a fetch, is SF_ENOTFOUND with a message naming it. */
int sf_testpack_resolve(sf_testpack *tp, const char *rev, sf_revision *out, sf_error *err);

/* The bytes of path at commit sha. SF_ENOTFOUND when there is no such file. *data (malloc'd,
 * NUL-terminated, freed by the caller) holds *len bytes. */
int sf_testpack_read(sf_testpack *tp, const char *sha, const char *path, char **data, size_t *len,
                     sf_error *err);

/* A node's config/test-farm/<node_id>.conf at commit sha, parsed as stbt reads INI files
 * (sf_ini.h): *ini is freed with cJSON_Delete. SF_ENOTFOUND when the file is missing; the
 * parser's error when it does not parse. */
int sf_testpack_node_config(sf_testpack *tp, const char *sha, const char *node_id, cJSON **ini,
                            sf_error *err);

/* Call fn for every file (blob) at commit sha, in tree order, with its path. fn returning
 * non-zero stops the walk and is returned. */
int sf_testpack_walk(sf_testpack *tp, const char *sha,
                     int (*fn)(const char *path, const char *data, size_t len, void *arg),
                     void *arg, sf_error *err);

/* Write the files of commit sha into dir (which must not exist yet or be empty). */
int sf_testpack_checkout(sf_testpack *tp, const char *sha, const char *dir, sf_error *err);

/* The test pack's branches and tags, by name, and its default branch (what HEAD names; "" when
 * HEAD is detached). Free with sf_refs_clear. */
typedef struct sf_refs {
    char default_branch[256];
    char **branches, **tags; /* sorted */
    size_t n_branches, n_tags;
} sf_refs;

int sf_testpack_refs(sf_testpack *tp, sf_refs *out, sf_error *err);
void sf_refs_clear(sf_refs *refs);

/* 1 when rev has only characters a branch, tag or sha may have (no "..", "~", "^", ":", ...). */
int sf_testpack_rev_valid(const char *rev);

#endif
