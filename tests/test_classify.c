/*
 * test_classify.c — data-driven classification tests.
 *
 * Every line of the .jsonl files in tests/cases/classify is one case:
 *   {"name": "...", "incident": {...}, "now": RFC 3339 (optional),
 *    "rulebook": forced id (optional), "lang": "en"|"ja" (optional),
 *    "expect": {any subset of the output fields, compared exactly},
 *    "reasons_contain": ["substring", ...] (optional),
 *    "expect_no_rulebook": true (optional: no rulebook covers the date),
 *    "expect_error": "substring" (optional: intake must refuse the record,
 *                    e.g. a deadline beyond the holiday calendar)}
 * The cases run with the shipped rulebooks and the example proposal
 * tests/cases/jp-2025-proposal.rules loaded together: a case may force the
 * proposal, and every case chosen by date shows that loading a rulebook not
 * in force changes no choice.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "conf.h"
#include "incident.h"
#include "testutil.h"

static int run_case(tu_env *env, const rules_set *rules, json_t *c, const char *file, long line)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    if (!name)
        name = "(unnamed)";
    json_t *ij = json_object_get(c, "incident");
    incident inc;
    jiko_error err;
    char msg[1024];
    if (incident_from_json(&inc, ij, &env->cat, file, line, &err)) {
        print_error("%s:%ld %s: incident rejected: %s\n", file, line, name,
                    error_format(&err, msg, sizeof msg));
        return 1;
    }
    int failures = 0;
    const char *forced = json_string_value(json_object_get(c, "rulebook"));
    const rulebook *book = forced ? rules_find(rules, forced) : rules_select(rules, inc.started_ms);
    if (json_is_true(json_object_get(c, "expect_no_rulebook"))) {
        if (book) {
            print_error("%s:%ld %s: expected no rulebook, got %s\n", file, line, name, book->id);
            failures++;
        }
        incident_free(&inc);
        return failures;
    }
    if (!book) {
        print_error("%s:%ld %s: no rulebook\n", file, line, name);
        incident_free(&inc);
        return 1;
    }
    const char *now = json_string_value(json_object_get(c, "now"));
    const char *lang = json_string_value(json_object_get(c, "lang"));
    classify_result r;
    classify_incident(book, &env->cat, &inc, now ? tu_time(now) : inc.started_ms, &r);
    r.forced = forced != NULL;
    const char *want_err = json_string_value(json_object_get(c, "expect_error"));
    int cal = classify_check_calendar(&r, &env->cat, file, line, &err);
    if (want_err || cal) {
        if (!want_err || !cal || !strstr(err.message, want_err)) {
            print_error("%s:%ld %s: error \"%s\", expected \"%s\"\n", file, line, name,
                        cal ? err.message : "(none)", want_err ? want_err : "(none)");
            failures++;
        }
        incident_free(&inc);
        return failures;
    }
    json_t *out = classify_to_json(&r, &inc, &env->cat,
                                   lang && strcmp(lang, "ja") == 0 ? CLASSIFY_JA : CLASSIFY_EN);
    /* The contract's keys, in order, then only the documented optional
     * one: becomes_serious_clause, exactly when becomes_serious_at is set. */
    static const char *keys[] = {"id", "rulebook", "report", "serious_categories",
                                 "quarterly_clauses", "due", "becomes_serious_at", "reasons",
                                 "becomes_serious_clause"};
    size_t k = 0, n_keys = json_is_null(json_object_get(out, "becomes_serious_at")) ? 8 : 9;
    const char *key;
    json_t *val;
    if (json_object_size(out) != n_keys) {
        print_error("%s:%ld %s: %zu output keys, expected %zu\n", file, line, name,
                    json_object_size(out), n_keys);
        failures++;
    }
    json_object_foreach(out, key, val) {
        if (k >= n_keys || strcmp(key, keys[k]) != 0) {
            print_error("%s:%ld %s: output key %zu is '%s'\n", file, line, name, k, key);
            failures++;
        }
        k++;
    }
    json_t *expect = json_object_get(c, "expect");
    json_object_foreach(expect, key, val) {
        json_t *got = json_object_get(out, key);
        if (!got || !json_equal(got, val)) {
            char *g = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
            char *w = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
            print_error("%s:%ld %s: %s = %s, expected %s\n", file, line, name, key,
                        g ? g : "(absent)", w);
            free(g);
            free(w);
            failures++;
        }
    }
    json_t *want = json_object_get(c, "reasons_contain");
    json_t *reasons = json_object_get(out, "reasons");
    size_t i;
    json_array_foreach(want, i, val) {
        bool found = false;
        for (size_t j = 0; j < json_array_size(reasons); j++)
            if (strstr(json_string_value(json_array_get(reasons, j)), json_string_value(val)))
                found = true;
        if (!found) {
            char *all = json_dumps(reasons, JSON_INDENT(1));
            print_error("%s:%ld %s: no reason contains \"%s\"; reasons: %s\n", file, line, name,
                        json_string_value(val), all);
            free(all);
            failures++;
        }
    }
    json_decref(out);
    incident_free(&inc);
    return failures;
}

