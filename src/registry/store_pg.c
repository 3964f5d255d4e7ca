/*
 * store_pg.c — the shared registry backend (PostgreSQL via libpq).
 *
 * Several importers may write to one registry at once.  A new incident is
 * inserted with ON CONFLICT DO NOTHING; when it already exists, the current
 * row is locked (SELECT ... FOR UPDATE) before it is compared and amended, so
 * concurrent writers can neither lose nor duplicate a version.  Deadlocks and
 * serialization failures are reported as retryable (kind JIKO_ERR_RETRY): the caller rolls the
 * batch back and replays it.  Migrations run under an advisory lock.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

static const char *const migrations[] = {
    "CREATE TABLE jiko_schema (version INTEGER NOT NULL);"
    "INSERT INTO jiko_schema VALUES (0);"
    "CREATE TABLE incident ("
    "  key BIGSERIAL PRIMARY KEY,"
    "  operator TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,"
    "  started_ms BIGINT NOT NULL, ended_ms BIGINT,"
    "  fiscal_year INTEGER NOT NULL, quarter INTEGER NOT NULL,"
    "  report TEXT NOT NULL, rulebook TEXT NOT NULL,"
    "  serious_categories TEXT NOT NULL, quarterly_clauses TEXT NOT NULL,"
    "  users BIGINT NOT NULL,"
    "  UNIQUE (id, operator));"
    "CREATE TABLE incident_version ("
    "  key BIGINT NOT NULL REFERENCES incident (key), version INTEGER NOT NULL,"
    "  record TEXT NOT NULL, changed_ms BIGINT NOT NULL, reason TEXT NOT NULL,"
    "  PRIMARY KEY (key, version));",
    "CREATE VIEW incident_current AS SELECT i.*, v.record, v.changed_ms, v.reason"
    " FROM incident i JOIN incident_version v ON v.key = i.key AND v.version = i.version;",
    /* 2 -> 3: the statistics columns (see store_sqlite.c); PostgreSQL fixes
     * a view's columns when it is created, so the view is made again. */
    "ALTER TABLE incident ADD COLUMN provider TEXT,"
    "  ADD COLUMN facility TEXT NOT NULL DEFAULT 'telecom', ADD COLUMN cause TEXT,"
    "  ADD COLUMN equipment TEXT, ADD COLUMN services TEXT NOT NULL DEFAULT '';"
    "UPDATE incident i SET"
    "  provider = v.record::jsonb->>'wholesale_provider',"
    "  facility = coalesce(v.record::jsonb->>'facility', 'telecom'),"
    "  cause = v.record::jsonb->'cause'->>'category',"
    "  equipment = v.record::jsonb->>'equipment',"
    "  services = coalesce((SELECT string_agg(e->>'service', ',')"
    "                       FROM jsonb_array_elements(v.record::jsonb->'services') e), '')"
    " FROM incident_version v WHERE v.key = i.key AND v.version = i.version;"
    "DROP VIEW incident_current;"
    "CREATE VIEW incident_current AS SELECT i.*, v.record, v.changed_ms, v.reason"
    " FROM incident i JOIN incident_version v ON v.key = i.key AND v.version = i.version;",
    /* 3 -> 4: API tokens (see store_sqlite.c) */
    "CREATE TABLE api_token ("
    "  id TEXT PRIMARY KEY,"
    "  hash BYTEA NOT NULL UNIQUE CHECK (octet_length(hash) = 32),"
    "  operator TEXT,"
    "  role TEXT NOT NULL CHECK (role IN ('admin', 'viewer', 'ingest', 'regulator')),"
    "  note TEXT NOT NULL DEFAULT '',"
    "  created_ms BIGINT NOT NULL, revoked_ms BIGINT,"
    "  CHECK ((role = 'regulator') = (operator IS NULL)));",
    /* 4 -> 5: the webhook outbox (see store_sqlite.c) */
    "CREATE TABLE webhook_outbox ("
    "  id TEXT PRIMARY KEY,"
    "  subscription TEXT NOT NULL, url TEXT NOT NULL, event TEXT NOT NULL,"
    "  operator TEXT NOT NULL, incident_id TEXT NOT NULL, body TEXT NOT NULL,"
    "  created_ms BIGINT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),"
    "  next_attempt_ms BIGINT NOT NULL, last_attempt_ms BIGINT,"
    "  delivered_ms BIGINT, gave_up_ms BIGINT,"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  CHECK (delivered_ms IS NULL OR gave_up_ms IS NULL));"
    "CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_ms)"
    "  WHERE delivered_ms IS NULL AND gave_up_ms IS NULL;",
};

