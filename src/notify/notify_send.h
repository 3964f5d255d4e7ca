/*
 * notify_send.h — the webhook sender: delivers the registry's outbox.
 *
 * Each due message is POSTed to its URL with libcurl, signed by Standard
 * Webhooks' convention (https://www.standardwebhooks.com/):
 *
 *     webhook-id: msg_...             the message's id, the same at every attempt
 *     webhook-timestamp: 1733430000   Unix seconds of this attempt
 *     webhook-signature: v1,BASE64    HMAC-SHA256(key, id "." timestamp "." body)
 *
 * where the key is the subscription's secret after "whsec_", base64-decoded.
 * Secrets come from the subscriptions (looked up by name at send time),
 * never from the registry.  An answer 2xx is delivered; anything else (a
 * status, no connection, a timeout) is a failed attempt, retried after an
 * exponential backoff with full jitter: a delay drawn uniformly from
 * [0, min(NOTIFY_BACKOFF_MAX_MS, NOTIFY_BACKOFF_FIRST_MS * 2^(attempts-1))],
 * until NOTIFY_HORIZON_MS after the message was queued; the last attempt is
 * made at the horizon, and a message failing then is given up (kept in the
 * outbox, marked).  Delivery is at least once: a message is marked only
 * after its answer, so a crash between the two sends it again.
 *
 * libcurl's global initialisation runs once per process (pthread_once),
 * the first time a sender or a delivery pass starts; it is never undone.
 */
#ifndef JIKO_NOTIFY_SEND_H
#define JIKO_NOTIFY_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "notify_conf.h"
#include "store.h"

/* Defaults (every one can be changed in notify_sender_opts). */
#define NOTIFY_TIMEOUT_MS 10000L          /* one attempt, connection included */
#define NOTIFY_BACKOFF_FIRST_MS 5000L     /* the first retry's delay is drawn from [0, 5 s] */
#define NOTIFY_BACKOFF_MAX_MS 3600000L    /* no delay is drawn from more than [0, 1 h] */
#define NOTIFY_HORIZON_MS 86400000L       /* retried for 24 h after being queued */
#define NOTIFY_POLL_MS 1000L              /* the sender reads the outbox at least this often */
#define NOTIFY_BATCH 4                    /* messages taken (and leased) at once */
#define NOTIFY_LEASE_MARGIN_MS 5000L      /* lease = batch * timeout + this */

/* "v1," + base64 of 32 bytes + NUL. */
#define NOTIFY_SIGNATURE_MAX 64

typedef struct notify_sender_opts {
    const notify_subs *subs; /* secrets by subscription name; must outlive the sender */
    long timeout_ms;         /* per attempt */
    long backoff_first_ms, backoff_max_ms;
    long horizon_ms;         /* from the message's creation to giving up */
    long poll_ms;            /* the sender's longest sleep without a kick */
    int batch;
    /* Called with one line per attempt and per registry error (no newline);
     * NULL: silent.  From the sender's thread when there is one. */
    void (*log)(void *log_ctx, const char *line);
    void *log_ctx;
} notify_sender_opts;

/* The defaults above, subs NULL, no log. */
void notify_sender_opts_default(notify_sender_opts *o);

/* For tests only (docs/webhooks.md): $JIKO_WEBHOOK_TEST_BACKOFF_MS (the
 * first retry window; the cap becomes 720 times it, as 1 h is to 5 s) and
 * $JIKO_WEBHOOK_TEST_HORIZON_MS shorten the retries, so that a test can see
 * them grow and end in seconds.  Unset: nothing changes.  -1 with err
 * (JIKO_ERR_CONFIG) for a value that is not a positive number. */
int notify_sender_opts_test_env(notify_sender_opts *o, jiko_error *err);

typedef struct notify_stats {
    long delivered; /* messages delivered */
    long failed;    /* failed attempts (each retried or, at the horizon, given up) */
    long given_up;  /* messages given up */
    long pending;   /* messages in the outbox neither delivered nor given up */
} notify_stats;

typedef struct notify_sender notify_sender;

/* Start a thread that delivers due outbox messages of the registry db_url
 * (its own connection) to their URLs.  The options are copied. */
int notify_sender_start(notify_sender **out, const char *db_url, const notify_sender_opts *o,
                        jiko_error *err);

/* A message was queued: look now, not at the next poll. */
void notify_sender_kick(notify_sender *s);

/* Counts since the start (pending: at the end of the last pass). */
void notify_sender_stats(const notify_sender *s, notify_stats *out);

/* Finish the attempt in progress, put back the messages taken but not yet
 * tried, join the thread, close its registry connection.  NULL is a no-op. */
void notify_sender_stop(notify_sender *s);

/* One pass, in the caller's thread: deliver what is due at now_ms (messages
 * retried during the pass are not tried again in it).  The counts are added
 * to *st, and st->pending is set to what is left.  0, or -1 with err for a
 * registry failure (the messages then stay pending). */
int notify_deliver_due(store *db, const notify_sender_opts *o, int64_t now_ms, notify_stats *st,
                       jiko_error *err);

/* The webhook-signature value "v1,BASE64" of one attempt. */
void notify_signature(const unsigned char *key, size_t key_len, const char *id,
                      int64_t timestamp_s, const char *body, size_t body_len,
                      char out[NOTIFY_SIGNATURE_MAX]);

/* The delay before the next attempt after `attempts` failed ones (>= 1),
 * for a uniformly random r: full jitter over the window described above. */
int64_t notify_backoff_ms(const notify_sender_opts *o, int attempts, uint32_t r);

#endif