static int run_file(tu_env *env, const rules_set *rules, const char *path, int *cases)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int failures = 0;
    while (getline(&line, &cap, fp) >= 0) {
        lineno++;
        if (line[0] == '\n' || line[0] == '#')
            continue;
        json_error_t je;
        json_t *c = json_loads(line, 0, &je);
        if (!c) {
            print_error("%s:%ld: bad test case JSON: %s\n", path, lineno, je.text);
            failures++;
            continue;
        }
        failures += run_case(env, rules, c, path, lineno);
        (*cases)++;
        json_decref(c);
    }
    free(line);
    fclose(fp);
    return failures;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The shipped rulebooks (as loaded) plus the example proposal, not in force. */
static void load_with_proposal(tu_env *env, rules_set *set)
{
    jiko_error err;
    char path[1024], msg[1024];
    memset(set, 0, sizeof *set);
    for (size_t i = 0; i <= env->rules.n; i++) {
        const char *p = i < env->rules.n
                            ? env->rules.books[i].path
                            : tu_path(path, sizeof path, "tests/cases/jp-2025-proposal.rules");
        conf_file f;
        rulebook b;
        if (conf_load(p, &f, &err))
            fail_msg("%s", error_format(&err, msg, sizeof msg));
        int rc = rules_parse(&b, &f, &err);
        conf_free(&f);
        if (rc || rules_add(set, &b, &env->cat, &err))
            fail_msg("%s", error_format(&err, msg, sizeof msg));
    }
}

static void test_case_files(void **state)
{
    tu_env *env = *state;
    rules_set rules;
    load_with_proposal(env, &rules);
    char dir[1024];
    tu_path(dir, sizeof dir, "tests/cases/classify");
    DIR *d = opendir(dir);
    assert_non_null(d);
    char *names[64];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 64) {
        size_t l = strlen(de->d_name);
        if (l > 6 && strcmp(de->d_name + l - 6, ".jsonl") == 0)
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    int failures = 0, cases = 0;
    for (size_t i = 0; i < n; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        failures += run_file(env, &rules, path, &cases);
        free(names[i]);
    }
    rules_free(&rules);
    print_message("%d classification cases in %zu files, %d failures\n", cases, n, failures);
    assert_true(cases >= 60);
    assert_int_equal(failures, 0);
}

/* The seven FY2021 serious accidents (13 reports from 10 operators), with the
 * category each case sheet of seed 000 gives. */
