/*
 * notify_conf.h — webhook subscriptions: the [webhook NAME] sections of the
 * server's config file (docs/webhooks.md).
 *
 *     [webhook noc]
 *     operator = Example Telecom      # its incidents only; or: regulator = true (all)
 *     url      = https://noc.example.net/hooks/jiko
 *     secret   = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
 *     events   = incident.opened, incident.serious, incident.closed   # default: all
 *
 * Other sections are left to the modules they belong to.  Every mistake is
 * a JIKO_ERR_CONFIG error naming the file, the line and the key.  The
 * loaded set is immutable, so the sender thread and the threads that queue
 * messages read it without locks.
 */
#ifndef JIKO_NOTIFY_CONF_H
#define JIKO_NOTIFY_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "error.h"

/* The events a subscription can ask for (docs/webhooks.md). */
typedef enum notify_event_type {
    NOTIFY_INCIDENT_OPENED,
    NOTIFY_INCIDENT_UPDATED,
    NOTIFY_INCIDENT_SERIOUS_SOON,
    NOTIFY_INCIDENT_SERIOUS,
    NOTIFY_INCIDENT_CLOSED,
    NOTIFY_DEADLINE_SOON,
    NOTIFY_CAPACITY_WARNING, /* a resource foreseen exhausted: no incident yet */
    NOTIFY_EVENT_TYPES /* how many */
} notify_event_type;

/* "incident.opened", ...; NULL for a value out of range. */
const char *notify_event_type_name(notify_event_type t);

/* 0 with *out set for one of the six names; -1 otherwise. */
int notify_event_type_parse(const char *s, notify_event_type *out);

/* A secret is "whsec_" + standard base64 of this many random bytes
 * (Standard Webhooks; its own examples use 24). */
#define NOTIFY_SECRET_PREFIX "whsec_"
#define NOTIFY_SECRET_MIN_BYTES 24
#define NOTIFY_SECRET_MAX_BYTES 64
/* Longest subscription name, operator and URL accepted. */
#define NOTIFY_NAME_MAX 128
#define NOTIFY_URL_MAX 2048

typedef struct notify_sub {
    char *name;     /* [webhook NAME] */
    char *op;       /* the operator whose incidents it wants; NULL for the regulator */
    bool regulator; /* every operator's incidents */
    char *url;      /* http:// or https:// */
    unsigned char key[NOTIFY_SECRET_MAX_BYTES]; /* the decoded secret: the HMAC key */
    size_t key_len;
    unsigned events; /* bit (1u << notify_event_type) per event wanted */
    long line;       /* of the section header */
} notify_sub;

typedef struct notify_subs notify_subs; /* opaque, immutable after load */

/* Read every [webhook NAME] section of f (other sections are ignored: they
 * belong to other modules).  0 or -1 with err.  *out is NULL-safe to free. */
int notify_subs_load(const conf_file *f, notify_subs **out, jiko_error *err);
size_t notify_subs_count(const notify_subs *s);
void notify_subs_free(notify_subs *s);

/* The i-th subscription in file order (i < count). */
const notify_sub *notify_subs_at(const notify_subs *s, size_t i);

/* The subscription of that name, or NULL. */
const notify_sub *notify_subs_find(const notify_subs *s, const char *name);

/* Whether sub wants event t of operator op's incident. */
bool notify_sub_wants(const notify_sub *sub, notify_event_type t, const char *op);

#endif
