/*
 * test_import.c — the registry import as a library call (import.h): batches
 * and their commits, rejections in line order, provenance, amendments; and
 * what is read back from stored rows (store_row.h) and for the quarterly
 * batch and the case sheet (report_case.h).  SQLite; the PostgreSQL paths
 * of the same calls are exercised by tests/cli/test_registry.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import.h"
#include "json_arena.h"
#include "report_case.h"
#include "store_row.h"
#include "testutil.h"

typedef struct seen {
    int rejects, commits;
    long reject_line[8];
    jiko_error_kind reject_kind[8];
    char reject_field[8][96];
    long commit_first[8], commit_last[8];
} seen;

static void on_reject(void *ctx, const jiko_error *e)
{
    seen *s = ctx;
    if (s->rejects < 8) {
        s->reject_line[s->rejects] = e->line;
        s->reject_kind[s->rejects] = e->kind;
        snprintf(s->reject_field[s->rejects], 96, "%s", e->field);
    }
    s->rejects++;
}

static void on_commit(void *ctx, long no, const char *file, long first, long last)
{
    seen *s = ctx;
    assert_int_equal(no, s->commits + 1);
    assert_string_equal(file, "in.jsonl");
    if (s->commits < 8) {
        s->commit_first[s->commits] = first;
        s->commit_last[s->commits] = last;
    }
    s->commits++;
}

#define REC(id, op, start, end, svc, users)                                                        \
    "{\"id\":\"" id "\",\"operator\":\"" op "\",\"started_at\":\"" start "\",\"ended_at\":" end      \
    ",\"services\":[{\"service\":\"" svc "\",\"effect\":\"stop\",\"users\":" #users "}]}\n"

/* Lines 1, 2, 5 valid; 3 bad JSON; 4 blank; 6 before any rulebook. */
#define INPUT \
    REC("a", "Op", "2021-08-03T15:00:00+09:00", "\"2021-08-03T17:30:00+09:00\"", "email_paid", 456516) \
    REC("b", "Op", "2021-08-10T15:00:00+09:00", "\"2021-08-10T18:00:00+09:00\"", "ftth", 40000) \
    "{\"id\": oops\n" \
    "\n" \
    REC("c", "Wholesale Co", "2021-08-03T15:00:00+09:00", "\"2021-08-03T17:30:00+09:00\"", "email_paid", 1000) \
    REC("d", "Op", "2001-01-01T00:00:00+09:00", "null", "ftth", 1)

typedef struct fx {
    tu_env *env;
    char path[64];
    store *db;
} fx;

static tu_env *g_env;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->env = g_env;
    snprintf(f->path, sizeof f->path, "/tmp/jiko-test-import-%d.db", (int)getpid());
    unlink(f->path);
    jiko_error err;
    if (store_open(&f->db, f->path, &err)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->db);
    char aux[80];
    unlink(f->path);
    snprintf(aux, sizeof aux, "%s-wal", f->path);
    unlink(aux);
    snprintf(aux, sizeof aux, "%s-shm", f->path);
    unlink(aux);
    free(f);
    return 0;
}

static import_opts base_opts(fx *f, seen *s, long batch)
{
    import_opts o = {0};
    o.db = f->db;
    o.intake = (intake_opts){&f->env->cat, &f->env->rules, NULL,
                             tu_time("2021-09-01T00:00:00+09:00")};
    o.batch_size = batch;
    o.on_reject = on_reject;
    o.on_commit = on_commit;
    o.ctx = s;
    return o;
}

static import_counts run(import_opts *o, const char *text)
{
    import_run *im;
    jiko_error err;
    char msg[ERROR_TEXT_MAX];
    if (import_open(&im, o, &err))
        fail_msg("%s", error_format(&err, msg, sizeof msg));
    FILE *fp = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(fp);
    assert_int_equal(import_stream(im, fp, "in.jsonl", &err), 0);
    fclose(fp);
    import_counts n;
    assert_int_equal(import_close(im, &n, &err), 0);
    return n;
}

