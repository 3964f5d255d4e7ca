/* api.c — the API's handlers (api.h). */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "intake.h"
#include "jst.h"
#include "num.h"
#include "report.h"
#include "report_case.h"
#include "api_ingest.h"
#include "api_notice.h"
#include "engine.h"
#include "report_render.h"
#include "rules_json.h"
#include "store_row.h"
#include "json_text.h"

#define ROLE(r) (1u << (r))
#define READERS (ROLE(TOKEN_ADMIN) | ROLE(TOKEN_VIEWER) | ROLE(TOKEN_REGULATOR))

bool api_needs_token(route_id id)
{
    return id != ROUTE_HEALTHZ && id != ROUTE_METRICS && id != ROUTE_DASHBOARD &&
           id != ROUTE_ASSET && !route_public(id);
}

bool api_role_allows(const route_match *m, token_role role, jiko_error *err)
{
    unsigned allowed = READERS;
    const char *why = "this call is for admin, viewer and regulator tokens";
    if (m->id == ROUTE_WHOAMI) {
        return true; /* every token may ask what it is */
    } else if (m->id == ROUTE_INCIDENTS && m->method == ROUTE_POST) {
        allowed = ROLE(TOKEN_ADMIN);
        why = "storing incidents needs an admin token of the incident's operator";
    } else if (m->id == ROUTE_NOTICES) {
        allowed = ROLE(TOKEN_ADMIN);
        why = "publishing a notice needs an admin token of the incident's operator";
    } else if (route_ingests(m->id)) {
        allowed = ROLE(TOKEN_INGEST);
        why = "KPI samples and alerts are sent with an ingest token of their operator";
    }
    if (allowed & ROLE(role))
        return true;
    error_set(err, JIKO_ERR_FORBIDDEN, NULL, 0, NULL, "this call is not for %s tokens: %s",
              token_role_name(role), why);
    return false;
}

bool api_own_operator(const api_request *rq, const char *op, reply *out)
{
    if (!rq->who->op || (op && strcmp(rq->who->op, op) == 0))
        return true;
    reply_error(out, 403, "forbidden", "operator",
                "this token belongs to operator '%s' and may not read or change incidents of "
                "'%s'",
                rq->who->op, op ? op : "(every operator)");
    return false;
}

int api_lang_param(const api_request *rq, classify_lang dflt, classify_lang *lang, reply *out)
{
    const char *l = route_query(rq->route, "lang");
    *lang = !l ? dflt : strcmp(l, "ja") == 0 ? CLASSIFY_JA : CLASSIFY_EN;
    if (!l || strcmp(l, "ja") == 0 || strcmp(l, "en") == 0)
        return 0;
    reply_error(out, 400, "invalid", "lang", "expected ja or en, got '%s'", l);
    return -1;
}

int api_now_param(const api_request *rq, int64_t *now, reply *out)
{
    const char *t = route_query(rq->route, "now");
    *now = rq->now_ms;
    if (!t)
        return 0;
    const char *why = NULL;
    if (!jst_parse_rfc3339(t, strlen(t), now, &why)) {
        reply_error(out, 400, "invalid", "now", "expected an RFC 3339 time such as "
                    "2021-08-03T16:15:00+09:00, got '%s' (%s)", t, why ? why : "invalid");
        return -1;
    }
    return 0;
}

