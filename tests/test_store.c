/*
 * test_store.c — the registry's behaviour, the same suite on both backends:
 * SQLite always, PostgreSQL when a URL is given (argv[1], or a file named
 * by argv[1] holding it — the CTest fixture writes one).
 */
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify.h"
#include "import.h"
#include "key_hint.h"
#include "store.h"
#include "testutil.h"

typedef struct fixture {
    tu_env *env;
    const char *url;
    store *db;
} fixture;

static tu_env *g_env; /* loaded once in main; read-only */
static void set_schema_version(const char *url, int v);
static char g_url[1024];

/* Store one record, expecting `want`; returns the version store_put gave. */
static int put(fixture *f, const char *json, store_outcome want)
{
    incident inc;
    jiko_error err;
    char msg[ERROR_TEXT_MAX];
    if (incident_parse(&inc, json, strlen(json), &f->env->cat, "t", 1, &err))
        fail_msg("%s", error_format(&err, msg, sizeof msg));
    classify_result r;
    classify_incident(rules_select(&f->env->rules, inc.started_ms), &f->env->cat, &inc,
                      inc.started_ms, &r);
    store_outcome out;
    int version = -1;
    if (store_put(f->db, &inc, &r, json, strlen(json), "test", 1000, &out, &version, &err))
        fail_msg("%s", error_format(&err, msg, sizeof msg));
    assert_int_equal(out, want);
    assert_true(version >= 1);
    incident_free(&inc);
    return version;
}

static char *rec(char *buf, size_t size, const char *op, const char *id, const char *start,
                 const char *end, const char *svc, long users)
{
    char endf[80];
    if (end)
        snprintf(endf, sizeof endf, "\"%s\"", end);
    else
        strcpy(endf, "null");
    snprintf(buf, size,
             "{\"id\":\"%s\",\"operator\":\"%s\",\"started_at\":\"%s\",\"ended_at\":%s,"
             "\"services\":[{\"service\":\"%s\",\"effect\":\"stop\",\"users\":%ld}]}",
             id, op, start, endf, svc, users);
    return buf;
}

static int setup(void **state, const char *url)
{
    fixture *f = calloc(1, sizeof *f);
    f->env = g_env;
    f->url = url;
    if (strncmp(url, "postgresql://", 13) == 0)
        tu_reset_pg(url);
    else
        tu_unlink_db(url);
    jiko_error err;
    char msg[ERROR_TEXT_MAX];
    if (store_open(&f->db, url, &err)) {
        fprintf(stderr, "%s\n", error_format(&err, msg, sizeof msg));
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int setup_sqlite(void **state) { return setup(state, "/tmp/jiko-test-store.db"); }
static int setup_pg(void **state) { return setup(state, g_url); }

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->db)
        store_close(f->db);
    free(f);
    return 0;
}

typedef struct collect {
    int n;
    int versions[16];
    char ids[16][64];
    char reasons[16][128];
} collect;

static int collect_row(void *ctx, const store_row *r)
{
    collect *c = ctx;
    if (c->n < 16) {
        c->versions[c->n] = r->version;
        snprintf(c->ids[c->n], 64, "%s", r->id);
        snprintf(c->reasons[c->n], 128, "%s", r->reason);
    }
    c->n++;
    return 0;
}

static void test_versions(void **state)
{
    fixture *f = *state;
    jiko_error err;
    char b[600];
    assert_int_equal(store_begin(f->db, &err), 0);
    /* the version after each put: 1 when new, the current one when
     * unchanged, the new one when amended */
    assert_int_equal(put(f, rec(b, sizeof b, "A", "x1", "2021-08-03T15:00:00+09:00", "2021-08-03T16:00:00+09:00", "ftth", 100), STORE_STORED), 1);
    assert_int_equal(put(f, b, STORE_UNCHANGED), 1);
    /* the same value written differently is not a change */
    put(f, "{ \"operator\" : \"A\", \"id\":\"x1\", \"ended_at\":\"2021-08-03T16:00:00+09:00\","
           "\"started_at\":\"2021-08-03T15:00:00+09:00\","
           "\"services\":[{\"users\":100,\"effect\":\"stop\",\"service\":\"ftth\"}]}",
        STORE_UNCHANGED);
    assert_int_equal(put(f, rec(b, sizeof b, "A", "x1", "2021-08-03T15:00:00+09:00", "2021-08-03T18:00:00+09:00", "ftth", 40000), STORE_AMENDED), 2);
    assert_int_equal(put(f, b, STORE_UNCHANGED), 2);
    assert_int_equal(put(f, rec(b, sizeof b, "A", "x1", "2021-08-03T15:00:00+09:00", "2021-08-03T19:00:00+09:00", "ftth", 40000), STORE_AMENDED), 3);
    assert_int_equal(put(f, rec(b, sizeof b, "A", "x1", "2021-08-03T15:00:00+09:00", "2021-08-03T18:00:00+09:00", "ftth", 40000), STORE_AMENDED), 4);
    assert_int_equal(put(f, rec(b, sizeof b, "B", "x1", "2021-08-03T15:00:00+09:00", NULL, "ftth", 10), STORE_STORED), 1);
    assert_int_equal(store_commit(f->db, &err), 0);

    store_row row;
    assert_int_equal(store_get(f->db, "A", "x1", &row, &err), 1);
    assert_int_equal(row.version, 4);
    assert_string_equal(row.report, "serious");
    assert_string_equal(row.serious_categories, "5");
    assert_string_equal(row.quarterly_clauses, "telecom");
    assert_int_equal(row.users, 40000);
    assert_false(row.ongoing);
    assert_int_equal(row.fiscal_year, 2021);
    assert_int_equal(row.quarter, 2);
    assert_non_null(strstr(row.record, "40000"));
    store_row_free(&row);
    /* the id alone is ambiguous between operators A and B */
    assert_int_equal(store_get(f->db, NULL, "x1", &row, &err), -1);
    assert_non_null(strstr(err.message, "several operators"));
    assert_int_equal(store_get(f->db, NULL, "nope", &row, &err), 0);

    collect c = {0};
    assert_int_equal(store_history(f->db, "A", "x1", collect_row, &c, &err), 0);
    assert_int_equal(c.n, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(c.versions[i], i + 1);
    assert_int_equal(store_check(f->db, &err), 0);
}

/* store_read_begin: SQLite's reads until store_read_end share one snapshot
 * (a write by another handle meanwhile is seen after it); PostgreSQL reads
 * as before, each statement its own.  Either way a write committed before
 * store_read_begin is seen. */
static void test_read_snapshot(void **state)
{
    fixture *f = *state;
    jiko_error err;
    char b[600];
    assert_int_equal(store_begin(f->db, &err), 0);
    put(f, rec(b, sizeof b, "A", "s1", "2021-08-03T15:00:00+09:00", "2021-08-03T16:00:00+09:00", "ftth", 100), STORE_STORED);
    assert_int_equal(store_commit(f->db, &err), 0);
    store *other;
    assert_int_equal(store_open(&other, f->url, &err), 0);

    assert_int_equal(store_read_begin(f->db, &err), 0);
    store_row row;
    assert_int_equal(store_get(f->db, "A", "s1", &row, &err), 1);
    assert_int_equal(row.version, 1);
    store_row_free(&row);
    fixture o = *f;
    o.db = other;
    assert_int_equal(store_begin(other, &err), 0);
    put(&o, rec(b, sizeof b, "A", "s1", "2021-08-03T15:00:00+09:00", "2021-08-03T17:00:00+09:00", "ftth", 100), STORE_AMENDED);
    assert_int_equal(store_commit(other, &err), 0);
    assert_int_equal(store_get(f->db, "A", "s1", &row, &err), 1);
    bool shared = strcmp(store_backend(f->db), "sqlite") == 0;
    assert_int_equal(row.version, shared ? 1 : 2); /* the snapshot, or each read its own */
    store_row_free(&row);
    store_read_end(f->db);
    assert_false(store_in_batch(f->db));
    assert_int_equal(store_get(f->db, "A", "s1", &row, &err), 1);
    assert_int_equal(row.version, 2);
    store_row_free(&row);
    /* a write on this handle after it works as before */
    assert_int_equal(store_begin(f->db, &err), 0);
    put(f, rec(b, sizeof b, "A", "s1", "2021-08-03T15:00:00+09:00", "2021-08-03T18:00:00+09:00", "ftth", 100), STORE_AMENDED);
    assert_int_equal(store_commit(f->db, &err), 0);
    /* a snapshot begun after that write sees it */
    assert_int_equal(store_read_begin(f->db, &err), 0);
    assert_int_equal(store_get(f->db, "A", "s1", &row, &err), 1);
    assert_int_equal(row.version, 3);
    store_row_free(&row);
    store_read_end(f->db);
    store_close(other);
}

/* key_hint.h alone: a lookup gives the key last put under that hash, or
 * nothing, however full the table and however many entries it evicted. */
static void test_key_hint_table(void **state)
{
    (void)state;
    key_hint *h = key_hint_new(128); /* two buckets of four: evicts from the 9th */
    assert_non_null(h);
    key_hint_stats st;
    key_hint_stats_get(h, &st);
    assert_int_equal(st.slots, 8);
    enum { N = 64 };
    uint64_t hashes[N];
    int64_t last[N] = {0};
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof id, "i%d", i);
        hashes[i] = key_hint_hash("A", id);
        assert_true(hashes[i] != 0);
        for (int j = 0; j < i; j++)
            assert_true(hashes[j] != hashes[i]);
    }
    /* the operator's end is part of the name: ("A", "bc") is not ("Ab", "c") */
    assert_true(key_hint_hash("A", "bc") != key_hint_hash("Ab", "c"));
    assert_int_equal(key_hint_find(h, hashes[0]), 0);
    unsigned x = 7, found = 0;
    for (int64_t round = 1; round <= 3000; round++) {
        x = x * 1103515245u + 12345u;
        int i = (int)((x >> 16) % N);
        key_hint_put(h, hashes[i], round);
        last[i] = round;
        for (int j = 0; j < N; j++) {
            int64_t k = key_hint_find(h, hashes[j]);
            assert_true(k == 0 || k == last[j]);
            found += k != 0;
        }
        assert_int_equal(key_hint_find(h, hashes[i]), round); /* just put: not evicted yet */
    }
    assert_true(found > 0);
    key_hint_stats_get(h, &st);
    assert_int_equal(st.filled, 8);
    assert_true(key_hint_nearly_full(h));
    key_hint_free(h);
    /* below one bucket: still one bucket */
    h = key_hint_new(1);
    assert_non_null(h);
    key_hint_put(h, hashes[1], 5);
    assert_int_equal(key_hint_find(h, hashes[1]), 5);
    assert_false(key_hint_nearly_full(h));
    /* told to stop filling: a fill stops, the hint still works */
    key_hint_stop_filling(h);
    assert_true(key_hint_nearly_full(h));
    key_hint_put(h, hashes[2], 6);
    assert_int_equal(key_hint_find(h, hashes[2]), 6);
    key_hint_free(h);
}