#define ROW_COLUMNS                                                                           \
    "i.operator, i.id, v.version, v.record, i.started_ms, i.ended_ms, i.fiscal_year,"         \
    " i.quarter, i.report, i.rulebook, i.serious_categories, i.quarterly_clauses, i.users,"    \
    " v.changed_ms, v.reason"

static const struct {
    const char *name, *sql;
    int nparams;
} prepared[] = {
    /* A new incident and its first version in one round trip; no row back
     * means the key exists and the slow path (lock, compare, amend) runs. */
    {"ins", "WITH ins AS (INSERT INTO incident (operator, id, version, started_ms, ended_ms,"
            " fiscal_year, quarter, report, rulebook, serious_categories, quarterly_clauses, users,"
            " provider, facility, cause, equipment, services)"
            " VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
            " ON CONFLICT (id, operator) DO NOTHING RETURNING key)"
            " INSERT INTO incident_version (key, version, record, changed_ms, reason)"
            " SELECT key, 1, $17, $18, $19 FROM ins RETURNING key", 19},
    {"insv", "INSERT INTO incident_version (key, version, record, changed_ms, reason)"
             " VALUES ($1, $2, $3, $4, $5)", 5},
    /* Lock the row alone, then read its record in a second statement: a
     * join with FOR UPDATE would re-check only the locked row after waiting
     * for a concurrent amendment and miss the version row it added. */
    {"lock", "SELECT key, version FROM incident WHERE operator = $1 AND id = $2 FOR UPDATE", 2},
    {"rec", "SELECT record FROM incident_version WHERE key = $1 AND version = $2", 2},
    {"upd", "UPDATE incident SET version = version + 1, started_ms = $3, ended_ms = $4,"
            " fiscal_year = $5, quarter = $6, report = $7, rulebook = $8,"
            " serious_categories = $9, quarterly_clauses = $10, users = $11,"
            " provider = $12, facility = $13, cause = $14, equipment = $15, services = $16"
            " WHERE operator = $1 AND id = $2 RETURNING version", 16},
};

typedef struct pg {
    PGconn *conn;
    char *url; /* for errors, without the password */
} pg;

/* Kind JIKO_ERR_RETRY when PostgreSQL says the transaction may succeed if
 * retried (deadlock, serialization failure). */
static int fail_res(pg *p, PGresult *res, jiko_error *err, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(p->conn);
    char clean[400];
    snprintf(clean, sizeof clean, "%s", msg && *msg ? msg : PQerrorMessage(p->conn));
    size_t n = strlen(clean);
    while (n && (clean[n - 1] == '\n' || clean[n - 1] == ' '))
        clean[--n] = '\0';
    bool retry = state && (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0);
    error_set(err, retry ? JIKO_ERR_RETRY : JIKO_ERR_STORE, p->url, 0, NULL, "%s: %s", what, clean);
    PQclear(res);
    return -1;
}

static int exec(pg *p, const char *sql, jiko_error *err)
{
    PGresult *res = PQexec(p->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return fail_res(p, res, err, "query failed");
    PQclear(res);
    return 0;
}

static int migrate(pg *p, bool create, jiko_error *err)
{
    if (exec(p, "BEGIN", err) ||
        exec(p, "SELECT pg_advisory_xact_lock(7226960515)", err)) /* "jiko" */
        goto fail;
    PGresult *res = PQexec(p->conn, "SELECT to_regclass('jiko_schema') IS NOT NULL");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fail_res(p, res, err, "cannot read the schema");
        goto fail;
    }
    int exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!exists && !create) {
        error_set(err, JIKO_ERR_STORE, p->url, 0, NULL,
                  "no jiko registry in this database (the first import makes one)");
        goto fail;
    }
    int v = 0;
    if (exists) {
        res = PQexec(p->conn, "SELECT version FROM jiko_schema");
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
            fail_res(p, res, err, "cannot read the schema version");
            goto fail;
        }
        v = atoi(PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    if (store_schema_usable(v, p->url, err))
        goto fail;
    for (; v < STORE_SCHEMA_VERSION; v++) {
        char sql[64];
        snprintf(sql, sizeof sql, "UPDATE jiko_schema SET version = %d", v + 1);
        if (exec(p, migrations[v], err) || exec(p, sql, err))
            goto fail;
    }
    return exec(p, "COMMIT", err);
fail:
    PQclear(PQexec(p->conn, "ROLLBACK"));
    return -1;
}

static void pg_close(void *impl)
{
    pg *p = impl;
    PQfinish(p->conn);
    free(p->url);
    free(p);
}