/* A classification as the contract's JSON, with what the registry adds. */
static json_t *result_json(const api_env *env, const classify_result *r, const incident *inc,
                           classify_lang lang, int version, const char *outcome)
{
    json_t *o = classify_to_json(r, inc, env->cat, lang);
    if (o && version > 0 &&
        (json_object_set_new(o, "version", json_integer(version)) ||
         json_object_set_new(o, "outcome", json_string(outcome)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static const char *outcome_name(store_outcome o)
{
    return o == STORE_STORED ? "stored" : o == STORE_AMENDED ? "amended" : "unchanged";
}

/* Answer for records taken one by one (stored or only classified): one
 * record answers with its classification alone; several with a list in
 * input order and the counts.  `errors` are the rejected ones. */
typedef struct batch {
    json_t *results;   /* array */
    long ok, rejected;
    int first_status;  /* status of the first rejection */
    jiko_error_kind first_kind;
    json_t *first_error;
} batch;

static int batch_init(batch *b)
{
    memset(b, 0, sizeof *b);
    b->results = json_array();
    return b->results ? 0 : -1;
}

static void batch_reject(batch *b, const jiko_error *e)
{
    json_t *eo = reply_error_json(e);
    if (!b->rejected++) {
        b->first_status = reply_status_of(e->kind);
        b->first_kind = e->kind;
        b->first_error = eo ? json_deep_copy(eo) : NULL;
    }
    json_array_append_new(b->results, json_pack("{s:I,s:o*}", "line", (json_int_t)e->line,
                                                "error", eo));
}

static void batch_accept(batch *b, long line, json_t *res)
{
    b->ok++;
    if (res)
        json_object_set_new(res, "line", json_integer(line));
    json_array_append_new(b->results, res);
}

/* single: the whole body was one record */
static void batch_reply(batch *b, bool single, int ok_status, reply *out, json_t *counts)
{
    if (single && b->ok + b->rejected == 1) {
        json_t *only = json_array_get(b->results, 0);
        if (b->ok) {
            json_object_del(only, "line");
            reply_json(out, ok_status, json_incref(only));
        } else {
            json_t *e = json_object_get(only, "error");
            json_object_del(e, "line");
            reply_json(out, b->first_status, json_pack("{s:O}", "error", e));
            out->code = error_kind_name(b->first_kind);
        }
        json_decref(counts);
    } else if (b->ok + b->rejected == 0) {
        reply_error(out, 400, "invalid", "body", "the body holds no incident record");
        json_decref(counts);
    } else {
        json_t *o = counts ? counts : json_object();
        json_object_set_new(o, "rejected", json_integer(b->rejected));
        json_object_set(o, "results", b->results);
        if (!b->ok)
            json_object_set(o, "error", b->first_error);
        reply_json(out, b->ok ? 200 : b->first_status, o);
        if (!b->ok)
            out->code = error_kind_name(b->first_kind);
    }
    json_decref(b->results);
    json_decref(b->first_error);
}

/* Whether the body is one JSON value (a record, maybe pretty-printed)
 * rather than JSON Lines. */
static bool one_value(const char *body, size_t len)
{
    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) { /* a byte order mark */
        body += 3;
        len -= 3;
    }
    json_error_t je;
    json_t *v = json_loadb(body, len, JSON_DECODE_ANY, &je);
    bool one = v != NULL;
    json_decref(v);
    return one;
}

/* POST /api/v1/classify: classify without storing. */
static void classify_post(const api_env *env, const api_request *rq, reply *out)
{
    classify_lang lang;
    intake_opts io = {env->cat, env->rules, NULL, 0};
    if (api_lang_param(rq, CLASSIFY_EN, &lang, out) || api_now_param(rq, &io.now_ms, out))
        return;
    const char *book = route_query(rq->route, "rulebook");
    if (book && !(io.forced = rules_find(env->rules, book))) {
        reply_error(out, 400, "invalid", "rulebook", "no rulebook '%s' (see /api/v1/rules)", book);
        return;
    }
    batch b;
    if (batch_init(&b)) {
        reply_json(out, 503, NULL);
        return;
    }
    bool single = one_value(rq->body, rq->body_len);
    const char *p = rq->body, *end = rq->body + rq->body_len;
    long line = 0;
    while (p < end) {
        char *s = (char *)p; /* our own copy of the body: lines are cut in place */
        size_t n;
        line++;
        if (single) {
            n = rq->body_len;
            p = end;
            if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
                s += 3;
                n -= 3;
            }
        } else {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            n = (size_t)((nl ? nl : end) - p);
            p = nl ? nl + 1 : end;
            if (!intake_line(&s, &n, line))
                continue;
        }
        incident inc;
        classify_result r;
        jiko_error err;
        if (intake_record(&io, s, n, "body", single ? 0 : line, &inc, &r, &err)) {
            if (err.kind == JIKO_ERR_NOMEM) {
                json_decref(b.results);
                json_decref(b.first_error);
                reply_from_error(out, &err);
                return;
            }
            batch_reject(&b, &err);
            continue;
        }
        batch_accept(&b, line, result_json(env, &r, &inc, lang, 0, NULL));
        incident_free(&inc);
    }
    batch_reply(&b, single, 200, out, NULL);
}

/* POST /api/v1/incidents: store exactly as `jiko import` does. */
static void incidents_post(const api_env *env, const api_request *rq, reply *out)
{
    classify_lang lang;
    if (api_lang_param(rq, CLASSIFY_EN, &lang, out))
        return;
    intake_opts io = {env->cat, env->rules, NULL, rq->now_ms};
    char reason[IMPORT_REASON_MAX];
    snprintf(reason, sizeof reason, "posted to the API by token %s", rq->who->id);
    import_results res;
    jiko_error err;
    if (import_text(rq->db, &io, rq->body, rq->body_len, "body", reason, rq->who->op, &res,
                    &err)) {
        reply_from_error(out, &err);
        return;
    }
    bool single = one_value(rq->body, rq->body_len);
    batch b;
    if (batch_init(&b)) {
        import_results_free(&res);
        reply_json(out, 503, NULL);
        return;
    }
    int status = 200;
    for (long i = 0; i < res.n; i++) {
        import_result *x = &res.r[i];
        if (!x->ok) {
            batch_reject(&b, &x->err);
            continue;
        }
        if (x->outcome == STORE_STORED)
            status = 201;
        batch_accept(&b, x->line,
                     result_json(env, &x->res, &x->inc, lang, x->version, outcome_name(x->outcome)));
    }
    json_t *counts = json_pack("{s:I,s:I,s:I}", "stored", (json_int_t)res.counts.stored,
                               "amended", (json_int_t)res.counts.amended, "unchanged",
                               (json_int_t)res.counts.unchanged);
    import_results_free(&res);
    batch_reply(&b, single, single ? status : 200, out, counts);
}

/* The list cursor: the last row's sort key and the order, as hex of a JSON
 * array, so that it is opaque and safe in a URL. */
static char *cursor_make(const store_row *r, bool newest)
{
    json_t *k = json_pack("[I,s,s,b]", (json_int_t)r->started_ms, r->op, r->id, newest);
    char *text = k ? json_text_of(k, 0, false, NULL) : NULL;
    json_decref(k);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *hex = malloc(2 * n + 1);
    for (size_t i = 0; hex && i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)text[i]);
    free(text);
    return hex;
}

/* Decode a cursor into the filter; the strings live in *keep. */
static int cursor_read(const char *hex, store_filter *f, json_t **keep)
{
    size_t n = strlen(hex);
    if (n == 0 || n % 2 || n > 4096)
        return -1;
    char text[2049];
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1 || !v)
            return -1;
        text[i] = (char)v;
    }
    json_t *k = json_loadb(text, n / 2, 0, NULL);
    json_int_t ms;
    const char *op, *id;
    int newest = 0;
    /* a page of one order does not continue a list of the other */
    if (!k || json_unpack(k, "[I,s,s,b]", &ms, &op, &id, &newest) ||
        (bool)newest != f->newest_first) {
        json_decref(k);
        return -1;
    }
    f->after_started_ms = ms;
    f->after_op = op;
    f->after_id = id;
    *keep = k;
    return 0;
}

