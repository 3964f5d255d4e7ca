/*
 * test_rules.c — rulebook loading, selection by date, amendments as new
 * files, and line-numbered errors for broken rulebooks
 * (tests/cases/rules-errors.txt: "=== name", the file text, "--- error").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "classify.h"
#include "rules_json.h"
#include "testutil.h"

static void test_loaded(void **state)
{
    tu_env *env = *state;
    assert_int_equal(env->rules.n, 4);
    assert_string_equal(env->rules.books[0].id, "jp-2008");
    assert_string_equal(env->rules.books[1].id, "jp-2015");
    assert_string_equal(env->rules.books[2].id, "jp-2019");
    assert_string_equal(env->rules.books[3].id, "jp-2023");
    char buf[16];
    assert_string_equal(jst_format_date(env->rules.books[0].end, buf, sizeof buf), "2015-03-31");
    assert_string_equal(jst_format_date(env->rules.books[1].end, buf, sizeof buf), "2019-03-31");
    assert_string_equal(jst_format_date(env->rules.books[2].end, buf, sizeof buf), "2023-06-15");
    assert_false(env->rules.books[3].has_end);
    /* jp-2023 adds the おそれ事態 report (unconfirmed: its effective date and
     * article are not confirmed offline); the secrecy-leak report from jp-2019 */
    const rulebook *osore = &env->rules.books[3];
    assert_true(osore->has_osore && osore->osore.unconfirmed);
    assert_int_equal(osore->osore.min_operator_users, 30000);
    assert_int_equal(osore->osore.min_prefectures, 2);
    assert_int_equal(osore->osore_days, 30);
    assert_true(osore->osore_moves.on);
    assert_false(env->rules.books[2].has_osore);
    assert_int_equal(env->rules.books[2].secrecy_days, 30);
    assert_int_equal(env->rules.books[1].secrecy_days, 0);
    /* every clause of every rulebook cites its source */
    for (size_t i = 0; i < env->rules.n; i++) {
        const rulebook *b = &env->rules.books[i];
        for (size_t k = 0; k < b->n_clauses; k++)
            assert_true(strlen(b->clauses[k].source) > 5);
        assert_non_null(b->written_source);
        assert_non_null(b->quarterly_source);
        assert_int_equal(b->written_days, 30);
        assert_int_equal(b->quarterly_months, 2);
    }
    /* jp-2008: MIC's FY2013 release confirms the serious line, the critical
     * clause and the quarterly telecom line; the non-telecom and info-leak
     * clauses have no source for the period and say so */
    const rulebook *old = rules_find(&env->rules, "jp-2008");
    for (size_t k = 0; k < old->n_clauses; k++) {
        const rules_clause *cl = &old->clauses[k];
        bool no_source = cl->kind == RULES_QUARTERLY && strcmp(cl->id, "telecom") != 0;
        assert_int_equal(cl->unconfirmed, no_source);
        if (!no_source)
            assert_non_null(strstr(cl->source, "平成25年度"));
    }
    /* Deadlines: the written and quarterly ones move past administrative
     * holidays, the prompt report never does; each says why. */
    for (size_t i = 0; i < env->rules.n; i++) {
        const rulebook *b = &env->rules.books[i];
        assert_true(b->written_moves.on && b->quarterly_moves.on);
        assert_false(b->prompt_moves.on);
        assert_non_null(strstr(b->written_moves.source, "行政機関の休日に関する法律"));
        assert_non_null(strstr(b->quarterly_moves.source, "第2条"));
        /* the quarterly duty and the statistics: two keys, two sources */
        assert_false(b->serious_quarterly_duty.on);
        assert_non_null(strstr(b->serious_quarterly_duty.source, "4hanki"));
        assert_true(b->serious_in_statistics.on);
        assert_non_null(strstr(b->serious_in_statistics.source, i >= 2 ? "注3" : "事故"));
        /* confirmed for the rules in force today only */
        assert_int_equal(b->serious_quarterly_duty.unconfirmed, i < 2);
    }
    /* jp-2015 numbers its categories as the ordinance did in FY2015-FY2018 */
    const rulebook *mid = rules_find(&env->rules, "jp-2015");
    static const char *const mid_ids[] = {"1", "2", "3", "4"};
    size_t n_serious = 0;
    for (size_t k = 0; k < mid->n_clauses; k++)
        if (mid->clauses[k].kind == RULES_SERIOUS) {
            assert_true(n_serious < 4);
            assert_string_equal(mid->clauses[k].id, mid_ids[n_serious++]);
        }
    assert_int_equal(n_serious, 4);
    int free_mail = catalog_service_index(&env->cat, "email_free", 10);
    assert_string_equal(mid->clauses[mid->svc_serious[free_mail]].id, "3");
    assert_non_null(strstr(mid->clauses[mid->svc_serious[free_mail]].name_ja, "音声伝送役務を除く"));
    const rulebook *cur = rules_find(&env->rules, "jp-2019");
    for (size_t k = 0; k < cur->n_clauses; k++)
        assert_false(cur->clauses[k].unconfirmed);
}

