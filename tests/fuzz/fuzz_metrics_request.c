/* The request head the metrics listener reads (sf_metrics_http_status), and the address of
 * --metrics-listen. */
#include "fuzz.h"
#include "sf_metrics_http.h"

#include <string.h>

static void one_input(const uint8_t *data, size_t size)
{
    int head;
    sf_metrics_http_status((const char *)data, size, &head);
    char text[64], host[32];
    size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    int port;
    sf_metrics_listen_parse(text, host, sizeof(host), &port, NULL);
}

FUZZ_TARGET(FUZZ_SERVICE_STACK, one_input)
