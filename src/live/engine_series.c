/* engine_series.c — what the dashboard charts of a live incident: each
 * watched series' last samples with their scores, and the capacity
 * forecast (engine.h: live_incident_series). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"

/* The ring's k-th sample kept, oldest first (k < h->n). */
static const live_point *hist_at(const live_hist *h, uint32_t k)
{
    return &h->p[(h->head + h->cap - h->n + k) % h->cap];
}

/* The ring with room for cap samples, oldest first (NULL: out of memory,
 * the old ring kept). */
static live_hist *hist_resize(live_engine *e, live_hist *old, uint32_t cap)
{
    size_t bytes = sizeof *old + (size_t)cap * sizeof old->p[0];
    live_hist *h = calloc(1, bytes);
    if (!h)
        return NULL;
    h->cap = cap;
    if (old) {
        for (uint32_t k = 0; k < old->n; k++)
            h->p[k] = *hist_at(old, k);
        h->n = old->n;
        h->head = old->n % cap;
        e->hist_bytes -= sizeof *old + (size_t)old->cap * sizeof old->p[0];
        free(old);
    }
    e->hist_bytes += bytes;
    return h;
}

void live_hist_push(live_engine *e, live_series *s, int64_t t_ms, double value, double score)
{
    uint32_t full = (uint32_t)e->env.conf->history;
    if (!full)
        return;
    /* allocated at the first sample of a watched series only (the series no
     * watch selects cost nothing), short while it is quiet, grown to the
     * full history once it holds an incident open */
    uint32_t want = s->inc || full < LIVE_HIST_IDLE ? full : LIVE_HIST_IDLE;
    if (!s->hist || s->hist->cap < want) {
        live_hist *h = hist_resize(e, s->hist, want);
        if (!h && !s->hist)
            return; /* a chart with a gap rather than a refused sample */
        if (h)
            s->hist = h;
    }
    live_hist *h = s->hist;
    h->p[h->head] = (live_point){t_ms, isfinite(value) ? (float)value : NAN, (float)score};
    h->head = (h->head + 1) % h->cap;
    if (h->n < h->cap)
        h->n++;
}

void live_alarm_note(live_inc *i, int lead_min, int64_t at_ms)
{
    if (i->alarms.n < LIVE_MAX_ALARMS)
        i->alarms.a[i->alarms.n++] = (live_alarm){at_ms, lead_min};
}

static void closed_free(live_closed *c)
{
    free(c->op);
    free(c->id);
    free(c->watches);
    free(c->alarms);
}

void live_remember_closed(live_engine *e, const live_inc *i)
{
    if (i->linked || !i->n_watches)
        return; /* a receiver's incident has no series of its own */
    live_closed *c = &e->closed[e->closed_next];
    live_closed n = {strdup(i->op), strdup(i->id), malloc(i->n_watches * sizeof(int)),
                     i->n_watches, i->alarms.n ? malloc(sizeof i->alarms) : NULL};
    if (!n.op || !n.id || !n.watches || (i->alarms.n && !n.alarms)) {
        closed_free(&n);
        return;
    }
    memcpy(n.watches, i->watches, i->n_watches * sizeof(int));
    if (n.alarms)
        *n.alarms = i->alarms;
    closed_free(c);
    *c = n;
    e->closed_next = (e->closed_next + 1) % LIVE_CLOSED_KEEP;
}

void live_series_free_all(live_engine *e)
{
    for (size_t k = 0; k < e->series.cap; k++) {
        live_series *s = e->series.vals ? e->series.vals[k] : NULL;
        if (s) {
            free(s->fc);
            free(s->hist);
        }
        free(s);
    }
    for (size_t k = 0; k < LIVE_CLOSED_KEEP; k++)
        closed_free(&e->closed[k]);
}

/* The incident's watches and alarms, wherever the engine still has them. */
static bool watches_of(const live_engine *e, const char *op, const char *id, const int **w,
                       size_t *n, const live_alarms **alarms)
{
    for (const live_inc *i = e->incs; i; i = i->next)
        if (strcmp(i->op, op) == 0 && strcmp(i->id, id) == 0) {
            *w = i->watches;
            *n = i->n_watches;
            *alarms = &i->alarms;
            return true;
        }
    for (size_t k = 0; k < LIVE_CLOSED_KEEP; k++) {
        const live_closed *c = &e->closed[k];
        if (c->op && strcmp(c->op, op) == 0 && strcmp(c->id, id) == 0) {
            *w = c->watches;
            *n = c->n_watches;
            *alarms = c->alarms;
            return true;
        }
    }
    return false;
}