static void test_batches_and_rejections(void **state)
{
    fx *f = *state;
    seen s = {0};
    import_opts o = base_opts(f, &s, 2);
    import_counts n = run(&o, INPUT);
    assert_int_equal(n.stored, 3);
    assert_int_equal(n.amended + n.unchanged, 0);
    assert_int_equal(n.rejected, 2);
    /* rejected in line order, each an invalid record */
    assert_int_equal(s.rejects, 2);
    assert_int_equal(s.reject_line[0], 3);
    assert_int_equal(s.reject_line[1], 6);
    assert_int_equal(s.reject_kind[0], JIKO_ERR_INVALID);
    assert_string_equal(s.reject_field[1], "started_at");
    /* a batch of two, then the rest when the file ends */
    assert_int_equal(s.commits, 2);
    assert_int_equal(s.commit_first[0], 1);
    assert_int_equal(s.commit_last[0], 2);
    assert_int_equal(s.commit_first[1], 5);
    assert_int_equal(s.commit_last[1], 5);
    /* the same again changes nothing */
    seen s2 = {0};
    o = base_opts(f, &s2, 1000);
    n = run(&o, INPUT);
    assert_int_equal(n.unchanged, 3);
    assert_int_equal(n.stored + n.amended, 0);
    /* provenance of the stored version */
    store_row row;
    jiko_error err;
    assert_int_equal(store_get(f->db, "Op", "b", &row, &err), 1);
    assert_string_equal(row.reason, "imported from in.jsonl:2");
    store_row_free(&row);
}

