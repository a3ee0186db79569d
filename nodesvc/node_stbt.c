#include "node_stbt.h"

#include "node_frames.h"
#include "node_lirc.h"
#include "sf_json.h"
#include "sf_log.h"
#include "sf_proc.h"
#include "sf_time.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum {
    MAX_CONNS = 16,
    MAX_LINE = 4096,
    FRAME_WAIT_MS = 5000,
    MAX_WAIT_MS = 60000,
    MAX_TEXT_SECS = 86400 /* a day: longer than any test run */
};

struct node_stbt {
    node_stbt_opts o;
    char path[108];
    int fd;
    pthread_t acceptor;
    pthread_mutex_t lock;
    pthread_cond_t gone;
    int conns[MAX_CONNS];       /* open connection fds, -1 when free */
    int n_threads;              /* connection threads still running */
    node_frames *frames;        /* made on the first request for frames; under lock */
    node_video *video;          /* the run's recording, for draw_text; under lock */
    pthread_mutex_t press_lock; /* one key at a time, as on a remote control; guards lirc */
    node_lirc *lirc;
};

typedef struct conn {
    node_stbt *s;
    int fd;
} conn;

static int send_json(int fd, cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text)
        return -1;
    int rc = sf_send_all(fd, text, strlen(text)) || sf_send_all(fd, "\n", 1);
    free(text);
    return rc;
}

static int send_error(int fd, const char *kind, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    cJSON_AddStringToObject(o, "kind", kind);
    return send_json(fd, o);
}

/* One LIRC command on the job's kept connection. */
static int lirc(node_stbt *s, const char *directive, const char *key, sf_error *err)
{
    return node_lirc_command(s->lirc, directive, s->o.remote->lirc_name, key, s->o.lirc_timeout_ms,
                             err);
}

static int do_press(node_stbt *s, int fd, const cJSON *req)
{
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(req, "key");
    const cJSON *hold = cJSON_GetObjectItemCaseSensitive(req, "hold_secs");
    sf_error err = SF_ERROR_INIT;
    if (!cJSON_IsString(key) || !*key->valuestring)
        return send_error(fd, "badkey", "press: key must be a non-empty string");
    if (sf_remote_key(s->o.remote, key->valuestring, &err))
        return send_error(fd, "badkey", err.msg);
    double secs = cJSON_IsNumber(hold) ? hold->valuedouble : 0;
    int rc;
    pthread_mutex_lock(&s->press_lock);
    double start = (double)sf_now_us() / 1e6;
    if (secs > 0 && secs <= 60) {
        rc = lirc(s, "SEND_START", key->valuestring, &err);
        struct timespec ts = {(time_t)secs, (long)((secs - (time_t)secs) * 1e9)};
        nanosleep(&ts, NULL);
        if (!rc)
            rc = lirc(s, "SEND_STOP", key->valuestring, &err);
    } else {
        rc = lirc(s, "SEND_ONCE", key->valuestring, &err);
    }
    double end = (double)sf_now_us() / 1e6;
    pthread_mutex_unlock(&s->press_lock);
    if (rc)
        return send_error(fd, "error", err.msg);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddTrueToObject(o, "ok");
    cJSON_AddNumberToObject(o, "start_time", start);
    cJSON_AddNumberToObject(o, "end_time", end);
    return send_json(fd, o);
}

/* The job's ring of frames, made on first use. */
static node_frames *frames_of(node_stbt *s, sf_error *err)
{
    pthread_mutex_lock(&s->lock);
    if (!s->frames) {
        node_frames_opts fo = {s->o.cap, s->o.frame_slots};
        if (node_frames_start(&s->frames, &fo, err))
            s->frames = NULL;
    }
    node_frames *f = s->frames;
    pthread_mutex_unlock(&s->lock);
    return f;
}

