#include "sf_run.h"

#include "sf_crypto.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void sf_run_upload_id(const char *job_uid, int64_t seq, char *out)
{
    char id[256];
    int n = snprintf(id, sizeof(id), "%s-%lld", job_uid + (*job_uid == '/'), (long long)seq);
    int ok = n >= 8 && n <= SF_UPLOAD_ID_MAX;
    for (int i = 0; ok && i < n; i++) {
        if (id[i] == '/')
            id[i] = '-';
        ok = isalnum((unsigned char)id[i]) || id[i] == '-' || id[i] == '_';
    }
    if (ok) {
        memcpy(out, id, (size_t)n + 1);
        return;
    }
    char seed[300], digest[65];
    snprintf(seed, sizeof(seed), "%.250s\n%lld", job_uid, (long long)seq);
    sf_sha256_hex(seed, strlen(seed), digest);
    snprintf(out, SF_UPLOAD_ID_MAX + 1, "run-%.40s", digest);
}
