/*
 * test_forecast_run.c — a forecaster over a stream (src/watch/forecast_run.h):
 * when the warning starts and ends, the final forecast, refused samples,
 * "no samples", and the JSON of an event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the includes above first */
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast_run.h"

#define SEC 1000LL
#define DAY (86400 * SEC)
#define T0 1600000000000LL

/* What every test works with (one for the group, started afresh by each
 * test): a run over "gauge.csv" with a one-day horizon and the limit the
 * test gives, a result, an error and its text. */
typedef struct fixture {
    forecast_run run;
    forecast_result r;
    jiko_error err;
    char msg[ERROR_TEXT_MAX];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static fixture *start(void **state, double limit)
{
    fixture *f = *state;
    forecast_config cfg;
    forecast_config_default(&cfg);
    cfg.horizon_ms = DAY;
    assert_int_equal(forecast_run_init(&f->run, &cfg, limit, &f->err), 0);
    f->run.source = "gauge.csv";
    return f;
}

/* The error's text as jiko forecast prints it. */
static const char *text(fixture *f)
{
    return error_format(&f->err, f->msg, sizeof f->msg);
}

/* A gauge that climbs towards its limit (10 s samples) and then falls
 * back: one warning, one end of warning, nothing in between, and the
 * final forecast does not warn. */
static void test_warning_starts_and_ends_once(void **state)
{
    fixture *f = start(state, 5000);
    int events[8], n = 0;
    int64_t warned_at = 0, ended_at = 0;
    for (int i = 0; i < 4000; i++) {
        double v = i < 2000 ? 100 + i * 2.45 : 4990 - (i - 2000) * 3;
        int ev = forecast_run_feed(&f->run, i + 1, T0 + i * 10 * SEC, v, NULL, &f->r, &f->err);
        assert_true(ev >= 0);
        if (ev == FORECAST_RUN_NONE)
            continue;
        assert_true(n < 8);
        events[n++] = ev;
        assert_true(f->r.now_ms == T0 + i * 10 * SEC);
        assert_int_equal(f->r.warn, ev == FORECAST_RUN_WARNING);
        if (ev == FORECAST_RUN_WARNING) {
            assert_int_equal(f->r.status, FORECAST_GROWING);
            warned_at = f->r.now_ms;
        } else {
            ended_at = f->r.now_ms;
        }
    }
    assert_int_equal(n, 2);
    assert_int_equal(events[0], FORECAST_RUN_WARNING);
    assert_int_equal(events[1], FORECAST_RUN_WARNING_ENDED);
    assert_true(warned_at < ended_at);
    assert_true(warned_at < T0 + 2000 * 10 * SEC); /* before the peak */
    assert_int_equal(f->run.samples, 4000);
    assert_int_equal(forecast_run_final(&f->run, &f->r, &f->err), 0);
    assert_false(f->r.warn);
    assert_true(f->r.now_ms == T0 + 3999 * 10 * SEC);
}

/* At or above the limit from the first sample: the warning starts at once
 * and the final forecast still warns (jiko forecast exits 10). */
static void test_exhausted_warns_at_once(void **state)
{
    fixture *f = start(state, 100);
    assert_int_equal(forecast_run_feed(&f->run, 1, T0, 120, NULL, &f->r, &f->err),
                     FORECAST_RUN_WARNING);
    assert_int_equal(f->r.status, FORECAST_EXHAUSTED);
    assert_int_equal(forecast_run_feed(&f->run, 2, T0 + SEC, 130, NULL, &f->r, &f->err),
                     FORECAST_RUN_NONE);
    assert_int_equal(forecast_run_final(&f->run, &f->r, &f->err), 0);
    assert_true(f->r.warn);

    char *j = forecast_run_json(&f->r, FORECAST_RUN_FINAL);
    assert_non_null(j);
    /* 1600000001 s = 2020-09-13T21:26:41+09:00 */
    assert_string_equal(j, "{\"event\":\"final\",\"at\":\"2020-09-13T21:26:41+09:00\","
                           "\"status\":\"exhausted\",\"warn\":true,\"value\":130.0,"
                           "\"limit\":100.0,\"eta\":\"2020-09-13T21:26:41+09:00\","
                           "\"early\":\"2020-09-13T21:26:41+09:00\","
                           "\"late\":\"2020-09-13T21:26:41+09:00\",\"rate_per_hour\":0.0,"
                           "\"basis\":\"\"}");
    free(j);
}

/* A refused sample is reported with the source, its line and the field,
 * and changes nothing: the run goes on with the next one. */
static void test_refused_samples(void **state)
{
    fixture *f = start(state, 100);
    assert_int_equal(forecast_run_feed(&f->run, 2, T0, 10, NULL, &f->r, &f->err), FORECAST_RUN_NONE);
    assert_int_equal(forecast_run_feed(&f->run, 3, T0 - SEC, 10, NULL, &f->r, &f->err), -1);
    assert_int_equal(f->err.kind, JIKO_ERR_INVALID);
    assert_string_equal(text(f), "gauge.csv:3: field 'timestamp': earlier than the previous sample");
    /* a value that is not finite is refused as a value (issue 13 row 11) */
    assert_int_equal(forecast_run_feed(&f->run, 4, T0 + SEC, NAN, NULL, &f->r, &f->err), -1);
    assert_string_equal(text(f), "gauge.csv:4: field 'value': 'nan' is not a finite number");
    assert_int_equal(f->run.samples, 1);
    assert_true(f->run.last_ms == T0);
    assert_int_equal(forecast_run_feed(&f->run, 5, T0 + SEC, 11, NULL, &f->r, &f->err),
                     FORECAST_RUN_NONE);
    assert_int_equal(f->run.samples, 2);
}

static void test_no_samples(void **state)
{
    fixture *f = start(state, 100);
    assert_int_equal(forecast_run_final(&f->run, &f->r, &f->err), -1);
    assert_int_equal(f->err.kind, JIKO_ERR_INVALID);
    assert_string_equal(text(f), "gauge.csv: no samples");
}

/* A bad limit is refused by init, naming the field. */
static void test_init_refuses_bad_limit(void **state)
{
    fixture *f = *state;
    assert_int_equal(forecast_run_init(&f->run, NULL, 0, &f->err), -1);
    assert_string_equal(f->err.field, "limit");
    assert_int_equal(forecast_run_init(&f->run, NULL, INFINITY, &f->err), -1);
    assert_int_equal(forecast_run_init(&f->run, NULL, 1, &f->err), 0);
    assert_null(f->run.source);
    assert_false(f->run.warned);
}

/* Event names, and nulls in the JSON where there is no exhaustion time. */
static void test_names_and_json_nulls(void **state)
{
    assert_string_equal(forecast_run_event_name(FORECAST_RUN_WARNING), "warning");
    assert_string_equal(forecast_run_event_name(FORECAST_RUN_WARNING_ENDED), "warning-ended");
    assert_string_equal(forecast_run_event_name(FORECAST_RUN_FINAL), "final");
    assert_string_equal(forecast_run_event_name(FORECAST_RUN_NONE), "");

    fixture *f = start(state, 200);
    forecast_run_feed(&f->run, 1, T0, 50, NULL, &f->r, &f->err);
    assert_int_equal(forecast_run_final(&f->run, &f->r, &f->err), 0);
    char *j = forecast_run_json(&f->r, FORECAST_RUN_WARNING_ENDED);
    assert_non_null(j);
    assert_string_equal(j, "{\"event\":\"warning-ended\",\"at\":\"2020-09-13T21:26:40+09:00\","
                           "\"status\":\"unknown\",\"warn\":false,\"value\":50.0,"
                           "\"limit\":200.0,\"eta\":null,\"early\":null,\"late\":null,"
                           "\"rate_per_hour\":0.0,\"basis\":\"\"}");
    free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_warning_starts_and_ends_once),
        cmocka_unit_test(test_exhausted_warns_at_once),
        cmocka_unit_test(test_refused_samples),
        cmocka_unit_test(test_no_samples),
        cmocka_unit_test(test_init_refuses_bad_limit),
        cmocka_unit_test(test_names_and_json_nulls),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
