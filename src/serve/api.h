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
#include "classify.h"
#include "page_cache.h"
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
    page_cache *pages; /* the public pages kept a few seconds; NULL: none */
} api_request;

/* Whether the route's handler keeps no JSON value past the request (reads
 * of the registry and classifications), so that a worker may give it a
 * json_arena made current for the request and reset after it.  The others
 * (ingest, notices, reports, pages) may hand values to longer-lived state,
 * and get the heap. */
bool api_json_scratch(const route_match *m);

/* Whether the route needs a token at all (/healthz and /metrics do not). */
bool api_needs_token(route_id id);

/* Whether a role may call the route with its method at all (the operator
 * checks come later, in the handler).  Fills err (kind JIKO_ERR_FORBIDDEN)
 * when not. */
bool api_role_allows(const route_match *m, token_role role, jiko_error *err);

/* For the handlers of api_*.c: an operator-bound token may touch only its
 * own operator's incidents (else a 403 answer and false); the `now` query
 * parameter (default the request's time; else a 400 answer and -1); the
 * stored incident of the path read back and classified as stored
 * (store_row_classify), or an answer saying why not — true when *row, *inc
 * and *r are filled (the caller frees them: store_row_free, incident_free). */
bool api_own_operator(const api_request *rq, const char *op, reply *out);
int api_now_param(const api_request *rq, int64_t *now, reply *out);

/* The `lang` query parameter, ja or en: `dflt` when absent (English for
 * the API's JSON, Japanese for notices and the public pages); else a 400
 * answer and -1. */
int api_lang_param(const api_request *rq, classify_lang dflt, classify_lang *lang, reply *out);
bool api_path_incident(const api_env *env, const api_request *rq, store_row *row, incident *inc,
                       classify_result *r, reply *out);

/* Answer an API request (not /healthz or /metrics). */
void api_handle(const api_env *env, const api_request *rq, reply *out);

#endif
