/*
 * engine.c — the live engine (engine.h).
 */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect.h"
#include "intake.h"
#include "jst.h"
#include "series.h"
#include "strmap.h"

/* An incident id: "live-" + the JST start "20211004-0100" + "-" + the
 * first watch's name (unique per operator: a watch opens at most one
 * incident at a time), and a "-N" when that is taken. */
#define LIVE_ID_MAX 192
/* deadline.soon: this long before the written report's last day ends */
#define LIVE_DEADLINE_SOON_MS (3 * JST_MS_PER_DAY)

typedef struct live_inc live_inc;

typedef struct live_series {
    const char *key; /* the map's copy: operator, 0x1f, series name */
    int watch;       /* index in conf->watches, -1: none selects it */
    bool alert;      /* an Alertmanager alert, not a detected series */
    detect_state st;
    int normal_run;          /* consecutive normal samples while attached */
    int64_t first_normal_ms; /* first of them */
    live_inc *inc;           /* the incident it holds open, or NULL */
} live_series;

struct live_inc {
    char *op, *id;
    int64_t started_ms, ended_ms; /* ended: -1 while ongoing */
    int64_t last_anomaly_ms;
    int64_t end_candidate_ms; /* latest first-normal time of the series that left */
    int *watches;             /* the watches that joined (indices) */
    size_t n_watches;
    long pending;             /* series attached and not yet normal long enough */
    json_t *record;           /* as last stored (NULL: not stored yet) */
    json_t *mine;             /* the engine's own fields as it last wrote them */
    int version;
    bool dirty, fresh;        /* to store; never stored */
    bool closing;             /* ended since it was last stored */
    char reason[256];
    uint32_t leads_fired;     /* bit i: lead_ms[i] sent */
    bool serious_sent, deadline_sent;
    live_inc *next;
};

struct live_engine {
    live_env env;
    pthread_mutex_t mu;
    strmap series; /* key -> live_series */
    size_t n_series;
    live_inc *incs; /* open ones, and closed serious ones until deadline.soon */
    live_stats stats;
    char *scratch; /* series names are built here */
    size_t scratch_cap;
    detect_config dcfg;
};

struct live_batch {
    live_engine *e;
    const char *op;
};

static const char *const event_names[LIVE_EV_COUNT] = {
    "incident.opened", "incident.updated", "incident.serious_soon",
    "incident.serious", "incident.closed", "deadline.soon",
};

const char *live_event_name(live_event_type t)
{
    return t >= 0 && t < LIVE_EV_COUNT ? event_names[t] : "?";
}

/* ---- incidents ---- */

static void inc_free(live_inc *i)
{
    free(i->op);
    free(i->id);
    free(i->watches);
    json_decref(i->record);
    json_decref(i->mine);
    free(i);
}

static live_inc *inc_find_open(live_engine *e, const char *op, int64_t t)
{
    for (live_inc *i = e->incs; i; i = i->next)
        if (i->ended_ms < 0 && strcmp(i->op, op) == 0 &&
            (i->pending > 0 || t - i->last_anomaly_ms <= e->env.conf->group_window_ms))
            return i;
    return NULL;
}

/* The incident is to be stored, with this reason for its new version.
 * Within one batch the first reason stays (an incident opened and grown
 * in one request is "opened"), except that closing is always said. */
__attribute__((format(printf, 3, 4))) static void mark(live_inc *i, bool closing,
                                                       const char *fmt, ...)
{
    if (!i->dirty || closing) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(i->reason, sizeof i->reason, fmt, ap);
        va_end(ap);
    }
    i->dirty = true;
}

static bool inc_has_watch(const live_inc *i, int w)
{
    for (size_t k = 0; k < i->n_watches; k++)
        if (i->watches[k] == w)
            return true;
    return false;
}

static int inc_add_watch(live_engine *e, live_inc *i, int w)
{
    if (inc_has_watch(i, w))
        return 0;
    int *grown = realloc(i->watches, (i->n_watches + 1) * sizeof *grown);
    if (!grown)
        return -1;
    i->watches = grown;
    i->watches[i->n_watches++] = w;
    const live_watch *lw = &e->env.conf->watches[w];
    mark(i, false, "live: watch %s joined (%s, %lld users)", lw->name, lw->service,
         (long long)lw->users);
    return 0;
}

