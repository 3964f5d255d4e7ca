/* notify.c — events into the webhook outbox (notify.h). */
#include "notify.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "utf8.h"
#include "json_text.h"

#define ID_RANDOM_BYTES 18
_Static_assert(4 + sodium_base64_ENCODED_LEN(ID_RANDOM_BYTES,
                                             sodium_base64_VARIANT_URLSAFE_NO_PADDING) <=
                   NOTIFY_ID_MAX,
               "a message id fits NOTIFY_ID_MAX");

void notify_message_id(char id[NOTIFY_ID_MAX])
{
    /* sodium_init fails only without a source of randomness, and then
     * randombytes_buf aborts rather than return predictable bytes */
    int ready = sodium_init();
    (void)ready;
    unsigned char raw[ID_RANDOM_BYTES];
    randombytes_buf(raw, sizeof raw);
    memcpy(id, "msg_", 4);
    sodium_bin2base64(id + 4, NOTIFY_ID_MAX - 4, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* RFC 3339 in UTC with milliseconds, as Standard Webhooks' examples. */
static void utc_text(int64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char day[32];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%03dZ", day, (int)(ms % 1000));
}

static bool text_ok(const char *s)
{
    return s && *s && utf8_valid(s, strlen(s));
}

/* Whether a failed json_loadb failed on the text rather than on memory.
 * jansson says "out of memory" for some allocation failures, sets no error
 * for others, and reports a string it could not copy as a syntax error; a
 * mistake in the text fails again the same way, where a transient
 * allocation failure does not. */
static bool parse_failed(const char *text, size_t len, const json_error_t *first)
{
    if (json_error_code(first) == json_error_out_of_memory || first->text[0] == '\0')
        return false;
    json_error_t again;
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &again);
    if (v) {
        json_decref(v);
        return false;
    }
    return json_error_code(&again) == json_error_code(first) &&
           again.position == first->position && strcmp(again.text, first->text) == 0;
}

/* The body every subscription gets (the same text for all of them). */
static char *make_body(const notify_event *ev, int64_t now_ms, jiko_error *err)
{
    const char *dj = ev->data_json ? ev->data_json : "{}";
    size_t dl = strlen(dj);
    if (dl > NOTIFY_DATA_MAX) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "data", "is %zu bytes; at most %d", dl,
                  NOTIFY_DATA_MAX);
        return NULL;
    }
    json_error_t je;
    json_t *data = json_loadb(dj, dl, JSON_REJECT_DUPLICATES, &je);
    if (!data && !parse_failed(dj, dl, &je)) {
        error_nomem(err, "reading a webhook's data");
        return NULL;
    }
    if (!data || !json_is_object(data)) {
        if (data)
            error_set(err, JIKO_ERR_INVALID, NULL, 0, "data", "must be a JSON object");
        else
            error_set(err, JIKO_ERR_INVALID, NULL, 0, "data", "is not JSON: %s (at %d:%d)",
                      je.text, je.line, je.column);
        json_decref(data);
        return NULL;
    }
    if (!json_object_get(data, "operator"))
        json_object_set_new(data, "operator", json_string(ev->op));
    if (!json_object_get(data, "incident_id"))
        json_object_set_new(data, "incident_id", json_string(ev->incident_id));
    char ts[40];
    utc_text(now_ms, ts, sizeof ts);
    json_t *body = json_object();
    json_object_set_new(body, "type", json_string(ev->type));
    json_object_set_new(body, "timestamp", json_string(ts));
    json_object_set_new(body, "data", data);
    char *text = body ? json_text_of(body, 0, false, NULL) : NULL;
    if (!text)
        error_nomem(err, "making a webhook body");
    json_decref(body);
    return text;
}

int notify_emit(const notify_subs *subs, store *db, const notify_event *ev, int64_t now_ms,
                jiko_error *err)
{
    notify_event_type t;
    if (!ev->type || notify_event_type_parse(ev->type, &t)) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "type",
                  "unknown event type '%s'; expected incident.opened, incident.updated, "
                  "incident.serious_soon, incident.serious, incident.closed, deadline.soon or "
                  "capacity.warning",
                  ev->type ? ev->type : "");
        return -1;
    }
    if (!text_ok(ev->op) || !text_ok(ev->incident_id)) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, text_ok(ev->op) ? "incident_id" : "operator",
                  "must be non-empty UTF-8 text");
        return -1;
    }
    size_t wanted = 0;
    for (size_t i = 0; i < notify_subs_count(subs); i++)
        wanted += notify_sub_wants(notify_subs_at(subs, i), t, ev->op);
    if (!wanted)
        return 0; /* nobody asked: not even the body is made */
    char *body = make_body(ev, now_ms, err);
    if (!body)
        return -1;
    /* all of the event's messages or none: in the caller's batch, else in
     * one of our own */
    bool own = !store_in_batch(db);
    int n = 0;
    if (own && store_begin(db, err)) {
        free(body);
        return -1;
    }
    for (size_t i = 0; n >= 0 && i < notify_subs_count(subs); i++) {
        const notify_sub *sub = notify_subs_at(subs, i);
        if (!notify_sub_wants(sub, t, ev->op))
            continue;
        char id[NOTIFY_ID_MAX];
        notify_message_id(id);
        store_outbox_msg m = {id, sub->name, sub->url, ev->type, ev->op, ev->incident_id, body,
                              now_ms, 0, now_ms, 0, 0, 0, ""};
        if (store_outbox_add(db, &m, err))
            n = -1;
        else
            n++;
    }
    if (own) {
        if (n >= 0 && store_commit(db, err))
            n = -1;
        if (n < 0) {
            jiko_error ignored;
            store_rollback(db, &ignored);
        }
    }
    free(body);
    return n;
}
