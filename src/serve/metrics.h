/*
 * metrics.h — the server's own figures, exposed at /metrics in the
 * Prometheus text exposition format 0.0.4: requests by route and status, a
 * latency histogram by route, refusals by reason, the admission queue's
 * depth, resident memory, open incidents and the webhook outbox.
 *
 * Counters are atomics: every request thread adds to them without a lock.
 */
#ifndef JIKO_METRICS_H
#define JIKO_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "key_hint.h"
#include "route.h"

/* Why a request was refused before its handler ran (docs/api.md). */
typedef enum metrics_refusal {
    METRICS_REFUSED_OVERLOAD_QUEUE = 0, /* 503: too many requests in progress */
    METRICS_REFUSED_OVERLOAD_MEMORY,    /* 503: resident memory above the limit */
    METRICS_REFUSED_RATE,               /* 429: the token's rate limit */
    METRICS_REFUSED_BODY_SIZE,          /* 413 */
    METRICS_REFUSED_UNAUTHORIZED,       /* 401 */
    METRICS_REFUSED_FORBIDDEN,          /* 403 */
    METRICS_REFUSALS
} metrics_refusal;

typedef struct metrics metrics;

metrics *metrics_new(void);
void metrics_free(metrics *m);

/* One finished request. */
void metrics_request(metrics *m, route_id route, int status, double seconds);
void metrics_refused(metrics *m, metrics_refusal why);
/* A run of `n` reads answered from one registry snapshot (server.c). */
void metrics_read_run(metrics *m, int n);

/* The gauges, read when scraped. */
typedef struct metrics_gauges {
    long inflight;        /* admitted requests not yet answered */
    long inflight_limit;
    int64_t rss_bytes;
    long open_incidents;  /* -1: unknown (the registry could not be read) */
    long tokens;          /* active API tokens */
    long connections;     /* open client connections */
    const live_stats *live; /* the live engine's figures; NULL: none */
    /* the webhook outbox by state; pending < 0: unknown (not shown) */
    long webhook_pending, webhook_delivered, webhook_given_up;
    const key_hint_stats *hint; /* the registry's key hint; NULL: none */
} metrics_gauges;

/* The exposition text (malloc'd, *len bytes), or NULL when out of memory. */
char *metrics_render(metrics *m, const metrics_gauges *g, size_t *len);

#endif
