/*
 * engine.c — the live engine (engine.h): series, incidents, storing and
 * counting down.  The reload and the checkpoint are in engine_restart.c;
 * the structures both share, in engine_impl.h.
 */
#include "engine.h"
#include "engine_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect.h"
#include "forecast.h"
#include "intake.h"
#include "jst.h"
#include "series.h"
#include "strmap.h"
#include "json_text.h"

struct live_batch {
    live_engine *e;
    const char *op;
    /* The engine's lock is taken at the first sample or alert, not at
     * live_begin: a remote_write body is decompressed and decoded whole
     * before its first sample is delivered, and that work (a third of an
     * ingest request's) then runs outside the lock, in parallel with other
     * requests. */
    bool locked;
};

static void batch_lock(live_batch *b)
{
    if (!b->locked) {
        pthread_mutex_lock(&b->e->mu);
        b->locked = true;
    }
}

static const char *const event_names[LIVE_EV_COUNT] = {
    "incident.opened", "incident.updated", "incident.serious_soon",
    "incident.serious", "incident.closed", "deadline.soon", "capacity.warning",
};

const char *live_event_name(live_event_type t)
{
    return t >= 0 && t < LIVE_EV_COUNT ? event_names[t] : "?";
}

/* ---- incidents ---- */

void live_inc_free(live_inc *i)
{
    free(i->provider_op);
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
        if (i->ended_ms < 0 && !i->linked && strcmp(i->op, op) == 0 &&
            (i->pending > 0 || t - i->last_anomaly_ms <= e->env.conf->group_window_ms))
            return i;
    return NULL;
}

/* The incident is to be stored, with this reason for its new version.
 * Within one batch the first reason stays (an incident opened and grown
 * in one request is "opened"), and closing is added to it ("live: opened
 * by watch X, ...; closed: normal again from ..."). */
__attribute__((format(printf, 3, 4))) static void mark(live_inc *i, bool closing,
                                                       const char *fmt, ...)
{
    if (!i->dirty || closing) {
        char text[sizeof i->reason];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        size_t n = i->dirty ? strlen(i->reason) : 0;
        const char *add = i->dirty && strncmp(text, "live: ", 6) == 0 ? text + 6 : text;
        snprintf(i->reason + n, sizeof i->reason - n, "%s%s", n ? "; " : "", add);
    }
    i->dirty = true;
}

bool live_inc_has_watch(const live_inc *i, int w)
{
    for (size_t k = 0; k < i->n_watches; k++)
        if (i->watches[k] == w)
            return true;
    return false;
}

/* Add watch w to the incident's watches (once); -1 when out of memory. */
int live_inc_push_watch(live_inc *i, int w)
{
    if (live_inc_has_watch(i, w))
        return 0;
    int *grown = realloc(i->watches, (i->n_watches + 1) * sizeof *grown);
    if (!grown)
        return -1;
    i->watches = grown;
    i->watches[i->n_watches++] = w;
    return 0;
}

