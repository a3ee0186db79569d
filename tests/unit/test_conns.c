#include "gw_conns.h"
#include "test.h"

static void test_connections_past_the_cap_of_one_address_are_over(void)
{
    gw_conns *c;
    CHECK(gw_conns_new(&c, 2, 100, NULL, NULL) == 0);
    gw_conn_slot a, b, x, other;
    gw_conns_open(c, "10.0.0.1", &a);
    gw_conns_open(c, "10.0.0.1", &b);
    gw_conns_open(c, "10.0.0.1", &x);
    gw_conns_open(c, "10.0.0.2", &other);
    CHECK(!a.over && !b.over && x.over && !other.over);
    CHECK(gw_conns_count(c, "10.0.0.1") == 3);
    gw_conns_close(c, &x);
    gw_conns_close(c, &a);
    gw_conn_slot again;
    gw_conns_open(c, "10.0.0.1", &again); /* one left open: room again */
    CHECK(!again.over);
    gw_conns_close(c, &again);
    gw_conns_close(c, &b);
    gw_conns_close(c, &other);
    CHECK(gw_conns_count(c, "10.0.0.1") == 0 && gw_conns_count(c, "10.0.0.2") == 0);
    gw_conns_free(c);
}

static void test_trusted_proxies_are_never_capped(void)
{
    gw_conns *c;
    CHECK(gw_conns_new(&c, 1, 100, " 127.0.0.1, 10.1.0.0/16 ,fd00::/8", NULL) == 0);
    CHECK(gw_conns_trusted(c, "127.0.0.1") && !gw_conns_trusted(c, "127.0.0.2"));
    CHECK(gw_conns_trusted(c, "10.1.200.3") && !gw_conns_trusted(c, "10.2.0.1"));
    CHECK(gw_conns_trusted(c, "fd12::1") && !gw_conns_trusted(c, "fe80::1"));
    CHECK(!gw_conns_trusted(c, "not an address"));
    gw_conn_slot s[3];
    for (int i = 0; i < 3; i++) {
        gw_conns_open(c, "127.0.0.1", &s[i]);
        CHECK(s[i].trusted && !s[i].over);
    }
    for (int i = 0; i < 3; i++)
        gw_conns_close(c, &s[i]);
    gw_conns_free(c);
}

static void test_bad_trusted_proxies_are_refused(void)
{
    gw_conns *c = NULL;
    sf_error err = SF_ERROR_INIT;
    CHECK(gw_conns_new(&c, 1, 1, "10.0.0.0/33", &err) == SF_EINVAL && !c);
    CHECK(strstr(err.msg, "10.0.0.0/33") != NULL);
    CHECK(gw_conns_new(&c, 1, 1, "localhost", &err) == SF_EINVAL);
    CHECK(gw_conns_new(&c, 1, 1, "10.0.0.1/", &err) == SF_EINVAL);
    CHECK(gw_conns_new(&c, 1, 1, "", &err) == 0);
    gw_conns_free(c);
}

static void test_pressure_is_three_quarters_of_the_workers(void)
{
    gw_conns *c;
    CHECK(gw_conns_new(&c, 100, 8, NULL, NULL) == 0);
    gw_conn_slot s[7];
    for (int i = 0; i < 6; i++)
        gw_conns_open(c, "10.0.0.1", &s[i]);
    CHECK(!gw_conns_pressed(c));
    gw_conns_open(c, "10.0.0.1", &s[6]);
    CHECK(gw_conns_pressed(c));
    for (int i = 0; i < 7; i++)
        gw_conns_close(c, &s[i]);
    CHECK(!gw_conns_pressed(c));
    gw_conns_free(c);
}

static void test_forwarded_for_is_the_last_entry_the_proxy_wrote(void)
{
    char out[GW_ADDR_MAX];
    const char *one[] = {"203.0.113.7"};
    CHECK(gw_forwarded_for(one, 1, out, sizeof(out)) == 0);
    CHECK_STR(out, "203.0.113.7");
    const char *forged[] = {"1.2.3.4", "6.6.6.6, 198.51.100.9 "}; /* the client's, then ours */
    CHECK(gw_forwarded_for(forged, 2, out, sizeof(out)) == 0);
    CHECK_STR(out, "198.51.100.9");
    const char *v6[] = {"2001:db8::1"};
    CHECK(gw_forwarded_for(v6, 1, out, sizeof(out)) == 0);
    const char *junk[] = {"1.2.3.4, <script>"};
    CHECK(gw_forwarded_for(junk, 1, out, sizeof(out)) == SF_EINVAL);
    CHECK(gw_forwarded_for(NULL, 0, out, sizeof(out)) == SF_EINVAL);
}

static void test_tally_counts_and_forgets(void)
{
    gw_tally *t;
    CHECK(gw_tally_new(&t) == 0);
    CHECK(gw_tally_add(t, "tok", 1) == 1);
    CHECK(gw_tally_add(t, "tok", 1) == 2);
    CHECK(gw_tally_add(t, "other", 0) == 0);
    CHECK(gw_tally_add(t, "tok", -2) == 0);
    CHECK(gw_tally_add(t, "tok", 0) == 0);
    gw_tally_free(t);
}

int main(void)
{
    RUN(test_connections_past_the_cap_of_one_address_are_over);
    RUN(test_trusted_proxies_are_never_capped);
    RUN(test_bad_trusted_proxies_are_refused);
    RUN(test_pressure_is_three_quarters_of_the_workers);
    RUN(test_forwarded_for_is_the_last_entry_the_proxy_wrote);
    RUN(test_tally_counts_and_forgets);
    return TEST_EXIT();
}
