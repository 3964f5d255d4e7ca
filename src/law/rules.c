/*
 * rules.c — parsing rulebook files and choosing the one in force.
 *
 * A rulebook is interpreted from the generic key file (conf.c) section by
 * section; every key is checked, unknown keys are errors (a typo in a legal
 * threshold must never pass silently), and each error names file and line.
 */
#include "rules.h"

#include "incident.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- thresholds -------------------------------------------------------- */

bool rules_parse_duration(const char *s, int64_t *ms)
{
    /* A sequence of <digits><unit> with units d, h, m, s in that order, or a
     * bare "0".  Large values are refused so arithmetic cannot overflow. */
    if (strcmp(s, "0") == 0) {
        *ms = 0;
        return true;
    }
    static const char units[] = "dhms";
    static const int64_t unit_ms[] = {JST_MS_PER_DAY, JST_MS_PER_HOUR, 60000, 1000};
    int64_t total = 0;
    int last = -1;
    const char *p = s;
    if (!*p)
        return false;
    while (*p) {
        if (*p < '0' || *p > '9')
            return false;
        int64_t v = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (*p - '0');
            if (v > 100000)
                return false;
            p++;
        }
        const char *u = *p ? strchr(units, *p) : NULL;
        if (!u)
            return false;
        int idx = (int)(u - units);
        if (idx <= last)
            return false;
        last = idx;
        total += v * unit_ms[idx];
        p++;
    }
    *ms = total;
    return true;
}