static int pg_begin(void *impl, jiko_error *err) { return exec(impl, "BEGIN", err); }
static int pg_commit(void *impl, jiko_error *err) { return exec(impl, "COMMIT", err); }
static int pg_rollback(void *impl, jiko_error *err) { return exec(impl, "ROLLBACK", err); }

typedef struct params {
    char buf[8][24];
    const char *v[19];
} params;

static void derived_params(params *pp, const store_derived *d)
{
    snprintf(pp->buf[0], 24, "%lld", (long long)d->started_ms);
    snprintf(pp->buf[1], 24, "%lld", (long long)d->ended_ms);
    snprintf(pp->buf[2], 24, "%d", d->fiscal_year);
    snprintf(pp->buf[3], 24, "%d", d->quarter);
    snprintf(pp->buf[4], 24, "%lld", (long long)d->users);
    const char *v[16] = {d->op, d->id, pp->buf[0], d->ongoing ? NULL : pp->buf[1], pp->buf[2],
                         pp->buf[3], d->report, d->rulebook, d->serious_categories,
                         d->quarterly_clauses, pp->buf[4], d->provider, d->facility,
                         d->cause, d->equipment, d->services};
    memcpy(pp->v, v, sizeof v);
}

static int add_version(pg *p, const char *key, int version, const char *text, size_t len,
                       const char *reason, int64_t now_ms, jiko_error *err)
{
    char vb[16], tb[24];
    snprintf(vb, sizeof vb, "%d", version);
    snprintf(tb, sizeof tb, "%lld", (long long)now_ms);
    /* the record is not NUL-terminated: pass a terminated copy */
    char *rec = strndup(text, len);
    if (!rec) {
        error_set(err, JIKO_ERR_NOMEM, p->url, 0, NULL, "out of memory");
        return -1;
    }
    const char *v[5] = {key, vb, rec, tb, reason};
    PGresult *res = PQexecPrepared(p->conn, "insv", 5, v, NULL, NULL, 0);
    free(rec);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return fail_res(p, res, err, "cannot store the incident version");
    PQclear(res);
    return 0;
}

