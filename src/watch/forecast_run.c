/* forecast_run.c — a forecaster over one stream of samples (see forecast_run.h). */
#include "forecast_run.h"

#include <stdio.h>

#include <jansson.h>
#include <stdlib.h>

#include "jst.h"
#include "json_text.h"

/* rate_per_hour is the rate per second times this */
#define SEC_PER_HOUR 3600.0

int forecast_run_init(forecast_run *run, const forecast_config *cfg, double limit,
                      jiko_error *err)
{
    run->source = NULL;
    run->warned = false;
    run->samples = 0;
    run->last_ms = 0;
    return forecast_init(&run->st, cfg, limit, err);
}

int forecast_run_feed(forecast_run *run, long line, int64_t t_ms, double value,
                      const char *value_text, forecast_result *out, jiko_error *err)
{
    int step = forecast_step(&run->st, t_ms, value);
    if (step == FORECAST_ERR_VALUE) {
        char shown[32];
        if (!value_text) {
            snprintf(shown, sizeof shown, "%g", value);
            value_text = shown;
        }
        error_set(err, JIKO_ERR_INVALID, run->source, line, "value",
                  "'%.40s' is not a finite number", value_text);
        return -1;
    }
    if (step != FORECAST_OK) {
        error_set(err, JIKO_ERR_INVALID, run->source, line, "timestamp",
                  "earlier than the previous sample");
        return -1;
    }
    run->samples++;
    run->last_ms = t_ms;
    forecast_eval(&run->st, t_ms, out);
    if (out->warn == run->warned)
        return FORECAST_RUN_NONE;
    run->warned = out->warn;
    return out->warn ? FORECAST_RUN_WARNING : FORECAST_RUN_WARNING_ENDED;
}

int forecast_run_final(const forecast_run *run, forecast_result *out, jiko_error *err)
{
    if (!run->samples) {
        error_set(err, JIKO_ERR_INVALID, run->source, 0, NULL, "no samples");
        return -1;
    }
    forecast_eval(&run->st, run->last_ms, out);
    return 0;
}

const char *forecast_run_event_name(forecast_run_event ev)
{
    switch (ev) {
    case FORECAST_RUN_WARNING: return "warning";
    case FORECAST_RUN_WARNING_ENDED: return "warning-ended";
    case FORECAST_RUN_FINAL: return "final";
    case FORECAST_RUN_NONE: break;
    }
    return "";
}

/* A time in JST, or null when there is none. */
static json_t *time_or_null(bool has, int64_t ms)
{
    char buf[JST_TEXT_MAX];
    return has ? json_string(jst_format(ms, buf, sizeof buf)) : json_null();
}

char *forecast_run_json(const forecast_result *r, forecast_run_event ev)
{
    char now[JST_TEXT_MAX];
    bool has_eta = r->eta_ms != FORECAST_NEVER;
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "event", json_string(forecast_run_event_name(ev)));
    json_object_set_new(o, "at", json_string(jst_format(r->now_ms, now, sizeof now)));
    json_object_set_new(o, "status", json_string(forecast_status_name(r->status)));
    json_object_set_new(o, "warn", json_boolean(r->warn));
    json_object_set_new(o, "value", json_real(r->value));
    json_object_set_new(o, "limit", json_real(r->limit));
    json_object_set_new(o, "eta", time_or_null(has_eta, r->eta_ms));
    json_object_set_new(o, "early", time_or_null(has_eta, r->early_ms));
    json_object_set_new(o, "late", time_or_null(r->late_ms != FORECAST_NEVER, r->late_ms));
    json_object_set_new(o, "rate_per_hour", json_real(r->rate_per_s * SEC_PER_HOUR));
    json_object_set_new(o, "basis", r->basis ? json_string(r->basis) : json_null());
    char *s = json_text_of(o, JSON_REAL_PRECISION(6), false, NULL);
    json_decref(o);
    return s;
}