static bool parse_users(const char *s, int64_t *out)
{
    /* Digits with optional ',' or '_' group separators: "30,000", "1_000_000". */
    int64_t v = 0;
    int nd = 0;
    for (; *s; s++) {
        if (*s == ',' || *s == '_') {
            if (!nd)
                return false;
            continue;
        }
        if (*s < '0' || *s > '9')
            return false;
        if (v > (INT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (*s - '0');
        nd++;
    }
    if (!nd)
        return false;
    *out = v;
    return true;
}

/* Split on blanks into at most `max` words; returns the count or -1 if more. */
static int split_words(char *s, char **w, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(s, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (n == max)
            return -1;
        w[n++] = t;
    }
    return n;
}

int rules_parse_threshold(const char *text, rules_threshold *t, const char **why)
{
    static const char *shape =
        "expected 'duration >= 2h and users >= 30000', 'duration >= 2h' or 'users >= 30000'";
    char buf[256];
    if (strlen(text) >= sizeof buf) {
        *why = shape;
        return -1;
    }
    strcpy(buf, text);
    char *w[12];
    int n = split_words(buf, w, 12);
    /* One to three conditions "NAME >= VALUE" joined by "and"; the third
     * (11 words) can only be a line with mau, so its errors name mau. */
    if (n != 3 && n != 7 && n != 11) {
        *why = n < 0 || n > 11 ? "at most three conditions per line: duration, users and mau (monthly "
                        "active users), each once, joined by 'and'"
                      : shape;
        return -1;
    }
    for (int i = 3; i < n; i += 4)
        if (strcmp(w[i], "and") != 0) {
            *why = n == 11 ? "conditions are joined by 'and', e.g. 'mau >= 10000000 and duration "
                             ">= 1h and users >= 30000'"
                           : shape;
            return -1;
        }
    bool have_d = false, have_u = false, have_m = false;
    int64_t d = 0, u = 0, m = 0;
    for (int i = 0; i < n; i += 4) {
        if (strcmp(w[i + 1], ">=") != 0) {
            *why = "only '>=' is allowed: thresholds are inclusive (以上)";
            return -1;
        }
        if (strcmp(w[i], "duration") == 0 && !have_d) {
            if (!rules_parse_duration(w[i + 2], &d)) {
                *why = "duration must look like 2h, 1h30m, 90m or 24h";
                return -1;
            }
            have_d = true;
        } else if (strcmp(w[i], "users") == 0 && !have_u) {
            if (!parse_users(w[i + 2], &u)) {
                *why = "users must be a whole number such as 30000 or 30,000";
                return -1;
            }
            have_u = true;
        } else if (strcmp(w[i], "mau") == 0 && !have_m) {
            /* the service's monthly active users (月間アクティブ利用者数) */
            if (!parse_users(w[i + 2], &m)) {
                *why = "mau (monthly active users, 月間アクティブ利用者数) must be a whole number "
                       "such as 10000000 or 10,000,000";
                return -1;
            }
            have_m = true;
        } else if (strcmp(w[i], "duration") != 0 && strcmp(w[i], "users") != 0 &&
                   strcmp(w[i], "mau") != 0) {
            *why = n == 11 ? "a condition is 'duration >= ...', 'users >= ...' or 'mau >= ...' "
                             "(monthly active users)"
                           : shape;
            return -1;
        } else if (strcmp(w[i], "mau") == 0 || n == 11) {
            *why = "each of duration, users and mau (monthly active users) may appear once in a "
                   "line";
            return -1;
        } else {
            *why = shape;
            return -1;
        }
    }
    t->min_ms = d;
    t->min_users = u;
    t->has_mau = have_m;
    t->min_mau = m;
    return 0;
}

/* ---- sections ---------------------------------------------------------- */

typedef struct parse_ctx {
    const char *path;
    jiko_error *err;
} parse_ctx;

static int bad(parse_ctx *c, const conf_entry *e, const char *msg, const char *value)
{
    if (strcmp(msg, "out of memory") == 0)
        error_set(c->err, JIKO_ERR_NOMEM, c->path, e->line, e->key, "%s", msg);
    else if (value)
        error_set(c->err, JIKO_ERR_CONFIG, c->path, e->line, e->key, "%s, got '%s'", msg, value);
    else
        error_set(c->err, JIKO_ERR_CONFIG, c->path, e->line, e->key, "%s", msg);
    return -1;
}

static int set_str(parse_ctx *c, char **dst, const conf_entry *e)
{
    if (*dst)
        return bad(c, e, "given twice in one section", NULL);
    if (!e->value[0])
        return bad(c, e, "empty value", NULL);
    *dst = strdup(e->value);
    return *dst ? 0 : bad(c, e, "out of memory", NULL);
}

static int set_status(parse_ctx *c, bool *unconfirmed, const conf_entry *e)
{
    if (strcmp(e->value, "confirmed") == 0)
        *unconfirmed = false;
    else if (strcmp(e->value, "unconfirmed") == 0)
        *unconfirmed = true;
    else
        return bad(c, e, "expected 'confirmed' or 'unconfirmed'", e->value);
    return 0;
}

/* "NAME = yes|no", "NAME.source = ...", "NAME.status = ...": a flag with its
 * own legal source.  Returns 1 if the key was one of these, 0 if not, -1 on
 * error.  `yes`/`no` are the flag's words ("yes"/"no", "move"/"stay"). */
static int flag_key(parse_ctx *c, const char *name, const char *yes, const char *no,
                    rules_flag *f, bool *given, const conf_entry *e)
{
    size_t n = strlen(name);
    if (strncmp(e->key, name, n) != 0)
        return 0;
    const char *rest = e->key + n;
    if (!*rest) {
        if (*given)
            return bad(c, e, "given twice in one section", NULL);
        *given = true;
        if (strcmp(e->value, yes) == 0)
            f->on = true;
        else if (strcmp(e->value, no) == 0)
            f->on = false;
        else {
            char want[64];
            snprintf(want, sizeof want, "expected '%s' or '%s'", yes, no);
            return bad(c, e, want, e->value);
        }
        return 1;
    }
    if (strcmp(rest, ".source") == 0)
        return set_str(c, &f->source, e) ? -1 : 1;
    if (strcmp(rest, ".status") == 0)
        return set_status(c, &f->unconfirmed, e) ? -1 : 1;
    return 0;
}

/* A flag given without its source (or a source without the flag). */
static int flag_check(parse_ctx *c, const conf_section *s, const char *name, const rules_flag *f,
                      bool given)
{
    char key[64];
    if (given && !f->source) {
        snprintf(key, sizeof key, "%s.source", name);
        error_set(c->err, JIKO_ERR_CONFIG, c->path, s->line, key,
                  "missing in [%s%s%s]: '%s' needs its legal source", s->type,
                  s->name[0] ? " " : "", s->name, name);
        return -1;
    }
    if (!given && f->source) {
        error_set(c->err, JIKO_ERR_CONFIG, c->path, s->line, name,
                  "missing in [%s%s%s]: '%s.source' is given but not '%s' itself", s->type,
                  s->name[0] ? " " : "", s->name, name, name);
        return -1;
    }
    return 0;
}

static int add_threshold(parse_ctx *c, rules_clause *cl, const conf_entry *e)
{
    rules_threshold t = {0};
    const char *why = NULL;
    if (rules_parse_threshold(e->value, &t, &why))
        return bad(c, e, why, e->value);
    /* The critical-facility clause counts traffic through a facility, not a
     * service, so a service's monthly active users cannot apply to it. */
    if (t.has_mau && cl->kind == RULES_CRITICAL)
        return bad(c, e,
                   "the critical-facility clause is judged by the facility and its traffic, not "
                   "by a service's monthly active users: 'mau >=' belongs in [serious] or "
                   "[quarterly] lines",
                   e->value);
    rules_threshold *p = realloc(cl->thresholds, (cl->n_thresholds + 1) * sizeof *p);
    if (!p)
        return bad(c, e, "out of memory", NULL);
    cl->thresholds = p;
    cl->any_mau |= t.has_mau;
    t.text = strdup(e->value);
    t.line = e->line;
    p[cl->n_thresholds++] = t;
    return t.text ? 0 : bad(c, e, "out of memory", NULL);
}

/* Keys shared by every clause section. Returns 1 if handled, 0 if not, -1 on error. */
static int common_clause_key(parse_ctx *c, rules_clause *cl, const conf_entry *e)
{
    if (strcmp(e->key, "name.ja") == 0)
        return set_str(c, &cl->name_ja, e) ? -1 : 1;
    if (strcmp(e->key, "name.en") == 0)
        return set_str(c, &cl->name_en, e) ? -1 : 1;
    if (strcmp(e->key, "source") == 0)
        return set_str(c, &cl->source, e) ? -1 : 1;
    if (strcmp(e->key, "note") == 0)
        return set_str(c, &cl->note, e) ? -1 : 1;
    if (strcmp(e->key, "status") == 0)
        return set_status(c, &cl->unconfirmed, e) ? -1 : 1;
    if (strcmp(e->key, "threshold") == 0)
        return add_threshold(c, cl, e) ? -1 : 1;
    if (strcmp(e->key, "facility") == 0) {
        if (strcmp(e->value, "telecom") == 0)
            cl->facility = RULES_FACILITY_TELECOM;
        else if (strcmp(e->value, "non_telecom") == 0)
            cl->facility = RULES_FACILITY_NON_TELECOM;
        else if (strcmp(e->value, "any") == 0)
            cl->facility = RULES_FACILITY_ANY;
        else
            return bad(c, e, "expected telecom, non_telecom or any", e->value);
        return 1;
    }
    return 0;
}

static bool valid_id(const char *s)
{
    if (!*s || strlen(s) > 31)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return false;
    return true;
}

static int clause_from(parse_ctx *c, rules_clause *cl, const conf_section *s, rules_kind kind)
{
    memset(cl, 0, sizeof *cl);
    cl->kind = kind;
    cl->line = s->line;
    cl->facility = RULES_FACILITY_TELECOM;
    const char *id = kind == RULES_CRITICAL ? "critical" : s->name;
    if (kind == RULES_CRITICAL && s->name[0]) {
        error_set(c->err, JIKO_ERR_CONFIG, c->path, s->line, NULL, "[critical] takes no name");
        return -1;
    }
    if (!valid_id(id)) {
        error_set(c->err, JIKO_ERR_CONFIG, c->path, s->line, NULL,
                  "[%s] needs an id of lower-case letters, digits, '_' or '-' (at most 31), "
                  "e.g. [%s 1]",
                  s->type, s->type);
        return -1;
    }
    if (!(cl->id = strdup(id))) {
        error_nomem(c->err, "reading a rulebook");
        return -1;
    }
    for (size_t i = 0; i < s->n_entries; i++) {
        const conf_entry *e = &s->entries[i];
        int r = common_clause_key(c, cl, e);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        if (kind == RULES_SERIOUS && strcmp(e->key, "services") == 0) {
            if (strcmp(e->value, "all") == 0)
                cl->all_services = true;
            else if (strcmp(e->value, "catalog") == 0)
                cl->all_services = false;
            else
                return bad(c, e, "expected 'catalog' (services of this category) or 'all'",
                           e->value);
        } else if (kind == RULES_QUARTERLY && strcmp(e->key, "when") == 0) {
            if (strcmp(e->value, "info_leak") != 0)
                return bad(c, e, "expected 'info_leak'", e->value);
            cl->when_info_leak = true;
        } else if (kind == RULES_CRITICAL && strcmp(e->key, "requires") == 0) {
            if (strcmp(e->value, "all_traffic_stopped") != 0)
                return bad(c, e, "expected 'all_traffic_stopped'", e->value);
            cl->requires_all_traffic_stopped = true;
        } else if (kind == RULES_CRITICAL && strcmp(e->key, "facilities") == 0) {
            char buf[256];
            snprintf(buf, sizeof buf, "%s", e->value);
            char *w[8];
            int n = split_words(buf, w, 8);
            if (n <= 0)
                return bad(c, e, "expected a list of satellite, submarine_cable, other", e->value);
            for (int k = 0; k < n; k++) {
                if (strcmp(w[k], "satellite") == 0)
                    cl->critical_mask |= 1u << RULES_CRIT_SATELLITE;
                else if (strcmp(w[k], "submarine_cable") == 0)
                    cl->critical_mask |= 1u << RULES_CRIT_SUBMARINE_CABLE;
                else if (strcmp(w[k], "other") == 0)
                    cl->critical_mask |= 1u << RULES_CRIT_OTHER;
                else
                    return bad(c, e, "expected satellite, submarine_cable or other", w[k]);
            }
        } else {
            return bad(c, e, "unknown key for this section (see docs/rulebook-format.md)", NULL);
        }
    }
    if (!cl->name_ja || !cl->name_en || !cl->source) {
        error_set(c->err, JIKO_ERR_CONFIG, c->path, s->line, !cl->name_ja ? "name.ja" : !cl->name_en ? "name.en" : "source",
                  "missing in [%s%s%s]: every clause needs both names and its legal source",
                  s->type, s->name[0] ? " " : "", s->name);
        return -1;
    }
    if (!cl->when_info_leak && cl->n_thresholds == 0) {
        error_set(c->err, JIKO_ERR_CONFIG, c->path, s->line, "threshold",
                  "missing: a clause needs at least one threshold line");
        return -1;
    }
    if (cl->when_info_leak && cl->n_thresholds) {
        error_set(c->err, JIKO_ERR_CONFIG, c->path, s->line, "threshold",
                  "an info_leak clause is met by the leak alone and takes no threshold");
        return -1;
    }
    if (kind == RULES_CRITICAL && !cl->critical_mask) {
        error_set(c->err, JIKO_ERR_CONFIG, c->path, s->line, "facilities",
                  "missing: which critical facilities (satellite submarine_cable other)");
        return -1;
    }
    return 0;
}

static int add_clause(rulebook *b, const rules_clause *cl)
{
    rules_clause *p = realloc(b->clauses, (b->n_clauses + 1) * sizeof *p);
    if (!p)
        return -1;
    b->clauses = p;
    p[b->n_clauses++] = *cl;
    return 0;
}

static void free_clause(rules_clause *cl)
{
    free(cl->id);
    free(cl->name_ja);
    free(cl->name_en);
    free(cl->source);
    free(cl->note);
    for (size_t i = 0; i < cl->n_thresholds; i++)
        free(cl->thresholds[i].text);
    free(cl->thresholds);
}

static int header_from(parse_ctx *c, rulebook *b, const conf_section *s)
{
    bool have_effective = false, duty_given = false, stats_given = false, effective_unknown = false;
    for (size_t i = 0; i < s->n_entries; i++) {
        const conf_entry *e = &s->entries[i];
        int r = 0;
        if (strcmp(e->key, "id") == 0) {
            if (!valid_id(e->value))
                return bad(c, e, "expected an id like jp-2019 (lower-case, digits, '-')", e->value);
            r = set_str(c, &b->id, e);
        } else if (strcmp(e->key, "title.ja") == 0) {
            r = set_str(c, &b->title_ja, e);
        } else if (strcmp(e->key, "title.en") == 0) {
            r = set_str(c, &b->title_en, e);
        } else if (strcmp(e->key, "source") == 0) {
            r = set_str(c, &b->source, e);
        } else if (strcmp(e->key, "note") == 0) {
            r = set_str(c, &b->note, e);
        } else if (strcmp(e->key, "categories_from") == 0) {
            r = set_str(c, &b->categories_from, e);
        } else if (strcmp(e->key, "effective") == 0) {
            if (strcmp(e->value, "unknown") == 0) {
                /* a proposal: sorts after every rulebook in force */
                b->effective = (jst_date){9999, 12, 31};
                effective_unknown = true;
            } else if (!jst_parse_date(e->value, &b->effective)) {
                return bad(c, e, "expected the first day in force as YYYY-MM-DD (JST), or 'unknown' "
                                 "for a rulebook not in force",
                           e->value);
            }
            have_effective = true;
        } else if (strcmp(e->key, "in_force") == 0) {
            if (strcmp(e->value, "yes") == 0)
                b->not_in_force = false;
            else if (strcmp(e->value, "no") == 0)
                b->not_in_force = true;
            else
                return bad(c, e, "expected 'yes' or 'no' (a proposal not in force is never chosen by date)",
                           e->value);
        } else if (strcmp(e->key, "effects") == 0) {
            if (strcmp(e->value, "stop degrade") == 0 || strcmp(e->value, "degrade stop") == 0)
                b->count_degrade = true;
            else if (strcmp(e->value, "stop") == 0)
                b->count_degrade = false;
            else
                return bad(c, e, "expected 'stop degrade' or 'stop'", e->value);
        } else if (strcmp(e->key, "serious_in_quarterly") == 0) {
            return bad(c, e,
                       "replaced by two keys, each with its source: serious_quarterly_duty (must "
                       "a serious accident also be filed on the quarterly form) and "
                       "serious_in_statistics (do the yearly statistics count it in the "
                       "detailed-form total)",
                       NULL);
        } else if ((r = flag_key(c, "serious_quarterly_duty", "yes", "no",
                                 &b->serious_quarterly_duty, &duty_given, e)) != 0 ||
                   (r = flag_key(c, "serious_in_statistics", "yes", "no",
                                 &b->serious_in_statistics, &stats_given, e)) != 0) {
            if (r < 0)
                return -1;
            r = 0;
        } else {
            return bad(c, e, "unknown key in [rulebook]", NULL);
        }
        if (r)
            return -1;
    }
    const char *missing = !b->id ? "id" : !b->title_ja ? "title.ja" : !b->title_en ? "title.en"
                        : !have_effective ? "effective" : !b->source ? "source" : NULL;
    if (missing) {
        error_set(c->err, JIKO_ERR_CONFIG, c->path, s->line, missing, "missing in [rulebook]");
        return -1;
    }
    if (effective_unknown && !b->not_in_force) {
        error_set(c->err, JIKO_ERR_CONFIG, c->path, s->line, "effective",
                  "is 'unknown', which only a rulebook not in force may say ('in_force = no')");
        return -1;
    }
    if (flag_check(c, s, "serious_quarterly_duty", &b->serious_quarterly_duty, duty_given) ||
        flag_check(c, s, "serious_in_statistics", &b->serious_in_statistics, stats_given))
        return -1;
    return 0;
}

/* Words of a list key into a bit mask; -1 (error filled) on an unknown word. */
static int word_mask(parse_ctx *c, const conf_entry *e, const char *const *words, unsigned *mask,
                     const char *expect)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", e->value);
    char *w[12];
    int n = split_words(buf, w, 12);
    if (n <= 0)
        return bad(c, e, expect, e->value);
    for (int k = 0; k < n; k++) {
        int i = 1;
        while (words[i] && strcmp(words[i], w[k]) != 0)
            i++;
        if (!words[i])
            return bad(c, e, expect, w[k]);
        *mask |= 1u << i;
    }
    return 0;
}

/* [osore core_network]: 重大な事故が生ずるおそれがあると認められる事態 */
static int osore_from(parse_ctx *c, rulebook *b, const conf_section *s)
{
    static const char *const functions[] = {"none", "transmission", "switching", "control",
                                            "operation", "subscriber_auth", NULL};
    static const char *const events[] = {"none", "could_not_stop", "failover_failed", NULL};
    if (b->has_osore) {
        error_set(c->err, JIKO_ERR_CONFIG, c->path, s->line, NULL, "[osore] appears twice");
        return -1;
    }
    if (strcmp(s->name, "core_network") != 0) {
        error_set(c->err, JIKO_ERR_CONFIG, c->path, s->line, NULL,
                  "unknown [osore] clause '%s'; expected [osore core_network]", s->name);
        return -1;
    }
    b->has_osore = true;
    rules_osore *o = &b->osore;
    o->line = s->line;
    o->min_operator_users = -1;
    for (size_t i = 0; i < s->n_entries; i++) {
        const conf_entry *e = &s->entries[i];
        int r = 0;
        if (strcmp(e->key, "name.ja") == 0)
            r = set_str(c, &o->name_ja, e);
        else if (strcmp(e->key, "name.en") == 0)
            r = set_str(c, &o->name_en, e);
        else if (strcmp(e->key, "source") == 0)
            r = set_str(c, &o->source, e);
        else if (strcmp(e->key, "note") == 0)
            r = set_str(c, &o->note, e);
        else if (strcmp(e->key, "status") == 0)
            r = set_status(c, &o->unconfirmed, e);
        else if (strcmp(e->key, "operator_users") == 0) {
            if (!parse_users(e->value, &o->min_operator_users))
                return bad(c, e, "expected a number of users, e.g. 30000 (inclusive: 以上)", e->value);
        } else if (strcmp(e->key, "prefectures") == 0) {
            long n;
            char *end;
            n = strtol(e->value, &end, 10);
            if (*end || n < 1 || n > 47)
                return bad(c, e, "expected a number of prefectures, 1 to 47 (inclusive: 以上)", e->value);
            o->min_prefectures = (int)n;
        } else if (strcmp(e->key, "functions") == 0) {
            r = word_mask(c, e, functions, &o->functions,
                          "expected core functions: transmission switching control operation "
                          "subscriber_auth");
        } else if (strcmp(e->key, "events") == 0) {
            r = word_mask(c, e, events, &o->events, "expected events: could_not_stop failover_failed");
        } else {
            return bad(c, e, "unknown key for this section (see docs/rulebook-format.md)", NULL);
        }
        if (r)
            return -1;
    }
    const char *missing = !o->name_ja ? "name.ja" : !o->name_en ? "name.en" : !o->source ? "source"
                        : o->min_operator_users < 0 ? "operator_users"
                        : !o->min_prefectures ? "prefectures" : !o->functions ? "functions"
                        : !o->events ? "events" : NULL;
    if (missing) {
        error_set(c->err, JIKO_ERR_CONFIG, c->path, s->line, missing, "missing in [osore core_network]");
        return -1;
    }
    return 0;
}

/* [deadline prompt|written|quarterly], [simple_form], [minor user_premises] */
static int misc_from(parse_ctx *c, rulebook *b, const conf_section *s)
{
    bool is_deadline = strcmp(s->type, "deadline") == 0;
    char **source = NULL;
    rules_flag *moves = NULL;
    bool moves_given = false;
    /* each deadline: whether it was given already, its source and its holiday rule */
    const struct {
        const char *name;
        int *count;       /* the period's length; NULL for the prompt report */
        const char *unit; /* its unit */
        char **source;
        rules_flag *moves;
    } dl[] = {
        {"prompt", NULL, NULL, &b->prompt_source, &b->prompt_moves},
        {"written", &b->written_days, "days", &b->written_source, &b->written_moves},
        {"quarterly", &b->quarterly_months, "months", &b->quarterly_source, &b->quarterly_moves},
        {"osore", &b->osore_days, "days", &b->osore_source, &b->osore_moves},
        {"secrecy_leak", &b->secrecy_days, "days", &b->secrecy_source, &b->secrecy_moves},
    };
    size_t di = 0;
    while (is_deadline && di < sizeof dl / sizeof dl[0] && strcmp(s->name, dl[di].name) != 0)
        di++;
    if (is_deadline && di < sizeof dl / sizeof dl[0]) {
        if (dl[di].count ? *dl[di].count != 0 : b->has_prompt)
            goto twice;
        b->has_prompt |= di == 0;
        source = dl[di].source;
        moves = dl[di].moves;
    } else if (is_deadline) {
        error_set(c->err, JIKO_ERR_CONFIG, c->path, s->line, NULL,
                  "unknown deadline '%s'; expected prompt, written, quarterly, osore or secrecy_leak",
                  s->name);
        return -1;
    } else if (strcmp(s->type, "simple_form") == 0) {
        if (b->has_simple_form)
            goto twice;
        b->has_simple_form = true;
        source = &b->simple_form_source;
    } else {
        if (strcmp(s->name, "user_premises") != 0) {
            error_set(c->err, JIKO_ERR_CONFIG, c->path, s->line, NULL,
                      "unknown [minor] clause '%s'; expected [minor user_premises]", s->name);
            return -1;
        }
        if (b->has_minor_premises)
            goto twice;
        b->has_minor_premises = true;
        source = &b->minor_source;
    }
    for (size_t i = 0; i < s->n_entries; i++) {
        const conf_entry *e = &s->entries[i];
        if (strcmp(e->key, "source") == 0) {
            if (set_str(c, source, e))
                return -1;
        } else if (strcmp(e->key, "note") == 0 || strcmp(e->key, "name.ja") == 0 ||
                   strcmp(e->key, "name.en") == 0) {
            /* descriptive only */
        } else if (is_deadline && moves && strncmp(e->key, "holidays", 8) == 0) {
            int r = flag_key(c, "holidays", "move", "stay", moves, &moves_given, e);
            if (r < 0)
                return -1;
            if (r == 0)
                return bad(c, e, "unknown key for this section (see docs/rulebook-format.md)", NULL);
            if (moves == &b->prompt_moves && moves->on)
                return bad(c, e,
                           "the prompt report is owed without delay (速やかに), not within a "
                           "period, so 行政機関の休日に関する法律 第2条 cannot move it: expected "
                           "'stay'",
                           e->value);
        } else if (is_deadline && strcmp(e->key, "within") == 0) {
            int n = 0;
            char unit[16] = "";
            if (strcmp(s->name, "prompt") == 0) {
                if (strcmp(e->value, "without_delay") != 0)
                    return bad(c, e, "expected 'without_delay' (速やかに)", e->value);
            } else if (sscanf(e->value, "%d %15s", &n, unit) != 2 || n < 1 || n > 366) {
                return bad(c, e, "expected a count and a unit, e.g. '30 days' or '2 months'",
                           e->value);
            } else if (strcmp(unit, dl[di].unit) != 0) {
                char want[64];
                snprintf(want, sizeof want, "this deadline is counted in %s", dl[di].unit);
                return bad(c, e, want, e->value);
            } else {
                *dl[di].count = n;
            }
        } else if (is_deadline && strcmp(e->key, "from") == 0) {
            if (strcmp(s->name, "written") == 0) {
                if (strcmp(e->value, "occurrence_day") == 0)
                    b->written_civil_code_140 = true;
                else
                    return bad(c, e, "expected 'occurrence_day'", e->value);
            } else if (strcmp(s->name, "quarterly") == 0) {
                /* fiscal_year_end: the periodic report is yearly (a proposal of 2025) */
                if (strcmp(e->value, "fiscal_year_end") == 0)
                    b->periodic_yearly = true;
                else if (strcmp(e->value, "quarter_end") != 0)
                    return bad(c, e, "expected 'quarter_end' or 'fiscal_year_end'", e->value);
            } else if (strcmp(s->name, "osore") == 0) {
                if (strcmp(e->value, "noticed_day") != 0)
                    return bad(c, e, "expected 'noticed_day' (覚知した日)", e->value);
            } else if (strcmp(s->name, "secrecy_leak") == 0) {
                if (strcmp(e->value, "known_day") != 0)
                    return bad(c, e, "expected 'known_day' (漏えいを知った日)", e->value);
            } else {
                return bad(c, e, "a prompt report has no 'from'", NULL);
            }
        } else if (strcmp(s->type, "minor") == 0 && strcmp(e->key, "when") == 0) {
            if (strcmp(e->value, "within_user_premises") != 0)
                return bad(c, e, "expected 'within_user_premises'", e->value);
        } else if (strcmp(s->type, "simple_form") == 0 && strcmp(e->key, "equipment") == 0) {
            if (strcmp(e->value, "catalog") != 0)
                return bad(c, e, "expected 'catalog' (the equipment catalog's simple_form flag)",
                           e->value);
        } else {
            return bad(c, e, "unknown key for this section (see docs/rulebook-format.md)", NULL);
        }
    }
    if (moves && flag_check(c, s, "holidays", moves, moves_given))
        return -1;
    if (!*source) {
        error_set(c->err, JIKO_ERR_CONFIG, c->path, s->line, "source", "missing in [%s %s]", s->type, s->name);
        return -1;
    }
    if (is_deadline && dl[di].count && !*dl[di].count) {
        error_set(c->err, JIKO_ERR_CONFIG, c->path, s->line, "within", "missing: e.g. 'within = %s'",
                  strcmp(dl[di].unit, "days") == 0 ? "30 days" : "2 months");
        return -1;
    }
    return 0;
twice:
    error_set(c->err, JIKO_ERR_CONFIG, c->path, s->line, NULL, "[%s%s%s] appears twice", s->type,
              s->name[0] ? " " : "", s->name);
    return -1;
}

int rules_parse(rulebook *b, const conf_file *f, jiko_error *err)
{
    memset(b, 0, sizeof *b);
    b->all_serious = -1;
    parse_ctx c = {f->path, err};
    if (!(b->path = strdup(f->path))) {
        error_nomem(err, "reading a rulebook");
        goto fail;
    }
    if (!f->n_sections || strcmp(f->sections[0].type, "rulebook") != 0) {
        error_set(err, JIKO_ERR_CONFIG, f->path, f->n_sections ? f->sections[0].line : 1, NULL,
                  "a rulebook must start with a [rulebook] section");
        goto fail;
    }
    if (f->sections[0].name[0]) {
        error_set(err, JIKO_ERR_CONFIG, f->path, f->sections[0].line, NULL, "[rulebook] takes no name");
        goto fail;
    }
    if (header_from(&c, b, &f->sections[0]))
        goto fail;
    for (size_t i = 1; i < f->n_sections; i++) {
        const conf_section *s = &f->sections[i];
        rules_kind kind;
        if (strcmp(s->type, "serious") == 0)
            kind = RULES_SERIOUS;
        else if (strcmp(s->type, "critical") == 0)
            kind = RULES_CRITICAL;
        else if (strcmp(s->type, "quarterly") == 0)
            kind = RULES_QUARTERLY;
        else if (strcmp(s->type, "deadline") == 0 || strcmp(s->type, "simple_form") == 0 ||
                 strcmp(s->type, "minor") == 0) {
            if (misc_from(&c, b, s))
                goto fail;
            continue;
        } else if (strcmp(s->type, "osore") == 0) {
            if (osore_from(&c, b, s))
                goto fail;
            continue;
        } else {
            error_set(err, JIKO_ERR_CONFIG, f->path, s->line, NULL,
                      "unknown section [%s]; expected rulebook, serious, critical, quarterly, "
                      "deadline, simple_form, minor or osore",
                      s->type);
            goto fail;
        }
        rules_clause cl;
        if (clause_from(&c, &cl, s, kind)) {
            free_clause(&cl);
            goto fail;
        }
        for (size_t k = 0; k < b->n_clauses; k++)
            if (b->clauses[k].kind == kind && strcmp(b->clauses[k].id, cl.id) == 0) {
                error_set(err, JIKO_ERR_CONFIG, f->path, s->line, NULL, "[%s %s] appears twice (first on line %ld)",
                          s->type, cl.id, b->clauses[k].line);
                free_clause(&cl);
                goto fail;
            }
        if (add_clause(b, &cl)) {
            free_clause(&cl);
            error_set(err, JIKO_ERR_NOMEM, f->path, s->line, NULL, "out of memory");
            goto fail;
        }
    }
    /* A serious accident is reported twice over; both deadlines must be there. */
    bool any_serious = false, any_quarterly = false;
    for (size_t k = 0; k < b->n_clauses; k++) {
        any_serious |= b->clauses[k].kind != RULES_QUARTERLY;
        any_quarterly |= b->clauses[k].kind == RULES_QUARTERLY;
    }
    if (any_serious && (!b->has_prompt || !b->written_days)) {
        error_set(err, JIKO_ERR_CONFIG, f->path, f->sections[0].line, NULL,
                  "serious clauses need [deadline prompt] and [deadline written]");
        goto fail;
    }
    if (b->has_osore && !b->osore_days) {
        error_set(err, JIKO_ERR_CONFIG, f->path, b->osore.line, NULL,
                  "[osore core_network] needs [deadline osore]");
        goto fail;
    }
    if (any_quarterly && !b->quarterly_months) {
        error_set(err, JIKO_ERR_CONFIG, f->path, f->sections[0].line, NULL,
                  "quarterly clauses need [deadline quarterly]");
        goto fail;
    }
    return 0;
fail:
    rules_free_book(b);
    return -1;
}

void rules_free_book(rulebook *b)
{
    free(b->id);
    free(b->title_ja);
    free(b->title_en);
    free(b->source);
    free(b->note);
    free(b->path);
    free(b->categories_from);
    for (size_t i = 0; i < b->n_clauses; i++)
        free_clause(&b->clauses[i]);
    free(b->clauses);
    free(b->prompt_source);
    free(b->written_source);
    free(b->quarterly_source);
    free(b->prompt_moves.source);
    free(b->written_moves.source);
    free(b->quarterly_moves.source);
    free(b->serious_quarterly_duty.source);
    free(b->serious_in_statistics.source);
    free(b->osore.name_ja);
    free(b->osore.name_en);
    free(b->osore.source);
    free(b->osore.note);
    free(b->osore_source);
    free(b->osore_moves.source);
    free(b->secrecy_source);
    free(b->secrecy_moves.source);
    free(b->simple_form_source);
    free(b->minor_source);
    free(b->svc_serious);
    memset(b, 0, sizeof *b);
}

void rules_free(rules_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        rules_free_book(&set->books[i]);
    free(set->books);
    memset(set, 0, sizeof *set);
}

const char *rules_effective_text(const rulebook *b, char *buf, size_t size)
{
    if (b->not_in_force && b->effective.y == 9999) {
        snprintf(buf, size, "unknown");
        return buf;
    }
    return jst_format_date(b->effective, buf, size);
}

const rulebook *rules_find(const rules_set *set, const char *id)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->books[i].id, id) == 0)
            return &set->books[i];
    return NULL;
}

