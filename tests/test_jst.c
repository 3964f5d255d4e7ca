/* test_jst.c — RFC 3339 parsing and JST calendar arithmetic. */
#include <stdio.h>
#include <string.h>

#include "jst.h"
#include "testutil.h"

static void parse_ok(const char *s, int64_t want_ms)
{
    int64_t ms = -1;
    const char *why = NULL;
    if (!jst_parse_rfc3339(s, strlen(s), &ms, &why))
        fail_msg("'%s' rejected: %s", s, why);
    assert_int_equal(ms, want_ms);
}

static void parse_bad(const char *s, const char *want_why)
{
    int64_t ms;
    const char *why = NULL;
    if (jst_parse_rfc3339(s, strlen(s), &ms, &why))
        fail_msg("'%s' accepted", s);
    if (!strstr(why, want_why))
        fail_msg("'%s': got '%s', expected '%s'", s, why, want_why);
}

static void test_rfc3339(void **state)
{
    (void)state;
    parse_ok("1970-01-01T00:00:00Z", 0);
    parse_ok("1970-01-01T09:00:00+09:00", 0);
    parse_ok("1970-01-01 09:00:00+09:00", 0);
    parse_ok("1970-01-01t00:00:00z", 0);
    parse_ok("2021-08-03T15:00:00+09:00", 1627970400000LL);
    parse_ok("2021-08-03T06:00:00Z", 1627970400000LL);
    parse_ok("2021-08-03T06:00:00.5Z", 1627970400500LL);
    parse_ok("2021-08-03T06:00:00.123456789Z", 1627970400123LL);
    parse_ok("2021-08-02T21:00:00-09:00", 1627970400000LL);
    parse_ok("2024-02-29T00:00:00Z", 1709164800000LL);
    parse_bad("2021-08-03T15:00:00", "time zone is required");
    parse_bad("2021-08-03", "expected an RFC 3339");
    parse_bad("2021-13-01T00:00:00Z", "month");
    parse_bad("2023-02-29T00:00:00Z", "day does not exist");
    parse_bad("2021-04-31T00:00:00Z", "day does not exist");
    parse_bad("2021-08-03T24:00:00Z", "hour");
    parse_bad("2021-08-03T23:60:00Z", "minute");
    parse_bad("2016-12-31T23:59:60Z", "leap seconds");
    parse_bad("2021-08-03T15:00:00+9:00", "offset");
    parse_bad("2021-08-03T15:00:00+24:00", "offset out of range");
    parse_bad("2021-08-03T15:00:00.Z", "fraction");
    parse_bad("2021-08-03T15:00:00Zjunk", "unexpected characters");
    parse_bad("1899-12-31T00:00:00Z", "year before 1900");
    parse_bad("2021/08/03T15:00:00Z", "expected an RFC 3339");
}

/* The accepted range is judged in JST: an offset cannot push a date out of
 * four-digit years (hardening row 17: 9999-12-31T23:59:59-23:59 was
 * accepted and shown as "10000-01-0 T08:5"). */
static void test_range(void **state)
{
    (void)state;
    int64_t ms;
    const char *why = NULL;
    char buf[JST_TEXT_MAX];
    assert_true(jst_parse_rfc3339("9999-12-31T23:59:59.999+09:00", 29, &ms, &why));
    assert_int_equal(ms, JST_MAX_MS);
    assert_string_equal(jst_format(ms, buf, sizeof buf), "9999-12-31T23:59:59.999+09:00");
    assert_false(jst_parse_rfc3339("9999-12-31T23:59:59-23:59", 25, &ms, &why));
    assert_non_null(strstr(why, "supported range"));
    assert_false(jst_parse_rfc3339("9999-12-31T15:00:00Z", 20, &ms, &why));
    assert_true(jst_parse_rfc3339("9999-12-31T14:59:59Z", 20, &ms, &why));
    assert_true(jst_parse_rfc3339("1900-01-01T00:00:00+09:00", 25, &ms, &why));
    assert_int_equal(ms, JST_MIN_MS);
    assert_string_equal(jst_format(ms, buf, sizeof buf), "1900-01-01T00:00:00+09:00");
    assert_false(jst_parse_rfc3339("1900-01-01T00:00:00+09:01", 25, &ms, &why));
    assert_false(jst_parse_rfc3339("1900-01-01T08:59:59+23:59", 25, &ms, &why));
}

