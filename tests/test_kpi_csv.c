/*
 * test_kpi_csv.c — KPI CSV intake (src/watch/kpi_csv.h): timestamps, the
 * three layouts, headers, comments and bad lines.
 *
 * Each test reads a text through fmemopen and renders what the reader gave
 * as one string per line: "ROW line series|time|value_text=value@t_ms" or
 * "ERR <error_format text>", so a test states the whole outcome at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the includes above first */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpi_csv.h"

#define OUT_MAX 4096

/* Read all of text with the layout; the rendering of every result, and
 * the columns seen after each call ("0", "2", "3") in *cols. */
static void read_all(const char *text, kpi_csv_layout layout, char *out, char *cols)
{
    FILE *fp = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(fp);
    kpi_csv r;
    kpi_csv_open(&r, fp, "kpi.csv", layout);
    kpi_row row;
    jiko_error err;
    size_t o = 0, c = 0;
    int got;
    out[0] = '\0';
    do {
        got = kpi_csv_next(&r, &row, &err);
        cols[c++] = (char)('0' + kpi_csv_columns(&r));
        char msg[ERROR_TEXT_MAX];
        if (got == KPI_CSV_ROW) {
            o += (size_t)snprintf(out + o, OUT_MAX - o, "ROW %ld %.*s|%.*s|%s=%g@%lld\n", row.line,
                                  (int)row.series_len, row.series ? row.series : "",
                                  (int)row.time_len, row.time, row.value_text, row.value,
                                  (long long)row.t_ms);
            assert_int_equal(row.value_len, strlen(row.value_text));
            assert_int_equal(row.series == NULL, row.series_len == 0);
        } else if (got == KPI_CSV_REJECTED) {
            assert_int_equal(err.kind, JIKO_ERR_INVALID);
            assert_string_equal(err.file, "kpi.csv");
            o += (size_t)snprintf(out + o, OUT_MAX - o, "ERR %s\n",
                                  error_format(&err, msg, sizeof msg));
        }
        assert_true(o < OUT_MAX);
    } while (got != KPI_CSV_END);
    cols[c] = '\0';
    kpi_csv_close(&r);
    fclose(fp);
}

/* Read text with the layout and compare the rendering with want, and the
 * columns after each call with want_cols (unless NULL). */
static void expect_read(const char *text, kpi_csv_layout layout, const char *want,
                        const char *want_cols)
{
    char out[OUT_MAX], cols[64];
    read_all(text, layout, out, cols);
    assert_string_equal(out, want);
    if (want_cols)
        assert_string_equal(cols, want_cols);
}

static void test_parse_time(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t n; /* bytes given: need not reach a NUL */
        bool ok;
        int64_t ms;
    } cases[] = {
        {"2021-08-03T15:00:00+09:00", 25, true, 1627970400000LL},
        {"2021-08-03T06:00:00.250Z", 24, true, 1627970400250LL},
        /* NAB's form, taken as UTC; here followed by the value */
        {"2014-04-01 00:05:00,12", 19, true, 1396310700000LL},
        /* Unix seconds (fractions kept to the ms), milliseconds above 1e11 */
        {"1600000000", 10, true, 1600000000000LL},
        {"1600000000.5", 12, true, 1600000000500LL},
        {"1600000000000", 13, true, 1600000000000LL},
        {"0", 1, true, 0},
        {"0000000000000000000000000000001", 31, true, 1000},
        /* refused */
        {"", 0, false, 0},
        {"-5", 2, false, 0},
        {"1e15", 4, false, 0},
        {"12x", 3, false, 0},
        {"nan", 3, false, 0},
        {"2021-08-03 25:00:00", 19, false, 0},
        {"2021-08-03T15:00:00", 19, false, 0}, /* no time zone */
        {"00000000000000000000000000000001", 32, false, 0}, /* too long for a number */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t ms = -1;
        bool ok = kpi_parse_time(cases[i].text, cases[i].n, &ms);
        if (ok != cases[i].ok || (ok && ms != cases[i].ms))
            fail_msg("'%.*s': got %d, %lld", (int)cases[i].n, cases[i].text, ok, (long long)ms);
    }
}