static void test_fy2021_serious(void **state)
{
    tu_env *env = *state;
    char path[1024];
    size_t len;
    char *text = tu_read(tu_path(path, sizeof path, "examples/fy2021-serious.jsonl"), &len);
    static const struct { const char *id, *cats; } want[] = {
        {"fy2021-01-jsat", "critical"},
        {"fy2021-02-pepabo", "5"},
        {"fy2021-03-arteria", "5"},
        {"fy2021-03-arteria-resale-1", "5"},
        {"fy2021-03-arteria-resale-2", "5"},
        {"fy2021-03-arteria-resale-3", "5"},
        {"fy2021-03-arteria-resale-4", "5"},
        {"fy2021-04-rakuten-dns", "5"},
        {"fy2021-05-rakuten-00xy", "2"},
        {"fy2021-05-iij-00xy", "2"},
        {"fy2021-06-docomo", "1,5"},
        {"fy2021-06-iij-docomo", "1,5"},
        {"fy2021-07-globalsign", "5"},
    };
    size_t n = 0;
    char *save = NULL;
    long lineno = 0;
    for (char *ln = strtok_r(text, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        lineno++;
        incident inc;
        jiko_error err;
        char msg[1024];
        if (incident_parse(&inc, ln, strlen(ln), &env->cat, path, lineno, &err))
            fail_msg("%s", error_format(&err, msg, sizeof msg));
        const rulebook *b = rules_select(&env->rules, inc.started_ms);
        assert_non_null(b);
        assert_string_equal(b->id, "jp-2019");
        classify_result r;
        classify_incident(b, &env->cat, &inc, 0, &r);
        assert_true(n < sizeof want / sizeof want[0]);
        assert_string_equal(inc.id, want[n].id);
        assert_int_equal(r.report, CLASSIFY_SERIOUS);
        char cats[64] = "";
        for (int i = 0; i < r.n_serious; i++)
            snprintf(cats + strlen(cats), sizeof cats - strlen(cats), "%s%s", i ? "," : "",
                     b->clauses[r.serious[i].clause].id);
        assert_string_equal(cats, want[n].cats);
        /* Every serious accident meets the quarterly (telecom) clause, but
         * owes no quarterly report: jp-2019 excludes serious accidents from
         * the quarterly duty (MIC's page on the quarterly report). */
        assert_int_equal(r.n_quarterly, 1);
        assert_true(r.has_prompt && r.has_written);
        assert_false(r.has_quarterly);
        assert_false(b->serious_quarterly_duty.on);
        assert_true(b->serious_in_statistics.on);
        /* NTT docomo and IIJ: 2021-11-13 is a Saturday, so the written
         * report is due Monday 2021-11-15 (行政機関の休日に関する法律 第2条). */
        char wd[16], pe[16];
        jst_format_date(r.written, wd, sizeof wd);
        jst_format_date(r.written_period_end, pe, sizeof pe);
        if (strstr(inc.id, "docomo")) {
            assert_string_equal(pe, "2021-11-13");
            assert_string_equal(wd, "2021-11-15");
        } else {
            assert_string_equal(pe, wd); /* the other six fall on working days */
        }
        incident_free(&inc);
        n++;
    }
    assert_int_equal(n, sizeof want / sizeof want[0]);
    free(text);
}

/* A set of the one rulebook written in `text` (len bytes), as "t.rules". */
static void set_from_text(tu_env *env, const char *text, size_t len, rules_set *set)
{
    conf_file f;
    rulebook b;
    jiko_error err;
    char msg[1024];
    assert_int_equal(conf_parse(text, len, "t.rules", &f, &err), 0);
    int rc = rules_parse(&b, &f, &err);
    conf_free(&f);
    if (rc)
        fail_msg("%s", error_format(&err, msg, sizeof msg));
    memset(set, 0, sizeof *set);
    assert_int_equal(rules_add(set, &b, &env->cat, &err), 0);
}

/* A quarterly clause with 'mau >= N' judges the incident's counted services
 * (any category): met on a known figure without presumption; met by
 * presuming a missing figure, and marked; not met when every figure is
 * known and short. */
static void test_quarterly_mau(void **state)
{
    tu_env *env = *state;
    static const char text[] =
        "[rulebook]\nid = t\ntitle.ja = 試験\ntitle.en = test\neffective = 2030-04-01\n"
        "in_force = no\nsource = test\n"
        "[quarterly telecom]\nname.ja = x\nname.en = x\nsource = s\n"
        "threshold = mau >= 1,000 and users >= 10\n"
        "[deadline quarterly]\nwithin = 2 months\nfrom = quarter_end\nsource = s\n";
    rules_set set;
    set_from_text(env, text, sizeof text - 1, &set);
    jiko_error err;
    char msg[1024];
    static const struct {
        const char *services;
        classify_report report;
        bool presumed;
        int64_t users;
    } cases[] = {
        {"{\"service\":\"ftth\",\"effect\":\"stop\",\"users\":10,\"monthly_active_users\":1000}",
         CLASSIFY_DETAILED, false, 10},
        {"{\"service\":\"ftth\",\"effect\":\"stop\",\"users\":10,\"monthly_active_users\":999}",
         CLASSIFY_NONE, false, 0},
        {"{\"service\":\"ftth\",\"effect\":\"stop\",\"users\":10}", CLASSIFY_DETAILED, true, 10},
        /* the known service is short of users, the unknown one makes them up */
        {"{\"service\":\"ftth\",\"effect\":\"stop\",\"users\":5,\"monthly_active_users\":5000},"
         "{\"service\":\"dsl\",\"effect\":\"stop\",\"users\":12}",
         CLASSIFY_DETAILED, true, 12},
        /* the known one suffices: no presumption even beside a service without it */
        {"{\"service\":\"ftth\",\"effect\":\"stop\",\"users\":50,\"monthly_active_users\":5000},"
         "{\"service\":\"dsl\",\"effect\":\"stop\",\"users\":12}",
         CLASSIFY_DETAILED, false, 50},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char rec[1024];
        snprintf(rec, sizeof rec,
                 "{\"id\":\"q\",\"operator\":\"Op\",\"started_at\":\"2031-08-04T10:00:00+09:00\","
                 "\"ended_at\":\"2031-08-04T10:30:00+09:00\",\"services\":[%s]}",
                 cases[i].services);
        incident inc;
        if (incident_parse(&inc, rec, strlen(rec), &env->cat, "t", 1, &err))
            fail_msg("%s", error_format(&err, msg, sizeof msg));
        classify_result r;
        classify_incident(&set.books[0], &env->cat, &inc, inc.started_ms, &r);
        assert_int_equal(r.report, cases[i].report);
        if (r.report != CLASSIFY_NONE) {
            assert_int_equal(r.n_quarterly, 1);
            assert_int_equal(r.quarterly[0].mau_presumed, cases[i].presumed);
            assert_int_equal(r.quarterly[0].users, cases[i].users);
            json_t *why = classify_reasons(&r, &inc, &env->cat, CLASSIFY_EN);
            bool said = false;
            for (size_t k = 0; k < json_array_size(why); k++)
                said |= strstr(json_string_value(json_array_get(why, k)), "Presumed, not established") != NULL;
            assert_int_equal(said, cases[i].presumed);
            json_decref(why);
        }
        incident_free(&inc);
    }
    rules_free(&set);
}

/* A reason longer than its buffer (here a 2,100-byte source citation) is
 * shortened at a character boundary, never dropped: cut inside a UTF-8
 * sequence, the JSON string would be refused and the reason lost. */
static void test_long_reason_kept(void **state)
{
    tu_env *env = *state;
    char text[4096];
    int n = snprintf(text, sizeof text,
                     "[rulebook]\nid = t\ntitle.ja = 試験\ntitle.en = test\neffective = 2030-04-01\n"
                     "in_force = no\nsource = test\n[serious all]\nname.ja = x\nname.en = x\n"
                     "services = all\nthreshold = duration >= 1h\nsource = ");
    for (int i = 0; i < 700; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "あ");
    n += snprintf(text + n, sizeof text - (size_t)n,
                  "\n[deadline prompt]\nwithin = without_delay\nsource = s\n[deadline written]\n"
                  "within = 30 days\nfrom = occurrence_day\nsource = s\n");
    rules_set set;
    set_from_text(env, text, (size_t)n, &set);
    jiko_error err;
    static const char rec[] =
        "{\"id\":\"l\",\"operator\":\"Op\",\"started_at\":\"2031-08-04T10:00:00+09:00\","
        "\"ended_at\":\"2031-08-04T12:00:00+09:00\",\"services\":[{\"service\":\"ftth\","
        "\"effect\":\"stop\",\"users\":10}]}";
    incident inc;
    assert_int_equal(incident_parse(&inc, rec, strlen(rec), &env->cat, "t", 1, &err), 0);
    classify_result r;
    classify_incident(&set.books[0], &env->cat, &inc, inc.started_ms, &r);
    assert_int_equal(r.report, CLASSIFY_SERIOUS);
    for (int lang = 0; lang < 2; lang++) {
        json_t *why = classify_reasons(&r, &inc, &env->cat, lang ? CLASSIFY_JA : CLASSIFY_EN);
        bool said = false;
        for (size_t k = 0; k < json_array_size(why); k++)
            said |= strstr(json_string_value(json_array_get(why, k)),
                           lang ? "重大な事故 区分all" : "Serious accident (重大な事故), category all") != NULL;
        assert_true(said);
        json_decref(why);
    }
    incident_free(&inc);
    rules_free(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_files),
        cmocka_unit_test(test_fy2021_serious),
        cmocka_unit_test(test_quarterly_mau),
        cmocka_unit_test(test_long_reason_kept),
    };
    return cmocka_run_group_tests(tests, tu_env_setup, tu_env_teardown);
}
