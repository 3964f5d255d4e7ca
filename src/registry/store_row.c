/* store_row.c — JSON of stored rows and their re-classification (see store_row.h). */
#include "store_row.h"

#include <stdio.h>
#include <string.h>

#include "json_fast.h"
#include "jst.h"

/* A comma-separated column as a JSON array of strings. */
static json_t *list_json(const char *csv)
{
    json_t *a = json_array();
    const char *p = csv ? csv : "";
    while (a && *p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n)
            json_array_append_new(a, json_stringn(p, n));
        p += n + (end != NULL);
    }
    return a;
}

/* The record as JSON, or its text when it does not parse (shown, not lost). */
static json_t *record_json(const char *text)
{
    json_t *rec = json_loads(text, 0, NULL);
    return rec ? rec : json_fast_string(text);
}

json_t *store_row_json(const store_row *r, bool with_record)
{
    char t[JST_TEXT_MAX];
    json_t *o = json_object();
    if (!o)
        return NULL;
    /* ASCII literal keys: no UTF-8 check needed (the values are checked) */
    json_object_set_new_nocheck(o, "operator", json_fast_string(r->op));
    json_object_set_new_nocheck(o, "id", json_fast_string(r->id));
    json_object_set_new_nocheck(o, "version", json_integer(r->version));
    json_object_set_new_nocheck(o, "started_at",
                                json_fast_string(jst_format(r->started_ms, t, sizeof t)));
    json_object_set_new_nocheck(
        o, "ended_at",
        r->ongoing ? json_null() : json_fast_string(jst_format(r->ended_ms, t, sizeof t)));
    json_object_set_new_nocheck(o, "fiscal_year", json_integer(r->fiscal_year));
    json_object_set_new_nocheck(o, "quarter", json_integer(r->quarter));
    json_object_set_new_nocheck(o, "report", json_fast_string(r->report));
    json_object_set_new_nocheck(o, "rulebook", json_fast_string(r->rulebook));
    json_object_set_new_nocheck(o, "serious_categories", list_json(r->serious_categories));
    json_object_set_new_nocheck(o, "quarterly_clauses", list_json(r->quarterly_clauses));
    json_object_set_new_nocheck(o, "users", json_integer(r->users));
    json_object_set_new_nocheck(o, "changed_at",
                                json_fast_string(jst_format(r->changed_ms, t, sizeof t)));
    json_object_set_new_nocheck(o, "reason", json_fast_string(r->reason));
    if (with_record)
        json_object_set_new_nocheck(o, "record", record_json(r->record));
    return o;
}

json_t *store_version_json(const store_row *r)
{
    char t[JST_TEXT_MAX];
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new_nocheck(o, "version", json_integer(r->version));
    json_object_set_new_nocheck(o, "changed_at",
                                json_fast_string(jst_format(r->changed_ms, t, sizeof t)));
    json_object_set_new_nocheck(o, "reason", json_fast_string(r->reason));
    json_object_set_new_nocheck(o, "record", record_json(r->record));
    return o;
}

int store_row_classify(const intake_opts *o, const store_row *row, incident *inc,
                       classify_result *res, jiko_error *err)
{
    if (incident_parse(inc, row->record, strlen(row->record), o->cat, "registry", 0, err)) {
        if (err->kind == JIKO_ERR_NOMEM)
            return -1;
        char why[ERROR_TEXT_MAX];
        error_format(err, why, sizeof why);
        error_set(err, JIKO_ERR_STORE, NULL, 0, NULL,
                  "stored incident %s/%s no longer validates: %s", row->op, row->id, why);
        return -1;
    }
    if (strcmp(inc->id, row->id) != 0 || strcmp(inc->op, row->op) != 0) {
        /* as store_get's check, for rows read with store_get_to_parse */
        error_set(err, JIKO_ERR_STORE, NULL, 0, NULL,
                  "the registry is damaged: stored incident %s/%s (version %d): the record "
                  "names another incident",
                  row->op, row->id, row->version);
        incident_free(inc);
        return -1;
    }
    const rulebook *b = rules_find(o->rules, row->rulebook);
    if (!b && !(b = intake_rulebook(o->rules, inc->started_ms, "registry", 0, err))) {
        incident_free(inc);
        return -1;
    }
    classify_incident(b, o->cat, inc, row->ended_ms ? row->ended_ms : row->changed_ms, res);
    if (classify_check_calendar(res, o->cat, "registry", 0, err)) {
        incident_free(inc);
        return -1;
    }
    return 0;
}