const rulebook *rules_select(const rules_set *set, int64_t ms)
{
    jst_date d = jst_date_of(ms);
    const rulebook *best = NULL;
    for (size_t i = 0; i < set->n; i++)
        if (!set->books[i].not_in_force && jst_compare_dates(set->books[i].effective, d) <= 0)
            best = &set->books[i];
    return best;
}

/* ---- resolution against the catalog ------------------------------------ */

static const char *category_under(const rules_set *set, const catalog *cat, int svc,
                                  const rulebook *b)
{
    /* Follow categories_from a bounded number of steps (cycles are refused
     * here rather than looping). */
    for (int depth = 0; b && depth < 16; depth++) {
        const char *c = catalog_category_override(cat, svc, b->id);
        if (c)
            return c;
        if (!b->categories_from)
            break;
        b = rules_find(set, b->categories_from);
    }
    return cat->services[svc].category;
}

static int resolve(rules_set *set, const catalog *cat, jiko_error *err)
{
    for (size_t i = 0; i < set->n; i++) {
        rulebook *b = &set->books[i];
        if (b->categories_from && !rules_find(set, b->categories_from)) {
            error_set(err, JIKO_ERR_CONFIG, b->path, 0, "categories_from", "no rulebook '%s' is loaded",
                      b->categories_from);
            return -1;
        }
        free(b->svc_serious);
        b->n_svc = cat->n_services;
        b->svc_serious = malloc((cat->n_services ? cat->n_services : 1) * sizeof *b->svc_serious);
        if (!b->svc_serious) {
            error_set(err, JIKO_ERR_NOMEM, b->path, 0, NULL, "out of memory");
            return -1;
        }
        b->all_serious = -1;
        bool by_category = false;
        for (size_t k = 0; k < b->n_clauses; k++) {
            if (b->clauses[k].kind != RULES_SERIOUS)
                continue;
            if (b->clauses[k].all_services)
                b->all_serious = (int)k;
            else
                by_category = true;
        }
        for (size_t s = 0; s < cat->n_services; s++) {
            b->svc_serious[s] = -1;
            if (!by_category)
                continue;
            const char *c = category_under(set, cat, (int)s, b);
            for (size_t k = 0; k < b->n_clauses; k++)
                if (b->clauses[k].kind == RULES_SERIOUS && !b->clauses[k].all_services &&
                    strcmp(b->clauses[k].id, c) == 0)
                    b->svc_serious[s] = (int)k;
            if (b->svc_serious[s] < 0) {
                error_set(err, JIKO_ERR_CONFIG, b->path, 0, NULL,
                          "catalog service '%s' is in category '%s' under %s, but the rulebook "
                          "has no [serious %s]",
                          cat->services[s].code, c, b->id, c);
                return -1;
            }
        }
    }
    return 0;
}

