#include "node_frames.h"

#include "node_image.h"
#include "sf_log.h"
#include "sf_time.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAGIC "SFRING01"

enum { ROW_ALIGN = 64, PAGE = 4096, FIRST_WIDTH = 1280, FIRST_HEIGHT = 720 };

typedef struct ring_header {
    char magic[8];
    uint32_t slots;
    uint32_t lost_after_ms;
    uint64_t slot_bytes;
    uint64_t pixel_bytes;
    _Atomic uint64_t newest;
    _Atomic uint32_t replaced;
} ring_header;

typedef struct slot_header {
    _Atomic uint64_t seq;
    uint32_t width, height, stride, unused;
    int64_t time_us;
} slot_header;

/* _agent.py reads these offsets: node_frames.h is the contract */
_Static_assert(offsetof(ring_header, slots) == 8 && offsetof(ring_header, lost_after_ms) == 12 &&
                   offsetof(ring_header, slot_bytes) == 16 &&
                   offsetof(ring_header, pixel_bytes) == 24 &&
                   offsetof(ring_header, newest) == 32 && offsetof(ring_header, replaced) == 40,
               "ring header layout");
_Static_assert(offsetof(slot_header, width) == 8 && offsetof(slot_header, height) == 12 &&
                   offsetof(slot_header, stride) == 16 && offsetof(slot_header, time_us) == 24 &&
                   sizeof(slot_header) <= NODE_FRAMES_SLOT_HEADER,
               "slot header layout");

typedef struct ring {
    int fd;
    uint8_t *map;
    size_t size;
    ring_header *h;
} ring;

struct node_frames {
    node_frames_opts o;
    pthread_mutex_t lock; /* guards ring (the pointer; the writer also holds write_lock) */
    pthread_cond_t newer; /* a frame went into the ring */
    ring *ring;
    pthread_mutex_t write_lock; /* one writer at a time: the capture thread, or start */
    struct SwsContext *sws;     /* under write_lock */
    int put_failed;             /* logged once; under write_lock */
};

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

static void ring_free(ring *r)
{
    if (!r)
        return;
    if (r->map)
        munmap(r->map, r->size);
    if (r->fd >= 0)
        close(r->fd);
    free(r);
}

/* A new ring whose slots hold pixel_bytes of pixels each. The memfd is sealed: its size fixed,
 * and no mapping of it writable but ours (where the kernel has F_SEAL_FUTURE_WRITE). */
static int ring_new(const node_frames_opts *o, int lost_after_ms, size_t pixel_bytes, ring **out,
                    sf_error *err)
{
    ring *r = calloc(1, sizeof(*r));
    if (!r)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    size_t slot_bytes = round_up(NODE_FRAMES_SLOT_HEADER + pixel_bytes, PAGE);
    r->size = NODE_FRAMES_HEADER + (size_t)o->slots * slot_bytes;
    r->fd = memfd_create("stbfarm-frames", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (r->fd < 0 || ftruncate(r->fd, (off_t)r->size) ||
        (r->map = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0)) ==
            MAP_FAILED) {
        int e = errno;
        r->map = NULL;
        ring_free(r);
        return sf_fail(err, SF_EINTERNAL, "cannot make %zu bytes of shared memory for frames: %s",
                       (size_t)NODE_FRAMES_HEADER + (size_t)o->slots * slot_bytes, strerror(e));
    }
    const int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
    if (fcntl(r->fd, F_ADD_SEALS, seals | F_SEAL_FUTURE_WRITE) && fcntl(r->fd, F_ADD_SEALS, seals))
        sf_warn("cannot seal the frames' shared memory: %s", strerror(errno));
    r->h = (ring_header *)r->map;
    memcpy(r->h->magic, MAGIC, sizeof(r->h->magic));
    r->h->slots = (uint32_t)o->slots;
    r->h->lost_after_ms = (uint32_t)lost_after_ms;
    r->h->slot_bytes = slot_bytes;
    r->h->pixel_bytes = slot_bytes - NODE_FRAMES_SLOT_HEADER;
    *out = r;
    return 0;
}

