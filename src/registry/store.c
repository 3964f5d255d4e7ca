/* store.c — the registry interface and what both backends share (store.h). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "jst.h"
#include "json_fast.h"
#include "key_hint.h"
#include "utf8.h"
#include "store_impl.h"

struct store {
    const store_ops *ops;
    void *impl;
    key_hint *hint; /* shared with other handles; NULL: none */
};

bool store_is_pg_url(const char *url)
{
    return strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0;
}

static int open_mode(store **out, const char *url, bool create, jiko_error *err)
{
    *out = NULL;
    store *s = calloc(1, sizeof *s);
    if (!s) {
        error_set(err, JIKO_ERR_NOMEM, url, 0, NULL, "out of memory");
        return -1;
    }
    int rc;
    if (store_is_pg_url(url))
        rc = store_pg_open(&s->impl, &s->ops, url, create, err);
    else
        rc = store_sqlite_open(&s->impl, &s->ops, url, create, err);
    if (rc) {
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void store_process_setup(void)
{
    /* SQLITE_MISUSE if SQLite is already initialised: then nothing changes */
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int store_open(store **out, const char *url, jiko_error *err)
{
    return open_mode(out, url, true, err);
}

int store_open_existing(store **out, const char *url, jiko_error *err)
{
    return open_mode(out, url, false, err);
}

void store_close(store *s)
{
    if (!s)
        return;
    s->ops->close(s->impl);
    free(s);
}

const char *store_backend(const store *s) { return s->ops->name; }
bool store_may_retry(const store *s) { return s->ops->may_retry; }
int store_begin(store *s, jiko_error *err) { return s->ops->begin(s->impl, err); }
int store_commit(store *s, jiko_error *err) { return s->ops->commit(s->impl, err); }
int store_rollback(store *s, jiko_error *err) { return s->ops->rollback(s->impl, err); }
int store_check(store *s, jiko_error *err) { return s->ops->check(s->impl, err); }

int store_read_begin(store *s, jiko_error *err)
{
    return s->ops->read_begin ? s->ops->read_begin(s->impl, err) : 0;
}

void store_read_end(store *s)
{
    if (s->ops->read_end)
        s->ops->read_end(s->impl);
}

int store_count_open(store *s, long *n, jiko_error *err)
{
    return s->ops->count_open(s->impl, n, err);
}

int store_facts(store *s, int fy_from, int fy_to, int parts, store_fact_fn fn, void *const *ctx,
                jiko_error *err)
{
    return s->ops->facts(s->impl, fy_from, fy_to, parts < 1 ? 1 : parts, fn, ctx, err);
}

static void join_ids(char *buf, size_t size, const rulebook *b, const classify_hit *h, int n)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? "," : "", b->clauses[h[i].clause].id);
}

int store_put(store *s, const incident *inc, const classify_result *r, const char *text,
              size_t len, const char *reason, int64_t now_ms, store_outcome *outcome,
              int *version, jiko_error *err)
{
    store_derived d;
    jst_date day = jst_date_of(inc->started_ms);
    d.op = inc->op;
    d.id = inc->id;
    d.started_ms = inc->started_ms;
    d.ended_ms = inc->ended_ms;
    d.ongoing = inc->ongoing;
    d.fiscal_year = jst_fiscal_year(day);
    d.quarter = jst_fiscal_quarter(day);
    d.report = classify_report_name(r->report);
    d.rulebook = r->book->id;
    join_ids(d.serious_categories, sizeof d.serious_categories, r->book, r->serious, r->n_serious);
    join_ids(d.quarterly_clauses, sizeof d.quarterly_clauses, r->book, r->quarterly,
             r->n_quarterly);
    d.users = r->users;
    d.provider = inc->wholesale_provider;
    d.facility = inc->facility == INCIDENT_NON_TELECOM ? "non_telecom" : "telecom";
    d.cause = inc->cause == INCIDENT_CAUSE_NONE ? NULL : incident_cause_name(inc->cause);
    d.equipment = inc->equipment_code;
    size_t o = 0;
    d.services[0] = '\0';
    for (size_t i = 0; i < inc->n_services; i++) {
        size_t n = strlen(inc->services[i].code);
        if (o + n + 2 > sizeof d.services) {
            error_set(err, JIKO_ERR_STORE, NULL, 0, "services", "the service codes are too long to store (%zu bytes at most)",
                      sizeof d.services);
            return -1;
        }
        if (o)
            d.services[o++] = ',';
        memcpy(d.services + o, inc->services[i].code, n + 1);
        o += n;
    }
    int v = 0;
    int rc = s->ops->put(s->impl, &d, text, len, reason, now_ms, outcome, &v, err);
    if (rc == 0 && version)
        *version = v;
    return rc;
}



static bool same_text(const json_t *j, const char *s)
{
    return json_is_string(j) && strcmp(json_string_value(j), s) == 0;
}

/* A stored row read back must be what an import wrote: a damaged registry
 * (a flipped byte, a hand edit) is reported, never printed as if it were a
 * record.  The record must be UTF-8 JSON naming the same operator and id. */
static int check_row(const store_row *r, const char *where, bool parse, jiko_error *err)
{
    const char *why = NULL;
    json_t *rec = NULL;
    size_t len = r->record ? strlen(r->record) : 0;
    if (r->nomem) {
        error_nomem(err, "reading a stored incident");
        return -1;
    }
    if (!r->op || !r->id || !r->record || !r->report || !r->rulebook || !r->reason)
        why = "a column is missing";
    else if (!utf8_valid(r->op, strlen(r->op)) || !utf8_valid(r->id, strlen(r->id)) ||
             !utf8_valid(r->record, len) || !utf8_valid(r->reason, strlen(r->reason)))
        why = "not UTF-8";
    else if (r->version < 1 || r->quarter < 1 || r->quarter > 4 ||
             (strcmp(r->report, "serious") && strcmp(r->report, "detailed") &&
              strcmp(r->report, "simple") && strcmp(r->report, "none")))
        why = "a derived column is out of range";
    else if (!parse)
        ; /* the caller parses it at once (store_get_to_parse) */
    else if (!(rec = json_fast_loadb(r->record, len)) &&
             !(rec = json_loadb(r->record, len, JSON_REJECT_DUPLICATES, NULL)))
        why = "the record is not valid JSON";
    else if (!json_is_object(rec) || !same_text(json_object_get(rec, "id"), r->id) ||
             !same_text(json_object_get(rec, "operator"), r->op))
        why = "the record names another incident";
    json_decref(rec);
    if (!why)
        return 0;
    error_set(err, JIKO_ERR_STORE, where, 0, NULL,
              "the registry is damaged: stored incident %s/%s (version %d): %s",
              r->op ? r->op : "?", r->id ? r->id : "?", r->version, why);
    return -1;
}

typedef struct checked {
    store_row_fn fn;
    void *ctx;
    const char *where;
    jiko_error *err;
    bool damaged;
} checked;

static int check_then(void *ctx, const store_row *r)
{
    checked *c = ctx;
    if (check_row(r, c->where, true, c->err)) {
        c->damaged = true;
        return 1;
    }
    return c->fn(c->ctx, r);
}

int store_list(store *s, const store_filter *f, store_row_fn fn, void *ctx, jiko_error *err)
{
    if (f->limit < 0) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "limit", "must not be negative, got %ld",
                  f->limit);
        return -1;
    }
    if (f->after_op && !f->after_id) {
        /* half a position is no position: the page would start anywhere */
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "after_id",
                  "is missing; a page starts after an (operator, id)");
        return -1;
    }
    checked c = {fn, ctx, NULL, err, false};
    int rc = s->ops->list(s->impl, f, check_then, &c, err);
    return rc || c.damaged ? -1 : 0;
}

