/* sf_proc.h - what every stbfarm process does with the operating system the same way: its stop
 * signals, writing whole buffers to sockets, removing a directory tree. */
#ifndef SF_PROC_H
#define SF_PROC_H

#include <signal.h>
#include <stddef.h>

/* Block SIGINT and SIGTERM in the calling thread (call it first in main, so that every thread
 * started later inherits the mask and only sf_stop_wait sees them) and ignore SIGPIPE: a peer
 * that went away is an error return, not the death of the process. */
void sf_stop_block(sigset_t *set);

/* Wait for a stop signal, log it, and return it. From then on sf_stopping() is 1: the process
 * is on its way out. */
int sf_stop_wait(const sigset_t *set);
int sf_stopping(void);

/* Send all len bytes to the socket fd (retrying on EINTR, never raising SIGPIPE). 0, or -1 when
 * the peer went away. */
int sf_send_all(int fd, const void *data, size_t len);

/* Remove path and everything under it, following no symbolic link. Missing is fine. */
void sf_remove_tree(const char *path);

#endif
