#include "sf_crypto.h"

#include "sf_err.h"

#include <errno.h>
#include <stdlib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sys/random.h>
#include <unistd.h>

int sf_random_bytes(void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom((char *)buf + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return SF_EINTERNAL;
        }
        got += (size_t)r;
    }
    return 0;
}

void sf_hex(const void *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = in;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

size_t sf_base64url(const void *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *p = in;
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = a[v >> 18];
        out[o++] = a[v >> 12 & 63];
        out[o++] = a[v >> 6 & 63];
        out[o++] = a[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[o++] = a[v >> 18];
        out[o++] = a[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = a[v >> 18];
        out[o++] = a[v >> 12 & 63];
        out[o++] = a[v >> 6 & 63];
    }
    out[o] = '\0';
    return o;
}

/* OpenSSL 3 looks a digest up by name on every use of EVP_sha256() and friends (a hash table
 * behind a lock); fetched once here, each is used for the life of the process. */
enum { SHA256, SHA1, MD5, N_DIGESTS };
static EVP_MD *digests[N_DIGESTS];
static pthread_once_t digests_once = PTHREAD_ONCE_INIT;

static void fetch_digests(void)
{
    digests[SHA256] = EVP_MD_fetch(NULL, "SHA256", NULL);
    digests[SHA1] = EVP_MD_fetch(NULL, "SHA1", NULL);
    digests[MD5] = EVP_MD_fetch(NULL, "MD5", NULL);
}

/* The digest, or its implicitly fetched version when the fetch failed. */
static const EVP_MD *digest(int which)
{
    pthread_once(&digests_once, fetch_digests);
    if (digests[which])
        return digests[which];
    return which == SHA256 ? EVP_sha256() : which == SHA1 ? EVP_sha1() : EVP_md5();
}

static void digest_hex(const EVP_MD *md, const void *data, size_t n, char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data, n, d, &len, md, NULL);
    sf_hex(d, len, out);
}

void sf_sha256_hex(const void *data, size_t n, char out[65])
{
    digest_hex(digest(SHA256), data, n, out);
}

void sf_sha1_hex(const void *data, size_t n, char out[41])
{
    digest_hex(digest(SHA1), data, n, out);
}

int sf_md5_fd_hex(int fd, char out[33], uint64_t *size)
{
    enum { BLOCK = 1 << 20 };
    unsigned char *buf = malloc(BLOCK), d[EVP_MAX_MD_SIZE];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    uint64_t total = 0;
    int rc = SF_EINTERNAL;
    if (!buf || !ctx || !EVP_DigestInit_ex(ctx, digest(MD5), NULL))
        goto cleanup;
    for (;;) {
        ssize_t n = read(fd, buf, BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto cleanup;
        if (n == 0)
            break;
        EVP_DigestUpdate(ctx, buf, (size_t)n);
        total += (uint64_t)n;
    }
    EVP_DigestFinal_ex(ctx, d, &len);
    sf_hex(d, len, out);
    *size = total;
    rc = 0;
cleanup:
    EVP_MD_CTX_free(ctx);
    free(buf);
    return rc;
}

int sf_consttime_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void sf_random_hex(size_t nbytes, char *out)
{
    unsigned char b[32];
    if (nbytes > sizeof(b))
        nbytes = sizeof(b);
    if (sf_random_bytes(b, nbytes))
        abort(); /* no entropy: nothing stbfarm makes would be safe */
    sf_hex(b, nbytes, out);
}
