/*
 * series.h — the series table: one anomaly detector and one event tracker
 * per KPI series, looked up by the series' name.
 *
 * A name is whatever identifies the series to people: the first column of
 * a multi-series CSV, the file of a one-series CSV, or, for an ingested
 * sample, "metric{k=v,...}" with the labels in their sorted order
 * (series_name_build).  Every series of a table shares one detector
 * configuration and one alert threshold, since detector scores are
 * calibrated to mean the same on every series.
 *
 * Memory: one allocation per series (about 1 KiB, see detect.h; about
 * 8 KiB with the full detector, ensemble.h) and the
 * name's copy; nothing per point.  Names are built in a scratch buffer the
 * table grows as needed: a name is never cut short, however many or long
 * its labels, because a cut name would merge distinct series.
 */
#ifndef JIKO_SERIES_H
#define JIKO_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect.h"
#include "ensemble.h"
#include "sample.h"
#include "strmap.h"

/* An event ends after this many points below the threshold: an hour at
 * 5-minute sampling, so that an incident that flickers around the threshold
 * is one event, not several. */
#define SERIES_EVENT_QUIET_POINTS 12

typedef struct series {
    const char *name; /* the table's copy; lives as long as the table */
    ensemble_state *full; /* the full detector (same allocation), or NULL:
                             the light one, st */
    detect_state st;
    detect_events ev;
} series;

/* Series a table holds unless told otherwise: about 100 MiB of detectors.
 * A stream that names more is refused beyond the cap rather than allowed to
 * take all memory (10 million series took 11.6 GB). */
#define SERIES_MAX_DEFAULT 100000

typedef struct series_table {
    strmap names;          /* name -> series */
    size_t count, max;     /* series held, and the cap on them */
    bool full;             /* a new series was refused at the cap */
    detect_config cfg;     /* for every new series */
    bool use_full;         /* new series get the full detector (ensemble.h) */
    ensemble_config full_cfg;
    double threshold;      /* events: score that opens one */
    char *scratch;         /* names of samples are built here */
    size_t scratch_cap;
} series_table;

/* An empty table holding at most SERIES_MAX_DEFAULT series (set t->max
 * after init to change it); cfg is copied. */
void series_table_init(series_table *t, const detect_config *cfg, double threshold);

/* New series get the full detector (ensemble.h, about 7 KiB each) with a
 * copy of c instead of the light one; call before the first series. */
void series_table_use_full(series_table *t, const ensemble_config *c);

/* Free every series and name. */
void series_table_free(series_table *t);

/* The series of that name (len bytes, need not be NUL-terminated), added
 * when new; NULL when out of memory (a later call may succeed) or, with
 * t->full set, when it is new and the table holds t->max series already. */
series *series_get(series_table *t, const char *name, size_t len);

/* The series of an ingested sample, named by series_name_build; NULL when
 * out of memory. */
series *series_of_sample(series_table *t, const ingest_sample *smp);

/* "metric{k=v,...}" (just "metric" without labels), the labels in the
 * order the sample has them (sorted, see sample.h), into *buf, which is
 * grown with realloc as needed (*buf may start NULL with *cap 0).  The
 * name is NUL-terminated and its length is stored in *len.  Returns 0, or
 * -1 when out of memory (the buffer is then left as it was). */
int series_name_build(const ingest_sample *smp, char **buf, size_t *cap, size_t *len);

/* Score one point of series s (detect_step, or ensemble_step for the full
 * detector) and follow its events.  Stores
 * the score in *score; returns true and fills *closed when an event ended
 * with this point. */
bool series_feed(series *s, int64_t t_ms, double value, double *score, detect_event *closed);

/* At the end of the stream: calls fn for every series with an open event
 * (in the table's slot order), closing it.  Returns how many there were. */
typedef void (*series_event_fn)(void *ctx, const series *s, const detect_event *e);
size_t series_table_flush(series_table *t, series_event_fn fn, void *ctx);

/* One event as a JSON object on one line (series, start, peak_at,
 * peak_score with 4 significant digits, end; times in JST), without a line
 * end; malloc'd, NULL when out of memory. */
char *series_event_json(const char *name, const detect_event *e);

#endif
