/* api_notice.c — drafts, publishing, the status page and feed (api_notice.h). */
#include "api_notice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fnv.h"
#include "notice.h"
#include "status.h"

/* ?lang=ja|en; notices and the public page are Japanese unless asked. */
static int lang_ja(const api_request *rq, bool *ja, reply *out)
{
    classify_lang lang;
    int rc = api_lang_param(rq, CLASSIFY_JA, &lang, out);
    *ja = lang == CLASSIFY_JA;
    return rc;
}

void api_notice_draft(const api_env *env, const api_request *rq, reply *out)
{
    bool ja;
    int64_t now;
    const char *k = route_query(rq->route, "kind");
    notice_kind kind = NOTICE_FIRST;
    if (k && !notice_kind_of(k, &kind)) {
        reply_error(out, 400, "invalid", "kind", "expected first, update or recovery, got '%s'", k);
        return;
    }
    if (lang_ja(rq, &ja, out) || api_now_param(rq, &now, out))
        return;
    store_row row;
    incident inc;
    classify_result r;
    if (!api_path_incident(env, rq, &row, &inc, &r, out))
        return;
    notice_draft d;
    jiko_error err;
    if (!k)
        kind = notice_default_kind(&inc, now);
    if (notice_draft_make(&inc, env->cat, kind, ja, now, &d, &err)) {
        reply_from_error(out, &err);
    } else {
        reply_json(out, 200, notice_draft_json(&d));
        notice_draft_free(&d);
    }
    incident_free(&inc);
    store_row_free(&row);
}

void api_notice_post(const api_env *env, const api_request *rq, reply *out)
{
    const route_match *m = rq->route;
    if (!api_own_operator(rq, m->op, out))
        return;
    notice_input n;
    jiko_error err;
    if (notice_parse(rq->body, rq->body_len, rq->now_ms, &n, &err)) {
        reply_from_error(out, &err);
        return;
    }
    char reason[160];
    snprintf(reason, sizeof reason, "notice (%s, %s) published through the API by token %s",
             notice_kind_name(n.kind), n.channel, rq->who->id);
    intake_opts io = {env->cat, env->rules, NULL, rq->now_ms};
    int version = 0;
    if (notice_publish(rq->db, &io, m->op, m->incident, &n, reason, &version, &err)) {
        reply_from_error(out, &err);
    } else {
        page_cache_clear(rq->pages); /* the publisher sees the notice public at once */
        json_t *o = notice_input_json(&n);
        reply_json(out, 201, o ? json_pack("{s:s,s:s,s:i,s:o}", "operator", m->op, "id",
                                           m->incident, "version", version, "notice", o)
                               : NULL);
    }
    notice_input_free(&n);
}

void api_status(const api_env *env, const api_request *rq, reply *out)
{
    bool ja;
    if (lang_ja(rq, &ja, out))
        return;
    const char *op = rq->route->op;
    char key[PAGE_CACHE_KEY_MAX];
    int kn = snprintf(key, sizeof key, "%d %s %s", (int)rq->route->id, ja ? "ja" : "en", op);
    bool cacheable = kn > 0 && (size_t)kn < sizeof key;
    if (cacheable && page_cache_get(rq->pages, key, rq->now_ms, out))
        return;
    status_page p;
    jiko_error err;
    if (status_collect(&p, rq->db, op, rq->now_ms, &err)) {
        status_free(&p);
        reply_from_error(out, &err);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    int wrote = 0;
    if (f) {
        if (!p.known)
            status_write_unknown(f, op, ja);
        else if (rq->route->id == ROUTE_STATUS_FEED)
            wrote = status_write_atom(f, &p, env->cat, ja);
        else
            status_write_html(f, &p, env->cat, ja);
    }
    if (!f || fclose(f) != 0 || wrote) {
        free(text);
        status_free(&p);
        reply_json(out, 503, NULL);
        return;
    }
    bool feed = p.known && rq->route->id == ROUTE_STATUS_FEED;
    reply_take(out, p.known ? 200 : 404,
               feed ? "application/atom+xml; charset=utf-8" : "text/html; charset=utf-8", text,
               len);
    if (p.known) {
        /* the validators: the bytes themselves, and the latest notice */
        out->cache_control = API_STATUS_CACHE_CONTROL;
        snprintf(out->etag, sizeof out->etag, "\"%016llx\"",
                 (unsigned long long)fnv1a64(FNV1A64_OFFSET, text, len));
        out->last_modified_ms = p.updated_ms;
    }
    if (cacheable)
        page_cache_put(rq->pages, key, rq->now_ms, out);
    status_free(&p);
}
