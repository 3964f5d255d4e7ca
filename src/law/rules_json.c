/* rules_json.c — rulebooks as JSON (see rules_json.h). */
#include "rules_json.h"

#include <string.h>

#include "jst.h"

/* The first day in force; null for a rulebook not in force with no date yet. */
static json_t *effective_json(const rulebook *b, char *buf, size_t size)
{
    const char *t = rules_effective_text(b, buf, size);
    return strcmp(t, "unknown") == 0 ? json_null() : json_string(t);
}

static json_t *until_json(const rulebook *b)
{
    char to[JST_DATE_TEXT_MAX];
    return b->has_end ? json_string(jst_format_date(b->end, to, sizeof to)) : json_null();
}

json_t *rules_summary_json(const rulebook *b)
{
    char from[JST_DATE_TEXT_MAX];
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "id", json_string(b->id));
    json_object_set_new(o, "effective", effective_json(b, from, sizeof from));
    json_object_set_new(o, "until", until_json(b));
    json_object_set_new(o, "title_ja", json_string(b->title_ja));
    json_object_set_new(o, "title_en", json_string(b->title_en));
    json_object_set_new(o, "file", json_string(b->path));
    return o;
}

/* {"value": true, "source": "...", "status": "confirmed"} */
static json_t *flag_json(const rules_flag *f)
{
    return json_pack("{s:b,s:s,s:s}", "value", f->on, "source", f->source, "status",
                     f->unconfirmed ? "unconfirmed" : "confirmed");
}

/* A deadline's "holidays": "move" or "stay", and the source when it moves. */
static json_t *holidays_json(json_t *deadline, const rules_flag *moves)
{
    if (!deadline)
        return NULL;
    json_object_set_new(deadline, "holidays", json_string(moves->on ? "move" : "stay"));
    if (moves->source)
        json_object_set_new(deadline, "holidays_source", json_string(moves->source));
    return deadline;
}

json_t *rules_book_json(const rulebook *b, const catalog *cat)
{
    char from[JST_DATE_TEXT_MAX];
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "id", json_string(b->id));
    json_object_set_new(o, "title_ja", json_string(b->title_ja));
    json_object_set_new(o, "title_en", json_string(b->title_en));
    json_object_set_new(o, "effective", effective_json(b, from, sizeof from));
    json_object_set_new(o, "until", until_json(b));
    json_object_set_new(o, "file", json_string(b->path));
    json_object_set_new(o, "source", json_string(b->source));
    json_object_set_new(o, "effects", json_string(b->count_degrade ? "stop degrade" : "stop"));
    /* the duty, under its old name: whether a serious accident is also filed quarterly */
    json_object_set_new(o, "serious_in_quarterly", json_boolean(b->serious_quarterly_duty.on));
    if (b->serious_quarterly_duty.source)
        json_object_set_new(o, "serious_quarterly_duty", flag_json(&b->serious_quarterly_duty));
    if (b->serious_in_statistics.source)
        json_object_set_new(o, "serious_in_statistics", flag_json(&b->serious_in_statistics));
    json_t *cls = json_array();
    for (size_t k = 0; k < b->n_clauses; k++)
        json_array_append_new(cls, rules_clause_json(b, &b->clauses[k], cat));
    json_object_set_new(o, "clauses", cls);
    json_t *d = json_object();
    if (b->has_prompt)
        json_object_set_new(d, "prompt", json_pack("{s:s,s:s}", "within", "without_delay", "source",
                                                   b->prompt_source));
    /* the deadlines counted in days or months from a day, each with its holidays */
    const struct { const char *key, *unit, *from; int n; const char *source; const rules_flag *m; } dl[] = {
        {"written", "days", "occurrence_day", b->written_days, b->written_source, &b->written_moves},
        {"quarterly", "months", b->periodic_yearly ? "fiscal_year_end" : "quarter_end",
         b->quarterly_months, b->quarterly_source, &b->quarterly_moves},
        {"osore", "days", "noticed_day", b->osore_days, b->osore_source, &b->osore_moves},
        {"secrecy_leak", "days", "known_day", b->secrecy_days, b->secrecy_source, &b->secrecy_moves},
    };
    for (size_t k = 0; k < sizeof dl / sizeof dl[0]; k++)
        if (dl[k].n)
            json_object_set_new(d, dl[k].key,
                                holidays_json(json_pack("{s:i,s:s,s:s}", dl[k].unit, dl[k].n, "from",
                                                        dl[k].from, "source", dl[k].source),
                                              dl[k].m));
    json_object_set_new(o, "deadlines", d);
    if (b->has_osore) {
        const rules_osore *x = &b->osore;
        json_object_set_new(o, "osore",
                            json_pack("{s:s,s:s,s:I,s:i,s:s,s:s}", "name_ja", x->name_ja, "name_en",
                                      x->name_en, "min_operator_users", (json_int_t)x->min_operator_users,
                                      "min_prefectures", x->min_prefectures, "source", x->source,
                                      "status", x->unconfirmed ? "unconfirmed" : "confirmed"));
    }
    if (b->not_in_force)
        json_object_set_new(o, "in_force", json_false());
    return o;
}

json_t *rules_clause_json(const rulebook *b, const rules_clause *cl, const catalog *cat)
{
    static const char *kinds[] = {"serious", "critical", "quarterly"};
    static const char *fac[] = {"any", "telecom", "non_telecom"};
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(kinds[cl->kind]));
    json_object_set_new(o, "id", json_string(cl->id));
    json_object_set_new(o, "name_ja", json_string(cl->name_ja));
    json_object_set_new(o, "name_en", json_string(cl->name_en));
    json_object_set_new(o, "facility", json_string(fac[cl->facility]));
    json_t *th = json_array();
    for (size_t t = 0; t < cl->n_thresholds; t++) {
        json_t *x = json_object();
        json_object_set_new(x, "text", json_string(cl->thresholds[t].text));
        json_object_set_new(x, "min_seconds", json_integer(cl->thresholds[t].min_ms / 1000));
        json_object_set_new(x, "min_users", json_integer(cl->thresholds[t].min_users));
        /* only on lines that have it, so that every other line reads as before */
        if (cl->thresholds[t].has_mau)
            json_object_set_new(x, "min_mau", json_integer(cl->thresholds[t].min_mau));
        json_array_append_new(th, x);
    }
    json_object_set_new(o, "thresholds", th);
    if (cl->when_info_leak)
        json_object_set_new(o, "when", json_string("info_leak"));
    if (cl->kind == RULES_SERIOUS) {
        json_t *svcs = json_array();
        for (size_t s = 0; s < cat->n_services; s++)
            if (cl->all_services || b->svc_serious[s] == (int)(cl - b->clauses))
                json_array_append_new(svcs, json_string(cat->services[s].code));
        json_object_set_new(o, "services", svcs);
    }
    json_object_set_new(o, "source", json_string(cl->source));
    json_object_set_new(o, "status", json_string(cl->unconfirmed ? "unconfirmed" : "confirmed"));
    if (cl->note)
        json_object_set_new(o, "note", json_string(cl->note));
    return o;
}