/* A watch joins the incident: stored with its reason. */
static int inc_add_watch(live_engine *e, live_inc *i, int w)
{
    if (live_inc_has_watch(i, w))
        return 0;
    if (live_inc_push_watch(i, w))
        return -1;
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
        live_inc_free(i);
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
/* Users of a receiving operator in a watch (-1: the watch does not name it). */
static int64_t wholesale_users_of(const live_watch *w, const char *op)
{
    for (size_t k = 0; k < w->n_wholesale; k++)
        if (strcmp(w->wholesale_to[k], op) == 0)
            return w->wholesale_users[k];
    return -1;
}

/* The users a watch counts in incident i: its own, or for a linked
 * incident those of i's operator as a receiver (-1: not in i). */
static int64_t watch_users(const live_watch *w, const live_inc *i)
{
    return i->linked ? wholesale_users_of(w, i->op) : w->users;
}

/* The receiving operators named in a stored record: each service entry's
 * optional "wholesale_to": [{"operator": NAME, "users": N}, ...]
 * (docs/incident-format.md).  fn(ctx, operator, service entry, users). */
static int record_receivers(const json_t *record, int (*fn)(void *, const char *, json_t *, int64_t),
                            void *ctx)
{
    size_t k, r;
    json_t *sv, *to;
    json_array_foreach(json_object_get(record, "services"), k, sv)
    {
        json_array_foreach(json_object_get(sv, "wholesale_to"), r, to)
        {
            const char *op = json_string_value(json_object_get(to, "operator"));
            json_t *u = json_object_get(to, "users");
            if (op && *op && json_is_integer(u) && json_integer_value(u) >= 0 &&
                fn(ctx, op, sv, json_integer_value(u)))
                return -1;
        }
    }
    return 0;
}

typedef struct receiver_services {
    const char *op;
    json_t *svcs; /* the receiver's service entries being made */
} receiver_services;

/* A record's service entry naming the receiver: its service with the
 * receiver's users, unless the watches gave that service already. */
static int add_receiver_service(void *ctx, const char *op, json_t *service, int64_t users)
{
    receiver_services *rs = ctx;
    const char *code = json_string_value(json_object_get(service, "service"));
    if (!code || strcmp(op, rs->op) != 0)
        return 0;
    size_t q;
    json_t *x;
    json_array_foreach(rs->svcs, q, x)
        if (strcmp(json_string_value(json_object_get(x, "service")), code) == 0)
            return 0;
    const char *eff = json_string_value(json_object_get(service, "effect"));
    return json_array_append_new(rs->svcs, json_pack("{s:s, s:s, s:I}", "service", code, "effect",
                                                      eff ? eff : "stop", "users",
                                                      (json_int_t)users));
}

/* The fields the engine writes (started_at, ended_at, services, equipment,
 * region, summary; wholesale_provider for a receiver), as it would write
 * them now. */
static json_t *own_fields(live_engine *e, const live_inc *i)
{
    const live_conf *c = e->env.conf;
    /* a linked incident shows its provider's watches that name its operator */
    const live_inc *src = i->linked && i->provider ? i->provider : i;
    char t[JST_TEXT_MAX];
    json_t *o = json_object();
    if (i->linked)
        json_object_set_new(o, "wholesale_provider", json_string(i->provider_op));
    json_object_set_new(o, "started_at", json_string(jst_format(i->started_ms, t, sizeof t)));
    json_object_set_new(o, "ended_at", i->ended_ms < 0
                                           ? json_null()
                                           : json_string(jst_format(i->ended_ms, t, sizeof t)));
    json_t *svcs = json_array();
    /* one entry per distinct service, in the order the watches joined;
     * users: the sum over the watches of that service */
    const live_watch *first = NULL;
    for (size_t k = 0; k < src->n_watches; k++) {
        const live_watch *w = &c->watches[src->watches[k]];
        if (watch_users(w, i) < 0)
            continue;
        if (!first)
            first = w;
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++)
            seen = watch_users(&c->watches[src->watches[j]], i) >= 0 &&
                   strcmp(c->watches[src->watches[j]].service, w->service) == 0;
        if (seen)
            continue;
        /* each population once (its largest count); populations add up */
        long long users = 0;
        bool stop = false;
        for (size_t j = k; j < src->n_watches; j++) {
            const live_watch *x = &c->watches[src->watches[j]];
            if (strcmp(x->service, w->service) != 0 || watch_users(x, i) < 0)
                continue;
            stop = stop || x->effect == INCIDENT_STOP;
            bool counted = false; /* its population was counted at an earlier j */
            for (size_t q = k; q < j && !counted; q++) {
                const live_watch *y = &c->watches[src->watches[q]];
                counted = strcmp(y->service, w->service) == 0 && watch_users(y, i) >= 0 &&
                          strcmp(y->population, x->population) == 0;
            }
            if (counted)
                continue;
            int64_t most = 0;
            for (size_t q = j; q < src->n_watches; q++) {
                const live_watch *y = &c->watches[src->watches[q]];
                if (strcmp(y->service, w->service) == 0 && watch_users(y, i) > most &&
                    strcmp(y->population, x->population) == 0)
                    most = watch_users(y, i);
            }
            users += most;
        }
        json_array_append_new(svcs, json_pack("{s:s, s:s, s:I}", "service", w->service, "effect",
                                              stop ? "stop" : "degrade", "users", users));
    }
    /* and, for a receiver, the services its provider's record names it in */
    if (i->linked && i->provider && i->provider->record) {
        receiver_services rs = {i->op, svcs};
        record_receivers(i->provider->record, add_receiver_service, &rs);
    }
    json_object_set_new(o, "services", svcs);
    if (first && first->equipment)
        json_object_set_new(o, "equipment", json_string(first->equipment));
    if (first && first->area)
        json_object_set_new(o, "region", json_string(first->area));
    char summary[512];
    int n = i->linked ? snprintf(summary, sizeof summary,
                                 "Wholesale service of %s (incident %s); jiko's live engine saw "
                                 "an anomaly on",
                                 i->provider_op, i->id)
                      : snprintf(summary, sizeof summary, "Opened by jiko's live engine: anomaly on");
    bool more = false;
    for (size_t k = 0; k < src->n_watches && n < (int)sizeof summary; k++)
        if (watch_users(&c->watches[src->watches[k]], i) >= 0) {
            n += snprintf(summary + n, sizeof summary - (size_t)n, "%s %s", more ? "," : "",
                          c->watches[src->watches[k]].match_text);
            more = true;
        }
    json_object_set_new(o, "summary", json_string(summary));
    return o;
}

