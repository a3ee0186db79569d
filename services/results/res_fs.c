#include "res_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { WALK_PATH_MAX = 4096 };

static int open_child_dir(int dirfd, const char *name, int create, int *out)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (mkdirat(dirfd, name, 0755) && errno != EEXIST)
            return -errno;
        if (fsync(dirfd))
            return -errno;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
        return errno == ELOOP || errno == ENOTDIR ? -ENOENT : -errno;
    *out = fd;
    return 0;
}

int res_fs_open_dir(int dirfd, const char *rel, int create, int *out)
{
    int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (cur < 0)
        return -errno;
    char seg[256];
    for (const char *p = rel; *p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || n >= sizeof(seg)) {
            close(cur);
            return -EINVAL;
        }
        memcpy(seg, p, n);
        seg[n] = '\0';
        int next = -1;
        int rc = open_child_dir(cur, seg, create, &next);
        close(cur);
        if (rc)
            return rc;
        cur = next;
        p += n + (slash ? 1 : 0);
    }
    *out = cur;
    return 0;
}

int res_fs_open_file(int dirfd, const char *rel, int flags, int *out)
{
    const char *slash = strrchr(rel, '/');
    const char *base = slash ? slash + 1 : rel;
    char *dir = strndup(rel, slash ? (size_t)(slash - rel) : 0);
    if (!dir)
        return -ENOMEM;
    int dfd;
    int rc = res_fs_open_dir(dirfd, dir, (flags & O_CREAT) != 0, &dfd);
    free(dir);
    if (rc)
        return rc;
    int fd = openat(dfd, base, flags | O_NOFOLLOW | O_CLOEXEC, 0644);
    int e = errno;
    close(dfd);
    if (fd < 0)
        return e == ELOOP || e == EISDIR ? -ENOENT : -e;
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return -ENOENT;
    }
    *out = fd;
    return 0;
}

/* The type of an entry, from readdir or, when it does not say, lstat. */
static int entry_type(int dirfd, const struct dirent *e, struct stat *st)
{
    if (fstatat(dirfd, e->d_name, st, AT_SYMLINK_NOFOLLOW))
        return -errno;
    return 0;
}

static int is_dot(const char *name)
{
    return !strcmp(name, ".") || !strcmp(name, "..");
}

/* Open a directory stream on a copy of dirfd (closedir closes the copy). */
static DIR *open_stream(int dirfd)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    DIR *d = fdopendir(fd);
    if (!d)
        close(fd);
    return d;
}

int res_fs_sync_tree(int dirfd)
{
    DIR *d = open_stream(dirfd);
    if (!d)
        return -errno;
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        struct stat st;
        if (is_dot(e->d_name) || (rc = entry_type(dirfd, e, &st)))
            continue;
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
            continue;
        int fd = openat(dirfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            rc = -errno;
            break;
        }
        rc = S_ISDIR(st.st_mode) ? res_fs_sync_tree(fd) : (fsync(fd) ? -errno : 0);
        close(fd);
    }
    closedir(d);
    if (!rc && fsync(dirfd))
        rc = -errno;
    return rc;
}

int res_fs_remove_tree(int dirfd, const char *name)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(dirfd, name, 0) && errno != ENOENT ? -errno : 0;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    DIR *d = open_stream(fd);
    int rc = d ? 0 : -errno;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (!is_dot(e->d_name))
            rc = res_fs_remove_tree(fd, e->d_name);
    }
    if (d)
        closedir(d);
    close(fd);
    if (!rc && unlinkat(dirfd, name, AT_REMOVEDIR) && errno != ENOENT)
        rc = -errno;
    return rc;
}

typedef struct walk_ctx {
    char path[WALK_PATH_MAX];
    res_fs_visit visit;
    int (*keep)(const char *path, void *arg);
    void *arg;
} walk_ctx;

/* Visit (or prune) the entries of dirfd, whose path is w->path[0..len). */
static int walk_dir(walk_ctx *w, int dirfd, size_t len)
{
    DIR *d = open_stream(dirfd);
    if (!d)
        return -errno;
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        struct stat st;
        if (is_dot(e->d_name) || (rc = entry_type(dirfd, e, &st)))
            continue;
        size_t n = strlen(e->d_name);
        int fits = len + 1 + n < sizeof(w->path);
        if (fits) {
            if (len)
                w->path[len] = '/';
            memcpy(w->path + len + (len ? 1 : 0), e->d_name, n + 1);
        }
        size_t sub = len + (len ? 1 : 0) + n;
        if (S_ISDIR(st.st_mode) && fits) {
            int fd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) {
                rc = -errno;
            } else {
                rc = walk_dir(w, fd, sub);
                close(fd);
            }
        } else if (w->keep) {
            if (!fits || !S_ISREG(st.st_mode) || !w->keep(w->path, w->arg))
                rc = res_fs_remove_tree(dirfd, e->d_name);
        } else if (fits) {
            rc = w->visit(w->path, S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1, w->arg);
        }
        w->path[len] = '\0';
    }
    closedir(d);
    return rc;
}

int res_fs_walk(int dirfd, res_fs_visit fn, void *arg)
{
    walk_ctx *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->visit = fn;
    w->arg = arg;
    int rc = walk_dir(w, dirfd, 0);
    free(w);
    return rc;
}

int res_fs_prune(int dirfd, int (*keep)(const char *path, void *arg), void *arg)
{
    walk_ctx *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->keep = keep;
    w->arg = arg;
    int rc = walk_dir(w, dirfd, 0);
    free(w);
    return rc;
}
