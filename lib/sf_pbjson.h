/* sf_pbjson.h - JSON <-> protobuf-c, driven by the message descriptors.
 *
 * The API objects in proto/api.proto mirror the JSON of the REST API field for field, so one
 * generic converter serves every endpoint:
 *   - a field is a JSON key of the same name, in field-number order;
 *   - an optional field that is absent is JSON null (and JSON null or a missing key leaves an
 *     optional field absent); a required field is always written and must be given;
 *   - a repeated field is an array; a map<string, V> an object;
 *   - a field of type stbfarm.Json is the JSON value its text holds;
 *   - bool, integers and floats are JSON booleans and numbers; an integer field accepts only a
 *     JSON number with no fraction that fits the field.
 * Errors name the field ("test_cases[2] must be a string") so that a 400 tells the client what
 * to fix. */
#ifndef SF_PBJSON_H
#define SF_PBJSON_H

#include "sf_err.h"
#include "sf_json.h" /* sf_json_parse_object, for the bodies these convert */

#include <cjson/cJSON.h>
#include <protobuf-c/protobuf-c.h>

/* A new JSON value for m, freed by the caller with cJSON_Delete; NULL when out of memory. */
cJSON *sf_pb_to_json(const ProtobufCMessage *m);

/* Build a message of type desc from the JSON object json. On success *out is freed by the caller
 * with protobuf_c_message_free_unpacked(*out, NULL). Returns 0 or SF_EINVAL. */
int sf_pb_from_json(const ProtobufCMessageDescriptor *desc, const cJSON *json,
                    ProtobufCMessage **out, sf_error *err);

/* A deep copy of m, freed with protobuf_c_message_free_unpacked(copy, NULL); NULL when out of
 * memory. Through the wire form: the simplest way to own a message someone else built. */
ProtobufCMessage *sf_pb_copy(const ProtobufCMessage *m);

#endif
