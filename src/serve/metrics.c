/* metrics.c — counters and their exposition (metrics.h). */
#include "metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

/* Statuses counted on their own; anything else is "other". */
static const int statuses[] = {200, 201, 204, 304, 400, 401, 403, 404, 405, 409,
                               413, 415, 429, 431, 500, 503};
#define N_STATUS (sizeof statuses / sizeof statuses[0] + 1)

/* Latency buckets (seconds): fine below 5 ms, where the API's goal is. */
static const double buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                 0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5, 10};
#define N_BUCKET (sizeof buckets / sizeof buckets[0])

static const char *const refusal_names[METRICS_REFUSALS] = {
    "overload_queue", "overload_memory", "rate_limit", "body_too_large", "unauthorized",
    "forbidden"};

struct metrics {
    atomic_ulong requests[ROUTE_COUNT][N_STATUS];
    atomic_ulong latency[ROUTE_COUNT][N_BUCKET + 1]; /* per bucket, not cumulative */
    atomic_ullong latency_us[ROUTE_COUNT];
    atomic_ulong refused[METRICS_REFUSALS];
    atomic_ulong read_runs, read_run_requests;
};

metrics *metrics_new(void)
{
    metrics *m = calloc(1, sizeof *m); /* all-zero atomics are valid zero counters */
    return m;
}

void metrics_free(metrics *m)
{
    free(m);
}

void metrics_request(metrics *m, route_id route, int status, double seconds)
{
    if ((unsigned)route >= ROUTE_COUNT)
        route = ROUTE_NONE;
    size_t s = N_STATUS - 1;
    for (size_t i = 0; i + 1 < N_STATUS; i++)
        if (statuses[i] == status)
            s = i;
    atomic_fetch_add_explicit(&m->requests[route][s], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < N_BUCKET && seconds > buckets[b])
        b++;
    atomic_fetch_add_explicit(&m->latency[route][b], 1, memory_order_relaxed);
    double us = seconds * 1e6;
    atomic_fetch_add_explicit(&m->latency_us[route], us > 0 ? (unsigned long long)us : 0,
                              memory_order_relaxed);
}

void metrics_refused(metrics *m, metrics_refusal why)
{
    if ((unsigned)why < METRICS_REFUSALS)
        atomic_fetch_add_explicit(&m->refused[why], 1, memory_order_relaxed);
}

void metrics_read_run(metrics *m, int n)
{
    atomic_fetch_add_explicit(&m->read_runs, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->read_run_requests, (unsigned long)n, memory_order_relaxed);
}

