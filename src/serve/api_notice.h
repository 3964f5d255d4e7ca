/*
 * api_notice.h — the handlers of public notices (docs/api.md):
 *   GET  /api/v1/incidents/{operator}/{id}/notices/draft  a draft (notice.h)
 *   POST /api/v1/incidents/{operator}/{id}/notices        publish one (admin)
 *   GET  /status/{operator}, /status/{operator}/feed.atom the public page and
 *        its Atom feed (status.h), without a token
 * Each is a call into the library (notice_draft_make, notice_publish,
 * status_collect and its writers); this file reads parameters and shapes
 * the answers.
 */
#ifndef JIKO_API_NOTICE_H
#define JIKO_API_NOTICE_H

#include "api.h"

/* The public pages may be cached this long by browsers and proxies. */
#define API_STATUS_CACHE_CONTROL "public, max-age=60"

void api_notice_draft(const api_env *env, const api_request *rq, reply *out);
void api_notice_post(const api_env *env, const api_request *rq, reply *out);
void api_status(const api_env *env, const api_request *rq, reply *out);

#endif