/* The receiving operators' incidents follow their provider's: made when
 * it is first stored, changed and closed with it (the same id, start and
 * end; wholesale_provider set), so that the yearly report counts the
 * provider's and the receivers' reports as one accident (※1/※2). */
/* The receiver op's incident linked to provider p: found, or made (fresh,
 * to be stored); then marked to follow p.  only_new: leave existing ones. */
static int follow(live_engine *e, live_inc *p, const char *op, bool only_new)
{
    if (strcmp(op, p->op) == 0)
        return 0; /* an operator does not receive its own service */
    live_inc *l = NULL;
    for (live_inc *x = e->incs; x && !l; x = x->next)
        if (x->linked && x->provider == p && strcmp(x->op, op) == 0)
            l = x;
    if (l && only_new)
        return 0;
    if (!l) {
        l = calloc(1, sizeof *l);
        if (!l || !(l->op = strdup(op)) || !(l->id = strdup(p->id)) ||
            !(l->provider_op = strdup(p->op))) {
            if (l)
                live_inc_free(l);
            return -1;
        }
        l->linked = true;
        l->provider = p;
        l->fresh = true;
        l->ended_ms = -1;
        l->next = e->incs;
        e->incs = l;
        e->stats.open_incidents++;
        mark(l, false, "live: wholesale service of %s, incident %s", p->op, p->id);
    }
    l->started_ms = p->started_ms;
    if (p->ended_ms >= 0 && l->ended_ms < 0) {
        l->ended_ms = p->ended_ms;
        l->closing = true;
        e->stats.open_incidents--;
        mark(l, true, "live: closed with %s's incident %s", p->op, p->id);
    } else {
        mark(l, false, "live: follows %s's incident %s", p->op, p->id);
    }
    return 0;
}

typedef struct follow_ctx {
    live_engine *e;
    live_inc *p;
    bool only_new;
} follow_ctx;

static int follow_receiver(void *ctx, const char *op, json_t *service, int64_t users)
{
    (void)service;
    (void)users;
    follow_ctx *x = ctx;
    return follow(x->e, x->p, op, x->only_new);
}

/* The receiving operators' incidents follow their provider's: made when
 * it is first stored, changed and closed with it (the same id, start and
 * end; wholesale_provider set), so that the yearly report counts the
 * provider's and the receivers' reports as one accident (※1/※2).  The
 * receivers are those of its watches and those its record names (a person
 * may add them through the API; seen when the engine next stores it).
 * after_store: the second pass of a commit, for receivers that records
 * just stored name for the first time. */
static int link_wholesale(live_engine *e, bool after_store)
{
    const live_conf *c = e->env.conf;
    for (live_inc *p = e->incs; p; p = p->next) {
        if (p->linked || !(after_store ? p->stored_now : p->dirty))
            continue;
        for (size_t k = 0; k < p->n_watches && !after_store; k++) {
            const live_watch *w = &c->watches[p->watches[k]];
            for (size_t r = 0; r < w->n_wholesale; r++)
                if (follow(e, p, w->wholesale_to[r], false))
                    return -1;
        }
        follow_ctx x = {e, p, after_store};
        if (p->record && record_receivers(p->record, follow_receiver, &x))
            return -1;
    }
    return 0;
}

/* ---- series ---- */

/* A capacity watch's series gets a forecaster (about 2 KiB); -1 when out
 * of memory (the series then has none: its limit still opens incidents). */
