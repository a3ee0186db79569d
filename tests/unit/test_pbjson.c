#include "pbjson_test.pb-c.h"
#include "sf_pbjson.h"
#include "test.h"

#include <stdlib.h>

static ProtobufCMessage *parse(const char *text, sf_error *err)
{
    cJSON *j = NULL;
    ProtobufCMessage *m = NULL;
    if (sf_json_parse_object(text, strlen(text), &j, err) == 0)
        sf_pb_from_json(&sftest__everything__descriptor, j, &m, err);
    cJSON_Delete(j);
    return m;
}

static char *render(const ProtobufCMessage *m)
{
    cJSON *j = sf_pb_to_json(m);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

static void test_round_trip_of_every_shape(void)
{
    const char *in = "{\"name\":\"x\",\"maybe\":\"m\",\"items\":[\"a\",\"b\"],\"tags\":{\"model\":"
                     "\"T-1000\"},\"flag\":true,\"big\":9007199254740992,\"small\":-5,\"inner\":"
                     "{\"n\":1},\"inners\":[{\"n\":2},{\"n\":3}],\"raw\":{\"sec\":{\"k\":\"v\"}},"
                     "\"ratio\":0.5,\"by_name\":{\"q\":{\"n\":4}}}";
    sf_error err = SF_ERROR_INIT;
    ProtobufCMessage *m = parse(in, &err);
    CHECK(m != NULL);
    if (!m)
        return;
    Sftest__Everything *e = (Sftest__Everything *)m;
    CHECK(e->n_items == 2 && e->n_tags == 1 && e->has_big && e->big == 9007199254740992LL);
    char *out = render(m);
    CHECK_STR(out, in);
    free(out);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_absent_optionals_render_as_null(void)
{
    Sftest__Everything e = SFTEST__EVERYTHING__INIT;
    e.name = (char *)"x";
    char *out = render(&e.base);
    CHECK_STR(out, "{\"name\":\"x\",\"maybe\":null,\"items\":[],\"tags\":{},\"flag\":null,"
                   "\"big\":null,\"small\":null,\"inner\":null,\"inners\":[],\"raw\":null,"
                   "\"ratio\":null,\"by_name\":{}}");
    free(out);
}

static void test_null_leaves_optional_absent(void)
{
    sf_error err = SF_ERROR_INIT;
    ProtobufCMessage *m = parse("{\"name\":\"x\",\"maybe\":null,\"big\":null}", &err);
    CHECK(m != NULL);
    Sftest__Everything *e = (Sftest__Everything *)m;
    CHECK(e && e->maybe == NULL && !e->has_big);
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
}

static void expect_error(const char *in, const char *msg)
{
    sf_error err = SF_ERROR_INIT;
    ProtobufCMessage *m = parse(in, &err);
    CHECK(m == NULL);
    CHECK_STR(err.msg, msg);
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
}

static void test_errors_name_the_field(void)
{
    expect_error("{}", "missing name");
    expect_error("{\"name\":null}", "missing name");
    expect_error("{\"name\":5}", "name must be a string");
    expect_error("{\"name\":\"x\",\"items\":\"a\"}", "items must be an array of strings");
    expect_error("{\"name\":\"x\",\"items\":[\"a\",1]}", "items[1] must be a string");
    expect_error("{\"name\":\"x\",\"tags\":{\"a\":1}}", "tags.a must be a string");
    expect_error("{\"name\":\"x\",\"tags\":[]}", "tags must be an object");
    expect_error("{\"name\":\"x\",\"flag\":\"true\"}", "flag must be a boolean");
    expect_error("{\"name\":\"x\",\"small\":1.5}", "small must be an integer");
    expect_error("{\"name\":\"x\",\"small\":\"10\"}", "small must be an integer");
    expect_error("{\"name\":\"x\",\"small\":4294967296}", "small must be an integer");
    expect_error("{\"name\":\"x\",\"big\":1e300}", "big must be an integer");
    expect_error("{\"name\":\"x\",\"inner\":{}}", "missing inner.n");
    expect_error("{\"name\":\"x\",\"inners\":[{\"n\":1},{\"n\":\"q\"}]}",
                 "inners[1].n must be an integer");
}

int main(void)
{
    RUN(test_round_trip_of_every_shape);
    RUN(test_absent_optionals_render_as_null);
    RUN(test_null_leaves_optional_absent);
    RUN(test_errors_name_the_field);
    return TEST_EXIT();
}
