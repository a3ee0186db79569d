#include "sf_caller.h"
#include "sf_link.h"
#include "test.h"

static int allowed(const char *url)
{
    return sf_link_check(url, NULL) == 0;
}

static void test_links_on_this_host_are_allowed_without_tls(void)
{
    CHECK(allowed("ipc:///tmp/broker"));
    CHECK(allowed("tcp://127.0.0.1:7100"));
    CHECK(allowed("tcp://127.3.2.1:7100"));
    CHECK(allowed("tcp://localhost:7100"));
    CHECK(allowed("tcp://[::1]:7100"));
}

static void test_plain_tcp_beyond_loopback_is_refused(void)
{
    CHECK(!allowed("tcp://10.203.0.1:7100"));
    CHECK(!allowed("tcp://0.0.0.0:7100"));
    CHECK(!allowed("tcp://*:7100"));
    CHECK(!allowed("tcp://:7100"));
    CHECK(!allowed("tcp://broker:7100"));
    CHECK(!allowed("tcp://[::]:7100"));
    CHECK(!allowed("tcp://127.0.0.1.example:7100"));
    CHECK(!allowed("tcp://127.0.0.1"));
}

static void test_tls_needs_a_credential_and_other_schemes_are_refused(void)
{
    CHECK(!allowed("tls+tcp://10.203.0.1:7100"));
    CHECK(!allowed("ws://10.203.0.1:7100"));
    CHECK(!allowed("10.203.0.1:7100"));
}

static void test_insecure_allows_plain_tcp_anywhere(void)
{
    sf_link_config cfg = {NULL, 1};
    CHECK(sf_link_setup(&cfg, NULL) == 0);
    CHECK(allowed("tcp://10.203.0.1:7100"));
    CHECK(!allowed("tls+tcp://10.203.0.1:7100"));
    cfg.insecure = 0;
    CHECK(sf_link_setup(&cfg, NULL) == 0);
    CHECK(!allowed("tcp://10.203.0.1:7100"));
}

static int caller(const char *method, const char *credential, char node[72])
{
    sf_call call = {method, "r", "", "", 0, NULL, credential, ""};
    int rc = sf_caller_check(&call, NULL, NULL);
    snprintf(node, 72, "%s", call.node);
    return rc;
}

static void test_callers_without_tls(void)
{
    char node[72];
    /* no TLS: a local caller without a credential is trusted, a wrong one is not */
    CHECK(caller("jobs.create", "", node) == 0 && !node[0]);
    CHECK(caller("jobs.create", "farm:guess", node) == SF_EFORBIDDEN);
    CHECK(caller("jobs.create", "nonsense", node) == SF_EFORBIDDEN);
    /* a node may call only what agents call, checked before its secret is */
    CHECK(caller("jobs.create", "node:stb-1:secret", node) == SF_EFORBIDDEN && !node[0]);
    CHECK(caller("nodes.heartbeat", "node::secret", node) == SF_EFORBIDDEN);
    CHECK(caller("nodes.heartbeat", "node:stb-1", node) == SF_EFORBIDDEN);
}

static void test_a_node_speaks_for_itself_only(void)
{
    sf_call farm = {"nodes.heartbeat", "r", "", "", 0, NULL, "", ""};
    sf_call node = {"nodes.heartbeat", "r", "", "", 0, NULL, "", "stb-1"};
    CHECK(sf_caller_speaks_for(&farm, "stb-2", NULL) == 0);
    CHECK(sf_caller_speaks_for(&node, "stb-1", NULL) == 0);
    CHECK(sf_caller_speaks_for(&node, "stb-2", NULL) == SF_EFORBIDDEN);
    CHECK(sf_caller_speaks_for(&node, "stb-10", NULL) == SF_EFORBIDDEN);
}

static void test_the_node_of_a_uid(void)
{
    char out[72];
    sf_caller_node_of("/stb-1/0a23/972", out, sizeof(out));
    CHECK_STR(out, "stb-1");
    sf_caller_node_of("/stb-1/abc/1/2026-12-03", out, sizeof(out));
    CHECK_STR(out, "stb-1");
    sf_caller_node_of("stb-1", out, sizeof(out));
    CHECK_STR(out, "stb-1");
    sf_caller_node_of("", out, sizeof(out));
    CHECK_STR(out, "");
    sf_caller_node_of("/abcdefgh/1", out, 4);
    CHECK_STR(out, "abc");
}

int main(void)
{
    RUN(test_links_on_this_host_are_allowed_without_tls);
    RUN(test_plain_tcp_beyond_loopback_is_refused);
    RUN(test_tls_needs_a_credential_and_other_schemes_are_refused);
    RUN(test_insecure_allows_plain_tcp_anywhere);
    RUN(test_callers_without_tls);
    RUN(test_a_node_speaks_for_itself_only);
    RUN(test_the_node_of_a_uid);
    return TEST_EXIT();
}
