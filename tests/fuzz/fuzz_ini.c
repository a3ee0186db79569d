/* The INI parser: node configs and .stbt.conf come from users' test packs. */
#include "fuzz.h"
#include "sf_ini.h"

#include <stdint.h>

static void one_input(const uint8_t *data, size_t size)
{
    cJSON *j = NULL;
    if (sf_ini_parse((const char *)data, size, &j, NULL) == 0) {
        sf_ini_get(j, "test_pack", "default_remote_control");
        cJSON_Delete(j);
    }
}

FUZZ_TARGET(FUZZ_SERVICE_STACK, one_input)