typedef struct page {
    json_t *rows;
    long limit, n;
    char *next;
    bool nomem, newest;
} page;

static int page_row(void *ctx, const store_row *r)
{
    page *p = ctx;
    if (p->n++ == p->limit) { /* the row after the page: there is a next page */
        return 0;
    }
    json_t *o = store_row_json(r, false);
    if (!o || json_array_append_new(p->rows, o)) {
        p->nomem = true;
        return -1;
    }
    if (p->n == p->limit) {
        free(p->next);
        p->next = cursor_make(r, p->newest);
    }
    return 0;
}

/* GET /api/v1/incidents */
static void incidents_get(const api_request *rq, reply *out)
{
    store_filter f = {.open = -1};
    const route_match *m = rq->route;
    const char *v;
    long n;
    if ((v = route_query(m, "fy"))) {
        if (!num_parse_long(v, 1900, 9999, &n)) {
            reply_error(out, 400, "invalid", "fy", "expected a fiscal year 1900-9999, got '%s'", v);
            return;
        }
        f.fiscal_year = (int)n;
    }
    if ((v = route_query(m, "quarter"))) {
        if (!num_parse_long(v, 1, 4, &n)) {
            reply_error(out, 400, "invalid", "quarter", "expected a fiscal quarter 1-4, got '%s'",
                        v);
            return;
        }
        f.quarter = (int)n;
    }
    if ((v = route_query(m, "report"))) {
        if (strcmp(v, "serious") && strcmp(v, "detailed") && strcmp(v, "simple") &&
            strcmp(v, "none")) {
            reply_error(out, 400, "invalid", "report",
                        "expected serious, detailed, simple or none, got '%s'", v);
            return;
        }
        f.report = v;
    }
    if ((v = route_query(m, "open"))) {
        if (strcmp(v, "true") && strcmp(v, "false")) {
            reply_error(out, 400, "invalid", "open", "expected true or false, got '%s'", v);
            return;
        }
        f.open = strcmp(v, "true") == 0;
    }
    f.op = route_query(m, "operator");
    if (f.op && !*f.op) {
        reply_error(out, 400, "invalid", "operator", "expected an operator's name, got nothing");
        return;
    }
    if (f.op && !api_own_operator(rq, f.op, out))
        return;
    if (!f.op)
        f.op = rq->who->op; /* an operator's token sees its own only */
    if ((v = route_query(m, "order"))) {
        if (strcmp(v, "oldest") && strcmp(v, "newest")) {
            reply_error(out, 400, "invalid", "order", "expected oldest or newest, got '%s'", v);
            return;
        }
        f.newest_first = strcmp(v, "newest") == 0;
    }
    page p = {NULL, API_LIMIT_DEFAULT, 0, NULL, false, f.newest_first};
    if ((v = route_query(m, "limit")) && !num_parse_long(v, 1, API_LIMIT_MAX, &p.limit)) {
        reply_error(out, 400, "invalid", "limit", "expected a page size 1-%d, got '%s'",
                    API_LIMIT_MAX, v);
        return;
    }
    json_t *keep = NULL;
    if ((v = route_query(m, "cursor")) && cursor_read(v, &f, &keep)) {
        reply_error(out, 400, "invalid", "cursor",
                    "not a cursor this server gave (use next_cursor of the previous page)");
        return;
    }
    f.limit = p.limit + 1;
    p.rows = json_array();
    jiko_error err;
    if (!p.rows) {
        json_decref(keep);
        reply_json(out, 503, NULL);
        return;
    }
    if (store_list(rq->db, &f, page_row, &p, &err)) {
        if (p.nomem)
            error_nomem(&err, "listing incidents");
        reply_from_error(out, &err);
        json_decref(p.rows);
    } else {
        json_t *next = p.n > p.limit && p.next ? json_string(p.next) : json_null();
        reply_json(out, 200, json_pack("{s:o,s:o}", "incidents", p.rows, "next_cursor", next));
    }
    free(p.next);
    json_decref(keep);
}

