/*
 * reply.h — what the server answers: a status, a body and the headers the
 * API promises (Retry-After, Allow, WWW-Authenticate), built by the handlers
 * and sent by server.c.  Errors are always JSON:
 *     {"error": {"code": "...", "message": "...", "field": "...", "line": N}}
 * with the status a library error's kind maps to (docs/architecture.md).
 */
#ifndef JIKO_REPLY_H
#define JIKO_REPLY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct reply {
    int status;
    const char *content_type; /* static text */
    char *body;               /* malloc'd; NULL for an empty body */
    size_t len;
    int retry_after;          /* seconds for Retry-After; 0 = no header */
    const char *allow;        /* Allow header (405); NULL = none */
    const char *code;         /* error code when an error, for metrics; NULL otherwise */
    /* Public pages only: a Cache-Control other than no-store (static text),
     * and validators for conditional GETs (server.c answers 304 when
     * If-None-Match names the ETag). */
    const char *cache_control;
    char etag[24];            /* "\"<16 hex>\"", or "" for none */
    int64_t last_modified_ms; /* 0 = no Last-Modified */
} reply;

/* The HTTP status of a library error kind. */
int reply_status_of(jiko_error_kind kind);

/* A JSON body (takes the reference; NULL means out of memory → 503). */
void reply_json(reply *r, int status, json_t *body);

/* A body already made (takes ownership of `body`). */
void reply_take(reply *r, int status, const char *content_type, char *body, size_t len);

/* An error answer with its code, the field it concerns (may be NULL) and
 * the message. */
void reply_error(reply *r, int status, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The error object {"code","message","field","line"} of a library error
 * (NULL when out of memory). */
json_t *reply_error_json(const jiko_error *e);

/* An answer for a library error: status and code by its kind. */
void reply_from_error(reply *r, const jiko_error *e);

void reply_free(reply *r);

/* The body of an out-of-memory answer (a reply whose body is NULL with
 * status 503 and code out_of_memory): static text, owns no memory. */
const char *reply_nomem_body(size_t *len);

#endif