static void test_selection(void **state)
{
    tu_env *env = *state;
    static const struct { const char *t, *id; } cases[] = {
        {"2008-03-31T23:59:59+09:00", NULL},
        {"2008-03-31T15:00:00Z", "jp-2008"},
        {"2015-03-31T23:59:59.999+09:00", "jp-2008"},
        {"2015-04-01T00:00:00+09:00", "jp-2015"},
        {"2019-03-31T14:59:59.999Z", "jp-2015"},
        {"2019-03-31T15:00:00Z", "jp-2019"},
        {"2023-06-15T23:59:59+09:00", "jp-2019"},
        {"2023-06-15T15:00:00Z", "jp-2023"},
        {"2026-11-30T12:00:00+09:00", "jp-2023"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rulebook *b = rules_select(&env->rules, tu_time(cases[i].t));
        if (!cases[i].id)
            assert_null(b);
        else {
            assert_non_null(b);
            assert_string_equal(b->id, cases[i].id);
        }
    }
}

static void test_thresholds(void **state)
{
    (void)state;
    rules_threshold t;
    const char *why;
    assert_int_equal(rules_parse_threshold("duration >= 2h and users >= 30,000", &t, &why), 0);
    assert_int_equal(t.min_ms, 7200000);
    assert_int_equal(t.min_users, 30000);
    assert_int_equal(rules_parse_threshold("users >= 1_000_000 and duration >= 1h30m", &t, &why), 0);
    assert_int_equal(t.min_ms, 5400000);
    assert_int_equal(t.min_users, 1000000);
    assert_int_equal(rules_parse_threshold("duration >= 0", &t, &why), 0);
    assert_int_equal(t.min_ms, 0);
    assert_int_not_equal(rules_parse_threshold("duration > 2h", &t, &why), 0);
    assert_non_null(strstr(why, "inclusive"));
    assert_int_not_equal(rules_parse_threshold("duration >= 2 hours", &t, &why), 0);
    assert_int_not_equal(rules_parse_threshold("duration >= 2h or users >= 3", &t, &why), 0);
    assert_int_not_equal(rules_parse_threshold("duration >= 2h and duration >= 3h", &t, &why), 0);
    /* monthly active users: a third condition, in any order, inclusive */
    assert_int_equal(rules_parse_threshold("duration >= 2h", &t, &why), 0);
    assert_false(t.has_mau);
    assert_int_equal(
        rules_parse_threshold("mau >= 10,000,000 and duration >= 2h and users >= 30000", &t, &why), 0);
    assert_true(t.has_mau);
    assert_int_equal(t.min_mau, 10000000);
    assert_int_equal(t.min_ms, 7200000);
    assert_int_equal(t.min_users, 30000);
    assert_int_equal(rules_parse_threshold("users >= 1 and mau >= 0", &t, &why), 0);
    assert_true(t.has_mau);
    assert_int_equal(t.min_mau, 0);
    assert_int_equal(rules_parse_threshold("mau >= 5_000_000", &t, &why), 0);
    assert_true(t.has_mau && t.min_ms == 0 && t.min_users == 0);
    assert_int_not_equal(rules_parse_threshold("mau > 5", &t, &why), 0);
    assert_non_null(strstr(why, "inclusive"));
    assert_int_not_equal(rules_parse_threshold("mau >= 5 and mau >= 6", &t, &why), 0);
    assert_non_null(strstr(why, "once"));
    assert_int_not_equal(rules_parse_threshold("mau >= five", &t, &why), 0);
    assert_non_null(strstr(why, "月間アクティブ利用者数"));
    assert_int_not_equal(
        rules_parse_threshold("mau >= 1 and duration >= 1h and users >= 1 and users >= 2", &t, &why), 0);
    assert_non_null(strstr(why, "at most three"));
    assert_int_not_equal(rules_parse_threshold("mau >= 1 and duration >= 1h users >= 1", &t, &why), 0);
    int64_t ms;
    assert_true(rules_parse_duration("1d2h3m4s", &ms));
    assert_int_equal(ms, 93784000);
    assert_false(rules_parse_duration("2m1h", &ms));
    assert_false(rules_parse_duration("h", &ms));
    assert_false(rules_parse_duration("", &ms));
}

/* A later amendment is a new file: copy the shipped rulebooks and add one. */
/* A rulebook not in force (a proposal) is loaded and shown but never chosen
 * by date, ends no other rulebook's period, and can carry a yearly report. */
static void test_not_in_force(void **state)
{
    tu_env *env = *state;
    char path[1024], msg[1024];
    conf_file f;
    jiko_error err;
    if (conf_load(tu_path(path, sizeof path, "tests/cases/jp-2025-proposal.rules"), &f, &err))
        fail_msg("%s", error_format(&err, msg, sizeof msg));
    rulebook b;
    int rc = rules_parse(&b, &f, &err);
    conf_free(&f);
    if (rc)
        fail_msg("%s", error_format(&err, msg, sizeof msg));
    assert_true(b.not_in_force && b.periodic_yearly);
    rules_set set = {0};
    /* the shipped rulebooks, then the proposal */
    for (size_t i = 0; i < env->rules.n; i++) {
        conf_file g;
        rulebook x;
        assert_int_equal(conf_load(env->rules.books[i].path, &g, &err), 0);
        assert_int_equal(rules_parse(&x, &g, &err), 0);
        conf_free(&g);
        assert_int_equal(rules_add(&set, &x, &env->cat, &err), 0);
    }
    if (rules_add(&set, &b, &env->cat, &err))
        fail_msg("%s", error_format(&err, msg, sizeof msg));
    const rulebook *p = rules_find(&set, "jp-2025-proposal");
    assert_non_null(p);
    assert_false(p->has_end);
    assert_string_equal(rules_select(&set, tu_time("2026-04-01T00:00:00+09:00"))->id, "jp-2023");
    assert_string_equal(rules_select(&set, tu_time("9999-12-31T12:00:00+09:00"))->id, "jp-2023");
    assert_false(rules_find(&set, "jp-2023")->has_end);
    /* forced: the yearly report is due three months after the fiscal year */
    incident inc;
    static const char rec[] =
        "{\"id\":\"p\",\"operator\":\"Op\",\"started_at\":\"2021-08-03T10:00:00+09:00\","
        "\"ended_at\":\"2021-08-03T11:00:00+09:00\",\"services\":[{\"service\":\"ftth\","
        "\"effect\":\"stop\",\"users\":20000}]}";
    assert_int_equal(incident_parse(&inc, rec, strlen(rec), &env->cat, "t", 1, &err), 0);
    classify_result r;
    classify_incident(p, &env->cat, &inc, inc.started_ms, &r);
    assert_int_equal(r.report, CLASSIFY_SERIOUS); /* the placeholder lower line */
    classify_incident(rules_find(&set, "jp-2019"), &env->cat, &inc, inc.started_ms, &r);
    assert_int_equal(r.report, CLASSIFY_NONE);
    incident_free(&inc);
    static const char rec2[] =
        "{\"id\":\"q\",\"operator\":\"Op\",\"started_at\":\"2021-08-03T10:00:00+09:00\","
        "\"ended_at\":\"2021-08-03T13:00:00+09:00\",\"services\":[{\"service\":\"ftth\","
        "\"effect\":\"stop\",\"users\":100}]}";
    assert_int_equal(incident_parse(&inc, rec2, strlen(rec2), &env->cat, "t", 1, &err), 0);
    classify_incident(p, &env->cat, &inc, inc.started_ms, &r);
    char d[16];
    assert_true(r.has_quarterly);
    assert_string_equal(jst_format_date(r.quarterly_due, d, sizeof d), "2022-06-30");
    incident_free(&inc);
    json_t *j = rules_book_json(p, &env->cat);
    assert_true(json_is_false(json_object_get(j, "in_force")));
    /* the example's category judged by monthly active users: an illustrative
     * line, marked unconfirmed, exported with its min_mau; no other line has
     * the key */
    const rules_clause *free_svc = &p->clauses[p->svc_serious[catalog_service_index(
        &env->cat, "email_free", 10)]];
    assert_string_equal(free_svc->id, "4");
    assert_int_equal(free_svc->n_thresholds, 4);
    assert_false(free_svc->thresholds[0].has_mau || free_svc->thresholds[1].has_mau);
    for (size_t t = 2; t < 4; t++) {
        assert_true(free_svc->thresholds[t].has_mau);
        assert_int_equal(free_svc->thresholds[t].min_mau, 10000000);
    }
    assert_int_equal(free_svc->thresholds[2].min_users, 100000);
    assert_int_equal(free_svc->thresholds[3].min_users, 1000000);
    assert_true(free_svc->unconfirmed);
    assert_non_null(strstr(free_svc->note, "illustrative"));
    size_t n_mau = 0;
    json_t *cls = json_object_get(j, "clauses"), *cj, *tj;
    size_t ci, ti;
    json_array_foreach(cls, ci, cj) {
        json_array_foreach(json_object_get(cj, "thresholds"), ti, tj) {
            json_t *m = json_object_get(tj, "min_mau");
            if (m) {
                assert_int_equal(json_integer_value(m), 10000000);
                n_mau++;
            }
        }
    }
    assert_int_equal(n_mau, 2);
    json_decref(j);
    /* never chosen by date, whatever the date: each day a rulebook in force
     * begins, the days around them, and the far future */
    static const char *const days[] = {
        "2008-04-01T00:00:00+09:00", "2015-04-01T00:00:00+09:00", "2019-04-01T00:00:00+09:00",
        "2023-06-16T00:00:00+09:00", "2025-04-01T00:00:00+09:00", "2026-04-01T00:00:00+09:00",
        "2027-04-01T00:00:00+09:00", "2050-12-31T23:59:59+09:00", "9999-12-31T23:59:59+09:00",
    };
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
        const rulebook *sel = rules_select(&set, tu_time(days[i]));
        assert_non_null(sel);
        assert_false(sel->not_in_force);
        assert_string_not_equal(sel->id, "jp-2025-proposal");
        /* the same choice as without the proposal loaded */
        assert_string_equal(sel->id, rules_select(&env->rules, tu_time(days[i]))->id);
    }
    rules_free(&set);
}