/* The stored row of the path's incident, or an answer saying why not
 * (another operator's: 403; none: 404).  True when *row is filled. */
static bool path_row(const api_request *rq, store_row *row, bool to_parse, reply *out)
{
    const route_match *m = rq->route;
    if (!api_own_operator(rq, m->op, out))
        return false;
    jiko_error err;
    int found = to_parse ? store_get_to_parse(rq->db, m->op, m->incident, row, &err)
                         : store_get(rq->db, m->op, m->incident, row, &err);
    if (found < 0)
        reply_from_error(out, &err);
    else if (!found)
        reply_error(out, 404, "not_found", NULL, "no incident '%s' of operator '%s'", m->incident,
                    m->op);
    return found > 0;
}

bool api_path_incident(const api_env *env, const api_request *rq, store_row *row,
                          incident *inc, classify_result *r, reply *out)
{
    if (!path_row(rq, row, true, out)) /* store_row_classify parses the record */
        return false;
    jiko_error err;
    intake_opts io = {env->cat, env->rules, NULL, 0}; /* its clock is not used */
    if (store_row_classify(&io, row, inc, r, &err)) {
        reply_from_error(out, &err);
        store_row_free(row);
        return false;
    }
    return true;
}

/* {"incident": the row with its record, "classification": ...}.  The record
 * is the stored text itself, spliced in: it was validated when stored (and
 * again by the classification just made), and parsing it only to print it
 * again was a third of this call's time. */
