/*
 * test_series.c — the series table: naming ingested samples, one detector
 * per name, events out (src/watch/series.h).
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

#include "series.h"

/* A sample with labels given as "k=v" strings (already sorted). */
static ingest_sample sample_of(const char *metric, const char *const *labels, size_t n)
{
    ingest_sample s;
    memset(&s, 0, sizeof s);
    s.metric = metric;
    s.metric_len = strlen(metric);
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(labels[i], '=');
        s.labels[i] = (ingest_label){.name = labels[i], .name_len = (size_t)(eq - labels[i]),
                                     .value = eq + 1, .value_len = strlen(eq + 1)};
    }
    s.n_labels = n;
    return s;
}

/* The name as jiko detect built it before series.c, in a 2048-byte buffer:
 * names that fit must come out the same. */
static size_t old_name(const ingest_sample *smp, char *name, size_t size)
{
    size_t o = 0;
    o += (size_t)snprintf(name, size, "%.*s", (int)smp->metric_len, smp->metric);
    for (size_t i = 0; i < smp->n_labels && o < size; i++)
        o += (size_t)snprintf(name + o, size - o, "%s%.*s=%.*s", i ? "," : "{",
                              (int)smp->labels[i].name_len, smp->labels[i].name,
                              (int)smp->labels[i].value_len, smp->labels[i].value);
    if (smp->n_labels && o < size)
        o += (size_t)snprintf(name + o, size - o, "}");
    return o;
}

static void test_name_without_and_with_labels(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t cap = 0, len = 0;
    ingest_sample bare = sample_of("cpu.usage", NULL, 0);
    assert_int_equal(series_name_build(&bare, &buf, &cap, &len), 0);
    assert_string_equal(buf, "cpu.usage");
    assert_int_equal(len, 9);

    const char *l[] = {"host=a", "zone=tokyo-1"};
    ingest_sample two = sample_of("cpu.usage", l, 2);
    assert_int_equal(series_name_build(&two, &buf, &cap, &len), 0);
    assert_string_equal(buf, "cpu.usage{host=a,zone=tokyo-1}");
    assert_int_equal(len, strlen(buf));

    char ref[2048];
    assert_int_equal(old_name(&two, ref, sizeof ref), len);
    assert_string_equal(buf, ref);

    /* one label whose value holds separators: kept as given */
    const char *odd[] = {"k=a,b=c}"};
    ingest_sample one = sample_of("m", odd, 1);
    assert_int_equal(series_name_build(&one, &buf, &cap, &len), 0);
    assert_string_equal(buf, "m{k=a,b=c}}");
    old_name(&one, ref, sizeof ref);
    assert_string_equal(buf, ref);
    free(buf);
}

/* Long names grow the buffer instead of being cut: the old 2048-byte
 * buffer cut them at 2047 bytes, merging series that differ later on. */
static void test_long_names_are_not_cut(void **state)
{
    (void)state;
    char *a = malloc(3001), *b = malloc(3001);
    assert_non_null(a);
    assert_non_null(b);
    memset(a, 'x', 3000);
    memcpy(a, "k=", 2);
    a[3000] = '\0';
    memcpy(b, a, 3001);
    b[2999] = 'y'; /* differs after byte 2047 */
    const char *la[] = {a}, *lb[] = {b};
    ingest_sample sa = sample_of("m.v", la, 1), sb = sample_of("m.v", lb, 1);

    char *buf = NULL;
    size_t cap = 0, len = 0;
    assert_int_equal(series_name_build(&sa, &buf, &cap, &len), 0);
    assert_int_equal(len, 3 + 1 + 3000 + 1); /* "m.v" "{" "k=x..." "}" */
    assert_int_equal(strlen(buf), len);
    assert_true(cap > len);
    assert_int_equal(buf[len - 1], '}');
    free(buf);

    detect_config cfg;
    detect_config_default(&cfg);
    series_table tab;
    series_table_init(&tab, &cfg, DETECT_ALERT_THRESHOLD);
    series *s1 = series_of_sample(&tab, &sa), *s2 = series_of_sample(&tab, &sb);
    assert_non_null(s1);
    assert_non_null(s2);
    assert_ptr_not_equal(s1, s2);
    assert_int_equal(strlen(s1->name), 3005);
    assert_ptr_equal(series_of_sample(&tab, &sa), s1);
    /* names that fit are the old names */
    const char *l[] = {"host=a"};
    ingest_sample short_one = sample_of("cpu.idle", l, 1);
    series *s3 = series_of_sample(&tab, &short_one);
    assert_string_equal(s3->name, "cpu.idle{host=a}");
    series_table_free(&tab);
    free(a);
    free(b);
}

