/* test_report.c — rounding as published, matrix cells at their inclusive
 * bounds, and the yearly statistics of a small registry counted by hand. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "report_render.h"
#include "testutil.h"
#include "utf8.h"

static void test_rounding(void **state)
{
    (void)state;
    /* published: 6,226 of 6,709 is 92.8 %; 19 of 6,709 is 0.3 %; 31 is 0.5 % */
    assert_int_equal(report_pct(6226, 6709, 1), 928);
    assert_int_equal(report_pct(19, 6709, 1), 3);
    assert_int_equal(report_pct(31, 6709, 1), 5);
    assert_int_equal(report_pct(2868, 12239, 0), 23);
    /* half up: exactly one half rounds up, just below it rounds down */
    assert_int_equal(report_pct(1, 8, 0), 13);  /* 12.5 -> 13 */
    assert_int_equal(report_pct(1, 200, 0), 1); /* 0.5 -> 1 */
    assert_int_equal(report_pct(99, 20000, 0), 0); /* 0.495 -> 0 */
    assert_int_equal(report_pct(5, 0, 0), -1);
    bool known;
    /* a change in points is the difference of the two published shares */
    assert_int_equal(report_delta_pt(2868, 12239, 3008, 12030, &known), -2);
    assert_true(known);
    report_delta_pt(1, 2, 0, 0, &known);
    assert_false(known);
}

static void test_cells(void **state)
{
    (void)state;
    const int64_t min = 60000;
    assert_int_equal(report_duration_row(29 * min + 59999), 0);
    assert_int_equal(report_duration_row(30 * min), 1);
    assert_int_equal(report_duration_row(120 * min - 1), 3);
    assert_int_equal(report_duration_row(120 * min), 4); /* 2時間以上: inclusive */
    assert_int_equal(report_duration_row(24 * 60 * min), 7);
    assert_int_equal(report_users_col(499), 0);
    assert_int_equal(report_users_col(500), 1);
    assert_int_equal(report_users_col(29999), 2);
    assert_int_equal(report_users_col(30000), 3); /* 3万以上: inclusive */
    assert_int_equal(report_users_col(1000000), 5);
    assert_true(report_cell_outside_duty(3, 2));
    assert_false(report_cell_outside_duty(4, 0));
    assert_false(report_cell_outside_duty(0, 3));
}

/* Long text cells wrap inside their column (between words for Latin text,
 * anywhere for Japanese) and nothing is lost. */
static void test_text_wrap(void **state)
{
    (void)state;
    rtable t;
    rtable_init(&t, "x", "T");
    rtable_col(&t, "n", "N", true);
    rtable_col(&t, "s", "S", false);
    rtable_row(&t);
    rtable_cell(&t, "1", NULL);
    const char *en = "one two three four five six seven eight nine ten eleven twelve thirteen "
                     "fourteen fifteen sixteen";
    rtable_cell(&t, en, NULL);
    rtable_row(&t);
    rtable_cell(&t, "2", NULL);
    rtable_cell(&t, "重大な事故に該当する電気通信役務の区分は一から四までに掲げる電気通信役務以外の電気通信役務", NULL);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    rtable_write_text(m, &t);
    fclose(m);
    rtable_free(&t);
    size_t lines = 0;
    char *words = calloc(1, len + 1);
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        assert_true(utf8_width(line) <= 3 + 48);
        if (line[0] == ' ' || (line[0] >= '0' && line[0] <= '9')) {
            strcat(words, line + 3);
            lines++;
        }
    }
    /* every word of the English cell is there, each whole */
    char *copy = strdup(en);
    for (char *w = strtok(copy, " "); w; w = strtok(NULL, " "))
        assert_non_null(strstr(words, w));
    assert_true(lines >= 4);
    free(copy);
    free(words);
    free(buf);
}

static void put_line(store *db, tu_env *env, const char *json)
{
    incident inc;
    jiko_error err;
    assert_int_equal(incident_parse(&inc, json, strlen(json), &env->cat, "t", 1, &err), 0);
    classify_result r;
    classify_incident(rules_select(&env->rules, inc.started_ms), &env->cat, &inc, inc.started_ms, &r);
    store_outcome o;
    assert_int_equal(store_put(db, &inc, &r, json, strlen(json), "test", 0, &o, NULL, &err), 0);
    incident_free(&inc);
}

/* Five incidents counted by hand: a wholesale serious accident reported by
 * its provider and one receiver, a detailed one with two services, a simple
 * one, one that owes nothing, and one in the year before. */
