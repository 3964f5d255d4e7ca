/*
 * store_sqlite.c — the embedded registry backend (SQLite, WAL).
 *
 * Durability: WAL journal with synchronous=FULL, so a committed batch
 * survives kill -9 and power loss; every write is inside a transaction
 * (store_begin/commit).  Statements are prepared once per connection.
 * Schema: docs/registry.md; migrations below run in order inside one
 * transaction when an older database is opened.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_impl.h"

/* Migration N brings the schema from version N to N+1.  Never edit a
 * released migration; add a new one and raise STORE_SCHEMA_VERSION. */
static const char *const migrations[] = {
    /* 0 -> 1: incidents and their versions.  Each incident gets an integer
     * key in arrival order, and versions are keyed (key, version): a new
     * incident's record is then appended at the end of incident_version
     * instead of being inserted in the middle of a text-keyed b-tree. */
    "CREATE TABLE jiko_schema (version INTEGER NOT NULL);"
    "INSERT INTO jiko_schema VALUES (0);"
    "CREATE TABLE incident ("
    "  key INTEGER PRIMARY KEY,"
    "  operator TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,"
    "  started_ms INTEGER NOT NULL, ended_ms INTEGER,"
    "  fiscal_year INTEGER NOT NULL, quarter INTEGER NOT NULL,"
    "  report TEXT NOT NULL, rulebook TEXT NOT NULL,"
    "  serious_categories TEXT NOT NULL, quarterly_clauses TEXT NOT NULL,"
    "  users INTEGER NOT NULL,"
    "  UNIQUE (id, operator));" /* id first: also finds an id alone */
    "CREATE TABLE incident_version ("
    "  key INTEGER NOT NULL, version INTEGER NOT NULL,"
    "  record TEXT NOT NULL, changed_ms INTEGER NOT NULL, reason TEXT NOT NULL,"
    "  PRIMARY KEY (key, version)) WITHOUT ROWID;",
    /* 1 -> 2: the current version of every incident, for SQL users.  (No
     * index for the list filters: a fiscal year is most of the table, and
     * every index costs each import a b-tree write.) */
    "CREATE VIEW incident_current AS SELECT i.*, v.record, v.changed_ms, v.reason"
    " FROM incident i JOIN incident_version v ON v.key = i.key AND v.version = i.version;",
    /* 2 -> 3: what the yearly statistics count, as columns, so that a report
     * over a million incidents reads no JSON (docs/reports.md).  Existing
     * rows are filled from their current record. */
    "ALTER TABLE incident ADD COLUMN provider TEXT;"
    "ALTER TABLE incident ADD COLUMN facility TEXT NOT NULL DEFAULT 'telecom';"
    "ALTER TABLE incident ADD COLUMN cause TEXT;"
    "ALTER TABLE incident ADD COLUMN equipment TEXT;"
    "ALTER TABLE incident ADD COLUMN services TEXT NOT NULL DEFAULT '';"
    "UPDATE incident SET"
    "  provider = json_extract(v.record, '$.wholesale_provider'),"
    "  facility = coalesce(json_extract(v.record, '$.facility'), 'telecom'),"
    "  cause = json_extract(v.record, '$.cause.category'),"
    "  equipment = json_extract(v.record, '$.equipment'),"
    "  services = coalesce((SELECT group_concat(json_extract(e.value, '$.service'))"
    "                       FROM json_each(v.record, '$.services') e), '')"
    " FROM incident_version v WHERE v.key = incident.key AND v.version = incident.version;",
    /* 3 -> 4: API tokens for the server, by the SHA-256 of the token (the
     * token itself is shown once and never stored).  The checks repeat
     * store_token_add's, so that a hand-made row cannot grant more. */
    "CREATE TABLE api_token ("
    "  id TEXT PRIMARY KEY,"
    "  hash BLOB NOT NULL UNIQUE CHECK (typeof(hash) = 'blob' AND length(hash) = 32),"
    "  operator TEXT,"
    "  role TEXT NOT NULL CHECK (role IN ('admin', 'viewer', 'ingest', 'regulator')),"
    "  note TEXT NOT NULL DEFAULT '',"
    "  created_ms INTEGER NOT NULL, revoked_ms INTEGER,"
    "  CHECK ((role = 'regulator') = (operator IS NULL)));",
    /* 4 -> 5: the webhook outbox (src/notify/): a message per subscription
     * and event, kept until delivered or given up.  No secret: the sender
     * signs with the configuration's.  The partial index holds only the
     * pending messages, so finding the due ones stays cheap however many
     * delivered ones are kept. */
    "CREATE TABLE webhook_outbox ("
    "  id TEXT PRIMARY KEY,"
    "  subscription TEXT NOT NULL, url TEXT NOT NULL, event TEXT NOT NULL,"
    "  operator TEXT NOT NULL, incident_id TEXT NOT NULL, body TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),"
    "  next_attempt_ms INTEGER NOT NULL, last_attempt_ms INTEGER,"
    "  delivered_ms INTEGER, gave_up_ms INTEGER,"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  CHECK (delivered_ms IS NULL OR gave_up_ms IS NULL));"
    "CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_ms)"
    "  WHERE delivered_ms IS NULL AND gave_up_ms IS NULL;",
};

enum {
    Q_INSERT,
    Q_INSERT_VERSION,
    Q_CURRENT,
    Q_RECORD,
    Q_UPDATE,
    Q_GET,
    Q_GET_KEY,
    Q_BEGIN,
    Q_COMMIT,
    Q_COUNT
};