static void test_get_returns_one_series_per_name(void **state)
{
    (void)state;
    detect_config cfg;
    detect_config_default(&cfg);
    series_table tab;
    series_table_init(&tab, &cfg, 0.5);
    const char line[] = "alpha,1600000000,1";
    series *a = series_get(&tab, line, 5); /* not NUL-terminated there */
    series *b = series_get(&tab, "beta", 4);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    assert_string_equal(a->name, "alpha");
    assert_ptr_equal(series_get(&tab, "alpha", 5), a);
    assert_int_equal(tab.names.n, 2);
    /* every series follows events with the table's threshold and the named
     * quiet period */
    assert_true(a->ev.threshold == 0.5);
    assert_int_equal(a->ev.quiet_points, SERIES_EVENT_QUIET_POINTS);
    for (int i = 0; i < 200; i++) /* many series: the map grows, pointers stay */
    {
        char n[16];
        snprintf(n, sizeof n, "s%d", i);
        assert_non_null(series_get(&tab, n, strlen(n)));
    }
    assert_ptr_equal(series_get(&tab, "alpha", 5), a);
    assert_string_equal(a->name, "alpha");
    series_table_free(&tab);
}

typedef struct flushed {
    int n;
    char names[4][16];
    detect_event ev[4];
} flushed;

static void collect(void *ctx, const series *s, const detect_event *e)
{
    flushed *f = ctx;
    assert_true(f->n < 4);
    snprintf(f->names[f->n], sizeof f->names[0], "%s", s->name);
    f->ev[f->n++] = *e;
}

/* series_feed scores like detect_step; an event closes after the quiet
 * points, and the flush hands over the ones still open. */
static void test_feed_and_flush_events(void **state)
{
    (void)state;
    detect_config cfg;
    detect_config_default(&cfg);
    series_table tab;
    series_table_init(&tab, &cfg, DETECT_ALERT_THRESHOLD);
    series *s = series_get(&tab, "cpu", 3), *quiet = series_get(&tab, "disk", 4);
    detect_state ref;
    detect_init(&ref, &cfg);
    int closed = 0;
    int64_t t0 = 1700000000000LL;
    double top = 0;
    for (int i = 0; i < 1000; i++) {
        double v = 50 + (i % 7) + (i >= 600 && i < 603 ? 80 : 0);
        double sc;
        detect_event e;
        if (series_feed(s, t0 + i * 300000LL, v, &sc, &e)) {
            closed++;
            assert_true(e.peak >= DETECT_ALERT_THRESHOLD);
            assert_true(e.start_ms <= e.peak_ms && e.peak_ms <= e.end_ms);
        }
        assert_true(sc == detect_step(&ref, t0 + i * 300000LL, v));
        if (sc > top)
            top = sc;
        double qs;
        assert_false(series_feed(quiet, t0 + i * 300000LL, 10.0, &qs, &e));
    }
    assert_true(top >= DETECT_ALERT_THRESHOLD);
    assert_int_equal(closed, 1);

    /* an event left open at the end comes out of the flush, once */
    for (int i = 0; i < 3; i++) {
        double sc;
        detect_event e;
        series_feed(s, t0 + (1000 + i) * 300000LL, i == 0 ? 1e6 : 50, &sc, &e);
    }
    flushed f = {0};
    assert_int_equal(series_table_flush(&tab, collect, &f), 1);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.names[0], "cpu");
    assert_true(f.ev[0].start_ms == t0 + 1000 * 300000LL);
    assert_int_equal(series_table_flush(&tab, collect, &f), 0);
    series_table_free(&tab);
}

static void test_event_json(void **state)
{
    (void)state;
    /* 2021-08-03T15:00:00+09:00 and two minutes later */
    detect_event e = {.start_ms = 1627970400000LL, .peak_ms = 1627970460000LL,
                      .end_ms = 1627970520000LL, .peak = 0.87654321};
    char *j = series_event_json("dns.queries{site=tokyo}", &e);
    assert_non_null(j);
    assert_string_equal(j, "{\"series\":\"dns.queries{site=tokyo}\","
                           "\"start\":\"2021-08-03T15:00:00+09:00\","
                           "\"peak_at\":\"2021-08-03T15:01:00+09:00\","
                           "\"peak_score\":0.8765,"
                           "\"end\":\"2021-08-03T15:02:00+09:00\"}");
    free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_without_and_with_labels),
        cmocka_unit_test(test_long_names_are_not_cut),
        cmocka_unit_test(test_get_returns_one_series_per_name),
        cmocka_unit_test(test_feed_and_flush_events),
        cmocka_unit_test(test_event_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
