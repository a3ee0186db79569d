#include "sf_link.h"

#include "sf_broker.h"

#include <arpa/inet.h>
#include <nng/supplemental/tls/tls.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

enum { N_MASKS = 4, MAX_PEM = 64 * 1024 };

/* The process's link settings, set once by sf_link_setup before any link opens and read-only
 * after: indexed by the peer-role mask, a client and a server configuration each. */
static struct {
    int insecure;
    char dir[256];
    char *credential;
    nng_tls_config *client[N_MASKS], *server[N_MASKS];
} link_state;

static int read_file(const char *dir, const char *name, int secret, char **out, sf_error *err)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return sf_fail(err, SF_EINVAL, "TLS credential: cannot open %s", path);
    int rc = 0;
    struct stat st;
    char *buf = NULL;
    if (fstat(fileno(f), &st) || st.st_size <= 0 || st.st_size > MAX_PEM) {
        rc = sf_fail(err, SF_EINVAL, "TLS credential: %s is empty or too large", path);
        goto cleanup;
    }
    /* a private key anyone else can read is no longer this process's alone */
    if (secret && (st.st_mode & 077)) {
        rc = sf_fail(err, SF_EINVAL, "TLS credential: %s is readable by others (chmod 600 it)",
                     path);
        goto cleanup;
    }
    if (!(buf = malloc((size_t)st.st_size + 1))) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto cleanup;
    }
    if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        rc = sf_fail(err, SF_EINVAL, "TLS credential: cannot read %s", path);
        goto cleanup;
    }
    buf[st.st_size] = '\0';
    *out = buf;
    buf = NULL;
cleanup:
    if (buf) {
        OPENSSL_cleanse(buf, (size_t)st.st_size);
        free(buf);
    }
    fclose(f);
    return rc;
}

/* One configuration: our certificate and key, the authorities of the roles in mask, and the
 * peer's certificate required in both directions (a listener's default in nng is none). */
static int make_config(nng_tls_config **out, nng_tls_mode mode, unsigned mask, const char *cert,
                       const char *key, const char *farm_ca, const char *agent_ca, sf_error *err)
{
    nng_tls_config *cfg;
    int nrv = nng_tls_config_alloc(&cfg, mode);
    if (nrv)
        return sf_fail(err, SF_EINTERNAL, "TLS: %s", nng_strerror(nrv));
    if (!(nrv = nng_tls_config_version(cfg, NNG_TLS_1_2, NNG_TLS_1_2)) &&
        !(nrv = nng_tls_config_own_cert(cfg, cert, key, NULL)) &&
        !(nrv = (mask & SF_PEER_FARM) ? nng_tls_config_ca_chain(cfg, farm_ca, NULL) : 0) &&
        !(nrv = (mask & SF_PEER_AGENT) ? nng_tls_config_ca_chain(cfg, agent_ca, NULL) : 0))
        nrv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED);
    if (nrv) {
        nng_tls_config_free(cfg);
        return sf_fail(err, SF_EINVAL, "TLS credential in %s: %s", link_state.dir,
                       nng_strerror(nrv));
    }
    *out = cfg;
    return 0;
}

int sf_link_setup(const sf_link_config *cfg, sf_error *err)
{
    link_state.insecure = cfg->insecure;
    if (!cfg->tls_dir)
        return 0;
    if (strlen(cfg->tls_dir) >= sizeof(link_state.dir))
        return sf_fail(err, SF_EINVAL, "--tls-dir is too long");
    snprintf(link_state.dir, sizeof(link_state.dir), "%s", cfg->tls_dir);
    char *cert = NULL, *key = NULL, *farm_ca = NULL, *agent_ca = NULL;
    int rc;
    if ((rc = read_file(cfg->tls_dir, "cert.pem", 0, &cert, err)) ||
        (rc = read_file(cfg->tls_dir, "key.pem", 1, &key, err)) ||
        (rc = read_file(cfg->tls_dir, "farm-ca.pem", 0, &farm_ca, err)))
        goto cleanup;
    sf_error ignored = SF_ERROR_INIT;
    if (read_file(cfg->tls_dir, "agent-ca.pem", 0, &agent_ca, &ignored))
        agent_ca = NULL; /* a node agent's credential has none: it never calls an agent */
    if ((rc = read_file(cfg->tls_dir, "credential", 1, &link_state.credential, err)))
        goto cleanup;
    link_state.credential[strcspn(link_state.credential, "\r\n")] = '\0';
    for (unsigned mask = 1; mask < N_MASKS && !rc; mask++) {
        if ((mask & SF_PEER_AGENT) && !agent_ca)
            continue;
        if (!(rc = make_config(&link_state.client[mask], NNG_TLS_MODE_CLIENT, mask, cert, key,
                               farm_ca, agent_ca, err)))
            rc = make_config(&link_state.server[mask], NNG_TLS_MODE_SERVER, mask, cert, key,
                             farm_ca, agent_ca, err);
    }
cleanup:
    if (key) {
        OPENSSL_cleanse(key, strlen(key));
        free(key);
    }
    free(cert);
    free(farm_ca);
    free(agent_ca);
    return rc;
}

