/* sf_log.h - levelled logging to stderr, one line per call, written whole so that lines from
 * many threads never interleave. The process sets its name and level once at start
 * (sf_log_init). Lines logged by the thousand per second (the gateway's access log) can be
 * batched: sf_log_batched buffers them and a background thread writes them out every 50 ms. */
#ifndef SF_LOG_H
#define SF_LOG_H

typedef enum { SF_LOG_DEBUG, SF_LOG_INFO, SF_LOG_WARN, SF_LOG_ERROR } sf_log_level;

void sf_log_init(const char *program, sf_log_level level);

/* Parse "debug", "info", "warn" or "error". Returns 0, or SF_EINVAL for anything else. */
int sf_log_level_parse(const char *text, sf_log_level *out);

int sf_log_enabled(sf_log_level level);

void sf_log(sf_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* As sf_log, but the line waits in a buffer (64 KiB) that is written out every 50 ms, when it
 * fills, before any sf_log line (so lines stay in order) and at exit. A process that crashes
 * loses at most the last 50 ms of batched lines. */
void sf_log_batched(sf_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Write out the batched lines now. */
void sf_log_flush(void);

#define sf_debug(...) sf_log(SF_LOG_DEBUG, __VA_ARGS__)
#define sf_info(...)  sf_log(SF_LOG_INFO, __VA_ARGS__)
#define sf_warn(...)  sf_log(SF_LOG_WARN, __VA_ARGS__)
#define sf_error(...) sf_log(SF_LOG_ERROR, __VA_ARGS__)

#endif
