#include "node_journal.h"

#include "sf_log.h"
#include "sf_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ITEM_MAX (64 << 20) /* an item's file: a run's metadata, its traceback at most 1 MiB */

struct node_journal {
    char dir[1024];
    int fd;
};

static int disk_fail(sf_error *err, const node_journal *j, int e, const char *what)
{
    if (e == ENOSPC || e == EDQUOT)
        return sf_fail(err, SF_ENOSPACE, "the disk of %s is full (%s)", j->dir, what);
    return sf_fail(err, SF_EINTERNAL, "%s in %s: %s", what, j->dir, strerror(e));
}

int node_journal_open(node_journal **out, const char *dir, sf_error *err)
{
    node_journal *j = calloc(1, sizeof(*j));
    if (!j)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    snprintf(j->dir, sizeof(j->dir), "%s", dir);
    if (mkdir(dir, 0755) && errno != EEXIST) {
        int rc = disk_fail(err, j, errno, "cannot make the outbox");
        free(j);
        return rc;
    }
    if ((j->fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        int rc = disk_fail(err, j, errno, "cannot open the outbox");
        free(j);
        return rc;
    }
    *out = j;
    return 0;
}

void node_journal_close(node_journal *j)
{
    if (!j)
        return;
    close(j->fd);
    free(j);
}

static void name_of(uint64_t n, const char *ext, char *out, size_t len)
{
    snprintf(out, len, "%020" PRIu64 ".%s", n, ext);
}

/* n and the extension of a journal file's name, or -1 for any other name. */
static int parse_name(const char *name, uint64_t *n, const char **ext)
{
    char *end;
    if (strlen(name) < 22 || name[20] != '.')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(name, &end, 10);
    if (errno || end != name + 20)
        return -1;
    *n = v;
    *ext = name + 21;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct numbers {
    uint64_t *v;
    size_t n, cap;
} numbers;

static int numbers_add(numbers *l, uint64_t v)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        uint64_t *grown = realloc(l->v, cap * sizeof(*grown));
        if (!grown)
            return -1;
        l->v = grown;
        l->cap = cap;
    }
    l->v[l->n++] = v;
    return 0;
}

static int numbers_has(const numbers *l, uint64_t v)
{
    return l->n && bsearch(&v, l->v, l->n, sizeof(*l->v), cmp_u64) != NULL;
}

