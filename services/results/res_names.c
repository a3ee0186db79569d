#include "res_names.h"

#include "nodes_store.h"
#include "res_filter.h"
#include "sf_time.h"
#include "sf_token.h"
#include "sf_utf8.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int res_upload_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n < 8 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)id[i]) && id[i] != '_' && id[i] != '-')
            return 0;
    }
    return 1;
}

static int id_valid(const char *id, int segments)
{
    if (strlen(id) >= RES_ID_MAX)
        return 0;
    const char *p = id;
    for (int s = 0; s < segments; s++) {
        if (*p++ != '/' || !isalnum((unsigned char)*p))
            return 0;
        size_t n = 0;
        while (isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-') {
            p++;
            n++;
        }
        if (n > 64)
            return 0;
    }
    return *p == '\0';
}

int res_job_uid_valid(const char *uid)
{
    return id_valid(uid, 3);
}

int res_result_id_valid(const char *id)
{
    return id_valid(id, 4);
}

void res_result_id_base(const char *job_uid, int64_t start_us, char *out, size_t len)
{
    char iso[40]; /* 2015-05-28T14:46:34Z */
    sf_time_format(start_us, iso, sizeof(iso), SF_TIME_NO_FRAC);
    snprintf(out, len, "%s/%.10s_%.2s.%.2s.%.2s", job_uid, iso, iso + 11, iso + 14, iso + 17);
}

int res_artifact_path_valid(const char *path)
{
    size_t n = strlen(path), depth = 1;
    if (n == 0 || n > RES_PATH_MAX || !sf_utf8_valid(path, n))
        return 0;
    const char *seg = path;
    for (const char *p = path;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t len = (size_t)(p - seg);
            if (len == 0 || (len == 1 && seg[0] == '.') ||
                (len == 2 && seg[0] == '.' && seg[1] == '.'))
                return 0;
            if (*p == '\0')
                return 1;
            if (++depth > RES_PATH_DEPTH)
                return 0;
            seg = p + 1;
        } else if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            return 0;
        }
    }
}

const char *res_content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"bmp", "image/bmp"},
        {"svg", "image/svg+xml"},
        {"mp4", "video/mp4"},
        {"m4v", "video/mp4"},
        {"webm", "video/webm"},
        {"mkv", "video/x-matroska"},
        {"ts", "video/mp2t"},
        {"mp3", "audio/mpeg"},
        {"wav", "audio/wav"},
        {"log", "text/plain; charset=utf-8"},
        {"txt", "text/plain; charset=utf-8"},
        {"py", "text/plain; charset=utf-8"},
        {"conf", "text/plain; charset=utf-8"},
        {"ini", "text/plain; charset=utf-8"},
        {"csv", "text/csv; charset=utf-8"},
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"css", "text/css"},
        {"js", "text/javascript"},
        {"json", "application/json"},
        {"xml", "application/xml"},
        {"pdf", "application/pdf"},
        {"zip", "application/zip"},
        {"gz", "application/gzip"},
        {"tar", "application/x-tar"},
    };
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (dot) {
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
            if (!strcasecmp(dot + 1, types[i].ext))
                return types[i].type;
        }
    }
    return "application/octet-stream";
}

/* Text that names something: valid UTF-8, no control characters, 1 to max bytes. */
static int name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max || !sf_utf8_valid(s, n))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    }
    return 1;
}

/* Microseconds of 9999-12-31T23:59:59Z: later dates do not fit the API's timestamps. */
#define MAX_TIME_US 253402300799000000LL