/* The ring's memfd, passed with the reply line in one message. */
static int do_frames(node_stbt *s, int fd)
{
    sf_error err = SF_ERROR_INIT;
    node_frames *f = frames_of(s, &err);
    int ring = -1;
    size_t size = 0;
    if (!f || node_frames_share(f, &ring, &size, &err))
        return send_error(fd, "error", err.msg);
    char line[64];
    int n = snprintf(line, sizeof(line), "{\"ok\":true,\"size\":%zu}\n", size);
    struct iovec iov = {line, (size_t)n};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } control = {0};
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof(control.buf);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &ring, sizeof(int));
    ssize_t sent;
    do {
        sent = sendmsg(fd, &msg, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    close(ring);
    /* the line is short: a socket that takes part of it has failed */
    return sent == n ? 0 : -1;
}

static int do_wait(node_stbt *s, int fd, const cJSON *req)
{
    const cJSON *after = cJSON_GetObjectItemCaseSensitive(req, "after");
    const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(req, "timeout_ms");
    uint64_t since =
                 cJSON_IsNumber(after) && after->valuedouble > 0 ? (uint64_t)after->valuedouble : 0,
             newest;
    int ms = FRAME_WAIT_MS;
    if (cJSON_IsNumber(timeout))
        ms = timeout->valuedouble < 0             ? 0
             : timeout->valuedouble > MAX_WAIT_MS ? MAX_WAIT_MS
                                                  : (int)timeout->valuedouble;
    sf_error err = SF_ERROR_INIT;
    node_frames *f = frames_of(s, &err);
    if (!f)
        return send_error(fd, "error", err.msg);
    if (node_frames_wait(f, since, ms, &newest, &err))
        return send_error(fd, "novideo", err.msg);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddTrueToObject(o, "ok");
    cJSON_AddNumberToObject(o, "newest", (double)newest);
    return send_json(fd, o);
}

static int do_draw_text(node_stbt *s, int fd, const cJSON *req)
{
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(req, "text");
    const cJSON *secs = cJSON_GetObjectItemCaseSensitive(req, "duration_secs");
    if (!cJSON_IsString(text))
        return send_error(fd, "error", "draw_text: text must be a string");
    if (!cJSON_IsNumber(secs) || !(secs->valuedouble >= 0 && secs->valuedouble <= MAX_TEXT_SECS))
        return send_error(fd, "error",
                          "draw_text: duration_secs must be a number of seconds "
                          "from 0 to 86400");
    int64_t until = sf_now_us() + (int64_t)(secs->valuedouble * 1e6);
    pthread_mutex_lock(&s->lock);
    int recorded = s->video != NULL;
    if (recorded)
        node_video_text(s->video, text->valuestring, until);
    pthread_mutex_unlock(&s->lock);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddTrueToObject(o, "ok");
    cJSON_AddBoolToObject(o, "recorded", recorded);
    return send_json(fd, o);
}

void node_stbt_set_video(node_stbt *s, node_video *v)
{
    pthread_mutex_lock(&s->lock);
    s->video = v;
    pthread_mutex_unlock(&s->lock);
}

static void *serve_conn(void *arg)
{
    conn *c = arg;
    node_stbt *s = c->s;
    char line[MAX_LINE];
    size_t have = 0;
    for (;;) {
        char *nl = memchr(line, '\n', have);
        if (!nl) {
            if (have == sizeof(line))
                break; /* a line that long is not ours */
            ssize_t n = recv(c->fd, line + have, sizeof(line) - have, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            have += (size_t)n;
            continue;
        }
        *nl = '\0';
        cJSON *req = NULL;
        sf_error perr = SF_ERROR_INIT;
        /* a test script's line: outside input, checked as every JSON from outside is */
        int bad = sf_json_parse_object(line, (size_t)(nl - line), &req, &perr);
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(req, "op");
        int rc;
        if (bad)
            rc = send_error(c->fd, "error", perr.msg);
        else if (!cJSON_IsString(op))
            rc = send_error(c->fd, "error", "a request is a JSON object with an \"op\"");
        else if (!strcmp(op->valuestring, "press"))
            rc = do_press(s, c->fd, req);
        else if (!strcmp(op->valuestring, "wait"))
            rc = do_wait(s, c->fd, req);
        else if (!strcmp(op->valuestring, "frames"))
            rc = do_frames(s, c->fd);
        else if (!strcmp(op->valuestring, "draw_text"))
            rc = do_draw_text(s, c->fd, req);
        else
            rc = send_error(c->fd, "error", "unknown op");
        cJSON_Delete(req);
        if (rc)
            break;
        size_t used = (size_t)(nl + 1 - line);
        memmove(line, line + used, have - used);
        have -= used;
    }
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < MAX_CONNS; i++) {
        if (s->conns[i] == c->fd)
            s->conns[i] = -1;
    }
    close(c->fd);
    s->n_threads--;
    pthread_cond_broadcast(&s->gone);
    pthread_mutex_unlock(&s->lock);
    free(c);
    return NULL;
}

static void *accept_loop(void *arg)
{
    node_stbt *s = arg;
    for (;;) {
        int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL; /* the socket was shut down */
        }
        pthread_mutex_lock(&s->lock);
        int slot = -1;
        for (int i = 0; i < MAX_CONNS && slot < 0; i++) {
            if (s->conns[i] < 0)
                slot = i;
        }
        conn *c = slot >= 0 ? malloc(sizeof(*c)) : NULL;
        pthread_t t;
        if (c) {
            c->s = s;
            c->fd = fd;
            s->conns[slot] = fd;
            if (pthread_create(&t, NULL, serve_conn, c) == 0) {
                pthread_detach(t);
                s->n_threads++;
            } else {
                s->conns[slot] = -1;
                free(c);
                c = NULL;
            }
        }
        pthread_mutex_unlock(&s->lock);
        if (!c)
            close(fd);
    }
}

