/* The ring of frames a job's tests read (node_frames.h), read here as _agent.py reads it: from
 * a read-only mapping of the memfd the agent shares, by the layout the header documents. The
 * video is libav's lavfi test source, played at its rate. */
#include "node_capture.h"
#include "node_frames.h"
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef struct reader {
    uint8_t *map;
    size_t size;
} reader;

static uint64_t u64(const reader *r, size_t at)
{
    uint64_t v;
    memcpy(&v, r->map + at, sizeof(v));
    return v;
}

static uint32_t u32(const reader *r, size_t at)
{
    uint32_t v;
    memcpy(&v, r->map + at, sizeof(v));
    return v;
}

static int open_reader(node_frames *f, reader *r)
{
    int fd;
    if (node_frames_share(f, &fd, &r->size, NULL))
        return -1;
    r->map = mmap(NULL, r->size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    return r->map == MAP_FAILED ? -1 : 0;
}

static size_t slot_at(const reader *r, uint64_t seq)
{
    return NODE_FRAMES_HEADER + (size_t)(seq % u32(r, 8)) * (size_t)u64(r, 16);
}

/* libav's lavfi graph as the video, and a ring of its frames. */
typedef struct video {
    node_capture *cap;
    node_frames *f;
} video;

static video start(const char *graph, int lost_after_ms, int slots)
{
    video v = {NULL, NULL};
    node_capture_opts co = {graph, "lavfi", NULL, lost_after_ms};
    CHECK(node_capture_start(&v.cap, &co, NULL) == 0);
    node_frames_opts fo = {v.cap, slots};
    CHECK(node_frames_start(&v.f, &fo, NULL) == 0);
    return v;
}

static void stop(video *v)
{
    node_frames_stop(v->f);
    node_capture_stop(v->cap);
}

/* Every frame in order, each whole in its slot: BGR rows of the test pattern's size. */
static void test_every_frame_is_in_the_ring_in_order(void)
{
    video v = start("testsrc=size=320x240:rate=50", 2000, 8);
    node_frames *f = v.f;
    uint64_t newest = 0, first = 0;
    CHECK(node_frames_wait(f, 0, 5000, &first, NULL) == 0 && first > 0);
    reader r;
    CHECK(open_reader(f, &r) == 0);
    CHECK(!memcmp(r.map, "SFRING01", 8) && u32(&r, 8) == 8 && u32(&r, 12) == 2000);
    CHECK(u32(&r, 40) == 0); /* 320x240 fits a ring made for 720p: not replaced */
    int whole = 1, in_order = 1;
    for (uint64_t seq = first + 1; seq <= first + 20; seq++) {
        CHECK(node_frames_wait(f, seq - 1, 5000, &newest, NULL) == 0 && newest >= seq);
        size_t at = slot_at(&r, seq);
        in_order &= u64(&r, at) == seq;
        whole &= u32(&r, at + 8) == 320 && u32(&r, at + 12) == 240 && u32(&r, at + 16) >= 960;
        int64_t t;
        memcpy(&t, r.map + at + 24, sizeof(t));
        whole &= llabs(t / 1000000 - (int64_t)time(NULL)) <= 2;
    }
    CHECK(whole && in_order);
    /* the newest is always there at once */
    CHECK(node_frames_wait(f, 0, 0, &newest, NULL) == 0 && newest >= first + 20);
    munmap(r.map, r.size);
    stop(&v);
}

/* A reader can neither write the frames nor resize them. */
static void test_readers_cannot_write_or_resize_the_ring(void)
{
    video v = start("testsrc=size=160x120:rate=25", 2000, 4);
    node_frames *f = v.f;
    int fd;
    size_t size;
    CHECK(node_frames_share(f, &fd, &size, NULL) == 0);
    CHECK(mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED);
    CHECK(ftruncate(fd, (off_t)size / 2) != 0 && ftruncate(fd, (off_t)size * 2) != 0);
    CHECK(fcntl(fd, F_GET_SEALS) & F_SEAL_SEAL);
    close(fd);
    stop(&v);
}

/* Frames bigger than the ring was made for go to a new, bigger ring; the old one says so. */
static void test_frames_that_outgrow_the_ring_go_to_a_new_one(void)
{
    video v = start("testsrc=size=1920x1080:rate=25", 2000, 3);
    node_frames *f = v.f;
    reader before;
    CHECK(open_reader(f, &before) == 0);
    uint64_t newest;
    CHECK(node_frames_wait(f, 0, 5000, &newest, NULL) == 0);
    CHECK(node_frames_wait(f, newest, 5000, &newest, NULL) == 0);
    reader after;
    CHECK(open_reader(f, &after) == 0);
    CHECK(u64(&after, 24) >= 1920 * 3 * 1080 && u32(&after, 40) == 0);
    size_t at = slot_at(&after, newest);
    CHECK(u32(&after, at + 8) == 1920 && u32(&after, at + 12) == 1080);
    /* made before the first frame came, the first ring was for 720p and has been replaced;
     * made after, it was for 1080p from the start */
    CHECK(before.size == after.size ? u32(&before, 40) == 0 : u32(&before, 40) == 1);
    munmap(before.map, before.size);
    munmap(after.map, after.size);
    stop(&v);
}

/* Once no frame came for the capture's lost_after_ms, waiting says so, whatever the ring still
 * holds. Here a frame comes every 2 s, lost after 300 ms. */
static void test_waiting_on_lost_video_is_an_error(void)
{
    video v = start("testsrc=size=160x120:rate=0.5", 300, 4);
    node_frames *f = v.f;
    uint64_t newest;
    CHECK(node_frames_wait(f, 0, 5000, &newest, NULL) == 0);
    CHECK(node_frames_wait(f, newest, 3000, &newest, NULL) == 0); /* just came */
    struct timespec ts = {0, 700 * 1000 * 1000};
    nanosleep(&ts, NULL);
    sf_error err = SF_ERROR_INIT;
    CHECK(node_frames_wait(f, 0, 100, &newest, &err) == SF_EUNAVAIL);
    CHECK(strstr(err.msg, "no video") != NULL);
    CHECK(node_frames_wait(f, newest, 100, &newest, &err) == SF_EUNAVAIL);
    stop(&v);
}

int main(void)
{
    RUN(test_every_frame_is_in_the_ring_in_order);
    RUN(test_readers_cannot_write_or_resize_the_ring);
    RUN(test_frames_that_outgrow_the_ring_go_to_a_new_one);
    RUN(test_waiting_on_lost_video_is_an_error);
    return TEST_EXIT();
}
