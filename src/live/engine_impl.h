/*
 * engine_impl.h — the live engine's insides, shared by engine.c (series,
 * incidents, storing, counting down) and engine_restart.c (the reload from
 * the registry and the checkpoint file).  Not for use outside src/live/.
 */
#ifndef JIKO_ENGINE_IMPL_H
#define JIKO_ENGINE_IMPL_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "detect.h"
#include "engine.h"
#include "ensemble.h"
#include "forecast.h"
#include "jst.h"
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

/* A watched series' last samples (live_conf.history of them, a ring), with
 * the detector's score of each: what the dashboard charts. */
typedef struct live_point {
    int64_t t_ms;
    float value, score; /* value NaN: not a finite sample */
} live_point;

typedef struct live_hist {
    uint32_t head, n, cap; /* the next place to write; how many are kept; room */
    live_point p[];
} live_hist;


/* Incidents forgotten by the engine whose series the dashboard may still
 * show (the most recent ones). */
#define LIVE_CLOSED_KEEP 64
typedef struct live_closed {
    char *op, *id;
    int *watches;
    size_t n_watches;
    struct live_alarms *alarms; /* NULL: none were raised */
} live_closed;

/* The countdown's alarms as raised (incident.serious_soon, .serious), with
 * the time the law was applied at, for the dashboard's time line; kept in
 * memory only (a restart starts a new list). */
#define LIVE_MAX_ALARMS (LIVE_MAX_LEADS + 1)
typedef struct live_alarm {
    int64_t at_ms;
    int lead_min; /* 0: it turned serious */
} live_alarm;
typedef struct live_alarms {
    int n;
    live_alarm a[LIVE_MAX_ALARMS];
} live_alarms;

typedef struct live_series {
    const char *key; /* the map's copy: operator, 0x1f, series name */
    int watch;       /* index in conf->watches, -1: none selects it */
    bool rematch;    /* read from a checkpoint: match again at the next sample */
    bool alert;      /* an Alertmanager alert, not a detected series */
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
    live_hist *hist;         /* watched series: the last samples; else NULL */
    /* The detector's state (live_detector_size bytes: the light or the full
     * one, [live] detector), allocated with the series. */
    _Alignas(16) unsigned char st[];
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
    live_alarms alarms;
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
    detect_config dcfg;    /* [live] detector = light */
    ensemble_config ecfg;  /* [live] detector = full */
    size_t hist_bytes; /* the series' histories */
    live_closed closed[LIVE_CLOSED_KEEP];
    size_t closed_next;
};


/* The series' detector (engine.c): its state's size, a fresh state, a
 * sample's score, the score that makes an anomaly. */
size_t live_detector_size(const live_engine *e);
void live_detector_init(const live_engine *e, live_series *s);
double live_detector_step(const live_engine *e, live_series *s, int64_t t_ms, double v);
double live_detector_threshold(const live_engine *e);

/* Incidents' watches (engine.c). */
void live_inc_free(live_inc *i);
bool live_inc_has_watch(const live_inc *i, int w);
int live_inc_push_watch(live_inc *i, int w); /* once; -1 when out of memory */

/* Series histories (engine_series.c): keep a scored sample (allocating
 * the ring at the first); remember an incident's watches as it is forgotten;
 * free both. */
void live_hist_push(live_engine *e, live_series *s, int64_t t_ms, double value, double score);
void live_remember_closed(live_engine *e, const live_inc *i);
/* Note an alarm raised (lead_min 0: serious) at the law's time at_ms. */
void live_alarm_note(live_inc *i, int lead_min, int64_t at_ms);
void live_series_free_all(live_engine *e);

/* Restart (engine_restart.c): the engine's open incidents from the
 * registry, as of now_ms (0 or -1 with err); then the checkpoint file (0;
 * 1 when it was damaged or foreign, said in `why` and ignored). */
int live_reload(live_engine *e, store *db, int64_t now_ms, jiko_error *err);
int live_restore(live_engine *e, char *why, size_t why_size);

#endif