static void test_format(void **state)
{
    (void)state;
    char buf[40];
    assert_string_equal(jst_format(0, buf, sizeof buf), "1970-01-01T09:00:00+09:00");
    assert_string_equal(jst_format(1627970400500LL, buf, sizeof buf),
                        "2021-08-03T15:00:00.500+09:00");
    assert_string_equal(jst_format(-1000, buf, sizeof buf), "1970-01-01T08:59:59+09:00");
    /* written by hand, as snprintf would: across the range, with and
     * without milliseconds */
    for (int64_t ms = JST_MIN_MS; ms <= JST_MAX_MS - 7777; ms += 86400000LL * 397 + 3600007) {
        for (int k = 0; k < 3; k++) {
            int64_t t = ms + (k == 0 ? 0 : k == 1 ? 5 : 7777);
            jst_date d = jst_date_of(t);
            int64_t into = jst_ms_into_day(t);
            char want[48];
            int frac = (int)(into % 1000);
            int h = (int)(into / 3600000), mi = (int)(into / 60000 % 60),
                se = (int)(into / 1000 % 60);
            if (frac)
                snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+09:00", d.y, d.m,
                         d.d, h, mi, se, frac);
            else
                snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d+09:00", d.y, d.m, d.d,
                         h, mi, se);
            assert_string_equal(jst_format(t, buf, sizeof buf), want);
        }
    }
    assert_string_equal(jst_format_duration(2 * 3600000 + 25 * 60000, buf, sizeof buf), "2h25m");
    assert_string_equal(jst_format_duration(7199000, buf, sizeof buf), "1h59m59s");
    assert_string_equal(jst_format_duration(0, buf, sizeof buf), "0s");
    assert_string_equal(jst_format_duration(34 * 3600000LL + 9 * 60000, buf, sizeof buf), "34h9m");
}

static void test_jst_dates(void **state)
{
    (void)state;
    /* 14:59:59Z on 31 March is still 31 March in JST; 15:00Z is 1 April. */
    jst_date d = jst_date_of(tu_time("2019-03-31T14:59:59Z"));
    assert_int_equal(d.m, 3);
    assert_int_equal(d.d, 31);
    assert_int_equal(jst_fiscal_year(d), 2018);
    assert_int_equal(jst_fiscal_quarter(d), 4);
    d = jst_date_of(tu_time("2019-03-31T15:00:00Z"));
    assert_int_equal(d.m, 4);
    assert_int_equal(d.d, 1);
    assert_int_equal(jst_fiscal_year(d), 2019);
    assert_int_equal(jst_fiscal_quarter(d), 1);
    assert_int_equal(jst_ms_into_day(tu_time("2019-03-31T15:00:00Z")), 0);
    assert_int_equal(jst_midnight(d), tu_time("2019-04-01T00:00:00+09:00"));
    /* quarters */
    static const struct { int m, q; } mq[] = {{1, 4}, {3, 4}, {4, 1}, {6, 1}, {7, 2}, {9, 2}, {10, 3}, {12, 3}};
    for (size_t i = 0; i < sizeof mq / sizeof mq[0]; i++) {
        jst_date x = {2021, mq[i].m, 15};
        assert_int_equal(jst_fiscal_quarter(x), mq[i].q);
    }
    char buf[16];
    assert_string_equal(jst_format_date(jst_quarter_end(2021, 1), buf, sizeof buf), "2021-06-30");
    assert_string_equal(jst_format_date(jst_quarter_end(2021, 3), buf, sizeof buf), "2021-12-31");
    assert_string_equal(jst_format_date(jst_quarter_end(2021, 4), buf, sizeof buf), "2022-03-31");
    jst_date dec = {2023, 12, 31};
    assert_string_equal(jst_format_date(jst_end_of_month_after(dec, 2), buf, sizeof buf), "2024-02-29");
    jst_date dec2 = {2021, 12, 31};
    assert_string_equal(jst_format_date(jst_end_of_month_after(dec2, 2), buf, sizeof buf), "2022-02-28");
    jst_date aug = {2021, 8, 3};
    assert_string_equal(jst_format_date(jst_add_days(aug, 30), buf, sizeof buf), "2021-09-02");
    jst_date feb = {2020, 2, 28};
    assert_string_equal(jst_format_date(jst_add_days(feb, 1), buf, sizeof buf), "2020-02-29");
    /* days_from_civil round trip over a long span */
    for (int64_t z = -800000; z < 800000; z += 997)
        assert_int_equal(jst_days_from_civil(jst_civil_from_days(z)), z);
    assert_true(jst_parse_date("2019-04-01", &d));
    assert_false(jst_parse_date("2019-4-01", &d));
    assert_false(jst_parse_date("2019-02-30", &d));
}

