/* node_exec.h - running one test process: spawned in its own process group, its stdout and
 * stderr read as they come (each chunk with the time it arrived), stopped by a timeout or on
 * request, the whole group killed so that no child it started outlives it. */
#ifndef NODE_EXEC_H
#define NODE_EXEC_H

#include "sf_buf.h"
#include "sf_err.h"

#include <stddef.h>
#include <stdint.h>

enum { NODE_EXEC_STDOUT = 1, NODE_EXEC_STDERR = 2 };

typedef struct node_exec_opts {
    char *const *argv;
    char *const *envp;
    const char *cwd;
    int timeout_ms; /* 0: none */
    int stop_fd;    /* readable: stop now (-1: none) */
    /* Called on this thread for every chunk the process writes. */
    void (*output)(void *arg, int stream, int64_t time_us, const char *data, size_t len);
    /* Called on this thread at least every tick_ms while the process runs (NULL: never), so
     * that output held back can go on when the process falls silent. */
    void (*tick)(void *arg);
    int tick_ms;
    void *arg;
} node_exec_opts;

typedef struct node_exec_result {
    int exited; /* exit status is valid */
    int status; /* exit status, or the signal that ended it */
    int timed_out;
    int stopped; /* ended because stop_fd became readable */
} node_exec_result;

/* Run to the end. Returns 0 with *res, or SF_EINTERNAL when the process could not start. */
int node_exec_run(const node_exec_opts *o, node_exec_result *res, sf_error *err);

/* Splits a byte stream into lines: feed chunks, get each complete line (without its '\n');
 * flush gives a last line that had no '\n'. */
typedef struct node_lines {
    sf_buf buf; /* the line so far */
} node_lines;

void node_lines_feed(node_lines *l, const char *data, size_t len,
                     void (*line)(void *arg, const char *text, size_t len), void *arg);
void node_lines_flush(node_lines *l, void (*line)(void *arg, const char *text, size_t len),
                      void *arg);
void node_lines_free(node_lines *l);

#endif