static json_t *alarms_json(const live_alarms *al)
{
    json_t *a = json_array();
    for (int k = 0; a && al && k < al->n; k++) {
        json_t *o = json_pack("{s:s,s:I,s:i}", "event",
                              al->a[k].lead_min ? "incident.serious_soon" : "incident.serious",
                              "at", (json_int_t)al->a[k].at_ms, "lead_minutes", al->a[k].lead_min);
        if (!o || json_array_append_new(a, o)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *points_json(const live_hist *h)
{
    json_t *a = json_array();
    for (uint32_t k = 0; a && k < h->n; k++) {
        const live_point *p = hist_at(h, k);
        /* a float's 7 significant digits, not the 17 of its double */
        char txt[32];
        snprintf(txt, sizeof txt, "%.7g", (double)p->value);
        json_t *v = isfinite(p->value) ? json_real(strtod(txt, NULL)) : json_null();
        /* scores to 4 places: the chart needs no more, the page is smaller */
        json_t *row = json_pack("[I,o,f]", (json_int_t)p->t_ms, v,
                                round((double)p->score * 1e4) / 1e4);
        if (!row || json_array_append_new(a, row)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *ms_or_null(int64_t ms)
{
    return ms == FORECAST_NEVER ? json_null() : json_integer((json_int_t)ms);
}

/* The forecaster's estimate as of the series' latest sample: the chart
 * draws the expected line from (now, level) to (eta, limit) and the band
 * between early and late. */
static json_t *forecast_json(const live_series *s)
{
    if (!s->fc || !s->hist || !s->hist->n)
        return json_null();
    int64_t latest = hist_at(s->hist, s->hist->n - 1)->t_ms;
    forecast_result r;
    forecast_eval(s->fc, latest, &r);
    return json_pack("{s:s,s:b,s:s?,s:I,s:f,s:f,s:o,s:o,s:o,s:f}", "status",
                     forecast_status_name(r.status), "warn", r.warn, "basis", r.basis, "now",
                     (json_int_t)r.now_ms, "level", isfinite(r.level) ? r.level : 0.0, "limit",
                     r.limit, "eta", ms_or_null(r.eta_ms), "early", ms_or_null(r.early_ms),
                     "late", ms_or_null(r.late_ms), "confidence", r.confidence);
}

json_t *live_incident_series(live_engine *e, const char *op, const char *id)
{
    json_t *out = json_array();
    if (!out)
        return NULL;
    pthread_mutex_lock(&e->mu);
    const live_conf *conf = e->env.conf;
    const int *w = NULL;
    size_t nw = 0;
    const live_alarms *al = NULL;
    bool known = watches_of(e, op, id, &w, &nw, &al);
    json_t *alarms = alarms_json(al);
    size_t oplen = strlen(op);
    for (size_t k = 0; known && out && k < e->series.cap; k++) {
        live_series *s = e->series.vals ? e->series.vals[k] : NULL;
        if (!s || s->watch < 0 || s->alert || !s->hist)
            continue;
        bool mine = strncmp(s->key, op, oplen) == 0 && s->key[oplen] == 0x1f;
        bool joined = false;
        for (size_t j = 0; mine && j < nw && !joined; j++)
            joined = w[j] == s->watch;
        if (!joined)
            continue;
        const live_watch *wa = &conf->watches[s->watch];
        json_t *pts = points_json(s->hist);
        json_t *o = pts ? json_pack("{s:s,s:s,s:s,s:s,s:f,s:o,s:o,s:o}", "name", s->key + oplen + 1,
                                    "watch", wa->name, "service", wa->service, "detect",
                                    wa->detect == LIVE_DETECT_BOTH       ? "both"
                                    : wa->detect == LIVE_DETECT_CAPACITY ? "capacity"
                                                                         : "anomaly",
                                    "threshold", live_detector_threshold(e), "limit",
                                    wa->limit > 0 ? json_real(wa->limit) : json_null(), "points",
                                    pts, "forecast", forecast_json(s))
                        : NULL;
        if (!o || json_array_append_new(out, o)) {
            json_decref(out);
            out = NULL;
        }
    }
    pthread_mutex_unlock(&e->mu);
    if (!out || !alarms) {
        json_decref(out);
        json_decref(alarms);
        return NULL;
    }
    return json_pack("{s:o,s:o,s:i,s:b}", "series", out, "alarms", alarms, "history",
                     conf->history, "known", known);
}
