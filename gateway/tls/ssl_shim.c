/* libstbfarm-civetweb-ssl.so: what Debian 12's civetweb (1.15, built for the OpenSSL 1.1 API and
 * loading libssl.so with dlopen) needs to find in OpenSSL 3. Its SONAME is "libssl.so": the
 * gateway loads it by path before civetweb starts TLS, and civetweb's dlopen("libssl.so") then
 * finds it among the loaded objects. Every other symbol civetweb looks up comes from
 * libssl.so.3, which this depends on. No OpenSSL header: ssl.h would define the old name as the
 * new one. */
typedef struct ssl_st SSL;
typedef struct x509_st X509;

X509 *SSL_get1_peer_certificate(const SSL *s);
X509 *SSL_get_peer_certificate(const SSL *s);

/* OpenSSL 3 renamed it: the same function (the caller owns a reference) under its new name */
X509 *SSL_get_peer_certificate(const SSL *s)
{
    return SSL_get1_peer_certificate(s);
}