static void hint_reads(key_hint *h, unsigned long hit, unsigned long miss, unsigned long stale)
{
    key_hint_stats st;
    key_hint_stats_get(h, &st);
    assert_int_equal(st.reads[KEY_HINT_HIT], hit);
    assert_int_equal(st.reads[KEY_HINT_MISS], miss);
    assert_int_equal(st.reads[KEY_HINT_STALE], stale);
}

/* Reads through a key hint give what reads through the index give: the
 * hint is checked against the row it leads to, so a wrong one (as a hash
 * collision or a slot read while being written would give) is not used. */
static void test_key_hint_reads(void **state)
{
    fixture *f = *state;
    jiko_error err;
    char b[600];
    assert_int_equal(store_begin(f->db, &err), 0);
    put(f, rec(b, sizeof b, "A", "k1", "2021-08-03T15:00:00+09:00", "2021-08-03T16:00:00+09:00", "ftth", 100), STORE_STORED);
    put(f, rec(b, sizeof b, "A", "k2", "2021-08-03T15:00:00+09:00", "2021-08-03T16:00:00+09:00", "ftth", 200), STORE_STORED);
    put(f, rec(b, sizeof b, "B", "k1", "2021-08-03T15:00:00+09:00", "2021-08-03T16:00:00+09:00", "ftth", 300), STORE_STORED);
    assert_int_equal(store_commit(f->db, &err), 0);
    key_hint *h = key_hint_new(1 << 16);
    assert_non_null(h);
    store_row row;
    if (strcmp(store_backend(f->db), "sqlite") != 0) {
        /* PostgreSQL has no key to hint: nothing changes */
        assert_false(store_use_key_hint(f->db, h));
        assert_int_equal(store_get(f->db, "A", "k1", &row, &err), 1);
        store_row_free(&row);
        hint_reads(h, 0, 0, 0);
        key_hint_free(h);
        return;
    }
    assert_true(store_use_key_hint(f->db, h));
    long n = -1;
    assert_int_equal(store_key_hint_fill(f->db, h, &n, &err), 0);
    assert_int_equal(n, 3);

    assert_int_equal(store_get(f->db, "A", "k1", &row, &err), 1);
    assert_string_equal(row.op, "A");
    assert_string_equal(row.id, "k1");
    assert_int_equal(row.users, 100);
    int64_t key_a1 = row.key;
    store_row_free(&row);
    assert_int_equal(store_get(f->db, "B", "k1", &row, &err), 1);
    assert_int_equal(row.users, 300);
    int64_t key_b1 = row.key;
    store_row_free(&row);
    assert_true(key_a1 > 0 && key_b1 > 0 && key_a1 != key_b1);
    hint_reads(h, 2, 0, 0);

    /* a hint to another incident: the index is read, and the hint mended */
    key_hint_put(h, key_hint_hash("A", "k1"), key_b1);
    assert_int_equal(store_get(f->db, "A", "k1", &row, &err), 1);
    assert_string_equal(row.op, "A");
    assert_int_equal(row.users, 100);
    assert_int_equal(row.key, key_a1);
    store_row_free(&row);
    hint_reads(h, 2, 0, 1);
    assert_int_equal(key_hint_find(h, key_hint_hash("A", "k1")), key_a1);
    assert_int_equal(store_get_to_parse(f->db, "A", "k1", &row, &err), 1);
    assert_int_equal(row.users, 100);
    store_row_free(&row);
    hint_reads(h, 3, 0, 1);
    /* a hint to no incident at all */
    key_hint_put(h, key_hint_hash("A", "k2"), key_a1 + key_b1 + 1000);
    assert_int_equal(store_get(f->db, "A", "k2", &row, &err), 1);
    assert_string_equal(row.id, "k2");
    assert_int_equal(row.users, 200);
    store_row_free(&row);
    hint_reads(h, 3, 0, 2);

    /* another handle adds an incident and amends one: the new one is a
     * miss and then a hit, the amendment keeps its key and is read at once */
    store *other;
    assert_int_equal(store_open(&other, f->url, &err), 0);
    fixture o = *f;
    o.db = other;
    assert_int_equal(store_begin(other, &err), 0);
    put(&o, rec(b, sizeof b, "A", "k3", "2021-08-03T15:00:00+09:00", NULL, "ftth", 400), STORE_STORED);
    put(&o, rec(b, sizeof b, "A", "k1", "2021-08-03T15:00:00+09:00", "2021-08-03T18:00:00+09:00", "ftth", 100), STORE_AMENDED);
    assert_int_equal(store_commit(other, &err), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(store_get(f->db, "A", "k3", &row, &err), 1);
        assert_int_equal(row.users, 400);
        assert_true(row.ongoing);
        store_row_free(&row);
    }
    hint_reads(h, 4, 1, 2);
    assert_int_equal(store_get(f->db, "A", "k1", &row, &err), 1);
    assert_int_equal(row.version, 2);
    assert_int_equal(row.key, key_a1);
    store_row_free(&row);
    hint_reads(h, 5, 1, 2);

    /* an unknown incident: a miss, and nothing hinted */
    assert_int_equal(store_get(f->db, "A", "zz", &row, &err), 0);
    hint_reads(h, 5, 2, 2);
    key_hint_stats st;
    key_hint_stats_get(h, &st);
    assert_int_equal(st.filled, 4);
    /* by id alone: the index, as the id may be ambiguous */
    assert_int_equal(store_get(f->db, NULL, "k2", &row, &err), 1);
    store_row_free(&row);
    assert_int_equal(store_get(f->db, NULL, "k1", &row, &err), -1);
    hint_reads(h, 5, 2, 2);

    /* a hinted read inside a read snapshot reads the snapshot */
    assert_int_equal(store_read_begin(f->db, &err), 0);
    assert_int_equal(store_get(f->db, "A", "k1", &row, &err), 1);
    assert_int_equal(row.version, 2);
    store_row_free(&row);
    assert_int_equal(store_begin(other, &err), 0);
    put(&o, rec(b, sizeof b, "A", "k1", "2021-08-03T15:00:00+09:00", "2021-08-03T19:00:00+09:00", "ftth", 100), STORE_AMENDED);
    assert_int_equal(store_commit(other, &err), 0);
    assert_int_equal(store_get(f->db, "A", "k1", &row, &err), 1);
    assert_int_equal(row.version, 2);
    store_row_free(&row);
    store_read_end(f->db);
    assert_int_equal(store_get(f->db, "A", "k1", &row, &err), 1);
    assert_int_equal(row.version, 3);
    store_row_free(&row);
    hint_reads(h, 8, 2, 2);

    /* a fill stops at three quarters of a small hint, and at once when told */
    key_hint *small = key_hint_new(64);
    assert_non_null(small);
    assert_int_equal(store_key_hint_fill(f->db, small, &n, &err), 0);
    assert_int_equal(n, 3);
    key_hint_free(small);
    small = key_hint_new(1 << 16);
    assert_non_null(small);
    key_hint_stop_filling(small);
    assert_int_equal(store_key_hint_fill(f->db, small, &n, &err), 0);
    assert_int_equal(n, 0);
    key_hint_free(small);

    assert_true(store_use_key_hint(f->db, NULL));
    assert_int_equal(store_get(f->db, "A", "k1", &row, &err), 1);
    store_row_free(&row);
    hint_reads(h, 8, 2, 2);
    store_close(other);
    key_hint_free(h);
}

