/*
 * live_conf.c — the [watch NAME] and [live] sections (live_conf.h).
 */
#include "live_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"

#define MS_PER_MIN 60000

void live_conf_default(live_conf *c)
{
    memset(c, 0, sizeof *c);
    c->group_window_ms = 30 * (int64_t)MS_PER_MIN;
    c->lead_ms[0] = 60 * (int64_t)MS_PER_MIN;
    c->lead_ms[1] = 30 * (int64_t)MS_PER_MIN;
    c->lead_ms[2] = 10 * (int64_t)MS_PER_MIN;
    c->n_leads = 3;
    c->close_samples = 3;
    c->close_ms = 5 * (int64_t)MS_PER_MIN;
    c->max_series = 100000;
    c->checkpoint_ms = 60000;
}

static void watch_free(live_watch *w)
{
    free(w->name);
    match_free(w->match);
    free(w->match_text);
    free(w->op);
    free(w->service);
    free(w->equipment);
    free(w->area);
}

void live_conf_free(live_conf *c)
{
    for (size_t i = 0; i < c->n_watches; i++)
        watch_free(&c->watches[i]);
    free(c->watches);
    free(c->checkpoint);
    memset(c, 0, sizeof *c);
}

static int bad(const conf_file *f, const conf_entry *e, jiko_error *err, const char *what)
{
    error_set(err, JIKO_ERR_CONFIG, f->path, e->line, e->key, "expected %s, got '%s'", what,
              e->value);
    return -1;
}

static int dup_value(char **dst, const conf_file *f, const conf_entry *e, jiko_error *err)
{
    if (*dst) {
        error_set(err, JIKO_ERR_CONFIG, f->path, e->line, e->key, "given twice in one section");
        return -1;
    }
    if (!e->value[0])
        return bad(f, e, err, "a value");
    *dst = strdup(e->value);
    if (!*dst) {
        error_nomem(err, "reading the configuration");
        return -1;
    }
    return 0;
}

static int watch_key(live_watch *w, const conf_file *f, const conf_entry *e, const catalog *cat,
                     jiko_error *err)
{
    const char *k = e->key;
    if (strcmp(k, "match") == 0) {
        if (w->match) {
            error_set(err, JIKO_ERR_CONFIG, f->path, e->line, k, "given twice in one section");
            return -1;
        }
        if (match_parse(e->value, f->path, e->line, k, &w->match, err))
            return -1;
        return dup_value(&w->match_text, f, e, err);
    }
    if (strcmp(k, "operator") == 0)
        return dup_value(&w->op, f, e, err);
    if (strcmp(k, "service") == 0) {
        if (catalog_service_index(cat, e->value, strlen(e->value)) < 0)
            return bad(f, e, err, "a service code of the catalog (catalogs/services.conf)");
        return dup_value(&w->service, f, e, err);
    }
    if (strcmp(k, "equipment") == 0) {
        if (catalog_equipment_index(cat, e->value, strlen(e->value)) < 0)
            return bad(f, e, err, "an equipment code of the catalog (catalogs/equipment.conf)");
        return dup_value(&w->equipment, f, e, err);
    }
    if (strcmp(k, "area") == 0)
        return dup_value(&w->area, f, e, err);
    if (strcmp(k, "users") == 0) {
        long v;
        if (!num_parse_long(e->value, 0, 1000000000L, &v))
            return bad(f, e, err, "a number of users from 0 to 1,000,000,000");
        w->users = v;
        return 0;
    }
    if (strcmp(k, "detect") == 0) {
        if (strcmp(e->value, "anomaly") == 0) {
            w->detect = LIVE_DETECT_ANOMALY;
            return 0;
        }
        if (strcmp(e->value, "capacity") == 0 || strcmp(e->value, "both") == 0)
            return bad(f, e, err, "anomaly (capacity forecasts do not open incidents yet)");
        return bad(f, e, err, "anomaly");
    }
    if (strcmp(k, "effect") == 0) {
        if (strcmp(e->value, "stop") == 0)
            w->effect = INCIDENT_STOP;
        else if (strcmp(e->value, "degrade") == 0)
            w->effect = INCIDENT_DEGRADE;
        else
            return bad(f, e, err, "stop or degrade");
        return 0;
    }
    error_set(err, JIKO_ERR_CONFIG, f->path, e->line, k,
              "unknown key in [watch]; expected match, operator, service, users, detect, effect, "
              "equipment or area (docs/watch.md)");
    return -1;
}

