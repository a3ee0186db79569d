/* stbfarm-vstb: a virtual set-top box, so that the farm runs and is tested without hardware.
 *
 * IR in: the LIRC daemon protocol (lib/sf_lirc.h) on loopback TCP and optionally a unix socket,
 * exactly as lircd answers it, so a node agent cannot tell it from lircd with an IR blaster.
 * Video out: MJPEG over HTTP (multipart/x-mixed-replace, what IP cameras and many capture
 * devices serve; libav's "mpjpeg" demuxer reads it) at 1280x720 and --fps frames per second.
 * The picture is a function of the state alone (vstb_state.h, vstb_render.h) and is encoded
 * once per state change, so every frame of one state carries the same JPEG bytes. A thread of
 * its own renders and encodes (a key's LIRC reply never waits for it), and advances animations
 * one step per frame. --key-log records the moment each key arrives, for measuring latency. */
#include "sf_config.h"
#include "sf_proc.h"
#include "sf_lirc.h"
#include "sf_log.h"
#include "sf_metrics.h"
#include "sf_time.h"
#include "vstb_render.h"
#include "vstb_state.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define BOUNDARY     "vstbframe"
#define VSTB_VERSION "stbfarm-vstb-0.1.0"

enum { REPEAT_DELAY_MS = 500, REPEAT_EVERY_MS = 200, HEADER_TIMEOUT_MS = 5000 };

typedef struct vstb_config {
    const char *lirc_listen;
    const char *lirc_socket;
    const char *video_listen;
    const char *video_socket;
    const char *remote;
    long fps;
    long jpeg_quality;
    const char *key_log;
    const char *log_level;
} vstb_config;

/* One encoded picture, shared by the video connections sending it. */
typedef struct picture {
    atomic_int refs;
    size_t len;
    uint8_t data[];
} picture;

typedef struct vstb {
    vstb_config cfg;
    int key_log;          /* fd, or -1 */
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t changed;
    pthread_cond_t dirty; /* the state moved past the picture, or stopping */
    vstb_state state;
    uint64_t state_gen;   /* +1 for every change of state */
    uint64_t picture_gen; /* the state_gen that current shows */
    picture *current;
    char held[SF_LIRC_WORD_MAX + 1]; /* the key between SEND_START and SEND_STOP, or "" */
    int64_t held_next_ms;
    int stopping;
    int connections; /* connection threads running */
    int fds[256];    /* their sockets, shut down on stop */
    /* the encoder: used by the encoding thread alone once it runs */
    uint8_t *rgb;
    struct SwsContext *sws;
    AVCodecContext *enc;
    AVFrame *yuv;
    AVPacket *pkt;
    /* the metrics: what arrived and what was shown */
    sf_metric *keys_known, *keys_unknown, *pictures;
} vstb;

static void picture_unref(picture *p)
{
    if (p && atomic_fetch_sub(&p->refs, 1) == 1)
        free(p);
}

/* Render and encode state s into a new picture; NULL when the encoder fails. */
static picture *encode_state(vstb *v, const vstb_state *s)
{
    vstb_render(s, v->rgb);
    const uint8_t *src[1] = {v->rgb};
    const int stride[1] = {VSTB_WIDTH * 3};
    if (av_frame_make_writable(v->yuv) < 0)
        return NULL;
    sws_scale(v->sws, src, stride, 0, VSTB_HEIGHT, v->yuv->data, v->yuv->linesize);
    v->yuv->quality = v->enc->global_quality;
    v->yuv->pict_type = AV_PICTURE_TYPE_I;
    v->yuv->pts++;
    if (avcodec_send_frame(v->enc, v->yuv) < 0 || avcodec_receive_packet(v->enc, v->pkt) < 0)
        return NULL;
    picture *p = malloc(sizeof(*p) + (size_t)v->pkt->size);
    if (p) {
        atomic_init(&p->refs, 1);
        p->len = (size_t)v->pkt->size;
        memcpy(p->data, v->pkt->data, p->len);
    }
    av_packet_unref(v->pkt);
    return p;
}

