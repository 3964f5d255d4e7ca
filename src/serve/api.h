/*
 * api.h — the JSON API's handlers (docs/api.md): a matched, authenticated
 * and admitted request → a reply.  Everything here is a call into the same
 * library the command line uses (intake, import, store, report); this file
 * only reads parameters, checks who may see what, and shapes JSON.
 *
 * Who may call what (roles of token.h):
 *   admin      read and write its own operator's incidents
 *   viewer     read its own operator's incidents
 *   ingest     the KPI and alert endpoints only (api_ingest.h)
 *   regulator  read every operator's incidents and the yearly statistics;
 *              write nothing
 * Rulebooks and classification without storing are open to every role but
 * ingest.  No call reads or changes another operator's incident.
 */
#ifndef JIKO_API_H
#define JIKO_API_H

#include <stdint.h>

#include "auth.h"
#include "catalog.h"
#include "reply.h"
#include "route.h"
#include "rules.h"
#include "store.h"

#define API_LIMIT_DEFAULT 100  /* incidents per page */
#define API_LIMIT_MAX 1000

typedef struct api_env {
    const catalog *cat;
    const rules_set *rules;
    struct live_engine *engine; /* the ingest endpoints feed it (engine.h) */
    const struct assets *web;   /* the dashboard's files (assets.h); NULL: none */
} api_env;

typedef struct api_request {
    const route_match *route;
    const auth_who *who;
    char *body; /* NUL-terminated, body_len bytes; the handler may cut it in place */
    size_t body_len;
    int64_t now_ms;
    store *db;
} api_request;

/* Whether the route needs a token at all (/healthz and /metrics do not). */
bool api_needs_token(route_id id);

/* Whether a role may call the route with its method at all (the operator
 * checks come later, in the handler).  Fills err (kind JIKO_ERR_FORBIDDEN)
 * when not. */
bool api_role_allows(const route_match *m, token_role role, jiko_error *err);

/* Answer an API request (not /healthz or /metrics). */
void api_handle(const api_env *env, const api_request *rq, reply *out);

#endif
