/* The gateway's JSON request parsing: body -> cJSON -> every API request message -> JSON, on a
 * civetweb worker's stack. */
#include "fuzz.h"
#include "jobs.pb-c.h"
#include "nodes.pb-c.h"
#include "reservations.pb-c.h"
#include "sf_pbjson.h"

#include <stdint.h>
#include <stdlib.h>

static const ProtobufCMessageDescriptor *const requests[] = {
    &stbfarm__node_get_request__descriptor,
    &stbfarm__run_tests_request__descriptor,
    &stbfarm__node__descriptor, /* the richest shape: nested, optional, Json */
    &stbfarm__reservation_create_request__descriptor,
    &stbfarm__reservation_extend_request__descriptor,
    &stbfarm__reservation_interrupt_request__descriptor,
    &stbfarm__reservation_ref__descriptor,
};

static void one_input(const uint8_t *data, size_t size)
{
    cJSON *j = NULL;
    if (sf_json_parse_object((const char *)data, size, &j, NULL))
        return;
    for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
        ProtobufCMessage *m = NULL;
        if (sf_pb_from_json(requests[i], j, &m, NULL) == 0) {
            cJSON *back = sf_pb_to_json(m);
            char *text = cJSON_PrintUnformatted(back);
            free(text);
            cJSON_Delete(back);
            protobuf_c_message_free_unpacked(m, NULL);
        }
    }
    cJSON_Delete(j);
}

FUZZ_TARGET(FUZZ_GATEWAY_STACK, one_input)
