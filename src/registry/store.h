/*
 * store.h — the incident registry: one interface, two backends.
 *
 * Incidents are keyed by (operator, id).  Storing a record that differs from
 * the current one is an amendment: the new version becomes current and every
 * earlier version is kept with when and why it changed.  Storing an identical
 * record (same JSON value, whatever its formatting) changes nothing.
 *
 * Backends: SQLite (store_sqlite.c; a file path, the default) and PostgreSQL
 * (store_pg.c; a postgresql:// URL) for a registry shared by several
 * operators or servers.  Both keep the same schema, versioned and migrated
 * automatically on open (docs/registry.md).
 *
 * Writes happen inside batches (store_begin ... store_commit): a batch is one
 * transaction, so after a crash either all of it is there or none of it.
 */
#ifndef JIKO_STORE_H
#define JIKO_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "error.h"
#include "incident.h"

/* Schema version written by this build; older databases are upgraded. */
#define STORE_SCHEMA_VERSION 5

/* Longest comma-separated list of an incident's service codes. */
#define STORE_SERVICES_MAX 4096

typedef struct store store;

/* What store_put did. */
typedef enum store_outcome {
    STORE_STORED = 0,   /* new incident */
    STORE_AMENDED = 1,  /* changed: a new version is current */
    STORE_UNCHANGED = 2 /* identical to the current version */
} store_outcome;

/* The registry's view of one incident version, columns derived at storage
 * time by classification so that lists and reports need no re-parse. */
typedef struct store_row {
    char *op, *id;
    int version;
    char *record;     /* the incident as JSON text */
    int64_t started_ms;
    bool ongoing;
    int64_t ended_ms;
    int fiscal_year, quarter;
    char *report;     /* serious | detailed | simple | none */
    char *rulebook;
    char *serious_categories; /* comma-separated */
    char *quarterly_clauses;  /* comma-separated */
    int64_t users;
    int64_t changed_ms; /* when this version was stored */
    char *reason;       /* why it changed */
    int64_t key;        /* the registry's own number for the incident; 0 = not read */
    bool nomem;         /* a column could not be copied: out of memory, not a damaged row */
} store_row;

/* Which current incidents store_list returns.  Initialize with designated
 * initializers ({.open = -1} is "everything"): -Wextra rejects a positional
 * initializer that leaves the paging fields out. */
typedef struct store_filter {
    int fiscal_year; /* 0 = any */
    int quarter;     /* 0 = any */
    const char *op;  /* NULL = any */
    const char *report; /* NULL = any */
    int open;        /* -1 any, 1 ongoing only, 0 ended only */
    /* Paging: only rows strictly after this one in list order (started_ms, operator, id);
     * after_op == NULL: from the first row. */
    int64_t after_started_ms;
    const char *after_op, *after_id; /* both or neither */
    long limit; /* at most this many rows; 0 = no limit */
    /* Newest first: list order reversed, and paging takes the rows strictly
     * before the `after` one (the dashboard's recently closed incidents). */
    bool newest_first;
    /* Only incidents active since this instant: ongoing, ended at or after
     * it, or whose current version was stored at or after it (a change, a
     * notice published).  0 = any.  The public status page's set. */
    int64_t active_since_ms;
} store_filter;

typedef int (*store_row_fn)(void *ctx, const store_row *row);

/* One incident's key and name (store_key_hint_fill); nonzero stops. */
typedef int (*store_key_fn)(void *ctx, int64_t key, const char *op, const char *id);

/* The columns the yearly statistics need, without the record: one current
 * incident.  Strings are valid only during the callback; NULL = not given.
 * (Wholesale grouping needs the provider only for serious accidents, which
 * report.c reads in full; the column stays out of this hot scan.) */
typedef struct store_fact {
    const char *op, *id;
    const char *report;        /* serious | detailed | simple | none */
    const char *cause, *equipment;
    const char *services;      /* distinct service codes, comma-separated */
    int64_t started_ms, ended_ms, users;
    bool ongoing;
    int fiscal_year;
} store_fact;

typedef int (*store_fact_fn)(void *ctx, const store_fact *f);

/* Open (creating if needed) a registry: "postgresql://..." or "postgres://..."
 * for PostgreSQL, anything else is a SQLite file path. */
/* Once, at the start of a process, before any registry is opened or any
 * thread started: process-wide settings of the registry's libraries.  Turns
 * off SQLite's memory statistics, which take one global mutex on every
 * allocation of every connection, so that the server's workers contend for
 * it on every request; nothing in jiko reads them. */
void store_process_setup(void);

int store_open(store **out, const char *url, jiko_error *err);

/* Whether a registry URL names PostgreSQL (else it is a SQLite file path). */
bool store_is_pg_url(const char *url);

/* Open a registry that must exist already, for reading: a mistyped path is
 * an error (JIKO_ERR_STORE), never a new empty registry.  A SQLite file
 * that this process may not write (or in a directory it may not write) is
 * opened read-only; it must then be at the current schema version, since
 * upgrading it needs write access.  Writes through it fail. */