bool store_use_key_hint(store *s, key_hint *h)
{
    if (!s->ops->get_key)
        return false;
    s->hint = h;
    return true;
}

typedef struct hint_fill {
    key_hint *h;
    long n;
} hint_fill;

static int fill_one(void *ctx, int64_t key, const char *op, const char *id)
{
    hint_fill *f = ctx;
    if (key_hint_nearly_full(f->h))
        return 1;
    key_hint_put(f->h, key_hint_hash(op, id), key);
    f->n++;
    return 0;
}

int store_key_hint_fill(store *s, key_hint *h, long *n, jiko_error *err)
{
    hint_fill f = {h, 0};
    int rc = s->ops->keys ? s->ops->keys(s->impl, fill_one, &f, err) : 0;
    if (n)
        *n = f.n;
    return rc;
}

/* Through the hint: 1 found, 0 the hint was missing or wrong (counted). */
static int get_hinted(store *s, const char *op, const char *id, uint64_t hash, store_row *row,
                      jiko_error *err)
{
    int64_t key = key_hint_find(s->hint, hash);
    if (key <= 0) {
        key_hint_count(s->hint, KEY_HINT_MISS);
        return 0;
    }
    int found = s->ops->get_key(s->impl, key, row, err);
    if (found < 0)
        return -1;
    /* (operator, id) is unique: the row is the incident if both match */
    if (found == 1 && row->op && row->id && strcmp(row->op, op) == 0 &&
        strcmp(row->id, id) == 0) {
        key_hint_count(s->hint, KEY_HINT_HIT);
        return 1;
    }
    if (found == 1)
        store_row_free(row);
    memset(row, 0, sizeof *row);
    key_hint_count(s->hint, KEY_HINT_STALE);
    return 0;
}

