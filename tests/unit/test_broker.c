#include "sf_broker.h"
#include "test.h"

static void test_tcp_urls_take_two_ports_per_service(void)
{
    char url[256];
    CHECK(sf_broker_url("tcp://127.0.0.1:7100", SF_SVC_NODES, SF_BROKER_FRONT, url, sizeof(url),
                        NULL) == 0);
    CHECK_STR(url, "tcp://127.0.0.1:7100");
    CHECK(sf_broker_url("tcp://broker:7100", SF_SVC_JOBS, SF_BROKER_BACK, url, sizeof(url), NULL) ==
          0);
    CHECK_STR(url, "tcp://broker:7103");
}

static void test_tls_urls_take_the_same_ports(void)
{
    char url[256];
    CHECK(sf_broker_url("tls+tcp://10.203.0.1:7100", SF_SVC_RESULTS, SF_BROKER_FRONT, url,
                        sizeof(url), NULL) == 0);
    CHECK_STR(url, "tls+tcp://10.203.0.1:7104");
    CHECK(sf_broker_url("tls+tcp://x", SF_SVC_NODES, SF_BROKER_FRONT, url, sizeof(url), NULL) ==
          SF_EINVAL);
}

static void test_ipc_urls_name_service_and_side(void)
{
    char url[256];
    CHECK(sf_broker_url("ipc:///run/b", SF_SVC_NODES, SF_BROKER_BACK, url, sizeof(url), NULL) == 0);
    CHECK_STR(url, "ipc:///run/b-nodes-back.sock");
}

static void test_bad_bases_are_refused(void)
{
    char url[256];
    sf_error err = SF_ERROR_INIT;
    CHECK(sf_broker_url("http://x:1", SF_SVC_NODES, SF_BROKER_FRONT, url, sizeof(url), &err) ==
          SF_EINVAL);
    CHECK(strstr(err.msg, "http://x:1") != NULL);
    CHECK(sf_broker_url("tcp://x", SF_SVC_NODES, SF_BROKER_FRONT, url, sizeof(url), NULL) ==
          SF_EINVAL);
    CHECK(sf_broker_url("tcp://x:65535", SF_SVC_NODES, SF_BROKER_FRONT, url, sizeof(url), NULL) ==
          SF_EINVAL);
}

static int count_base(const char *base, void *arg)
{
    (void)base;
    (*(int *)arg)++;
    return 0;
}

static void test_each_visits_every_broker(void)
{
    int n = 0;
    CHECK(sf_broker_each("tcp://a:1,tcp://b:2,,", count_base, &n) == 0);
    CHECK(n == 2);
}

static void test_service_names_parse_back(void)
{
    for (int i = 0; i < SF_SVC_COUNT; i++) {
        sf_service s;
        CHECK(sf_service_parse(sf_service_name((sf_service)i), &s) == 0 && (int)s == i);
    }
    sf_service s;
    CHECK(sf_service_parse("nope", &s) == SF_EINVAL);
}

int main(void)
{
    RUN(test_tcp_urls_take_two_ports_per_service);
    RUN(test_tls_urls_take_the_same_ports);
    RUN(test_ipc_urls_name_service_and_side);
    RUN(test_bad_bases_are_refused);
    RUN(test_each_visits_every_broker);
    RUN(test_service_names_parse_back);
    return TEST_EXIT();
}