/* One series with a header, comments, blank lines and CRLF ends; the time
 * and value come back as written. */
static void test_series_two_columns(void **state)
{
    (void)state;
    expect_read("# exported 2021-08-03\n\ntimestamp,value\r\n1600000000,1.5\r\n"
                "2020-09-13 12:27:00,2e3\n# mid-file comment\n1600000120,-3\n",
                KPI_CSV_SERIES,
                "ROW 4 |1600000000|1.5=1.5@1600000000000\n"
                "ROW 5 |2020-09-13 12:27:00|2e3=2000@1600000020000\n"
                "ROW 7 |1600000120|-3=-3@1600000120000\n",
                "2222");
}

/* Bad lines: each reported with the line and field, then skipped. */
static void test_series_bad_lines(void **state)
{
    (void)state;
    expect_read("1600000000,1\n"
                "1600000060,x\n"
                "1600000120,3,4\n"
                "bad\n"
                ",8\n"
                "1600000400,\n"
                "1600000500, 9\n"
                "notatime-with-a-very-long-text-that-goes-beyond-forty-characters,1\n"
                "1600000600,1 junk with a long long long long long long tail\n",
                KPI_CSV_SERIES,
                "ROW 1 |1600000000|1=1@1600000000000\n"
                "ERR kpi.csv:2: field 'value': expected a number, got 'x'\n"
                "ERR kpi.csv:3: expected 2 comma-separated columns\n"
                "ERR kpi.csv:4: expected 2 comma-separated columns\n"
                "ERR kpi.csv:5: field 'timestamp': expected RFC 3339, 'YYYY-MM-DD HH:MM:SS' or "
                "Unix time, got ''\n"
                "ERR kpi.csv:6: field 'value': expected a number, got ''\n"
                "ROW 7 |1600000500| 9=9@1600000500000\n"
                "ERR kpi.csv:8: field 'timestamp': expected RFC 3339, 'YYYY-MM-DD HH:MM:SS' or "
                "Unix time, got 'notatime-with-a-very-long-text-that-goes'\n"
                "ERR kpi.csv:9: field 'value': expected a number, got '1 junk with a long long "
                "long long long l'\n",
                NULL);
}

/* Three columns; a one-column first line is refused without fixing the
 * columns (0 until the header), and a header is only recognised on the
 * line that fixes them. */
static void test_series_three_columns_and_headers(void **state)
{
    (void)state;
    expect_read("bad\n# c\nseries,timestamp,value\na,1600000000,1\nb,1600000000,2\n"
                "c,1600000000,4,5\nd,1600000000\nseries,timestamp,value\n",
                KPI_CSV_SERIES,
                "ERR kpi.csv:1: expected 'timestamp,value' or 'series,timestamp,value'\n"
                "ROW 4 a|1600000000|1=1@1600000000000\n"
                "ROW 5 b|1600000000|2=2@1600000000000\n"
                "ERR kpi.csv:6: expected 3 comma-separated columns\n"
                "ERR kpi.csv:7: expected 3 comma-separated columns\n"
                "ERR kpi.csv:8: field 'timestamp': expected RFC 3339, 'YYYY-MM-DD HH:MM:SS' or "
                "Unix time, got 'timestamp'\n",
                "0333333");
    /* a header alone fixes the columns: a caller prints its own header */
    expect_read("timestamp,value\n", KPI_CSV_SERIES, "", "2");
    /* nothing but comments: no columns */
    expect_read("# only\n\n", KPI_CSV_SERIES, "", "0");
    /* four columns on the first line: three, and that line is refused */
    expect_read("a,b,c,d\n1,2,3,4\n", KPI_CSV_SERIES,
                "ERR kpi.csv:1: expected 3 comma-separated columns\n"
                "ERR kpi.csv:2: expected 3 comma-separated columns\n",
                NULL);
    /* an unknown header is data, and bad data */
    expect_read("ts,v\n1600000000,1\n", KPI_CSV_SERIES,
                "ERR kpi.csv:1: field 'timestamp': expected RFC 3339, 'YYYY-MM-DD HH:MM:SS' or "
                "Unix time, got 'ts'\n"
                "ROW 2 |1600000000|1=1@1600000000000\n",
                NULL);
}

