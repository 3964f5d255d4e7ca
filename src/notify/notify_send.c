/*
 * notify_send.c — delivering the webhook outbox (notify_send.h).
 *
 * A pass takes the due messages a few at a time (store_outbox_take leases
 * them, so another sender on the same registry leaves them alone), POSTs
 * each with one reused libcurl handle (keep-alive to a subscriber), and
 * writes the outcome back before the next: delivered, retried later, or
 * given up.  The sender thread runs passes until stopped, sleeping on a
 * condition variable between them: notify_sender_kick wakes it at once,
 * otherwise it wakes at the next due message or after poll_ms.
 */
#include "notify_send.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jst.h"
#include "num.h"

void notify_sender_opts_default(notify_sender_opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_ms = NOTIFY_TIMEOUT_MS;
    o->backoff_first_ms = NOTIFY_BACKOFF_FIRST_MS;
    o->backoff_max_ms = NOTIFY_BACKOFF_MAX_MS;
    o->horizon_ms = NOTIFY_HORIZON_MS;
    o->poll_ms = NOTIFY_POLL_MS;
    o->batch = NOTIFY_BATCH;
}

static int env_ms(const char *name, long *out, jiko_error *err)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    long n;
    if (!num_parse_long(v, 1, 30L * 86400000L, &n)) {
        error_set(err, JIKO_ERR_CONFIG, NULL, 0, name,
                  "expected milliseconds from 1 to 2592000000, got '%s'", v);
        return -1;
    }
    *out = n;
    return 1;
}

int notify_sender_opts_test_env(notify_sender_opts *o, jiko_error *err)
{
    long v;
    int rc = env_ms("JIKO_WEBHOOK_TEST_BACKOFF_MS", &v, err);
    if (rc < 0)
        return -1;
    if (rc) {
        o->backoff_first_ms = v;
        o->backoff_max_ms = v * (NOTIFY_BACKOFF_MAX_MS / NOTIFY_BACKOFF_FIRST_MS);
    }
    rc = env_ms("JIKO_WEBHOOK_TEST_HORIZON_MS", &v, err);
    if (rc < 0)
        return -1;
    if (rc)
        o->horizon_ms = v;
    return 0;
}

void notify_signature(const unsigned char *key, size_t key_len, const char *id,
                      int64_t timestamp_s, const char *body, size_t body_len,
                      char out[NOTIFY_SIGNATURE_MAX])
{
    /* Standard Webhooks signs "id.timestamp.body" with HMAC-SHA256 */
    char ts[24];
    int tl = snprintf(ts, sizeof ts, "%lld", (long long)timestamp_s);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)id, strlen(id));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (unsigned long long)tl);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "v1,", 3);
    sodium_bin2base64(out + 3, NOTIFY_SIGNATURE_MAX - 3, mac, sizeof mac,
                      sodium_base64_VARIANT_ORIGINAL);
}
_Static_assert(3 + sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES,
                                             sodium_base64_VARIANT_ORIGINAL) <=
                   NOTIFY_SIGNATURE_MAX,
               "a signature fits NOTIFY_SIGNATURE_MAX");

int64_t notify_backoff_ms(const notify_sender_opts *o, int attempts, uint32_t r)
{
    /* the window doubles with each failure up to the cap; the delay is
     * uniform in it ("full jitter"), so that many messages failing at once
     * (a subscriber down) do not come back at once */
    int64_t cap = o->backoff_first_ms;
    for (int i = 1; i < attempts && cap < o->backoff_max_ms; i++)
        cap *= 2;
    if (cap > o->backoff_max_ms)
        cap = o->backoff_max_ms;
    return (int64_t)(((uint64_t)r * (uint64_t)(cap + 1)) >> 32);
}

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_ready = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
    curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int curl_start(jiko_error *err)
{
    pthread_once(&curl_once, curl_init_once);
    if (curl_ready != CURLE_OK) {
        error_set(err, JIKO_ERR_IO, NULL, 0, NULL, "cannot start libcurl: %s",
                  curl_easy_strerror(curl_ready));
        return -1;
    }
    return 0;
}

