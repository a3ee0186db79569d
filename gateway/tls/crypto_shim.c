/* libstbfarm-civetweb-crypto.so: SONAME "libcrypto.so", depending on libcrypto.so.3, for
 * civetweb's dlopen("libcrypto.so") (see ssl_shim.c). It defines nothing civetweb looks up;
 * without it civetweb would need the libssl-dev symlink on every machine that runs a gateway. */
int sf_civetweb_crypto_shim;