static void incident_answer(reply *out, const store_row *row, json_t *cls)
{
    json_t *ro = store_row_json(row, false);
    json_text t = {0};
    json_text_lit(&t, "{\"incident\":");
    json_text_value(&t, ro, 0);
    if (!t.failed)
        t.len--; /* the row's closing brace: the record goes inside */
    json_text_lit(&t, ",\"record\":");
    json_text_lit(&t, row->record);
    json_text_lit(&t, "},\"classification\":");
    json_text_value(&t, cls, 0);
    json_text_lit(&t, "}\n");
    json_decref(ro);
    json_decref(cls);
    size_t len;
    char *text = json_text_take(&t, &len);
    if (!text)
        reply_json(out, 503, NULL);
    else
        reply_take(out, 200, "application/json", text, len);
}

/* GET /api/v1/incidents/{operator}/{id}: the record and its classification
 * as of now (when it turns serious, for an ongoing incident). */
static void incident_get(const api_env *env, const api_request *rq, reply *out)
{
    classify_lang lang;
    int64_t now;
    if (api_lang_param(rq, CLASSIFY_EN, &lang, out) || api_now_param(rq, &now, out))
        return;
    store_row row;
    incident inc;
    classify_result r;
    if (!api_path_incident(env, rq, &row, &inc, &r, out))
        return;
    if (row.ongoing) /* as of now, not as of when it was stored */
        classify_incident(r.book, env->cat, &inc, now, &r);
    incident_answer(out, &row, result_json(env, &r, &inc, lang, 0, NULL));
    incident_free(&inc);
    store_row_free(&row);
}

static int history_row(void *ctx, const store_row *r)
{
    json_t *o = store_version_json(r);
    return o && !json_array_append_new(ctx, o) ? 0 : -1;
}

/* GET /api/v1/incidents/{operator}/{id}/history */
static void history_get(const api_request *rq, reply *out)
{
    const route_match *m = rq->route;
    if (!api_own_operator(rq, m->op, out))
        return;
    json_t *versions = json_array();
    jiko_error err;
    error_clear(&err);
    if (!versions || store_history(rq->db, m->op, m->incident, history_row, versions, &err)) {
        if (err.kind == JIKO_ERR_NONE)
            error_nomem(&err, "reading the history");
        reply_from_error(out, &err);
        json_decref(versions);
    } else if (json_array_size(versions) == 0) {
        json_decref(versions);
        reply_error(out, 404, "not_found", NULL, "no incident '%s' of operator '%s'", m->incident,
                    m->op);
    } else {
        reply_json(out, 200, json_pack("{s:s,s:s,s:o}", "operator", m->op, "id", m->incident,
                                       "versions", versions));
    }
}

/* GET /api/v1/incidents/{operator}/{id}/series: the live KPIs behind it
 * (engine.h: live_incident_series), for the dashboard's chart. */
static void series_get(const api_env *env, const api_request *rq, reply *out)
{
    const route_match *m = rq->route;
    store_row row;
    if (!path_row(rq, &row, false, out))
        return;
    store_row_free(&row);
    json_t *o = env->engine ? live_incident_series(env->engine, m->op, m->incident)
                            : json_pack("{s:[],s:[],s:i,s:b}", "series", "alarms", "history", 0,
                                        "known", 0);
    if (o && (json_object_set_new(o, "operator", json_string(m->op)) ||
              json_object_set_new(o, "id", json_string(m->incident)))) {
        json_decref(o);
        o = NULL;
    }
    reply_json(out, 200, o);
}