/* Read and unpack item n; NULL (with a warning) when it cannot be. */
static Stbfarm__OutboxItem *read_item(node_journal *j, uint64_t n)
{
    char name[32];
    name_of(n, "item", name, sizeof(name));
    int fd = openat(j->fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    Stbfarm__OutboxItem *item = NULL;
    uint8_t *buf = NULL;
    if (fd >= 0 && !fstat(fd, &st) && st.st_size <= ITEM_MAX &&
        (buf = malloc(st.st_size ? (size_t)st.st_size : 1)) &&
        read(fd, buf, (size_t)st.st_size) == st.st_size)
        item = stbfarm__outbox_item__unpack(NULL, (size_t)st.st_size, buf);
    free(buf);
    if (fd >= 0)
        close(fd);
    if (item && !item->report == !item->result) {
        stbfarm__outbox_item__free_unpacked(item, NULL);
        item = NULL;
    }
    return item;
}

int node_journal_load(node_journal *j, node_journal_fn fn, void *arg, uint64_t *next, sf_error *err)
{
    *next = 1;
    int dfd = dup(j->fd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return disk_fail(err, j, errno, "cannot read the outbox");
    }
    rewinddir(d);
    numbers items = {0}, runs = {0};
    int oom = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        uint64_t n;
        const char *ext;
        if (parse_name(e->d_name, &n, &ext))
            continue;
        if (!strcmp(ext, "item"))
            oom |= numbers_add(&items, n);
        else if (!strcmp(ext, "run"))
            oom |= numbers_add(&runs, n);
        else if (!strcmp(ext, "tmp"))
            unlinkat(j->fd, e->d_name, 0); /* an item a crash left half-written */
        if (n >= *next)
            *next = n + 1;
    }
    closedir(d);
    if (oom) {
        free(items.v);
        free(runs.v);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    if (items.n)
        qsort(items.v, items.n, sizeof(*items.v), cmp_u64);
    for (size_t i = 0; i < items.n; i++) {
        Stbfarm__OutboxItem *item = read_item(j, items.v[i]);
        char name[32], bad[32], run_dir[1100];
        name_of(items.v[i], "item", name, sizeof(name));
        if (!item) {
            name_of(items.v[i], "bad", bad, sizeof(bad));
            sf_warn("outbox: %s/%s cannot be read; kept as %s and left out", j->dir, name, bad);
            renameat(j->fd, name, j->fd, bad);
            continue;
        }
        name_of(items.v[i], "run", name, sizeof(name));
        snprintf(run_dir, sizeof(run_dir), "%s/%s", j->dir, name);
        fn(arg, items.v[i], item, item->result ? run_dir : NULL);
    }
    for (size_t i = 0; i < runs.n; i++) { /* a run whose item was never written: not done */
        if (!numbers_has(&items, runs.v[i])) {
            char path[1100], name[32];
            name_of(runs.v[i], "run", name, sizeof(name));
            snprintf(path, sizeof(path), "%s/%s", j->dir, name);
            sf_remove_tree(path);
        }
    }
    free(items.v);
    free(runs.v);
    return 0;
}

/* fsync every regular file and directory under dirfd, and dirfd; links are not followed. */
static int sync_tree(int dirfd, int depth)
{
    int dfd = dup(dirfd);
    DIR *d = dfd >= 0 && depth < 32 ? fdopendir(dfd) : NULL;
    if (!d) {
        int e = depth < 32 ? errno : ELOOP;
        if (dfd >= 0)
            close(dfd);
        return e;
    }
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        struct stat st;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
            (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)))
            continue;
        int fd = openat(dirfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue; /* gone, or not ours to read: the upload leaves it out */
        rc = S_ISDIR(st.st_mode) ? sync_tree(fd, depth + 1) : fsync(fd) ? errno : 0;
        close(fd);
    }
    closedir(d);
    return rc ? rc : fsync(dirfd) ? errno : 0;
}

int node_journal_take_run(node_journal *j, uint64_t n, const char *run_dir, char *moved, size_t len,
                          sf_error *err)
{
    int fd = open(run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return disk_fail(err, j, errno, "cannot open the run's directory");
    int e = sync_tree(fd, 0);
    close(fd);
    if (e)
        return disk_fail(err, j, e, "cannot make the run's files durable");
    char name[32];
    name_of(n, "run", name, sizeof(name));
    if (renameat(AT_FDCWD, run_dir, j->fd, name) || fsync(j->fd))
        return disk_fail(err, j, errno, "cannot move the run into the outbox");
    snprintf(moved, len, "%s/%s", j->dir, name);
    return 0;
}

int node_journal_write(node_journal *j, uint64_t n, const Stbfarm__OutboxItem *item, int durable,
                       sf_error *err)
{
    size_t size = stbfarm__outbox_item__get_packed_size(item);
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    stbfarm__outbox_item__pack(item, buf);
    char tmp[32], name[32];
    name_of(n, "tmp", tmp, sizeof(tmp));
    name_of(n, "item", name, sizeof(name));
    int fd = openat(j->fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    int e = fd < 0 ? errno : 0;
    for (size_t done = 0; !e && done < size;) {
        ssize_t w = write(fd, buf + done, size - done);
        if (w < 0 && errno != EINTR)
            e = errno;
        else if (w > 0)
            done += (size_t)w;
    }
    if (!e && durable && fsync(fd))
        e = errno;
    if (fd >= 0 && close(fd) && !e)
        e = errno;
    if (!e && (renameat(j->fd, tmp, j->fd, name) || (durable && fsync(j->fd))))
        e = errno;
    free(buf);
    if (!e)
        return 0;
    unlinkat(j->fd, tmp, 0);
    return disk_fail(err, j, e, "cannot write an item");
}

void node_journal_remove(node_journal *j, uint64_t n)
{
    char name[32], path[1100];
    name_of(n, "item", name, sizeof(name));
    if (unlinkat(j->fd, name, 0) && errno != ENOENT)
        sf_warn("outbox: cannot remove %s/%s: %s", j->dir, name, strerror(errno));
    name_of(n, "run", name, sizeof(name));
    snprintf(path, sizeof(path), "%s/%s", j->dir, name);
    sf_remove_tree(path);
}