/* Make p the picture of state generation gen; with the lock held. */
static void show(vstb *v, picture *p, uint64_t gen)
{
    picture_unref(v->current);
    v->current = p;
    v->picture_gen = gen;
    sf_metric_inc(v->pictures);
    pthread_cond_broadcast(&v->changed);
}

/* The encoding thread: the newest state becomes the picture, and an animating state moves on
 * one step per frame period. A burst of keys is encoded once, as its last state. */
static void *encode_thread(void *arg)
{
    vstb *v = arg;
    const int64_t period_us = 1000000 / v->cfg.fps;
    int64_t next_tick_us = 0;
    pthread_mutex_lock(&v->lock);
    while (!v->stopping) {
        int64_t now = sf_mono_us();
        if (vstb_state_animating(&v->state)) {
            if (!next_tick_us)
                next_tick_us = now + period_us;
            if (now >= next_tick_us) {
                vstb_state_tick(&v->state);
                v->state_gen++;
                next_tick_us =
                    now - next_tick_us > period_us ? now + period_us : next_tick_us + period_us;
            }
        } else {
            next_tick_us = 0;
        }
        if (v->state_gen == v->picture_gen) {
            if (next_tick_us) {
                struct timespec ts;
                sf_timespec_after(CLOCK_MONOTONIC, (int)((next_tick_us - now + 999) / 1000), &ts);
                pthread_cond_timedwait(&v->dirty, &v->lock, &ts);
            } else {
                pthread_cond_wait(&v->dirty, &v->lock);
            }
            continue;
        }
        vstb_state s = v->state;
        uint64_t gen = v->state_gen;
        pthread_mutex_unlock(&v->lock);
        picture *p = encode_state(v, &s);
        pthread_mutex_lock(&v->lock);
        if (p)
            show(v, p, gen);
        else {
            sf_error("cannot encode the picture");
            v->picture_gen = gen; /* not again until the state changes */
        }
    }
    pthread_mutex_unlock(&v->lock);
    return NULL;
}

static int encoder_open(vstb *v)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (!codec || !(v->enc = avcodec_alloc_context3(codec)) || !(v->yuv = av_frame_alloc()) ||
        !(v->pkt = av_packet_alloc()) || !(v->rgb = malloc((size_t)VSTB_WIDTH * VSTB_HEIGHT * 3)))
        return -1;
    v->enc->width = VSTB_WIDTH;
    v->enc->height = VSTB_HEIGHT;
    v->enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
    v->enc->color_range = AVCOL_RANGE_JPEG;
    v->enc->time_base = (AVRational){1, (int)v->cfg.fps};
    v->enc->flags |= AV_CODEC_FLAG_QSCALE;
    v->enc->global_quality = FF_QP2LAMBDA * (int)v->cfg.jpeg_quality;
    v->enc->thread_count = 1;
    if (avcodec_open2(v->enc, codec, NULL) < 0)
        return -1;
    v->yuv->format = AV_PIX_FMT_YUVJ420P;
    v->yuv->width = VSTB_WIDTH;
    v->yuv->height = VSTB_HEIGHT;
    v->yuv->color_range = AVCOL_RANGE_JPEG;
    if (av_frame_get_buffer(v->yuv, 0) < 0)
        return -1;
    v->sws = sws_getContext(VSTB_WIDTH, VSTB_HEIGHT, AV_PIX_FMT_RGB24, VSTB_WIDTH, VSTB_HEIGHT,
                            AV_PIX_FMT_YUVJ420P, SWS_POINT, NULL, NULL, NULL);
    return v->sws ? 0 : -1;
}

static void encoder_close(vstb *v)
{
    sws_freeContext(v->sws);
    avcodec_free_context(&v->enc);
    av_frame_free(&v->yuv);
    av_packet_free(&v->pkt);
    free(v->rgb);
    picture_unref(v->current);
}