static int load_watch(live_conf *c, const conf_file *f, const conf_section *s, const catalog *cat,
                      jiko_error *err)
{
    if (!s->name[0]) {
        error_set(err, JIKO_ERR_CONFIG, f->path, s->line, NULL,
                  "a [watch] section needs a name: [watch NAME]");
        return -1;
    }
    for (size_t i = 0; i < c->n_watches; i++)
        if (strcmp(c->watches[i].name, s->name) == 0) {
            error_set(err, JIKO_ERR_CONFIG, f->path, s->line, NULL,
                      "[watch %s] is given twice (first at line %ld)", s->name,
                      c->watches[i].line);
            return -1;
        }
    live_watch *grown = realloc(c->watches, (c->n_watches + 1) * sizeof *grown);
    if (!grown) {
        error_nomem(err, "reading the configuration");
        return -1;
    }
    c->watches = grown;
    live_watch *w = &c->watches[c->n_watches];
    memset(w, 0, sizeof *w);
    w->users = -1;
    w->detect = LIVE_DETECT_ANOMALY;
    w->effect = INCIDENT_DEGRADE;
    w->line = s->line;
    w->name = strdup(s->name);
    if (!w->name) {
        error_nomem(err, "reading the configuration");
        return -1;
    }
    c->n_watches++; /* from here on live_conf_free releases it */
    for (size_t j = 0; j < s->n_entries; j++)
        if (watch_key(w, f, &s->entries[j], cat, err))
            return -1;
    const char *missing = !w->match      ? "match"
                          : !w->op       ? "operator"
                          : !w->service  ? "service"
                          : w->users < 0 ? "users"
                                         : NULL;
    if (missing) {
        error_set(err, JIKO_ERR_CONFIG, f->path, s->line, missing,
                  "[watch %s] needs '%s = ...' (match, operator, service and users are required)",
                  s->name, missing);
        return -1;
    }
    return 0;
}

static int minutes(const conf_file *f, const conf_entry *e, long min, long max, int64_t *out,
                   jiko_error *err)
{
    long v;
    if (!num_parse_long(e->value, min, max, &v)) {
        char what[64];
        snprintf(what, sizeof what, "a number of minutes from %ld to %ld", min, max);
        return bad(f, e, err, what);
    }
    *out = (int64_t)v * MS_PER_MIN;
    return 0;
}

static int cmp_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

static int leads(live_conf *c, const conf_file *f, const conf_entry *e, jiko_error *err)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", e->value);
    int n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        long v;
        if (n == LIVE_MAX_LEADS || !num_parse_long(t, 1, 7 * 24 * 60, &v))
            return bad(f, e, err,
                       "up to 8 lead times in minutes from 1 to 10080, separated by commas");
        for (int i = 0; i < n; i++)
            if (c->lead_ms[i] == (int64_t)v * MS_PER_MIN)
                return bad(f, e, err, "distinct lead times");
        c->lead_ms[n++] = (int64_t)v * MS_PER_MIN;
    }
    c->n_leads = n;
    qsort(c->lead_ms, (size_t)n, sizeof c->lead_ms[0], cmp_desc);
    return 0;
}

static int live_key(live_conf *c, const conf_file *f, const conf_entry *e, jiko_error *err)
{
    const char *k = e->key;
    long v;
    if (strcmp(k, "group_window_min") == 0)
        return minutes(f, e, 0, 24 * 60, &c->group_window_ms, err);
    if (strcmp(k, "close_min") == 0)
        return minutes(f, e, 0, 24 * 60, &c->close_ms, err);
    if (strcmp(k, "lead_minutes") == 0)
        return leads(c, f, e, err);
    if (strcmp(k, "close_samples") == 0) {
        if (!num_parse_long(e->value, 1, 10000, &v))
            return bad(f, e, err, "a number of samples from 1 to 10000");
        c->close_samples = (int)v;
        return 0;
    }
    if (strcmp(k, "max_series") == 0) {
        if (!num_parse_long(e->value, 1, 100000000L, &v))
            return bad(f, e, err, "a number of series from 1 to 100,000,000");
        c->max_series = (size_t)v;
        return 0;
    }
    if (strcmp(k, "checkpoint_s") == 0) {
        if (!num_parse_long(e->value, 1, 86400, &v))
            return bad(f, e, err, "a number of seconds from 1 to 86400");
        c->checkpoint_ms = (int64_t)v * 1000;
        return 0;
    }
    if (strcmp(k, "checkpoint") == 0) {
        free(c->checkpoint);
        c->checkpoint = NULL;
        return dup_value(&c->checkpoint, f, e, err);
    }
    error_set(err, JIKO_ERR_CONFIG, f->path, e->line, k,
              "unknown key in [live]; expected group_window_min, lead_minutes, close_samples, "
              "close_min, max_series, checkpoint or checkpoint_s (docs/watch.md)");
    return -1;
}

int live_conf_load(live_conf *c, const conf_file *f, const catalog *cat, jiko_error *err)
{
    bool seen_live = false;
    for (size_t i = 0; i < f->n_sections; i++) {
        const conf_section *s = &f->sections[i];
        if (strcmp(s->type, "watch") == 0) {
            if (load_watch(c, f, s, cat, err))
                return -1;
        } else if (strcmp(s->type, "live") == 0) {
            if (s->name[0] || seen_live) {
                error_set(err, JIKO_ERR_CONFIG, f->path, s->line, NULL,
                          s->name[0] ? "[live] takes no name" : "[live] is given twice");
                return -1;
            }
            seen_live = true;
            for (size_t j = 0; j < s->n_entries; j++)
                if (live_key(c, f, &s->entries[j], err))
                    return -1;
        }
    }
    return 0;
}
