/* TZif files and their POSIX TZ footers: the zone named by a request's tz parameter is read
 * from the tz database, which an operator may replace. */
#include "fuzz.h"
#include "sf_tz.h"

#include <stdint.h>

static void one_input(const uint8_t *data, size_t size)
{
    sf_tz *tz = NULL;
    if (sf_tz_parse(data, size, "fuzz", &tz, NULL) == 0) {
        static const int64_t probes[] = {INT64_MIN,    -4000000000LL, -1,        0,
                                         1700000000LL, 4102444800LL,  1LL << 45, INT64_MAX};
        for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
            sf_tz_offset(tz, probes[i]);
            sf_tz_to_utc(tz, probes[i]);
        }
        sf_tz_free(tz);
    }
}

FUZZ_TARGET(FUZZ_SERVICE_STACK, one_input)
