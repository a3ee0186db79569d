/* The lircd.conf parser: remote control files come from users' test packs. */
#include "fuzz.h"
#include "sf_lircd.h"

#include <stdint.h>

static void one_input(const uint8_t *data, size_t size)
{
    sf_lircd_conf *c = NULL;
    if (sf_lircd_parse((const char *)data, size, &c, NULL) == 0) {
        const sf_lircd_remote *r = sf_lircd_remote_find(c, c->remotes[0].name);
        if (r)
            sf_lircd_has_key(r, "KEY_OK");
        sf_lircd_free(c);
    }
}

FUZZ_TARGET(FUZZ_SERVICE_STACK, one_input)
