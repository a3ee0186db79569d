/* stbt.log conversion to a zone: the log is whatever a test printed. */
#include "fuzz.h"
#include "res_export.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void one_input(const uint8_t *data, size_t size)
{
    static sf_tz *denver;
    if (!denver)
        sf_tz_load(NULL, "America/Denver", &denver, NULL);
    if (!size)
        return;
    FILE *in = fmemopen((void *)data, size, "r");
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (in && out)
        res_log_convert(in, out, denver ? denver : sf_tz_utc());
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    free(buf);
}

FUZZ_TARGET(FUZZ_SERVICE_STACK, one_input)
