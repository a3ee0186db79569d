/* sf_tz against known offsets, and against glibc's own reading of the same tz database (the
 * test is single-threaded, so it may use setenv("TZ") as a reference). */
#include "sf_time.h"
#include "sf_tz.h"
#include "test.h"

#include <stdlib.h>
#include <time.h>

/* 2015-06-16T13:29:17Z and friends, as seconds. */
static int64_t utc(int y, unsigned mo, unsigned d, int h, int mi, int s)
{
    return sf_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

static sf_tz *load(const char *name)
{
    sf_tz *tz = NULL;
    sf_error err = SF_ERROR_INIT;
    if (sf_tz_load(NULL, name, &tz, &err))
        fprintf(stderr, "cannot load %s: %s\n", name, err.msg);
    return tz;
}

static void test_denver_has_daylight_saving(void)
{
    sf_tz *tz = load("America/Denver");
    CHECK(tz != NULL);
    if (!tz)
        return;
    CHECK(sf_tz_offset(tz, utc(2015, 6, 16, 13, 29, 17)) == -6 * 3600);
    CHECK(sf_tz_offset(tz, utc(2015, 1, 16, 13, 29, 17)) == -7 * 3600);
    /* 2024-03-10: 02:00 MST becomes 03:00 MDT at 09:00Z */
    CHECK(sf_tz_offset(tz, utc(2024, 3, 10, 8, 59, 59)) == -7 * 3600);
    CHECK(sf_tz_offset(tz, utc(2024, 3, 10, 9, 0, 0)) == -6 * 3600);
    /* far beyond the last transition in the file: the footer's rule */
    CHECK(sf_tz_offset(tz, utc(2090, 7, 1, 0, 0, 0)) == -6 * 3600);
    CHECK(sf_tz_offset(tz, utc(2090, 12, 1, 0, 0, 0)) == -7 * 3600);
    CHECK_STR(sf_tz_name(tz), "America/Denver");
    sf_tz_free(tz);
}

static void test_london_has_summer_time(void)
{
    sf_tz *tz = load("Europe/London");
    CHECK(tz != NULL);
    if (!tz)
        return;
    CHECK(sf_tz_offset(tz, utc(2024, 7, 1, 12, 0, 0)) == 3600);
    CHECK(sf_tz_offset(tz, utc(2024, 12, 1, 12, 0, 0)) == 0);
    /* 2024-03-31 01:00Z clocks go forward; 2024-10-27 01:00Z back */
    CHECK(sf_tz_offset(tz, utc(2024, 3, 31, 0, 59, 59)) == 0);
    CHECK(sf_tz_offset(tz, utc(2024, 3, 31, 1, 0, 0)) == 3600);
    CHECK(sf_tz_offset(tz, utc(2024, 10, 27, 0, 59, 59)) == 3600);
    CHECK(sf_tz_offset(tz, utc(2024, 10, 27, 1, 0, 0)) == 0);
    sf_tz_free(tz);
}

static void test_local_times_in_a_gap_move_forward_and_folds_take_the_earlier(void)
{
    sf_tz *denver = load("America/Denver"), *london = load("Europe/London");
    CHECK(denver && london);
    if (!denver || !london)
        goto done;
    /* 2024-03-10 02:30 never happens in Denver: read as MST, it is 03:30 MDT */
    CHECK(sf_tz_to_utc(denver, utc(2024, 3, 10, 2, 30, 0)) == utc(2024, 3, 10, 9, 30, 0));
    /* 2024-11-03 01:30 happens twice: MDT first */
    CHECK(sf_tz_to_utc(denver, utc(2024, 11, 3, 1, 30, 0)) == utc(2024, 11, 3, 7, 30, 0));
    CHECK(sf_tz_to_utc(denver, utc(2024, 7, 4, 12, 0, 0)) == utc(2024, 7, 4, 18, 0, 0));
    CHECK(sf_tz_to_utc(london, utc(2024, 3, 31, 1, 30, 0)) == utc(2024, 3, 31, 1, 30, 0));
    CHECK(sf_tz_to_utc(london, utc(2024, 10, 27, 1, 30, 0)) == utc(2024, 10, 27, 0, 30, 0));
    CHECK(sf_tz_to_utc(london, utc(2024, 1, 1, 0, 0, 0)) == utc(2024, 1, 1, 0, 0, 0));
done:
    sf_tz_free(denver);
    sf_tz_free(london);
}

/* glibc's offset at t in the zone TZ names. */
static long glibc_offset(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    return tm.tm_gmtoff;
}

static void test_offsets_agree_with_glibc_from_1970_to_2100(void)
{
    static const char *const zones[] = {
        "America/Denver",    "Europe/London",   "Australia/Sydney", "Asia/Kolkata",
        "America/Sao_Paulo", "Europe/Dublin",   "Pacific/Apia",     "America/St_Johns",
        "Africa/Casablanca", "Pacific/Chatham", "Antarctica/Troll", "Etc/GMT+5",
    };
    for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
        sf_tz *tz = load(zones[z]);
        CHECK(tz != NULL);
        if (!tz)
            continue;
        setenv("TZ", zones[z], 1);
        tzset();
        int mismatches = 0;
        for (int64_t t = utc(1970, 1, 1, 0, 0, 0); t < utc(2100, 1, 1, 0, 0, 0); t += 9973) {
            if (sf_tz_offset(tz, t) != glibc_offset(t) && mismatches++ < 3)
                fprintf(stderr, "%s at %lld: %d, glibc %ld\n", zones[z], (long long)t,
                        sf_tz_offset(tz, t), glibc_offset(t));
        }
        CHECK(mismatches == 0);
        sf_tz_free(tz);
    }
    unsetenv("TZ");
}

