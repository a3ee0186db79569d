#include "sf_log.h"

#include "sf_err.h"
#include "sf_time.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "stbfarm";
static sf_log_level log_level = SF_LOG_INFO;
static atomic_int log_pid; /* getpid() is a system call: asked once, and again after a fork */

/* Batched lines (sf_log_batched): a buffer a background thread writes out every BATCH_MS. */
enum { BATCH_BYTES = 64 * 1024, BATCH_MS = 50 };
static struct {
    pthread_mutex_t lock;
    size_t len;
    char buf[BATCH_BYTES];
} batch = {PTHREAD_MUTEX_INITIALIZER, 0, {0}};
static pthread_once_t batch_once = PTHREAD_ONCE_INIT;
static atomic_int batching; /* 1 once the writer thread runs; until then lines go out at once */

static void forked(void)
{
    atomic_store(&log_pid, (int)getpid());
}

void sf_log_init(const char *program, sf_log_level level)
{
    log_program = program;
    log_level = level;
    if (!atomic_exchange(&log_pid, (int)getpid()))
        pthread_atfork(NULL, NULL, forked);
}

int sf_log_level_parse(const char *text, sf_log_level *out)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(text, names[i]) == 0) {
            *out = (sf_log_level)i;
            return 0;
        }
    }
    return SF_EINVAL;
}

int sf_log_enabled(sf_log_level level)
{
    return level >= log_level;
}

static void write_all(const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* nowhere to log to */
        p += w;
        n -= (size_t)w;
    }
}

/* One line, newline included, into line (at least 2 bytes); returns its length. */
static size_t format_line(char *line, size_t size, sf_log_level level, const char *fmt, va_list ap)
{
    static const char *const tags[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    int pid = atomic_load(&log_pid);
    size_t n = sf_time_format(sf_now_us(), line, size, SF_TIME_ZULU);
    n += (size_t)snprintf(line + n, size - n, " %s[%d] %s ", log_program, pid ? pid : (int)getpid(),
                          tags[level]);
    if (n > size - 2)
        n = size - 2;
    int m = vsnprintf(line + n, size - n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    n += (size_t)m;
    if (n > size - 2)
        n = size - 2;
    line[n++] = '\n';
    return n;
}

static void flush_locked(void)
{
    write_all(batch.buf, batch.len);
    batch.len = 0;
}

void sf_log_flush(void)
{
    pthread_mutex_lock(&batch.lock);
    flush_locked();
    pthread_mutex_unlock(&batch.lock);
}

static void *batch_writer(void *arg)
{
    (void)arg;
    const struct timespec period = {0, BATCH_MS * 1000000L};
    for (;;) {
        nanosleep(&period, NULL);
        sf_log_flush();
    }
    return NULL;
}

static void batch_start(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, batch_writer, NULL))
        return; /* no writer thread: every line goes out at once */
    pthread_detach(t);
    atexit(sf_log_flush);
    atomic_store(&batching, 1);
}

/* Format one line and write it out, or (batched) add it to the batch. A line written out goes
 * after the batched lines logged before it. */
static void log_line(sf_log_level level, int batched, const char *fmt, va_list ap)
{
    char line[2048];
    size_t n = format_line(line, sizeof(line), level, fmt, ap);
    if (batched)
        pthread_once(&batch_once, batch_start);
    if (!atomic_load(&batching)) {
        write_all(line, n);
        return;
    }
    pthread_mutex_lock(&batch.lock);
    if (!batched || batch.len + n > sizeof(batch.buf))
        flush_locked();
    if (batched) {
        memcpy(batch.buf + batch.len, line, n);
        batch.len += n;
    } else {
        write_all(line, n);
    }
    pthread_mutex_unlock(&batch.lock);
}

void sf_log(sf_log_level level, const char *fmt, ...)
{
    if (level < log_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line(level, 0, fmt, ap);
    va_end(ap);
}

void sf_log_batched(sf_log_level level, const char *fmt, ...)
{
    if (level < log_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line(level, 1, fmt, ap);
    va_end(ap);
}