/* jiko forecast's gauge: header only on line 1, comments, strict value. */
static void test_gauge(void **state)
{
    (void)state;
    expect_read("timestamp,value\n1600000000,5\n# c\n1600000060,1 2\nfoo,1\n1600000120,nan\n"
                "timestamp,value\n1600000180,7\n",
                KPI_CSV_GAUGE,
                "ROW 2 |1600000000|5=5@1600000000000\n"
                "ERR kpi.csv:4: expected 'timestamp,value' with a time and a number\n"
                "ERR kpi.csv:5: expected 'timestamp,value' with a time and a number\n"
                "ROW 6 |1600000120|nan=nan@1600000120000\n"
                "ERR kpi.csv:7: expected 'timestamp,value' with a time and a number\n"
                "ROW 8 |1600000180|7=7@1600000180000\n",
                "2222222");
    /* a header after a comment is not a header */
    expect_read("# c\ntimestamp,value\n", KPI_CSV_GAUGE,
                "ERR kpi.csv:2: expected 'timestamp,value' with a time and a number\n", NULL);
}

/* NAB files: no comments; the value is the number that starts the rest of
 * the line, which is kept whole as its text. */
static void test_nab(void **state)
{
    (void)state;
    expect_read("timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,2 tail\n# c\n"
                "2014-04-01 00:10:00,3,4\nbad\n2014-04-01 00:15:00,\n\n2014-04-01 00:20:00,x\n",
                KPI_CSV_NAB,
                "ROW 2 |2014-04-01 00:00:00|1=1@1396310400000\n"
                "ROW 3 |2014-04-01 00:05:00|2 tail=2@1396310700000\n"
                "ERR kpi.csv:4: expected 'timestamp,value'\n"
                "ROW 5 |2014-04-01 00:10:00|3,4=3@1396311000000\n"
                "ERR kpi.csv:6: expected 'timestamp,value'\n"
                "ERR kpi.csv:7: expected 'timestamp,value'\n"
                "ERR kpi.csv:9: expected 'timestamp,value'\n",
                "22222222");
}

/* Lines longer than any buffer a caller might have guessed. */
static void test_long_line(void **state)
{
    (void)state;
    size_t n = 100000;
    char *text = malloc(n + 64);
    assert_non_null(text);
    int k = snprintf(text, n + 64, "1600000000,");
    memset(text + k, '1', n);
    strcpy(text + k + n, "\n");
    FILE *fp = fmemopen(text, strlen(text), "r");
    assert_non_null(fp);
    kpi_csv r;
    kpi_csv_open(&r, fp, "long.csv", KPI_CSV_GAUGE);
    kpi_row row;
    jiko_error err;
    assert_int_equal(kpi_csv_next(&r, &row, &err), KPI_CSV_ROW);
    assert_int_equal(row.value_len, n);
    assert_int_equal(kpi_csv_next(&r, &row, &err), KPI_CSV_END);
    kpi_csv_close(&r);
    fclose(fp);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_series_two_columns),
        cmocka_unit_test(test_series_bad_lines),
        cmocka_unit_test(test_series_three_columns_and_headers),
        cmocka_unit_test(test_gauge),
        cmocka_unit_test(test_nab),
        cmocka_unit_test(test_long_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