static void test_amendment_is_a_new_file(void **state)
{
    tu_env *env = *state;
    char tmpl[] = "/tmp/jiko-rules-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    const char *files[] = {"rules/jp-2008.rules", "rules/jp-2015.rules", "rules/jp-2019.rules",
                           "tests/cases/jp-2030-example.rules"};
    for (size_t i = 0; i < 4; i++) {
        char src[1024], dst[1024];
        size_t len;
        char *text = tu_read(tu_path(src, sizeof src, files[i]), &len);
        snprintf(dst, sizeof dst, "%s/%s", tmpl, strrchr(files[i], '/') + 1);
        FILE *fp = fopen(dst, "wb");
        assert_non_null(fp);
        fwrite(text, 1, len, fp);
        fclose(fp);
        free(text);
    }
    rules_set set;
    jiko_error err;
    char msg[1024];
    if (rules_load_dir(&set, tmpl, &env->cat, &err))
        fail_msg("%s", error_format(&err, msg, sizeof msg));
    assert_int_equal(set.n, 4);
    const rulebook *b = rules_select(&set, tu_time("2030-04-01T00:00:00+09:00"));
    assert_string_equal(b->id, "jp-2030-example");
    b = rules_select(&set, tu_time("2030-03-31T23:59:59+09:00"));
    assert_string_equal(b->id, "jp-2019");
    /* the example amendment keeps jp-2019's categories via categories_from
     * and lowers category 5 to 90 minutes */
    b = rules_find(&set, "jp-2030-example");
    int ftth = catalog_service_index(&env->cat, "ftth", 4);
    int lpwa = catalog_service_index(&env->cat, "lpwa_cellular", 13);
    assert_string_equal(b->clauses[b->svc_serious[ftth]].id, "5");
    assert_string_equal(b->clauses[b->svc_serious[lpwa]].id, "3");
    assert_int_equal(b->clauses[b->svc_serious[ftth]].thresholds[0].min_ms, 90 * 60000);
    rules_free(&set);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    assert_int_equal(system(cmd), 0);
}

