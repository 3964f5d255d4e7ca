/*
 * engine.h — the live engine: KPI samples and alerts in, incidents that
 * open, grow, count down to "serious" and close by themselves.
 *
 * Samples.  Each series (an operator's metric + labels) gets an anomaly
 * detector (detect.h) on first sight, up to max_series; beyond, the sample
 * is refused and counted, never an unbounded table.  A series is matched
 * once, when first seen, against the operator's [watch] sections (the first
 * that selects it wins); a series no watch selects is still detected and
 * counted but opens nothing.  A sample scoring at or above the detector's
 * threshold is anomalous.
 *
 * Opening and grouping.  The first anomalous sample of a watched series
 * opens an incident of the watch's operator, started_at = that sample's
 * time, with the watch's service, users, equipment and area — unless an
 * incident of that operator is open and had an anomalous sample within
 * group_window: then it joins it (a new service adds a service entry; a
 * further watch of a service adds its users).  Alerts (Alertmanager) are
 * series of their own, keyed by their labels, anomalous from startsAt while
 * firing.
 *
 * Closing.  An incident ends when every series that joined it has been
 * normal for close_samples samples and close_ms (both); ended_at = the
 * first normal sample of the last one to recover.  A resolved alert is
 * normal from its endsAt at once.
 *
 * Storing.  Every change is stored through the registry as an amendment
 * with its reason ("live: users rose to ...").  The engine writes only its
 * own fields (started_at, ended_at, services, equipment, region, summary),
 * and only those a person has not changed since the engine last wrote them:
 * a person's correction through the API is never overwritten.  The changes
 * of one batch of samples are committed in one transaction before
 * live_commit returns: a 2xx answer to an ingest request means its incident
 * changes are in the registry.
 *
 * Counting down.  live_tick (every second in the server; with any clock in
 * tests) classifies every open incident as of now and raises events: each
 * lead time before it turns serious (default 60, 30, 10 min), the moment
 * it does, and the written report's deadline three days ahead.
 *
 * Threads: every call takes the engine's lock (a batch from its first
 * sample or alert to its commit); the caller brings a registry handle of
 * its own thread.  The process's SQLite writer lock (live_set_store_lock)
 * is taken by the engine itself around its transactions only.
 */
#ifndef JIKO_ENGINE_H
#define JIKO_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>

#include "catalog.h"
#include "error.h"
#include "live_conf.h"
#include "rules.h"
#include "sample.h"
#include "store.h"

typedef enum live_event_type {
    LIVE_EV_OPENED,
    LIVE_EV_UPDATED,
    LIVE_EV_SERIOUS_SOON,
    LIVE_EV_SERIOUS,
    LIVE_EV_CLOSED,
    LIVE_EV_DEADLINE_SOON,
    LIVE_EV_CAPACITY_WARNING, /* no incident yet: id is "capacity:WATCH" */
    LIVE_EV_COUNT
} live_event_type;

/* "incident.opened", ... (the webhook event names) */
const char *live_event_name(live_event_type t);

typedef struct live_event {
    live_event_type type;
    const char *op, *id;
    int64_t lead_ms;        /* SERIOUS_SOON: the lead time that fired */
    const char *data_json;  /* {"incident": record, "classification": ...} as of now */
} live_event;

/* Called for each event inside the transaction that caused it (db is in a
 * transaction), so that a queued notification commits with its cause.
 * Non-zero with err filled: the transaction is rolled back. */
typedef int (*live_event_fn)(void *ctx, store *db, const live_event *ev, int64_t now_ms,
                             jiko_error *err);

typedef struct live_env {
    const catalog *cat;
    const rules_set *rules;
    const live_conf *conf;
    live_event_fn on_event; /* may be NULL */
    void *event_ctx;
    /* After a commit that raised events (NULL: nothing to do): the webhook
     * sender is told to look at once. */
    void (*on_committed)(void *event_ctx);
} live_env;