static int cmp_books(const void *a, const void *b)
{
    return jst_compare_dates(((const rulebook *)a)->effective, ((const rulebook *)b)->effective);
}

static int insert_book(rules_set *set, rulebook *b, jiko_error *err)
{
    for (size_t i = 0; i < set->n; i++) {
        if (strcmp(set->books[i].id, b->id) == 0) {
            error_set(err, JIKO_ERR_CONFIG, b->path, 0, "id", "rulebook '%s' is also defined in %s", b->id,
                      set->books[i].path);
            rules_free_book(b);
            return -1;
        }
        if (!b->not_in_force && !set->books[i].not_in_force &&
            jst_compare_dates(set->books[i].effective, b->effective) == 0) {
            error_set(err, JIKO_ERR_CONFIG, b->path, 0, "effective", "%s takes effect on the same day as %s",
                      b->id, set->books[i].id);
            rules_free_book(b);
            return -1;
        }
    }
    rulebook *p = realloc(set->books, (set->n + 1) * sizeof *p);
    if (!p) {
        rules_free_book(b);
        error_set(err, JIKO_ERR_NOMEM, NULL, 0, NULL, "out of memory");
        return -1;
    }
    set->books = p;
    p[set->n++] = *b;
    memset(b, 0, sizeof *b);
    qsort(set->books, set->n, sizeof *set->books, cmp_books);
    /* A rulebook is in force until the day before the next one in force;
     * proposals (not in force) end nothing and have no period of their own. */
    for (size_t i = 0; i < set->n; i++) {
        rulebook *x = &set->books[i];
        x->has_end = false;
        if (x->not_in_force)
            continue;
        for (size_t k = i + 1; k < set->n; k++)
            if (!set->books[k].not_in_force) {
                x->has_end = true;
                x->end = jst_add_days(set->books[k].effective, -1);
                break;
            }
    }
    return 0;
}

