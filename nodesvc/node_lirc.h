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

#endif