static int pg_put(void *impl, const store_derived *d, const char *text, size_t len,
                  const char *reason, int64_t now_ms, store_outcome *outcome, int *version,
                  jiko_error *err)
{
    pg *p = impl;
    params pp;
    derived_params(&pp, d);
    /* the record is not NUL-terminated: pass a terminated copy */
    char *rec = strndup(text, len);
    if (!rec) {
        error_set(err, JIKO_ERR_NOMEM, p->url, 0, NULL, "out of memory");
        return -1;
    }
    snprintf(pp.buf[5], 24, "%lld", (long long)now_ms);
    pp.v[16] = rec;
    pp.v[17] = pp.buf[5];
    pp.v[18] = reason;
    PGresult *res = PQexecPrepared(p->conn, "ins", 19, pp.v, NULL, NULL, 0);
    free(rec);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return fail_res(p, res, err, "cannot store the incident");
    char key[24];
    int inserted = PQntuples(res) == 1;
    PQclear(res);
    if (inserted) {
        *outcome = STORE_STORED;
        *version = 1;
        return 0;
    }
    /* Lock the row alone, then read its record in a second statement: a
     * join with FOR UPDATE would re-check only the locked row after waiting
     * for a concurrent amendment and miss the version row it added. */
    res = PQexecPrepared(p->conn, "lock", 2, pp.v, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return fail_res(p, res, err, "cannot lock the incident");
    if (PQntuples(res) != 1) {
        PQclear(res);
        error_set(err, JIKO_ERR_RETRY, p->url, 0, NULL,
                  "incident %s/%s vanished while being amended", d->op, d->id);
        return -1;
    }
    char ver[16];
    snprintf(key, sizeof key, "%s", PQgetvalue(res, 0, 0));
    snprintf(ver, sizeof ver, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    const char *rv[2] = {key, ver};
    res = PQexecPrepared(p->conn, "rec", 2, rv, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return fail_res(p, res, err, "cannot read the current version");
    if (PQntuples(res) != 1) {
        PQclear(res);
        error_set(err, JIKO_ERR_STORE, p->url, 0, NULL, "incident %s/%s has no record for version %s", d->op,
                  d->id, ver);
        return -1;
    }
    bool same = store_same_record(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), text, len);
    PQclear(res);
    if (same) {
        *outcome = STORE_UNCHANGED;
        *version = atoi(ver);
        return 0;
    }
    res = PQexecPrepared(p->conn, "upd", 16, pp.v, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        return fail_res(p, res, err, "cannot amend the incident");
    *version = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    *outcome = STORE_AMENDED;
    return add_version(p, key, *version, text, len, reason, now_ms, err);
}

/* A value copied; a copy that failed marks the row out of memory. */
static char *val(PGresult *res, int r, int c, bool *nomem)
{
    char *v = PQgetisnull(res, r, c) ? NULL : strdup(PQgetvalue(res, r, c));
    if (!v && !PQgetisnull(res, r, c))
        *nomem = true;
    return v;
}

static void read_row(PGresult *res, int i, store_row *r)
{
    r->nomem = false;
    r->op = val(res, i, 0, &r->nomem);
    r->id = val(res, i, 1, &r->nomem);
    r->version = atoi(PQgetvalue(res, i, 2));
    r->record = val(res, i, 3, &r->nomem);
    r->started_ms = atoll(PQgetvalue(res, i, 4));
    r->ongoing = PQgetisnull(res, i, 5);
    r->ended_ms = r->ongoing ? 0 : atoll(PQgetvalue(res, i, 5));
    r->fiscal_year = atoi(PQgetvalue(res, i, 6));
    r->quarter = atoi(PQgetvalue(res, i, 7));
    r->report = val(res, i, 8, &r->nomem);
    r->rulebook = val(res, i, 9, &r->nomem);
    r->serious_categories = val(res, i, 10, &r->nomem);
    r->quarterly_clauses = val(res, i, 11, &r->nomem);
    r->users = atoll(PQgetvalue(res, i, 12));
    r->changed_ms = atoll(PQgetvalue(res, i, 13));
    r->reason = val(res, i, 14, &r->nomem);
    r->key = 0;
}

/* Run a query in single-row mode so that memory does not grow with the
 * number of rows; returns the row count or -1. */
static int run_rows(pg *p, const char *sql, int n, const char *const *v, store_row_fn fn,
                    void *ctx, jiko_error *err)
{
    if (!PQsendQueryParams(p->conn, sql, n, NULL, v, NULL, NULL, 0) ||
        !PQsetSingleRowMode(p->conn))
        return fail_res(p, NULL, err, "query failed");
    int count = 0, rc = 0, stop = 0;
    PGresult *res;
    while ((res = PQgetResult(p->conn))) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_SINGLE_TUPLE && !stop) {
            store_row r;
            read_row(res, 0, &r);
            stop = fn(ctx, &r);
            store_row_free(&r);
            count++;
        } else if (st != PGRES_TUPLES_OK && st != PGRES_SINGLE_TUPLE && rc == 0) {
            rc = fail_res(p, res, err, "query failed");
            continue;
        }
        PQclear(res);
    }
    return rc ? rc : count;
}

static int pg_list(void *impl, const store_filter *f, store_row_fn fn, void *ctx, jiko_error *err)
{
    char fy[16], q[16], open[16], after[24], limit[24], since[24];
    snprintf(fy, sizeof fy, "%d", f->fiscal_year);
    snprintf(q, sizeof q, "%d", f->quarter);
    snprintf(open, sizeof open, "%d", f->open);
    snprintf(after, sizeof after, "%lld", (long long)f->after_started_ms);
    snprintf(limit, sizeof limit, "%ld", f->limit);
    snprintf(since, sizeof since, "%lld", (long long)f->active_since_ms);
    /* LIMIT NULL is no limit */
    const char *v[10] = {fy, q, f->op, f->report, open, after, f->after_op, f->after_id,
                         f->limit > 0 ? limit : NULL, since};
#define LIST_SQL(CMP, DIR)                                                                    \
    "SELECT " ROW_COLUMNS " FROM incident i JOIN incident_version v"                          \
    " ON v.key = i.key AND v.version = i.version"                                             \
    " WHERE ($1::int = 0 OR i.fiscal_year = $1::int)"                                         \
    " AND ($2::int = 0 OR i.quarter = $2::int)"                                               \
    " AND ($3::text IS NULL OR i.operator = $3::text)"                                        \
    " AND ($4::text IS NULL OR i.report = $4::text)"                                          \
    " AND ($5::int < 0 OR ($5::int = 1) = (i.ended_ms IS NULL))"                              \
    /* paging by position, not offset (see store_sqlite.c) */                                 \
    " AND ($7::text IS NULL OR (i.started_ms, i.operator, i.id)"                              \
    "      " CMP " ($6::bigint, $7::text, $8::text))"                                         \
    " AND ($10::bigint = 0 OR i.ended_ms IS NULL OR i.ended_ms >= $10::bigint"                \
    "      OR v.changed_ms >= $10::bigint)"                                                   \
    " ORDER BY i.started_ms " DIR ", i.operator " DIR ", i.id " DIR " LIMIT $9::bigint"
    const char *sql = f->newest_first ? LIST_SQL("<", "DESC") : LIST_SQL(">", "ASC");
#undef LIST_SQL
    return run_rows(impl, sql, 10, v, fn, ctx, err) < 0 ? -1 : 0;
}

static int pg_get(void *impl, const char *op, const char *id, store_row *row, jiko_error *err)
{
    pg *p = impl;
    const char *v[2] = {id, op};
    const char *sql = "SELECT " ROW_COLUMNS " FROM incident i JOIN incident_version v"
                      " ON v.key = i.key AND v.version = i.version"
                      " WHERE i.id = $1 AND ($2::text IS NULL OR i.operator = $2::text) LIMIT 2";
    store_first c = {row, 0, false, ""};
    if (run_rows(p, sql, 2, v, store_keep_first, &c, err) < 0)
        return -1;
    return store_first_done(&c, p->url, id, err);
}

static int pg_history(void *impl, const char *op, const char *id, store_row_fn fn, void *ctx,
                      jiko_error *err)
{
    const char *v[2] = {op, id};
    const char *sql = "SELECT " ROW_COLUMNS " FROM incident i JOIN incident_version v"
                      " ON v.key = i.key WHERE i.operator = $1 AND i.id = $2"
                      " ORDER BY v.version";
    return run_rows(impl, sql, 2, v, fn, ctx, err) < 0 ? -1 : 0;
}

static int pg_check(void *impl, jiko_error *err)
{
    pg *p = impl;
    PGresult *res = PQexec(p->conn, "SELECT count(*) FROM incident i LEFT JOIN incident_version v"
                                    " ON v.key = i.key AND v.version = i.version"
                                    " WHERE v.record IS NULL");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return fail_res(p, res, err, "consistency check");
    int bad = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (bad) {
        error_set(err, JIKO_ERR_STORE, p->url, 0, NULL, "%d incidents have no current version record", bad);
        return -1;
    }
    return 0;
}

static const char *text_or_null(PGresult *res, int c)
{
    return PQgetisnull(res, 0, c) ? NULL : PQgetvalue(res, 0, c);
}

/* One connection, one part: PostgreSQL scans in parallel by itself. */
static int pg_facts(void *impl, int fy_from, int fy_to, int parts, store_fact_fn fn,
                    void *const *ctxs, jiko_error *err)
{
    (void)parts;
    void *ctx = ctxs[0];
    pg *p = impl;
    char a[16], b[16];
    snprintf(a, sizeof a, "%d", fy_from);
    snprintf(b, sizeof b, "%d", fy_to);
    const char *v[2] = {a, b};
    const char *sql = "SELECT operator, id, report, cause, equipment, services,"
                      " started_ms, ended_ms, users, fiscal_year"
                      " FROM incident WHERE fiscal_year BETWEEN $1::int AND $2::int";
    if (!PQsendQueryParams(p->conn, sql, 2, NULL, v, NULL, NULL, 0) ||
        !PQsetSingleRowMode(p->conn))
        return fail_res(p, NULL, err, "cannot read the statistics columns");
    int rc = 0, stop = 0;
    PGresult *res;
    while ((res = PQgetResult(p->conn))) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_SINGLE_TUPLE && !stop) {
            store_fact f;
            f.op = text_or_null(res, 0);
            f.id = text_or_null(res, 1);
            f.report = text_or_null(res, 2);
            f.cause = text_or_null(res, 3);
            f.equipment = text_or_null(res, 4);
            f.services = text_or_null(res, 5);
            f.started_ms = atoll(PQgetvalue(res, 0, 6));
            f.ongoing = PQgetisnull(res, 0, 7);
            f.ended_ms = f.ongoing ? 0 : atoll(PQgetvalue(res, 0, 7));
            f.users = atoll(PQgetvalue(res, 0, 8));
            f.fiscal_year = atoi(PQgetvalue(res, 0, 9));
            stop = fn(ctx, &f);
        } else if (st != PGRES_TUPLES_OK && st != PGRES_SINGLE_TUPLE && rc == 0) {
            rc = fail_res(p, res, err, "cannot read the statistics columns");
            continue;
        }
        PQclear(res);
    }
    return rc;
}