static live_inc *inc_open(live_engine *e, const char *op, int w, int64_t t)
{
    live_inc *i = calloc(1, sizeof *i);
    if (!i)
        return NULL;
    char start[JST_TEXT_MAX];
    jst_format(t, start, sizeof start);
    /* 2021-10-04T01:00:00+09:00 -> 20211004-0100 */
    char stamp[16];
    snprintf(stamp, sizeof stamp, "%.4s%.2s%.2s-%.2s%.2s%.2s", start, start + 5, start + 8,
             start + 11, start + 14, start + 17);
    char id[LIVE_ID_MAX];
    snprintf(id, sizeof id, "live-%s-%s", stamp, e->env.conf->watches[w].name);
    i->op = strdup(op);
    i->id = strdup(id);
    i->started_ms = t;
    i->ended_ms = -1;
    i->last_anomaly_ms = t;
    i->end_candidate_ms = t;
    i->fresh = true;
    if (!i->op || !i->id || inc_add_watch(e, i, w)) {
        inc_free(i);
        return NULL;
    }
    i->dirty = false; /* the reason of opening, not of the watch joining */
    mark(i, false, "live: opened by watch %s, anomalous from %s", e->env.conf->watches[w].name,
         start);
    i->next = e->incs;
    e->incs = i;
    e->stats.open_incidents++;
    return i;
}

/* The engine's own fields of the incident, as it would write them now. */
static json_t *own_fields(live_engine *e, const live_inc *i)
{
    const live_conf *c = e->env.conf;
    char t[JST_TEXT_MAX];
    json_t *o = json_object();
    json_object_set_new(o, "started_at", json_string(jst_format(i->started_ms, t, sizeof t)));
    json_object_set_new(o, "ended_at", i->ended_ms < 0
                                           ? json_null()
                                           : json_string(jst_format(i->ended_ms, t, sizeof t)));
    json_t *svcs = json_array();
    /* one entry per distinct service, in the order the watches joined;
     * users: the sum over the watches of that service */
    for (size_t k = 0; k < i->n_watches; k++) {
        const live_watch *w = &c->watches[i->watches[k]];
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++)
            seen = strcmp(c->watches[i->watches[j]].service, w->service) == 0;
        if (seen)
            continue;
        long long users = 0;
        bool stop = false;
        for (size_t j = k; j < i->n_watches; j++) {
            const live_watch *x = &c->watches[i->watches[j]];
            if (strcmp(x->service, w->service) == 0) {
                users += x->users;
                stop = stop || x->effect == INCIDENT_STOP;
            }
        }
        json_array_append_new(svcs, json_pack("{s:s, s:s, s:I}", "service", w->service, "effect",
                                              stop ? "stop" : "degrade", "users", users));
    }
    json_object_set_new(o, "services", svcs);
    const live_watch *first = &c->watches[i->watches[0]];
    if (first->equipment)
        json_object_set_new(o, "equipment", json_string(first->equipment));
    if (first->area)
        json_object_set_new(o, "region", json_string(first->area));
    char summary[512];
    int n = snprintf(summary, sizeof summary, "Opened by jiko's live engine: anomaly on");
    for (size_t k = 0; k < i->n_watches && n < (int)sizeof summary; k++)
        n += snprintf(summary + n, sizeof summary - (size_t)n, "%s %s", k ? "," : "",
                      c->watches[i->watches[k]].match_text);
    json_object_set_new(o, "summary", json_string(summary));
    return o;
}

/* ---- series ---- */

static live_series *series_find(live_engine *e, const char *op, const ingest_sample *s,
                                bool alert)
{
    size_t name_len;
    if (series_name_build(s, &e->scratch, &e->scratch_cap, &name_len))
        return NULL;
    size_t oplen = strlen(op);
    size_t klen = oplen + 1 + (alert ? 6 : 0) + name_len;
    char small[512];
    char *key = klen <= sizeof small ? small : malloc(klen);
    if (!key)
        return NULL;
    memcpy(key, op, oplen);
    key[oplen] = 0x1f;
    if (alert)
        memcpy(key + oplen + 1, "alert:", 6);
    memcpy(key + oplen + 1 + (alert ? 6 : 0), e->scratch, name_len);
    void **known = strmap_get(&e->series, key, klen);
    live_series *ls = known ? *known : NULL;
    if (!ls) {
        if (e->n_series >= e->env.conf->max_series) {
            e->stats.refused_series++;
        } else {
            void **slot = strmap_put(&e->series, key, klen, NULL);
            ls = slot ? calloc(1, sizeof *ls) : NULL;
            if (ls) {
                ls->key = e->series.keys[slot - e->series.vals];
                ls->alert = alert;
                ls->watch = -1;
                ls->first_normal_ms = -1;
                detect_init(&ls->st, &e->dcfg);
                const live_conf *c = e->env.conf;
                for (size_t w = 0; w < c->n_watches && ls->watch < 0; w++)
                    if (strcmp(c->watches[w].op, op) == 0 && match_sample(c->watches[w].match, s))
                        ls->watch = (int)w;
                *slot = ls;
                e->n_series++;
                e->stats.series = e->n_series;
            }
        }
    }
    if (key != small)
        free(key);
    return ls;
}