/* Columns, in order, of every row query below. */
#define ROW_COLUMNS                                                                           \
    "i.operator, i.id, v.version, v.record, i.started_ms, i.ended_ms, i.fiscal_year,"         \
    " i.quarter, i.report, i.rulebook, i.serious_categories, i.quarterly_clauses, i.users,"    \
    " v.changed_ms, v.reason, i.key"

static const char *const queries[Q_COUNT] = {
    [Q_INSERT] = "INSERT INTO incident (operator, id, version, started_ms, ended_ms, fiscal_year,"
                 " quarter, report, rulebook, serious_categories, quarterly_clauses, users,"
                 " provider, facility, cause, equipment, services)"
                 " VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
                 " ON CONFLICT (id, operator) DO NOTHING",
    [Q_INSERT_VERSION] = "INSERT INTO incident_version (key, version, record, changed_ms, reason)"
                         " VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_CURRENT] = "SELECT key, version FROM incident WHERE operator = ?1 AND id = ?2",
    [Q_RECORD] = "SELECT record FROM incident_version WHERE key = ?1 AND version = ?2",
    [Q_UPDATE] = "UPDATE incident SET version = version + 1, started_ms = ?3, ended_ms = ?4,"
                 " fiscal_year = ?5, quarter = ?6, report = ?7, rulebook = ?8,"
                 " serious_categories = ?9, quarterly_clauses = ?10, users = ?11,"
                 " provider = ?12, facility = ?13, cause = ?14, equipment = ?15, services = ?16"
                 " WHERE operator = ?1 AND id = ?2 RETURNING version",
    [Q_GET] = "SELECT " ROW_COLUMNS " FROM incident i JOIN incident_version v"
              " ON v.key = i.key AND v.version = i.version"
              " WHERE i.id = ?1 AND (?2 IS NULL OR i.operator = ?2) LIMIT 2",
    /* through the key hint (key_hint.h): no descent of the (id, operator) index */
    [Q_GET_KEY] = "SELECT " ROW_COLUMNS " FROM incident i JOIN incident_version v"
                  " ON v.key = i.key AND v.version = i.version WHERE i.key = ?1",
    /* a read snapshot (sq_read_begin): prepared, as it comes with every
     * run of reads */
    [Q_BEGIN] = "BEGIN",
    [Q_COMMIT] = "COMMIT",
};

typedef struct sq {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *st[Q_COUNT];
} sq;

/* SQLite's out-of-memory is ours too: the caller may retry with less. */
static jiko_error_kind kind_of(sqlite3 *db)
{
    return sqlite3_errcode(db) == SQLITE_NOMEM ? JIKO_ERR_NOMEM : JIKO_ERR_STORE;
}

static int fail_db(sq *s, jiko_error *err, const char *what)
{
    error_set(err, kind_of(s->db), s->path, 0, NULL, "%s: %s", what, sqlite3_errmsg(s->db));
    return -1;
}

