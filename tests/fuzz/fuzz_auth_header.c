/* The Authorization header parser, and the digest of whatever it accepts. */
#include "fuzz.h"
#include "sf_token.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void one_input(const uint8_t *data, size_t size)
{
    char *header = malloc(size + 1);
    if (!header)
        return;
    memcpy(header, data, size);
    header[size] = '\0';
    const char *tok;
    size_t len;
    if (sf_token_parse_header(header, &tok, &len, NULL) == 0) {
        sf_token_digest d;
        sf_token_digest_of(tok, len, &d);
    }
    free(header);
}

FUZZ_TARGET(FUZZ_GATEWAY_STACK, one_input)
