#include "node_lirc.h"

#include "sf_lirc.h"
#include "sf_time.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Connect to address before deadline; the socket, or -1 with err filled. */
static int connect_to(const char *address, int64_t deadline, sf_error *err)
{
    int fd = -1;
    if (address[0] == '/') {
        struct sockaddr_un a = {0};
        a.sun_family = AF_UNIX;
        if (strlen(address) >= sizeof(a.sun_path)) {
            sf_fail(err, SF_EUNAVAIL, "LIRC socket path too long: %s", address);
            return -1;
        }
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", address);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
            sf_fail(err, SF_EUNAVAIL, "cannot reach the LIRC daemon at %s: %s", address,
                    strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        return fd;
    }
    const char *hp = strncmp(address, "tcp://", 6) ? address : address + 6;
    char host[256];
    const char *colon = strrchr(hp, ':');
    if (!colon || (size_t)(colon - hp) >= sizeof(host)) {
        sf_fail(err, SF_EUNAVAIL, "LIRC address '%s' is not host:port or a socket path", address);
        return -1;
    }
    memcpy(host, hp, (size_t)(colon - hp));
    host[colon - hp] = '\0';
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, colon + 1, &hints, &ai) || !ai) {
        sf_fail(err, SF_EUNAVAIL, "cannot resolve the LIRC daemon's host %s", host);
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int rc = fd < 0 ? -1 : connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc && errno == EINPROGRESS) {
        struct pollfd p = {fd, POLLOUT, 0};
        int left = (int)(deadline - sf_mono_ms());
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (left > 0 && poll(&p, 1, left) == 1 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
            rc = 0;
        else
            errno = soerr ? soerr : ETIMEDOUT;
    }
    freeaddrinfo(ai);
    if (rc) {
        sf_fail(err, SF_EUNAVAIL, "cannot reach the LIRC daemon at %s: %s", address,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int send_line(int fd, const char *line, int64_t deadline)
{
    size_t len = strlen(line), off = 0;
    while (off < len) {
        struct pollfd p = {fd, POLLOUT, 0};
        int left = (int)(deadline - sf_mono_ms());
        if (left <= 0 || poll(&p, 1, left) != 1)
            return -1;
        ssize_t n = send(fd, line + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

struct node_lirc {
    char *address;
    int fd;      /* -1 until connected */
    size_t have; /* bytes in buf not parsed yet: lines the daemon wrote between replies */
    char buf[4096];
};

int node_lirc_open(node_lirc **out, const char *address, sf_error *err)
{
    node_lirc *l = calloc(1, sizeof(*l));
    if (!l || !(l->address = strdup(address))) {
        free(l);
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    }
    l->fd = -1;
    *out = l;
    return 0;
}

static void drop(node_lirc *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    l->have = 0;
}

void node_lirc_close(node_lirc *l)
{
    if (!l)
        return;
    drop(l);
    free(l->address);
    free(l);
}

/* Is the kept connection still open? Reads what the daemon wrote meanwhile (kept for the reply
 * parser, which skips it); end of file or an error means the daemon closed it. */
static int still_open(node_lirc *l)
{
    for (;;) {
        if (l->have == sizeof(l->buf))
            l->have = 0; /* no reply of ours is in there: nothing was asked */
        ssize_t n = recv(l->fd, l->buf + l->have, sizeof(l->buf) - l->have, MSG_DONTWAIT);
        if (n > 0) {
            l->have += (size_t)n;
            continue;
        }
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

/* Read lines until the reply to the command reply waits for is complete. */
static int read_reply(node_lirc *l, sf_lirc_reply *reply, const char *directive, const char *remote,
                      const char *key, int64_t deadline, int timeout_ms, sf_error *err)
{
    for (;;) {
        size_t start = 0;
        int done = 0;
        for (char *nl; !done && (nl = memchr(l->buf + start, '\n', l->have - start));) {
            done = sf_lirc_reply_line(reply, l->buf + start, (size_t)(nl - (l->buf + start)));
            start = (size_t)(nl - l->buf) + 1;
        }
        memmove(l->buf, l->buf + start, l->have - start);
        l->have -= start;
        if (done < 0)
            return sf_fail(err, SF_EUNAVAIL, "the LIRC daemon at %s broke the protocol",
                           l->address);
        if (done) {
            if (!reply->success)
                return sf_fail(err, SF_EINVAL, "the LIRC daemon refused %s %s %s: %s", directive,
                               remote, key, reply->data[0] ? reply->data : "error");
            return 0;
        }
        if (l->have == sizeof(l->buf))
            return sf_fail(err, SF_EUNAVAIL, "the LIRC daemon at %s sent an overlong line",
                           l->address);
        struct pollfd p = {l->fd, POLLIN, 0};
        int left = (int)(deadline - sf_mono_ms());
        if (left <= 0 || poll(&p, 1, left) != 1)
            return sf_fail(err, SF_EUNAVAIL, "the LIRC daemon at %s did not answer within %d ms",
                           l->address, timeout_ms);
        ssize_t got = recv(l->fd, l->buf + l->have, sizeof(l->buf) - l->have, 0);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0)
            return sf_fail(err, SF_EUNAVAIL, "the LIRC daemon at %s closed the connection",
                           l->address);
        l->have += (size_t)got;
    }
}

int node_lirc_command(node_lirc *l, const char *directive, const char *remote, const char *key,
                      int timeout_ms, sf_error *err)
{
    char command[SF_LIRC_LINE_MAX + 2];
    int n = snprintf(command, sizeof(command), "%s %s %s", directive, remote, key);
    if (n < 0 || n >= SF_LIRC_LINE_MAX || strpbrk(command, "\r\n"))
        return sf_fail(err, SF_EINVAL, "remote control or key name too long or not one line");
    int64_t deadline = sf_mono_ms() + timeout_ms;
    if (l->fd >= 0 && !still_open(l))
        drop(l);
    if (l->fd < 0 && (l->fd = connect_to(l->address, deadline, err)) < 0)
        return SF_EUNAVAIL;
    sf_lirc_reply reply;
    sf_lirc_reply_init(&reply, command);
    command[n] = '\n';
    command[n + 1] = '\0';
    int rc =
        send_line(l->fd, command, deadline)
            ? sf_fail(err, SF_EUNAVAIL, "the LIRC daemon at %s stopped taking commands", l->address)
            : read_reply(l, &reply, directive, remote, key, deadline, timeout_ms, err);
    if (rc && rc != SF_EINVAL)
        drop(l); /* in an unknown state: the next command starts afresh */
    return rc;
}

int node_lirc_send(const char *address, const char *directive, const char *remote, const char *key,
                   int timeout_ms, sf_error *err)
{
    node_lirc *l;
    int rc = node_lirc_open(&l, address, err);
    if (!rc)
        rc = node_lirc_command(l, directive, remote, key, timeout_ms, err);
    node_lirc_close(l);
    return rc;
}
