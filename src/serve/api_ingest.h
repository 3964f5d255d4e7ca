/*
 * api_ingest.h — the ingest endpoints (role ingest; docs/api.md): KPI
 * samples and alerts into the live engine (engine.h), answered the way the
 * sending software expects from the system it replaces.
 *
 *   POST /api/v1/write    Prometheus remote_write 1.0 (snappy + protobuf):
 *                         204; 400 text/plain for a bad body or series (the
 *                         valid series of the body are still taken), as
 *                         Prometheus' own receiver answers.
 *   POST /api/v2/write    InfluxDB v2 line protocol, ?precision=ns|us|ms|s:
 *                         204; 400 {"code":"invalid","message":...} when a
 *                         line is bad, and then nothing of the body is taken
 *                         (InfluxDB parses a whole body before writing).
 *   POST /api/v1/alerts   Alertmanager's webhook (payload version 4): 200
 *                         {"alerts":N,"matched":M}; 400 with the JSON error
 *                         of docs/api.md for a bad payload, the valid alerts
 *                         still taken.
 *
 * An ingest token belongs to one operator: its samples and alerts are
 * matched against that operator's watches only, so they can open and change
 * only its incidents.  A 2xx answer means the incident changes they caused
 * are committed (a failure to store them is a 503: senders retry).
 */
#ifndef JIKO_API_INGEST_H
#define JIKO_API_INGEST_H

#include "api.h"

void api_write_prom(const api_env *env, const api_request *rq, reply *out);
void api_write_influx(const api_env *env, const api_request *rq, reply *out);
void api_alerts(const api_env *env, const api_request *rq, reply *out);

#endif