/* What the engine has done since it started (for /metrics). */
typedef struct live_stats {
    uint64_t samples;          /* fed to a detector */
    uint64_t unwatched;        /* of which on series no watch selects */
    uint64_t refused_series;   /* samples of new series beyond max_series */
    uint64_t alerts_firing, alerts_resolved, alerts_unmatched;
    uint64_t opened, updated, closed, events;
    uint64_t dropped; /* incidents the law refused to store (said on stderr) */
    uint64_t capacity_warnings; /* resources foreseen exhausted */
    size_t series, open_incidents;
    size_t state_bytes; /* the series' memory: detectors, names, the table */
} live_stats;

typedef struct live_engine live_engine;

/* A new engine.  The open incidents it made before (ids "live-...",
 * ongoing, of an operator with a watch of their service) are reloaded from
 * db (NULL: none) as of now_ms, with the fields it last wrote itself (from
 * their history), so that a person's later changes stay theirs; and the
 * detector states, the series' links to incidents and the alarms already
 * sent from conf->checkpoint when there is one (a damaged or foreign file
 * is said on stderr and ignored).  Without a checkpoint, a reloaded
 * incident is joined by the next anomalous series of its watches and closes
 * when they recover.  env and what it points to must outlive the engine. */
int live_engine_new(live_engine **out, const live_env *env, store *db, int64_t now_ms,
                    jiko_error *err);
void live_engine_free(live_engine *e);

/* One ingest request: begin, feed its samples and alerts, commit.
 * `op` is the ingest token's operator: only its watches are matched, so
 * one operator's samples can open and change only its own incidents. */
typedef struct live_batch live_batch;
live_batch *live_begin(live_engine *e, const char *op);
/* an ingest_sink (sample.h): feed one sample; never stops the parse */
int live_feed(void *batch, const ingest_sample *s);
/* One alert of an Alertmanager webhook: its labels (sorted, as a sample
 * with an empty metric), firing or resolved, and its times (ms; ends_ms
 * only when resolved).  Returns true when a watch selected it. */
bool live_alert(live_batch *b, const ingest_sample *labels, bool firing, int64_t starts_ms,
                int64_t ends_ms);
/* Store the incident changes of the batch in one transaction and free it.
 * now_ms: the wall clock (changed_at of the versions). */
int live_commit(live_batch *b, store *db, int64_t now_ms, jiko_error *err);

/* Classify the open incidents as of now_ms and raise their due events. */
int live_tick(live_engine *e, store *db, int64_t now_ms, jiko_error *err);

/* Write the detector states to conf->checkpoint (write, fsync, rename):
 * 0, or -1 with err.  Nothing to do without a checkpoint file. */
int live_checkpoint(live_engine *e, jiko_error *err);

/* The lock that serializes the process's registry writers (SQLite), taken
 * around each of the engine's transactions, after the engine's own lock:
 * a caller that holds it must never wait for the engine.  NULL: none. */
void live_set_store_lock(live_engine *e, pthread_mutex_t *mu);

/* How often live_checkpoint should run (0: there is no checkpoint file). */
int64_t live_checkpoint_every_ms(const live_engine *e);

void live_stats_get(live_engine *e, live_stats *out);

/* The KPI series behind an incident of op, for the dashboard's chart:
 *   {"series": [{"name", "watch", "service", "detect", "threshold", "limit",
 *                "points": [[t_ms, value, score], ...],
 *                "forecast": {...} or null}],
 *    "alarms": [{"event", "at", "lead_minutes"}], "history": N, "known": B}
 * "alarms": the countdown's alarms as raised since the engine started
 * (at: the time the law was applied at, ms; lead_minutes 0 for serious).
 * The series are those of the incident's watches (while the engine knows
 * the incident: open, or among the last LIVE_CLOSED_KEEP it forgot), each
 * with its last conf->history samples, oldest first; value null for a
 * non-finite sample.  "forecast" (capacity watches): the forecaster's
 * estimate as of the latest sample, times in ms.  An incident the engine
 * does not know has no series.  NULL: out of memory. */
struct json_t;
/* A watched series keeps this many samples while it holds no incident (the
 * chart's lead-in), and [live] history once it does: 100,000 watched series
 * cost 53 MB of lead-ins, not the 1.1 GB of 720 samples each. */
#define LIVE_HIST_IDLE 32
struct json_t *live_incident_series(live_engine *e, const char *op, const char *id);

#endif
