/*
 * store_impl.h — what a storage backend provides (private to store*.c).
 */
#ifndef JIKO_STORE_IMPL_H
#define JIKO_STORE_IMPL_H

#include "store.h"

/* Columns derived from an incident and its classification; strings point
 * into the incident, the result or the arrays here. */
typedef struct store_derived {
    const char *op, *id;
    int64_t started_ms, ended_ms;
    bool ongoing;
    int fiscal_year, quarter;
    const char *report, *rulebook;
    char serious_categories[160];
    char quarterly_clauses[160];
    int64_t users;
    /* For the statistics (v3): wholesale provider (NULL = own facilities),
     * facility, primary cause and failed equipment (NULL = not given), and
     * the distinct service codes, comma-separated. */
    const char *provider, *facility, *cause, *equipment;
    char services[STORE_SERVICES_MAX];
} store_derived;

typedef struct store_ops {
    const char *name;
    bool may_retry; /* put/commit can fail with JIKO_ERR_RETRY: replay the batch */
    int (*begin)(void *impl, jiko_error *err);
    int (*commit)(void *impl, jiko_error *err);
    int (*rollback)(void *impl, jiko_error *err);
    int (*put)(void *impl, const store_derived *d, const char *text, size_t len,
               const char *reason, int64_t now_ms, store_outcome *outcome, int *version,
               jiko_error *err);
    int (*list)(void *impl, const store_filter *f, store_row_fn fn, void *ctx, jiko_error *err);
    int (*get)(void *impl, const char *op, const char *id, store_row *row, jiko_error *err);
    int (*history)(void *impl, const char *op, const char *id, store_row_fn fn, void *ctx,
                   jiko_error *err);
    int (*check)(void *impl, jiko_error *err);
    int (*count_open)(void *impl, long *n, jiko_error *err);
    int (*facts)(void *impl, int fy_from, int fy_to, int parts, store_fact_fn fn,
                 void *const *ctx, jiko_error *err);
    /* API tokens (store.h); arguments checked by store.c.  token_revoke: 0
     * revoked, 1 already revoked, 2 no such id, -1 err. */
    int (*token_add)(void *impl, const store_token *t, jiko_error *err);
    int (*token_list)(void *impl, store_token_fn fn, void *ctx, jiko_error *err);
    int (*token_revoke)(void *impl, const char *id, int64_t now_ms, jiko_error *err);
    /* Webhook outbox (store.h); arguments checked by store.c. */
    bool (*in_batch)(void *impl);
    int (*outbox_add)(void *impl, const store_outbox_msg *m, jiko_error *err);
    /* due_at < 0: every message (limit = the newest N, 0 = all), oldest
     * first; else the pending ones due at due_at, oldest due first, locked
     * for the caller's transaction where the backend has row locks (taken
     * by another transaction: skipped).  Returns the row count or -1. */
    int (*outbox_scan)(void *impl, int64_t due_at, long limit, store_outbox_fn fn, void *ctx,
                       jiko_error *err);
    /* one pending message: attempts, next_attempt_ms (0 = unchanged),
     * last_attempt_ms (0 = unchanged), delivered_ms, gave_up_ms (0 = not),
     * last_error (NULL = unchanged).  0 done, 1 not pending, 2 no such id. */
    int (*outbox_update)(void *impl, const char *id, int attempts, int64_t next_ms,
                         int64_t attempt_ms, int64_t delivered_ms, int64_t gave_up_ms,
                         const char *error, jiko_error *err);
    int (*outbox_count)(void *impl, store_outbox_counts *c, jiko_error *err);
    void (*close)(void *impl);
    int (*read_begin)(void *impl, jiko_error *err); /* NULL: no shared snapshot */
    void (*read_end)(void *impl);
    /* NULL: no key hint (key_hint.h) for this backend.  get_key: the
     * current version of the incident with this key, as get (1 found, 0
     * not).  keys: every incident's key and name, until fn returns nonzero. */
    int (*get_key)(void *impl, int64_t key, store_row *row, jiko_error *err);
    int (*keys)(void *impl, store_key_fn fn, void *ctx, jiko_error *err);
} store_ops;

/* `create`: make the registry when it is not there (store_open); else it
 * must exist (store_open_existing). */
int store_sqlite_open(void **impl, const store_ops **ops, const char *path, bool create,
                      jiko_error *err);
int store_pg_open(void **impl, const store_ops **ops, const char *url, bool create,
                  jiko_error *err);

/* A row callback keeping a copy of the first row and the operator of a
 * second one (to report an ambiguous id). */
typedef struct store_first {
    store_row *row;
    int n;
    bool nomem; /* the copy of the first row could not be made */
    char other_op[256];
} store_first;
int store_keep_first(void *ctx, const store_row *r);

/* What a get found: the row count (0 or 1), or -1 with err filled (`where`
 * names the registry) when the id exists for several operators or the row
 * could not be copied. */
int store_first_done(store_first *c, const char *where, const char *id, jiko_error *err);

/* Whether a registry at schema version v can be opened (and migrated up to
 * STORE_SCHEMA_VERSION): not when it is newer than this build, nor when it
 * is a version no build ever wrote (a damaged registry: the version indexes
 * the migrations).  -1 with err filled otherwise. */
int store_schema_usable(int v, const char *where, jiko_error *err);

/* Duplicate a string (NULL stays NULL); for filling store_row. */
char *store_strdup(const char *s);

/* Whether two JSON texts of a record are the same value (an unchanged
 * record is not a new version). */
bool store_same_record(const char *a, size_t alen, const char *b, size_t blen);

#endif