/* The answer's body is not read: a subscriber says yes or no by status. */
static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

static void logf_(const notify_sender_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void logf_(const notify_sender_opts *o, const char *fmt, ...)
{
    if (!o->log)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    o->log(o->log_ctx, line);
}

/* One POST; 0 delivered, -1 failed with why[] filled. */
static int attempt(CURL *h, const notify_sender_opts *o, const store_outbox_msg *m,
                   const notify_sub *sub, int64_t at_ms, char *why, size_t why_size)
{
    if (!sub) {
        snprintf(why, why_size, "no [webhook %s] in the configuration: cannot sign",
                 m->subscription);
        return -1;
    }
    char sig[NOTIFY_SIGNATURE_MAX], hdr[3][160];
    int64_t ts = at_ms / 1000;
    notify_signature(sub->key, sub->key_len, m->id, ts, m->body, strlen(m->body), sig);
    snprintf(hdr[0], sizeof hdr[0], "webhook-id: %s", m->id);
    snprintf(hdr[1], sizeof hdr[1], "webhook-timestamp: %lld", (long long)ts);
    snprintf(hdr[2], sizeof hdr[2], "webhook-signature: %s", sig);
    struct curl_slist *headers = NULL, *tmp;
    const char *lines[] = {"Content-Type: application/json", hdr[0], hdr[1], hdr[2],
                           "Expect:" /* no 100-continue round trip */};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        if (!(tmp = curl_slist_append(headers, lines[i]))) {
            curl_slist_free_all(headers);
            snprintf(why, why_size, "out of memory");
            return -1;
        }
        headers = tmp;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, m->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, m->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(m->body));
    curl_easy_setopt(h, CURLOPT_USERAGENT, "jiko-webhooks/1");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    if (rc == CURLE_OK && status >= 200 && status <= 299)
        return 0;
    if (rc == CURLE_OK)
        snprintf(why, why_size, "HTTP %ld", status);
    else
        snprintf(why, why_size, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    return -1;
}

typedef struct taken {
    store_outbox_msg *v;
    int n;
    bool nomem;
} taken;

static char *dup_or(const char *s, bool *nomem)
{
    char *d = strdup(s);
    if (!d)
        *nomem = true;
    return d;
}

static int keep(void *ctx, const store_outbox_msg *m)
{
    taken *t = ctx;
    store_outbox_msg *c = &t->v[t->n++];
    *c = *m;
    c->id = dup_or(m->id, &t->nomem);
    c->subscription = dup_or(m->subscription, &t->nomem);
    c->url = dup_or(m->url, &t->nomem);
    c->event = dup_or(m->event, &t->nomem);
    c->body = dup_or(m->body, &t->nomem);
    c->op = c->incident_id = c->last_error = NULL; /* not needed to send */
    return 0;
}

static void taken_free(taken *t)
{
    for (int i = 0; i < t->n; i++) {
        free((char *)t->v[i].id);
        free((char *)t->v[i].subscription);
        free((char *)t->v[i].url);
        free((char *)t->v[i].event);
        free((char *)t->v[i].body);
    }
    t->n = 0;
}

/* Deliver the messages due at now_ms; `stop` (may be NULL) ends the pass
 * after the attempt in progress. */
static int pass(store *db, CURL *h, const notify_sender_opts *o, int64_t now_ms,
                notify_stats *st, const atomic_bool *stop, jiko_error *err)
{
    int64_t start = mono_ms();
    int batch = o->batch > 0 ? o->batch : 1;
    store_outbox_msg *v = calloc((size_t)batch, sizeof *v);
    if (!v) {
        error_nomem(err, "delivering webhooks");
        return -1;
    }
    int rc = 0;
    for (;;) {
        if (stop && atomic_load(stop))
            break;
        taken t = {v, 0, false};
        int64_t lease = (int64_t)batch * o->timeout_ms + NOTIFY_LEASE_MARGIN_MS;
        int n = store_outbox_take(db, now_ms, batch, lease, keep, &t, err);
        if (n < 0 || t.nomem) {
            if (t.nomem)
                error_nomem(err, "delivering webhooks");
            /* what was leased comes back when the lease ends */
            taken_free(&t);
            rc = -1;
            break;
        }
        int i = 0;
        for (; i < t.n && !(stop && atomic_load(stop)); i++) {
            store_outbox_msg *m = &t.v[i];
            /* the pass's clock: now_ms, moved on by the time spent */
            int64_t at = now_ms + (mono_ms() - start);
            char why[512];
            int tries = m->attempts + 1;
            const notify_sub *sub = notify_subs_find(o->subs, m->subscription);
            int r;
            if (attempt(h, o, m, sub, at, why, sizeof why) == 0) {
                r = store_outbox_delivered(db, m->id, tries, at, err);
                st->delivered += r == 0;
                if (r == 0)
                    logf_(o, "webhook %s (%s, %s) delivered to [webhook %s] at attempt %d",
                          m->id, m->event, m->url, m->subscription, tries);
            } else {
                st->failed++;
                int64_t end = m->created_ms + o->horizon_ms;
                if (at >= end) {
                    r = store_outbox_give_up(db, m->id, tries, at, why, err);
                    st->given_up += r == 0;
                    logf_(o, "webhook %s (%s) to [webhook %s]: attempt %d failed: %s; given up "
                          "(retried for %ld s)",
                          m->id, m->event, m->subscription, tries, why, o->horizon_ms / 1000);
                } else {
                    int64_t next = at + notify_backoff_ms(o, tries, randombytes_random());
                    if (next > end)
                        next = end; /* the last attempt is made at the horizon */
                    if (next <= now_ms)
                        next = now_ms + 1; /* not again in this pass */
                    r = store_outbox_retry(db, m->id, tries, at, next, why, err);
                    logf_(o, "webhook %s (%s) to [webhook %s]: attempt %d failed: %s; next in "
                          "%.1f s",
                          m->id, m->event, m->subscription, tries, why, (double)(next - at) / 1000);
                }
            }
            if (r < 0) {
                rc = -1;
                break;
            }
        }
        /* stopped (or a registry error) mid-batch: what was not tried is
         * put back now rather than left leased */
        for (int k = rc < 0 ? i + 1 : i; k < t.n; k++) {
            jiko_error ignored;
            store_outbox_retry(db, t.v[k].id, t.v[k].attempts, 0, now_ms, NULL, &ignored);
        }
        taken_free(&t);
        if (rc < 0 || n < batch)
            break;
    }
    free(v);
    store_outbox_counts c;
    jiko_error cerr;
    if (store_outbox_count(db, &c, rc < 0 ? &cerr : err) == 0)
        st->pending = c.pending;
    else if (rc == 0)
        rc = -1;
    return rc;
}

int notify_deliver_due(store *db, const notify_sender_opts *o, int64_t now_ms, notify_stats *st,
                       jiko_error *err)
{
    if (curl_start(err))
        return -1;
    CURL *h = curl_easy_init();
    if (!h) {
        error_nomem(err, "starting libcurl");
        return -1;
    }
    int rc = pass(db, h, o, now_ms, st, NULL, err);
    curl_easy_cleanup(h);
    return rc;
}

/* ---- the sender thread ---------------------------------------------------- */

struct notify_sender {
    notify_sender_opts o;
    char *db_url;
    store *db;           /* NULL after a registry failure, until reopened */
    CURL *curl;
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool kicked;         /* under mu */
    atomic_bool stop;
    atomic_long delivered, failed, given_up, pending;
};

static void *run(void *arg)
{
    notify_sender *s = arg;
    while (!atomic_load(&s->stop)) {
        notify_stats st = {0};
        jiko_error err;
        error_clear(&err);
        int64_t next_due = 0;
        /* a connection that failed (a PostgreSQL restart, say) is opened
         * again at the next pass rather than failing every pass after */
        if (!s->db && store_open(&s->db, s->db_url, &err))
            s->db = NULL;
        if (!s->db || pass(s->db, s->curl, &s->o, jst_now_ms(), &st, &s->stop, &err)) {
            char msg[ERROR_TEXT_MAX];
            logf_(&s->o, "webhooks: %s", error_format(&err, msg, sizeof msg));
            if (s->db && err.kind == JIKO_ERR_STORE) {
                store_close(s->db);
                s->db = NULL;
            }
        } else {
            store_outbox_counts c;
            if (store_outbox_count(s->db, &c, &err) == 0)
                next_due = c.next_due_ms;
        }
        atomic_fetch_add(&s->delivered, st.delivered);
        atomic_fetch_add(&s->failed, st.failed);
        atomic_fetch_add(&s->given_up, st.given_up);
        atomic_store(&s->pending, st.pending);
        /* sleep until a kick, the next due message or the poll interval */
        int64_t wait = s->o.poll_ms;
        if (next_due) {
            int64_t until = next_due - jst_now_ms();
            if (until < wait)
                wait = until < 1 ? 1 : until;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += wait / 1000;
        ts.tv_nsec += (wait % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&s->mu);
        while (!s->kicked && !atomic_load(&s->stop))
            if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
                break;
        s->kicked = false;
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

int notify_sender_start(notify_sender **out, const char *db_url, const notify_sender_opts *o,
                        jiko_error *err)
{
    *out = NULL;
    if (curl_start(err))
        return -1;
    notify_sender *s = calloc(1, sizeof *s);
    if (!s) {
        error_nomem(err, "starting the webhook sender");
        return -1;
    }
    s->o = *o;
    if (s->o.batch < 1)
        s->o.batch = 1;
    if (s->o.poll_ms < 1)
        s->o.poll_ms = NOTIFY_POLL_MS;
    atomic_init(&s->stop, false);
    atomic_init(&s->delivered, 0);
    atomic_init(&s->failed, 0);
    atomic_init(&s->given_up, 0);
    atomic_init(&s->pending, 0);
    /* the registry is opened here, so that a wrong URL is the caller's
     * error at once rather than a line in a log */
    if (!(s->db_url = strdup(db_url))) {
        free(s);
        error_nomem(err, "starting the webhook sender");
        return -1;
    }
    if (store_open(&s->db, db_url, err)) {
        free(s->db_url);
        free(s);
        return -1;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    bool cv = pthread_cond_init(&s->cv, &ca) == 0;
    pthread_condattr_destroy(&ca);
    bool mu = pthread_mutex_init(&s->mu, NULL) == 0;
    s->curl = curl_easy_init();
    if (!cv || !mu || !s->curl || pthread_create(&s->tid, NULL, run, s) != 0) {
        error_set(err, JIKO_ERR_NOMEM, NULL, 0, NULL, "cannot start the webhook sender thread");
        if (cv)
            pthread_cond_destroy(&s->cv);
        if (mu)
            pthread_mutex_destroy(&s->mu);
        curl_easy_cleanup(s->curl);
        store_close(s->db);
        free(s->db_url);
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void notify_sender_kick(notify_sender *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->kicked = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void notify_sender_stats(const notify_sender *s, notify_stats *out)
{
    out->delivered = atomic_load(&s->delivered);
    out->failed = atomic_load(&s->failed);
    out->given_up = atomic_load(&s->given_up);
    out->pending = atomic_load(&s->pending);
}

void notify_sender_stop(notify_sender *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->stop, true);
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->tid, NULL);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    curl_easy_cleanup(s->curl);
    store_close(s->db);
    free(s->db_url);
    free(s);
}