static int exec(sq *s, const char *sql, jiko_error *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        error_set(err, rc == SQLITE_NOMEM ? JIKO_ERR_NOMEM : JIKO_ERR_STORE, s->path, 0, NULL, "%s",
                  msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int schema_version(sq *s, int *v, jiko_error *err)
{
    sqlite3_stmt *st;
    *v = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                           "name='jiko_schema'",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, err, "cannot read the schema");
    int rc = sqlite3_step(st);
    int exists = rc == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    /* a failed step is not "no schema": that would run the migrations over
     * an existing registry */
    if (rc != SQLITE_ROW)
        return fail_db(s, err, "cannot read the schema");
    if (!exists)
        return 0;
    if (sqlite3_prepare_v2(s->db, "SELECT version FROM jiko_schema", -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, err, "cannot read the schema version");
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail_db(s, err, "cannot read the schema version");
    return 0;
}

static int migrate(sq *s, jiko_error *err)
{
    /* BEGIN IMMEDIATE: two processes opening a new database at once must not
     * both run the migrations. */
    if (exec(s, "BEGIN IMMEDIATE", err))
        return -1;
    int v;
    if (schema_version(s, &v, err))
        goto fail;
    if (store_schema_usable(v, s->path, err))
        goto fail;
    for (; v < STORE_SCHEMA_VERSION; v++) {
        if (exec(s, migrations[v], err))
            goto fail;
        char sql[64];
        snprintf(sql, sizeof sql, "UPDATE jiko_schema SET version = %d", v + 1);
        if (exec(s, sql, err))
            goto fail;
    }
    return exec(s, "COMMIT", err);
fail:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static void sq_close(void *impl)
{
    sq *s = impl;
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

static int sq_begin(void *impl, jiko_error *err) { return exec(impl, "BEGIN IMMEDIATE", err); }
static int sq_commit(void *impl, jiko_error *err) { return exec(impl, "COMMIT", err); }
static int sq_rollback(void *impl, jiko_error *err) { return exec(impl, "ROLLBACK", err); }

/* DEFERRED: the read transaction starts with the first read, after the
 * caller took its requests, so each of them sees what was committed before
 * it arrived. */
static int sq_read_begin(void *impl, jiko_error *err)
{
    sq *s = impl;
    int rc = sqlite3_step(s->st[Q_BEGIN]) == SQLITE_DONE ? 0 : fail_db(s, err, "cannot begin a read");
    sqlite3_reset(s->st[Q_BEGIN]);
    return rc;
}

static void sq_read_end(void *impl)
{
    sq *s = impl;
    int rc = sqlite3_step(s->st[Q_COMMIT]);
    sqlite3_reset(s->st[Q_COMMIT]);
    if (rc != SQLITE_DONE && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static void bind_derived(sqlite3_stmt *st, const store_derived *d)
{
    sqlite3_bind_text(st, 1, d->op, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, d->started_ms);
    if (d->ongoing)
        sqlite3_bind_null(st, 4);
    else
        sqlite3_bind_int64(st, 4, d->ended_ms);
    sqlite3_bind_int(st, 5, d->fiscal_year);
    sqlite3_bind_int(st, 6, d->quarter);
    sqlite3_bind_text(st, 7, d->report, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, d->rulebook, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, d->serious_categories, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, d->quarterly_clauses, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, d->users);
    sqlite3_bind_text(st, 12, d->provider, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, d->facility, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 14, d->cause, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 15, d->equipment, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 16, d->services, -1, SQLITE_STATIC);
}

static int add_version(sq *s, int64_t key, int version, const char *text, size_t len,
                       const char *reason, int64_t now_ms, jiko_error *err)
{
    sqlite3_stmt *st = s->st[Q_INSERT_VERSION];
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, key);
    sqlite3_bind_int(st, 2, version);
    sqlite3_bind_text(st, 3, text, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now_ms);
    sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fail_db(s, err, "cannot store the incident version");
    return 0;
}

static int sq_put(void *impl, const store_derived *d, const char *text, size_t len,
                  const char *reason, int64_t now_ms, store_outcome *outcome, int *version,
                  jiko_error *err)
{
    sq *s = impl;
    sqlite3_stmt *st = s->st[Q_INSERT];
    sqlite3_reset(st);
    bind_derived(st, d);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fail_db(s, err, "cannot store the incident");
    /* A new key inserted one row; a known one hit DO NOTHING.  (Not
     * RETURNING key: SQLite builds a temporary b-tree per RETURNING
     * statement, which cost the writer about a third of its time.) */
    if (sqlite3_changes(s->db) == 1) {
        *outcome = STORE_STORED;
        *version = 1;
        return add_version(s, sqlite3_last_insert_rowid(s->db), 1, text, len, reason, now_ms,
                           err);
    }
    /* Already known: unchanged, or an amendment. */
    st = s->st[Q_CURRENT];
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, d->op, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return fail_db(s, err, "cannot read the current version");
    }
    int64_t key = sqlite3_column_int64(st, 0);
    int cur_version = sqlite3_column_int(st, 1);
    sqlite3_reset(st);
    st = s->st[Q_RECORD];
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, key);
    sqlite3_bind_int(st, 2, cur_version);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return fail_db(s, err, "cannot read the current record");
    }
    bool same = store_same_record((const char *)sqlite3_column_text(st, 0),
                                  (size_t)sqlite3_column_bytes(st, 0), text, len);
    sqlite3_reset(st);
    if (same) {
        *outcome = STORE_UNCHANGED;
        *version = cur_version;
        return 0;
    }
    st = s->st[Q_UPDATE];
    sqlite3_reset(st);
    bind_derived(st, d);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return fail_db(s, err, "cannot amend the incident");
    }
    *version = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    *outcome = STORE_AMENDED;
    return add_version(s, key, *version, text, len, reason, now_ms, err);
}

/* A text column copied; a copy that failed (SQLite's or ours) marks the
 * row out of memory, so that it is not taken for a damaged one. */
static char *col_text(sqlite3_stmt *st, int i, bool *nomem)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    char *copy = t ? strdup((const char *)t) : NULL;
    if (!copy && sqlite3_column_type(st, i) != SQLITE_NULL)
        *nomem = true;
    return copy;
}


static void read_row(sqlite3_stmt *st, store_row *r)
{
    r->nomem = false;
    r->op = col_text(st, 0, &r->nomem);
    r->id = col_text(st, 1, &r->nomem);
    r->version = sqlite3_column_int(st, 2);
    r->record = col_text(st, 3, &r->nomem);
    r->started_ms = sqlite3_column_int64(st, 4);
    r->ongoing = sqlite3_column_type(st, 5) == SQLITE_NULL;
    r->ended_ms = r->ongoing ? 0 : sqlite3_column_int64(st, 5);
    r->fiscal_year = sqlite3_column_int(st, 6);
    r->quarter = sqlite3_column_int(st, 7);
    r->report = col_text(st, 8, &r->nomem);
    r->rulebook = col_text(st, 9, &r->nomem);
    r->serious_categories = col_text(st, 10, &r->nomem);
    r->quarterly_clauses = col_text(st, 11, &r->nomem);
    r->users = sqlite3_column_int64(st, 12);
    r->changed_ms = sqlite3_column_int64(st, 13);
    r->reason = col_text(st, 14, &r->nomem);
    r->key = sqlite3_column_int64(st, 15);
}

/* Step a statement to its end, one callback per row; a statement of
 * s->st[] (prepared once) is reset, any other finalized. */
static int run_rows(sq *s, sqlite3_stmt *st, store_row_fn fn, void *ctx, jiko_error *err)
{
    bool cached = false;
    for (int i = 0; i < Q_COUNT; i++)
        cached |= s->st[i] == st;
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_row r;
        read_row(st, &r);
        int stop = fn(ctx, &r);
        store_row_free(&r);
        n++;
        if (stop)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        fail_db(s, err, "query failed");
        n = -1;
    }
    if (cached) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    } else {
        sqlite3_finalize(st);
    }
    return n;
}