static void test_utc_is_built_in(void)
{
    const sf_tz *u = sf_tz_utc();
    CHECK(sf_tz_offset(u, utc(2024, 7, 1, 0, 0, 0)) == 0);
    CHECK(sf_tz_to_utc(u, 12345) == 12345);
    sf_tz_cache *c;
    CHECK(sf_tz_cache_new(&c, "/nonexistent", NULL) == 0);
    const sf_tz *z = NULL;
    CHECK(sf_tz_cache_get(c, "UTC", &z, NULL) == 0 && z == u);
    CHECK(sf_tz_cache_get(c, "America/Denver", &z, NULL) == SF_EINVAL);
    sf_tz_cache_free(c);
}

static void test_cache_loads_each_zone_once(void)
{
    sf_tz_cache *c;
    const sf_tz *a = NULL, *b = NULL;
    CHECK(sf_tz_cache_new(&c, NULL, NULL) == 0);
    CHECK(sf_tz_cache_get(c, "Europe/London", &a, NULL) == 0);
    CHECK(sf_tz_cache_get(c, "Europe/London", &b, NULL) == 0);
    CHECK(a && a == b);
    sf_error err = SF_ERROR_INIT;
    CHECK(sf_tz_cache_get(c, "Mars/Olympus_Mons", &b, &err) == SF_EINVAL);
    CHECK_STR(err.msg, "unknown time zone 'Mars/Olympus_Mons'");
    sf_tz_cache_free(c);
}

static void test_names_outside_the_database_are_refused(void)
{
    CHECK(sf_tz_valid_name("America/Denver"));
    CHECK(sf_tz_valid_name("Etc/GMT+5"));
    CHECK(!sf_tz_valid_name("../etc/passwd"));
    CHECK(!sf_tz_valid_name("/etc/localtime"));
    CHECK(!sf_tz_valid_name("America//Denver"));
    CHECK(!sf_tz_valid_name("America/"));
    CHECK(!sf_tz_valid_name(""));
    CHECK(!sf_tz_valid_name("America/Den ver"));
    sf_tz *tz = NULL;
    CHECK(sf_tz_load(NULL, "../../../etc/passwd", &tz, NULL) == SF_EINVAL);
    CHECK(sf_tz_load(NULL, "zone.tab", &tz, NULL) == SF_EINVAL); /* exists, not TZif */
    CHECK(sf_tz_load(NULL, "America", &tz, NULL) == SF_EINVAL);  /* a directory */
    CHECK(tz == NULL);
}

static void test_malformed_data_is_refused(void)
{
    sf_tz *tz = NULL;
    CHECK(sf_tz_parse("", 0, "x", &tz, NULL) == SF_EINVAL);
    CHECK(sf_tz_parse("TZif2", 5, "x", &tz, NULL) == SF_EINVAL);
    /* a version 1 header promising more data than there is */
    unsigned char h[44] = {'T', 'Z', 'i', 'f', 0};
    h[35] = 10; /* timecnt */
    h[39] = 1;  /* typecnt */
    h[43] = 4;  /* charcnt */
    CHECK(sf_tz_parse(h, sizeof(h), "x", &tz, NULL) == SF_EINVAL);
    CHECK(tz == NULL);
}

static void test_version1_file_without_footer(void)
{
    /* one type (+05:30 "IST"), no transitions */
    unsigned char f[44 + 6 + 4] = {'T', 'Z', 'i', 'f', 0};
    f[39] = 1;
    f[43] = 4;
    unsigned char *t = f + 44;
    int32_t off = 5 * 3600 + 1800;
    t[0] = (unsigned char)(off >> 24);
    t[1] = (unsigned char)(off >> 16);
    t[2] = (unsigned char)(off >> 8);
    t[3] = (unsigned char)off;
    memcpy(f + 50, "IST", 4);
    sf_tz *tz = NULL;
    CHECK(sf_tz_parse(f, sizeof(f), "Test/India", &tz, NULL) == 0);
    if (tz)
        CHECK(sf_tz_offset(tz, utc(2024, 1, 1, 0, 0, 0)) == off);
    sf_tz_free(tz);
}

int main(void)
{
    RUN(test_denver_has_daylight_saving);
    RUN(test_london_has_summer_time);
    RUN(test_local_times_in_a_gap_move_forward_and_folds_take_the_earlier);
    RUN(test_offsets_agree_with_glibc_from_1970_to_2100);
    RUN(test_utc_is_built_in);
    RUN(test_cache_loads_each_zone_once);
    RUN(test_names_outside_the_database_are_refused);
    RUN(test_malformed_data_is_refused);
    RUN(test_version1_file_without_footer);
    return TEST_EXIT();
}
