/* series.c — the series table (see series.h). */
#include "series.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "jst.h"
#include "json_text.h"

/* First size of the name scratch buffer: most names fit, so it rarely grows. */
#define SCRATCH_FIRST 256

void series_table_init(series_table *t, const detect_config *cfg, double threshold)
{
    memset(t, 0, sizeof *t);
    t->cfg = *cfg;
    t->threshold = threshold;
    t->max = SERIES_MAX_DEFAULT;
}

void series_table_use_full(series_table *t, const ensemble_config *c)
{
    t->use_full = true;
    t->full_cfg = *c;
}

void series_table_free(series_table *t)
{
    for (size_t i = 0; i < t->names.cap; i++)
        free(t->names.vals[i]);
    strmap_free(&t->names);
    free(t->scratch);
    t->scratch = NULL;
    t->scratch_cap = 0;
}

series *series_get(series_table *t, const char *name, size_t len)
{
    if (t->count >= t->max) { /* only known series from here on */
        void **known = strmap_get(&t->names, name, len);
        if (known && *known)
            return *known;
        t->full = true;
        return NULL;
    }
    void **v = strmap_put(&t->names, name, len, NULL);
    if (!v)
        return NULL;
    if (!*v) { /* new (or its allocation failed before: try again) */
        /* the full detector's state follows the series in one allocation */
        series *s = malloc(sizeof *s + (t->use_full ? sizeof(ensemble_state) : 0));
        if (!s)
            return NULL;
        s->name = t->names.keys[v - t->names.vals];
        s->full = NULL;
        if (t->use_full) {
            s->full = (ensemble_state *)(void *)(s + 1);
            ensemble_init(s->full, &t->full_cfg);
        }
        detect_init(&s->st, &t->cfg);
        detect_events_init(&s->ev, t->threshold, SERIES_EVENT_QUIET_POINTS);
        *v = s;
        t->count++;
    }
    return *v;
}

int series_name_build(const ingest_sample *smp, char **buf, size_t *cap, size_t *len)
{
    size_t need = smp->metric_len + (smp->n_labels ? 1 : 0) + 1; /* '}' or nothing, NUL */
    for (size_t i = 0; i < smp->n_labels; i++)
        need += 1 + smp->labels[i].name_len + 1 + smp->labels[i].value_len; /* "{k=v" or ",k=v" */
    if (need > *cap) {
        size_t c = *cap ? *cap : SCRATCH_FIRST;
        while (c < need)
            c *= 2;
        char *p = realloc(*buf, c);
        if (!p)
            return -1;
        *buf = p;
        *cap = c;
    }
    char *o = *buf;
    memcpy(o, smp->metric, smp->metric_len);
    o += smp->metric_len;
    for (size_t i = 0; i < smp->n_labels; i++) {
        const ingest_label *l = &smp->labels[i];
        *o++ = i ? ',' : '{';
        memcpy(o, l->name, l->name_len);
        o += l->name_len;
        *o++ = '=';
        memcpy(o, l->value, l->value_len);
        o += l->value_len;
    }
    if (smp->n_labels)
        *o++ = '}';
    *o = '\0';
    *len = (size_t)(o - *buf);
    return 0;
}

series *series_of_sample(series_table *t, const ingest_sample *smp)
{
    size_t len;
    if (series_name_build(smp, &t->scratch, &t->scratch_cap, &len))
        return NULL;
    return series_get(t, t->scratch, len);
}

bool series_feed(series *s, int64_t t_ms, double value, double *score, detect_event *closed)
{
    *score = s->full ? ensemble_step(s->full, t_ms, value) : detect_step(&s->st, t_ms, value);
    return detect_events_feed(&s->ev, t_ms, *score, closed) != 0;
}

size_t series_table_flush(series_table *t, series_event_fn fn, void *ctx)
{
    size_t n = 0;
    for (size_t i = 0; i < t->names.cap; i++) {
        series *s = t->names.vals[i];
        detect_event e;
        if (s && detect_events_flush(&s->ev, &e)) {
            fn(ctx, s, &e);
            n++;
        }
    }
    return n;
}

char *series_event_json(const char *name, const detect_event *e)
{
    char a[JST_TEXT_MAX], b[JST_TEXT_MAX], c[JST_TEXT_MAX];
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "series", json_string(name));
    json_object_set_new(o, "start", json_string(jst_format(e->start_ms, a, sizeof a)));
    json_object_set_new(o, "peak_at", json_string(jst_format(e->peak_ms, b, sizeof b)));
    json_object_set_new(o, "peak_score", json_real(e->peak));
    json_object_set_new(o, "end", json_string(jst_format(e->end_ms, c, sizeof c)));
    char *s = json_text_of(o, JSON_REAL_PRECISION(4), false, NULL);
    json_decref(o);
    return s;
}