static void test_filters_and_rollback(void **state)
{
    fixture *f = *state;
    jiko_error err;
    char b[600];
    assert_int_equal(store_begin(f->db, &err), 0);
    put(f, rec(b, sizeof b, "A", "q1", "2021-05-01T10:00:00+09:00", "2021-05-01T13:00:00+09:00", "ftth", 10), STORE_STORED);
    put(f, rec(b, sizeof b, "A", "q2", "2021-08-01T10:00:00+09:00", "2021-08-01T13:00:00+09:00", "mobile_data", 40000), STORE_STORED);
    put(f, rec(b, sizeof b, "B", "q3", "2022-03-31T23:59:59+09:00", NULL, "ftth", 5), STORE_STORED);
    put(f, rec(b, sizeof b, "B", "q4", "2022-04-01T00:00:00+09:00", "2022-04-01T00:10:00+09:00", "ftth", 5), STORE_STORED);
    assert_int_equal(store_commit(f->db, &err), 0);
    struct { store_filter f; int n; const char *first; } cases[] = {
        {{.open = -1}, 4, "q1"},
        {{.fiscal_year = 2021, .open = -1}, 3, "q1"},
        {{.fiscal_year = 2021, .quarter = 4, .open = -1}, 1, "q3"},
        {{.fiscal_year = 2022, .open = -1}, 1, "q4"},
        {{.op = "B", .open = -1}, 2, "q3"},
        {{.report = "serious", .open = -1}, 1, "q2"},
        {{.report = "none", .open = -1}, 2, "q3"},
        {{.open = 1}, 1, "q3"},
        {{.open = 0}, 3, "q1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        collect c = {0};
        assert_int_equal(store_list(f->db, &cases[i].f, collect_row, &c, &err), 0);
        if (c.n != cases[i].n)
            fail_msg("filter case %zu: %d rows, want %d", i, c.n, cases[i].n);
        assert_string_equal(c.ids[0], cases[i].first);
    }
    long open = -1;
    assert_int_equal(store_count_open(f->db, &open, &err), 0);
    assert_int_equal(open, 1); /* q3, the one without an end */
    /* a rolled-back batch leaves nothing */
    assert_int_equal(store_begin(f->db, &err), 0);
    put(f, rec(b, sizeof b, "C", "gone", "2021-05-01T10:00:00+09:00", NULL, "ftth", 1), STORE_STORED);
    assert_int_equal(store_rollback(f->db, &err), 0);
    store_row row;
    assert_int_equal(store_get(f->db, "C", "gone", &row, &err), 0);
}

/* Rows as "started|operator|id", for comparing pages with the whole list. */
typedef struct keys {
    int n;
    char key[64][96];
    int64_t last_started;
    char last_op[32], last_id[32];
} keys;

static int collect_key(void *ctx, const store_row *r)
{
    keys *k = ctx;
    assert_true(k->n < 64);
    snprintf(k->key[k->n++], sizeof k->key[0], "%lld|%s|%s", (long long)r->started_ms, r->op,
             r->id);
    k->last_started = r->started_ms;
    snprintf(k->last_op, sizeof k->last_op, "%s", r->op);
    snprintf(k->last_id, sizeof k->last_id, "%s", r->id);
    return 0;
}

/* Paging through a list in pages of 1, 2 and 3 gives exactly the list,
 * filters included; rows that share a start time are ordered by operator,
 * then id, and a page never repeats or skips one of them. */
/* store_filter.active_since_ms (the public status page's set): ongoing,
 * ended since, or stored since — the rest left out. */
static void test_active_since(void **state)
{
    fixture *f = *state;
    jiko_error err;
    char b[600];
    static const struct {
        const char *id, *end, *stored;
        bool in;
    } cases[] = {
        {"open", NULL, "2021-05-01T12:00:00+09:00", true},
        {"old", "2021-05-02T00:00:00+09:00", "2021-05-02T01:00:00+09:00", false},
        {"ended-since", "2022-02-01T00:00:00+09:00", "2022-02-01T01:00:00+09:00", true},
        {"ended-at-since", "2022-01-01T00:00:00+09:00", "2021-05-02T01:00:00+09:00", true},
        {"stored-since", "2021-05-02T00:00:00+09:00", "2022-03-01T00:00:00+09:00", true},
    };
    assert_int_equal(store_begin(f->db, &err), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rec(b, sizeof b, "A", cases[i].id, "2021-05-01T10:00:00+09:00", cases[i].end, "ftth", 10);
        incident inc;
        classify_result r;
        store_outcome out;
        assert_int_equal(incident_parse(&inc, b, strlen(b), &f->env->cat, "t", 1, &err), 0);
        classify_incident(rules_select(&f->env->rules, inc.started_ms), &f->env->cat, &inc,
                          inc.started_ms, &r);
        assert_int_equal(store_put(f->db, &inc, &r, b, strlen(b), "test", tu_time(cases[i].stored),
                                   &out, NULL, &err), 0);
        incident_free(&inc);
    }
    assert_int_equal(store_commit(f->db, &err), 0);
    store_filter since = {.open = -1, .active_since_ms = tu_time("2022-01-01T00:00:00+09:00")};
    keys got = {0};
    assert_int_equal(store_list(f->db, &since, collect_key, &got, &err), 0);
    int want = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool found = false;
        for (int k = 0; k < got.n; k++)
            found = found || strstr(got.key[k], cases[i].id) != NULL;
        if (found != cases[i].in)
            fail_msg("%s: %s", cases[i].id, found ? "listed" : "left out");
        want += cases[i].in;
    }
    assert_int_equal(got.n, want);
}

