/*
 * live_conf.c — the [watch NAME] and [live] sections (live_conf.h).
 */
#include "live_conf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"

#define MS_PER_MIN 60000

static int bad(const conf_file *f, const conf_entry *e, jiko_error *err, const char *what);

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
    c->history = 720; /* 12 h at one sample a minute, 3 h at 15 s: 11 KiB a series */
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
    free(w->population);
    /* n_wholesale may come from wholesale_users alone (a section refused
     * for the missing wholesale_to) */
    for (size_t k = 0; w->wholesale_to && k < w->n_wholesale; k++)
        free(w->wholesale_to[k]);
    free(w->wholesale_to);
    free(w->wholesale_users);
}

/* A comma-separated list into its trimmed items (at most max); the count,
 * or -1 when an item is empty or there are too many. */
static int split_list(const char *v, char items[][256], int max)
{
    int n = 0;
    const char *p = v;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (!len || n == max || len >= 256)
            return -1;
        memcpy(items[n], p, len);
        items[n++][len] = '\0';
        if (!e)
            return n;
        p = e + 1;
    }
}

static int wholesale_key(live_watch *w, const conf_file *f, const conf_entry *e, bool users,
                         jiko_error *err)
{
    char items[LIVE_MAX_WHOLESALE][256];
    int n = split_list(e->value, items, LIVE_MAX_WHOLESALE);
    if (n < 0)
        return bad(f, e, err,
                   users ? "a comma-separated list of numbers of users"
                         : "a comma-separated list of up to 32 operator names");
    if (users ? w->wholesale_users != NULL : w->wholesale_to != NULL) {
        error_set(err, JIKO_ERR_CONFIG, f->path, e->line, e->key, "given twice in one section");
        return -1;
    }
    if (users) {
        w->wholesale_users = calloc((size_t)n, sizeof *w->wholesale_users);
        if (!w->wholesale_users) {
            error_nomem(err, "reading the configuration");
            return -1;
        }
        for (int k = 0; k < n; k++) {
            long v;
            if (!num_parse_long(items[k], 0, 1000000000L, &v))
                return bad(f, e, err, "a comma-separated list of numbers of users");
            w->wholesale_users[k] = v;
        }
        if (!w->n_wholesale)
            w->n_wholesale = (size_t)n;
        else if (w->n_wholesale != (size_t)n)
            return bad(f, e, err, "as many numbers as wholesale_to has operators");
        return 0;
    }
    w->wholesale_to = calloc((size_t)n, sizeof *w->wholesale_to);
    if (!w->wholesale_to) {
        error_nomem(err, "reading the configuration");
        return -1;
    }
    if (w->n_wholesale && w->n_wholesale != (size_t)n) {
        w->n_wholesale = 0;
        return bad(f, e, err, "as many operators as wholesale_users has numbers");
    }
    w->n_wholesale = (size_t)n;
    for (int k = 0; k < n; k++) {
        for (int j = 0; j < k; j++)
            if (strcmp(items[j], items[k]) == 0)
                return bad(f, e, err, "distinct operators");
        if (!(w->wholesale_to[k] = strdup(items[k]))) {
            error_nomem(err, "reading the configuration");
            return -1;
        }
    }
    return 0;
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
    if (strcmp(k, "population") == 0)
        return dup_value(&w->population, f, e, err);
    if (strcmp(k, "wholesale_to") == 0 || strcmp(k, "wholesale_users") == 0)
        return wholesale_key(w, f, e, k[10] == 'u', err);
    if (strcmp(k, "users") == 0) {
        long v;
        if (!num_parse_long(e->value, 0, 1000000000L, &v))
            return bad(f, e, err, "a number of users from 0 to 1,000,000,000");
        w->users = v;
        return 0;
    }
    if (strcmp(k, "detect") == 0) {
        if (strcmp(e->value, "anomaly") == 0)
            w->detect = LIVE_DETECT_ANOMALY;
        else if (strcmp(e->value, "capacity") == 0)
            w->detect = LIVE_DETECT_CAPACITY;
        else if (strcmp(e->value, "both") == 0)
            w->detect = LIVE_DETECT_BOTH;
        else
            return bad(f, e, err, "anomaly, capacity or both");
        return 0;
    }
    if (strcmp(k, "limit") == 0) {
        double v;
        if (!num_parse_double(e->value, &v) || !(v > 0) || !isfinite(v))
            return bad(f, e, err, "the value at exhaustion, a number above 0");
        w->limit = v;
        return 0;
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
              "unknown key in [watch]; expected match, operator, service, users, detect, limit, "
              "effect, equipment, area, population, wholesale_to or wholesale_users "
              "(docs/watch.md)");
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
    if ((w->detect & LIVE_DETECT_CAPACITY) && !(w->limit > 0)) {
        error_set(err, JIKO_ERR_CONFIG, f->path, s->line, "limit",
                  "[watch %s] needs 'limit = ...' (the value at exhaustion) for detect = %s",
                  s->name, w->detect == LIVE_DETECT_BOTH ? "both" : "capacity");
        return -1;
    }
    if (!w->population && !(w->population = strdup(w->name))) {
        error_nomem(err, "reading the configuration");
        return -1;
    }
    if (w->n_wholesale && (!w->wholesale_to || !w->wholesale_users)) {
        const char *k = w->wholesale_to ? "wholesale_users" : "wholesale_to";
        error_set(err, JIKO_ERR_CONFIG, f->path, s->line, k,
                  "[watch %s] needs '%s = ...': wholesale_to and wholesale_users go together, "
                  "one number of users per receiving operator",
                  s->name, k);
        return -1;
    }
    for (size_t k = 0; k < w->n_wholesale; k++)
        if (strcmp(w->wholesale_to[k], w->op) == 0) {
            error_set(err, JIKO_ERR_CONFIG, f->path, s->line, "wholesale_to",
                      "[watch %s]: the operator '%s' cannot receive its own service wholesale",
                      s->name, w->op);
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
    if (strcmp(k, "history") == 0) {
        if (!num_parse_long(e->value, 0, 100000, &v))
            return bad(f, e, err, "a number of samples from 0 to 100000");
        c->history = (int)v;
        return 0;
    }
    if (strcmp(k, "checkpoint_s") == 0) {
        if (!num_parse_long(e->value, 1, 86400, &v))
            return bad(f, e, err, "a number of seconds from 1 to 86400");
        c->checkpoint_ms = (int64_t)v * 1000;
        return 0;
    }
    if (strcmp(k, "detector") == 0) {
        if (strcmp(e->value, "light") != 0 && strcmp(e->value, "full") != 0)
            return bad(f, e, err, "light or full");
        c->detector_full = strcmp(e->value, "full") == 0;
        return 0;
    }
    if (strcmp(k, "clock") == 0) {
        if (strcmp(e->value, "wall") != 0 && strcmp(e->value, "samples") != 0)
            return bad(f, e, err, "wall or samples");
        c->clock_samples = strcmp(e->value, "samples") == 0;
        return 0;
    }
    if (strcmp(k, "checkpoint") == 0) {
        free(c->checkpoint);
        c->checkpoint = NULL;
        return dup_value(&c->checkpoint, f, e, err);
    }
    error_set(err, JIKO_ERR_CONFIG, f->path, e->line, k,
              "unknown key in [live]; expected group_window_min, lead_minutes, close_samples, "
              "close_min, max_series, checkpoint, checkpoint_s, clock, history or detector "
              "(docs/watch.md)");
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