static void test_amend(void **state)
{
    fx *f = *state;
    seen s = {0};
    import_opts o = base_opts(f, &s, 10);
    run(&o, INPUT);
    /* not stored yet: refused before anything is read */
    o.amend_id = "zz";
    import_run *im;
    jiko_error err;
    assert_int_equal(import_open(&im, &o, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_NOT_FOUND);
    /* a record with another id is rejected; the right one amends */
    o.amend_id = "a";
    o.amend_reason = "users corrected";
    memset(&s, 0, sizeof s);
    import_counts n = run(&o, REC("b", "Op", "2021-08-10T15:00:00+09:00", "null", "ftth", 1)
                                  REC("a", "Op", "2021-08-03T15:00:00+09:00",
                                      "\"2021-08-03T17:30:00+09:00\"", "email_paid", 456600));
    assert_int_equal(n.rejected, 1);
    assert_string_equal(s.reject_field[0], "id");
    assert_int_equal(n.amended, 1);
    store_row row;
    assert_int_equal(store_get(f->db, "Op", "a", &row, &err), 1);
    assert_int_equal(row.version, 2);
    assert_string_equal(row.reason, "amended: users corrected (from in.jsonl:2)");
    assert_int_equal(row.users, 456600);
    /* the row's JSON: registry columns in order, the record as stored */
    json_t *j = store_row_json(&row, true);
    static const char *const keys[] = {
        "operator", "id", "version", "started_at", "ended_at", "fiscal_year", "quarter", "report",
        "rulebook", "serious_categories", "quarterly_clauses", "users", "changed_at", "reason",
        "record"};
    size_t i = 0;
    for (void *it = json_object_iter(j); it; it = json_object_iter_next(j, it), i++)
        assert_string_equal(json_object_iter_key(it), keys[i]);
    assert_int_equal(i, 15);
    assert_string_equal(json_string_value(json_object_get(j, "report")), "serious");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "serious_categories"), 0)), "5");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "record"), "id")), "a");
    json_decref(j);
    /* read back and classified as stored */
    intake_opts io = {&f->env->cat, &f->env->rules, NULL, 0};
    incident inc;
    classify_result r;
    assert_int_equal(store_row_classify(&io, &row, &inc, &r, &err), 0);
    assert_int_equal(r.report, CLASSIFY_SERIOUS);
    assert_string_equal(r.book->id, "jp-2019");
    incident_free(&inc);
    store_row_free(&row);
    /* an amendment naming another operator would start a new incident:
     * rejected (hardening #6); naming it as the one to amend finds none */
    memset(&s, 0, sizeof s);
    n = run(&o, REC("a", "Other Co", "2021-08-03T15:00:00+09:00", "null", "email_paid", 1));
    assert_int_equal(n.rejected, 1);
    assert_int_equal(n.stored + n.amended, 0);
    assert_string_equal(s.reject_field[0], "operator");
    assert_int_equal(store_get(f->db, "Other Co", "a", &row, &err), 0);
    o.amend_op = "Other Co";
    assert_int_equal(import_open(&im, &o, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_NOT_FOUND);
    o.amend_op = NULL;
    /* a batch size out of range is the caller's mistake */
    o.amend_id = NULL;
    o.batch_size = 0;
    assert_int_equal(import_open(&im, &o, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_INVALID);
}

static void test_quarter_and_partners(void **state)
{
    fx *f = *state;
    seen s = {0};
    import_opts o = base_opts(f, &s, 10);
    run(&o, INPUT REC("e", "Resale Co", "2021-08-03T15:00:00+09:00", "\"2021-08-03T17:30:00+09:00\"",
                      "email_paid", 2000)
                REC("f", "Op", "2021-08-20T15:00:00+09:00", "null", "ftth", 40000));
    /* "e" names no provider: a partner only when it shares the owner */
    intake_opts io = {&f->env->cat, &f->env->rules, NULL, 0};
    report_batch b;
    jiko_error err;
    assert_int_equal(report_batch_collect(&b, f->db, &io, 2021, 2, NULL, &err), 0);
    /* c and e; not the serious a and b (jp-2019 excludes serious accidents
     * from the quarterly duty: serious_quarterly_duty = no), not the
     * ongoing f */
    assert_int_equal(b.n, 2);
    for (int i = 0; i < b.n; i++) {
        assert_false(b.inc[i].ongoing);
        assert_int_not_equal(b.r[i].report, CLASSIFY_SERIOUS);
    }
    report_batch_free(&b);
    assert_int_equal(report_batch_collect(&b, f->db, &io, 2021, 2, "Op", &err), 0);
    assert_int_equal(b.n, 0); /* Op's a and b are both serious */
    report_batch_free(&b);
    assert_int_equal(report_batch_collect(&b, f->db, &io, 2021, 3, NULL, &err), 0);
    assert_int_equal(b.n, 0);
    report_batch_free(&b);
    const rulebook *qb = report_quarter_rulebook(&f->env->rules, 2021, 2);
    assert_non_null(qb);
    assert_string_equal(qb->id, "jp-2019");
    assert_null(report_quarter_rulebook(&f->env->rules, 2007, 4));
    assert_string_equal(report_quarter_rulebook(&f->env->rules, 2008, 1)->id, "jp-2008");
}

static void test_partners(void **state)
{
    fx *f = *state;
    seen s = {0};
    import_opts o = base_opts(f, &s, 10);
    run(&o, REC("p", "Provider", "2021-10-14T17:00:00+09:00", "\"2021-10-14T20:00:00+09:00\"",
                "mobile_voice", 1000000)
            "{\"id\":\"r1\",\"operator\":\"Reseller A\",\"wholesale_provider\":\"Provider\","
            "\"started_at\":\"2021-10-14T17:00:00+09:00\",\"ended_at\":\"2021-10-14T20:00:00+09:00\","
            "\"services\":[{\"service\":\"mobile_voice\",\"effect\":\"stop\",\"users\":50000}]}\n"
            REC("x", "Unrelated", "2021-10-14T17:00:00+09:00", "\"2021-10-14T20:00:00+09:00\"",
                "mobile_voice", 50000));
    store_row row;
    jiko_error err;
    intake_opts io = {&f->env->cat, &f->env->rules, NULL, 0};
    assert_int_equal(store_get(f->db, NULL, "p", &row, &err), 1);
    incident inc;
    classify_result r;
    assert_int_equal(store_row_classify(&io, &row, &inc, &r, &err), 0);
    char **ops;
    int n;
    assert_int_equal(report_wholesale_partners(f->db, &row, &inc, &ops, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ops[0], "Reseller A");
    report_partners_free(ops, n);
    incident_free(&inc);
    store_row_free(&row);
}

int main(void)
{
    /* the import parses into arenas: the hook goes in before any JSON value */
    json_arena_install();
    if (tu_env_setup((void **)&g_env))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batches_and_rejections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_amend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quarter_and_partners, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partners, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_env_teardown((void **)&g_env);
    return rc;
}
