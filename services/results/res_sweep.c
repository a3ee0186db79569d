/* The background sweep of one results replica. Every --sweep-interval-secs the replica that
 * holds the "sweep" lease (taken and renewed in Redis, so one replica sweeps at a time and
 * another takes over within two intervals when it dies):
 *   - deletes results older than --retention (each deletion is one script: the result answers
 *     410 from then on, and its id joins the purge set);
 *   - removes the artifact directories of the purge set, then takes them out of it, so a crash
 *     in between only means removing them again;
 *   - removes staging directories of uploads that no longer exist (expired, aborted, finished)
 *     and converted logs older than an hour.
 * Every step is idempotent, so two replicas sweeping at once (a lease that expired under a
 * slow sweep) do no harm. */
#include "res_fs.h"
#include "res_service.h"
#include "res_store.h"

#include "sf_crypto.h"
#include "sf_log.h"
#include "sf_ticker.h"
#include "sf_time.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
    BATCH = 500,
    STAGING_GRACE_S = 600, /* an upload's directory is made just after its key */
    CACHE_AGE_S = 3600,
};

struct res_sweep {
    res_state *st;
    sf_redis *redis;
    sf_ticker *ticker;
    char owner[33];
};

static int stopping(res_sweep *s)
{
    return sf_ticker_stopping(s->ticker);
}

static void expire(res_sweep *s)
{
    int64_t cutoff = sf_now_us() - s->st->retention_us;
    for (;;) {
        sf_error err = SF_ERROR_INIT;
        char **ids;
        size_t n;
        if (res_store_expired(s->redis, cutoff, BATCH, &ids, &n, &err)) {
            sf_warn("retention: %s", err.msg);
            return;
        }
        size_t done = 0;
        for (; done < n && !stopping(s); done++) {
            if (res_store_delete(s->redis, ids[done], &err)) {
                sf_warn("retention: cannot delete %s: %s", ids[done], err.msg);
                break;
            }
        }
        if (done)
            sf_info("retention: deleted %zu results that started before the cutoff", done);
        res_ids_free(ids, n);
        if (done < BATCH)
            return;
    }
}

/* Remove a deleted result's directory, then the job's directories it leaves empty. */
static int remove_result_files(res_state *st, const char *result_id)
{
    char rel[RES_ID_MAX];
    snprintf(rel, sizeof(rel), "%s", result_id + 1);
    int rc = res_fs_remove_tree(st->root_fd, rel);
    for (char *slash = strrchr(rel, '/'); !rc && slash; slash = strrchr(rel, '/')) {
        *slash = '\0';
        if (unlinkat(st->root_fd, rel, AT_REMOVEDIR))
            break; /* not empty (other results of the job), or gone already */
    }
    return rc;
}

static void purge(res_sweep *s)
{
    while (!stopping(s)) {
        sf_error err = SF_ERROR_INIT;
        char **ids;
        size_t n;
        if (res_store_purge_list(s->redis, BATCH, &ids, &n, &err)) {
            sf_warn("purge: %s", err.msg);
            return;
        }
        size_t done = 0;
        for (; done < n; done++) {
            int e = res_result_id_valid(ids[done]) ? remove_result_files(s->st, ids[done]) : 0;
            if (e) {
                sf_warn("purge: cannot remove the files of %s: %s", ids[done], strerror(-e));
                break;
            }
            if (res_store_purged(s->redis, ids[done], &err)) {
                sf_warn("purge: %s", err.msg);
                break;
            }
        }
        res_ids_free(ids, n);
        if (done < n || n == 0)
            return;
    }
}

/* Call fn for each entry of dirfd older than age_s seconds. */
static void each_old_entry(int dirfd, int age_s, void (*fn)(res_sweep *s, const char *name),
                           res_sweep *s)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d)) && !stopping(s)) {
        struct stat sb;
        if (e->d_name[0] == '.' || fstatat(dirfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW))
            continue;
        if (now - sb.st_mtime > age_s)
            fn(s, e->d_name);
    }
    closedir(d);
}

static void drop_staging(res_sweep *s, const char *name)
{
    res_upload up;
    sf_error err = SF_ERROR_INIT;
    if (res_upload_id_valid(name)) {
        int rc = res_store_upload(s->redis, name, 0, &up, &err);
        int open = !rc && !up.finished;
        res_upload_clear(&up);
        if (open || (rc && rc != SF_ENOTFOUND))
            return; /* still uploading, or Redis cannot say */
    }
    int e = res_fs_remove_tree(s->st->staging_fd, name);
    if (e)
        sf_warn("staging: cannot remove %s: %s", name, strerror(-e));
    else
        sf_info("staging: removed the abandoned upload %s", name);
}

static void drop_cached(res_sweep *s, const char *name)
{
    unlinkat(s->st->cache_fd, name, 0);
}

static void sweep_once(res_sweep *s)
{
    sf_error err = SF_ERROR_INIT;
    int got = 0;
    long ttl_ms = s->st->cfg.sweep_secs * 2000;
    if (res_store_lease(s->redis, "sweep", s->owner, (int)(ttl_ms < 5000 ? 5000 : ttl_ms), &got,
                        &err)) {
        sf_debug("sweep: %s", err.msg);
        return;
    }
    if (!got)
        return;
    if (s->st->retention_us)
        expire(s);
    purge(s);
    each_old_entry(s->st->staging_fd, STAGING_GRACE_S, drop_staging, s);
    each_old_entry(s->st->cache_fd, CACHE_AGE_S, drop_cached, s);
}

static long tick(void *arg)
{
    res_sweep *s = arg;
    sweep_once(s);
    return s->st->cfg.sweep_secs * 1000L;
}

int res_sweep_start(res_sweep **out, res_state *st, const char *redis_addr, sf_error *err)
{
    res_sweep *s = calloc(1, sizeof(*s));
    if (!s)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    s->st = st;
    sf_random_hex(16, s->owner);
    int rc = sf_redis_open(&s->redis, redis_addr, err);
    if (!rc && (rc = sf_ticker_start(&s->ticker, "results sweep", tick, s, err)))
        sf_redis_free(s->redis);
    if (rc) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void res_sweep_stop(res_sweep *s)
{
    if (!s)
        return;
    sf_ticker_stop(s->ticker);
    sf_redis_free(s->redis);
    free(s);
}
