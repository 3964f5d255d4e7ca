/* reply.c — building answers (reply.h). */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_text.h"

int reply_status_of(jiko_error_kind kind)
{
    switch (kind) {
    case JIKO_ERR_INVALID: return 400;
    case JIKO_ERR_NOT_FOUND: return 404;
    case JIKO_ERR_CONFLICT: return 409;
    case JIKO_ERR_RETRY: return 503;  /* transient: the client may send it again */
    case JIKO_ERR_NOMEM: return 503;  /* the server is short of memory, not broken */
    case JIKO_ERR_FORBIDDEN: return 403;
    case JIKO_ERR_NONE:
    case JIKO_ERR_IO:
    case JIKO_ERR_CONFIG:
    case JIKO_ERR_STORE: break;
    }
    return 500;
}

static const char nomem_body[] =
    "{\"error\":{\"code\":\"out_of_memory\",\"message\":\"the server is out of memory\"}}";

/* The last resort when even the answer cannot be built: a static body. */
static void reply_nomem(reply *r)
{
    free(r->body);
    r->status = 503;
    r->content_type = "application/json";
    r->body = NULL;
    r->len = 0;
    r->retry_after = 1;
    r->code = "out_of_memory";
}

void reply_take(reply *r, int status, const char *content_type, char *body, size_t len)
{
    free(r->body);
    r->status = status;
    r->content_type = content_type;
    r->body = body;
    r->len = len;
}

void reply_json(reply *r, int status, json_t *body)
{
    size_t n;
    /* a newline at the end: curl's output ends its line */
    char *text = body ? json_text_of(body, 0, true, &n) : NULL;
    json_decref(body);
    if (!text) {
        reply_nomem(r);
        return;
    }
    reply_take(r, status, "application/json", text, n);
}

static json_t *error_object(const char *code, const char *field, long line, const char *message)
{
    json_t *e = json_object();
    if (!e)
        return NULL;
    int bad = json_object_set_new(e, "code", json_string(code)) ||
              json_object_set_new(e, "message", json_string(message));
    if (field && *field)
        bad |= json_object_set_new(e, "field", json_string(field));
    if (line > 0)
        bad |= json_object_set_new(e, "line", json_integer(line));
    if (bad) {
        json_decref(e);
        return NULL;
    }
    return e;
}

void reply_error(reply *r, int status, const char *code, const char *field, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *e = error_object(code, field, 0, msg);
    json_t *o = e ? json_pack("{s:o}", "error", e) : NULL;
    reply_json(r, status, o);
    if (r->status == status)
        r->code = code;
}

json_t *reply_error_json(const jiko_error *e)
{
    /* json_string refuses invalid UTF-8: a message quoting the bad input
     * then says so rather than losing the whole answer */
    json_t *o = error_object(error_kind_name(e->kind), e->field, e->line, e->message);
    if (!o)
        o = error_object(error_kind_name(e->kind), NULL, e->line,
                         "(the message quotes text that is not UTF-8)");
    return o;
}

void reply_from_error(reply *r, const jiko_error *e)
{
    int status = reply_status_of(e->kind);
    json_t *eo = reply_error_json(e);
    json_t *o = eo ? json_pack("{s:o}", "error", eo) : NULL;
    reply_json(r, status, o);
    if (r->status == status) {
        r->code = error_kind_name(e->kind);
        if (status == 503)
            r->retry_after = 1;
    }
}

void reply_free(reply *r)
{
    free(r->body);
    r->body = NULL;
}

const char *reply_nomem_body(size_t *len)
{
    *len = sizeof nomem_body - 1;
    return nomem_body;
}
