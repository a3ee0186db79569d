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

int node_lirc_send(const char *address, const char *directive, const char *remote, const char *key,
                   int timeout_ms, sf_error *err)
{
    char command[SF_LIRC_LINE_MAX + 2];
    int n = snprintf(command, sizeof(command), "%s %s %s", directive, remote, key);
    if (n < 0 || n >= SF_LIRC_LINE_MAX || strpbrk(command, "\r\n"))
        return sf_fail(err, SF_EINVAL, "remote control or key name too long or not one line");
    int64_t deadline = sf_mono_ms() + timeout_ms;
    int fd = connect_to(address, deadline, err);
    if (fd < 0)
        return SF_EUNAVAIL;
    sf_lirc_reply reply;
    sf_lirc_reply_init(&reply, command);
    command[n] = '\n';
    command[n + 1] = '\0';
    int rc = 0;
    if (send_line(fd, command, deadline)) {
        rc = sf_fail(err, SF_EUNAVAIL, "the LIRC daemon at %s stopped taking commands", address);
        goto cleanup;
    }
    char buf[4096];
    size_t have = 0;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int left = (int)(deadline - sf_mono_ms());
        if (left <= 0 || poll(&p, 1, left) != 1) {
            rc = sf_fail(err, SF_EUNAVAIL, "the LIRC daemon at %s did not answer within %d ms",
                         address, timeout_ms);
            break;
        }
        ssize_t got = recv(fd, buf + have, sizeof(buf) - have, 0);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0) {
            rc = sf_fail(err, SF_EUNAVAIL, "the LIRC daemon at %s closed the connection", address);
            break;
        }
        have += (size_t)got;
        size_t start = 0;
        int done = 0;
        for (char *nl; !done && (nl = memchr(buf + start, '\n', have - start));) {
            done = sf_lirc_reply_line(&reply, buf + start, (size_t)(nl - (buf + start)));
            start = (size_t)(nl - buf) + 1;
        }
        if (done < 0) {
            rc = sf_fail(err, SF_EUNAVAIL, "the LIRC daemon at %s broke the protocol", address);
            break;
        }
        if (done) {
            if (!reply.success)
                rc = sf_fail(err, SF_EINVAL, "the LIRC daemon refused %s %s %s: %s", directive,
                             remote, key, reply.data[0] ? reply.data : "error");
            break;
        }
        memmove(buf, buf + start, have - start);
        have -= start;
        if (have == sizeof(buf)) {
            rc = sf_fail(err, SF_EUNAVAIL, "the LIRC daemon at %s sent an overlong line", address);
            break;
        }
    }
cleanup:
    close(fd);
    return rc;
}