static void rules_get(const api_env *env, const api_request *rq, reply *out)
{
    if (rq->route->id == ROUTE_RULEBOOK) {
        const rulebook *b = rules_find(env->rules, rq->route->rulebook);
        if (!b) {
            reply_error(out, 404, "not_found", NULL, "no rulebook '%s'", rq->route->rulebook);
        } else {
            json_t *o = rules_book_json(b, env->cat);
            json_object_del(o, "file"); /* where the server keeps its files is its own business */
            reply_json(out, 200, o);
        }
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; a && i < env->rules->n; i++) {
        json_t *o = rules_summary_json(&env->rules->books[i]);
        json_object_del(o, "file");
        json_array_append_new(a, o);
    }
    reply_json(out, 200, a ? json_pack("{s:o}", "rulebooks", a) : NULL);
}

/* A report's format parameter among those it is written in. */
static int format_param(const api_request *rq, report_format dflt, unsigned allowed,
                        const char *say, report_format *f, reply *out)
{
    static const char *const names[] = {"text", "md", "html", "csv", "json"};
    const char *v = route_query(rq->route, "format");
    *f = dflt;
    if (!v)
        return 0;
    for (int i = 0; i < 5; i++)
        if (strcmp(v, names[i]) == 0 && (allowed & (1u << i))) {
            *f = (report_format)i;
            return 0;
        }
    reply_error(out, 400, "invalid", "format", "%s, got '%s'", say, v);
    return -1;
}

static const char *content_type(report_format f)
{
    switch (f) {
    case REPORT_TEXT: return "text/plain; charset=utf-8";
    case REPORT_MD: return "text/markdown; charset=utf-8";
    case REPORT_HTML: return "text/html; charset=utf-8";
    case REPORT_CSV: return "text/csv; charset=utf-8";
    case REPORT_JSON: break;
    }
    return "application/json";
}

/* A report written by the library into memory. */
typedef struct membuf {
    char *text;
    size_t len;
    FILE *fp;
} membuf;

static int mem_open(membuf *b, reply *out)
{
    b->text = NULL;
    b->len = 0;
    if (!(b->fp = open_memstream(&b->text, &b->len))) {
        reply_json(out, 503, NULL);
        return -1;
    }
    return 0;
}

static void mem_reply(membuf *b, report_format f, reply *out)
{
    if (fclose(b->fp) != 0) {
        free(b->text);
        reply_json(out, 503, NULL);
        return;
    }
    reply_take(out, 200, content_type(f), b->text, b->len);
}

static void report_fy(const api_env *env, const api_request *rq, reply *out)
{
    report_format f;
    classify_lang lang;
    const char *table = route_query(rq->route, "table");
    if (format_param(rq, REPORT_JSON, 0x1f, "expected text, md, html, csv or json", &f, out) ||
        api_lang_param(rq, CLASSIFY_EN, &lang, out))
        return;
    if (table && !report_table_known(table)) {
        reply_error(out, 400, "invalid", "table", "expected overview, matrix, headline, "
                    "services, causes, equipment or serious, got '%s'", table);
        return;
    }
    report_year y;
    jiko_error err;
    /* the regulator's cover every operator; an operator's token gets its own */
    if (report_compute_op(&y, rq->db, env->cat, rq->route->year, rq->who->op, &err)) {
        reply_from_error(out, &err);
        return;
    }
    membuf b;
    if (!mem_open(&b, out)) {
        if (report_render(b.fp, &y, f, lang == CLASSIFY_JA, table, &err)) {
            fclose(b.fp);
            free(b.text);
            reply_from_error(out, &err);
        } else {
            mem_reply(&b, f, out);
        }
    }
    report_free(&y);
}

static void report_incident(const api_env *env, const api_request *rq, reply *out)
{
    report_format f;
    classify_lang lang;
    if (format_param(rq, REPORT_MD, (1u << REPORT_MD) | (1u << REPORT_HTML),
                     "the case sheet is written as md or html", &f, out) ||
        api_lang_param(rq, CLASSIFY_EN, &lang, out))
        return;
    store_row row;
    incident inc;
    classify_result r;
    if (!api_path_incident(env, rq, &row, &inc, &r, out))
        return;
    char **others = NULL;
    int n = 0;
    membuf b;
    jiko_error err;
    if (report_wholesale_partners(rq->db, &row, &inc, &others, &n, &err)) {
        reply_from_error(out, &err);
    } else if (!mem_open(&b, out)) {
        report_case_write(b.fp, &inc, &r, env->cat, (const char *const *)others, n, f,
                          lang == CLASSIFY_JA);
        mem_reply(&b, f, out);
    }
    report_partners_free(others, n);
    incident_free(&inc);
    store_row_free(&row);
}