static void free_server(node_stbt *s)
{
    node_frames_stop(s->frames);
    node_lirc_close(s->lirc);
    pthread_cond_destroy(&s->gone);
    pthread_mutex_destroy(&s->press_lock);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int node_stbt_start(node_stbt **out, const node_stbt_opts *opts, sf_error *err)
{
    node_stbt *s = calloc(1, sizeof(*s));
    if (!s)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    s->o = *opts;
    for (int i = 0; i < MAX_CONNS; i++)
        s->conns[i] = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->press_lock, NULL);
    pthread_cond_init(&s->gone, NULL);
    int rc = node_lirc_open(&s->lirc, opts->lircd, err);
    if (rc) {
        free_server(s);
        return rc;
    }
    struct sockaddr_un a = {0};
    a.sun_family = AF_UNIX;
    if (strlen(opts->path) >= sizeof(a.sun_path)) {
        free_server(s);
        return sf_fail(err, SF_EINTERNAL, "socket path too long: %s", opts->path);
    }
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", opts->path);
    snprintf(s->path, sizeof(s->path), "%s", opts->path);
    unlink(opts->path);
    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof(a)) || listen(s->fd, 8) ||
        pthread_create(&s->acceptor, NULL, accept_loop, s)) {
        int e = errno;
        if (s->fd >= 0)
            close(s->fd);
        free_server(s);
        return sf_fail(err, SF_EINTERNAL, "cannot listen on %s: %s", opts->path, strerror(e));
    }
    *out = s;
    return 0;
}

void node_stbt_stop(node_stbt *s)
{
    if (!s)
        return;
    shutdown(s->fd, SHUT_RDWR);
    pthread_join(s->acceptor, NULL);
    close(s->fd);
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < MAX_CONNS; i++) {
        if (s->conns[i] >= 0)
            shutdown(s->conns[i], SHUT_RDWR);
    }
    while (s->n_threads > 0)
        pthread_cond_wait(&s->gone, &s->lock);
    pthread_mutex_unlock(&s->lock);
    unlink(s->path);
    free_server(s);
}