int res_meta_check(const Stbfarm__ResultMeta *m, sf_error *err)
{
    if (!res_job_uid_valid(m->job_uid))
        return sf_fail(err, SF_EINVAL,
                       "invalid job_uid '%.100s': want /<a>/<b>/<c>, each 1 to 64 of "
                       "A-Z a-z 0-9 . _ - starting with a letter or digit",
                       m->job_uid);
    if (!nodes_valid_id(m->node_id))
        return sf_fail(err, SF_EINVAL, "invalid node_id '%.100s'", m->node_id);
    if (!name_ok(m->test_case, 1024))
        return sf_fail(err, SF_EINVAL,
                       "invalid test_case: want 1 to 1024 bytes of UTF-8 "
                       "without control characters");
    size_t sha = strlen(m->test_pack_sha);
    if (sha == 0 || sha > 64)
        return sf_fail(err, SF_EINVAL, "invalid test_pack_sha: want 1 to 64 characters");
    for (size_t i = 0; i < sha; i++) {
        if (!isalnum((unsigned char)m->test_pack_sha[i]))
            return sf_fail(err, SF_EINVAL, "invalid test_pack_sha '%.64s'", m->test_pack_sha);
    }
    if (m->test_pack_branch && !name_ok(m->test_pack_branch, 256))
        return sf_fail(err, SF_EINVAL, "invalid test_pack_branch");
    if (!sf_username_valid(m->username))
        return sf_fail(err, SF_EINVAL, "invalid username '%.100s'", m->username);
    if (!name_ok(m->job_category, 256))
        return sf_fail(err, SF_EINVAL,
                       "invalid job_category: want 1 to 256 bytes of UTF-8 "
                       "without control characters");
    if (m->n_tags > RES_MAX_TAGS)
        return sf_fail(err, SF_EINVAL, "more than %d tags", RES_MAX_TAGS);
    for (size_t i = 0; i < m->n_tags; i++) {
        const char *v = m->tags[i]->value;
        if (!name_ok(m->tags[i]->key, 256) || strchr(m->tags[i]->key, '=') || strlen(v) > 1024 ||
            !sf_utf8_valid(v, strlen(v)))
            return sf_fail(err, SF_EINVAL,
                           "invalid tag '%.100s': want a name of 1 to 256 "
                           "bytes without '=' and a value of at most 1024",
                           m->tags[i]->key);
    }
    if (m->start_time_us <= 0 || m->start_time_us > MAX_TIME_US)
        return sf_fail(err, SF_EINVAL, "start_time_us out of range");
    return 0;
}

static int md5_ok(const char *s)
{
    if (strlen(s) != 32)
        return 0;
    for (int i = 0; i < 32; i++) {
        if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
            return 0;
    }
    return 1;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int res_finish_check(const Stbfarm__ResultMeta *meta, const Stbfarm__ResultsFinishRequest *fin,
                     sf_error *err)
{
    res_outcome o;
    if (res_outcome_parse(fin->result, &o) || strcmp(fin->result, res_outcome_name(o)))
        return sf_fail(err, SF_EINVAL, "invalid result '%.20s': want pass, fail or error",
                       fin->result);
    if (fin->end_time_us < meta->start_time_us || fin->end_time_us > MAX_TIME_US)
        return sf_fail(err, SF_EINVAL, "end_time_us is before the start or out of range");
    if (fin->n_artifacts > RES_MAX_ARTIFACTS)
        return sf_fail(err, SF_EINVAL, "more than %d artifacts", RES_MAX_ARTIFACTS);
    const char **paths = malloc((fin->n_artifacts ? fin->n_artifacts : 1) * sizeof(*paths));
    if (!paths)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < fin->n_artifacts && !rc; i++) {
        const Stbfarm__ManifestEntry *e = fin->artifacts[i];
        if (!res_artifact_path_valid(e->path))
            rc = sf_fail(err, SF_EINVAL, "invalid artifact path '%.200s'", e->path);
        else if (e->size < 0 || !md5_ok(e->md5))
            rc = sf_fail(err, SF_EINVAL,
                         "artifact '%.200s': want a size >= 0 and an md5 of 32 "
                         "lower-case hex digits",
                         e->path);
        paths[i] = e->path;
    }
    if (!rc && fin->n_artifacts > 1) {
        qsort(paths, fin->n_artifacts, sizeof(*paths), cmp_path);
        for (size_t i = 1; i < fin->n_artifacts && !rc; i++) {
            if (!strcmp(paths[i - 1], paths[i]))
                rc = sf_fail(err, SF_EINVAL, "artifact '%.200s' is listed twice", paths[i]);
        }
        /* "a" and "a/b" cannot both be files: look up each directory of each path */
        char dir[RES_PATH_MAX + 1];
        const char *key = dir;
        for (size_t i = 0; i < fin->n_artifacts && !rc; i++) {
            for (const char *p = strchr(paths[i], '/'); p && !rc; p = strchr(p + 1, '/')) {
                snprintf(dir, sizeof(dir), "%.*s", (int)(p - paths[i]), paths[i]);
                if (bsearch(&key, paths, fin->n_artifacts, sizeof(*paths), cmp_path))
                    rc =
                        sf_fail(err, SF_EINVAL, "artifact '%.200s' is a file and a directory", dir);
            }
        }
    }
    free(paths);
    return rc;
}
