#include "sf_time.h"
#include "test.h"

static void test_format_utc_with_microseconds(void)
{
    char buf[40];
    /* 2015-05-28T14:46:35.354791Z */
    int64_t us = 1432824395354791LL;
    sf_time_format(us, buf, sizeof(buf), SF_TIME_ZULU);
    CHECK_STR(buf, "2015-05-28T14:46:35.354791Z");
    sf_time_format(us, buf, sizeof(buf), SF_TIME_OFFSET);
    CHECK_STR(buf, "2015-05-28T14:46:35.354791+00:00");
    sf_time_format(us, buf, sizeof(buf), SF_TIME_OFFSET | SF_TIME_NO_FRAC);
    CHECK_STR(buf, "2015-05-28T14:46:35+00:00");
}

static void test_format_at_offset(void)
{
    char buf[40];
    sf_time_format_at(1432824395354791LL, -6 * 3600, buf, sizeof(buf), 0);
    CHECK_STR(buf, "2015-05-28T08:46:35.354791-06:00");
    sf_time_format_at(0, 5 * 3600 + 1800, buf, sizeof(buf), SF_TIME_NO_FRAC);
    CHECK_STR(buf, "1970-01-01T05:30:00+05:30");
}

static void test_format_before_epoch(void)
{
    char buf[40];
    sf_time_format(-1, buf, sizeof(buf), SF_TIME_ZULU);
    CHECK_STR(buf, "1969-12-31T23:59:59.999999Z");
}

static void test_parse_round_trips(void)
{
    int64_t us = 0;
    CHECK(sf_time_parse("2015-05-28T14:46:35.354791Z", &us) == 0);
    CHECK(us == 1432824395354791LL);
    CHECK(sf_time_parse("2015-05-28T08:46:35.354791-06:00", &us) == 0);
    CHECK(us == 1432824395354791LL);
    CHECK(sf_time_parse("2023-02-22T16:56:11+00:00", &us) == 0);
    CHECK(us == 1677084971000000LL);
    CHECK(sf_time_parse("2023-02-22T16:56:11.5Z", &us) == 0);
    CHECK(us == 1677084971500000LL);
}

static void test_parse_rejects_what_is_not_a_timestamp(void)
{
    int64_t us;
    CHECK(sf_time_parse("2023-02-22T16:56:11", &us) != 0); /* no zone */
    CHECK(sf_time_parse("2023-13-22T16:56:11Z", &us) != 0);
    CHECK(sf_time_parse("2023-02-22T16:56:11Zx", &us) != 0);
    CHECK(sf_time_parse("2023-02-22T16:56:11.Z", &us) != 0);
    CHECK(sf_time_parse("", &us) != 0);
}

static void test_civil_calendar_round_trips(void)
{
    for (int64_t d = -800000; d < 800000; d += 97) {
        int64_t y;
        unsigned m, day;
        sf_civil_from_days(d, &y, &m, &day);
        CHECK(sf_days_from_civil(y, m, day) == d);
    }
}

int main(void)
{
    RUN(test_format_utc_with_microseconds);
    RUN(test_format_at_offset);
    RUN(test_format_before_epoch);
    RUN(test_parse_round_trips);
    RUN(test_parse_rejects_what_is_not_a_timestamp);
    RUN(test_civil_calendar_round_trips);
    return TEST_EXIT();
}
