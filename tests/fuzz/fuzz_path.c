/* Path normalisation and route matching against every pattern shape the route table uses. */
#include "fuzz.h"
#include "gw_router.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const patterns[] = {
    "/api/v2/nodes/{node_id}",
    "/api/v2/jobs/{job_uid:3}/await_completion",
    "/api/v2/results/{result_id:4}/artifacts/{filename*}",
    "/{a}/{b:2}/{c*}",
};

static void one_input(const uint8_t *data, size_t size)
{
    char *raw = malloc(size + 1);
    static char path[GW_PATH_MAX + 1];
    static gw_params params;
    if (!raw)
        return;
    memcpy(raw, data, size);
    raw[size] = '\0';
    if (gw_path_normalize(raw, path, sizeof(path), NULL) == 0) {
        for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
            gw_pattern_match(patterns[i], path, &params);
    }
    free(raw);
}

FUZZ_TARGET(FUZZ_GATEWAY_STACK, one_input)