static int sq_list(void *impl, const store_filter *f, store_row_fn fn, void *ctx, jiko_error *err)
{
    sq *s = impl;
    sqlite3_stmt *st;
#define LIST_SQL(CMP, DIR)                                                                    \
    "SELECT " ROW_COLUMNS " FROM incident i JOIN incident_version v"                          \
    " ON v.key = i.key AND v.version = i.version"                                             \
    " WHERE (?1 = 0 OR i.fiscal_year = ?1) AND (?2 = 0 OR i.quarter = ?2)"                    \
    " AND (?3 IS NULL OR i.operator = ?3) AND (?4 IS NULL OR i.report = ?4)"                  \
    " AND (?5 < 0 OR (?5 = 1) = (i.ended_ms IS NULL))"                                        \
    /* paging by position, not offset: the next page starts after the last row                \
     * shown, whatever was stored meanwhile */                                                \
    " AND (?7 IS NULL OR (i.started_ms, i.operator, i.id) " CMP " (?6, ?7, ?8))"              \
    " AND (?10 = 0 OR i.ended_ms IS NULL OR i.ended_ms >= ?10 OR v.changed_ms >= ?10)"        \
    " ORDER BY i.started_ms " DIR ", i.operator " DIR ", i.id " DIR
    /* No LIMIT clause unless there is a limit: with one, even a bound -1,
     * SQLite sorts through a temporary b-tree that spills every row of a
     * whole list to a temporary file, instead of its in-memory sorter. */
    static const char *const sqls[2][2] = {
        {LIST_SQL(">", "ASC"), LIST_SQL(">", "ASC") " LIMIT ?9"},
        {LIST_SQL("<", "DESC"), LIST_SQL("<", "DESC") " LIMIT ?9"}};
    const char *sql = sqls[f->newest_first][f->limit > 0];
#undef LIST_SQL
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, err, "cannot list");
    sqlite3_bind_int(st, 1, f->fiscal_year);
    sqlite3_bind_int(st, 2, f->quarter);
    sqlite3_bind_text(st, 3, f->op, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, f->report, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, f->open);
    sqlite3_bind_int64(st, 6, f->after_started_ms);
    sqlite3_bind_text(st, 7, f->after_op, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, f->after_id, -1, SQLITE_STATIC);
    if (f->limit > 0)
        sqlite3_bind_int64(st, 9, f->limit);
    sqlite3_bind_int64(st, 10, f->active_since_ms);
    return run_rows(s, st, fn, ctx, err) < 0 ? -1 : 0;
}

/* The row of a get (a prepared statement, bound), copied once straight into
 * *row; a second row is an id that several operators use. */
static int get_step(sq *s, sqlite3_stmt *st, const char *id, store_row *row, jiko_error *err)
{
    store_first c = {row, 0, false, ""};
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_row(st, row);
        c.n = 1;
        c.nomem = row->nomem;
        if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const unsigned char *o = sqlite3_column_text(st, 0);
            snprintf(c.other_op, sizeof c.other_op, "%s", o ? (const char *)o : "");
            c.n = 2;
            rc = SQLITE_DONE;
        }
    }
    if (rc != SQLITE_DONE) {
        fail_db(s, err, "cannot read the incident");
        if (c.n)
            store_row_free(row);
        c.n = -1;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return c.n < 0 ? -1 : store_first_done(&c, s->path, id, err);
}

static int sq_get(void *impl, const char *op, const char *id, store_row *row, jiko_error *err)
{
    sq *s = impl;
    /* prepared once: a report reads every serious accident by key */
    sqlite3_stmt *st = s->st[Q_GET];
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, op, -1, SQLITE_STATIC);
    return get_step(s, st, id, row, err);
}

static int sq_get_key(void *impl, int64_t key, store_row *row, jiko_error *err)
{
    sq *s = impl;
    sqlite3_stmt *st = s->st[Q_GET_KEY];
    sqlite3_bind_int64(st, 1, key);
    return get_step(s, st, "", row, err);
}

