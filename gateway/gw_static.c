/* The portal's own files: web/ served under /app/ (and / redirects there).
 *
 * The files are small and few, so each is read once into memory with a strong ETag (part of its
 * SHA-256) and served from there while its size and mtime stay the same; a changed file is read
 * again on its next request, so a deployment needs no restart. Browsers revalidate every time
 * (Cache-Control: no-cache) and get 304 for what they have. Every page is under a strict
 * Content-Security-Policy: scripts, styles, images, media and connections from this origin only,
 * no inline script or style, no framing, nothing from another host. */
#include "gw_portal.h"

#include "sf_crypto.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CSP                                                                                        \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "        \
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; manifest-src 'self'; "           \
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

enum { FILE_MAX = 8 << 20, FILES_MAX = 256 };

typedef struct web_file {
    char *name; /* relative to the root: "js/app.js" */
    time_t mtime;
    off_t size;
    char *data;
    char etag[24];
} web_file;

struct gw_web {
    char root[PATH_MAX]; /* "" when there is no web directory */
    pthread_mutex_t lock;
    web_file files[FILES_MAX];
    size_t n;
};

int gw_web_new(gw_web **out, const char *root, sf_error *err)
{
    gw_web *w = calloc(1, sizeof(*w));
    if (!w)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    if (root && *root && !realpath(root, w->root))
        w->root[0] = '\0'; /* answered as 404s, with the reason in the log */
    pthread_mutex_init(&w->lock, NULL);
    *out = w;
    return 0;
}

void gw_web_free(gw_web *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++) {
        free(w->files[i].name);
        free(w->files[i].data);
    }
    pthread_mutex_destroy(&w->lock);
    free(w);
}

static const char *content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } TYPES[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},
        {".webmanifest", "application/manifest+json"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(TYPES) / sizeof(TYPES[0]); i++) {
        if (!strcmp(dot, TYPES[i].ext))
            return TYPES[i].type;
    }
    return "application/octet-stream";
}

/* A name is served only when no segment is hidden (".", "..", ".git"). */
static int servable(const char *name)
{
    if (!*name || strlen(name) > 512)
        return 0;
    for (const char *p = name; *p;) {
        if (*p == '.')
            return 0;
        const char *slash = strchr(p, '/');
        if (!slash)
            break;
        p = slash + 1;
    }
    return 1;
}

/* Read name into the cache (or find it there, current) and copy what the reply needs: *data
 * (malloc'd), *len, etag. 0, SF_ENOTFOUND or SF_EINTERNAL. */
static int load(gw_web *w, const char *name, char **data, size_t *len, char *etag, size_t etag_len)
{
    char path[PATH_MAX], real[PATH_MAX];
    struct stat st;
    size_t rl = strlen(w->root);
    if (!w->root[0] || snprintf(path, sizeof(path), "%s/%s", w->root, name) >= (int)sizeof(path) ||
        !realpath(path, real) || strncmp(real, w->root, rl) || real[rl] != '/' || stat(real, &st) ||
        !S_ISREG(st.st_mode) || st.st_size > FILE_MAX)
        return SF_ENOTFOUND;
    pthread_mutex_lock(&w->lock);
    web_file *f = NULL;
    for (size_t i = 0; i < w->n && !f; i++) {
        if (!strcmp(w->files[i].name, name))
            f = &w->files[i];
    }
    int rc = 0;
    if (!f || f->mtime != st.st_mtime || f->size != st.st_size) {
        char *buf = malloc((size_t)st.st_size + 1);
        int fd = open(real, O_RDONLY | O_CLOEXEC);
        ssize_t got = buf && fd >= 0 ? read(fd, buf, (size_t)st.st_size) : -1;
        if (fd >= 0)
            close(fd);
        if (got != st.st_size || (!f && w->n == FILES_MAX)) {
            free(buf);
            rc = got != st.st_size ? SF_ENOTFOUND : SF_EINTERNAL;
            goto out;
        }
        if (!f) {
            f = &w->files[w->n++];
            f->name = strdup(name);
        }
        free(f->data);
        f->data = buf;
        f->mtime = st.st_mtime;
        f->size = st.st_size;
        char hex[65];
        sf_sha256_hex(buf, (size_t)got, hex);
        snprintf(f->etag, sizeof(f->etag), "\"%.16s\"", hex);
    }
    *data = malloc((size_t)f->size + 1);
    if (!*data || !f->name) {
        free(*data);
        rc = SF_EINTERNAL;
        goto out;
    }
    memcpy(*data, f->data, (size_t)f->size);
    *len = (size_t)f->size;
    snprintf(etag, etag_len, "%s", f->etag);
out:
    pthread_mutex_unlock(&w->lock);
    return rc;
}

int gw_handle_static(gw_request *rq)
{
    const char *file = gw_param(rq, "file");
    const char *name = file                                          ? file
                       : !strcmp(rq->route->pattern, "/favicon.ico") ? "icon.svg"
                                                                     : "index.html";
    if (!servable(name))
        return gw_reply_error(rq, 404, "no such file in the portal: /app/%s", name);
    char *data = NULL, etag[24];
    size_t len = 0;
    int rc = load(rq->gw->portal->web, name, &data, &len, etag, sizeof(etag));
    if (rc == SF_ENOTFOUND)
        return gw_reply_error(rq, 404, "no such file in the portal: /app/%s", name);
    if (rc)
        return gw_reply_error(rq, 500, "the portal's file /app/%s could not be read", name);
    char headers[1024];
    snprintf(headers, sizeof(headers),
             "ETag: %s\r\nCache-Control: no-cache\r\nContent-Security-Policy: " CSP "\r\n"
             "X-Content-Type-Options: nosniff\r\nReferrer-Policy: same-origin\r\n"
             "X-Frame-Options: DENY\r\n",
             etag);
    const char *inm = mg_get_header(rq->conn, "If-None-Match");
    if (inm && strstr(inm, etag))
        rc = gw_reply_raw(rq, 304, NULL, NULL, 0, headers);
    else
        rc = gw_reply_raw(rq, 200, content_type(name), data, len, headers);
    free(data);
    return rc;
}

/* GET /: the portal. */
int gw_handle_root(gw_request *rq)
{
    return gw_reply_raw(rq, 302, "text/plain; charset=utf-8", "/app/\n", 6, "Location: /app/\r\n");
}
