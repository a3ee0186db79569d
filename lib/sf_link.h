/* sf_link.h - how one stbfarm process reaches another over nng: which URLs it may use, and
 * mutual TLS on the links that leave a host.
 *
 * Three kinds of link:
 *   ipc:///path            one host; the file's permissions guard it. Always allowed.
 *   tcp://host:port        plain TCP: only to a loopback address (127.0.0.0/8, ::1, localhost),
 *                          unless the process was started with --insecure.
 *   tls+tcp://host:port    mutual TLS 1.2: both ends show a certificate and check the other's.
 *
 * TLS proves a peer's role, not its name (nng 1.5 cannot tell which certificate a peer showed):
 * the farm has one certificate authority per role, and each end trusts only the authorities of
 * the roles it accepts. Farm processes (broker, services, gateway, admin tool) hold certificates
 * of the farm CA, node agents certificates of the agent CA. The broker accepts both; an agent's
 * listener accepts only the farm CA, so that nothing but the farm can call an agent; callers of
 * an agent accept only the agent CA. A node's own identity travels inside its requests
 * (services/nodes: its enrolment secret).
 *
 * A process's credential is one directory (--tls-dir, made by `./stbfarm ca init` and `./stbfarm
 * node enroll`): cert.pem and key.pem (its own; key.pem must not be readable by group or
 * others), farm-ca.pem, agent-ca.pem where the process talks to agents, and credential (mode
 * 600 too): the secret every request of the process carries (lib/sf_caller.h).
 *
 * sf_link_setup is called once by main before any link opens; the TLS configurations it loads
 * are the process's own, held until it exits. Without it, only ipc:// and loopback tcp:// open. */
#ifndef SF_LINK_H
#define SF_LINK_H

#include "sf_err.h"

#include <nng/nng.h>

typedef struct sf_link_config {
    const char *tls_dir; /* NULL: no TLS credential (tls+tcp:// links refused) */
    int insecure;        /* allow plain tcp:// to addresses beyond loopback */
} sf_link_config;

/* The flags of every process that opens links (sf_config.h's sf_option entries). */
#define SF_LINK_OPTIONS(l)                                                                         \
    {"tls-dir",                                                                                    \
     "STBF_TLS_DIR",                                                                               \
     SF_OPT_STR,                                                                                   \
     NULL,                                                                                         \
     "this process's TLS credential for tls+tcp:// links (cert.pem, key.pem, farm-ca.pem, "        \
     "agent-ca.pem)",                                                                              \
     &(l)->tls_dir},                                                                               \
    {                                                                                              \
        "insecure", "STBF_INSECURE", SF_OPT_BOOL, "false",                                         \
            "allow plain tcp:// beyond loopback: no encryption, anyone who reaches it is trusted", \
            &(l)->insecure                                                                         \
    }

/* The roles a link's far end may have: a bit set. */
enum { SF_PEER_FARM = 1, SF_PEER_AGENT = 2 };

/* Load the credential in cfg->tls_dir (when set) and remember cfg->insecure. Returns 0, or
 * SF_EINVAL naming the missing or unreadable file, or a key readable by others. */
int sf_link_setup(const sf_link_config *cfg, sf_error *err);

/* The credential this process's requests carry ("farm:<secret>" or "node:<id>:<secret>"), or
 * NULL when it has none. */
const char *sf_link_credential(void);

/* Whether this process links over TLS (it was given --tls-dir): then the farm takes calls only
 * with a credential. */
int sf_link_secured(void);

/* sf_link_setup for main(), and a check of the broker base URL(s) the process links to (or
 * listens on): 0, or 2 (a usage error, the exit status) after printing why to stderr. */
int sf_link_start(const char *program, const sf_link_config *cfg, const char *brokers);

/* Whether url may be used as set up: 0, or SF_EINVAL saying why not (plain tcp:// beyond
 * loopback without --insecure, tls+tcp:// without a credential, an unknown scheme). */
int sf_link_check(const char *url, sf_error *err);

/* Dial url from s in the background (a peer that is down now is reached when it comes up),
 * expecting a peer of one of the roles in peers when the link is TLS. */
int sf_link_dial(nng_socket s, const char *url, unsigned peers, sf_error *err);

/* As sf_link_dial, but only create the dialer (its TLS configured): the caller starts it with
 * nng_dialer_start(*out, NNG_FLAG_NONBLOCK), and closes it on failure to start. For callers
 * that watch their dialers and make them anew (sf_rpc.c). */
int sf_link_dialer(nng_socket s, const char *url, unsigned peers, nng_dialer *out, sf_error *err);

/* Listen on url with s, accepting over TLS only peers of the roles in peers. */
int sf_link_listen(nng_socket s, const char *url, unsigned peers, sf_error *err);

#endif