int store_open_existing(store **out, const char *url, jiko_error *err);
void store_close(store *s);

/* Which backend: "sqlite" or "postgresql". */
const char *store_backend(const store *s);

/* Whether store_put / store_commit may fail with kind JIKO_ERR_RETRY ("retry
 * the batch"):
 * PostgreSQL deadlocks and serialization failures.  SQLite never does (its
 * writers queue on the database lock), so callers need not keep a batch. */
bool store_may_retry(const store *s);

int store_begin(store *s, jiko_error *err);
int store_commit(store *s, jiko_error *err);
int store_rollback(store *s, jiko_error *err);

/* One snapshot for several reads in a row (the server's run of GETs taken
 * from its queue together): SQLite then opens one read transaction for all
 * of them instead of one per statement, and the WAL's locks and the
 * database's size are looked up once.  Reads only, never inside a batch.
 * Every read still sees every change committed before store_read_begin.
 * A backend without it (PostgreSQL) reads as before. */
int store_read_begin(store *s, jiko_error *err);
void store_read_end(store *s);

/* Store one validated and classified incident.  `text` is its JSON (one
 * line), `reason` says why (e.g. "imported from f.jsonl:12").  Inside a batch.
 * `version` (may be NULL) gets the incident's current version after the
 * call: 1 when stored, the new version when amended, the current one when
 * unchanged. */
int store_put(store *s, const incident *inc, const classify_result *r, const char *text,
              size_t len, const char *reason, int64_t now_ms, store_outcome *outcome,
              int *version, jiko_error *err);

/* Current versions matching a filter, ordered by start time then operator, id.
 * A page is the rows after the last one of the previous page (f->after_*),
 * at most f->limit of them: rows stored meanwhile never shift a page.
 * JIKO_ERR_INVALID for a negative limit or after_op without after_id. */
int store_list(store *s, const store_filter *f, store_row_fn fn, void *ctx, jiko_error *err);

/* Current version of one incident; `op` may be NULL when the id is unique.
 * Returns 1 when found (row filled; free with store_row_free), 0 when not. */
int store_get(store *s, const char *op, const char *id, store_row *row, jiko_error *err);

/* As store_get, for a caller that parses the record at once itself with
 * store_row_classify, which reports a damaged record as store_get would:
 * the record's JSON is then not parsed twice (a sixth of the server's work
 * for GET /api/v1/incidents/{operator}/{id}). */
int store_get_to_parse(store *s, const char *op, const char *id, store_row *row, jiko_error *err);

/* Let store_get and store_get_to_parse look (operator, id) up in a shared
 * key hint first (key_hint.h; many handles may share one, from any thread),
 * and remember what they find through the index.  A hint saves one b-tree
 * descent and is checked against the row read, so a wrong one only costs
 * the index lookup.  Returns false, and changes nothing, for a backend
 * without keys to hint (PostgreSQL: a read there is a round trip anyway).
 * The hint must outlive the handle's use of it; NULL stops using one. */
typedef struct key_hint key_hint;
bool store_use_key_hint(store *s, key_hint *h);

/* Put every incident's key into h, until it is three quarters full; *n
 * (may be NULL) gets how many were put.  0 for a backend without keys. */
int store_key_hint_fill(store *s, key_hint *h, long *n, jiko_error *err);

/* Every version of one incident, oldest first. */
int store_history(store *s, const char *op, const char *id, store_row_fn fn, void *ctx,
                  jiko_error *err);

/* Every current incident whose fiscal year is in [fy_from, fy_to], in no
 * particular order: one pass for the yearly statistics (report.c).  The
 * backend may split the pass into up to `parts` ranges read concurrently on
 * their own threads, all from one state of the registry: fn is then called
 * from several threads at once, each with its own ctx[part] (ctx has `parts`
 * entries; parts that get no rows are left untouched). */
int store_facts(store *s, int fy_from, int fy_to, int parts, store_fact_fn fn, void *const *ctx,
                jiko_error *err);

/* ---- API tokens (schema v4) ----------------------------------------------
 * The registry keeps what the server needs to check a bearer token: its
 * SHA-256, never the token itself (src/registry/token.h makes them).  A
 * token is revoked, never deleted, so that its id keeps meaning the same
 * token in logs and provenance. */

#define STORE_TOKEN_HASH_BYTES 32

typedef struct store_token {
    const char *id; /* public id "t_" + first 12 hex digits of the hash */
    unsigned char hash[STORE_TOKEN_HASH_BYTES];
    const char *op;   /* NULL for role regulator */
    const char *role; /* admin | viewer | ingest | regulator */
    const char *note; /* "" when none (NULL is taken as "") */
    int64_t created_ms;
    int64_t revoked_ms; /* 0 = active */
} store_token;

/* One token of store_token_list; its strings are valid during the call.
 * Nonzero stops the list. */
typedef int (*store_token_fn)(void *ctx, const store_token *t);

