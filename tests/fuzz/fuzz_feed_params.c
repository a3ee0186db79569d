/* The event stream's parameters: topics (a comma-separated list) and Last-Event-ID (a stream id
 * that round-trips through its text). The input is split at its first newline: topics before,
 * the id after. */
#include "fuzz.h"
#include "sf_feed.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void one_input(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = '\0';
    char *nl = strchr(text, '\n');
    const char *id_text = "";
    if (nl) {
        *nl = '\0';
        id_text = nl + 1;
    }
    unsigned mask;
    if (sf_feed_topics_parse(text, &mask, NULL) == 0 && (mask == 0 || mask & ~SF_FEED_ALL))
        abort(); /* a list that parses names at least one known topic, and only those */
    sf_feed_id id, again;
    if (sf_feed_id_parse(id_text, &id, NULL) == 0) {
        char out[SF_FEED_ID_MAX];
        sf_feed_id_format(id, out);
        if (sf_feed_id_parse(out, &again, NULL) || sf_feed_id_cmp(id, again))
            abort(); /* what the stream sends as id: reads back as the same id */
    }
    free(text);
}

FUZZ_TARGET(FUZZ_GATEWAY_STACK, one_input)