static int get_checked(store *s, const char *op, const char *id, store_row *row, bool parse,
                       jiko_error *err)
{
    memset(row, 0, sizeof *row);
    bool hinted = s->hint && op;
    uint64_t hash = hinted ? key_hint_hash(op, id) : 0;
    int found = hinted ? get_hinted(s, op, id, hash, row, err) : 0;
    if (found == 0) {
        found = s->ops->get(s->impl, op, id, row, err);
        if (found == 1 && hinted && row->key > 0)
            key_hint_put(s->hint, hash, row->key);
    }
    if (found == 1 && check_row(row, NULL, parse, err)) {
        store_row_free(row);
        return -1;
    }
    return found;
}

int store_get(store *s, const char *op, const char *id, store_row *row, jiko_error *err)
{
    return get_checked(s, op, id, row, true, err);
}

int store_get_to_parse(store *s, const char *op, const char *id, store_row *row, jiko_error *err)
{
    return get_checked(s, op, id, row, false, err);
}

int store_history(store *s, const char *op, const char *id, store_row_fn fn, void *ctx,
                  jiko_error *err)
{
    checked c = {fn, ctx, NULL, err, false};
    int rc = s->ops->history(s->impl, op, id, check_then, &c, err);
    return rc || c.damaged ? -1 : 0;
}

/* ---- API tokens ----------------------------------------------------------- */

static bool token_role_known(const char *r)
{
    return r && (strcmp(r, "admin") == 0 || strcmp(r, "viewer") == 0 ||
                 strcmp(r, "ingest") == 0 || strcmp(r, "regulator") == 0);
}

static bool text_ok(const char *s)
{
    return utf8_valid(s, strlen(s));
}

int store_token_add(store *s, const store_token *t, jiko_error *err)
{
    store_token c = *t;
    if (!c.note)
        c.note = "";
    if (!c.id || !*c.id || !text_ok(c.id)) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "id", "must be non-empty UTF-8 text");
        return -1;
    }
    if (!token_role_known(c.role)) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "role",
                  "must be admin, viewer, ingest or regulator, got '%s'", c.role ? c.role : "");
        return -1;
    }
    /* a regulator reads every operator's incidents; every other role acts
     * for one operator */
    bool regulator = strcmp(c.role, "regulator") == 0;
    if (regulator && c.op) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "operator",
                  "a regulator's token belongs to no operator, got '%s'", c.op);
        return -1;
    }
    if (!regulator && (!c.op || !*c.op || !text_ok(c.op))) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "operator",
                  "a token of role '%s' needs an operator (non-empty UTF-8 text)", c.role);
        return -1;
    }
    if (!text_ok(c.note)) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "note", "is not UTF-8");
        return -1;
    }
    return s->ops->token_add(s->impl, &c, err);
}

typedef struct token_checked {
    store_token_fn fn;
    void *ctx;
    jiko_error *err;
    bool damaged;
} token_checked;

/* A token read back must be one that store_token_add could have written:
 * the server decides who may do what from these rows. */
