/*
 * engine.c — the live engine (engine.h).
 */
#include "engine.h"

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

/* An incident id: "live-" + the JST start "20211004-0100" + "-" + the
 * first watch's name (unique per operator: a watch opens at most one
 * incident at a time), and a "-N" when that is taken. */
#define LIVE_ID_MAX 192
/* deadline.soon: this long before the written report's last day ends */
#define LIVE_DEADLINE_SOON_MS (3 * JST_MS_PER_DAY)
/* watches restored per incident from a checkpoint */
#define LIVE_MAX_JOINED 256

typedef struct live_inc live_inc;

typedef struct live_series {
    const char *key; /* the map's copy: operator, 0x1f, series name */
    int watch;       /* index in conf->watches, -1: none selects it */
    bool rematch;    /* read from a checkpoint: match again at the next sample */
    bool alert;      /* an Alertmanager alert, not a detected series */
    detect_state st;
    /* The series' usual level, learnt while it holds no incident open and
     * frozen while it does, and its failed level while it does: an
     * incident ends when the value is back nearer the usual level than the
     * failed one, not merely when the detector stops scoring high — a
     * detector flags the change, and a KPI stuck at its failed level soon
     * scores low again (docs/watch.md). */
    double base_mean, fail_mean;
    int32_t base_n;
    forecast_state *fc;      /* capacity watches: the forecaster; else NULL */
    bool warned;             /* its warning was sent (again once it clears) */
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
    bool dropped;             /* refused by the law: to be forgotten */
    bool stored_now;          /* stored in the commit under way */
    char reason[512];
    /* A receiving operator's incident (卸先), linked to its provider's: it
     * has no series or watches of its own and follows the provider's. */
    bool linked;
    char *provider_op;
    live_inc *provider;       /* NULL once the provider's is forgotten */
    uint32_t leads_fired;     /* bit i: lead_ms[i] sent */
    bool serious_sent, deadline_sent;
    live_inc *next;
};

/* A capacity warning waiting for the next commit (it goes to the outbox in
 * a transaction like every event). */
typedef struct live_warning {
    char *op, *series;
    int watch;
    forecast_result r;
} live_warning;

struct live_engine {
    live_env env;
    pthread_mutex_t mu;
    strmap series; /* key -> live_series */
    size_t n_series, key_bytes;
    int64_t latest_ms; /* the latest sample or alert time seen */
    live_inc *incs; /* open ones, and closed serious ones until deadline.soon */
    live_stats stats;
    /* The process's registry writer lock (SQLite takes one writer at a
     * time; server.c), held around the engine's transactions only, so that
     * ingest requests decode and detect in parallel; NULL: none needed. */
    pthread_mutex_t *store_lock;
    live_warning *warnings; /* capacity warnings to send */
    size_t n_warnings;
    char *scratch; /* series names are built here */
    size_t scratch_cap;
    detect_config dcfg;
};

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

static void inc_free(live_inc *i)
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

static bool inc_has_watch(const live_inc *i, int w)
{
    for (size_t k = 0; k < i->n_watches; k++)
        if (i->watches[k] == w)
            return true;
    return false;
}