/* Frame seq into its slot, a seqlock write. With write_lock held. */
static int put(node_frames *f, const AVFrame *frame, uint64_t seq, sf_error *err)
{
    ring *r = f->ring;
    if (seq <= atomic_load_explicit(&r->h->newest, memory_order_relaxed))
        return 0; /* start's first frame, older than what the capture thread put already */
    size_t stride = round_up((size_t)frame->width * 3, ROW_ALIGN);
    size_t need = stride * (size_t)frame->height;
    if (need > r->h->pixel_bytes) {
        /* frames outgrew the ring: readers find the new one through "replaced" */
        ring *bigger;
        int rc = ring_new(&f->o, (int)r->h->lost_after_ms, need, &bigger, err);
        if (rc)
            return rc;
        pthread_mutex_lock(&f->lock);
        f->ring = bigger;
        pthread_mutex_unlock(&f->lock);
        atomic_store_explicit(&r->h->replaced, 1, memory_order_release);
        sf_info("frames of %dx%d: a new ring of %zu bytes", frame->width, frame->height,
                bigger->size);
        ring_free(r);
        r = bigger;
    }
    uint8_t *at = r->map + NODE_FRAMES_HEADER + (size_t)(seq % r->h->slots) * r->h->slot_bytes;
    slot_header *s = (slot_header *)at;
    atomic_store_explicit(&s->seq, 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_release); /* no reader sees the old seq over new pixels */
    int rc = node_image_bgr(&f->sws, frame, at + NODE_FRAMES_SLOT_HEADER, (int)stride, err);
    if (rc)
        return rc; /* the slot stays empty */
    s->width = (uint32_t)frame->width;
    s->height = (uint32_t)frame->height;
    s->stride = (uint32_t)stride;
    s->time_us = frame->pts;
    atomic_store_explicit(&s->seq, seq, memory_order_release);
    atomic_store_explicit(&r->h->newest, seq, memory_order_release);
    pthread_mutex_lock(&f->lock);
    pthread_cond_broadcast(&f->newer);
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static void put_logged(node_frames *f, const AVFrame *frame, uint64_t seq)
{
    sf_error err = SF_ERROR_INIT;
    pthread_mutex_lock(&f->write_lock);
    if (put(f, frame, seq, &err) && !f->put_failed++)
        sf_error("frames for the stbt module: %s", err.msg);
    pthread_mutex_unlock(&f->write_lock);
}

/* The capture thread's sink: every frame, once. */
static void on_frame(void *arg, const AVFrame *frame, uint64_t seq)
{
    put_logged(arg, frame, seq);
}

int node_frames_start(node_frames **out, const node_frames_opts *opts, sf_error *err)
{
    if (opts->slots < 2)
        return sf_fail(err, SF_EINVAL, "a ring of frames needs 2 slots or more");
    node_frames *f = calloc(1, sizeof(*f));
    if (!f)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    f->o = *opts;
    pthread_mutex_init(&f->lock, NULL);
    pthread_mutex_init(&f->write_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->newer, &ca);
    pthread_condattr_destroy(&ca);
    node_capture_status st;
    node_capture_get_status(opts->cap, &st);
    size_t first = round_up((size_t)(st.width ? st.width : FIRST_WIDTH) * 3, ROW_ALIGN) *
                   (size_t)(st.height ? st.height : FIRST_HEIGHT);
    int rc = ring_new(opts, st.lost_after_ms, first, &f->ring, err);
    if (!rc)
        rc = node_capture_add_sink(opts->cap, on_frame, f, err);
    if (rc) {
        ring_free(f->ring);
        f->ring = NULL;
        node_frames_stop(f);
        return rc;
    }
    /* the newest frame at once, so that a test's first get_frame need not wait for the next */
    AVFrame *frame;
    uint64_t seq;
    if (node_capture_frame(opts->cap, &frame, &seq, NULL) == 0) {
        put_logged(f, frame, seq);
        av_frame_free(&frame);
    }
    *out = f;
    return 0;
}

void node_frames_stop(node_frames *f)
{
    if (!f)
        return;
    if (f->ring) /* started: the sink was added */
        node_capture_remove_sink(f->o.cap, on_frame, f);
    ring_free(f->ring);
    sws_freeContext(f->sws);
    pthread_cond_destroy(&f->newer);
    pthread_mutex_destroy(&f->write_lock);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

int node_frames_share(node_frames *f, int *fd, size_t *size, sf_error *err)
{
    pthread_mutex_lock(&f->lock);
    *fd = fcntl(f->ring->fd, F_DUPFD_CLOEXEC, 0);
    *size = f->ring->size;
    pthread_mutex_unlock(&f->lock);
    if (*fd < 0)
        return sf_fail(err, SF_EINTERNAL, "cannot share the frames: %s", strerror(errno));
    return 0;
}

int node_frames_wait(node_frames *f, uint64_t after, int timeout_ms, uint64_t *newest,
                     sf_error *err)
{
    struct timespec ts;
    sf_timespec_after(CLOCK_MONOTONIC, timeout_ms, &ts);
    pthread_mutex_lock(&f->lock);
    uint64_t n;
    while ((n = atomic_load(&f->ring->h->newest)) <= after) {
        if (pthread_cond_timedwait(&f->newer, &f->lock, &ts))
            break;
    }
    n = atomic_load(&f->ring->h->newest);
    pthread_mutex_unlock(&f->lock);
    node_capture_status st;
    node_capture_get_status(f->o.cap, &st);
    if (!st.ok)
        return sf_fail(err, SF_EUNAVAIL, "no video: %s", st.error);
    if (n <= after)
        return sf_fail(err, SF_EUNAVAIL, "no video: no new frame within %d ms", timeout_ms);
    *newest = n;
    return 0;
}