static void series_anomalous(live_engine *e, live_series *s, const char *op, int64_t t)
{
    s->normal_run = 0;
    s->first_normal_ms = -1;
    if (!s->inc) {
        live_inc *i = inc_find_open(e, op, t);
        if (i) {
            if (inc_add_watch(e, i, s->watch))
                return;
        } else {
            i = inc_open(e, op, s->watch, t);
            if (!i)
                return;
            e->stats.opened++;
        }
        s->inc = i;
        i->pending++;
    }
    if (t > s->inc->last_anomaly_ms)
        s->inc->last_anomaly_ms = t;
}

static void series_leaves(live_engine *e, live_series *s)
{
    live_inc *i = s->inc;
    s->inc = NULL;
    if (s->first_normal_ms > i->end_candidate_ms)
        i->end_candidate_ms = s->first_normal_ms;
    if (--i->pending > 0)
        return;
    i->ended_ms = i->end_candidate_ms < i->started_ms ? i->started_ms : i->end_candidate_ms;
    char t[JST_TEXT_MAX];
    i->closing = true;
    mark(i, true, "live: closed: normal again from %s", jst_format(i->ended_ms, t, sizeof t));
    e->stats.closed++;
    e->stats.open_incidents--;
}

static void series_normal(live_engine *e, live_series *s, int64_t t)
{
    if (!s->inc)
        return;
    if (s->normal_run == 0)
        s->first_normal_ms = t;
    s->normal_run++;
    const live_conf *c = e->env.conf;
    if (s->normal_run >= c->close_samples && t - s->first_normal_ms >= c->close_ms)
        series_leaves(e, s);
}

/* ---- the engine ---- */

int live_engine_new(live_engine **out, const live_env *env, store *db, jiko_error *err)
{
    (void)db;
    *out = NULL;
    live_engine *e = calloc(1, sizeof *e);
    if (!e) {
        error_nomem(err, "starting the live engine");
        return -1;
    }
    e->env = *env;
    pthread_mutex_init(&e->mu, NULL);
    detect_config_default(&e->dcfg);
    *out = e;
    return 0;
}