/* ---- API tokens ----------------------------------------------------------- */

/* One INSERT: 0 done, 1 a unique key is taken (err left for the caller to
 * say which), -1 with err. */
static int insert_unique(pg *p, const char *sql, int n, const char *const *v, const char *what,
                         jiko_error *err)
{
    PGresult *res = PQexecParams(p->conn, sql, n, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        return 0;
    }
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state && strcmp(state, "23505") == 0) { /* unique_violation */
        PQclear(res);
        return 1;
    }
    return fail_res(p, res, err, what);
}

static int pg_token_add(void *impl, const store_token *t, jiko_error *err)
{
    pg *p = impl;
    char hex[2 * STORE_TOKEN_HASH_BYTES + 1], created[24], revoked[24];
    for (int i = 0; i < STORE_TOKEN_HASH_BYTES; i++)
        snprintf(hex + 2 * i, 3, "%02x", t->hash[i]);
    snprintf(created, sizeof created, "%lld", (long long)t->created_ms);
    snprintf(revoked, sizeof revoked, "%lld", (long long)t->revoked_ms);
    const char *v[7] = {t->id, hex, t->op, t->role, t->note, created,
                        t->revoked_ms ? revoked : NULL};
    /* one statement outside a batch: its own transaction */
    int rc = insert_unique(p,
                           "INSERT INTO api_token (id, hash, operator, role, note,"
                           " created_ms, revoked_ms) VALUES ($1, decode($2, 'hex'), $3, $4,"
                           " $5, $6::bigint, $7::bigint)",
                           7, v, "cannot store the API token", err);
    if (rc == 1)
        error_set(err, JIKO_ERR_CONFLICT, p->url, 0, "id",
                  "an API token with id '%s' or the same hash is stored already", t->id);
    return rc ? -1 : 0;
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int pg_token_list(void *impl, store_token_fn fn, void *ctx, jiko_error *err)
{
    pg *p = impl;
    /* few rows: no single-row mode */
    PGresult *res = PQexec(p->conn, "SELECT id, encode(hash, 'hex'), operator, role, note,"
                                    " created_ms, revoked_ms FROM api_token"
                                    " ORDER BY created_ms, id");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return fail_res(p, res, err, "cannot list the API tokens");
    for (int i = 0; i < PQntuples(res); i++) {
        store_token t;
        t.id = PQgetvalue(res, i, 0);
        const char *hex = PQgetvalue(res, i, 1);
        bool ok = PQgetlength(res, i, 1) == 2 * STORE_TOKEN_HASH_BYTES;
        for (int k = 0; ok && k < STORE_TOKEN_HASH_BYTES; k++) {
            int hi = hex_digit(hex[2 * k]), lo = hex_digit(hex[2 * k + 1]);
            ok = hi >= 0 && lo >= 0;
            t.hash[k] = (unsigned char)(hi << 4 | lo);
        }
        if (!ok) {
            error_set(err, JIKO_ERR_STORE, p->url, 0, NULL,
                      "the registry is damaged: API token %s: the hash is not %d bytes", t.id,
                      STORE_TOKEN_HASH_BYTES);
            PQclear(res);
            return -1;
        }
        t.op = PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2);
        t.role = PQgetvalue(res, i, 3);
        t.note = PQgetvalue(res, i, 4);
        t.created_ms = atoll(PQgetvalue(res, i, 5));
        t.revoked_ms = PQgetisnull(res, i, 6) ? 0 : atoll(PQgetvalue(res, i, 6));
        if (fn(ctx, &t))
            break;
    }
    PQclear(res);
    return 0;
}