/* One line per key command as it arrives: "<unix seconds> <directive> <remote> <key>". */
static void log_key(vstb *v, int64_t us, const char *line)
{
    if (v->key_log < 0)
        return;
    char buf[SF_LIRC_LINE_MAX + 40];
    int n = snprintf(buf, sizeof(buf), "%lld.%06lld %s\n", (long long)(us / 1000000),
                     (long long)(us % 1000000), line);
    if (n > 0 && (size_t)n < sizeof(buf) && write(v->key_log, buf, (size_t)n) < 0)
        sf_warn("--key-log: %s", strerror(errno));
}

/* Press key; called with the lock held. 0, or -1 for a key the vstb does not have. */
static int press(vstb *v, const char *key)
{
    vstb_state before = v->state;
    if (!vstb_state_press(&v->state, key)) {
        sf_metric_inc(v->keys_unknown);
        return -1;
    }
    sf_metric_inc(v->keys_known);
    sf_info("key %s", key);
    if (memcmp(&before, &v->state, sizeof(before))) {
        v->state_gen++;
        pthread_cond_signal(&v->dirty);
    }
    return 0;
}

/* ---- connections ---- */

/* Register a connection's socket so that stopping can shut it down; -1 when stopping. */
static int conn_enter(vstb *v, int fd)
{
    pthread_mutex_lock(&v->lock);
    int rc = -1;
    for (size_t i = 0; !v->stopping && i < sizeof(v->fds) / sizeof(v->fds[0]); i++) {
        if (v->fds[i] < 0) {
            v->fds[i] = fd;
            v->connections++;
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&v->lock);
    return rc;
}

static void conn_leave(vstb *v, int fd)
{
    pthread_mutex_lock(&v->lock);
    for (size_t i = 0; i < sizeof(v->fds) / sizeof(v->fds[0]); i++) {
        if (v->fds[i] == fd)
            v->fds[i] = -1;
    }
    close(fd);
    v->connections--;
    pthread_cond_broadcast(&v->changed);
    pthread_mutex_unlock(&v->lock);
}

typedef struct conn {
    vstb *v;
    int fd;
    void (*serve)(vstb *v, int fd);
} conn;

static void *conn_thread(void *arg)
{
    conn c = *(conn *)arg;
    free(arg);
    c.serve(c.v, c.fd);
    conn_leave(c.v, c.fd);
    return NULL;
}

/* ---- LIRC ---- */

static void reply(int fd, const char *command, int success, const char *const *data, size_t n)
{
    char buf[8192];
    size_t len = sf_lirc_reply_format(buf, sizeof(buf), command, success, data, n);
    if (len)
        sf_send_all(fd, buf, len);
}

static void reply_error(int fd, const char *command, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_error(int fd, const char *command, const char *fmt, ...)
{
    char msg[SF_LIRC_WORD_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char *data[1] = {msg};
    reply(fd, command, 0, data, 1);
}

static void lirc_list(vstb *v, int fd, const char *line, const sf_lirc_cmd *c)
{
    if (c->argc == 0) {
        const char *data[1] = {v->cfg.remote};
        reply(fd, line, 1, data, 1);
        return;
    }
    if (strcmp(c->argv[0], v->cfg.remote)) {
        reply_error(fd, line, "unknown remote: \"%s\"", c->argv[0]);
        return;
    }
    const char *data[64];
    char codes[64][SF_LIRC_WORD_MAX + 24];
    size_t n = 0;
    for (; vstb_keys[n] && n < 64; n++) {
        snprintf(codes[n], sizeof(codes[n]), "%016zx %s", n + 1, vstb_keys[n]);
        data[n] = codes[n];
    }
    reply(fd, line, 1, data, n);
}

static void lirc_command(vstb *v, int fd, const char *line, int64_t arrived_us)
{
    sf_lirc_cmd c;
    if (sf_lirc_cmd_parse(line, strlen(line), &c)) {
        reply_error(fd, line, "bad command");
        return;
    }
    if (!strncmp(c.directive, "SEND_", 5))
        log_key(v, arrived_us, line);
    if (!strcmp(c.directive, "VERSION")) {
        const char *data[1] = {VSTB_VERSION};
        reply(fd, line, 1, data, 1);
        return;
    }
    if (!strcmp(c.directive, "LIST")) {
        lirc_list(v, fd, line, &c);
        return;
    }
    int once = !strcmp(c.directive, "SEND_ONCE"), start = !strcmp(c.directive, "SEND_START"),
        stop = !strcmp(c.directive, "SEND_STOP");
    if (!once && !start && !stop) {
        reply_error(fd, line, "unknown directive: \"%s\"", c.directive);
        return;
    }
    if (c.argc < 2 || c.argc > (once ? 3 : 2)) {
        reply_error(fd, line, "bad send packet");
        return;
    }
    if (strcmp(c.argv[0], v->cfg.remote)) {
        reply_error(fd, line, "unknown remote: \"%s\"", c.argv[0]);
        return;
    }
    if (!vstb_key_known(c.argv[1])) {
        reply_error(fd, line, "unknown command: \"%s\"", c.argv[1]);
        return;
    }
    pthread_mutex_lock(&v->lock);
    const char *error = NULL;
    if (stop) {
        if (strcmp(v->held, c.argv[1]))
            error = "not repeating";
        else
            v->held[0] = '\0';
    } else if (start && v->held[0]) {
        error = "already repeating";
    } else {
        press(v, c.argv[1]);
        if (start) {
            snprintf(v->held, sizeof(v->held), "%s", c.argv[1]);
            v->held_next_ms = sf_mono_ms() + REPEAT_DELAY_MS;
        }
    }
    pthread_mutex_unlock(&v->lock);
    if (error)
        reply_error(fd, line, "%s", error);
    else
        reply(fd, line, 1, NULL, 0);
}

static void serve_lirc(vstb *v, int fd)
{
    char buf[SF_LIRC_LINE_MAX + 2];
    size_t have = 0;
    for (;;) {
        ssize_t n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        int64_t arrived_us = sf_now_us();
        have += (size_t)n;
        char *start = buf, *nl;
        while ((nl = memchr(start, '\n', have - (size_t)(start - buf)))) {
            *nl = '\0';
            if (nl > start && nl[-1] == '\r')
                nl[-1] = '\0';
            if (*start)
                lirc_command(v, fd, start, arrived_us);
            start = nl + 1;
        }
        have -= (size_t)(start - buf);
        memmove(buf, start, have);
        if (have == sizeof(buf) - 1) { /* no newline in a whole buffer */
            const char *data[1] = {"line too long"};
            reply(fd, "", 0, data, 1);
            return;
        }
    }
}

/* The repeats of a held key, as an IR remote sends them while a button is down. */
static void *repeat_thread(void *arg)
{
    vstb *v = arg;
    pthread_mutex_lock(&v->lock);
    while (!v->stopping) {
        int64_t now = sf_mono_ms();
        if (v->held[0] && now >= v->held_next_ms) {
            press(v, v->held);
            v->held_next_ms = now + REPEAT_EVERY_MS;
        }
        struct timespec ts;
        sf_timespec_after(CLOCK_MONOTONIC, 50, &ts);
        pthread_cond_timedwait(&v->changed, &v->lock, &ts);
    }
    pthread_mutex_unlock(&v->lock);
    return NULL;
}

/* ---- video ---- */

/* Read the HTTP request head; 0 for a GET of the stream, -1 otherwise. */
static int read_request(int fd, char *path, size_t path_len)
{
    char buf[4096];
    size_t have = 0;
    int64_t end = sf_mono_ms() + HEADER_TIMEOUT_MS;
    while (!memmem(buf, have, "\r\n\r\n", 4) && !memmem(buf, have, "\n\n", 2)) {
        struct pollfd p = {fd, POLLIN, 0};
        int left = (int)(end - sf_mono_ms());
        if (have == sizeof(buf) || left <= 0 || poll(&p, 1, left) <= 0)
            return -1;
        ssize_t n = recv(fd, buf + have, sizeof(buf) - have, 0);
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
    char method[8];
    if (sscanf(buf, "%7s %255s", method, path) != 2 || path_len < 256 || strcmp(method, "GET"))
        return -1;
    return 0;
}

static void stream_mjpeg(vstb *v, int fd);

static void serve_video(vstb *v, int fd)
{
    char path[256];
    if (read_request(fd, path, sizeof(path))) {
        static const char bad[] = "HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        sf_send_all(fd, bad, sizeof(bad) - 1);
        return;
    }
    char *q = strchr(path, '?');
    if (q)
        *q = '\0';
    int single = !strcmp(path, "/frame.jpg");
    if (!single && strcmp(path, "/video.mjpeg") && strcmp(path, "/")) {
        static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        sf_send_all(fd, nf, sizeof(nf) - 1);
        return;
    }
    char head[256];
    pthread_mutex_lock(&v->lock);
    picture *p = v->current;
    atomic_fetch_add(&p->refs, 1);
    pthread_mutex_unlock(&v->lock);
    if (single) {
        snprintf(head, sizeof(head),
                 "HTTP/1.0 200 OK\r\nContent-Type: image/jpeg\r\n"
                 "Content-Length: %zu\r\nCache-Control: no-cache\r\n\r\n",
                 p->len);
        if (!sf_send_all(fd, head, strlen(head)))
            sf_send_all(fd, p->data, p->len);
        picture_unref(p);
        return;
    }
    picture_unref(p);
    snprintf(head, sizeof(head),
             "HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace;"
             "boundary=" BOUNDARY "\r\nCache-Control: no-cache\r\n"
             "Connection: close\r\n\r\n");
    if (!sf_send_all(fd, head, strlen(head)))
        stream_mjpeg(v, fd);
}

/* The multipart MJPEG stream itself, at the configured rate, until the client goes away. On the
 * unix socket it is all there is (no HTTP): `-f mpjpeg -i unix:/path` reads it. */
static void stream_mjpeg(vstb *v, int fd)
{
    char head[256];
    picture *p;
    const int64_t period_us = 1000000 / v->cfg.fps;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (;;) {
        pthread_mutex_lock(&v->lock);
        int stopping = v->stopping;
        p = v->current;
        atomic_fetch_add(&p->refs, 1);
        pthread_mutex_unlock(&v->lock);
        if (stopping) {
            picture_unref(p);
            return;
        }
        snprintf(head, sizeof(head),
                 "--" BOUNDARY "\r\nContent-Type: image/jpeg\r\n"
                 "Content-Length: %zu\r\n\r\n",
                 p->len);
        int rc = sf_send_all(fd, head, strlen(head)) || sf_send_all(fd, p->data, p->len) ||
                 sf_send_all(fd, "\r\n", 2);
        picture_unref(p);
        if (rc)
            return;
        next.tv_nsec += period_us * 1000;
        while (next.tv_nsec >= 1000000000L) {
            next.tv_sec++;
            next.tv_nsec -= 1000000000L;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > next.tv_sec + 1) /* fell far behind (suspended): start afresh */
            next = now;
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
}

/* ---- listening ---- */

typedef struct listener {
    vstb *v;
    int fd;
    const char *what;
    void (*serve)(vstb *v, int fd);
    pthread_t thread;
    int running;
} listener;

static void *accept_thread(void *arg)
{
    listener *l = arg;
    for (;;) {
        int fd = accept(l->fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL; /* shut down */
        }
        conn *c = malloc(sizeof(*c));
        pthread_t t;
        if (!c || conn_enter(l->v, fd)) {
            free(c);
            close(fd);
            continue;
        }
        c->v = l->v;
        c->fd = fd;
        c->serve = l->serve;
        if (pthread_create(&t, NULL, conn_thread, c)) {
            free(c);
            conn_leave(l->v, fd);
            continue;
        }
        pthread_detach(t);
    }
}

/* Listen on host:port (loopback unless the operator says otherwise) or a unix socket path. */
static int listen_on(const char *where, int is_unix)
{
    int fd;
    if (is_unix) {
        struct sockaddr_un a = {0};
        a.sun_family = AF_UNIX;
        if (strlen(where) >= sizeof(a.sun_path))
            return -1;
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", where);
        unlink(where);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16)) {
            if (fd >= 0)
                close(fd);
            return -1;
        }
        return fd;
    }
    char host[64];
    const char *colon = strrchr(where, ':');
    if (!colon || (size_t)(colon - where) >= sizeof(host))
        return -1;
    memcpy(host, where, (size_t)(colon - where));
    host[colon - where] = '\0';
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
        return -1;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
        bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int start_listener(listener *l, vstb *v, const char *where, int is_unix, const char *what,
                          void (*serve)(vstb *, int))
{
    l->v = v;
    l->what = what;
    l->serve = serve;
    if ((l->fd = listen_on(where, is_unix)) < 0) {
        sf_error("cannot listen for %s on %s: %s", what, where, strerror(errno));
        return -1;
    }
    if (pthread_create(&l->thread, NULL, accept_thread, l)) {
        close(l->fd);
        return -1;
    }
    l->running = 1;
    sf_info("%s on %s", what, where);
    return 0;
}

static void stop_listener(listener *l)
{
    if (!l->running)
        return;
    shutdown(l->fd, SHUT_RDWR);
    pthread_join(l->thread, NULL);
    close(l->fd);
}

int main(int argc, char **argv)
{
    static vstb v;
    const sf_option options[] = {
        {"lirc-listen", "STBF_VSTB_LIRC_LISTEN", SF_OPT_STR, "127.0.0.1:8765",
         "LIRC daemon protocol on this host:port (lircd's TCP port is 8765; none: off)",
         &v.cfg.lirc_listen},
        {"lirc-socket", "STBF_VSTB_LIRC_SOCKET", SF_OPT_STR, NULL, "also on this unix socket path",
         &v.cfg.lirc_socket},
        {"video-listen", "STBF_VSTB_VIDEO_LISTEN", SF_OPT_STR, "127.0.0.1:8766",
         "MJPEG over HTTP on this host:port: /video.mjpeg, /frame.jpg (none: off)",
         &v.cfg.video_listen},
        {"video-socket", "STBF_VSTB_VIDEO_SOCKET", SF_OPT_STR, NULL,
         "also the bare MJPEG stream (no HTTP) on this unix socket path", &v.cfg.video_socket},
        {"remote", "STBF_VSTB_REMOTE", SF_OPT_STR, "vstb",
         "the remote control name the LIRC side answers to", &v.cfg.remote},
        {"fps", "STBF_VSTB_FPS", SF_OPT_INT, "25", "frames per second", &v.cfg.fps},
        {"jpeg-quality", "STBF_VSTB_JPEG_QUALITY", SF_OPT_INT, "2",
         "JPEG quantiser, 1 (best) to 31", &v.cfg.jpeg_quality},
        {"key-log", "STBF_VSTB_KEY_LOG", SF_OPT_STR, NULL,
         "append \"<unix time> <LIRC command>\" to this file as each key command arrives",
         &v.cfg.key_log},
        {"log-level", "STBF_LOG_LEVEL", SF_OPT_STR, "info", "debug, info, warn or error",
         &v.cfg.log_level},
    };
    int check_only =
        sf_config_load("stbfarm-vstb", "A virtual set-top box: LIRC in, MJPEG video out.", options,
                       sizeof(options) / sizeof(options[0]), argc, argv);
    if (v.cfg.fps < 1 || v.cfg.fps > 120 || v.cfg.jpeg_quality < 1 || v.cfg.jpeg_quality > 31) {
        fprintf(stderr, "stbfarm-vstb: --fps takes 1-120 and --jpeg-quality 1-31\n");
        return 2;
    }
    if (check_only)
        return 0;
    av_log_set_level(AV_LOG_ERROR);

    sigset_t sigs;
    sf_stop_block(&sigs);

    pthread_mutex_init(&v.lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&v.changed, &ca);
    pthread_cond_init(&v.dirty, &ca);
    for (size_t i = 0; i < sizeof(v.fds) / sizeof(v.fds[0]); i++)
        v.fds[i] = -1;
    vstb_state_init(&v.state);
    sf_metrics *m = sf_metrics_process();
    sf_metric_family *keys = sf_metrics_counter(m, "stbfarm_vstb_keys_total",
                                                "Key presses that arrived, by whether the vstb "
                                                "has the key (known: yes or no)",
                                                "known");
    v.keys_known = sf_metric_get(keys, SF_LABELS("yes"));
    v.keys_unknown = sf_metric_get(keys, SF_LABELS("no"));
    v.pictures = sf_metric_get(sf_metrics_counter(m, "stbfarm_vstb_pictures_total",
                                                  "Pictures encoded (each change of the screen "
                                                  "and each step of an animation)",
                                                  NULL),
                               NULL);
    int rc = 1;
    listener lirc = {0}, lirc_unix = {0}, video = {0}, video_unix = {0};
    pthread_t repeater, encoder;
    int repeating = 0, encoding = 0;
    picture *first = NULL;
    v.key_log = -1;
    if (v.cfg.key_log &&
        (v.key_log = open(v.cfg.key_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
        sf_error("cannot open --key-log %s: %s", v.cfg.key_log, strerror(errno));
        goto cleanup;
    }
    if (encoder_open(&v) || !(first = encode_state(&v, &v.state))) {
        sf_error("cannot set up the JPEG encoder");
        goto cleanup;
    }
    show(&v, first, v.state_gen);
    if (pthread_create(&encoder, NULL, encode_thread, &v))
        goto cleanup;
    encoding = 1;
    if ((strcmp(v.cfg.lirc_listen, "none") &&
         start_listener(&lirc, &v, v.cfg.lirc_listen, 0, "LIRC", serve_lirc)) ||
        (v.cfg.lirc_socket &&
         start_listener(&lirc_unix, &v, v.cfg.lirc_socket, 1, "LIRC", serve_lirc)) ||
        (strcmp(v.cfg.video_listen, "none") &&
         start_listener(&video, &v, v.cfg.video_listen, 0, "video (MJPEG over HTTP)",
                        serve_video)) ||
        (v.cfg.video_socket && start_listener(&video_unix, &v, v.cfg.video_socket, 1,
                                              "video (bare MJPEG)", stream_mjpeg)))
        goto cleanup;
    if (pthread_create(&repeater, NULL, repeat_thread, &v))
        goto cleanup;
    repeating = 1;
    sf_info("stbfarm-vstb ready: remote '%s', %dx%d at %ld fps", v.cfg.remote, VSTB_WIDTH,
            VSTB_HEIGHT, v.cfg.fps);
    sf_stop_wait(&sigs);
    rc = 0;
cleanup:
    stop_listener(&lirc);
    stop_listener(&lirc_unix);
    stop_listener(&video);
    stop_listener(&video_unix);
    pthread_mutex_lock(&v.lock);
    v.stopping = 1;
    for (size_t i = 0; i < sizeof(v.fds) / sizeof(v.fds[0]); i++) {
        if (v.fds[i] >= 0)
            shutdown(v.fds[i], SHUT_RDWR);
    }
    pthread_cond_broadcast(&v.changed);
    while (v.connections > 0)
        pthread_cond_wait(&v.changed, &v.lock);
    pthread_mutex_unlock(&v.lock);
    if (repeating)
        pthread_join(repeater, NULL);
    pthread_mutex_lock(&v.lock);
    pthread_cond_broadcast(&v.dirty);
    pthread_mutex_unlock(&v.lock);
    if (encoding)
        pthread_join(encoder, NULL);
    if (v.key_log >= 0)
        close(v.key_log);
    if (v.cfg.lirc_socket && lirc_unix.running)
        unlink(v.cfg.lirc_socket);
    if (v.cfg.video_socket && video_unix.running)
        unlink(v.cfg.video_socket);
    encoder_close(&v);
    return rc;
}