char *metrics_render(metrics *m, const metrics_gauges *g, size_t *len)
{
    char *text = NULL;
    FILE *out = open_memstream(&text, len);
    if (!out)
        return NULL;
    fputs("# HELP jiko_http_requests_total Requests answered, by route and status.\n"
          "# TYPE jiko_http_requests_total counter\n", out);
    for (int r = 0; r < ROUTE_COUNT; r++)
        for (size_t s = 0; s < N_STATUS; s++) {
            unsigned long n = atomic_load_explicit(&m->requests[r][s], memory_order_relaxed);
            if (!n)
                continue;
            char code[12];
            if (s + 1 < N_STATUS)
                snprintf(code, sizeof code, "%d", statuses[s]);
            else
                snprintf(code, sizeof code, "other");
            fprintf(out, "jiko_http_requests_total{route=\"%s\",status=\"%s\"} %lu\n",
                    route_name((route_id)r), code, n);
        }
    fputs("# HELP jiko_http_request_duration_seconds Time from the request's headers to its "
          "answer, by route.\n"
          "# TYPE jiko_http_request_duration_seconds histogram\n", out);
    for (int r = 0; r < ROUTE_COUNT; r++) {
        unsigned long cum = 0;
        unsigned long counts[N_BUCKET + 1];
        for (size_t b = 0; b <= N_BUCKET; b++)
            counts[b] = atomic_load_explicit(&m->latency[r][b], memory_order_relaxed);
        unsigned long total = 0;
        for (size_t b = 0; b <= N_BUCKET; b++)
            total += counts[b];
        if (!total)
            continue;
        const char *name = route_name((route_id)r);
        for (size_t b = 0; b < N_BUCKET; b++) {
            cum += counts[b];
            fprintf(out,
                    "jiko_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lu\n",
                    name, buckets[b], cum);
        }
        fprintf(out, "jiko_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lu\n",
                name, total);
        fprintf(out, "jiko_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", name,
                (double)atomic_load_explicit(&m->latency_us[r], memory_order_relaxed) / 1e6);
        fprintf(out, "jiko_http_request_duration_seconds_count{route=\"%s\"} %lu\n", name, total);
    }
    fputs("# HELP jiko_http_refused_total Requests refused before their handler ran, by reason.\n"
          "# TYPE jiko_http_refused_total counter\n", out);
    for (int i = 0; i < METRICS_REFUSALS; i++)
        fprintf(out, "jiko_http_refused_total{reason=\"%s\"} %lu\n", refusal_names[i],
                atomic_load_explicit(&m->refused[i], memory_order_relaxed));
    fprintf(out,
            "# HELP jiko_http_read_runs_total Runs of reads taken from the queue together and "
            "answered from one registry snapshot.\n"
            "# TYPE jiko_http_read_runs_total counter\n"
            "jiko_http_read_runs_total %lu\n"
            "# HELP jiko_http_read_run_requests_total Requests answered in those runs.\n"
            "# TYPE jiko_http_read_run_requests_total counter\n"
            "jiko_http_read_run_requests_total %lu\n",
            atomic_load_explicit(&m->read_runs, memory_order_relaxed),
            atomic_load_explicit(&m->read_run_requests, memory_order_relaxed));
    fprintf(out,
            "# HELP jiko_http_inflight_requests Admitted requests not yet answered (the "
            "admission queue).\n"
            "# TYPE jiko_http_inflight_requests gauge\n"
            "jiko_http_inflight_requests %ld\n"
            "# HELP jiko_http_inflight_limit Admitted requests beyond which new ones get 503.\n"
            "# TYPE jiko_http_inflight_limit gauge\n"
            "jiko_http_inflight_limit %ld\n"
            "# HELP jiko_http_connections Open client connections.\n"
            "# TYPE jiko_http_connections gauge\n"
            "jiko_http_connections %ld\n"
            "# HELP jiko_resident_memory_bytes Resident memory of the server process.\n"
            "# TYPE jiko_resident_memory_bytes gauge\n"
            "jiko_resident_memory_bytes %lld\n"
            "# HELP jiko_api_tokens Active API tokens.\n"
            "# TYPE jiko_api_tokens gauge\n"
            "jiko_api_tokens %ld\n",
            g->inflight, g->inflight_limit, g->connections, (long long)g->rss_bytes, g->tokens);
    if (g->open_incidents >= 0)
        fprintf(out,
                "# HELP jiko_open_incidents Incidents in the registry that have not ended.\n"
                "# TYPE jiko_open_incidents gauge\n"
                "jiko_open_incidents %ld\n",
                g->open_incidents);
    if (g->live) {
        const live_stats *l = g->live;
        fprintf(out,
                "# HELP jiko_live_samples_total KPI samples fed to the live engine's detectors.\n"
                "# TYPE jiko_live_samples_total counter\n"
                "jiko_live_samples_total{watched=\"true\"} %llu\n"
                "jiko_live_samples_total{watched=\"false\"} %llu\n"
                "# HELP jiko_live_refused_samples_total Samples of new series refused beyond "
                "max_series.\n"
                "# TYPE jiko_live_refused_samples_total counter\n"
                "jiko_live_refused_samples_total %llu\n"
                "# HELP jiko_live_series Series the live engine holds a detector for.\n"
                "# TYPE jiko_live_series gauge\n"
                "jiko_live_series %zu\n"
                "# HELP jiko_live_state_bytes Memory of the series: detector states, names, "
                "the table.\n"
                "# TYPE jiko_live_state_bytes gauge\n"
                "jiko_live_state_bytes %zu\n"
                "# HELP jiko_live_alerts_total Alertmanager alerts received, by status and "
                "whether a watch selected them.\n"
                "# TYPE jiko_live_alerts_total counter\n"
                "jiko_live_alerts_total{status=\"firing\"} %llu\n"
                "jiko_live_alerts_total{status=\"resolved\"} %llu\n"
                "jiko_live_alerts_total{status=\"unmatched\"} %llu\n"
                "# HELP jiko_live_incidents_total Incidents the live engine opened, updated and "
                "closed.\n"
                "# TYPE jiko_live_incidents_total counter\n"
                "jiko_live_incidents_total{change=\"opened\"} %llu\n"
                "jiko_live_incidents_total{change=\"updated\"} %llu\n"
                "jiko_live_incidents_total{change=\"closed\"} %llu\n"
                "jiko_live_incidents_total{change=\"dropped\"} %llu\n"
                "# HELP jiko_live_open_incidents Incidents the live engine has open.\n"
                "# TYPE jiko_live_open_incidents gauge\n"
                "jiko_live_open_incidents %zu\n"
                "# HELP jiko_live_events_total Events raised (opened, updated, serious_soon, "
                "serious, closed, deadline.soon).\n"
                "# TYPE jiko_live_events_total counter\n"
                "jiko_live_events_total %llu\n",
                (unsigned long long)(l->samples - l->unwatched),
                (unsigned long long)l->unwatched, (unsigned long long)l->refused_series,
                l->series, l->state_bytes, (unsigned long long)l->alerts_firing,
                (unsigned long long)l->alerts_resolved, (unsigned long long)l->alerts_unmatched,
                (unsigned long long)l->opened, (unsigned long long)l->updated,
                (unsigned long long)l->closed, (unsigned long long)l->dropped, l->open_incidents,
                (unsigned long long)l->events);
    }
    if (g->webhook_pending >= 0)
        fprintf(out,
                "# HELP jiko_webhook_messages Messages in the webhook outbox, by state.\n"
                "# TYPE jiko_webhook_messages gauge\n"
                "jiko_webhook_messages{state=\"pending\"} %ld\n"
                "jiko_webhook_messages{state=\"delivered\"} %ld\n"
                "jiko_webhook_messages{state=\"given_up\"} %ld\n",
                g->webhook_pending, g->webhook_delivered, g->webhook_given_up);
    if (g->hint)
        fprintf(out,
                "# HELP jiko_registry_key_hint_reads_total Reads of an incident by (operator, "
                "id): through the key hint (hit), through the index with no hint (miss) or a "
                "wrong one (stale).\n"
                "# TYPE jiko_registry_key_hint_reads_total counter\n"
                "jiko_registry_key_hint_reads_total{result=\"hit\"} %lu\n"
                "jiko_registry_key_hint_reads_total{result=\"miss\"} %lu\n"
                "jiko_registry_key_hint_reads_total{result=\"stale\"} %lu\n"
                "# HELP jiko_registry_key_hint_slots Incidents the key hint can hold.\n"
                "# TYPE jiko_registry_key_hint_slots gauge\n"
                "jiko_registry_key_hint_slots %lu\n"
                "# HELP jiko_registry_key_hint_filled Slots of the key hint written (evictions reuse "
                "them).\n"
                "# TYPE jiko_registry_key_hint_filled gauge\n"
                "jiko_registry_key_hint_filled %lu\n",
                g->hint->reads[KEY_HINT_HIT], g->hint->reads[KEY_HINT_MISS],
                g->hint->reads[KEY_HINT_STALE], g->hint->slots, g->hint->filled);
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