static int token_check_then(void *ctx, const store_token *t)
{
    token_checked *c = ctx;
    const char *why = NULL;
    if (!t->id || !t->role || !t->note)
        why = "a column is missing";
    else if (!token_role_known(t->role))
        why = "unknown role";
    else if ((strcmp(t->role, "regulator") == 0) != (t->op == NULL))
        why = "the operator does not fit the role";
    else if (!text_ok(t->id) || (t->op && !text_ok(t->op)) || !text_ok(t->note))
        why = "not UTF-8";
    if (why) {
        error_set(c->err, JIKO_ERR_STORE, NULL, 0, NULL,
                  "the registry is damaged: API token %s: %s", t->id ? t->id : "?", why);
        c->damaged = true;
        return 1;
    }
    return c->fn(c->ctx, t);
}

int store_token_list(store *s, store_token_fn fn, void *ctx, jiko_error *err)
{
    token_checked c = {fn, ctx, err, false};
    int rc = s->ops->token_list(s->impl, token_check_then, &c, err);
    return rc || c.damaged ? -1 : 0;
}

int store_token_revoke(store *s, const char *id, int64_t now_ms, jiko_error *err)
{
    if (!id || !*id) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "id", "is empty");
        return -1;
    }
    int rc = s->ops->token_revoke(s->impl, id, now_ms, err);
    if (rc == 2) {
        error_set(err, JIKO_ERR_NOT_FOUND, NULL, 0, "id", "no API token '%s' in the registry", id);
        return -1;
    }
    return rc;
}

void store_row_free(store_row *row)
{
    free(row->op);
    free(row->id);
    free(row->record);
    free(row->report);
    free(row->rulebook);
    free(row->serious_categories);
    free(row->quarterly_clauses);
    free(row->reason);
    memset(row, 0, sizeof *row);
}

int store_keep_first(void *ctx, const store_row *r)
{
    store_first *c = ctx;
    if (c->n++ == 0) {
        store_row *d = c->row;
        *d = *r;
        d->op = store_strdup(r->op);
        d->id = store_strdup(r->id);
        d->record = store_strdup(r->record);
        d->report = store_strdup(r->report);
        d->rulebook = store_strdup(r->rulebook);
        d->serious_categories = store_strdup(r->serious_categories);
        d->quarterly_clauses = store_strdup(r->quarterly_clauses);
        d->reason = store_strdup(r->reason);
        /* every column but the optional ones is a string the backend read */
        if (!d->op || !d->id || !d->record || !d->report || !d->rulebook ||
            !d->serious_categories || !d->quarterly_clauses || !d->reason) {
            c->nomem = true;
            return 1;
        }
    } else {
        snprintf(c->other_op, sizeof c->other_op, "%s", r->op);
    }
    return 0;
}

int store_first_done(store_first *c, const char *where, const char *id, jiko_error *err)
{
    if (c->nomem) {
        store_row_free(c->row);
        error_nomem(err, "reading an incident");
        return -1;
    }
    if (c->n > 1) {
        error_set(err, JIKO_ERR_CONFLICT, where, 0, "operator",
                  "id '%s' exists for several operators (%s, %s, ...); name the operator", id,
                  c->row->op, c->other_op);
        store_row_free(c->row);
        return -1;
    }
    return c->n;
}

int store_schema_usable(int v, const char *where, jiko_error *err)
{
    if (v < 0) {
        error_set(err, JIKO_ERR_STORE, where, 0, NULL,
                  "the registry has schema version %d, which no jiko writes; it is damaged", v);
        return -1;
    }
    if (v > STORE_SCHEMA_VERSION) {
        error_set(err, JIKO_ERR_STORE, where, 0, NULL,
                  "the registry has schema version %d, newer than this jiko (%d); upgrade jiko", v,
                  STORE_SCHEMA_VERSION);
        return -1;
    }
    return 0;
}

char *store_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