static void series_forecaster(const live_conf *c, live_series *s)
{
    bool want = s->watch >= 0 && (c->watches[s->watch].detect & LIVE_DETECT_CAPACITY);
    if (!want || s->fc) {
        if (!want) {
            free(s->fc);
            s->fc = NULL;
        }
        return;
    }
    forecast_config cfg;
    forecast_config_default(&cfg);
    jiko_error err;
    s->fc = malloc(sizeof *s->fc);
    if (s->fc && forecast_init(s->fc, &cfg, c->watches[s->watch].limit, &err)) {
        free(s->fc);
        s->fc = NULL;
    }
}

size_t live_detector_size(const live_engine *e)
{
    return e->env.conf->detector_full ? sizeof(ensemble_state) : sizeof(detect_state);
}

/* The state lives in the series' flexible tail, aligned for either kind
 * (memcpy-able, no pointers: the checkpoint writes it as it is). */
void live_detector_init(const live_engine *e, live_series *s)
{
    if (e->env.conf->detector_full)
        ensemble_init((ensemble_state *)(void *)s->st, &e->ecfg);
    else
        detect_init((detect_state *)(void *)s->st, &e->dcfg);
}

double live_detector_step(const live_engine *e, live_series *s, int64_t t_ms, double v)
{
    return e->env.conf->detector_full ? ensemble_step((ensemble_state *)(void *)s->st, t_ms, v)
                                      : detect_step((detect_state *)(void *)s->st, t_ms, v);
}

double live_detector_threshold(const live_engine *e)
{
    return e->env.conf->detector_full ? ENSEMBLE_ALERT_THRESHOLD : DETECT_ALERT_THRESHOLD;
}

/* The first watch of the operator that selects the sample, or -1. */
static int match_watch(const live_conf *c, const char *op, const ingest_sample *s)
{
    for (size_t w = 0; w < c->n_watches; w++)
        if (strcmp(c->watches[w].op, op) == 0 && match_sample(c->watches[w].match, s))
            return (int)w;
    return -1;
}

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
    if (ls && ls->rematch) { /* the watches may have changed since the checkpoint */
        ls->rematch = false;
        ls->watch = match_watch(e->env.conf, op, s);
        series_forecaster(e->env.conf, ls);
    }
    if (!ls) {
        if (e->n_series >= e->env.conf->max_series) {
            e->stats.refused_series++;
        } else {
            void **slot = strmap_put(&e->series, key, klen, NULL);
            ls = slot ? calloc(1, sizeof *ls + live_detector_size(e)) : NULL;
            if (ls) {
                ls->key = e->series.keys[slot - e->series.vals];
                ls->alert = alert;
                ls->watch = -1;
                ls->first_normal_ms = -1;
                live_detector_init(e, ls);
                ls->watch = match_watch(e->env.conf, op, s);
                series_forecaster(e->env.conf, ls);
                *slot = ls;
                e->n_series++;
                e->key_bytes += klen + 1;
                e->stats.series = e->n_series;
            }
        }
    }
    if (key != small)
        free(key);
    return ls;
}

/* How fast the failed level follows the values while an incident is open. */
#define LIVE_FAIL_ALPHA 0.2

