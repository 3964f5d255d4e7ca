/*
 * forecast_run.h — a capacity forecaster over one stream of samples: what
 * `jiko forecast` reports.
 *
 * forecast.h answers "when will this gauge run out, as of now?".  A run
 * feeds it every sample, evaluates after each one, and turns the answers
 * into events a person or a script acts on: the warning starts, the warning
 * ends, and the forecast at the last sample (final).  Repeating "still
 * warning" after every sample would bury the two moments that matter.
 */
#ifndef JIKO_FORECAST_RUN_H
#define JIKO_FORECAST_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "forecast.h"

typedef enum forecast_run_event {
    FORECAST_RUN_NONE = 0,      /* nothing changed */
    FORECAST_RUN_WARNING,       /* the early bound came within the horizon */
    FORECAST_RUN_WARNING_ENDED, /* ... and left it again */
    FORECAST_RUN_FINAL,         /* the forecast at the last sample */
} forecast_run_event;

typedef struct forecast_run {
    forecast_state st;
    const char *source; /* names the input in errors ("<stdin>", a path); may
                           be NULL, and set at any time before it is needed */
    bool warned;        /* the last evaluation warned */
    int64_t samples;    /* accepted */
    int64_t last_ms;    /* time of the last accepted sample */
} forecast_run;

/* Start a run for a gauge whose limit is `limit` (> 0, finite); cfg may be
 * NULL for the defaults.  Returns 0, or -1 with err (from forecast_init). */
int forecast_run_init(forecast_run *run, const forecast_config *cfg, double limit,
                      jiko_error *err);

/* Feed one sample (from line `line` of the source; 0 when not from a line)
 * and evaluate.  Returns FORECAST_RUN_WARNING or FORECAST_RUN_WARNING_ENDED
 * with *out filled when the warning changed, FORECAST_RUN_NONE otherwise,
 * or -1 with err (kind JIKO_ERR_INVALID) when the forecaster refused the
 * sample: field 'timestamp' when its time goes back, field 'value' when the
 * value is not a finite number (shown as `value_text`, the value as written,
 * when given).  A refused sample changes nothing. */
int forecast_run_feed(forecast_run *run, long line, int64_t t_ms, double value,
                      const char *value_text, forecast_result *out, jiko_error *err);

/* The forecast at the last accepted sample: returns 0 with *out filled
 * (out->warn: a warning at the end), or -1 with err (kind
 * JIKO_ERR_INVALID) when no sample was accepted. */
int forecast_run_final(const forecast_run *run, forecast_result *out, jiko_error *err);

/* "warning", "warning-ended", "final" ("" for FORECAST_RUN_NONE). */
const char *forecast_run_event_name(forecast_run_event ev);

/* An event as a JSON object on one line (event, at, status, warn, value,
 * limit, eta, early, late, rate_per_hour, basis; numbers with 6 significant
 * digits, times in JST, null where there is none), without a line end;
 * malloc'd, NULL when out of memory. */
char *forecast_run_json(const forecast_result *r, forecast_run_event ev);

#endif