/* Japanese era dates as MIC writes them, and the era boundaries. */
static void test_wareki(void **state)
{
    (void)state;
    char b[JST_WAREKI_MAX];
    static const struct { int y, m, d; const char *want; } dates[] = {
        {2021, 5, 30, "令和3年5月30日"},   {2019, 4, 30, "平成31年4月30日"},
        {2019, 5, 1, "令和元年5月1日"},    {2020, 1, 1, "令和2年1月1日"},
        {1989, 1, 7, "昭和64年1月7日"},    {1989, 1, 8, "平成元年1月8日"},
        {1926, 12, 24, "大正15年12月24日"}, {1926, 12, 25, "昭和元年12月25日"},
        {1912, 7, 29, "明治45年7月29日"},   {1912, 7, 30, "大正元年7月30日"},
        {1900, 1, 1, "明治33年1月1日"},    {2008, 4, 1, "平成20年4月1日"},
    };
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        jst_date d = {dates[i].y, dates[i].m, dates[i].d};
        assert_string_equal(jst_format_wareki_date(d, b, sizeof b), dates[i].want);
    }
    /* JST, whatever offset the instant was written with */
    assert_string_equal(jst_format_wareki(tu_time("2021-05-30T20:41:00+09:00"), b, sizeof b),
                        "令和3年5月30日 20時41分");
    assert_string_equal(jst_format_wareki(tu_time("2021-10-08T22:56:00Z"), b, sizeof b),
                        "令和3年10月9日 7時56分");
    assert_string_equal(jst_format_wareki(tu_time("2019-04-30T15:00:00Z"), b, sizeof b),
                        "令和元年5月1日 0時00分");
    /* fiscal years take the era of 1 May of their first year */
    assert_string_equal(jst_format_wareki_fy(2021, b, sizeof b), "令和3年度");
    assert_string_equal(jst_format_wareki_fy(2019, b, sizeof b), "令和元年度");
    assert_string_equal(jst_format_wareki_fy(2018, b, sizeof b), "平成30年度");
    assert_string_equal(jst_format_wareki_fy(1989, b, sizeof b), "平成元年度");
    assert_string_equal(jst_format_wareki_fy(1988, b, sizeof b), "昭和63年度");
    assert_string_equal(jst_format_wareki_fy(2008, b, sizeof b), "平成20年度");
    /* small buffers are cut, never overrun */
    char small[8];
    jst_format_wareki(tu_time("2021-05-30T20:41:00+09:00"), small, sizeof small);
    assert_true(strlen(small) < sizeof small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_jst_dates),
        cmocka_unit_test(test_wareki),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
