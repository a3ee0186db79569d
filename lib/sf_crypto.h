/* sf_crypto.h - randomness, digests and encodings: the small pieces tokens, ids and artifact
 * checksums are made of. */
#ifndef SF_CRYPTO_H
#define SF_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* Fill buf with n bytes from the kernel's CSPRNG. Returns 0 or SF_EINTERNAL. */
int sf_random_bytes(void *buf, size_t n);

/* Lower-case hex of n bytes into out, which holds 2n+1. */
void sf_hex(const void *in, size_t n, char *out);

/* URL-safe base64 without padding into out, which holds 4*ceil(n/3)+1. Returns the length. */
size_t sf_base64url(const void *in, size_t n, char *out);

void sf_sha256_hex(const void *data, size_t n, char out[65]);
void sf_sha1_hex(const void *data, size_t n, char out[41]);

/* The MD5 (hex) and size of what remains to be read from the open file fd, read to its end:
 * the artifact checksums the stbt-rig client compares. Returns 0, or SF_EINTERNAL on a read
 * error (errno says which). */
int sf_md5_fd_hex(int fd, char out[33], uint64_t *size);

/* 1 when the n bytes of a and b are equal; the time taken depends only on n. */
int sf_consttime_equal(const void *a, const void *b, size_t n);

/* A random identifier of 2*nbytes hex characters (nbytes <= 32) into out. */
void sf_random_hex(size_t nbytes, char *out);

#endif