static void test_small_year(void **state)
{
    tu_env *env = *state;
    const char *path = "/tmp/jiko-test-report.db";
    unlink(path);
    store *db;
    jiko_error err;
    assert_int_equal(store_open(&db, path, &err), 0);
    assert_int_equal(store_begin(db, &err), 0);
    put_line(db, env, "{\"id\":\"a\",\"operator\":\"P\",\"started_at\":\"2021-06-01T10:00:00+09:00\","
                      "\"ended_at\":\"2021-06-01T13:00:00+09:00\",\"services\":[{\"service\":\"ftth\","
                      "\"effect\":\"stop\",\"users\":40000}],\"cause\":{\"category\":\"equipment\"},"
                      "\"equipment\":\"subscriber_unit\",\"summary\":\"S\"}");
    put_line(db, env, "{\"id\":\"b\",\"operator\":\"R\",\"wholesale_provider\":\"P\","
                      "\"started_at\":\"2021-06-01T10:00:00+09:00\",\"ended_at\":\"2021-06-01T13:00:00+09:00\","
                      "\"services\":[{\"service\":\"ftth\",\"effect\":\"stop\",\"users\":40000}],"
                      "\"cause\":{\"category\":\"external\"}}");
    put_line(db, env, "{\"id\":\"c\",\"operator\":\"Q\",\"started_at\":\"2021-07-01T10:00:00+09:00\","
                      "\"ended_at\":\"2021-07-01T12:00:00+09:00\",\"services\":[{\"service\":\"mobile_voice\","
                      "\"effect\":\"stop\",\"users\":10},{\"service\":\"mobile_data\",\"effect\":\"degrade\",\"users\":10}],"
                      "\"cause\":{\"category\":\"human\"},\"equipment\":\"subscriber_cable\"}");
    put_line(db, env, "{\"id\":\"d\",\"operator\":\"Q\",\"started_at\":\"2021-08-01T10:00:00+09:00\","
                      "\"ended_at\":\"2021-08-01T13:00:00+09:00\",\"services\":[{\"service\":\"mobile_data\","
                      "\"effect\":\"stop\",\"users\":10}],\"equipment\":\"radio_base_station\"}");
    put_line(db, env, "{\"id\":\"e\",\"operator\":\"Q\",\"started_at\":\"2021-08-01T10:00:00+09:00\","
                      "\"ended_at\":\"2021-08-01T10:10:00+09:00\",\"services\":[{\"service\":\"ftth\","
                      "\"effect\":\"stop\",\"users\":10}]}");
    put_line(db, env, "{\"id\":\"f\",\"operator\":\"Z\",\"started_at\":\"2021-03-31T23:59:00+09:00\","
                      "\"ended_at\":\"2021-04-01T03:00:00+09:00\",\"services\":[{\"service\":\"ftth\","
                      "\"effect\":\"stop\",\"users\":10}],\"cause\":{\"category\":\"equipment\"}}");
    assert_int_equal(store_commit(db, &err), 0);
    report_year y;
    assert_int_equal(report_compute(&y, db, &env->cat, 2021, &err), 0);
    const report_counts *c = &y.cur;
    assert_int_equal(c->reports[REPORT_SERIOUS], 1); /* one accident... */
    assert_int_equal(c->operators[REPORT_SERIOUS], 2); /* ...two reporting operators */
    assert_int_equal(c->serious_records, 2);
    assert_int_equal(c->reports[REPORT_DETAILED], 3); /* serious ones included */
    assert_int_equal(c->operators[REPORT_DETAILED], 3);
    assert_int_equal(c->reports[REPORT_SIMPLE], 1);
    assert_int_equal(c->operators[REPORT_SIMPLE], 1);
    assert_int_equal(c->matrix[4][3], 2); /* 3 h, 40,000 users */
    assert_int_equal(c->matrix[4][0], 1); /* exactly 2 h, 10 users */
    assert_int_equal(c->services_total, 4);
    assert_int_equal(c->service_groups[0].count, 1); /* voice: mobile_voice */
    assert_int_equal(c->service_groups[1].count, 3);
    assert_int_equal(c->cause[0] + c->cause[1] + c->cause[2] + c->cause_unknown, 3);
    assert_int_equal(c->equipment_known, 2);
    assert_int_equal(c->n_accidents, 1);
    assert_int_equal(c->accidents[0].n_ops, 2);
    assert_string_equal(c->accidents[0].ops[0], "P");
    assert_int_equal(y.prev.reports[REPORT_DETAILED], 1);
    /* every format renders; unknown tables are refused */
    FILE *devnull = fopen("/dev/null", "w");
    for (int f = REPORT_TEXT; f <= REPORT_JSON; f++)
        assert_int_equal(report_render(devnull, &y, (report_format)f, f % 2, NULL, &err), 0);
    /* every table alone, in every format (JSON prints the member of that name) */
    for (int i = 0; i < REPORT_N_TABLES; i++)
        for (int f = REPORT_TEXT; f <= REPORT_JSON; f++)
            assert_int_equal(report_render(devnull, &y, (report_format)f, false,
                                           report_table_ids[i], &err), 0);
    assert_int_not_equal(report_render(devnull, &y, REPORT_CSV, false, "nope", &err), 0);
    assert_int_not_equal(report_render(devnull, &y, REPORT_JSON, false, "nope", &err), 0);
    fclose(devnull);
    report_free(&y);
    /* an empty year is all zeros, not an error */
    assert_int_equal(report_compute(&y, db, &env->cat, 1990, &err), 0);
    assert_int_equal(y.cur.detailed, 0);
    report_free(&y);
    store_close(db);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rounding),
        cmocka_unit_test(test_cells),
        cmocka_unit_test(test_text_wrap),
        cmocka_unit_test_setup_teardown(test_small_year, tu_env_setup, tu_env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