static void report_quarter(const api_env *env, const api_request *rq, reply *out)
{
    report_format f;
    classify_lang lang;
    if (format_param(rq, REPORT_JSON,
                     (1u << REPORT_TEXT) | (1u << REPORT_CSV) | (1u << REPORT_JSON),
                     "the quarterly batch is written as text, csv or json", &f, out) ||
        api_lang_param(rq, CLASSIFY_EN, &lang, out))
        return;
    const char *op = route_query(rq->route, "operator");
    if (op && !api_own_operator(rq, op, out))
        return;
    if (!op)
        op = rq->who->op;
    intake_opts io = {env->cat, env->rules, NULL, 0};
    report_batch bt;
    jiko_error err;
    int fy = rq->route->year, q = rq->route->quarter;
    if (report_batch_collect(&bt, rq->db, &io, fy, q, op, &err)) {
        reply_from_error(out, &err);
        report_batch_free(&bt);
        return;
    }
    report_batch_item *items = calloc((size_t)bt.n + 1, sizeof *items);
    membuf b;
    if (!items) {
        reply_json(out, 503, NULL);
    } else if (!mem_open(&b, out)) {
        for (int i = 0; i < bt.n; i++)
            items[i] = (report_batch_item){&bt.inc[i], &bt.r[i]};
        report_batch_write(b.fp, fy, q, op, report_quarter_rulebook(env->rules, fy, q), items,
                           bt.n, env->cat, f, lang == CLASSIFY_JA);
        mem_reply(&b, f, out);
    }
    free(items);
    report_batch_free(&bt);
}

bool api_json_scratch(const route_match *m)
{
    switch (m->id) {
    case ROUTE_INCIDENTS: return m->method == ROUTE_GET;
    case ROUTE_INCIDENT:
    case ROUTE_HISTORY:
    case ROUTE_CLASSIFY:
    case ROUTE_RULES:
    case ROUTE_RULEBOOK: return true;
    default: return false;
    }
}

void api_handle(const api_env *env, const api_request *rq, reply *out)
{
    switch (rq->route->id) {
    case ROUTE_INCIDENTS:
        if (rq->route->method == ROUTE_POST)
            incidents_post(env, rq, out);
        else
            incidents_get(rq, out);
        return;
    case ROUTE_INCIDENT: incident_get(env, rq, out); return;
    case ROUTE_HISTORY: history_get(rq, out); return;
    case ROUTE_CLASSIFY: classify_post(env, rq, out); return;
    case ROUTE_RULES:
    case ROUTE_RULEBOOK: rules_get(env, rq, out); return;
    case ROUTE_REPORT_FY: report_fy(env, rq, out); return;
    case ROUTE_REPORT_INCIDENT: report_incident(env, rq, out); return;
    case ROUTE_REPORT_QUARTER: report_quarter(env, rq, out); return;
    case ROUTE_WRITE_PROM: api_write_prom(env, rq, out); return;
    case ROUTE_WRITE_INFLUX: api_write_influx(env, rq, out); return;
    case ROUTE_ALERTS: api_alerts(env, rq, out); return;
    case ROUTE_SERIES: series_get(env, rq, out); return;
    case ROUTE_WHOAMI:
        /* what the dashboard shows and offers depends on who is looking */
        reply_json(out, 200,
                   json_pack("{s:s,s:s,s:s?}", "token", rq->who->id, "role",
                             token_role_name(rq->who->role), "operator", rq->who->op));
        return;
    case ROUTE_NOTICE_DRAFT: api_notice_draft(env, rq, out); return;
    case ROUTE_NOTICES: api_notice_post(env, rq, out); return;
    case ROUTE_STATUS:
    case ROUTE_STATUS_FEED: api_status(env, rq, out); return;
    case ROUTE_NONE:
    case ROUTE_DASHBOARD:
    case ROUTE_ASSET:
    case ROUTE_HEALTHZ:
    case ROUTE_METRICS:
    case ROUTE_COUNT: break;
    }
    reply_error(out, 404, "not_found", NULL, "no such resource");
}
