#include "node_stbt.h"

#include "node_image.h"
#include "node_lirc.h"
#include "sf_log.h"
#include "sf_proc.h"

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

enum { MAX_CONNS = 16, MAX_LINE = 4096, FRAME_WAIT_MS = 5000 };

struct node_stbt {
    node_stbt_opts o;
    char path[108];
    int fd;
    pthread_t acceptor;
    pthread_mutex_t lock;
    pthread_cond_t gone;
    int conns[MAX_CONNS]; /* open connection fds, -1 when free */
    int n_threads;        /* connection threads still running */
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
    const char *remote = s->o.remote->lirc_name;
    int rc;
    if (secs > 0 && secs <= 60) {
        rc = node_lirc_send(s->o.lircd, "SEND_START", remote, key->valuestring,
                            s->o.lirc_timeout_ms, &err);
        struct timespec ts = {(time_t)secs, (long)((secs - (time_t)secs) * 1e9)};
        nanosleep(&ts, NULL);
        if (!rc)
            rc = node_lirc_send(s->o.lircd, "SEND_STOP", remote, key->valuestring,
                                s->o.lirc_timeout_ms, &err);
    } else {
        rc = node_lirc_send(s->o.lircd, "SEND_ONCE", remote, key->valuestring, s->o.lirc_timeout_ms,
                            &err);
    }
    if (rc)
        return send_error(fd, "error", err.msg);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddTrueToObject(o, "ok");
    return send_json(fd, o);
}

static int do_frame(node_stbt *s, int fd, const cJSON *req)
{
    const cJSON *after = cJSON_GetObjectItemCaseSensitive(req, "after");
    uint64_t seq = 0, since = cJSON_IsNumber(after) && after->valuedouble > 0
                                  ? (uint64_t)after->valuedouble
                                  : 0;
    AVFrame *frame = NULL;
    sf_error err = SF_ERROR_INIT;
    int rc = since ? node_capture_next(s->o.cap, since, FRAME_WAIT_MS, &frame, &seq, &err)
                   : node_capture_frame(s->o.cap, &frame, &seq, &err);
    if (rc)
        return send_error(fd, "novideo", err.msg);
    uint8_t *bgr;
    size_t len;
    rc = node_image_bgr(frame, &bgr, &len, &err);
    if (rc) {
        av_frame_free(&frame);
        return send_error(fd, "error", err.msg);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddTrueToObject(o, "ok");
    cJSON_AddNumberToObject(o, "width", frame->width);
    cJSON_AddNumberToObject(o, "height", frame->height);
    cJSON_AddNumberToObject(o, "seq", (double)seq);
    cJSON_AddNumberToObject(o, "time", (double)frame->pts / 1e6);
    cJSON_AddNumberToObject(o, "size", (double)len);
    av_frame_free(&frame);
    rc = send_json(fd, o) || sf_send_all(fd, bgr, len);
    free(bgr);
    return rc;
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
        cJSON *req = cJSON_Parse(line);
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(req, "op");
        int rc;
        if (!cJSON_IsString(op))
            rc = send_error(c->fd, "error", "a request is a JSON object with an \"op\"");
        else if (!strcmp(op->valuestring, "press"))
            rc = do_press(s, c->fd, req);
        else if (!strcmp(op->valuestring, "frame"))
            rc = do_frame(s, c->fd, req);
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

int node_stbt_start(node_stbt **out, const node_stbt_opts *opts, sf_error *err)
{
    node_stbt *s = calloc(1, sizeof(*s));
    if (!s)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    s->o = *opts;
    for (int i = 0; i < MAX_CONNS; i++)
        s->conns[i] = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->gone, NULL);
    struct sockaddr_un a = {0};
    a.sun_family = AF_UNIX;
    if (strlen(opts->path) >= sizeof(a.sun_path)) {
        free(s);
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
        free(s);
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
    pthread_cond_destroy(&s->gone);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
