/*
 * fuzz_serve.c — libFuzzer target for the server's request router and
 * body parsers: the input is "METHOD-BYTE TARGET\nBODY".  The target goes
 * through route_parse (percent-decoding, UTF-8 and query checks); a
 * classify or incidents POST runs its handler on the body, storing into an
 * in-memory registry as an admin of operator "A", as do the notice routes
 * (a draft, a notice published) and the public status page and feed.  Every input must be
 * answered with a status and a body that is JSON (or the handler's
 * declared type), never a crash, leak or undefined behaviour.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "engine.h"
#include "fuzz_env.h"
#include "route.h"

/* The live engine behind the ingest endpoints: one watch of operator A
 * over series "kpi" and alerts "X", at most 1000 series (inputs name new
 * series without end). */
static live_engine *fuzz_engine(fuzz_data *env)
{
    static live_engine *e;
    static live_conf conf;
    if (!e) {
        static const char text[] = "[watch w]\nmatch = kpi\noperator = A\nservice = dns\n"
                                   "users = 50000\n[watch a]\nmatch = {alertname=\"X\"}\n"
                                   "operator = A\nservice = ftth\nusers = 40000\n"
                                   "[live]\nmax_series = 1000\n";
        conf_file f;
        jiko_error err;
        live_conf_default(&conf);
        if (conf_parse(text, sizeof text - 1, "fuzz", &f, &err) ||
            live_conf_load(&conf, &f, &env->cat, &err))
            abort();
        conf_free(&f);
        static live_env le;
        le = (live_env){&env->cat, &env->rules, &conf, NULL, NULL, NULL};
        if (live_engine_new(&e, &le, NULL, 0, &err))
            abort();
    }
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const char *const methods[] = {"GET", "POST", "HEAD", "PUT"};
    const char *method = methods[data[0] & 3];
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;
    const char *nl = memchr(rest, '\n', n);
    size_t tlen = nl ? (size_t)(nl - rest) : n;
    char *target = malloc(tlen + 1), *body = NULL;
    if (!target)
        return 0;
    memcpy(target, rest, tlen);
    target[tlen] = '\0';
    if (strlen(target) != tlen) { /* a NUL in the target never reaches the router */
        free(target);
        return 0;
    }
    route_match m;
    jiko_error err;
    if (route_parse(method, target, &m, &err) == 0) {
        if (route_allows(&m) && (m.id == ROUTE_CLASSIFY || m.id == ROUTE_INCIDENTS ||
                                 m.id == ROUTE_RULES || m.id == ROUTE_RULEBOOK ||
                                 m.id == ROUTE_INCIDENT || m.id == ROUTE_HISTORY ||
                                 m.id == ROUTE_NOTICE_DRAFT || m.id == ROUTE_NOTICES ||
                                 route_public(m.id) || route_ingests(m.id))) {
            fuzz_data *env = fuzz_data_get(1);
            api_env ae = {&env->cat, &env->rules, fuzz_engine(env), NULL};
            size_t blen = nl ? n - tlen - 1 : 0;
            body = malloc(blen + 1);
            if (body) {
                memcpy(body, nl ? nl + 1 : "", blen);
                body[blen] = '\0';
                auth_who who = {"t_fuzz", route_ingests(m.id) ? TOKEN_INGEST : TOKEN_ADMIN,
                                (char *)"A"};
                api_request rq = {&m, &who, body, blen, 1627970400000, fuzz_memory_store(), NULL};
                reply r = {0};
                api_handle(&ae, &rq, &r);
                if (r.status < 200 || r.status > 599)
                    abort();
                if (route_public(m.id) && r.status != 200 && r.status != 404 && r.status != 400)
                    abort(); /* a public page is shown, not found, or a bad query */
                if (r.body && r.content_type && strcmp(r.content_type, "application/json") == 0) {
                    json_t *v = json_loadb(r.body, r.len, 0, NULL);
                    if (!v)
                        abort(); /* an answer that says it is JSON must be JSON */
                    json_decref(v);
                }
                reply_free(&r);
            }
        }
        route_free(&m);
    } else if (err.kind != JIKO_ERR_INVALID && err.kind != JIKO_ERR_NOT_FOUND &&
               err.kind != JIKO_ERR_NOMEM) {
        abort();
    }
    free(body);
    free(target);
    return 0;
}