/* PRAGMA cache_size of s, or 0 when it cannot be read. */
static long cache_size(sq *s)
{
    sqlite3_stmt *st;
    long n = 0;
    if (sqlite3_prepare_v2(s->db, "PRAGMA cache_size", -1, &st, NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static int sq_keys(void *impl, store_key_fn fn, void *ctx, jiko_error *err)
{
    sq *s = impl;
    sqlite3_stmt *st;
    /* the scan reads each page once: through a page cache of 1 MiB, so
     * that it neither evicts what the handle's reads use nor leaves the
     * process 64 MiB larger (glibc keeps a thread's freed memory) */
    long cache = cache_size(s);
    char sql[64];
    if (cache)
        (void)sqlite3_exec(s->db, "PRAGMA cache_size = -1024", NULL, NULL, NULL);
    /* the (id, operator) index holds all three: a scan of it reads a tenth
     * of what the table's would */
    int rc = sqlite3_prepare_v2(s->db, "SELECT key, operator, id FROM incident", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *op = (const char *)sqlite3_column_text(st, 1);
            const char *id = (const char *)sqlite3_column_text(st, 2);
            if (op && id && fn(ctx, sqlite3_column_int64(st, 0), op, id)) {
                rc = SQLITE_DONE;
                break;
            }
        }
        if (rc != SQLITE_DONE)
            fail_db(s, err, "cannot list the incidents' keys");
        sqlite3_finalize(st);
    } else {
        fail_db(s, err, "cannot list the incidents' keys");
    }
    if (cache) {
        snprintf(sql, sizeof sql, "PRAGMA cache_size = %ld", cache);
        (void)sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

static int sq_history(void *impl, const char *op, const char *id, store_row_fn fn, void *ctx,
                      jiko_error *err)
{
    sq *s = impl;
    sqlite3_stmt *st;
    const char *sql = "SELECT " ROW_COLUMNS " FROM incident i JOIN incident_version v"
                      " ON v.key = i.key WHERE i.operator = ?1 AND i.id = ?2 ORDER BY v.version";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, err, "cannot read the history");
    sqlite3_bind_text(st, 1, op, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    return run_rows(s, st, fn, ctx, err) < 0 ? -1 : 0;
}

static int sq_check(void *impl, jiko_error *err)
{
    sq *s = impl;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, err, "integrity check");
    int rc = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        if (r && strcmp(r, "ok") == 0)
            rc = 0;
        else
            error_set(err, JIKO_ERR_STORE, s->path, 0, NULL, "integrity check failed: %s", r ? r : "?");
    }
    sqlite3_finalize(st);
    if (rc)
        return rc;
    /* every current version exists */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT count(*) FROM incident i LEFT JOIN incident_version v"
                           " ON v.key = i.key AND v.version = i.version WHERE v.record IS NULL",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, err, "consistency check");
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) != 0) {
        error_set(err, JIKO_ERR_STORE, s->path, 0, NULL, "%d incidents have no current version record",
                  sqlite3_column_int(st, 0));
        rc = -1;
    }
    sqlite3_finalize(st);
    return rc;
}

/* The statistics columns, without the record. */
#define FACTS_SQL                                                                             \
    "SELECT operator, id, report, cause, equipment, services, started_ms, ended_ms,"           \
    " users, fiscal_year FROM incident WHERE fiscal_year BETWEEN ?1 AND ?2"                    \
    " AND key BETWEEN ?3 AND ?4"

typedef struct facts_part {
    sqlite3 *db; /* NULL: the store's own connection */
    const char *path;
    int fy_from, fy_to;
    int64_t key_lo, key_hi;
    store_fact_fn fn;
    void *ctx;
    int rc;
    bool nomem; /* the failure was SQLite running out of memory */
    char msg[256];
} facts_part;

static int facts_scan(sqlite3 *db, facts_part *p)
{
    sqlite3_stmt *st;
    /* A report reads most of the table once: map it instead of copying every
     * page through read(2) (this connection only reads). */
    sqlite3_exec(db, "PRAGMA mmap_size=2147483648", NULL, NULL, NULL);
    if (sqlite3_prepare_v2(db, FACTS_SQL, -1, &st, NULL) != SQLITE_OK) {
        snprintf(p->msg, sizeof p->msg, "%s", sqlite3_errmsg(db));
        p->nomem = sqlite3_errcode(db) == SQLITE_NOMEM;
        return p->rc = -1;
    }
    sqlite3_bind_int(st, 1, p->fy_from);
    sqlite3_bind_int(st, 2, p->fy_to);
    sqlite3_bind_int64(st, 3, p->key_lo);
    sqlite3_bind_int64(st, 4, p->key_hi);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_fact f;
        f.op = (const char *)sqlite3_column_text(st, 0);
        f.id = (const char *)sqlite3_column_text(st, 1);
        f.report = (const char *)sqlite3_column_text(st, 2);
        f.cause = (const char *)sqlite3_column_text(st, 3);
        f.equipment = (const char *)sqlite3_column_text(st, 4);
        f.services = (const char *)sqlite3_column_text(st, 5);
        f.started_ms = sqlite3_column_int64(st, 6);
        f.ongoing = sqlite3_column_type(st, 7) == SQLITE_NULL;
        f.ended_ms = f.ongoing ? 0 : sqlite3_column_int64(st, 7);
        f.users = sqlite3_column_int64(st, 8);
        f.fiscal_year = sqlite3_column_int(st, 9);
        if (p->fn(p->ctx, &f))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        snprintf(p->msg, sizeof p->msg, "%s", sqlite3_errmsg(db));
        p->nomem = sqlite3_errcode(db) == SQLITE_NOMEM;
        p->rc = -1;
    }
    sqlite3_finalize(st);
    return p->rc;
}

