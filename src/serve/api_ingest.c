/*
 * api_ingest.c — the ingest endpoints (api_ingest.h).
 */
#include "api_ingest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "ingest_influx.h"
#include "ingest_prom.h"
#include "jst.h"

/* A text/plain answer, as Prometheus' receiver gives its errors. */
static void plain(reply *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void plain(reply *out, int status, const char *fmt, ...)
{
    char buf[ERROR_TEXT_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    n = n < 0 ? 0 : n >= (int)sizeof buf ? (int)sizeof buf - 1 : n;
    char *text = strndup(buf, (size_t)n);
    if (!text) {
        reply_json(out, 503, NULL);
        return;
    }
    reply_take(out, status, "text/plain; charset=utf-8", text, (size_t)n);
}

static bool operator_token(const api_request *rq, reply *out)
{
    if (rq->who->op)
        return true;
    reply_error(out, 403, "forbidden", NULL,
                "an ingest token must belong to an operator (jiko token create --role ingest "
                "--operator NAME)");
    return false;
}

/* Store what the batch changed; false (and the answer made) when that
 * failed: the sender should retry. */
static bool commit(live_batch *b, const api_request *rq, reply *out)
{
    jiko_error err;
    if (live_commit(b, rq->db, rq->now_ms, &err) == 0)
        return true;
    reply_from_error(out, &err);
    if (out->status < 500) /* a store failure is ours, not the sender's */
        reply_error(out, 503, "unavailable", NULL, "the incident changes could not be stored: %s",
                    err.message);
    out->retry_after = 1;
    return false;
}

void api_write_prom(const api_env *env, const api_request *rq, reply *out)
{
    if (!operator_token(rq, out))
        return;
    live_batch *b = live_begin(env->engine, rq->who->op);
    if (!b) {
        reply_json(out, 503, NULL);
        return;
    }
    ingest_prom_opts o = ingest_prom_defaults();
    o.source = "remote_write body";
    ingest_stats st;
    jiko_error err;
    int rc = ingest_prom_parse(&o, rq->body, rq->body_len, live_feed, b, &st, &err);
    if (!commit(b, rq, out))
        return;
    char msg[ERROR_TEXT_MAX];
    if (rc == INGEST_FAILED)
        plain(out, 400, "%s\n", err.message);
    else if (st.rejected)
        plain(out, 400, "%zu of %zu series rejected (the others were taken); first: %s\n",
              st.rejected, st.records, ingest_error_format(&st.first, msg, sizeof msg));
    else
        reply_take(out, 204, NULL, NULL, 0);
}

/* InfluxDB v2's error body. */
static void influx_error(reply *out, int status, const char *code, const char *message)
{
    json_t *o = json_pack("{s:s, s:s}", "code", code, "message", message);
    reply_json(out, status, o);
}

/* Influx samples are named "measurement.field"; the field "value" gives the
 * measurement's name alone, as Telegraf's Prometheus output names it, so
 * that `dns_failure_ratio,site=tokyo value=0.9` and Prometheus' series
 * dns_failure_ratio{site="tokyo"} are selected by the same [watch]. */
static int influx_feed(void *batch, const ingest_sample *s)
{
    if (s->metric_len > 6 && memcmp(s->metric + s->metric_len - 6, ".value", 6) == 0) {
        ingest_sample named = *s;
        named.metric_len -= 6;
        return live_feed(batch, &named);
    }
    return live_feed(batch, s);
}

static int count_only(void *ctx, const ingest_sample *s)
{
    (void)ctx;
    (void)s;
    return 0;
}

void api_write_influx(const api_env *env, const api_request *rq, reply *out)
{
    if (!operator_token(rq, out))
        return;
    ingest_influx_opts o = ingest_influx_defaults();
    o.source = "line protocol body";
    o.default_t_ms = rq->now_ms;
    jiko_error err;
    const char *p = route_query(rq->route, "precision");
    if (p && ingest_influx_precision_parse(p, &o.precision, &err)) {
        influx_error(out, 400, "invalid", err.message);
        return;
    }
    /* all or nothing, as InfluxDB: read the whole body before feeding */
    ingest_stats st;
    int rc = ingest_influx_parse(&o, rq->body, rq->body_len, count_only, NULL, &st, &err);
    if (rc == INGEST_FAILED) {
        influx_error(out, 503, "internal error", err.message);
        return;
    }
    if (st.rejected) {
        char msg[ERROR_TEXT_MAX], text[ERROR_TEXT_MAX + 96];
        snprintf(text, sizeof text, "%zu of %zu lines are bad, nothing was written; first: %s",
                 st.rejected, st.records, ingest_error_format(&st.first, msg, sizeof msg));
        influx_error(out, 400, "invalid", text);
        return;
    }
    live_batch *b = live_begin(env->engine, rq->who->op);
    if (!b) {
        reply_json(out, 503, NULL);
        return;
    }
    ingest_influx_parse(&o, rq->body, rq->body_len, influx_feed, b, &st, &err);
    if (commit(b, rq, out))
        reply_take(out, 204, NULL, NULL, 0);
}

/* ---- Alertmanager ---- */

static int alert_time(json_t *a, const char *key, int64_t *ms, char *why, size_t size)
{
    const char *s = json_string_value(json_object_get(a, key));
    const char *bad = NULL;
    if (!s || !jst_parse_rfc3339(s, strlen(s), ms, &bad)) {
        snprintf(why, size, "'%s' must be an RFC 3339 time%s%s", key, bad ? ": " : "",
                 bad ? bad : "");
        return -1;
    }
    return 0;
}

/* One alert into the batch; -1 with `why` when it is malformed. */
static int one_alert(live_batch *b, json_t *a, bool *matched, char *why, size_t size)
{
    const char *status = json_string_value(json_object_get(a, "status"));
    json_t *labels = json_object_get(a, "labels");
    if (!json_is_object(a) || !status ||
        (strcmp(status, "firing") != 0 && strcmp(status, "resolved") != 0)) {
        snprintf(why, size, "'status' must be \"firing\" or \"resolved\"");
        return -1;
    }
    if (!json_is_object(labels) || json_object_size(labels) == 0) {
        snprintf(why, size, "'labels' must be an object of strings");
        return -1;
    }
    if (json_object_size(labels) > INGEST_MAX_LABELS) {
        snprintf(why, size, "at most %d labels", INGEST_MAX_LABELS);
        return -1;
    }
    ingest_sample s;
    memset(&s, 0, sizeof s);
    s.metric = "";
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v)
    {
        if (!json_is_string(v) || !k[0]) {
            snprintf(why, size, "label '%s' must have a string value", k);
            return -1;
        }
        ingest_label *l = &s.labels[s.n_labels++];
        l->name = k;
        l->name_len = strlen(k);
        l->value = json_string_value(v);
        l->value_len = json_string_length(v);
    }
    ingest_labels_sort(s.labels, s.n_labels);
    bool firing = strcmp(status, "firing") == 0;
    int64_t starts, ends = 0;
    if (alert_time(a, "startsAt", &starts, why, size) ||
        (!firing && alert_time(a, "endsAt", &ends, why, size)))
        return -1;
    *matched = live_alert(b, &s, firing, starts, ends);
    return 0;
}

void api_alerts(const api_env *env, const api_request *rq, reply *out)
{
    if (!operator_token(rq, out))
        return;
    json_error_t jerr;
    json_t *doc = json_loadb(rq->body, rq->body_len, 0, &jerr);
    if (!doc) {
        reply_error(out, 400, "invalid", NULL, "the body is not JSON: %s (line %d)", jerr.text,
                    jerr.line);
        return;
    }
    const char *version = json_string_value(json_object_get(doc, "version"));
    json_t *alerts = json_object_get(doc, "alerts");
    if (!version || strcmp(version, "4") != 0) {
        reply_error(out, 400, "invalid", "version",
                    "expected Alertmanager's webhook payload version \"4\"");
        json_decref(doc);
        return;
    }
    if (!json_is_array(alerts)) {
        reply_error(out, 400, "invalid", "alerts", "expected an array of alerts");
        json_decref(doc);
        return;
    }
    live_batch *b = live_begin(env->engine, rq->who->op);
    if (!b) {
        json_decref(doc);
        reply_json(out, 503, NULL);
        return;
    }
    size_t matched = 0, bad = 0, first_bad = 0;
    char why[256] = "", first_why[256] = "";
    for (size_t i = 0; i < json_array_size(alerts); i++) {
        bool m = false;
        if (one_alert(b, json_array_get(alerts, i), &m, why, sizeof why)) {
            if (!bad++) {
                first_bad = i;
                snprintf(first_why, sizeof first_why, "%s", why);
            }
        }
        matched += m;
    }
    size_t n = json_array_size(alerts);
    json_decref(doc);
    if (!commit(b, rq, out))
        return;
    if (bad) {
        char field[32];
        snprintf(field, sizeof field, "alerts[%zu]", first_bad);
        reply_error(out, 400, "invalid", field,
                    "%zu of %zu alerts are malformed (the others were taken); first: %s", bad, n,
                    first_why);
        return;
    }
    reply_json(out, 200, json_pack("{s:I, s:I}", "alerts", (json_int_t)n, "matched",
                                   (json_int_t)matched));
}
