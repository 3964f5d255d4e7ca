/*
 * test_holiday.c — the holiday calendar (catalogs/holidays.conf): what each
 * kind of administrative holiday is, moving a date past them, the calendar's
 * end, errors in the file, and a cross-check of the generated data against
 * an independent computation of the equinox days.
 */
#include <stdio.h>
#include <string.h>

#include "holiday.h"
#include "testutil.h"

static jst_date day(const char *s)
{
    jst_date d;
    assert_true(jst_parse_date(s, &d));
    return d;
}

static const char *next_open(const holiday_calendar *c, const char *s, char *buf)
{
    jst_date out;
    int gap = 0;
    if (holiday_next_open(c, day(s), &out, &gap)) {
        snprintf(buf, 16, "gap %d", gap);
        return buf;
    }
    return jst_format_date(out, buf, 16);
}

static void test_kinds(void **state)
{
    const holiday_calendar *c = &((tu_env *)*state)->cat.holidays;
    assert_int_equal(c->first_year, 2008);
    /* each kind of day, as 第1条第1項 lists them */
    static const struct { const char *day; holiday_kind kind; const char *name; } days[] = {
        /* 第1号: weekends */
        {"2021-11-13", HOLIDAY_WEEKEND, NULL}, {"2021-11-14", HOLIDAY_WEEKEND, NULL},
        {"2021-11-15", HOLIDAY_OPEN, NULL},
        /* 第2号: national holidays, substitutes, the Olympic moves, 2019's 休日 */
        {"2021-07-22", HOLIDAY_NATIONAL, "海の日"}, {"2021-08-09", HOLIDAY_NATIONAL, "山の日 振替休日"},
        {"2019-05-01", HOLIDAY_NATIONAL, NULL}, {"2019-10-22", HOLIDAY_NATIONAL, NULL},
        {"2020-07-24", HOLIDAY_NATIONAL, NULL},
        /* the usual スポーツの日 was a working day in 2021 (moved to 23 July) and 2020 */
        {"2021-10-11", HOLIDAY_OPEN, NULL}, {"2020-10-12", HOLIDAY_OPEN, NULL},
        /* 天皇誕生日: 23 Dec until 2018, none in 2019, 23 Feb from 2020 */
        {"2018-12-24", HOLIDAY_NATIONAL, NULL}, {"2019-12-23", HOLIDAY_OPEN, NULL},
        {"2020-02-24", HOLIDAY_NATIONAL, NULL},
        /* 第3号: 29 December to 3 January; a national holiday wins the name */
        {"2021-12-29", HOLIDAY_YEAR_END, NULL}, {"2022-01-03", HOLIDAY_YEAR_END, NULL},
        {"2022-01-01", HOLIDAY_NATIONAL, "元日"}, {"2021-12-28", HOLIDAY_OPEN, NULL},
        {"2022-01-04", HOLIDAY_OPEN, NULL},
    };
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
        const holiday_day *h;
        if (holiday_kind_of(c, day(days[i].day), &h) != days[i].kind)
            fail_msg("%s: kind %d, expected %d", days[i].day, holiday_kind_of(c, day(days[i].day), NULL),
                     days[i].kind);
        if (days[i].name)
            assert_string_equal(h->name_ja, days[i].name);
    }
    assert_string_equal(holiday_why(c, day("2021-11-13"), true), "土曜日");
    assert_string_equal(holiday_why(c, day("2021-07-23"), false), "Health and Sports Day");
    assert_string_equal(holiday_why(c, day("2021-12-30"), false), "year-end closure");
}

static void test_next_open(void **state)
{
    const holiday_calendar *c = &((tu_env *)*state)->cat.holidays;
    char b[16];
    assert_string_equal(next_open(c, "2021-11-15", b), "2021-11-15"); /* already open */
    assert_string_equal(next_open(c, "2021-11-13", b), "2021-11-15"); /* weekend */
    assert_string_equal(next_open(c, "2021-05-01", b), "2021-05-06"); /* Golden Week */
    assert_string_equal(next_open(c, "2019-04-27", b), "2019-05-07"); /* ten days in 2019 */
    assert_string_equal(next_open(c, "2021-12-29", b), "2022-01-04"); /* year-end closure */
    assert_string_equal(next_open(c, "2022-12-29", b), "2023-01-04"); /* closure, then Wed 4 Jan */
    assert_string_equal(next_open(c, "2021-08-08", b), "2021-08-10"); /* 山の日 and its substitute */
    assert_string_equal(next_open(c, "2021-07-22", b), "2021-07-26"); /* Olympic moves + weekend */
    assert_string_equal(next_open(c, "2021-10-11", b), "2021-10-11"); /* a working day in 2021 */
    assert_string_equal(next_open(c, "2021-02-28", b), "2021-03-01"); /* a quarterly deadline */
    /* the law-derived years after the Cabinet Office's list (holidays.conf's
     * header): the same kinds of day, computed from the law as it stands */
    assert_true(c->last_year >= 2050);
    assert_string_equal(next_open(c, "2028-09-18", b), "2028-09-19"); /* 敬老の日 */
    assert_string_equal(next_open(c, "2029-04-28", b), "2029-05-01"); /* 昭和の日 on a Sunday, its substitute */
    assert_string_equal(next_open(c, "2028-12-29", b), "2029-01-04"); /* year-end closure */
    /* the calendar's end: an error naming the year, never a guess */
    char want[32];
    snprintf(want, sizeof want, "gap %d", c->last_year + 1);
    char from[32];
    snprintf(from, sizeof from, "%d-01-05", c->last_year + 1);
    assert_string_equal(next_open(c, from, b), want);
    /* a closure that runs past the last year needs the next year too */
    snprintf(from, sizeof from, "%d-12-31", c->last_year);
    assert_string_equal(next_open(c, from, b), want);
    assert_string_equal(next_open(c, "2007-12-25", b), "gap 2007");
    assert_string_equal(next_open(c, "2051-01-10", b), "gap 2051");
}