static void test_paging(void **state)
{
    fixture *f = *state;
    jiko_error err;
    char b[600];
    static const char *const starts[] = {"2021-05-01T10:00:00+09:00", "2021-08-01T10:00:00+09:00",
                                         "2022-04-02T10:00:00+09:00"};
    static const char *const ops[] = {"B", "A", "C"};
    static const char *const ids[] = {"z", "a", "m10", "m9"};
    assert_int_equal(store_begin(f->db, &err), 0);
    for (int i = 0; i < 3; i++)
        for (int o = 0; o < 3; o++)
            for (int k = 0; k < 4; k++)
                if ((i + o + k) % 3) { /* not every combination: uneven groups */
                    char id[16];
                    snprintf(id, sizeof id, "%s-%d", ids[k], i);
                    put(f, rec(b, sizeof b, ops[o], id, starts[i],
                               k % 2 ? NULL : "2022-05-01T00:00:00+09:00", "ftth", 10 + k),
                        STORE_STORED);
                }
    assert_int_equal(store_commit(f->db, &err), 0);
    const store_filter filters[] = {
        {.open = -1},
        {.op = "B", .open = -1},
        {.fiscal_year = 2021, .open = -1},
        {.fiscal_year = 2021, .quarter = 2, .open = 0},
        {.open = 1},
        {.op = "nobody", .open = -1},
    };
    /* each filter oldest first, then newest first (the exact reverse), each
     * read whole and in pages of 1-3 */
    for (size_t fo = 0; fo < 2 * sizeof filters / sizeof filters[0]; fo++) {
        size_t fi = fo / 2;
        store_filter whole = filters[fi];
        whole.newest_first = fo % 2;
        keys all = {0};
        assert_int_equal(store_list(f->db, &whole, collect_key, &all, &err), 0);
        if (fi == 0)
            assert_int_equal(all.n, 24);
        if (whole.newest_first) {
            keys up = {0};
            assert_int_equal(store_list(f->db, &filters[fi], collect_key, &up, &err), 0);
            assert_int_equal(up.n, all.n);
            for (int i = 0; i < all.n; i++)
                assert_string_equal(all.key[i], up.key[all.n - 1 - i]);
        }
        for (long size = 1; size <= 3; size++) {
            keys paged = {0};
            store_filter pf = whole;
            pf.limit = size;
            for (int pages = 0;; pages++) {
                assert_true(pages <= all.n);
                keys page = {0};
                assert_int_equal(store_list(f->db, &pf, collect_key, &page, &err), 0);
                assert_true(page.n <= size);
                for (int i = 0; i < page.n; i++)
                    snprintf(paged.key[paged.n++], sizeof paged.key[0], "%s", page.key[i]);
                if (page.n < size)
                    break;
                paged.last_started = page.last_started;
                snprintf(paged.last_op, sizeof paged.last_op, "%s", page.last_op);
                snprintf(paged.last_id, sizeof paged.last_id, "%s", page.last_id);
                pf.after_started_ms = paged.last_started;
                pf.after_op = paged.last_op;
                pf.after_id = paged.last_id;
            }
            if (paged.n != all.n)
                fail_msg("filter %zu, pages of %ld: %d rows, want %d", fi, size, paged.n, all.n);
            for (int i = 0; i < all.n; i++)
                assert_string_equal(paged.key[i], all.key[i]);
        }
    }
    /* within one start time: operator, then id (bytewise: "m10" < "m9") */
    keys all = {0};
    store_filter first = {.fiscal_year = 2021, .quarter = 2, .op = "A", .open = -1, .limit = 2};
    assert_int_equal(store_list(f->db, &first, collect_key, &all, &err), 0);
    assert_int_equal(all.n, 2);
    assert_non_null(strstr(all.key[0], "|A|m10-1"));
    assert_non_null(strstr(all.key[1], "|A|m9-1"));
    /* a limit without a position is the first page */
    store_filter no_limit = {.open = -1, .limit = 0};
    memset(&all, 0, sizeof all);
    assert_int_equal(store_list(f->db, &no_limit, collect_key, &all, &err), 0);
    assert_int_equal(all.n, 24);
    /* a position past the end: nothing */
    store_filter past = {.open = -1, .after_started_ms = INT64_MAX, .after_op = "", .after_id = ""};
    memset(&all, 0, sizeof all);
    assert_int_equal(store_list(f->db, &past, collect_key, &all, &err), 0);
    assert_int_equal(all.n, 0);
    /* the caller's mistakes */
    store_filter bad = {.open = -1, .limit = -1};
    assert_int_equal(store_list(f->db, &bad, collect_key, &all, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_INVALID);
    assert_string_equal(err.field, "limit");
    store_filter half = {.open = -1, .after_op = "A"};
    assert_int_equal(store_list(f->db, &half, collect_key, &all, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_INVALID);
}

/* ---- import_text: a request body in one transaction ---------------------- */

#define TREC(id, op, users)                                                                    \
    "{\"id\":\"" id "\",\"operator\":\"" op "\",\"started_at\":\"2021-08-03T15:00:00+09:00\","   \
    "\"ended_at\":\"2021-08-03T18:00:00+09:00\","                                               \
    "\"services\":[{\"service\":\"ftth\",\"effect\":\"stop\",\"users\":" #users "}]}"

static int text_in(fixture *f, const char *text, const char *reason, const char *only_op,
                   import_results *out, jiko_error *err)
{
    intake_opts io = {&f->env->cat, &f->env->rules, NULL, 1000};
    return import_text(f->db, &io, text, strlen(text), "req", reason, only_op, out, err);
}

static void text_ok(fixture *f, const char *text, const char *reason, const char *only_op,
                    import_results *out)
{
    jiko_error err;
    char msg[ERROR_TEXT_MAX];
    if (text_in(f, text, reason, only_op, out, &err))
        fail_msg("import_text: %s", error_format(&err, msg, sizeof msg));
}

/* The stored record and provenance of the current version. */
static void stored_as(fixture *f, const char *op, const char *id, const char *record,
                      const char *reason, int version)
{
    store_row row;
    jiko_error err;
    assert_int_equal(store_get(f->db, op, id, &row, &err), 1);
    if (record)
        assert_string_equal(row.record, record);
    if (reason)
        assert_string_equal(row.reason, reason);
    assert_int_equal(row.version, version);
    store_row_free(&row);
}

static void test_import_text(void **state)
{
    fixture *f = *state;
    import_results out;
    /* one object on one line, stored as given */
    text_ok(f, TREC("s1", "A", 10) "\n", "posted by t_1", NULL, &out);
    assert_int_equal(out.n, 1);
    assert_true(out.r[0].ok);
    assert_int_equal(out.r[0].line, 1);
    assert_int_equal(out.r[0].outcome, STORE_STORED);
    assert_int_equal(out.r[0].version, 1);
    assert_string_equal(out.r[0].inc.id, "s1");
    assert_non_null(out.r[0].res.book);
    assert_int_equal(out.counts.stored, 1);
    import_results_free(&out);
    stored_as(f, "A", "s1", TREC("s1", "A", 10), "posted by t_1 (from req:1)", 1);

    /* a pretty-printed object (byte order mark, CRLF, a blank first line):
     * one record, stored as one line, its strings untouched */
    text_ok(f,
            "\xEF\xBB\xBF\r\n{\r\n  \"id\": \"p1\",\r\n  \"operator\": \"A B\",\r\n"
            "  \"started_at\": \"2021-08-03T15:00:00+09:00\",\n  \"ended_at\": null,\n"
            "  \"services\": [ { \"service\": \"ftth\", \"effect\": \"stop\", \"users\": 5 } ],\n"
            "  \"cause\": { \"category\": \"human\", \"detail\": \"a \\\"quoted\\\"  {text}\\\\\" }\n"
            "}\n\n",
            NULL, NULL, &out);
    assert_int_equal(out.n, 1);
    assert_true(out.r[0].ok);
    assert_int_equal(out.r[0].line, 2);
    assert_true(out.r[0].inc.ongoing);
    import_results_free(&out);
    stored_as(f, "A B", "p1",
              "{\"id\":\"p1\",\"operator\":\"A B\",\"started_at\":\"2021-08-03T15:00:00+09:00\","
              "\"ended_at\":null,\"services\":[{\"service\":\"ftth\",\"effect\":\"stop\","
              "\"users\":5}],\"cause\":{\"category\":\"human\",\"detail\":\"a \\\"quoted\\\"  "
              "{text}\\\\\"}}",
              "imported from req:2", 1);

    /* JSON Lines: a bad line in the middle and a blank one do not stop the
     * rest; lines are numbered as in the text; an amendment and an
     * unchanged record give the current version */
    text_ok(f,
            TREC("j1", "A", 1) "\n"
            "{\"id\": oops\n"
            "\n"
            TREC("s1", "A", 40000) "\r\n"
            TREC("j2", "A", 2) "\n"
            "{\"id\":\"j3\",\"operator\":\"A\",\"started_at\":\"2001-01-01T00:00:00+09:00\","
            "\"ended_at\":null,\"services\":[{\"service\":\"ftth\",\"effect\":\"stop\",\"users\":1}]}\n"
            TREC("j1", "A", 1),
            "posted by t_2", NULL, &out);
    assert_int_equal(out.n, 6);
    static const long lines[] = {1, 2, 4, 5, 6, 7};
    static const bool ok[] = {true, false, true, true, false, true};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(out.r[i].line, lines[i]);
        assert_int_equal(out.r[i].ok, ok[i]);
    }
    assert_int_equal(out.r[1].err.kind, JIKO_ERR_INVALID);
    assert_string_equal(out.r[1].err.file, "req");
    assert_int_equal(out.r[1].err.line, 2);
    assert_string_equal(out.r[4].err.field, "started_at");
    assert_int_equal(out.r[2].outcome, STORE_AMENDED);
    assert_int_equal(out.r[2].version, 2);
    assert_int_equal(out.r[0].outcome, STORE_STORED);
    assert_int_equal(out.r[5].outcome, STORE_UNCHANGED); /* j1 again, same transaction */
    assert_int_equal(out.r[5].version, 1);
    assert_int_equal(out.counts.stored, 2);
    assert_int_equal(out.counts.amended, 1);
    assert_int_equal(out.counts.unchanged, 1);
    assert_int_equal(out.counts.rejected, 2);
    import_results_free(&out);
    stored_as(f, "A", "s1", NULL, "posted by t_2 (from req:4)", 2);
    /* unchanged: the same version back, nothing written */
    text_ok(f, TREC("s1", "A", 40000), "posted by t_3", NULL, &out);
    assert_int_equal(out.r[0].outcome, STORE_UNCHANGED);
    assert_int_equal(out.r[0].version, 2);
    import_results_free(&out);
    stored_as(f, "A", "s1", NULL, "posted by t_2 (from req:4)", 2);

    /* a token of one operator: another operator's record is forbidden, the
     * operator's own is stored */
    text_ok(f, TREC("o1", "B", 1) "\n" TREC("o2", "A", 1) "\n", "posted by t_4", "A", &out);
    assert_int_equal(out.n, 2);
    assert_false(out.r[0].ok);
    assert_int_equal(out.r[0].err.kind, JIKO_ERR_FORBIDDEN);
    assert_string_equal(out.r[0].err.field, "operator");
    assert_string_equal(out.r[0].err.message,
                        "the token may write only incidents of operator 'A', not 'B'");
    assert_true(out.r[1].ok);
    assert_int_equal(out.counts.rejected, 1);
    import_results_free(&out);
    store_row row;
    jiko_error err;
    assert_int_equal(store_get(f->db, "B", "o1", &row, &err), 0);
    stored_as(f, "A", "o2", NULL, NULL, 1);

    /* nothing to store: an empty text, blank lines, every record rejected */
    static const char *const empty[] = {"", "\n", "  \r\n\t\n\n", "\xEF\xBB\xBF\n"};
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        text_ok(f, empty[i], NULL, NULL, &out);
        assert_int_equal(out.n, 0);
        import_results_free(&out);
    }
    text_ok(f, "[1,\n2]\n", NULL, NULL, &out); /* one value, but not an incident */
    assert_int_equal(out.n, 1);
    assert_false(out.r[0].ok);
    assert_int_equal(out.r[0].err.kind, JIKO_ERR_INVALID);
    import_results_free(&out);
    /* one pretty-printed value with a mistake: one rejected record (its
     * whitespace is never dropped before jansson has read it: "1 2" must
     * not become 12) */
    text_ok(f, "{\"id\":\"t\",\"operator\":\"A\",\n\"started_at\":\"2021-08-03T15:00:00+09:00\","
               "\"ended_at\":null,\n\"services\":[{\"service\":\"ftth\",\"effect\":\"stop\","
               "\"users\":1 2}]\n}\n",
            NULL, NULL, &out);
    assert_int_equal(out.n, 1);
    assert_false(out.r[0].ok);
    assert_int_equal(out.r[0].err.kind, JIKO_ERR_INVALID);
    assert_non_null(strstr(out.r[0].err.message, "invalid JSON"));
    import_results_free(&out);
    assert_int_equal(store_get(f->db, "A", "t", &row, &err), 0);
    text_ok(f, "{\n\"id\":\"half\"\n", NULL, NULL, &out); /* not one value: lines */
    assert_int_equal(out.n, 2);
    assert_int_equal(out.counts.rejected, 2);
    import_results_free(&out);
    /* a pretty-printed object with a duplicate key: one record, rejected
     * by the record's validation, not read as lines */
    text_ok(f, "{\n\"id\":\"d\",\n\"id\":\"e\"\n}", NULL, NULL, &out);
    assert_int_equal(out.n, 1);
    assert_false(out.r[0].ok);
    import_results_free(&out);
}