static void *facts_thread(void *arg)
{
    facts_part *p = arg;
    if (sqlite3_open_v2(p->path, &p->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        p->nomem = !p->db || sqlite3_errcode(p->db) == SQLITE_NOMEM;
        snprintf(p->msg, sizeof p->msg, "cannot open a second reader: %s",
                 p->db ? sqlite3_errmsg(p->db) : "out of memory");
        p->rc = -1;
    } else {
        sqlite3_busy_timeout(p->db, 30000);
        facts_scan(p->db, p);
    }
    sqlite3_close(p->db);
    return NULL;
}

static int sq_facts(void *impl, int fy_from, int fy_to, int parts, store_fact_fn fn,
                    void *const *ctx, jiko_error *err)
{
    sq *s = impl;
    enum { MAX_PARTS = 8 };
    if (parts > MAX_PARTS)
        parts = MAX_PARTS;
    /* Several readers must see one state of the registry: hold the write
     * lock while they read, so that no batch commits in between.  Without
     * it (a read-only file, say) read on one connection. */
    /* An in-memory registry exists on this connection only. */
    if (strcmp(s->path, ":memory:") == 0)
        parts = 1;
    bool locked = parts > 1 && sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
    if (!locked)
        parts = 1;
    int64_t lo = 0, hi = INT64_MAX;
    if (parts > 1) {
        /* two queries: SQLite answers min() or max() alone from the end of
         * the b-tree, but scans the table for both in one query */
        sqlite3_stmt *st = NULL;
        bool ok = sqlite3_prepare_v2(s->db, "SELECT (SELECT min(key) FROM incident),"
                                            " (SELECT max(key) FROM incident)", -1, &st, NULL) ==
                      SQLITE_OK &&
                  sqlite3_step(st) == SQLITE_ROW;
        if (ok) {
            lo = sqlite3_column_int64(st, 0);
            hi = sqlite3_column_int64(st, 1);
        }
        sqlite3_finalize(st);
        if (!ok) {
            fail_db(s, err, "cannot read the statistics columns");
            sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
            return -1;
        }
        if (hi - lo < 10000 * (int64_t)parts) /* not worth a thread */
            parts = 1, lo = 0, hi = INT64_MAX;
    }
    facts_part part[MAX_PARTS];
    pthread_t tid[MAX_PARTS];
    bool started[MAX_PARTS] = {false};
    int64_t step = parts > 1 ? (hi - lo) / parts + 1 : 0;
    for (int i = 0; i < parts; i++) {
        part[i] = (facts_part){NULL, s->path, fy_from, fy_to, lo + i * step,
                               i + 1 < parts ? lo + (i + 1) * step - 1 : hi, fn, ctx[i], 0, false, ""};
        if (parts == 1)
            part[i].key_lo = 0, part[i].key_hi = INT64_MAX;
        if (i > 0)
            started[i] = pthread_create(&tid[i], NULL, facts_thread, &part[i]) == 0;
    }
    /* a part whose thread could not start runs here, after part 0 */
    facts_scan(s->db, &part[0]);
    for (int i = 1; i < parts; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            facts_thread(&part[i]);
    }
    if (locked)
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    for (int i = 0; i < parts; i++)
        if (part[i].rc) {
            error_set(err, part[i].nomem ? JIKO_ERR_NOMEM : JIKO_ERR_STORE, s->path, 0, NULL,
                      "cannot read the statistics columns: %s", part[i].msg);
            return -1;
        }
    return 0;
}

/* ---- API tokens ----------------------------------------------------------- */

static int sq_token_add(void *impl, const store_token *t, jiko_error *err)
{
    sq *s = impl;
    sqlite3_stmt *st;
    /* one statement outside a batch: its own transaction */
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO api_token (id, hash, operator, role, note, created_ms,"
                           " revoked_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, err, "cannot store the API token");
    sqlite3_bind_text(st, 1, t->id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, t->hash, STORE_TOKEN_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, t->op, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, t->role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, t->note, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, t->created_ms);
    if (t->revoked_ms)
        sqlite3_bind_int64(st, 7, t->revoked_ms);
    else
        sqlite3_bind_null(st, 7);
    int rc = sqlite3_step(st);
    int ext = sqlite3_extended_errcode(s->db);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE) {
        error_set(err, JIKO_ERR_CONFLICT, s->path, 0, "id",
                  "an API token with id '%s' or the same hash is stored already", t->id);
        return -1;
    }
    return fail_db(s, err, "cannot store the API token");
}

static int sq_token_list(void *impl, store_token_fn fn, void *ctx, jiko_error *err)
{
    sq *s = impl;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, hash, operator, role, note, created_ms, revoked_ms"
                           " FROM api_token ORDER BY created_ms, id",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, err, "cannot list the API tokens");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_token t;
        t.id = (const char *)sqlite3_column_text(st, 0);
        const void *hash = sqlite3_column_blob(st, 1);
        if (!hash || sqlite3_column_bytes(st, 1) != STORE_TOKEN_HASH_BYTES) {
            error_set(err, JIKO_ERR_STORE, s->path, 0, NULL,
                      "the registry is damaged: API token %s: the hash is not %d bytes",
                      t.id ? t.id : "?", STORE_TOKEN_HASH_BYTES);
            sqlite3_finalize(st);
            return -1;
        }
        memcpy(t.hash, hash, STORE_TOKEN_HASH_BYTES);
        t.op = (const char *)sqlite3_column_text(st, 2);
        t.role = (const char *)sqlite3_column_text(st, 3);
        t.note = (const char *)sqlite3_column_text(st, 4);
        t.created_ms = sqlite3_column_int64(st, 5);
        t.revoked_ms = sqlite3_column_type(st, 6) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 6);
        if (fn(ctx, &t))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        fail_db(s, err, "cannot list the API tokens");
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

/* After an update that changed no row: 1 when the id exists (so the row
 * was not in the state the update wanted), 2 when it does not, -1 with err. */
static int known_id(sq *s, const char *count_sql, const char *id, const char *what,
                    jiko_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, count_sql, -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, err, what);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int n = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (n < 0)
        return fail_db(s, err, what);
    return n ? 1 : 2;
}

static int sq_token_revoke(void *impl, const char *id, int64_t now_ms, jiko_error *err)
{
    sq *s = impl;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE api_token SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, err, "cannot revoke the API token");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_ms);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail_db(s, err, "cannot revoke the API token");
    if (sqlite3_changes(s->db) == 1)
        return 0;
    /* nothing changed: revoked before, or no such token (tokens are never
     * deleted, so the answer cannot change in between) */
    return known_id(s, "SELECT count(*) FROM api_token WHERE id = ?1", id,
                    "cannot revoke the API token", err);
}