/* The equinox days are fixed each year by the 官報 from astronomical
 * computation; this well-known approximation (valid 1980-2099) is an
 * independent check of every year the generated file covers. */
static void test_equinoxes(void **state)
{
    const holiday_calendar *c = &((tu_env *)*state)->cat.holidays;
    for (int y = c->first_year; y <= c->last_year; y++) {
        int k = y - 1980;
        int spring = (int)(20.8431 + 0.242194 * k) - k / 4;
        int autumn = (int)(23.2488 + 0.242194 * k) - k / 4;
        const holiday_day *h;
        jst_date s = {y, 3, spring}, a = {y, 9, autumn};
        assert_int_equal(holiday_kind_of(c, s, &h), HOLIDAY_NATIONAL);
        assert_string_equal(h->name_ja, "春分の日");
        assert_int_equal(holiday_kind_of(c, a, &h), HOLIDAY_NATIONAL);
        assert_string_equal(h->name_ja, "秋分の日");
    }
}

static void expect_error(const char *text, const char *msg)
{
    conf_file f;
    jiko_error err;
    char buf[ERROR_TEXT_MAX];
    if (conf_parse(text, strlen(text), "h.conf", &f, &err) == 0) {
        holiday_calendar c;
        int rc = holiday_from_conf(&c, &f, &err);
        conf_free(&f);
        if (rc == 0) {
            holiday_free(&c);
            fail_msg("accepted: %s", text);
        }
    }
    error_format(&err, buf, sizeof buf);
    if (!strstr(buf, msg))
        fail_msg("error \"%s\" lacks \"%s\"", buf, msg);
}

#define HEAD "[calendar]\nfirst_year = 2021\nlast_year = 2021\nweekend = saturday sunday\n" \
             "year_end = 12-29 01-03\nsource = s\n"

static void test_errors(void **state)
{
    (void)state;
    expect_error("[year 2021]\n", "h.conf:1: a holiday calendar must start with a [calendar] section");
    expect_error("[calendar]\nfirst_year = 2021\n", "h.conf:1: field 'last_year': missing in [calendar]");
    expect_error(HEAD, "h.conf:1: field 'last_year': the calendar says it covers 2021 to 2021 but has no [year 2021]");
    expect_error(HEAD "[year 2022]\n", "h.conf:7: expected [year 2021]");
    expect_error(HEAD "[year 2021]\nholiday = 2021-13-01 x | y\n", "h.conf:8: field 'holiday': expected a valid date YYYY-MM-DD, got '2021-13-01'");
    expect_error(HEAD "[year 2021]\nholiday = 2022-01-01 元日 | New Year\n", "the date is not in the year of its [year] section");
    expect_error(HEAD "[year 2021]\nholiday = 2021-01-01 元日\n", "expected 'YYYY-MM-DD 名称 | English name'");
    expect_error(HEAD "[year 2021]\nholiday = 2021-05-05 a | b\nholiday = 2021-05-03 c | d\n", "h.conf:9: field 'holiday': holidays must be listed in date order, each once");
    expect_error(HEAD "[year 2021]\nday = 2021-05-05 a | b\n", "unknown key in [year]");
    expect_error("[calendar]\nweekend = caturday\n", "expected weekday names such as 'saturday sunday', got 'caturday'");
    expect_error("[calendar]\nyear_end = 12-29\n", "h.conf:2: field 'year_end': expected the closure's first and last day");
    expect_error("[calendar]\nfirst_year = 20x1\n", "expected a four-digit year from 1948");
    expect_error("[calendar]\nfirst_year = 2022\nlast_year = 2021\nweekend = sunday\nyear_end = 12-29 01-03\nsource = s\n", "earlier than first_year");
    expect_error("[calendar]\nfirst_year = 2021\nlast_year = 2021\nweekend = sunday monday tuesday wednesday thursday friday saturday\n"
                 "year_end = 12-29 01-03\nsource = s\n[year 2021]\n",
                 "more than 16 administrative holidays in a row");
    expect_error("[calendar]\nbogus = 1\n", "unknown key in [calendar]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_next_open),
        cmocka_unit_test(test_equinoxes),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, tu_env_setup, tu_env_teardown);
}
