/* The LIRC protocol: commands the vstb reads from any client, replies nodesvc reads from lircd.
 * The input is split into lines; each is parsed as a command and fed to a reply parser. */
#include "fuzz.h"
#include "sf_lirc.h"

#include <stdint.h>
#include <string.h>

static void one_input(const uint8_t *data, size_t size)
{
    sf_lirc_reply r;
    sf_lirc_reply_init(&r, "SEND_ONCE vstb KEY_OK");
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        sf_lirc_cmd c;
        if (sf_lirc_cmd_parse(p, n, &c) == 0) {
            char buf[1024];
            const char *lines[1] = {c.directive};
            sf_lirc_reply_format(buf, sizeof(buf), c.argc ? c.argv[0] : "", c.argc & 1, lines, 1);
        }
        if (sf_lirc_reply_line(&r, p, n) != 0)
            sf_lirc_reply_init(&r, "SEND_ONCE vstb KEY_OK");
        p += n + 1;
    }
}

FUZZ_TARGET(FUZZ_SERVICE_STACK, one_input)
