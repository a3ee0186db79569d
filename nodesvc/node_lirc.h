/* node_lirc.h - sending infrared key presses through a LIRC daemon (lircd with an IR blaster,
 * or stbfarm-vstb), over its socket protocol (lib/sf_lirc.h). */
#ifndef NODE_LIRC_H
#define NODE_LIRC_H

#include "sf_err.h"

/* Send "<directive> <remote> <key>" (SEND_ONCE, SEND_START or SEND_STOP) to the daemon at
 * address: "host:port" or "tcp://host:port" for TCP, or a unix socket path
 * ("/var/run/lirc/lircd"). Returns 0 once the daemon answered SUCCESS; SF_EINVAL with the
 * daemon's message when it answered ERROR (an unknown remote or key); SF_EUNAVAIL when it cannot
 * be reached or does not answer within timeout_ms. */
int node_lirc_send(const char *address, const char *directive, const char *remote, const char *key,
                   int timeout_ms, sf_error *err);

/* A connection to a LIRC daemon kept open from one command to the next: a key press then costs
 * one round trip, not a connection (and, in lircd or the vstb, a new client). Not thread-safe:
 * one caller at a time. */
typedef struct node_lirc node_lirc;

/* A connection to address, made on the first command. */
int node_lirc_open(node_lirc **out, const char *address, sf_error *err);

/* As node_lirc_send, on the kept connection. A connection the daemon closed since the last
 * command is made again before sending; one that fails once the command is sent is dropped and
 * the command fails (it may have been carried out: it is never sent twice). */
int node_lirc_command(node_lirc *l, const char *directive, const char *remote, const char *key,
                      int timeout_ms, sf_error *err);

void node_lirc_close(node_lirc *l);

#endif