static int sq_count_open(void *impl, long *n, jiko_error *err)
{
    sq *s = impl;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM incident WHERE ended_ms IS NULL", -1, &st,
                           NULL) != SQLITE_OK)
        return fail_db(s, err, "cannot count the open incidents");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : fail_db(s, err, "cannot count the open incidents");
}

/* ---- webhook outbox ------------------------------------------------------- */

static bool sq_in_batch(void *impl)
{
    return !sqlite3_get_autocommit(((sq *)impl)->db);
}

static int sq_outbox_add(void *impl, const store_outbox_msg *m, jiko_error *err)
{
    sq *s = impl;
    sqlite3_stmt *st;
    /* one statement: inside the caller's batch, or a transaction of its own */
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO webhook_outbox (id, subscription, url, event, operator,"
                           " incident_id, body, created_ms, attempts, next_attempt_ms, last_error)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, '')",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, err, "cannot queue the webhook message");
    const char *t[] = {m->id, m->subscription, m->url, m->event, m->op, m->incident_id, m->body};
    for (int i = 0; i < 7; i++)
        sqlite3_bind_text(st, i + 1, t[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, m->created_ms);
    sqlite3_bind_int64(st, 9, m->next_attempt_ms);
    int rc = sqlite3_step(st);
    int ext = sqlite3_extended_errcode(s->db);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
        error_set(err, JIKO_ERR_CONFLICT, s->path, 0, "id",
                  "a webhook message with id '%s' is stored already", m->id);
        return -1;
    }
    return fail_db(s, err, "cannot queue the webhook message");
}

#define OUTBOX_COLUMNS                                                                        \
    "id, subscription, url, event, operator, incident_id, body, created_ms, attempts,"       \
    " next_attempt_ms, last_attempt_ms, delivered_ms, gave_up_ms, last_error"

static int64_t col_ms(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, i);
}

static void read_outbox(sqlite3_stmt *st, store_outbox_msg *m)
{
    m->id = (const char *)sqlite3_column_text(st, 0);
    m->subscription = (const char *)sqlite3_column_text(st, 1);
    m->url = (const char *)sqlite3_column_text(st, 2);
    m->event = (const char *)sqlite3_column_text(st, 3);
    m->op = (const char *)sqlite3_column_text(st, 4);
    m->incident_id = (const char *)sqlite3_column_text(st, 5);
    m->body = (const char *)sqlite3_column_text(st, 6);
    m->created_ms = sqlite3_column_int64(st, 7);
    m->attempts = sqlite3_column_int(st, 8);
    m->next_attempt_ms = sqlite3_column_int64(st, 9);
    m->last_attempt_ms = col_ms(st, 10);
    m->delivered_ms = col_ms(st, 11);
    m->gave_up_ms = col_ms(st, 12);
    m->last_error = (const char *)sqlite3_column_text(st, 13);
}

static int sq_outbox_scan(void *impl, int64_t due_at, long limit, store_outbox_fn fn, void *ctx,
                          jiko_error *err)
{
    sq *s = impl;
    sqlite3_stmt *st;
    const char *sql =
        due_at >= 0 ? "SELECT " OUTBOX_COLUMNS " FROM webhook_outbox"
                      " WHERE delivered_ms IS NULL AND gave_up_ms IS NULL AND next_attempt_ms <= ?1"
                      " ORDER BY next_attempt_ms, created_ms, id LIMIT ?2"
                    /* the newest `limit` (all for -1), shown oldest first */
                    : "SELECT * FROM (SELECT " OUTBOX_COLUMNS " FROM webhook_outbox"
                      " ORDER BY created_ms DESC, id DESC LIMIT ?2) ORDER BY created_ms, id";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, err, "cannot read the webhook outbox");
    sqlite3_bind_int64(st, 1, due_at);
    sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_outbox_msg m;
        read_outbox(st, &m);
        n++;
        if (fn(ctx, &m))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        fail_db(s, err, "cannot read the webhook outbox");
        n = -1;
    }
    sqlite3_finalize(st);
    return n;
}

static int sq_outbox_update(void *impl, const char *id, int attempts, int64_t next_ms,
                            int64_t attempt_ms, int64_t delivered_ms, int64_t gave_up_ms,
                            const char *error, jiko_error *err)
{
    sq *s = impl;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE webhook_outbox SET attempts = ?2,"
                           " next_attempt_ms = CASE WHEN ?3 = 0 THEN next_attempt_ms ELSE ?3 END,"
                           " last_attempt_ms = CASE WHEN ?4 = 0 THEN last_attempt_ms ELSE ?4 END,"
                           " delivered_ms = nullif(?5, 0), gave_up_ms = nullif(?6, 0),"
                           " last_error = coalesce(?7, last_error)"
                           " WHERE id = ?1 AND delivered_ms IS NULL AND gave_up_ms IS NULL",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, err, "cannot update the webhook message");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, attempts);
    sqlite3_bind_int64(st, 3, next_ms);
    sqlite3_bind_int64(st, 4, attempt_ms);
    sqlite3_bind_int64(st, 5, delivered_ms);
    sqlite3_bind_int64(st, 6, gave_up_ms);
    sqlite3_bind_text(st, 7, error, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail_db(s, err, "cannot update the webhook message");
    if (sqlite3_changes(s->db) == 1)
        return 0;
    /* delivered or given up before (no message is ever deleted), or unknown */
    return known_id(s, "SELECT count(*) FROM webhook_outbox WHERE id = ?1", id,
                    "cannot update the webhook message", err);
}