const char *sf_link_credential(void)
{
    return link_state.credential;
}

int sf_link_secured(void)
{
    return link_state.dir[0] != '\0';
}

/* Whether the host of a tcp:// URL is a loopback address; "", "*" and 0.0.0.0 are every
 * interface, so not. */
static int is_loopback(const char *hostport)
{
    char host[256];
    const char *end;
    if (hostport[0] == '[') {
        hostport++;
        end = strchr(hostport, ']');
    } else {
        end = strrchr(hostport, ':');
    }
    if (!end || (size_t)(end - hostport) >= sizeof(host))
        return 0;
    memcpy(host, hostport, (size_t)(end - hostport));
    host[end - hostport] = '\0';
    if (!strcasecmp(host, "localhost"))
        return 1;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return 0;
}

static int starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

int sf_link_check(const char *url, sf_error *err)
{
    if (starts(url, "ipc://") || starts(url, "inproc://"))
        return 0;
    if (starts(url, "tls+tcp://")) {
        if (!link_state.dir[0])
            return sf_fail(err, SF_EINVAL, "%s is a TLS link: give this process --tls-dir", url);
        return 0;
    }
    if (starts(url, "tcp://")) {
        if (link_state.insecure || is_loopback(url + 6))
            return 0;
        return sf_fail(err, SF_EINVAL,
                       "%s is plain TCP beyond this host: use tls+tcp:// (or --insecure on a "
                       "network you trust)",
                       url);
    }
    return sf_fail(err, SF_EINVAL, "%s: links are ipc://, tcp:// or tls+tcp://", url);
}

static nng_tls_config *config_for(const char *url, nng_tls_config *const *table, unsigned peers,
                                  int *rc, sf_error *err)
{
    *rc = 0;
    if (!starts(url, "tls+tcp://"))
        return NULL;
    nng_tls_config *cfg = peers < N_MASKS ? table[peers] : NULL;
    if (!cfg)
        *rc = sf_fail(err, SF_EINVAL, "%s: the TLS credential in %s has no agent-ca.pem", url,
                      link_state.dir);
    return cfg;
}

int sf_link_dialer(nng_socket s, const char *url, unsigned peers, nng_dialer *out, sf_error *err)
{
    int rc = sf_link_check(url, err);
    if (rc)
        return rc;
    nng_tls_config *tls = config_for(url, link_state.client, peers, &rc, err);
    if (rc)
        return rc;
    nng_dialer d;
    int nrv = nng_dialer_create(&d, s, url);
    if (nrv)
        return sf_fail(err, SF_EINVAL, "cannot dial %s: %s", url, nng_strerror(nrv));
    if (tls && (nrv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tls))) {
        nng_dialer_close(d);
        return sf_fail(err, SF_EINVAL, "cannot dial %s: %s", url, nng_strerror(nrv));
    }
    *out = d;
    return 0;
}

int sf_link_dial(nng_socket s, const char *url, unsigned peers, sf_error *err)
{
    nng_dialer d;
    int rc = sf_link_dialer(s, url, peers, &d, err);
    if (rc)
        return rc;
    /* NONBLOCK: a peer that is down now is dialled again in the background */
    int nrv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
    if (nrv) {
        nng_dialer_close(d);
        return sf_fail(err, SF_EINVAL, "cannot dial %s: %s", url, nng_strerror(nrv));
    }
    return 0;
}

int sf_link_listen(nng_socket s, const char *url, unsigned peers, sf_error *err)
{
    int rc = sf_link_check(url, err);
    if (rc)
        return rc;
    nng_tls_config *tls = config_for(url, link_state.server, peers, &rc, err);
    if (rc)
        return rc;
    nng_listener l;
    int nrv = nng_listener_create(&l, s, url);
    if (nrv)
        return sf_fail(err, SF_EUNAVAIL, "cannot listen on %s: %s", url, nng_strerror(nrv));
    if (tls)
        nrv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, tls);
    if (!nrv)
        nrv = nng_listener_start(l, 0);
    if (nrv) {
        nng_listener_close(l);
        return sf_fail(err, SF_EUNAVAIL, "cannot listen on %s: %s", url, nng_strerror(nrv));
    }
    return 0;
}

static int check_broker(const char *base, void *arg)
{
    char url[512];
    int rc = sf_broker_url(base, SF_SVC_NODES, SF_BROKER_FRONT, url, sizeof(url), arg);
    return rc ? rc : sf_link_check(base, arg);
}

int sf_link_start(const char *program, const sf_link_config *cfg, const char *brokers)
{
    sf_error err = SF_ERROR_INIT;
    int rc = sf_link_setup(cfg, &err);
    if (!rc && (!brokers || !*brokers))
        rc = sf_fail(&err, SF_EINVAL, "no broker address given");
    if (!rc && (rc = sf_broker_each(brokers, check_broker, &err)) && !err.msg[0])
        sf_fail(&err, rc, "a broker address in '%s' is too long", brokers);
    if (rc)
        fprintf(stderr, "%s: %s\n", program, err.msg);
    return rc ? 2 : 0;
}