/* Add watch w to the incident's watches (once); -1 when out of memory. */
static int inc_push_watch(live_inc *i, int w)
{
    if (inc_has_watch(i, w))
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
    if (inc_has_watch(i, w))
        return 0;
    if (inc_push_watch(i, w))
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
    const json_t *prec = i->linked && i->provider ? i->provider->record : NULL;
    size_t e_i;
    json_t *sv;
    json_array_foreach(json_object_get(prec, "services"), e_i, sv)
    {
        size_t r;
        json_t *to;
        const char *code = json_string_value(json_object_get(sv, "service"));
        json_array_foreach(json_object_get(sv, "wholesale_to"), r, to)
        {
            const char *op = json_string_value(json_object_get(to, "operator"));
            json_t *u = json_object_get(to, "users");
            if (!code || !op || strcmp(op, i->op) != 0 || !json_is_integer(u))
                continue;
            bool have = false;
            size_t q;
            json_t *x;
            json_array_foreach(svcs, q, x)
                have = have || strcmp(json_string_value(json_object_get(x, "service")), code) == 0;
            if (!have) {
                const char *eff = json_string_value(json_object_get(sv, "effect"));
                json_array_append_new(svcs, json_pack("{s:s, s:s, s:I}", "service", code, "effect",
                                                      eff ? eff : "stop", "users",
                                                      json_integer_value(u)));
            }
        }
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
                inc_free(l);
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
            ls = slot ? calloc(1, sizeof *ls) : NULL;
            if (ls) {
                ls->key = e->series.keys[slot - e->series.vals];
                ls->alert = alert;
                ls->watch = -1;
                ls->first_normal_ms = -1;
                detect_init(&ls->st, &e->dcfg);
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

/* ---- restart: the open incidents from the registry ---- */

typedef struct reload_ctx {
    live_engine *e;
    int64_t now_ms;
    int rc;
    jiko_error *err;
} reload_ctx;

static int watch_index(const live_conf *c, const char *name)
{
    for (size_t w = 0; w < c->n_watches; w++)
        if (strcmp(c->watches[w].name, name) == 0)
            return (int)w;
    return -1;
}


/* The engine's own fields as it last wrote them: those of the latest
 * version stored with a "live:" reason. */
static int last_own_version(void *ctx, const store_row *r)
{
    json_t **mine = ctx;
    if (strncmp(r->reason, "live:", 5) != 0)
        return 0;
    json_t *rec = json_loads(r->record, 0, NULL);
    if (!rec)
        return 0;
    json_decref(*mine);
    *mine = json_object();
    static const char *const own[] = {"started_at", "ended_at", "services",          "equipment",
                                      "region",     "summary",  "wholesale_provider"};
    for (size_t k = 0; k < sizeof own / sizeof own[0]; k++) {
        json_t *v = json_object_get(rec, own[k]);
        if (v)
            json_object_set(*mine, own[k], v);
    }
    json_decref(rec);
    return 0;
}

static int reload_row(void *ctx, const store_row *r)
{
    reload_ctx *x = ctx;
    live_engine *e = x->e;
    if (strncmp(r->id, "live-", 5) != 0)
        return 0;
    live_inc *i = calloc(1, sizeof *i);
    if (!i || !(i->op = strdup(r->op)) || !(i->id = strdup(r->id)) ||
        !(i->record = json_loads(r->record, 0, NULL))) {
        if (i)
            inc_free(i);
        error_nomem(x->err, "reloading the live engine's incidents");
        return x->rc = -1;
    }
    i->started_ms = r->started_ms;
    i->ended_ms = -1;
    i->version = r->version;
    /* joined by new anomalies as if the last one were now: a restart does
     * not split an incident in two */
    i->last_anomaly_ms = x->now_ms;
    i->end_candidate_ms = r->started_ms;
    /* the watches of its operator whose service it has (the checkpoint,
     * when there is one, says which exactly) */
    const live_conf *c = e->env.conf;
    json_t *svcs = json_object_get(i->record, "services");
    for (size_t w = 0; w < c->n_watches; w++) {
        if (strcmp(c->watches[w].op, r->op) != 0)
            continue;
        size_t k;
        json_t *sv;
        json_array_foreach(svcs, k, sv)
        {
            const char *code = json_string_value(json_object_get(sv, "service"));
            if (code && strcmp(code, c->watches[w].service) == 0 && inc_push_watch(i, (int)w)) {
                inc_free(i);
                error_nomem(x->err, "reloading the live engine's incidents");
                return x->rc = -1;
            }
        }
    }
    const char *prov = json_string_value(json_object_get(i->record, "wholesale_provider"));
    if (prov) { /* a receiver's: linked to its provider's after the reload */
        i->linked = true;
        i->n_watches = 0;
        if (!(i->provider_op = strdup(prov))) {
            inc_free(i);
            error_nomem(x->err, "reloading the live engine's incidents");
            return x->rc = -1;
        }
    } else if (i->n_watches == 0) { /* no watch of this configuration made it: left to people */
        inc_free(i);
        return 0;
    }
    i->next = e->incs;
    e->incs = i;
    e->stats.open_incidents++;
    return 0;
}

static int reload(live_engine *e, store *db, int64_t now_ms, jiko_error *err)
{
    reload_ctx x = {e, now_ms, 0, err};
    store_filter f = {.open = 1};
    if (store_list(db, &f, reload_row, &x, err) || x.rc)
        return -1;
    /* receivers' incidents follow their provider's, when it was reloaded
     * too; else they are left to people */
    for (live_inc **p = &e->incs; *p;) {
        live_inc *i = *p;
        if (i->linked)
            for (live_inc *q = e->incs; q && !i->provider; q = q->next)
                if (!q->linked && strcmp(q->op, i->provider_op) == 0 && strcmp(q->id, i->id) == 0)
                    i->provider = q;
        if (i->linked && !i->provider) {
            *p = i->next;
            e->stats.open_incidents--;
            inc_free(i);
        } else {
            p = &i->next;
        }
    }
    for (live_inc *i = e->incs; i; i = i->next)
        if (store_history(db, i->op, i->id, last_own_version, &i->mine, err))
            return -1;
    return 0;
}

/* ---- the checkpoint file ----
 *
 * Native byte order and struct layout: it is read back by the same build
 * on the same machine (the header says which layout; another one is
 * refused and the detectors start afresh).
 *   "JIKOLIV4", u32 sizeof(detect_state), u32 sizeof(forecast_state), u64 series count,
 *   per series: u32 key length, key, u16 watch-name length, watch name,
 *               u8 alert, i32 normal_run, i64 first_normal_ms,
 *               f64 base_mean, f64 fail_mean, i32 base_n,
 *               u16 incident-id length, incident id, detect_state,
 *               u8 has a forecaster, u8 its warning sent, [forecast_state];
 *   u64 incident count,
 *   per incident: u16 op length, op, u16 id length, id, u32 leads_fired,
 *               u8 serious_sent, u8 deadline_sent, u16 watch count,
 *               (u16 length, watch name) each;
 *   u64 FNV-1a of everything before. */
#define CKPT_MAGIC "JIKOLIV4"
#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t k = 0; k < n; k++)
        h = (h ^ b[k]) * FNV_PRIME;
    return h;
}

typedef struct ckpt_out {
    FILE *f;
    uint64_t h;
    bool ok;
} ckpt_out;

static void put(ckpt_out *o, const void *p, size_t n)
{
    o->h = fnv(o->h, p, n);
    if (o->ok && n && fwrite(p, 1, n, o->f) != n)
        o->ok = false;
}

static void put_str(ckpt_out *o, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    uint16_t len = (uint16_t)(n > UINT16_MAX ? UINT16_MAX : n);
    put(o, &len, sizeof len);
    put(o, s, len);
}

int live_checkpoint(live_engine *e, jiko_error *err)
{
    const live_conf *c = e->env.conf;
    if (!c->checkpoint)
        return 0;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", c->checkpoint);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        error_set(err, JIKO_ERR_IO, c->checkpoint, 0, NULL, "cannot write the checkpoint: %s",
                  strerror(errno));
        return -1;
    }
    pthread_mutex_lock(&e->mu);
    ckpt_out o = {f, FNV_OFFSET, true};
    put(&o, CKPT_MAGIC, 8);
    uint32_t size = sizeof(detect_state), fsize = sizeof(forecast_state);
    put(&o, &size, 4);
    put(&o, &fsize, 4);
    uint64_t n = e->n_series;
    put(&o, &n, 8);
    for (size_t k = 0; k < e->series.cap; k++) {
        live_series *s = e->series.vals ? e->series.vals[k] : NULL;
        if (!s)
            continue;
        uint32_t klen = (uint32_t)e->series.lens[k];
        put(&o, &klen, 4);
        put(&o, e->series.keys[k], klen);
        put_str(&o, s->watch >= 0 ? c->watches[s->watch].name : NULL);
        uint8_t alert = s->alert;
        int32_t run = s->normal_run;
        int64_t first = s->first_normal_ms;
        put(&o, &alert, 1);
        put(&o, &run, 4);
        put(&o, &first, 8);
        put(&o, &s->base_mean, 8);
        put(&o, &s->fail_mean, 8);
        put(&o, &s->base_n, 4);
        put_str(&o, s->inc ? s->inc->id : NULL);
        put(&o, &s->st, sizeof s->st);
        uint8_t fc[2] = {s->fc != NULL, s->warned};
        put(&o, fc, 2);
        if (s->fc)
            put(&o, s->fc, sizeof *s->fc);
    }
    uint64_t ni = 0;
    for (live_inc *i = e->incs; i; i = i->next)
        ni++;
    put(&o, &ni, 8);
    for (live_inc *i = e->incs; i; i = i->next) {
        put_str(&o, i->op);
        put_str(&o, i->id);
        put(&o, &i->leads_fired, 4);
        uint8_t flags[2] = {i->serious_sent, i->deadline_sent};
        put(&o, flags, 2);
        uint16_t nw = (uint16_t)i->n_watches;
        put(&o, &nw, 2);
        for (size_t w = 0; w < i->n_watches; w++)
            put_str(&o, c->watches[i->watches[w]].name);
    }
    pthread_mutex_unlock(&e->mu);
    uint64_t h = o.h;
    put(&o, &h, 8);
    bool ok = o.ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, c->checkpoint) != 0) {
        error_set(err, JIKO_ERR_IO, c->checkpoint, 0, NULL, "cannot write the checkpoint: %s",
                  strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

typedef struct ckpt_in {
    const unsigned char *p, *end;
    bool ok;
} ckpt_in;

static const unsigned char *take(ckpt_in *in, size_t n)
{
    if (!in->ok || (size_t)(in->end - in->p) < n) {
        in->ok = false;
        return NULL;
    }
    const unsigned char *at = in->p;
    in->p += n;
    return at;
}

static void get(ckpt_in *in, void *out, size_t n)
{
    const unsigned char *at = take(in, n);
    if (at)
        memcpy(out, at, n);
    else
        memset(out, 0, n);
}

/* A string of the file into buf (NUL-terminated; cut at size - 1). */
static const char *get_str(ckpt_in *in, char *buf, size_t size)
{
    uint16_t n;
    get(in, &n, 2);
    const unsigned char *at = take(in, n);
    size_t keep = !at ? 0 : n < size ? n : size - 1;
    if (keep)
        memcpy(buf, at, keep);
    buf[keep] = '\0';
    return buf;
}

static live_inc *inc_by_id(live_engine *e, const char *op, const char *id)
{
    for (live_inc *i = e->incs; i; i = i->next)
        if (strcmp(i->id, id) == 0 && strcmp(i->op, op) == 0)
            return i;
    return NULL;
}

static void restore_series(live_engine *e, ckpt_in *in)
{
    const live_conf *c = e->env.conf;
    uint32_t klen;
    get(in, &klen, 4);
    const char *key = (const char *)take(in, klen);
    char name[512], incid[LIVE_ID_MAX + 8], op[512];
    get_str(in, name, sizeof name);
    uint8_t alert;
    int32_t run;
    int64_t first;
    get(in, &alert, 1);
    get(in, &run, 4);
    get(in, &first, 8);
    double bmean, fmean;
    int32_t bn;
    get(in, &bmean, 8);
    get(in, &fmean, 8);
    get(in, &bn, 4);
    get_str(in, incid, sizeof incid);
    const unsigned char *st = take(in, sizeof(detect_state));
    uint8_t fc[2];
    get(in, fc, 2);
    const unsigned char *fst = fc[0] ? take(in, sizeof(forecast_state)) : NULL;
    if (!in->ok || e->n_series >= c->max_series)
        return;
    live_series *s = calloc(1, sizeof *s);
    void **slot = s ? strmap_put(&e->series, key, klen, NULL) : NULL;
    if (!slot || *slot) { /* out of memory, or a key twice: the first stays */
        free(s);
        return;
    }
    memcpy(&s->st, st, sizeof s->st);
    if (fst && (s->fc = malloc(sizeof *s->fc)) != NULL)
        memcpy(s->fc, fst, sizeof *s->fc);
    s->warned = fc[1];
    s->key = e->series.keys[slot - e->series.vals];
    s->watch = name[0] ? watch_index(c, name) : -1;
    s->rematch = true;
    s->alert = alert;
    s->normal_run = run;
    s->first_normal_ms = first;
    s->base_mean = bmean;
    s->fail_mean = fmean;
    s->base_n = bn;
    /* the operator is the key's part before 0x1f */
    const char *sep = memchr(key, 0x1f, klen);
    snprintf(op, sizeof op, "%.*s", sep ? (int)(sep - key) : 0, key);
    if (incid[0] && (s->inc = inc_by_id(e, op, incid)) != NULL)
        s->inc->pending++;
    *slot = s;
    e->n_series++;
    e->key_bytes += klen + 1;
}

static void restore_incident(live_engine *e, ckpt_in *in)
{
    char op[512], incid[LIVE_ID_MAX + 8], name[512];
    get_str(in, op, sizeof op);
    get_str(in, incid, sizeof incid);
    uint32_t leads;
    uint8_t flags[2];
    uint16_t nw;
    get(in, &leads, 4);
    get(in, flags, 2);
    get(in, &nw, 2);
    live_inc *i = in->ok ? inc_by_id(e, op, incid) : NULL;
    if (i) {
        i->leads_fired = leads;
        i->serious_sent = flags[0];
        i->deadline_sent = flags[1];
    }
    /* the watches that joined it, in their order, replace the ones guessed
     * from its services, unless none of them is in the configuration now */
    int seen[LIVE_MAX_JOINED];
    size_t n = 0;
    for (uint16_t w = 0; w < nw && in->ok; w++) {
        int wi = watch_index(e->env.conf, get_str(in, name, sizeof name));
        if (wi >= 0 && n < LIVE_MAX_JOINED)
            seen[n++] = wi;
    }
    if (i && n > 0) {
        i->n_watches = 0;
        for (size_t k = 0; k < n; k++)
            inc_push_watch(i, seen[k]); /* no failure: the array only shrinks or stays */
    }
}

/* Read the checkpoint; a missing file is a first start (0), a damaged or
 * foreign one is said in `why` and ignored (1: the detectors start afresh). */
static int restore(live_engine *e, char *why, size_t why_size)
{
    const live_conf *c = e->env.conf;
    int fd = c->checkpoint ? open(c->checkpoint, O_RDONLY) : -1;
    if (fd < 0) {
        if (c->checkpoint && errno != ENOENT) {
            snprintf(why, why_size, "cannot read it: %s", strerror(errno));
            return 1;
        }
        return 0;
    }
    off_t size = lseek(fd, 0, SEEK_END);
    unsigned char *buf = size >= 32 ? malloc((size_t)size) : NULL;
    bool read_ok = buf && pread(fd, buf, (size_t)size, 0) == size;
    close(fd);
    uint64_t stored = 0;
    if (read_ok)
        memcpy(&stored, buf + size - 8, 8);
    /* the sum first: nothing is taken from a damaged file */
    if (!read_ok || stored != fnv(FNV_OFFSET, buf, (size_t)size - 8)) {
        free(buf);
        snprintf(why, why_size, read_ok ? "damaged (its checksum does not match)" : "unreadable");
        return 1;
    }
    ckpt_in in = {buf, buf + size - 8, true};
    char magic[8];
    uint32_t state_size, fc_size;
    uint64_t n;
    get(&in, magic, 8);
    get(&in, &state_size, 4);
    get(&in, &fc_size, 4);
    get(&in, &n, 8);
    if (memcmp(magic, CKPT_MAGIC, 8) != 0 || state_size != sizeof(detect_state) ||
        fc_size != sizeof(forecast_state)) {
        free(buf);
        snprintf(why, why_size, "not a checkpoint of this build");
        return 1;
    }
    for (uint64_t k = 0; k < n && in.ok; k++)
        restore_series(e, &in);
    uint64_t ni = 0;
    get(&in, &ni, 8);
    for (uint64_t k = 0; k < ni && in.ok; k++)
        restore_incident(e, &in);
    free(buf);
    e->stats.series = e->n_series;
    if (!in.ok) {
        snprintf(why, why_size, "cut short; what could be read was taken");
        return 1;
    }
    return 0;
}

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
    if (db && reload(e, db, now_ms, err)) {
        live_engine_free(e);
        return -1;
    }
    char why[160];
    if (restore(e, why, sizeof why))
        fprintf(stderr, "jiko: live checkpoint %s: %s; the detectors start afresh\n",
                env->conf->checkpoint, why);
    *out = e;
    return 0;
}

void live_engine_free(live_engine *e)
{
    if (!e)
        return;
    for (size_t k = 0; k < e->series.cap; k++) {
        live_series *s = e->series.vals ? e->series.vals[k] : NULL;
        if (s)
            free(s->fc);
        free(s);
    }
    for (size_t k = 0; k < e->n_warnings; k++) {
        free(e->warnings[k].op);
        free(e->warnings[k].series);
    }
    free(e->warnings);
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
    double score = detect_step(&ls->st, s->t_ms, s->value);
    e->stats.samples++;
    if (s->t_ms > e->latest_ms)
        e->latest_ms = s->t_ms;
    if (ls->watch < 0) {
        e->stats.unwatched++;
        return 0;
    }
    const live_watch *w = &e->env.conf->watches[ls->watch];
    bool anomalous = (w->detect & LIVE_DETECT_ANOMALY) && score >= DETECT_ALERT_THRESHOLD;
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
    char *data = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
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
            inc_free(i);
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
    char *text = json_dumps(i->record, JSON_COMPACT | JSON_PRESERVE_ORDER);
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
    out->state_bytes = e->n_series * sizeof(live_series) + e->key_bytes +
                       e->series.cap * (sizeof(char *) + sizeof(size_t) + sizeof(void *));
    pthread_mutex_unlock(&e->mu);
}