static int rules_case(void *ctx, const char *name, const char *body, size_t body_len,
                      const char *want)
{
    tu_env *env = ctx;
    conf_file f;
    jiko_error err;
    char got[ERROR_TEXT_MAX] = "";
    error_clear(&err);
    int rc = conf_parse(body, body_len, "case.rules", &f, &err);
    if (rc == 0) {
        rulebook b;
        rc = rules_parse(&b, &f, &err);
        conf_free(&f);
        if (rc == 0) {
            rules_set set = {0};
            rc = rules_add(&set, &b, &env->cat, &err);
            rules_free(&set);
        }
    }
    if (rc == 0) {
        print_error("rules case '%s' was accepted\n", name);
        return 1;
    }
    error_format(&err, got, sizeof got);
    if (getenv("JIKO_TEST_PRINT"))
        printf("%s\n  %s\n", name, got);
    else if (strcmp(got, want) != 0) {
        print_error("rules case '%s':\n   got: %s\n  want: %s\n", name, got, want);
        return 1;
    }
    return 0;
}

static void test_error_cases(void **state)
{
    int cases;
    int failures = tu_each_case("tests/cases/rules-errors.txt", rules_case, *state, &cases);
    print_message("%d broken rulebooks, %d failures\n", cases, failures);
    assert_true(cases >= 15);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loaded),
        cmocka_unit_test(test_selection),
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_amendment_is_a_new_file),
        cmocka_unit_test(test_not_in_force),
        cmocka_unit_test(test_error_cases),
    };
    return cmocka_run_group_tests(tests, tu_env_setup, tu_env_teardown);
}