static void series_anomalous(live_engine *e, live_series *s, const char *op, int64_t t, double v)
{
    s->normal_run = 0;
    s->first_normal_ms = -1;
    if (isfinite(v))
        s->fail_mean = s->inc ? s->fail_mean + LIVE_FAIL_ALPHA * (v - s->fail_mean) : v;
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

/* Samples before the usual level is trusted, and its learning rate (an
 * exponential mean over about the last 20 samples: it follows a daily
 * rhythm, so that an evening recovery is judged against the afternoon's
 * level, not last week's). */
#define LIVE_BASE_MIN_N 20
#define LIVE_BASE_ALPHA 0.05

static void base_learn(live_series *s, double v)
{
    if (!isfinite(v))
        return;
    double a = s->base_n < 1.0 / LIVE_BASE_ALPHA ? 1.0 / (s->base_n + 1) : LIVE_BASE_ALPHA;
    s->base_mean = s->base_n ? s->base_mean + a * (v - s->base_mean) : v;
    if (s->base_n < INT32_MAX)
        s->base_n++;
}

/* Whether v is back: nearer the usual level than the failed one (always,
 * before the usual level is known). */
static bool back_to_usual(const live_series *s, double v)
{
    if (s->alert || s->base_n < LIVE_BASE_MIN_N || !isfinite(v))
        return true;
    return fabs(v - s->base_mean) < fabs(v - s->fail_mean);
}

static void series_normal(live_engine *e, live_series *s, int64_t t, double v)
{
    if (!s->inc) {
        base_learn(s, v);
        return;
    }
    if (!back_to_usual(s, v)) { /* quiet detector, but still at the failed level */
        s->fail_mean += LIVE_FAIL_ALPHA * (v - s->fail_mean);
        s->normal_run = 0;
        s->first_normal_ms = -1;
        return;
    }
    if (s->normal_run == 0)
        s->first_normal_ms = t;
    s->normal_run++;
    const live_conf *c = e->env.conf;
    if (s->normal_run >= c->close_samples && t - s->first_normal_ms >= c->close_ms)
        series_leaves(e, s);
}

/* ---- the engine ---- */

int live_engine_new(live_engine **out, const live_env *env, store *db, int64_t now_ms,
                    jiko_error *err)
{
    *out = NULL;
    live_engine *e = calloc(1, sizeof *e);
    if (!e) {
        error_nomem(err, "starting the live engine");
        return -1;
    }
    e->env = *env;
    pthread_mutex_init(&e->mu, NULL);
    detect_config_default(&e->dcfg);
    /* The light detector learns values winsorised (docs/design-detect.md
     * v9): a counter glitch read as 2^64 - 1 must not blind a live series
     * to the outage that follows (issue 13 row 9).  `jiko detect --detector
     * light` keeps v8 as measured on NAB; the engine is not scored there. */
    e->dcfg.robust_k = 8.0f;
    ensemble_config_default(&e->ecfg);
    if (db && live_reload(e, db, now_ms, err)) {
        live_engine_free(e);
        return -1;
    }
    char why[160];
    if (live_restore(e, why, sizeof why))
        fprintf(stderr, "jiko: live checkpoint %s: %s; the detectors start afresh\n",
                env->conf->checkpoint, why);
    *out = e;
    return 0;
}

void live_engine_free(live_engine *e)
{
    if (!e)
        return;
    live_series_free_all(e);
    for (size_t k = 0; k < e->n_warnings; k++) {
        free(e->warnings[k].op);
        free(e->warnings[k].series);
    }
    free(e->warnings);
    strmap_free(&e->series);
    while (e->incs) {
        live_inc *n = e->incs->next;
        live_inc_free(e->incs);
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
    b->locked = false;
    return b;
}

/* Queue a capacity warning for the next commit (once per episode). */
static void capacity_warn(live_engine *e, const char *op, live_series *s, const forecast_result *r)
{
    live_warning *grown = realloc(e->warnings, (e->n_warnings + 1) * sizeof *grown);
    if (!grown)
        return; /* said again at the next sample: warned stays false */
    e->warnings = grown;
    const char *sep = strchr(s->key, 0x1f);
    live_warning *w = &e->warnings[e->n_warnings];
    w->op = strdup(op);
    w->series = strdup(sep ? sep + 1 : s->key);
    w->watch = s->watch;
    w->r = *r;
    if (!w->op || !w->series) {
        free(w->op);
        free(w->series);
        return;
    }
    e->n_warnings++;
    e->stats.capacity_warnings++;
    s->warned = true;
}

int live_feed(void *batch, const ingest_sample *s)
{
    live_batch *b = batch;
    live_engine *e = b->e;
    batch_lock(b);
    live_series *ls = series_find(e, b->op, s, false);
    if (!ls)
        return 0;
    double score = live_detector_step(e, ls, s->t_ms, s->value);
    e->stats.samples++;
    if (s->t_ms > e->latest_ms)
        e->latest_ms = s->t_ms;
    if (ls->watch < 0) {
        e->stats.unwatched++;
        return 0;
    }
    live_hist_push(e, ls, s->t_ms, s->value, score);
    const live_watch *w = &e->env.conf->watches[ls->watch];
    bool anomalous = (w->detect & LIVE_DETECT_ANOMALY) && score >= live_detector_threshold(e);
    if (w->detect & LIVE_DETECT_CAPACITY) {
        /* the forecast warns before; the outage itself is the limit reached */
        if (ls->fc && isfinite(s->value) && forecast_step(ls->fc, s->t_ms, s->value) == 0) {
            forecast_result r;
            forecast_eval(ls->fc, s->t_ms, &r);
            if (r.warn && r.status == FORECAST_GROWING && !ls->warned)
                capacity_warn(e, b->op, ls, &r);
            else if (!r.warn)
                ls->warned = false;
        }
        anomalous = anomalous || (isfinite(s->value) && s->value >= w->limit);
    }
    if (anomalous)
        series_anomalous(e, ls, b->op, s->t_ms, s->value);
    else
        series_normal(e, ls, s->t_ms, s->value);
    return 0;
}

bool live_alert(live_batch *b, const ingest_sample *labels, bool firing, int64_t starts_ms,
                int64_t ends_ms)
{
    live_engine *e = b->e;
    batch_lock(b);
    live_series *ls = series_find(e, b->op, labels, true);
    if (!ls || ls->watch < 0) {
        e->stats.alerts_unmatched++;
        return false;
    }
    int64_t t = firing ? starts_ms : ends_ms;
    if (t > e->latest_ms)
        e->latest_ms = t;
    if (firing) {
        e->stats.alerts_firing++;
        series_anomalous(e, ls, b->op, starts_ms, NAN);
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

/* The time the law is applied at: the wall clock, or with clock = samples
 * (back-testing a recording) the latest sample's time. */
static int64_t as_of_ms(const live_engine *e, int64_t wall)
{
    return e->env.conf->clock_samples && e->latest_ms ? e->latest_ms : wall;
}

typedef struct stored {
    incident inc;
    classify_result res;
    char *text;
} stored;

static char *event_data(live_engine *e, const stored *s, int64_t lead_ms)
{
    json_t *o = json_object();
    /* incident.serious_soon: which of the lead times this alarm is */
    if (lead_ms > 0)
        json_object_set_new(o, "lead_minutes", json_integer((json_int_t)(lead_ms / 60000)));
    json_object_set(o, "incident", s->inc.json);
    json_object_set_new(o, "classification",
                        classify_to_json(&s->res, &s->inc, e->env.cat, CLASSIFY_EN));
    char *text = json_text_of(o, 0, false, NULL);
    json_decref(o);
    return text;
}

static int emit(live_engine *e, store *db, live_inc *i, live_event_type t, int64_t lead_ms,
                const stored *s, int64_t now_ms, jiko_error *err)
{
    e->stats.events++;
    if (!e->env.on_event)
        return 0;
    char *data = event_data(e, s, t == LIVE_EV_SERIOUS_SOON ? lead_ms : 0);
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
    s.text = json_text_of(rec, 0, false, NULL);
    int rc = s.text ? classify_text(e, s.text, as_of_ms(e, now_ms), &s, err) : -1;
    if (rc && s.text && err->kind == JIKO_ERR_INVALID) {
        /* a record the law refuses (a start before any rulebook, say):
         * never storable, so it must not hold back the others */
        json_decref(rec);
        json_decref(mine);
        free(s.text);
        return 1;
    }
    store_outcome outcome;
    int version = 0;
    if (!rc)
        rc = store_put(db, &s.inc, &s.res, s.text, strlen(s.text), i->reason, now_ms, &outcome,
                       &version, err);
    /* opened, or updated; and closed when it ended (an incident can open
     * and close within one request: both are said) */
    if (!rc && (i->fresh || (!i->closing && outcome != STORE_UNCHANGED)))
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

/* A capacity warning as an event: no incident exists yet, so its id is
 * "capacity:WATCH"; the data say what, when and on what basis. */
static int emit_warning(live_engine *e, store *db, const live_warning *w, int64_t now_ms,
                        jiko_error *err)
{
    e->stats.events++;
    if (!e->env.on_event)
        return 0;
    const live_watch *lw = &e->env.conf->watches[w->watch];
    char eta[JST_TEXT_MAX], id[LIVE_ID_MAX];
    snprintf(id, sizeof id, "capacity:%s", lw->name);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:s, s:s, s:I}", "watch", lw->name,
                          "series", w->series, "service", lw->service, "status",
                          forecast_status_name(w->r.status), "value", w->r.value, "limit",
                          w->r.limit, "eta",
                          w->r.eta_ms == FORECAST_NEVER ? "" : jst_format(w->r.eta_ms, eta, sizeof eta),
                          "basis", w->r.basis ? w->r.basis : "", "users", (json_int_t)lw->users);
    char *data = o ? json_text_of(o, 0, false, NULL) : NULL;
    json_decref(o);
    if (!data) {
        error_nomem(err, "a capacity warning");
        return -1;
    }
    live_event ev = {LIVE_EV_CAPACITY_WARNING, w->op, id, 0, data};
    int rc = e->env.on_event(e->env.event_ctx, db, &ev, now_ms, err);
    free(data);
    return rc;
}

/* Store every incident to store that this commit has not stored yet. */
static int store_dirty(live_engine *e, store *db, int64_t now_ms, jiko_error *err)
{
    for (live_inc *i = e->incs; i; i = i->next) {
        if (!i->dirty || i->stored_now)
            continue;
        int rc = store_one(e, i, db, now_ms, err);
        if (rc == 1) { /* refused by the law: said, counted, forgotten */
            fprintf(stderr, "jiko: live: incident %s of %s cannot be stored and is dropped: %s\n",
                    i->id, i->op, err->message);
            e->stats.dropped++;
            i->dropped = true;
            i->dirty = false;
            if (i->ended_ms < 0) {
                i->ended_ms = i->started_ms;
                e->stats.open_incidents--;
            }
            error_clear(err);
        } else if (rc) {
            return -1;
        } else {
            i->stored_now = true;
        }
    }
    return 0;
}

int live_commit(live_batch *b, store *db, int64_t now_ms, jiko_error *err)
{
    live_engine *e = b->e;
    error_clear(err);
    if (!b->locked) { /* nothing was fed: nothing of this batch to store */
        free(b);
        return 0;
    }
    int rc = 0;
    bool any = false;
    uint64_t events_before = e->stats.events;
    if (link_wholesale(e, false)) {
        error_nomem(err, "the receiving operators' incidents");
        rc = -1;
    }
    for (live_inc *i = e->incs; i; i = i->next)
        any = any || i->dirty;
    any = any || e->n_warnings > 0;
    if (any && !rc) {
        if (e->store_lock)
            pthread_mutex_lock(e->store_lock);
        rc = store_begin(db, err);
        for (size_t k = 0; k < e->n_warnings && !rc; k++)
            rc = emit_warning(e, db, &e->warnings[k], now_ms, err);
        if (!rc)
            rc = store_dirty(e, db, now_ms, err);
        /* receivers that the records just stored name for the first time */
        if (!rc && link_wholesale(e, true)) {
            error_nomem(err, "the receiving operators' incidents");
            rc = -1;
        }
        if (!rc)
            rc = store_dirty(e, db, now_ms, err);
        for (live_inc *i = e->incs; i; i = i->next)
            i->stored_now = false;
        rc = rc ? (store_rollback(db, &(jiko_error){0}), -1) : store_commit(db, err);
        if (e->store_lock)
            pthread_mutex_unlock(e->store_lock);
        if (!rc && e->stats.events != events_before && e->env.on_committed)
            e->env.on_committed(e->env.event_ctx);
        if (!rc) { /* sent: else they wait for the next commit */
            for (size_t k = 0; k < e->n_warnings; k++) {
                free(e->warnings[k].op);
                free(e->warnings[k].series);
            }
            e->n_warnings = 0;
        }
        if (!rc)
            for (live_inc *i = e->incs; i; i = i->next)
                if (i->dirty) {
                    if (!i->fresh && !i->closing)
                        e->stats.updated++;
                    i->dirty = i->fresh = i->closing = false;
                }
    }
    /* dropped ones first let go of their series */
    bool dropped = false;
    for (live_inc *i = e->incs; i; i = i->next)
        dropped = dropped || i->dropped;
    for (size_t k = 0; dropped && k < e->series.cap; k++) {
        live_series *s = e->series.vals ? e->series.vals[k] : NULL;
        if (s && s->inc && s->inc->dropped)
            s->inc = NULL;
    }
    /* ended and done with: forget (a serious one waits for deadline.soon) */
    for (live_inc **p = &e->incs; *p;) {
        live_inc *i = *p;
        bool keep = !i->dropped &&
                    (i->ended_ms < 0 || i->dirty || (i->serious_sent && !i->deadline_sent));
        if (keep) {
            p = &i->next;
        } else {
            *p = i->next;
            for (live_inc *x = e->incs; x; x = x->next)
                if (x->provider == i)
                    x->provider = NULL;
            if (!i->dropped)
                live_remember_closed(e, i);
            live_inc_free(i);
        }
    }
    pthread_mutex_unlock(&e->mu);
    free(b);
    return rc;
}

/* ---- counting down ---- */

/* as_of: the time the countdown is judged at (the wall clock, or the
 * samples' with clock = samples); now_ms: the wall clock, for the events. */
static int tick_one(live_engine *e, live_inc *i, store *db, int64_t as_of, int64_t now_ms,
                    jiko_error *err)
{
    if (!i->record)
        return 0;
    char *text = json_text_of(i->record, 0, false, NULL);
    if (!text) {
        error_nomem(err, "the live engine's countdown");
        return -1;
    }
    stored s = {0};
    int rc = classify_text(e, text, as_of, &s, err);
    free(text);
    if (rc)
        return -1;
    const live_conf *c = e->env.conf;
    if (i->ended_ms < 0 && s.res.has_becomes && !i->serious_sent) {
        /* the most urgent lead time now due, once; the longer ones it
         * passed are marked sent with it (one alarm, not three at once) */
        int due = -1;
        for (int k = 0; k < c->n_leads; k++)
            if (!(i->leads_fired & (1u << k)) && as_of >= s.res.becomes_ms - c->lead_ms[k] &&
                as_of < s.res.becomes_ms)
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
        jst_midnight(jst_add_days(s.res.written, 1)) - as_of <= LIVE_DEADLINE_SOON_MS) {
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
    if (!e->incs) { /* nothing to count down: no transaction every second */
        pthread_mutex_unlock(&e->mu);
        return 0;
    }
    int64_t as_of = as_of_ms(e, now_ms);
    uint64_t events_before = e->stats.events;
    /* the alarms sent are marked as they are queued; if the transaction
     * fails they were not sent, and are due again at the next tick */
    size_t n = 0;
    for (live_inc *i = e->incs; i; i = i->next)
        n++;
    typedef struct sent {
        uint32_t leads;
        bool serious, deadline;
    } sent;
    sent *was = malloc(n * sizeof *was);
    if (!was) {
        pthread_mutex_unlock(&e->mu);
        error_nomem(err, "the live engine's countdown");
        return -1;
    }
    n = 0;
    for (live_inc *i = e->incs; i; i = i->next)
        was[n++] = (sent){i->leads_fired, i->serious_sent, i->deadline_sent};
    if (e->store_lock)
        pthread_mutex_lock(e->store_lock);
    int rc = store_begin(db, err);
    for (live_inc *i = e->incs; i && !rc; i = i->next)
        rc = tick_one(e, i, db, as_of, now_ms, err);
    rc = rc ? (store_rollback(db, &(jiko_error){0}), -1) : store_commit(db, err);
    if (e->store_lock)
        pthread_mutex_unlock(e->store_lock);
    /* the alarms now sent for good, for the dashboard's time line: the
     * most urgent lead of the new ones (the others were passed with it) */
    n = 0;
    for (live_inc *i = e->incs; i && !rc; i = i->next, n++) {
        uint32_t fresh = i->leads_fired & ~was[n].leads;
        if (i->serious_sent && !was[n].serious)
            live_alarm_note(i, 0, as_of);
        else
            for (int k = e->env.conf->n_leads - 1; k >= 0; k--)
                if (fresh & (1u << k)) {
                    live_alarm_note(i, (int)(e->env.conf->lead_ms[k] / 60000), as_of);
                    break;
                }
    }
    if (rc) {
        n = 0;
        for (live_inc *i = e->incs; i; i = i->next, n++) {
            i->leads_fired = was[n].leads;
            i->serious_sent = was[n].serious;
            i->deadline_sent = was[n].deadline;
        }
        e->stats.events = events_before;
    }
    free(was);
    if (!rc && e->stats.events != events_before && e->env.on_committed)
        e->env.on_committed(e->env.event_ctx);
    pthread_mutex_unlock(&e->mu);
    return rc;
}

void live_set_store_lock(live_engine *e, pthread_mutex_t *mu)
{
    pthread_mutex_lock(&e->mu);
    e->store_lock = mu;
    pthread_mutex_unlock(&e->mu);
}

int64_t live_checkpoint_every_ms(const live_engine *e)
{
    return e->env.conf->checkpoint ? e->env.conf->checkpoint_ms : 0;
}

void live_stats_get(live_engine *e, live_stats *out)
{
    pthread_mutex_lock(&e->mu);
    *out = e->stats;
    out->state_bytes = e->n_series * (sizeof(live_series) + live_detector_size(e)) + e->key_bytes +
                       e->hist_bytes +
                       e->series.cap * (sizeof(char *) + sizeof(size_t) + sizeof(void *));
    pthread_mutex_unlock(&e->mu);
}