void live_engine_free(live_engine *e)
{
    if (!e)
        return;
    for (size_t k = 0; k < e->series.cap; k++)
        free(e->series.vals ? e->series.vals[k] : NULL);
    strmap_free(&e->series);
    while (e->incs) {
        live_inc *n = e->incs->next;
        inc_free(e->incs);
        e->incs = n;
    }
    free(e->scratch);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

live_batch *live_begin(live_engine *e, const char *op)
{
    live_batch *b = malloc(sizeof *b);
    if (!b)
        return NULL;
    b->e = e;
    b->op = op;
    pthread_mutex_lock(&e->mu);
    return b;
}

int live_feed(void *batch, const ingest_sample *s)
{
    live_batch *b = batch;
    live_engine *e = b->e;
    live_series *ls = series_find(e, b->op, s, false);
    if (!ls)
        return 0;
    double score = detect_step(&ls->st, s->t_ms, s->value);
    e->stats.samples++;
    if (ls->watch < 0) {
        e->stats.unwatched++;
        return 0;
    }
    if (score >= DETECT_ALERT_THRESHOLD)
        series_anomalous(e, ls, b->op, s->t_ms);
    else
        series_normal(e, ls, s->t_ms);
    return 0;
}

bool live_alert(live_batch *b, const ingest_sample *labels, bool firing, int64_t starts_ms,
                int64_t ends_ms)
{
    live_engine *e = b->e;
    live_series *ls = series_find(e, b->op, labels, true);
    if (!ls || ls->watch < 0) {
        e->stats.alerts_unmatched++;
        return false;
    }
    if (firing) {
        e->stats.alerts_firing++;
        series_anomalous(e, ls, b->op, starts_ms);
    } else {
        e->stats.alerts_resolved++;
        if (ls->inc) {
            ls->first_normal_ms = ends_ms;
            series_leaves(e, ls);
        }
    }
    return true;
}

/* ---- storing ---- */

typedef struct stored {
    incident inc;
    classify_result res;
    char *text;
} stored;

static char *event_data(live_engine *e, const stored *s)
{
    json_t *o = json_object();
    json_object_set(o, "incident", s->inc.json);
    json_object_set_new(o, "classification",
                        classify_to_json(&s->res, &s->inc, e->env.cat, CLASSIFY_EN));
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}

static int emit(live_engine *e, store *db, live_inc *i, live_event_type t, int64_t lead_ms,
                const stored *s, int64_t now_ms, jiko_error *err)
{
    e->stats.events++;
    if (!e->env.on_event)
        return 0;
    char *data = event_data(e, s);
    if (!data) {
        error_nomem(err, "an event of the live engine");
        return -1;
    }
    live_event ev = {t, i->op, i->id, lead_ms, data};
    int rc = e->env.on_event(e->env.event_ctx, db, &ev, now_ms, err);
    free(data);
    return rc;
}

static int classify_text(live_engine *e, const char *text, int64_t now_ms, stored *s,
                         jiko_error *err)
{
    intake_opts io = {e->env.cat, e->env.rules, NULL, now_ms};
    return intake_record(&io, text, strlen(text), "live engine", 0, &s->inc, &s->res, err);
}

/* The record to store: the engine's fields over the current record,
 * except those a person changed since the engine last wrote them. */
static json_t *merged_record(live_inc *i, store *db, json_t *mine,
                             jiko_error *err)
{
    if (i->fresh) {
        json_t *r = json_pack("{s:s, s:s}", "id", i->id, "operator", i->op);
        json_object_update(r, mine);
        return r;
    }
    store_row row;
    int found = store_get(db, i->op, i->id, &row, err);
    if (found < 0)
        return NULL;
    json_t *cur = NULL;
    if (found) {
        cur = json_loads(row.record, 0, NULL);
        i->version = row.version;
        store_row_free(&row);
    }
    if (!cur) /* gone from the registry (or unreadable): write it whole again */
        cur = json_pack("{s:s, s:s}", "id", i->id, "operator", i->op);
    const char *k;
    json_t *v;
    json_object_foreach(mine, k, v)
    {
        json_t *was = i->mine ? json_object_get(i->mine, k) : NULL;
        json_t *now = json_object_get(cur, k);
        bool person_changed = i->mine && !(was ? now && json_equal(was, now) : !now);
        if (!person_changed)
            json_object_set(cur, k, v);
    }
    return cur;
}

static int store_one(live_engine *e, live_inc *i, store *db, int64_t now_ms, jiko_error *err)
{
    json_t *mine = own_fields(e, i);
    json_t *rec = mine ? merged_record(i, db, mine, err) : NULL;
    if (!rec) {
        json_decref(mine);
        if (err->kind == JIKO_ERR_NONE)
            error_nomem(err, "an incident of the live engine");
        return -1;
    }
    if (i->fresh) { /* an id already taken (a restart without checkpoint): next free */
        for (int n = 2; n < 100; n++) {
            store_row row;
            int found = store_get(db, i->op, i->id, &row, err);
            if (found < 0) {
                json_decref(mine);
                json_decref(rec);
                return -1;
            }
            if (!found)
                break;
            store_row_free(&row);
            char id[LIVE_ID_MAX + 8];
            char *dash = strrchr(i->id, '~');
            snprintf(id, sizeof id, "%.*s~%d", dash ? (int)(dash - i->id) : (int)strlen(i->id),
                     i->id, n);
            free(i->id);
            i->id = strdup(id);
            if (!i->id) {
                json_decref(mine);
                json_decref(rec);
                error_nomem(err, "an incident of the live engine");
                return -1;
            }
            json_object_set_new(rec, "id", json_string(i->id));
        }
    }
    stored s = {0};
    s.text = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    int rc = s.text ? classify_text(e, s.text, now_ms, &s, err) : -1;
    store_outcome outcome;
    int version = 0;
    if (!rc)
        rc = store_put(db, &s.inc, &s.res, s.text, strlen(s.text), i->reason, now_ms, &outcome,
                       &version, err);
    /* opened, or updated; and closed when it ended (an incident can open
     * and close within one request: both are said) */
    if (!rc && (i->fresh || !i->closing))
        rc = emit(e, db, i, i->fresh ? LIVE_EV_OPENED : LIVE_EV_UPDATED, 0, &s, now_ms, err);
    if (!rc && i->closing)
        rc = emit(e, db, i, LIVE_EV_CLOSED, 0, &s, now_ms, err);
    if (!rc) {
        json_decref(i->record);
        i->record = rec;
        rec = NULL;
        json_decref(i->mine);
        i->mine = mine;
        mine = NULL;
        i->version = version;
    }
    json_decref(rec);
    json_decref(mine);
    if (s.text && !rc)
        incident_free(&s.inc);
    free(s.text);
    return rc;
}

int live_commit(live_batch *b, store *db, int64_t now_ms, jiko_error *err)
{
    live_engine *e = b->e;
    error_clear(err);
    int rc = 0;
    bool any = false;
    for (live_inc *i = e->incs; i; i = i->next)
        any = any || i->dirty;
    if (any) {
        rc = store_begin(db, err);
        for (live_inc *i = e->incs; i && !rc; i = i->next)
            if (i->dirty)
                rc = store_one(e, i, db, now_ms, err);
        rc = rc ? (store_rollback(db, &(jiko_error){0}), -1) : store_commit(db, err);
        if (!rc)
            for (live_inc *i = e->incs; i; i = i->next)
                if (i->dirty) {
                    if (!i->fresh && !i->closing)
                        e->stats.updated++;
                    i->dirty = i->fresh = i->closing = false;
                }
    }
    /* ended and done with: forget (a serious one waits for deadline.soon) */
    for (live_inc **p = &e->incs; *p;) {
        live_inc *i = *p;
        bool keep = i->ended_ms < 0 || i->dirty || (i->serious_sent && !i->deadline_sent);
        if (keep) {
            p = &i->next;
        } else {
            *p = i->next;
            inc_free(i);
        }
    }
    pthread_mutex_unlock(&e->mu);
    free(b);
    return rc;
}

/* ---- counting down ---- */

static int tick_one(live_engine *e, live_inc *i, store *db, int64_t now_ms, jiko_error *err)
{
    if (!i->record)
        return 0;
    char *text = json_dumps(i->record, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text) {
        error_nomem(err, "the live engine's countdown");
        return -1;
    }
    stored s = {0};
    int rc = classify_text(e, text, now_ms, &s, err);
    free(text);
    if (rc)
        return -1;
    const live_conf *c = e->env.conf;
    if (i->ended_ms < 0 && s.res.has_becomes && !i->serious_sent) {
        /* the most urgent lead time now due, once; the longer ones it
         * passed are marked sent with it (one alarm, not three at once) */
        int due = -1;
        for (int k = 0; k < c->n_leads; k++)
            if (!(i->leads_fired & (1u << k)) && now_ms >= s.res.becomes_ms - c->lead_ms[k] &&
                now_ms < s.res.becomes_ms)
                due = k;
        if (due >= 0) {
            for (int k = 0; k <= due; k++)
                i->leads_fired |= 1u << k;
            rc = emit(e, db, i, LIVE_EV_SERIOUS_SOON, c->lead_ms[due], &s, now_ms, err);
        }
    }
    if (!rc && s.res.report == CLASSIFY_SERIOUS && !i->serious_sent) {
        i->serious_sent = true;
        i->leads_fired = ~0u;
        rc = emit(e, db, i, LIVE_EV_SERIOUS, 0, &s, now_ms, err);
    }
    if (!rc && i->serious_sent && !i->deadline_sent && s.res.has_written &&
        jst_midnight(jst_add_days(s.res.written, 1)) - now_ms <= LIVE_DEADLINE_SOON_MS) {
        i->deadline_sent = true;
        rc = emit(e, db, i, LIVE_EV_DEADLINE_SOON, 0, &s, now_ms, err);
    }
    incident_free(&s.inc);
    return rc;
}

int live_tick(live_engine *e, store *db, int64_t now_ms, jiko_error *err)
{
    error_clear(err);
    pthread_mutex_lock(&e->mu);
    int rc = store_begin(db, err);
    for (live_inc *i = e->incs; i && !rc; i = i->next)
        rc = tick_one(e, i, db, now_ms, err);
    rc = rc ? (store_rollback(db, &(jiko_error){0}), -1) : store_commit(db, err);
    pthread_mutex_unlock(&e->mu);
    return rc;
}

int live_checkpoint(live_engine *e, jiko_error *err)
{
    (void)e;
    (void)err;
    return 0;
}

void live_stats_get(live_engine *e, live_stats *out)
{
    pthread_mutex_lock(&e->mu);
    *out = e->stats;
    pthread_mutex_unlock(&e->mu);
}
