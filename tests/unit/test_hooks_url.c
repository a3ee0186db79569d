/* hooks_url: where webhooks may point. Addresses are given as literals, so nothing here needs
 * a resolver. */
#include "hooks_url.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static int allowed(const hooks_policy *p, const char *addr, int port)
{
    struct sockaddr_storage ss = {0};
    if (strchr(addr, ':')) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        inet_pton(AF_INET6, addr, &in6->sin6_addr);
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        inet_pton(AF_INET, addr, &in->sin_addr);
    }
    return hooks_addr_allowed(p, (struct sockaddr *)&ss, NULL) == 0;
}

static void test_public_and_private_networks_are_allowed(void)
{
    hooks_policy p;
    hooks_policy_init(&p, 0, "unix:/tmp/redis.sock", "ipc:///tmp/b");
    CHECK(allowed(&p, "93.184.216.34", 443));
    CHECK(allowed(&p, "10.1.2.3", 8080));
    CHECK(allowed(&p, "192.168.1.10", 80));
    CHECK(allowed(&p, "2001:db8::1", 443));
}

static void test_loopback_is_refused_unless_allowed_in_every_spelling(void)
{
    hooks_policy p, lo;
    hooks_policy_init(&p, 0, NULL, NULL);
    hooks_policy_init(&lo, 1, NULL, NULL);
    const char *spellings[] = {"127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"};
    for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
        CHECK(!allowed(&p, spellings[i], 80));
        CHECK(allowed(&lo, spellings[i], 80));
    }
}

static void test_link_local_unspecified_multicast_and_broadcast_are_always_refused(void)
{
    hooks_policy lo;
    hooks_policy_init(&lo, 1, NULL, NULL);
    const char *bad[] = {"169.254.169.254", "0.0.0.0", "224.0.0.1", "255.255.255.255",
                         "fe80::1",         "::",      "ff02::1",   "::ffff:169.254.1.1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(!allowed(&lo, bad[i], 80));
}

static void test_the_farms_own_endpoints_are_refused_other_ports_not(void)
{
    hooks_policy p;
    hooks_policy_init(&p, 0, "tcp://10.0.0.5:6379", "tcp://10.0.0.6:7100,ipc:///tmp/b");
    CHECK(!allowed(&p, "10.0.0.5", 6379));
    CHECK(allowed(&p, "10.0.0.5", 8080));
    CHECK(!allowed(&p, "10.0.0.6", 7100));
    CHECK(!allowed(&p, "10.0.0.6", 7107)); /* the last service's back */
    CHECK(allowed(&p, "10.0.0.6", 7108));
}

static void test_urls_must_be_http_without_credentials(void)
{
    hooks_policy lo;
    hooks_policy_init(&lo, 1, NULL, NULL);
    CHECK(hooks_url_check(&lo, "http://127.0.0.1:9/hook", NULL) == 0);
    CHECK(hooks_url_check(&lo, "https://[::1]/hook", NULL) == 0);
    CHECK(hooks_url_check(&lo, "ftp://127.0.0.1/", NULL) == SF_EINVAL);
    CHECK(hooks_url_check(&lo, "file:///etc/passwd", NULL) == SF_EINVAL);
    CHECK(hooks_url_check(&lo, "http://user:pw@127.0.0.1/", NULL) == SF_EINVAL);
    CHECK(hooks_url_check(&lo, "127.0.0.1/hook", NULL) == SF_EINVAL);
    CHECK(hooks_url_check(&lo, "http://169.254.169.254/latest", NULL) == SF_EINVAL);
}

int main(void)
{
    RUN(test_public_and_private_networks_are_allowed);
    RUN(test_loopback_is_refused_unless_allowed_in_every_spelling);
    RUN(test_link_local_unspecified_multicast_and_broadcast_are_always_refused);
    RUN(test_the_farms_own_endpoints_are_refused_other_ports_not);
    RUN(test_urls_must_be_http_without_credentials);
    return TEST_EXIT();
}
