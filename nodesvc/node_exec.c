#include "node_exec.h"

#include "sf_time.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { KILL_GRACE_MS = 1000 };

static void kill_group(pid_t pgid, int *signalled, int64_t *kill_at)
{
    if (!*signalled) {
        kill(-pgid, SIGTERM);
        *signalled = 1;
        *kill_at = sf_mono_ms() + KILL_GRACE_MS;
    }
}

int node_exec_run(const node_exec_opts *o, node_exec_result *res, sf_error *err)
{
    memset(res, 0, sizeof(*res));
    int out[2] = {-1, -1}, errp[2] = {-1, -1};
    if (pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            if (out[i] >= 0)
                close(out[i]);
            if (errp[i] >= 0)
                close(errp[i]);
        }
        return sf_fail(err, SF_EINTERNAL, "pipe: %s", strerror(e));
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    if (o->cwd)
        posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none); /* our threads block SIGTERM; the test must not */
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int rc = posix_spawn(&pid, o->argv[0], &fa, &attr, o->argv, o->envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(out[1]);
    close(errp[1]);
    if (rc) {
        close(out[0]);
        close(errp[0]);
        return sf_fail(err, SF_EINTERNAL, "cannot start %s: %s", o->argv[0], strerror(rc));
    }

    int64_t deadline = o->timeout_ms > 0 ? sf_mono_ms() + o->timeout_ms : 0, kill_at = 0;
    int signalled = 0, open_fds = 2;
    struct pollfd p[3] = {{out[0], POLLIN, 0}, {errp[0], POLLIN, 0}, {o->stop_fd, POLLIN, 0}};
    char buf[65536];
    while (open_fds > 0) {
        int wait_ms = -1;
        int64_t now = sf_mono_ms();
        if (deadline && !signalled)
            wait_ms = deadline > now ? (int)(deadline - now) : 0;
        if (signalled)
            wait_ms = kill_at > now ? (int)(kill_at - now) : 0;
        if (o->tick && (wait_ms < 0 || wait_ms > o->tick_ms))
            wait_ms = o->tick_ms;
        int n = poll(p, o->stop_fd >= 0 ? 3 : 2, wait_ms);
        if (n < 0 && errno != EINTR)
            break;
        if (o->tick)
            o->tick(o->arg);
        now = sf_mono_ms();
        if (deadline && now >= deadline && !signalled) {
            res->timed_out = 1;
            kill_group(pid, &signalled, &kill_at);
        }
        if (signalled && now >= kill_at) {
            kill(-pid, SIGKILL); /* then the pipes close */
            kill_at = now + 60000;
        }
        if (o->stop_fd >= 0 && (p[2].revents & POLLIN) && !signalled) {
            res->stopped = 1;
            kill_group(pid, &signalled, &kill_at);
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t got = read(p[i].fd, buf, sizeof(buf));
            if (got > 0) {
                o->output(o->arg, i == 0 ? NODE_EXEC_STDOUT : NODE_EXEC_STDERR, sf_now_us(), buf,
                          (size_t)got);
            } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
                close(p[i].fd);
                p[i].fd = -1;
                open_fds--;
            }
        }
    }
    /* The pipes are closed: the test is gone, or it closed them and lives on. Either way the
     * group goes now. */
    kill(-pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    for (int i = 0; i < 2; i++) {
        if (p[i].fd >= 0)
            close(p[i].fd);
    }
    if (WIFEXITED(status)) {
        res->exited = 1;
        res->status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        res->status = WTERMSIG(status);
    }
    return 0;
}

void node_lines_feed(node_lines *l, const char *data, size_t len,
                     void (*line)(void *arg, const char *text, size_t len), void *arg)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) : len;
        /* out of memory: what does not fit is lost from the lines only, not from the logs */
        sf_buf_append(&l->buf, data, take);
        if (!nl)
            return;
        line(arg, l->buf.data ? l->buf.data : "", l->buf.len);
        sf_buf_reset(&l->buf);
        data = nl + 1;
        len -= take + 1;
    }
}

void node_lines_flush(node_lines *l, void (*line)(void *arg, const char *text, size_t len),
                      void *arg)
{
    if (l->buf.len)
        line(arg, l->buf.data, l->buf.len);
    sf_buf_reset(&l->buf);
}

void node_lines_free(node_lines *l)
{
    sf_buf_free(&l->buf);
}
