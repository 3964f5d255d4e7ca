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
    env->cat.rules = &env->rules; /* as cli_env_load does: categories named by their rulebook */
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
    /* 2(2): the one serious accident hit ftth only: data / fixed, once */
    assert_string_equal(c->serious_groups[0].name, "voice");
    assert_int_equal(c->serious_groups[0].count, 0);
    assert_string_equal(c->serious_groups[1].name, "data");
    assert_int_equal(c->serious_groups[1].count, 1);
    assert_string_equal(c->serious_groups[1].sub[0], "fixed");
    assert_int_equal(c->serious_groups[1].sub_count[0], 1);
    /* the bundled published figures come with the catalog */
    const report_pub_year *p21 = report_published_year(&y.pub, 2021);
    assert_non_null(p21);
    assert_int_equal(p21->serious, 7);
    assert_int_equal(p21->equipment_unknown, 2636);
    assert_int_equal(report_published_year(&y.pub, 2017)->serious, -1); /* not found: unknown */
    assert_string_equal(report_published_mark(&y.pub, 4, 3), "※5");
    assert_null(report_published_mark(&y.pub, 4, 4));
    /* §5: the yearly list names the category as the ordinance words it */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    assert_int_equal(report_render(mem, &y, REPORT_TEXT, true, "serious", &err), 0);
    assert_int_equal(report_render(mem, &y, REPORT_MD, false, "serious", &err), 0);
    fclose(mem);
    assert_non_null(strstr(text, "五：一から四までに掲げる電気通信役務以外の電気通"));
    assert_non_null(strstr(text, "| 5 every other telecom service |"));
    assert_non_null(strstr(text, "号番号と文言による"));
    free(text);
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

/* catalogs/published.conf: every malformed line is an error naming its line
 * and key; notes are kept for the years they cover; years come out sorted. */
static void test_published(void **state)
{
    (void)state;
    static const struct {
        const char *text, *error;
    } bad[] = {
        {"[year 2021]\nserious = 7\n", "t.conf:1: field 'source': missing; every published figure needs its source"},
        {"[year 2021]\nsource = s\n", "t.conf:1: field 'serious': missing; expected a count or \"unknown\""},
        {"[year 2021]\nserious = seven\nsource = s\n", "t.conf:2: field 'serious': expected a count (0 or more) or \"unknown\""},
        {"[year 2021]\nserious = 7\nserious_operators = unknown\nsource = s\n", "t.conf:3: field 'serious_operators': expected a count (0 or more)"},
        {"[year 2021]\nserious = -1\nsource = s\n", "t.conf:2: field 'serious': expected a count"},
        {"[year 21]\nserious = 7\nsource = s\n", "t.conf:1: expected [year FY] with a fiscal year such as 2021"},
        {"[year 2021]\nserious = 7\nsource = s\n[year 2021]\nserious = 7\nsource = s\n", "t.conf:4: this fiscal year has a section already"},
        {"[year 2021]\nserious = 7\nsource = s\ncount = 1\n", "t.conf:4: field 'count': unknown key"},
        {"[table x]\n", "t.conf:1: unknown section; expected [year FY] or [note ID]"},
        {"[note a]\ntable = money\n", "t.conf:2: field 'table': unknown table"},
        {"[note a]\ntable = causes\nfrom = 2019\nja = j\nsource = s\n", "t.conf:1: field 'en': missing"},
        {"[note a]\ntable = causes\nja = j\nen = e\nsource = s\n", "t.conf:1: field 'from': missing"},
        {"[note a]\ntable = causes\nfrom = FY2019\n", "t.conf:3: field 'from': expected a fiscal year such as 2019"},
        {"[note a]\ntable = matrix\nfrom = 2019\nja = j\nen = e\nsource = s\nmark = ※1\n", "t.conf:1: field 'cell': cell and mark go together"},
        {"[note a]\ntable = causes\nfrom = 2019\nja = j\nen = e\nsource = s\nmark = ※1\ncell = 2h_5h users_lt_500\n", "t.conf:8: field 'cell': only the matrix has cells to mark"},
        {"[note a]\ntable = matrix\nfrom = 2019\nja = j\nen = e\nsource = s\nmark = ※1\ncell = 2h users_lt_500\n", "t.conf:8: field 'cell': expected a duration row and a users column"},
        {"[note a]\ntable = matrix\nfrom = 2019\nja = j\nen = e\nsource = s\nmark = ※1\ncell = 2h_5h users_lt_500 x\n", "t.conf:8: field 'cell': expected a duration row"},
    };
    char buf[ERROR_TEXT_MAX];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        conf_file f;
        jiko_error err;
        report_published p;
        assert_int_equal(conf_parse(bad[i].text, strlen(bad[i].text), "t.conf", &f, &err), 0);
        if (report_published_read(&p, &f, 2021, &err) == 0) {
            fail_msg("case %zu accepted: %s", i, bad[i].text);
        }
        error_format(&err, buf, sizeof buf);
        if (!strstr(buf, bad[i].error))
            fail_msg("case %zu: got '%s', want '%s'", i, buf, bad[i].error);
        assert_int_equal(err.kind, JIKO_ERR_CONFIG);
        assert_null(p.years); /* nothing left to free */
        conf_free(&f);
    }
    static const char good[] =
        "[year 2021]\nserious = 7\nsource = s\n[year 2008]\nserious = unknown\nsource = t\n"
        "[note later]\ntable = matrix\nfrom = 2022\nja = j\nen = e\nsource = s\n"
        "cell = ge_24h users_ge_1m\nmark = ※9\n"
        "[note old]\ntable = causes\nfrom = 2008\nto = 2020\nja = j\nen = e\nsource = s\n";
    conf_file f;
    jiko_error err;
    report_published p;
    assert_int_equal(conf_parse(good, strlen(good), "t.conf", &f, &err), 0);
    assert_int_equal(report_published_read(&p, &f, 2021, &err), 0);
    assert_int_equal(p.n_years, 2);
    assert_int_equal(p.years[0].fy, 2008); /* ascending whatever the file's order */
    assert_int_equal(p.years[0].serious, -1);
    assert_int_equal(p.n_notes, 0); /* one from 2022, one to 2020 */
    assert_null(report_published_mark(&p, 7, 5));
    report_published_free(&p);
    assert_int_equal(report_published_read(&p, &f, 2022, &err), 0);
    assert_int_equal(p.n_notes, 1);
    assert_string_equal(report_published_mark(&p, 7, 5), "※9");
    report_published_free(&p);
    conf_free(&f);
    /* an empty file (a catalog directory without published.conf) is no error */
    conf_file none = {0};
    assert_int_equal(report_published_read(&p, &none, 2021, &err), 0);
    assert_int_equal(p.n_years + p.n_notes, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rounding),
        cmocka_unit_test(test_cells),
        cmocka_unit_test(test_text_wrap),
        cmocka_unit_test(test_published),
        cmocka_unit_test_setup_teardown(test_small_year, tu_env_setup, tu_env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
