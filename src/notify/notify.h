/*
 * notify.h — outgoing webhooks: events into the registry's outbox.
 *
 * An event (an incident opened, about to turn serious, closed, ...) becomes
 * one message per subscription that wants it, stored in the outbox of the
 * registry (store_outbox_add) in the caller's transaction: the incident
 * change and the messages that tell of it commit together, or neither does.
 * Nothing is sent here; the sender (notify_send.h) delivers the outbox on
 * its own thread, so no request thread ever waits for a subscriber.
 *
 * The body is Standard Webhooks' shape:
 *
 *     {"type":"incident.opened","timestamp":"2021-10-14T08:37:00.000Z",
 *      "data":{...,"operator":"Example Telecom","incident_id":"2021-001"}}
 *
 * with the event's data object, to which "operator" and "incident_id" are
 * added when it does not carry them.  The message id ("msg_" + 24 base64url
 * characters of random bytes) is the webhook-id of every attempt, so a
 * receiver can drop a message it has seen (delivery is at least once).
 */
#ifndef JIKO_NOTIFY_H
#define JIKO_NOTIFY_H

#include <stdint.h>

#include "error.h"
#include "notify_conf.h"
#include "store.h"

/* "msg_" + 24 base64url characters (18 random bytes) + NUL. */
#define NOTIFY_ID_MAX 32
/* Largest "data" object accepted for one event. */
#define NOTIFY_DATA_MAX (256 * 1024)

typedef struct notify_event {
    const char *type;        /* one of the six event types */
    const char *op;          /* the incident's operator */
    const char *incident_id;
    const char *data_json;   /* the event's "data" object, JSON text (NULL: {}) */
} notify_event;

/* Queue one message per subscription that wants ev (same operator, or
 * regulator; event type in its list) into db's outbox, as part of the
 * caller's open transaction when there is one (so that the incident change
 * and its messages commit together; else in one transaction of its own).
 * Returns the number queued, or -1 with err: JIKO_ERR_INVALID for an
 * unknown type, an empty operator or incident id, or data that is not a
 * JSON object. */
int notify_emit(const notify_subs *subs, store *db, const notify_event *ev, int64_t now_ms,
                jiko_error *err);

/* A new message id: "msg_" + random (libsodium). */
void notify_message_id(char id[NOTIFY_ID_MAX]);

#endif