bool store_same_record(const char *a, size_t alen, const char *b, size_t blen)
{
    /* Byte-equal is the common case (re-importing the same file); otherwise
     * compare JSON values, so reformatting or key order is not a change. */
    if (alen == blen && memcmp(a, b, alen) == 0)
        return true;
    json_t *ja = json_loadb(a, alen, 0, NULL), *jb = json_loadb(b, blen, 0, NULL);
    bool same = ja && jb && json_equal(ja, jb);
    json_decref(ja);
    json_decref(jb);
    return same;
}

/* ---- webhook outbox ------------------------------------------------------- */

bool store_in_batch(const store *s) { return s->ops->in_batch(s->impl); }

static bool filled(const char *s) { return s && *s && text_ok(s); }

int store_outbox_add(store *s, const store_outbox_msg *m, jiko_error *err)
{
    static const char *const names[] = {"id", "subscription", "url", "event", "operator",
                                        "incident_id", "body"};
    const char *vals[] = {m->id, m->subscription, m->url, m->event, m->op, m->incident_id,
                          m->body};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        if (!filled(vals[i])) {
            error_set(err, JIKO_ERR_INVALID, NULL, 0, names[i], "must be non-empty UTF-8 text");
            return -1;
        }
    return s->ops->outbox_add(s->impl, m, err);
}

/* Rows read back must be rows an add could have written: the sender posts
 * their body and names their subscription in its logs. */
typedef struct outbox_checked {
    store_outbox_fn fn;
    void *ctx;
    jiko_error *err;
    bool damaged;
} outbox_checked;

static int outbox_check_then(void *ctx, const store_outbox_msg *m)
{
    outbox_checked *c = ctx;
    if (!filled(m->id) || !filled(m->subscription) || !filled(m->url) || !filled(m->event) ||
        !filled(m->op) || !filled(m->incident_id) || !filled(m->body) || !m->last_error ||
        !text_ok(m->last_error) || m->attempts < 0 || (m->delivered_ms && m->gave_up_ms)) {
        error_set(c->err, JIKO_ERR_STORE, NULL, 0, NULL,
                  "the registry is damaged: webhook message %s: a column is missing, not UTF-8 "
                  "or out of range",
                  m->id && text_ok(m->id) ? m->id : "?");
        c->damaged = true;
        return 1;
    }
    return c->fn(c->ctx, m);
}

/* The due messages, copied: they are leased before anyone sees them, and
 * a backend may not change rows under a statement still reading them. */
typedef struct outbox_taken {
    store_outbox_msg *v;
    long n, cap;
    bool nomem;
} outbox_taken;

static void outbox_msg_free(store_outbox_msg *m)
{
    free((char *)m->id);
    free((char *)m->subscription);
    free((char *)m->url);
    free((char *)m->event);
    free((char *)m->op);
    free((char *)m->incident_id);
    free((char *)m->body);
    free((char *)m->last_error);
}

static int outbox_keep(void *ctx, const store_outbox_msg *m)
{
    outbox_taken *t = ctx;
    if (t->n == t->cap) {
        long cap = t->cap ? 2 * t->cap : 16;
        store_outbox_msg *v = realloc(t->v, (size_t)cap * sizeof *v);
        if (!v) {
            t->nomem = true;
            return 1;
        }
        t->v = v;
        t->cap = cap;
    }
    store_outbox_msg *c = &t->v[t->n];
    *c = *m;
    c->id = store_strdup(m->id);
    c->subscription = store_strdup(m->subscription);
    c->url = store_strdup(m->url);
    c->event = store_strdup(m->event);
    c->op = store_strdup(m->op);
    c->incident_id = store_strdup(m->incident_id);
    c->body = store_strdup(m->body);
    c->last_error = store_strdup(m->last_error);
    t->n++;
    if (!c->id || !c->subscription || !c->url || !c->event || !c->op || !c->incident_id ||
        !c->body || !c->last_error) {
        t->nomem = true;
        return 1;
    }
    return 0;
}

