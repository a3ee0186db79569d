/* HTTPS on the gateway: civetweb's TLS, with OpenSSL 3 under it (gateway/tls/ssl_shim.c). */
#include "gw.h"

#include "sf_log.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Load <the gateway's directory>/../lib/stbfarm/libstbfarm-civetweb-NAME.so. */
static int load_shim(const char *dir, const char *name, sf_error *err)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/../lib/stbfarm/libstbfarm-civetweb-%s.so", dir, name);
    if (!dlopen(path, RTLD_NOW | RTLD_GLOBAL))
        return sf_fail(err, SF_EINVAL, "cannot load %s: %s", path, dlerror());
    return 0;
}

int gw_tls_check_cert(const char *cert, sf_error *err)
{
    /* it must hold a certificate and a key (civetweb checks that they match when it starts) */
    FILE *f = fopen(cert, "r");
    if (!f)
        return sf_fail(err, SF_EINVAL, "--https-cert %s: cannot read it", cert);
    char line[128];
    int has_cert = 0, has_key = 0;
    while (fgets(line, sizeof(line), f)) {
        has_cert |= !strncmp(line, "-----BEGIN CERTIFICATE-----", 27);
        has_key |= !strncmp(line, "-----BEGIN ", 11) && strstr(line, "PRIVATE KEY-----") != NULL;
    }
    fclose(f);
    if (!has_cert || !has_key)
        return sf_fail(err, SF_EINVAL,
                       "--https-cert %s: it must hold the certificate (and its chain) and the "
                       "private key, in PEM",
                       cert);
    struct stat st;
    if (stat(cert, &st) || (st.st_mode & 077))
        return sf_fail(err, SF_EINVAL,
                       "--https-cert %s: its group or others can read its private key "
                       "(chmod 600 it)",
                       cert);
    return 0;
}

int gw_tls_init(const char *cert, sf_error *err)
{
    if (!cert || !*cert) {
        mg_init_library(0);
        return 0;
    }
    int rc = gw_tls_check_cert(cert, err);
    if (rc)
        return rc;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return sf_fail(err, SF_EINVAL, "cannot find the gateway's own directory");
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    rc = load_shim(exe, "crypto", err);
    if (!rc)
        rc = load_shim(exe, "ssl", err);
    if (rc)
        return rc;
    if (!(mg_init_library(MG_FEATURES_TLS) & MG_FEATURES_TLS))
        return sf_fail(err, SF_EINVAL, "civetweb could not load OpenSSL for HTTPS");
    return 0;
}
