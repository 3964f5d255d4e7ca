/*
 * route.h — which API call a request is: the method and the request target
 * (path and query, as they arrived on the wire) → a route and its decoded
 * parameters.
 *
 * Pure and allocation-light, so that it can be fuzzed on its own: the path
 * segments and query values are percent-decoded here (not by the HTTP
 * library, which would turn an operator name holding "%2F" into two path
 * segments), checked to be UTF-8 without control characters, and the query
 * keys checked against those the route takes.  Operators are Japanese
 * company names, so `{operator}` and `{id}` are percent-encoded UTF-8.
 */
#ifndef JIKO_ROUTE_H
#define JIKO_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef enum route_id {
    ROUTE_NONE = 0,
    ROUTE_HEALTHZ,          /* GET /healthz */
    ROUTE_METRICS,          /* GET /metrics */
    ROUTE_INCIDENTS,        /* GET, POST /api/v1/incidents */
    ROUTE_INCIDENT,         /* GET /api/v1/incidents/{operator}/{id} */
    ROUTE_HISTORY,          /* GET /api/v1/incidents/{operator}/{id}/history */
    ROUTE_CLASSIFY,         /* POST /api/v1/classify */
    ROUTE_RULES,            /* GET /api/v1/rules */
    ROUTE_RULEBOOK,         /* GET /api/v1/rules/{id} */
    ROUTE_REPORT_FY,        /* GET /api/v1/reports/fy/{year} */
    ROUTE_REPORT_INCIDENT,  /* GET /api/v1/reports/incident/{operator}/{id} */
    ROUTE_REPORT_QUARTER,   /* GET /api/v1/reports/quarter/{year}/{q} */
    ROUTE_WRITE_PROM,       /* POST /api/v1/write (Prometheus remote_write) */
    ROUTE_WRITE_INFLUX,     /* POST /api/v2/write (InfluxDB v2 line protocol) */
    ROUTE_ALERTS,           /* POST /api/v1/alerts (Alertmanager webhook) */
    ROUTE_SERIES,           /* GET /api/v1/incidents/{operator}/{id}/series (live KPIs) */
    ROUTE_WHOAMI,           /* GET /api/v1/whoami (the token's role and operator) */
    ROUTE_DASHBOARD,        /* GET / (the dashboard's page) */
    ROUTE_ASSET,            /* GET /web/{file} (its scripts, styles, uPlot) */
    ROUTE_NOTICE_DRAFT,     /* GET /api/v1/incidents/{operator}/{id}/notices/draft */
    ROUTE_NOTICES,          /* POST /api/v1/incidents/{operator}/{id}/notices */
    ROUTE_STATUS,           /* GET /status/{operator} (public HTML) */
    ROUTE_STATUS_FEED,      /* GET /status/{operator}/feed.atom (public Atom) */
    ROUTE_COUNT
} route_id;

typedef enum route_method {
    ROUTE_GET = 1,
    ROUTE_HEAD = 2,
    ROUTE_POST = 4,
    ROUTE_OTHER = 8
} route_method;

#define ROUTE_QUERY_MAX 12     /* query parameters one request may carry */
#define ROUTE_TARGET_MAX 8192  /* longest request target */

typedef struct route_param {
    const char *key, *value; /* decoded, NUL-terminated, inside the match */
} route_param;

typedef struct route_match {
    route_id id;
    route_method method;
    /* Path parameters (decoded; NULL when the route has none). */
    const char *op, *incident, *rulebook, *file;
    int year, quarter;
    route_param query[ROUTE_QUERY_MAX];
    int n_query;
    char *buf; /* the decoded copy everything above points into */
} route_match;

/* The method's bit (ROUTE_OTHER for any method the API does not use). */
route_method route_method_of(const char *method);

/* Match a request.  Returns 0 with *m filled (free with route_free), or -1
 * with err: kind JIKO_ERR_NOT_FOUND (no such route), JIKO_ERR_INVALID (bad
 * percent-encoding, invalid UTF-8, a control character, an unknown or
 * repeated query parameter, a year or quarter out of range; the field names
 * the parameter) or JIKO_ERR_NOMEM.  A known route with a method it does
 * not take is matched, with route_allows() false. */
int route_parse(const char *method, const char *target, route_match *m, jiko_error *err);

/* Whether the route takes the request's method (HEAD wherever GET). */
bool route_allows(const route_match *m);

/* The methods a route takes, for the Allow header: "GET, HEAD", "POST". */
const char *route_allow_header(route_id id);

/* The route's path template, for metrics: "/api/v1/incidents/{operator}/{id}";
 * "other" for ROUTE_NONE. */
const char *route_name(route_id id);

/* A query parameter's decoded value, or NULL when absent. */
const char *route_query(const route_match *m, const char *key);

void route_free(route_match *m);

/* Percent-decode s[0..n) into out (room for n + 1 bytes), '+' as a space
 * when `plus_is_space` (query strings).  Returns the decoded length, or -1
 * for a '%' not followed by two hex digits. */
long route_decode(const char *s, size_t n, bool plus_is_space, char *out);

/* Whether the route takes KPI samples or alerts (role ingest). */
static inline bool route_ingests(route_id id)
{
    return id == ROUTE_WRITE_PROM || id == ROUTE_WRITE_INFLUX || id == ROUTE_ALERTS;
}

/* Whether the route is public: no token, answered as HTML or Atom. */
static inline bool route_public(route_id id)
{
    return id == ROUTE_STATUS || id == ROUTE_STATUS_FEED;
}

#endif