int store_outbox_take(store *s, int64_t now_ms, long limit, int64_t lease_ms, store_outbox_fn fn,
                      void *ctx, jiko_error *err)
{
    if (limit < 1 || lease_ms < 0 || now_ms < 0) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0,
                  limit < 1 ? "limit" : lease_ms < 0 ? "lease" : "now", "must be positive");
        return -1;
    }
    /* read and lease in one transaction (the caller's, or one of our own):
     * SQLite's write lock or PostgreSQL's row locks keep a second sender
     * from taking the same messages meanwhile */
    bool own = !store_in_batch(s);
    if (own && store_begin(s, err))
        return -1;
    outbox_taken t = {0};
    outbox_checked c = {outbox_keep, &t, err, false};
    int rc = s->ops->outbox_scan(s->impl, now_ms, limit, outbox_check_then, &c, err);
    if (t.nomem) {
        error_nomem(err, "taking webhook messages");
        rc = -1;
    }
    if (c.damaged)
        rc = -1;
    for (long i = 0; rc >= 0 && i < t.n; i++)
        if (s->ops->outbox_update(s->impl, t.v[i].id, t.v[i].attempts, now_ms + lease_ms, 0, 0, 0,
                                  NULL, err) < 0)
            rc = -1;
    if (own) {
        if (rc >= 0 && store_commit(s, err))
            rc = -1;
        if (rc < 0) {
            jiko_error ignored;
            store_rollback(s, &ignored);
        }
    }
    for (long i = 0; i < t.n; i++) {
        if (rc >= 0)
            fn(ctx, &t.v[i]); /* every one is leased: the caller sees them all */
        outbox_msg_free(&t.v[i]);
    }
    free(t.v);
    return rc < 0 ? -1 : (int)t.n;
}

int store_outbox_list(store *s, long limit, store_outbox_fn fn, void *ctx, jiko_error *err)
{
    if (limit < 0) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "limit", "must not be negative, got %ld", limit);
        return -1;
    }
    outbox_checked c = {fn, ctx, err, false};
    int n = s->ops->outbox_scan(s->impl, -1, limit, outbox_check_then, &c, err);
    return n < 0 || c.damaged ? -1 : 0;
}

/* An error text as stored: at most STORE_OUTBOX_ERROR_MAX bytes, cut at a
 * UTF-8 character boundary, NUL-free by construction. */
static const char *outbox_error_text(const char *e, char *buf, size_t size)
{
    if (!e)
        return NULL;
    size_t n = strlen(e);
    if (n >= size)
        n = size - 1;
    while (n && ((unsigned char)e[n] & 0xC0) == 0x80)
        n--;
    memcpy(buf, e, n);
    buf[n] = '\0';
    if (!text_ok(buf))
        snprintf(buf, size, "(an error message that is not UTF-8)");
    return buf;
}

static int outbox_update(store *s, const char *id, int attempts, int64_t next_ms,
                         int64_t attempt_ms, int64_t delivered_ms, int64_t gave_up_ms,
                         const char *error, jiko_error *err)
{
    if (!id || !*id) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "id", "is empty");
        return -1;
    }
    if (attempts < 0) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "attempts", "must not be negative, got %d",
                  attempts);
        return -1;
    }
    char buf[STORE_OUTBOX_ERROR_MAX + 1];
    int rc = s->ops->outbox_update(s->impl, id, attempts, next_ms, attempt_ms, delivered_ms,
                                   gave_up_ms, outbox_error_text(error, buf, sizeof buf), err);
    if (rc == 2) {
        error_set(err, JIKO_ERR_NOT_FOUND, NULL, 0, "id", "no webhook message '%s' in the registry",
                  id);
        return -1;
    }
    return rc;
}

int store_outbox_delivered(store *s, const char *id, int attempts, int64_t when_ms,
                           jiko_error *err)
{
    return outbox_update(s, id, attempts, 0, when_ms, when_ms, 0, "", err);
}

int store_outbox_retry(store *s, const char *id, int attempts, int64_t attempt_ms,
                       int64_t next_ms, const char *error, jiko_error *err)
{
    return outbox_update(s, id, attempts, next_ms, attempt_ms, 0, 0, error, err);
}

int store_outbox_give_up(store *s, const char *id, int attempts, int64_t when_ms,
                         const char *error, jiko_error *err)
{
    return outbox_update(s, id, attempts, 0, when_ms, 0, when_ms, error, err);
}

int store_outbox_count(store *s, store_outbox_counts *c, jiko_error *err)
{
    memset(c, 0, sizeof *c);
    return s->ops->outbox_count(s->impl, c, err);
}