int rules_add(rules_set *set, rulebook *b, const catalog *cat, jiko_error *err)
{
    if (insert_book(set, b, err))
        return -1;
    return resolve(set, cat, err);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int rules_load_dir(rules_set *set, const char *dir, const catalog *cat, jiko_error *err)
{
    memset(set, 0, sizeof *set);
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        error_set(err, e == ENOMEM ? JIKO_ERR_NOMEM : JIKO_ERR_CONFIG, dir, 0, NULL,
                  "cannot open the rulebook directory: %s", strerror(e));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 7 || strcmp(de->d_name + l - 6, ".rules") != 0 || de->d_name[0] == '.')
            continue;
        char **p = realloc(names, (n + 1) * sizeof *p);
        if (!p || !(p[n] = strdup(de->d_name))) {
            names = p ? p : names;
            error_nomem(err, "listing the rulebooks");
            rc = -1;
            break;
        }
        names = p;
        n++;
    }
    closedir(d);
    if (rc == 0 && n == 0) {
        error_set(err, JIKO_ERR_CONFIG, dir, 0, NULL, "no *.rules files found");
        rc = -1;
    }
    if (rc == 0)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        conf_file f;
        rulebook b;
        if (conf_load(path, &f, err)) {
            rc = -1;
            break;
        }
        rc = rules_parse(&b, &f, err);
        conf_free(&f);
        if (rc)
            break;
        /* The file name and the id must agree, so "--rulebook jp-2019" finds
         * rules/jp-2019.rules and nothing else. */
        size_t nl = strlen(names[i]) - 6;
        if (strlen(b.id) != nl || strncmp(b.id, names[i], nl) != 0) {
            error_set(err, JIKO_ERR_CONFIG, path, 0, "id", "id '%s' does not match the file name", b.id);
            rules_free_book(&b);
            rc = -1;
            break;
        }
        rc = insert_book(set, &b, err);
    }
    if (rc == 0)
        rc = resolve(set, cat, err);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc)
        rules_free(set);
    return rc;
}