/* Run SQL behind the registry's back. */
static void raw_sql(const char *url, const char *sql)
{
    if (strncmp(url, "postgresql://", 13) == 0) {
        PGconn *c = PQconnectdb(url);
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            fail_msg("%s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(c);
    } else {
        sqlite3 *db;
        char *msg = NULL;
        assert_int_equal(sqlite3_open(url, &db), SQLITE_OK);
        if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
            fail_msg("%s: %s", sql, msg);
        sqlite3_close(db);
    }
}

/* The registry failing on one record stores none of the text's records;
 * on PostgreSQL a transaction aborted as retryable is stored again, and
 * gives up after IMPORT_RETRY_ATTEMPTS. */
static void test_import_text_failure(void **state)
{
    fixture *f = *state;
    bool pg = strncmp(f->url, "postgresql://", 13) == 0;
    if (pg)
        raw_sql(f->url,
                "CREATE SEQUENCE jiko_test_boom_seq;"
                "CREATE FUNCTION jiko_test_boom() RETURNS trigger AS $$ BEGIN"
                "  IF NEW.id = 'boom' THEN RAISE EXCEPTION 'boom'; END IF;"
                "  IF NEW.id = 'busy' OR (NEW.id = 'retry' AND nextval('jiko_test_boom_seq') <= 3)"
                "  THEN RAISE EXCEPTION 'simulated' USING ERRCODE = '40001'; END IF;"
                "  RETURN NEW; END $$ LANGUAGE plpgsql;"
                "CREATE TRIGGER jiko_test_boom BEFORE INSERT ON incident"
                "  FOR EACH ROW EXECUTE FUNCTION jiko_test_boom()");
    else
        raw_sql(f->url, "CREATE TRIGGER jiko_test_boom BEFORE INSERT ON incident"
                        " WHEN NEW.id = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END");
    import_results out;
    jiko_error err;
    store_row row;
    assert_int_equal(text_in(f, TREC("before", "A", 1) "\n" TREC("boom", "A", 1) "\n", NULL,
                             NULL, &out, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_STORE);
    assert_non_null(strstr(err.message, "boom"));
    assert_int_equal(out.n, 0);
    assert_null(out.r);
    import_results_free(&out);
    assert_int_equal(store_get(f->db, "A", "before", &row, &err), 0);
    /* the registry is usable afterwards */
    text_ok(f, TREC("after", "A", 1), NULL, NULL, &out);
    assert_int_equal(out.counts.stored, 1);
    import_results_free(&out);
    if (!pg)
        return;
    /* aborted three times, stored on the fourth attempt, counted once */
    text_ok(f, TREC("r0", "A", 1) "\n" TREC("retry", "A", 1) "\n", NULL, NULL, &out);
    assert_int_equal(out.counts.stored, 2);
    assert_int_equal(out.r[1].version, 1);
    import_results_free(&out);
    stored_as(f, "A", "retry", NULL, "imported from req:2", 1);
    /* aborted every time: given up, nothing stored */
    assert_int_equal(text_in(f, TREC("r1", "A", 1) "\n" TREC("busy", "A", 1), NULL, NULL, &out,
                             &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_RETRY);
    assert_int_equal(store_get(f->db, "A", "r1", &row, &err), 0);
    raw_sql(f->url, "SET client_min_messages = warning; DROP FUNCTION jiko_test_boom() CASCADE;"
                    " DROP SEQUENCE jiko_test_boom_seq");
}

/* ---- API tokens ----------------------------------------------------------- */

typedef struct tokens_seen {
    int n;
    char line[8][200];
    unsigned char hash[8][STORE_TOKEN_HASH_BYTES];
    int64_t revoked[8];
} tokens_seen;

static int collect_token(void *ctx, const store_token *t)
{
    tokens_seen *c = ctx;
    assert_true(c->n < 8);
    snprintf(c->line[c->n], sizeof c->line[0], "%s|%s|%s|%s|%lld", t->id, t->role,
             t->op ? t->op : "(none)", t->note, (long long)t->created_ms);
    memcpy(c->hash[c->n], t->hash, STORE_TOKEN_HASH_BYTES);
    c->revoked[c->n] = t->revoked_ms;
    c->n++;
    return 0;
}

static store_token token_of(const char *id, int fill, const char *op, const char *role,
                            const char *note, int64_t created)
{
    store_token t = {id, {0}, op, role, note, created, 0};
    memset(t.hash, fill, sizeof t.hash);
    return t;
}

static void test_tokens(void **state)
{
    fixture *f = *state;
    jiko_error err;
    tokens_seen c = {0};
    assert_int_equal(store_token_list(f->db, collect_token, &c, &err), 0);
    assert_int_equal(c.n, 0);
    store_token a = token_of("t_aaaaaaaaaaaa", 0xaa, "A", "admin", "ops team", 3000);
    store_token r = token_of("t_bbbbbbbbbbbb", 0xbb, NULL, "regulator", NULL, 1000);
    store_token i = token_of("t_000000000000", 0x00, "楽天モバイル株式会社", "ingest", "", 2000);
    a.hash[31] = 0x01; /* not all one byte */
    assert_int_equal(store_token_add(f->db, &a, &err), 0);
    assert_int_equal(store_token_add(f->db, &r, &err), 0);
    assert_int_equal(store_token_add(f->db, &i, &err), 0);
    /* oldest first, whatever the order they were added in */
    assert_int_equal(store_token_list(f->db, collect_token, &c, &err), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.line[0], "t_bbbbbbbbbbbb|regulator|(none)||1000");
    assert_string_equal(c.line[1], "t_000000000000|ingest|楽天モバイル株式会社||2000");
    assert_string_equal(c.line[2], "t_aaaaaaaaaaaa|admin|A|ops team|3000");
    assert_memory_equal(c.hash[2], a.hash, STORE_TOKEN_HASH_BYTES);
    assert_memory_equal(c.hash[1], i.hash, STORE_TOKEN_HASH_BYTES);
    for (int k = 0; k < 3; k++)
        assert_int_equal(c.revoked[k], 0);
    /* a stored id, or a stored hash under another id: conflict */
    store_token dup = token_of("t_aaaaaaaaaaaa", 0x11, "A", "viewer", "", 4000);
    assert_int_equal(store_token_add(f->db, &dup, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_CONFLICT);
    dup = token_of("t_cccccccccccc", 0xbb, "A", "viewer", "", 4000);
    assert_int_equal(store_token_add(f->db, &dup, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_CONFLICT);
    /* what no token may be */
    struct { store_token t; const char *field; } bad[] = {
        {token_of("t_1", 1, "A", "root", "", 1), "role"},
        {token_of("t_2", 2, "A", NULL, "", 1), "role"},
        {token_of("t_3", 3, "A", "regulator", "", 1), "operator"},
        {token_of("t_4", 4, NULL, "viewer", "", 1), "operator"},
        {token_of("t_5", 5, "", "ingest", "", 1), "operator"},
        {token_of("", 6, "A", "admin", "", 1), "id"},
        {token_of("t_7", 7, "A", "admin", "\xff", 1), "note"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(store_token_add(f->db, &bad[k].t, &err), -1);
        assert_int_equal(err.kind, JIKO_ERR_INVALID);
        assert_string_equal(err.field, bad[k].field);
    }
    /* revoked once, then "already"; the first revocation time stays */
    assert_int_equal(store_token_revoke(f->db, "t_aaaaaaaaaaaa", 5000, &err), 0);
    assert_int_equal(store_token_revoke(f->db, "t_aaaaaaaaaaaa", 6000, &err), 1);
    assert_int_equal(store_token_revoke(f->db, "t_nope", 6000, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_NOT_FOUND);
    assert_string_equal(err.field, "id");
    /* kept across a reopen, revocation included */
    store_close(f->db);
    assert_int_equal(store_open(&f->db, f->url, &err), 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_token_list(f->db, collect_token, &c, &err), 0);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.revoked[0], 0);
    assert_int_equal(c.revoked[2], 5000);
    /* a row no add could write (the checks switched off behind the
     * registry's back) is damage, not a token */
    if (strncmp(f->url, "postgresql://", 13) == 0)
        raw_sql(f->url, "ALTER TABLE api_token DROP CONSTRAINT api_token_role_check;"
                        "INSERT INTO api_token VALUES ('t_bad', decode(repeat('ee', 32), 'hex'),"
                        " 'A', 'root', '', 9000, NULL)");
    else
        raw_sql(f->url, "PRAGMA ignore_check_constraints = 1;"
                        "INSERT INTO api_token VALUES ('t_bad', randomblob(32), 'A', 'root', '',"
                        " 9000, NULL)");
    memset(&c, 0, sizeof c);
    assert_int_equal(store_token_list(f->db, collect_token, &c, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_STORE);
    assert_non_null(strstr(err.message, "damaged: API token t_bad: unknown role"));
}

static void test_reopen(void **state)
{
    fixture *f = *state;
    jiko_error err;
    char b[600];
    assert_int_equal(store_begin(f->db, &err), 0);
    put(f, rec(b, sizeof b, "A", "keep", "2021-05-01T10:00:00+09:00", NULL, "ftth", 1), STORE_STORED);
    assert_int_equal(store_commit(f->db, &err), 0);
    store_close(f->db);
    assert_int_equal(store_open(&f->db, f->url, &err), 0);
    store_row row;
    assert_int_equal(store_get(f->db, NULL, "keep", &row, &err), 1);
    assert_true(row.ongoing);
    store_row_free(&row);
}

typedef struct facts_seen {
    int n;
    char line[4][256];
} facts_seen;

static int collect_fact(void *ctx, const store_fact *f)
{
    facts_seen *c = ctx;
    if (c->n < 4)
        snprintf(c->line[c->n], sizeof c->line[0], "%s|%s|%s|%s|%s|%s|%lld|%d", f->op, f->id,
                 f->report,
                 f->cause ? f->cause : "-", f->equipment ? f->equipment : "-", f->services,
                 (long long)f->users, f->fiscal_year);
    c->n++;
    return 0;
}

/* The statistics columns hold what the record says, and follow amendments. */
static void test_facts(void **state)
{
    fixture *f = *state;
    jiko_error err;
    assert_int_equal(store_begin(f->db, &err), 0);
    put(f, "{\"operator\":\"R\",\"id\":\"w1\",\"wholesale_provider\":\"P\","
           "\"started_at\":\"2021-10-14T17:37:00+09:00\",\"ended_at\":\"2021-10-14T19:57:00+09:00\","
           "\"services\":[{\"service\":\"mobile_voice\",\"effect\":\"stop\",\"users\":900},"
           "{\"service\":\"mobile_data\",\"effect\":\"stop\",\"users\":1000}],"
           "\"cause\":{\"category\":\"human\",\"detail\":\"x\"},\"equipment\":\"switch\"}",
        STORE_STORED);
    put(f, "{\"operator\":\"Q\",\"id\":\"n1\",\"facility\":\"non_telecom\","
           "\"started_at\":\"2020-04-01T00:00:00+09:00\",\"ended_at\":\"2020-04-01T03:00:00+09:00\","
           "\"services\":[{\"service\":\"ftth\",\"effect\":\"stop\",\"users\":10}]}",
        STORE_STORED);
    assert_int_equal(store_commit(f->db, &err), 0);
    facts_seen c = {0};
    void *ctx[1] = {&c};
    assert_int_equal(store_facts(f->db, 2021, 2021, 1, collect_fact, ctx, &err), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.line[0], "R|w1|detailed|human|switch|mobile_voice,mobile_data|1000|2021");
    /* an amendment changes the columns too */
    assert_int_equal(store_begin(f->db, &err), 0);
    put(f, "{\"operator\":\"R\",\"id\":\"w1\",\"started_at\":\"2021-10-14T17:37:00+09:00\","
           "\"ended_at\":\"2021-10-14T17:57:00+09:00\","
           "\"services\":[{\"service\":\"ftth\",\"effect\":\"degrade\",\"users\":50000}]}",
        STORE_AMENDED);
    assert_int_equal(store_commit(f->db, &err), 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_facts(f->db, 2020, 2021, 1, collect_fact, ctx, &err), 0);
    assert_int_equal(c.n, 2);
    const char *want = "R|w1|detailed|-|-|ftth|50000|2021";
    assert_true(strcmp(c.line[0], want) == 0 || strcmp(c.line[1], want) == 0);
    const char *want2 = "Q|n1|detailed|-|-|ftth|10|2020";
    assert_true(strcmp(c.line[0], want2) == 0 || strcmp(c.line[1], want2) == 0);
}

typedef struct fact_sum {
    long n;
    long long users;
} fact_sum;

static int sum_fact(void *ctx, const store_fact *f)
{
    fact_sum *c = ctx;
    c->n++;
    c->users += f->users;
    return 0;
}

/* Split into parts (SQLite reads them on two threads), every row is seen
 * exactly once. */
static void test_facts_parts(void **state)
{
    fixture *f = *state;
    jiko_error err;
    char b[600];
    enum { N = 20500 };
    assert_int_equal(store_begin(f->db, &err), 0);
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof id, "p%05d", i);
        put(f, rec(b, sizeof b, "A", id, "2021-08-03T15:00:00+09:00", "2021-08-03T18:00:00+09:00", "ftth", i + 1),
            STORE_STORED);
    }
    assert_int_equal(store_commit(f->db, &err), 0);
    fact_sum one = {0}, two[2] = {{0}, {0}};
    void *c1[1] = {&one}, *c2[2] = {&two[0], &two[1]};
    assert_int_equal(store_facts(f->db, 2021, 2021, 1, sum_fact, c1, &err), 0);
    assert_int_equal(store_facts(f->db, 2021, 2021, 2, sum_fact, c2, &err), 0);
    assert_int_equal(one.n, N);
    assert_int_equal(one.users, (long long)N * (N + 1) / 2);
    assert_int_equal(two[0].n + two[1].n, N);
    assert_int_equal(two[0].users + two[1].users, one.users);
    if (strcmp(store_backend(f->db), "sqlite") == 0)
        assert_true(two[0].n > 0 && two[1].n > 0); /* really split */
}

/* ---- webhook outbox (schema v5) ------------------------------------------ */

typedef struct outbox_seen {
    int n;
    char line[8][512];
} outbox_seen;

static int collect_outbox(void *ctx, const store_outbox_msg *m)
{
    outbox_seen *c = ctx;
    if (c->n < 8)
        snprintf(c->line[c->n], sizeof c->line[0], "%s|%s|%s|%d|%lld|%lld|%lld|%lld|%s", m->id,
                 m->subscription, m->event, m->attempts, (long long)m->next_attempt_ms,
                 (long long)m->last_attempt_ms, (long long)m->delivered_ms,
                 (long long)m->gave_up_ms, m->last_error);
    c->n++;
    return 0;
}

static store_outbox_msg outbox_msg(const char *id, const char *sub, int64_t created)
{
    store_outbox_msg m = {id, sub, "http://127.0.0.1:9/h", "incident.opened", "楽天モバイル株式会社",
                          "2021-001", "{\"type\":\"incident.opened\"}", created, 0, created, 0, 0,
                          0, ""};
    return m;
}

static void test_outbox(void **state)
{
    fixture *f = *state;
    jiko_error err;
    outbox_seen c = {0};
    store_outbox_counts n;
    assert_int_equal(store_outbox_count(f->db, &n, &err), 0);
    assert_int_equal(n.pending + n.delivered + n.given_up, 0);
    assert_int_equal(n.next_due_ms, 0);
    store_outbox_msg a = outbox_msg("msg_a", "noc", 1000), b = outbox_msg("msg_b", "mic", 2000),
                     d = outbox_msg("msg_c", "noc", 3000);
    assert_false(store_in_batch(f->db));
    assert_int_equal(store_outbox_add(f->db, &a, &err), 0);
    assert_int_equal(store_outbox_add(f->db, &b, &err), 0);
    assert_int_equal(store_outbox_add(f->db, &d, &err), 0);
    assert_int_equal(store_outbox_add(f->db, &a, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_CONFLICT);
    store_outbox_msg bad = outbox_msg("msg_x", "", 1);
    assert_int_equal(store_outbox_add(f->db, &bad, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_INVALID);
    assert_string_equal(err.field, "subscription");
    bad = outbox_msg("msg_x", "noc", 1);
    bad.body = "\xff";
    assert_int_equal(store_outbox_add(f->db, &bad, &err), -1);
    assert_string_equal(err.field, "body");
    /* take: due at 2500 are a and b, oldest due first, leased */
    assert_int_equal(store_outbox_take(f->db, 2500, 1, 60000, collect_outbox, &c, &err), 1);
    assert_string_equal(c.line[0], "msg_a|noc|incident.opened|0|1000|0|0|0|");
    memset(&c, 0, sizeof c);
    assert_int_equal(store_outbox_take(f->db, 2500, 10, 60000, collect_outbox, &c, &err), 1);
    assert_string_equal(c.line[0], "msg_b|mic|incident.opened|0|2000|0|0|0|");
    /* leased: not due again until the lease ends */
    memset(&c, 0, sizeof c);
    assert_int_equal(store_outbox_take(f->db, 2999, 10, 60000, collect_outbox, &c, &err), 0);
    assert_int_equal(store_outbox_take(f->db, 3000, 10, 60000, collect_outbox, &c, &err), 1);
    assert_string_equal(c.line[0], "msg_c|noc|incident.opened|0|3000|0|0|0|");
    assert_int_equal(store_outbox_take(f->db, 3500, 10, 60000, collect_outbox, &c, &err), 0);
    assert_int_equal(store_outbox_take(f->db, 0, 0, 1, collect_outbox, &c, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_INVALID);
    /* outcomes: a delivered, b retried then given up, c put back untried */
    assert_int_equal(store_outbox_delivered(f->db, "msg_a", 1, 2600, &err), 0);
    assert_int_equal(store_outbox_retry(f->db, "msg_b", 1, 2600, 7600, "HTTP 503", &err), 0);
    assert_int_equal(store_outbox_retry(f->db, "msg_c", 0, 0, 2600, NULL, &err), 0);
    assert_int_equal(store_outbox_count(f->db, &n, &err), 0);
    assert_int_equal(n.pending, 2);
    assert_int_equal(n.delivered, 1);
    assert_int_equal(n.given_up, 0);
    assert_int_equal(n.next_due_ms, 2600);
    /* an error text is cut at a character boundary */
    char long_err[1000];
    memset(long_err, 0, sizeof long_err);
    for (int i = 0; i < 110; i++)
        memcpy(long_err + 3 * i, "事", 3);
    assert_int_equal(store_outbox_give_up(f->db, "msg_b", 2, 90000, long_err, &err), 0);
    /* only a pending message changes */
    assert_int_equal(store_outbox_delivered(f->db, "msg_b", 3, 91000, &err), 1);
    assert_int_equal(store_outbox_retry(f->db, "msg_a", 2, 91000, 99000, "late", &err), 1);
    assert_int_equal(store_outbox_delivered(f->db, "msg_nope", 1, 1, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_NOT_FOUND);
    assert_string_equal(err.field, "id");
    memset(&c, 0, sizeof c);
    assert_int_equal(store_outbox_list(f->db, 0, collect_outbox, &c, &err), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.line[0], "msg_a|noc|incident.opened|1|62500|2600|2600|0|");
    const char *want_b = "msg_b|mic|incident.opened|2|7600|90000|0|90000|事事";
    assert_int_equal(strncmp(c.line[1], want_b, strlen(want_b)), 0);
    assert_int_equal(strlen(strrchr(c.line[1], '|') + 1), 3 * 100); /* 300 bytes: 100 characters */
    assert_string_equal(c.line[2], "msg_c|noc|incident.opened|0|2600|0|0|0|");
    /* the newest N, oldest first */
    memset(&c, 0, sizeof c);
    assert_int_equal(store_outbox_list(f->db, 2, collect_outbox, &c, &err), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(strncmp(c.line[0], "msg_b|", 6), 0);
    assert_int_equal(strncmp(c.line[1], "msg_c|", 6), 0);
    /* in a batch: gone with its rollback, kept with its commit */
    assert_int_equal(store_begin(f->db, &err), 0);
    assert_true(store_in_batch(f->db));
    store_outbox_msg e = outbox_msg("msg_e", "noc", 4000);
    assert_int_equal(store_outbox_add(f->db, &e, &err), 0);
    assert_int_equal(store_rollback(f->db, &err), 0);
    assert_false(store_in_batch(f->db));
    assert_int_equal(store_outbox_count(f->db, &n, &err), 0);
    assert_int_equal(n.pending, 1);
    assert_int_equal(store_begin(f->db, &err), 0);
    assert_int_equal(store_outbox_add(f->db, &e, &err), 0);
    assert_int_equal(store_commit(f->db, &err), 0);
    assert_int_equal(store_outbox_count(f->db, &n, &err), 0);
    assert_int_equal(n.pending, 2);
    /* a second connection does not take what the first has leased */
    store *other;
    assert_int_equal(store_open(&other, f->url, &err), 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_outbox_take(f->db, 5000, 10, 60000, collect_outbox, &c, &err), 2);
    assert_int_equal(store_outbox_take(other, 5000, 10, 60000, collect_outbox, &c, &err), 0);
    assert_int_equal(store_outbox_take(other, 70000, 10, 60000, collect_outbox, &c, &err), 2);
    store_close(other);
    /* a row no add could write is damage, not a message */
    raw_sql(f->url, "INSERT INTO webhook_outbox VALUES ('msg_bad', '', 'u', 'e', 'o', 'i', 'b',"
                    " 1, 0, 1, NULL, NULL, NULL, '')");
    assert_int_equal(store_outbox_list(f->db, 0, collect_outbox, &c, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_STORE);
    assert_non_null(strstr(err.message, "damaged: webhook message msg_bad"));
    assert_int_equal(store_outbox_take(f->db, 1000000, 10, 1, collect_outbox, &c, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_STORE);
    assert_false(store_in_batch(f->db));
}

/* A version-4 registry (tokens, no outbox) is upgraded in place. */
static void test_upgrade_v4(void **state)
{
    fixture *f = *state;
    jiko_error err;
    char b[600];
    assert_int_equal(store_begin(f->db, &err), 0);
    put(f, rec(b, sizeof b, "A", "v4", "2021-05-01T10:00:00+09:00", NULL, "ftth", 1), STORE_STORED);
    assert_int_equal(store_commit(f->db, &err), 0);
    store_close(f->db);
    f->db = NULL;
    raw_sql(f->url, "DROP TABLE webhook_outbox");
    set_schema_version(f->url, 4);
    assert_int_equal(store_open(&f->db, f->url, &err), 0);
    store_row row;
    assert_int_equal(store_get(f->db, NULL, "v4", &row, &err), 1);
    store_row_free(&row);
    store_outbox_msg m = outbox_msg("msg_v5", "noc", 1);
    assert_int_equal(store_outbox_add(f->db, &m, &err), 0);
    store_outbox_counts n;
    assert_int_equal(store_outbox_count(f->db, &n, &err), 0);
    assert_int_equal(n.pending, 1);
}

/* A database written by schema version 1 is upgraded on open, data intact. */
static void test_sqlite_upgrade(void **state)
{
    (void)state;
    const char *path = "/tmp/jiko-test-v1.db";
    tu_unlink_db(path);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char sql_path[1024];
    char *sql = tu_read(tu_path(sql_path, sizeof sql_path, "tests/cases/registry-v1.sql"), NULL);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("v1 schema: %s", msg);
    free(sql);
    sqlite3_close(db);
    store *s;
    jiko_error err;
    assert_int_equal(store_open(&s, path, &err), 0);
    store_row row;
    assert_int_equal(store_get(s, NULL, "old-1", &row, &err), 1);
    assert_string_equal(row.op, "Old Operator");
    assert_int_equal(row.version, 2);
    store_row_free(&row);
    assert_int_equal(store_check(s, &err), 0);
    store_close(s);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT version FROM jiko_schema", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), STORE_SCHEMA_VERSION);
    sqlite3_finalize(st);
    /* v3 filled the statistics columns from the current record */
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT provider, facility, cause, equipment, services"
                                            " FROM incident WHERE id = 'old-1'", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_type(st, 0), SQLITE_NULL);
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "telecom");
    assert_string_equal((const char *)sqlite3_column_text(st, 2), "equipment");
    assert_string_equal((const char *)sqlite3_column_text(st, 3), "application_server");
    assert_string_equal((const char *)sqlite3_column_text(st, 4), "email_paid,dns");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = 'incident_current'", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    /* v5 added the (empty) webhook outbox */
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM webhook_outbox", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    /* v4 added the (empty) table of API tokens */
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM api_token", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    tu_unlink_db(path);
}

static void test_bad_path(void **state)
{
    (void)state;
    store *s;
    jiko_error err;
    assert_int_not_equal(store_open(&s, "/nonexistent-dir/x.db", &err), 0);
    assert_non_null(strstr(err.message, "cannot open"));
    /* a file that is not a database */
    FILE *fp = fopen("/tmp/jiko-not-a-db", "w");
    fputs("this is not a database, just text long enough to be a header............", fp);
    fclose(fp);
    assert_int_not_equal(store_open(&s, "/tmp/jiko-not-a-db", &err), 0);
    assert_non_null(strstr(err.message, "not a database"));
    unlink("/tmp/jiko-not-a-db");
}

/* Set the stored schema version behind the registry's back. */
static void set_schema_version(const char *url, int v)
{
    char sql[80];
    snprintf(sql, sizeof sql, "UPDATE jiko_schema SET version = %d", v);
    if (strncmp(url, "postgresql://", 13) == 0) {
        PGconn *c = PQconnectdb(url);
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        PGresult *r = PQexec(c, sql);
        assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
        PQclear(r);
        PQfinish(c);
    } else {
        sqlite3 *db;
        assert_int_equal(sqlite3_open(url, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
    }
}

/* A version the migrations list cannot index is refused, not read past
 * (negative: damaged; above this build's: newer), and the registry is left
 * as it was. */
static void test_schema_version_guard(void **state)
{
    fixture *f = *state;
    store_close(f->db);
    f->db = NULL;
    static const int bad[] = {-1, -100, -2147483647, STORE_SCHEMA_VERSION + 1, 1000000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        set_schema_version(f->url, bad[i]);
        store *s;
        jiko_error err;
        assert_int_equal(store_open(&s, f->url, &err), -1);
        assert_int_equal(err.kind, JIKO_ERR_STORE);
        assert_non_null(strstr(err.message, bad[i] < 0 ? "damaged" : "newer than this jiko"));
    }
    set_schema_version(f->url, STORE_SCHEMA_VERSION);
    jiko_error err;
    assert_int_equal(store_open(&f->db, f->url, &err), 0);
}

int main(int argc, char **argv)
{
    if (argc > 1) /* a URL, or a file holding one */
        tu_pg_url(argv[1], g_url, sizeof g_url);
    void *env;
    if (tu_env_setup(&env))
        return 1;
    g_env = env;
    const struct CMUnitTest sqlite_tests[] = {
        cmocka_unit_test_setup_teardown(test_versions, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_read_snapshot, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_key_hint_reads, setup_sqlite, teardown),
        cmocka_unit_test(test_key_hint_table),
        cmocka_unit_test_setup_teardown(test_filters_and_rollback, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_paging, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_active_since, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_import_text, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_import_text_failure, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_facts, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_facts_parts, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_schema_version_guard, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_outbox, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_v4, setup_sqlite, teardown),
        cmocka_unit_test(test_sqlite_upgrade),
        cmocka_unit_test(test_bad_path),
    };
    const struct CMUnitTest pg_tests[] = {
        cmocka_unit_test_setup_teardown(test_versions, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_read_snapshot, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_key_hint_reads, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_filters_and_rollback, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_paging, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_active_since, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_import_text, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_import_text_failure, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_facts, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_facts_parts, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_schema_version_guard, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_outbox, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_v4, setup_pg, teardown),
    };
    int failed = cmocka_run_group_tests_name("sqlite", sqlite_tests, NULL, NULL);
    if (g_url[0])
        failed += cmocka_run_group_tests_name("postgresql", pg_tests, NULL, NULL);
    else if (getenv("CI") && strcmp(getenv("CI"), "true") == 0) {
        /* CI always starts a cluster: its absence is a failure there */
        fprintf(stderr, "PostgreSQL suite: no URL given, and CI=true requires it\n");
        failed++;
    } else
        printf("PostgreSQL suite skipped: no URL given\n");
    tu_env_teardown(&env);
    tu_unlink_db("/tmp/jiko-test-store.db");
    return failed;
}