/* Add a token, in a transaction of its own (not inside a batch).  A stored
 * id or hash is JIKO_ERR_CONFLICT; an unknown role, an operator given to a
 * regulator or missing for any other role, or text that is not UTF-8 is
 * JIKO_ERR_INVALID. */
int store_token_add(store *s, const store_token *t, jiko_error *err);

/* Every token, revoked ones included, oldest first (created_ms, then id). */
int store_token_list(store *s, store_token_fn fn, void *ctx, jiko_error *err);

/* Revoke a token as of now_ms: 0 revoked now, 1 it was revoked already (its
 * revocation time is kept), -1 with err (JIKO_ERR_NOT_FOUND for an unknown
 * id, field "id"). */
int store_token_revoke(store *s, const char *id, int64_t now_ms, jiko_error *err);

/* ---- Webhook outbox (schema v5) -------------------------------------------
 * Messages to subscribers' URLs (src/notify/), kept until they are delivered
 * or given up so that a restart loses none: a message is queued in the same
 * transaction as the incident change it tells of, and a sender takes it
 * from here.  No secret is stored: the sender signs with the subscription's
 * secret from the configuration, looked up by name.
 *
 * A message is pending (neither delivered nor given up), delivered, or
 * given up; pending ones are due when next_attempt_ms has come. */

/* Longest last_error kept (longer ones are cut at a character boundary). */
#define STORE_OUTBOX_ERROR_MAX 300

typedef struct store_outbox_msg {
    const char *id;           /* "msg_" + random: the webhook-id, stable across attempts */
    const char *subscription; /* the [webhook NAME] it is for */
    const char *url;
    const char *event;        /* e.g. "incident.opened" */
    const char *op, *incident_id;
    const char *body;         /* the JSON sent, exactly */
    int64_t created_ms;
    int attempts;             /* attempts made so far */
    int64_t next_attempt_ms;  /* when a pending message is due */
    int64_t last_attempt_ms;  /* 0 = never attempted */
    int64_t delivered_ms;     /* 0 = not delivered */
    int64_t gave_up_ms;       /* 0 = not given up */
    const char *last_error;   /* "" when none */
} store_outbox_msg;

/* One message; its strings are valid during the call.  Nonzero stops. */
typedef int (*store_outbox_fn)(void *ctx, const store_outbox_msg *m);

/* Whether a batch (store_begin) is open on this connection. */
bool store_in_batch(const store *s);

/* Queue a message (attempts 0, not delivered, not given up; id, names, url,
 * body non-empty UTF-8).  Inside the caller's batch when one is open, so
 * that it commits with the change it tells of; else a transaction of its
 * own.  A stored id is JIKO_ERR_CONFLICT. */
int store_outbox_add(store *s, const store_outbox_msg *m, jiko_error *err);

/* Take up to `limit` pending messages due at now_ms, oldest due first, and
 * lease them: their next_attempt_ms becomes now_ms + lease_ms in the same
 * transaction, so that another sender on the same registry does not take
 * them meanwhile, and a sender that dies mid-attempt leaves them to be
 * taken again when the lease ends.  After the commit, fn sees every message
 * taken (as it was before the lease; its return value is ignored).  Returns
 * the number taken, or -1 with err. */
int store_outbox_take(store *s, int64_t now_ms, long limit, int64_t lease_ms, store_outbox_fn fn,
                      void *ctx, jiko_error *err);

/* After an attempt made at when_ms / attempt_ms: delivered; rescheduled to
 * next_ms with the attempt's error (attempt_ms 0 and `error` NULL keep the
 * last ones: a leased message put back untried); given up.  `attempts` is
 * the new count.  Only a pending message changes: 0 done, 1 it was no
 * longer pending (delivered or given up by another sender), -1 with err
 * (JIKO_ERR_NOT_FOUND: no such id). */
int store_outbox_delivered(store *s, const char *id, int attempts, int64_t when_ms,
                           jiko_error *err);
int store_outbox_retry(store *s, const char *id, int attempts, int64_t attempt_ms,
                       int64_t next_ms, const char *error, jiko_error *err);
int store_outbox_give_up(store *s, const char *id, int attempts, int64_t when_ms,
                         const char *error, jiko_error *err);

/* Every message, oldest first (created_ms, then id); at most `limit` (0 =
 * all) of the newest when limit > 0. */
int store_outbox_list(store *s, long limit, store_outbox_fn fn, void *ctx, jiko_error *err);

typedef struct store_outbox_counts {
    long pending, delivered, given_up;
    int64_t next_due_ms; /* earliest next_attempt_ms of a pending message; 0 = none */
} store_outbox_counts;

/* Messages by state (for /metrics and `jiko webhook deliver`). */
int store_outbox_count(store *s, store_outbox_counts *c, jiko_error *err);

/* How many current incidents are ongoing (no end yet): a count in the
 * database, without reading any record (the server's /metrics). */
int store_count_open(store *s, long *n, jiko_error *err);

/* Backend integrity check (PRAGMA integrity_check / catalog sanity). */
int store_check(store *s, jiko_error *err);

void store_row_free(store_row *row);

#endif
