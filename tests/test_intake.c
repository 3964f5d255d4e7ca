/*
 * test_intake.c — the one intake pipeline (bytes → incident → rulebook →
 * classification), its line reader, the error kinds and the rulebooks' JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intake.h"
#include "rules_json.h"
#include "testutil.h"

#define REC(start) \
    "{\"id\":\"i1\",\"operator\":\"Op\",\"started_at\":\"" start "\",\"ended_at\":null," \
    "\"services\":[{\"service\":\"email_paid\",\"effect\":\"stop\",\"users\":456516}]}"

static intake_opts opts(const tu_env *env)
{
    intake_opts o = {&env->cat, &env->rules, NULL, tu_time("2021-08-03T16:15:00+09:00")};
    return o;
}

/* The example record through the pipeline, by date or under `forced`. */
static classify_result take(const tu_env *env, const char *forced)
{
    intake_opts o = opts(env);
    o.forced = forced ? rules_find(&env->rules, forced) : NULL;
    const char *t = REC("2021-08-03T15:00:00+09:00");
    incident inc;
    classify_result r;
    jiko_error err;
    assert_int_equal(intake_record(&o, t, strlen(t), "f", 7, &inc, &r, &err), 0);
    incident_free(&inc);
    return r;
}

static void test_record_classified(void **state)
{
    classify_result r = take(*state, NULL);
    assert_string_equal(r.book->id, "jp-2019");
    assert_false(r.forced);
    assert_int_equal(r.report, CLASSIFY_DETAILED);
    assert_true(r.has_becomes);
    assert_int_equal(r.becomes_ms, tu_time("2021-08-03T17:00:00+09:00"));
}

static void test_record_forced(void **state)
{
    classify_result r = take(*state, "jp-2015");
    assert_string_equal(r.book->id, "jp-2015");
    assert_true(r.forced);
}

/* Before the first rulebook: one wording, wherever the record comes from. */
static void test_no_rulebook(void **state)
{
    const tu_env *env = *state;
    intake_opts o = opts(env);
    const char *t = REC("2001-08-03T15:00:00+09:00");
    incident inc;
    classify_result r;
    jiko_error err;
    char msg[ERROR_TEXT_MAX];
    assert_int_equal(intake_record(&o, t, strlen(t), "f.jsonl", 3, &inc, &r, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_INVALID);
    assert_string_equal(error_format(&err, msg, sizeof msg),
                        "f.jsonl:3: field 'started_at': no rulebook is in force on that date; "
                        "the earliest (jp-2008) takes effect 2008-04-01");
    assert_null(intake_rulebook(&env->rules, tu_time("2008-03-31T23:59:59+09:00"), "x", 1, &err));
    assert_non_null(intake_rulebook(&env->rules, tu_time("2008-04-01T00:00:00+09:00"), "x", 1, &err));
}

static void test_invalid_record(void **state)
{
    const tu_env *env = *state;
    intake_opts o = opts(env);
    incident inc;
    classify_result r;
    jiko_error err;
    assert_int_equal(intake_record(&o, "{\"id\":", 6, "f", 2, &inc, &r, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_INVALID);
    assert_int_equal(err.line, 2);
    const char *t = "{\"id\":\"x\",\"operator\":\"Op\",\"started_at\":\"2021-08-03T15:00:00+09:00\","
                    "\"services\":[{\"service\":\"nope\",\"effect\":\"stop\",\"users\":1}]}";
    assert_int_equal(intake_record(&o, t, strlen(t), "f", 4, &inc, &r, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_INVALID);
    assert_string_equal(err.field, "services[0].service");
}

static void test_line(void **state)
{
    (void)state;
    char a[] = "\xEF\xBB\xBF{\"a\":1}\r\n";
    char *s = a;
    size_t n = strlen(a);
    assert_true(intake_line(&s, &n, 1));
    assert_string_equal(s, "{\"a\":1}");
    assert_int_equal(n, 7);
    char b[] = "\xEF\xBB\xBF{}\n"; /* a mark after line 1 is data, left for the parser */
    s = b;
    n = strlen(b);
    assert_true(intake_line(&s, &n, 2));
    assert_int_equal(n, 5);
    char c[] = " \t\r\n";
    s = c;
    n = strlen(c);
    assert_false(intake_line(&s, &n, 5));
}

static void test_error_kinds(void **state)
{
    (void)state;
    static const char *const want[JIKO_ERR_KINDS] = {
        "none", "invalid", "not_found", "conflict", "retry", "io", "out_of_memory", "config",
        "store", "forbidden"};
    for (int k = 0; k < JIKO_ERR_KINDS; k++)
        assert_string_equal(error_kind_name((jiko_error_kind)k), want[k]);
    assert_string_equal(error_kind_name((jiko_error_kind)99), "unknown");
    jiko_error e;
    error_clear(&e);
    assert_int_equal(e.kind, JIKO_ERR_NONE);
    error_nomem(&e, "reading");
    assert_int_equal(e.kind, JIKO_ERR_NOMEM);
    assert_string_equal(e.message, "out of memory while reading");
    error_set(&e, JIKO_ERR_IO, "f", 0, NULL, "read error");
    char msg[ERROR_TEXT_MAX];
    assert_string_equal(error_format(&e, msg, sizeof msg), "f: read error");
}

/* The rulebook JSON keeps its key order (API and --json readers rely on it). */
static void test_rules_json(void **state)
{
    const tu_env *env = *state;
    const rulebook *b = rules_find(&env->rules, "jp-2023");
    json_t *s = rules_summary_json(b);
    static const char *const keys[] = {"id", "effective", "until", "title_ja", "title_en", "file"};
    size_t i = 0;
    const char *k;
    json_t *v;
    void *it = json_object_iter(s);
    for (; it; it = json_object_iter_next(s, it), i++) {
        k = json_object_iter_key(it);
        assert_true(i < 6);
        assert_string_equal(k, keys[i]);
    }
    assert_int_equal(i, 6);
    assert_true(json_is_null(json_object_get(s, "until")));
    json_decref(s);
    json_t *full = rules_book_json(b, &env->cat);
    json_t *cls = json_object_get(full, "clauses");
    assert_int_equal(json_array_size(cls), b->n_clauses);
    json_array_foreach(cls, i, v) {
        assert_non_null(json_string_value(json_object_get(v, "source")));
        assert_non_null(json_string_value(json_object_get(v, "kind")));
    }
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(full, "deadlines"), "quarterly"), "months")),
                     b->quarterly_months);
    json_decref(full);
    (void)k;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_classified), cmocka_unit_test(test_record_forced),
        cmocka_unit_test(test_no_rulebook),       cmocka_unit_test(test_invalid_record),
        cmocka_unit_test(test_line),              cmocka_unit_test(test_error_kinds),
        cmocka_unit_test(test_rules_json),
    };
    return cmocka_run_group_tests(tests, tu_env_setup, tu_env_teardown);
}