/* After an update that changed no row: 1 when the id exists (so the row
 * was not in the state the update wanted), 2 when it does not, -1 with err. */
static int known_id(pg *p, const char *sql, const char *id, const char *what, jiko_error *err)
{
    const char *v[1] = {id};
    PGresult *res = PQexecParams(p->conn, sql, 1, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return fail_res(p, res, err, what);
    int known = PQntuples(res);
    PQclear(res);
    return known ? 1 : 2;
}

static int pg_token_revoke(void *impl, const char *id, int64_t now_ms, jiko_error *err)
{
    pg *p = impl;
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    const char *v[2] = {id, now};
    PGresult *res = PQexecParams(p->conn,
                                 "UPDATE api_token SET revoked_ms = $2::bigint"
                                 " WHERE id = $1 AND revoked_ms IS NULL",
                                 2, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return fail_res(p, res, err, "cannot revoke the API token");
    bool revoked = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (revoked)
        return 0;
    /* revoked before, or no such token (tokens are never deleted) */
    return known_id(p, "SELECT 1 FROM api_token WHERE id = $1", id, "cannot revoke the API token",
                    err);
}

static int pg_count_open(void *impl, long *n, jiko_error *err)
{
    pg *p = impl;
    PGresult *res = PQexec(p->conn, "SELECT count(*) FROM incident WHERE ended_ms IS NULL");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return fail_res(p, res, err, "cannot count the open incidents");
    *n = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* ---- webhook outbox ------------------------------------------------------- */

static bool pg_in_batch(void *impl)
{
    return PQtransactionStatus(((pg *)impl)->conn) != PQTRANS_IDLE;
}

static int pg_outbox_add(void *impl, const store_outbox_msg *m, jiko_error *err)
{
    pg *p = impl;
    char created[24], next[24];
    snprintf(created, sizeof created, "%lld", (long long)m->created_ms);
    snprintf(next, sizeof next, "%lld", (long long)m->next_attempt_ms);
    const char *v[9] = {m->id, m->subscription, m->url, m->event, m->op, m->incident_id, m->body,
                        created, next};
    /* one statement: inside the caller's batch, or a transaction of its own */
    int rc = insert_unique(p,
                           "INSERT INTO webhook_outbox (id, subscription, url, event, operator,"
                           " incident_id, body, created_ms, attempts, next_attempt_ms,"
                           " last_error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bigint, 0,"
                           " $9::bigint, '')",
                           9, v, "cannot queue the webhook message", err);
    if (rc == 1)
        error_set(err, JIKO_ERR_CONFLICT, p->url, 0, "id",
                  "a webhook message with id '%s' is stored already", m->id);
    return rc ? -1 : 0;
}

#define OUTBOX_COLUMNS                                                                        \
    "id, subscription, url, event, operator, incident_id, body, created_ms, attempts,"       \
    " next_attempt_ms, last_attempt_ms, delivered_ms, gave_up_ms, last_error"

static int64_t ms_or_zero(PGresult *res, int r, int c)
{
    return PQgetisnull(res, r, c) ? 0 : atoll(PQgetvalue(res, r, c));
}

static int pg_outbox_scan(void *impl, int64_t due_at, long limit, store_outbox_fn fn, void *ctx,
                          jiko_error *err)
{
    pg *p = impl;
    char due[24], lim[24];
    snprintf(due, sizeof due, "%lld", (long long)due_at);
    snprintf(lim, sizeof lim, "%ld", limit);
    const char *v[2] = {due, limit > 0 ? lim : NULL}; /* LIMIT NULL is no limit */
    /* Taking: the rows stay locked until the caller's transaction ends, and
     * rows another sender has locked are skipped rather than waited for
     * (it is sending them). */
    const char *sql =
        due_at >= 0 ? "SELECT " OUTBOX_COLUMNS " FROM webhook_outbox"
                      " WHERE delivered_ms IS NULL AND gave_up_ms IS NULL"
                      " AND next_attempt_ms <= $1::bigint"
                      " ORDER BY next_attempt_ms, created_ms, id LIMIT $2::bigint"
                      " FOR UPDATE SKIP LOCKED"
                    : "SELECT * FROM (SELECT " OUTBOX_COLUMNS " FROM webhook_outbox"
                      " WHERE $1::bigint < 0 ORDER BY created_ms DESC, id DESC LIMIT $2::bigint) o"
                      " ORDER BY created_ms, id";
    PGresult *res = PQexecParams(p->conn, sql, 2, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return fail_res(p, res, err, "cannot read the webhook outbox");
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        store_outbox_msg m;
        m.id = PQgetvalue(res, i, 0);
        m.subscription = PQgetvalue(res, i, 1);
        m.url = PQgetvalue(res, i, 2);
        m.event = PQgetvalue(res, i, 3);
        m.op = PQgetvalue(res, i, 4);
        m.incident_id = PQgetvalue(res, i, 5);
        m.body = PQgetvalue(res, i, 6);
        m.created_ms = atoll(PQgetvalue(res, i, 7));
        m.attempts = atoi(PQgetvalue(res, i, 8));
        m.next_attempt_ms = atoll(PQgetvalue(res, i, 9));
        m.last_attempt_ms = ms_or_zero(res, i, 10);
        m.delivered_ms = ms_or_zero(res, i, 11);
        m.gave_up_ms = ms_or_zero(res, i, 12);
        m.last_error = PQgetvalue(res, i, 13);
        if (fn(ctx, &m)) {
            n = i + 1;
            break;
        }
    }
    PQclear(res);
    return n;
}

static int pg_outbox_update(void *impl, const char *id, int attempts, int64_t next_ms,
                            int64_t attempt_ms, int64_t delivered_ms, int64_t gave_up_ms,
                            const char *error, jiko_error *err)
{
    pg *p = impl;
    char a[16], nx[24], at[24], d[24], g[24];
    snprintf(a, sizeof a, "%d", attempts);
    snprintf(nx, sizeof nx, "%lld", (long long)next_ms);
    snprintf(at, sizeof at, "%lld", (long long)attempt_ms);
    snprintf(d, sizeof d, "%lld", (long long)delivered_ms);
    snprintf(g, sizeof g, "%lld", (long long)gave_up_ms);
    const char *v[7] = {id, a, nx, at, d, g, error};
    PGresult *res = PQexecParams(
        p->conn,
        "UPDATE webhook_outbox SET attempts = $2::int,"
        " next_attempt_ms = CASE WHEN $3::bigint = 0 THEN next_attempt_ms ELSE $3::bigint END,"
        " last_attempt_ms = CASE WHEN $4::bigint = 0 THEN last_attempt_ms ELSE $4::bigint END,"
        " delivered_ms = nullif($5::bigint, 0), gave_up_ms = nullif($6::bigint, 0),"
        " last_error = coalesce($7::text, last_error)"
        " WHERE id = $1 AND delivered_ms IS NULL AND gave_up_ms IS NULL",
        7, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return fail_res(p, res, err, "cannot update the webhook message");
    bool done = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (done)
        return 0;
    /* delivered or given up before (no message is ever deleted), or unknown */
    return known_id(p, "SELECT 1 FROM webhook_outbox WHERE id = $1", id,
                    "cannot update the webhook message", err);
}

static int pg_outbox_count(void *impl, store_outbox_counts *c, jiko_error *err)
{
    pg *p = impl;
    PGresult *res = PQexec(p->conn,
                           "SELECT count(*) FILTER (WHERE delivered_ms IS NULL AND gave_up_ms IS NULL),"
                           " count(delivered_ms), count(gave_up_ms),"
                           " min(next_attempt_ms) FILTER (WHERE delivered_ms IS NULL AND gave_up_ms IS NULL)"
                           " FROM webhook_outbox");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return fail_res(p, res, err, "cannot count the webhook messages");
    c->pending = atol(PQgetvalue(res, 0, 0));
    c->delivered = atol(PQgetvalue(res, 0, 1));
    c->given_up = atol(PQgetvalue(res, 0, 2));
    c->next_due_ms = ms_or_zero(res, 0, 3);
    PQclear(res);
    return 0;
}

static const store_ops pg_ops = {
    "postgresql", true,     pg_begin,     pg_commit,     pg_rollback,     pg_put,
    pg_list,      pg_get,   pg_history,   pg_check,      pg_count_open,   pg_facts,        pg_token_add,
    pg_token_list, pg_token_revoke, pg_in_batch, pg_outbox_add, pg_outbox_scan, pg_outbox_update,
    pg_outbox_count, pg_close,
    NULL, NULL, /* a read snapshot would add two round trips and save none */
    NULL, NULL, /* a key hint saves a b-tree descent, not the round trip */
};

int store_pg_open(void **impl, const store_ops **ops, const char *url, bool create,
                  jiko_error *err)
{
    pg *p = calloc(1, sizeof *p);
    if (!p) {
        error_set(err, JIKO_ERR_NOMEM, NULL, 0, NULL, "out of memory");
        return -1;
    }
    /* Errors name the URL without a password. */
    const char *at = strchr(url, '@');
    const char *scheme_end = strstr(url, "://");
    char shown[512];
    if (at && scheme_end && at > scheme_end)
        snprintf(shown, sizeof shown, "%.*s***%s", (int)(scheme_end + 3 - url), url, at);
    else
        snprintf(shown, sizeof shown, "%s", url);
    p->url = strdup(shown);
    p->conn = PQconnectdb(url);
    if (PQstatus(p->conn) != CONNECTION_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(p->conn));
        msg[strcspn(msg, "\n")] = '\0';
        error_set(err, JIKO_ERR_STORE, p->url, 0, NULL, "cannot connect to PostgreSQL: %s", msg);
        pg_close(p);
        return -1;
    }
    PQclear(PQexec(p->conn, "SET client_min_messages = warning"));
    if (migrate(p, create, err)) {
        pg_close(p);
        return -1;
    }
    for (size_t i = 0; i < sizeof prepared / sizeof prepared[0]; i++) {
        PGresult *res = PQprepare(p->conn, prepared[i].name, prepared[i].sql, prepared[i].nparams,
                                  NULL);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            fail_res(p, res, err, "cannot prepare a statement");
            pg_close(p);
            return -1;
        }
        PQclear(res);
    }
    *impl = p;
    *ops = &pg_ops;
    return 0;
}
