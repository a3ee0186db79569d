/* For tests/api/test_strict_input.py: reads texts from stdin, each a 4-byte little-endian length
 * and that many bytes, and writes one character per text: '1' when sf_json_check accepts it,
 * '0' when not. */
#include "sf_json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    unsigned char len[4];
    while (fread(len, 1, 4, stdin) == 4) {
        size_t n =
            (size_t)len[0] | (size_t)len[1] << 8 | (size_t)len[2] << 16 | (size_t)len[3] << 24;
        char *text = malloc(n ? n : 1);
        if (!text || fread(text, 1, n, stdin) != n)
            return 1;
        putchar(sf_json_check(text, n, SF_JSON_MAX_DEPTH, NULL) ? '0' : '1');
        free(text);
    }
    return 0;
}