static int sq_outbox_count(void *impl, store_outbox_counts *c, jiko_error *err)
{
    sq *s = impl;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT count(*) FILTER (WHERE delivered_ms IS NULL AND gave_up_ms IS NULL),"
                           " count(delivered_ms), count(gave_up_ms),"
                           " min(next_attempt_ms) FILTER (WHERE delivered_ms IS NULL AND gave_up_ms IS NULL)"
                           " FROM webhook_outbox",
                           -1, &st, NULL) != SQLITE_OK)
        return fail_db(s, err, "cannot count the webhook messages");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        c->pending = (long)sqlite3_column_int64(st, 0);
        c->delivered = (long)sqlite3_column_int64(st, 1);
        c->given_up = (long)sqlite3_column_int64(st, 2);
        c->next_due_ms = col_ms(st, 3);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : fail_db(s, err, "cannot count the webhook messages");
}

static const store_ops sqlite_ops = {
    "sqlite",      false,        sq_begin,       sq_commit, sq_rollback, sq_put, sq_list, sq_get,
    sq_history,    sq_check,     sq_count_open,  sq_facts,       sq_token_add, sq_token_list, sq_token_revoke,
    sq_in_batch,   sq_outbox_add, sq_outbox_scan, sq_outbox_update, sq_outbox_count,
    sq_close,      sq_read_begin, sq_read_end,    sq_get_key,     sq_keys,
};

/* Whether the directory holding `path` may be written (WAL side files). */
static bool dir_writable(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return access(".", W_OK) == 0;
    if (slash == path)
        return access("/", W_OK) == 0;
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    return access(dir, W_OK) == 0;
}

/* "file:PATH?mode=ro" with PATH percent-encoded where a URI needs it;
 * "&immutable=1" when nobody can be writing the file. */
static char *readonly_uri(const char *path, bool immutable)
{
    size_t n = strlen(path);
    char *u = malloc(3 * n + 40);
    if (!u)
        return NULL;
    char *p = u + sprintf(u, "file:");
    for (const unsigned char *c = (const unsigned char *)path; *c; c++)
        if (*c == '%' || *c == '?' || *c == '#' || *c < 0x21 || *c >= 0x7f)
            p += sprintf(p, "%%%02X", *c);
        else
            *p++ = (char)*c;
    sprintf(p, "?mode=ro%s", immutable ? "&immutable=1" : "");
    return u;
}

int store_sqlite_open(void **impl, const store_ops **ops, const char *path, bool create,
                      jiko_error *err)
{
    sq *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        error_set(err, JIKO_ERR_NOMEM, path, 0, NULL, "out of memory");
        return -1;
    }
    bool read_only = false;
    char *uri = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (create) {
        flags |= SQLITE_OPEN_CREATE;
    } else {
        struct stat st;
        if (stat(path, &st) != 0) {
            /* a mistyped path must not become an empty registry */
            error_set(err, JIKO_ERR_STORE, path, 0, NULL,
                      "no registry here (%s); the first import makes one", strerror(errno));
            sq_close(s);
            return -1;
        }
        if (access(path, W_OK) != 0 || !dir_writable(path)) {
            read_only = true;
            flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
            /* Where nobody can create the WAL's side files, nobody can write
             * the database either: read it as immutable (no locks, no -shm). */
            if (!(uri = readonly_uri(path, !dir_writable(path)))) {
                error_set(err, JIKO_ERR_NOMEM, path, 0, NULL, "out of memory");
                sq_close(s);
                return -1;
            }
        }
    }
    int orc = sqlite3_open_v2(uri ? uri : path, &s->db, flags, NULL);
    free(uri);
    if (orc != SQLITE_OK) {
        error_set(err, s->db ? kind_of(s->db) : JIKO_ERR_NOMEM, path, 0, NULL, "cannot open the registry: %s",
                  s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sq_close(s);
        return -1;
    }
    sqlite3_busy_timeout(s->db, 30000);
    if (read_only) {
        int v;
        if (schema_version(s, &v, err) || store_schema_usable(v, s->path, err)) {
            sq_close(s);
            return -1;
        }
        if (v != STORE_SCHEMA_VERSION) {
            error_set(err, JIKO_ERR_STORE, s->path, 0, NULL,
                      v == 0 ? "not a jiko registry (no schema)"
                             : "the registry has schema version %d and needs an upgrade to %d, "
                               "which needs write access",
                      v, STORE_SCHEMA_VERSION);
            sq_close(s);
            return -1;
        }
    } else if (exec(s,
             /* WAL + synchronous=FULL: a committed batch survives power loss.
              * page_size only takes effect on a new database: 8 KiB pages suit
              * records of a few hundred bytes (fewer splits while appending). */
             "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
             " PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=8192;",
             err) ||
        migrate(s, err)) {
        sq_close(s);
        return -1;
    }
    for (int i = 0; i < Q_COUNT; i++)
        if (sqlite3_prepare_v2(s->db, queries[i], -1, &s->st[i], NULL) != SQLITE_OK) {
            fail_db(s, err, "cannot prepare a statement");
            sq_close(s);
            return -1;
        }
    *impl = s;
    *ops = &sqlite_ops;
    return 0;
}
