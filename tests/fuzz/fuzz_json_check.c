/* The strict JSON check against cJSON, on a civetweb worker's stack: every text the check
 * accepts cJSON parses, and what cJSON prints of it the check accepts again. (Against Python's
 * json module: tests/api/test_strict_input.py, over a generated corpus.) */
#include "fuzz.h"
#include "sf_json.h"

#include <string.h>

static void one_input(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    if (sf_json_check(text, size, SF_JSON_MAX_DEPTH, NULL))
        return;
    cJSON *j = cJSON_ParseWithLength(text, size);
    if (!j)
        abort(); /* accepted, yet cJSON cannot read it */
    char *again = cJSON_PrintUnformatted(j);
    if (!again || sf_json_check(again, strlen(again), SF_JSON_MAX_DEPTH, NULL))
        abort(); /* cJSON's own rendering must be strict JSON too */
    free(again);
    cJSON_Delete(j);
}

FUZZ_TARGET(FUZZ_GATEWAY_STACK, one_input)
