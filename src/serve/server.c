/* server.c — the HTTP server (server.h). */
#include "server.h"
#include "json_arena.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "assets.h"
#include "engine.h"
#include "jst.h"
#include "key_hint.h"
#include "limit.h"
#include "metrics.h"
#include "num.h"

/* Registry handles lent to request threads. */
typedef struct pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    store **all, **idle;
    long n, n_idle;
    bool inited; /* mu and cv */
} pool;

struct server {
    serve_conf conf;
    const api_env *env;
    struct MHD_Daemon *d;
    int port;
    pool db;
    auth *tokens;
    limit_rate *rates;
    limit_rate *public_rates; /* the public pages: a bucket per client address */
    page_cache *pages;        /* and their answers, kept a few seconds */
    metrics *stats;
    atomic_long inflight, connections;
    /* Shutting down: new requests are refused (503, connection closed) and
     * `active` (requests from their headers to their answer's last byte)
     * is waited for, so that no answer to committed work is cut off. */
    atomic_bool draining;
    atomic_long active;
    _Atomic int64_t rss, rss_ms;          /* last reading of resident memory, and when */
    /* SQLite takes one writer at a time: two request threads writing at once
     * made the second sleep in SQLite's busy handler (1-100 ms back-off) with
     * every connection of its thread waiting.  Writers of this process queue
     * here instead, without sleeping.  (PostgreSQL writers run in parallel.) */
    pthread_mutex_t write_mu;
    /* The answer to a request beyond the admission limit, made once: under
     * a flood most answers are this one, and building each cost the I/O
     * thread the time it needs to admit the others. */
    struct MHD_Response *busy;
    /* Admitted requests wait here for a worker, at most max_inflight of
     * them (admission counts them), their connections suspended: the one
     * I/O thread keeps reading, refusing and answering meanwhile, so a
     * flood beyond the limit gets 503 at once instead of waiting unseen in
     * socket buffers (docs/serve-performance.md, problem 2). */
    struct job *queue;
    long q_cap, q_head, q_len;
    pthread_mutex_t q_mu;
    pthread_cond_t q_cv;
    bool q_stop, q_inited;
    pthread_t *workers;
    /* The live engine's clock: every second its open incidents are
     * classified as of now and their alarms raised (engine.h). */
    pthread_t ticker;
    bool ticker_started, tick_stop;
    bool store_lock_lent; /* the engine was given write_mu */
    pthread_mutex_t tick_mu;
    pthread_cond_t tick_cv;
    int n_workers;
    _Atomic long open_incidents;
    _Atomic int64_t open_ms;               /* when open_incidents was counted */
    _Atomic long webhook_pending, webhook_delivered, webhook_given_up; /* with open_incidents */
    /* (operator, id) -> key, shared by the pool's handles; filled at start
     * by a thread of its own, on a handle of its own, while requests are
     * served: until it is done a read goes through the index and fills in
     * what it found (docs/serve-performance.md). */
    key_hint *hint;
    char *db_url;
    pthread_t filler;
    bool filler_started;
};

struct job {
    struct MHD_Connection *c;
    struct request *rq;
};

/* One request, from its headers to its completion. */
typedef struct request {
    int64_t t0_ns;
    route_match route;
    bool routed, admitted, replied, discard;
    /* A request without a body is looked at on MHD's second call, when it is
     * complete: an answer queued on the first call makes MHD close the
     * connection (it cannot know nothing follows), and keep-alive is most
     * of the speed of small GETs. */
    bool started;
    bool queued;        /* handed to a worker, its connection suspended */
    atomic_bool done;   /* the worker's answer is in `out` */
    reply out;
    int status;
    auth_who who;
    char *body;
    size_t len, cap, discarded;
} request;

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the registry pool ---- */

static int pool_open(pool *p, long n, const char *url, jiko_error *err)
{
    memset(p, 0, sizeof *p);
    p->all = calloc((size_t)n, sizeof *p->all);
    p->idle = calloc((size_t)n, sizeof *p->idle);
    if (!p->all || !p->idle) {
        free(p->all);
        free(p->idle);
        error_nomem(err, "opening the registry");
        return -1;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->inited = true;
    for (; p->n < n; p->n++) {
        if (store_open(&p->all[p->n], url, err))
            return -1;
        p->idle[p->n_idle++] = p->all[p->n];
    }
    return 0;
}

static void pool_close(pool *p)
{
    for (long i = 0; i < p->n; i++)
        store_close(p->all[i]);
    free(p->all);
    free(p->idle);
    if (p->inited) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
    }
    memset(p, 0, sizeof *p);
}

/* Admission bounds the borrowers, so waiting here is short. */
static store *pool_get(pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->n_idle == 0)
        pthread_cond_wait(&p->cv, &p->mu);
    store *s = p->idle[--p->n_idle];
    pthread_mutex_unlock(&p->mu);
    return s;
}

static void pool_put(pool *p, store *s)
{
    pthread_mutex_lock(&p->mu);
    p->idle[p->n_idle++] = s;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* ---- answers ---- */

/* The request's work is done (its answer is queued): it leaves the
 * admission count now, not when MHD has finished sending, so that a client
 * sending its next request at once is not refused for its previous one. */
static void release(server *s, request *rq)
{
    if (rq->admitted) {
        rq->admitted = false;
        atomic_fetch_sub(&s->inflight, 1);
    }
}

/* An HTTP-date (RFC 9110 IMF-fixdate), written without the C library's
 * locale: "Thu, 14 Oct 2021 08:53:00 GMT". */
static char *http_date(int64_t ms, char *buf, size_t size)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t sec = ms / 1000;
    int64_t days_since = sec / 86400, in_day = sec % 86400;
    jst_date d = jst_civil_from_days(days_since); /* the UTC date: no offset added */
    snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d GMT",
             days[((days_since + 4) % 7 + 7) % 7], d.d, months[d.m - 1], d.y,
             (int)(in_day / 3600), (int)(in_day / 60 % 60), (int)(in_day % 60));
    return buf;
}

/* Whether the request's If-None-Match names this ETag (or is "*"): then
 * 304 without a body.  For the API's answers and the dashboard's files. */
static bool etag_matches(struct MHD_Connection *c, const char *etag)
{
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    if (!inm)
        return false;
    while (*inm == ' ')
        inm++;
    return strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL;
}

/* Whether a 200 with an ETag answers a conditional GET (etag_matches). */
static bool not_modified(struct MHD_Connection *c, const reply *r)
{
    return r->status == 200 && r->etag[0] && etag_matches(c, r->etag);
}

static enum MHD_Result send_reply(server *s, struct MHD_Connection *c, request *rq, reply *r)
{
    release(s, rq);
    struct MHD_Response *resp;
    const char *ctype = r->content_type ? r->content_type : "application/json";
    if (r->body) {
        resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
        if (resp)
            r->body = NULL; /* the response frees it */
    } else {
        size_t n = 0;
        const char *b = r->status == 503 ? reply_nomem_body(&n) : "";
        resp = MHD_create_response_from_buffer(n, (void *)b, MHD_RESPMEM_PERSISTENT);
        ctype = r->status == 204 ? NULL : "application/json"; /* No Content: no type */
    }
    reply_free(r);
    if (!resp)
        return MHD_NO;
    if (not_modified(c, r)) { /* the client's copy is current: no body */
        MHD_destroy_response(resp);
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        r->status = 304;
        ctype = NULL;
    }
    if (ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            r->cache_control ? r->cache_control : "no-store");
    if (r->etag[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
    if (r->last_modified_ms > 0) {
        char date[40];
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED,
                                http_date(r->last_modified_ms, date, sizeof date));
    }
    if (r->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (r->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"jiko\"");
    if (atomic_load(&s->draining)) /* the client must not send more on this connection */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    rq->replied = true;
    rq->status = r->status;
    return ok;
}

static enum MHD_Result send_error(server *s, struct MHD_Connection *c, request *rq, int status,
                                  const char *code, int retry_after, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static enum MHD_Result send_error(server *s, struct MHD_Connection *c, request *rq, int status,
                                  const char *code, int retry_after, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    reply r = {0};
    reply_error(&r, status, code, NULL, "%s", msg);
    if (!r.retry_after)
        r.retry_after = retry_after;
    return send_reply(s, c, rq, &r);
}

/* ---- the request target, as it came ---- */

typedef struct target {
    char *text;
    size_t len, cap;
    bool first, too_long;
} target;

static bool target_add(target *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        t->too_long = true;
        return false;
    }
    memcpy(t->text + t->len, s, n + 1);
    t->len += n;
    return true;
}

/* MHD splits the query into arguments; the router wants them as sent (our
 * unescape callback leaves them percent-encoded), so put them back. */
static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    target *t = cls;
    if (!target_add(t, t->first ? "?" : "&") || !target_add(t, key) ||
        (value && (!target_add(t, "=") || !target_add(t, value))))
        return MHD_NO;
    t->first = false;
    return MHD_YES;
}

static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

/* ---- the pipeline ---- */

static bool body_type_ok(route_id route, const char *ct)
{
    /* InfluxDB takes line protocol whatever the type says */
    if (route == ROUTE_WRITE_INFLUX)
        return true;
    if (!ct)
        return false;
    /* remote_write 1.0; 2.0 says proto=io.prometheus.write.v2.Request: a
     * different message, refused rather than misread */
    if (route == ROUTE_WRITE_PROM)
        return strncasecmp(ct, "application/x-protobuf", 22) == 0 && !strstr(ct, "write.v2");
    static const char *const types[] = {"application/json", "application/x-ndjson",
                                        "application/jsonl", "application/json-lines"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t n = strlen(types[i]);
        if (strncasecmp(ct, types[i], n) == 0) {
            const char *rest = ct + n;
            while (*rest == ' ')
                rest++;
            if (!*rest)
                return true;
            if (*rest != ';')
                continue;
            const char *cs = NULL;
            for (const char *p = rest; *p && !cs; p++)
                if (strncasecmp(p, "charset=", 8) == 0)
                    cs = p;
            return !cs || strncasecmp(cs + 8, "utf-8", 5) == 0 ||
                   strncasecmp(cs + 8, "\"utf-8\"", 7) == 0;
        }
    }
    return false;
}

static void refresh_rss(server *s, int64_t now)
{
    if (now - atomic_load(&s->rss_ms) >= 100) {
        atomic_store(&s->rss_ms, now);
        atomic_store(&s->rss, limit_rss_bytes());
    }
}

static enum MHD_Result serve_metrics(server *s, struct MHD_Connection *c, request *rq,
                                     int64_t now)
{
    /* open incidents: counted in the registry at most every 5 s (a count
     * of the incident table, no record read) */
    if (now - atomic_load(&s->open_ms) >= 5000) {
        store *db = pool_get(&s->db);
        long n = 0;
        jiko_error err;
        atomic_store(&s->open_incidents, store_count_open(db, &n, &err) ? -1 : n);
        /* the webhook outbox, counted with them (the same 5 s) */
        store_outbox_counts oc;
        bool counted = store_outbox_count(db, &oc, &err) == 0;
        atomic_store(&s->webhook_pending, counted ? oc.pending : -1);
        atomic_store(&s->webhook_delivered, counted ? oc.delivered : 0);
        atomic_store(&s->webhook_given_up, counted ? oc.given_up : 0);
        atomic_store(&s->open_ms, now);
        pool_put(&s->db, db);
    }
    refresh_rss(s, now);
    metrics_gauges g = {atomic_load(&s->inflight), s->conf.max_inflight, atomic_load(&s->rss),
                        atomic_load(&s->open_incidents), auth_count(s->tokens),
                        atomic_load(&s->connections), NULL,
                        atomic_load(&s->webhook_pending), atomic_load(&s->webhook_delivered),
                        atomic_load(&s->webhook_given_up), NULL};
    key_hint_stats hint;
    if (s->hint) {
        key_hint_stats_get(s->hint, &hint);
        g.hint = &hint;
    }
    live_stats live;
    if (s->env->engine) {
        live_stats_get(s->env->engine, &live);
        g.live = &live;
    }
    reply r = {0};
    size_t len;
    char *text = metrics_render(s->stats, &g, &len);
    if (text)
        reply_take(&r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    else
        reply_json(&r, 503, NULL);
    return send_reply(s, c, rq, &r);
}

/* A dashboard file (assets.h): public, like the page that asks for the
 * token; answered from memory by the I/O thread, revalidated by its ETag.
 * The page's data comes from the API, with the token. */
static enum MHD_Result serve_asset(server *s, struct MHD_Connection *c, request *rq,
                                   const char *name)
{
    const asset *a = assets_find(s->env->web, name);
    if (!a) {
        reply r = {0};
        reply_error(&r, 404, "not_found", NULL, "%s",
                    s->env->web ? "no such file of the dashboard"
                                : "the dashboard is not installed (see [serve] web in docs/api.md)");
        return send_reply(s, c, rq, &r);
    }
    bool same = etag_matches(c, a->etag);
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        same ? 0 : a->len, same ? (void *)"" : a->body, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    if (!same)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, a->etag);
    /* revalidate each time: a new build's files are seen at once */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    /* the page runs only its own scripts and talks only to this server */
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; style-src 'self' "
                            "'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; "
                            "form-action 'self'");
    if (atomic_load(&s->draining))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    int status = same ? 304 : 200;
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    rq->replied = true;
    rq->status = status;
    return ok;
}

/* Run the handler of an admitted request. */
static void run_handler_on(server *s, store *db, request *rq, reply *r)
{
    char empty[1] = ""; /* a request without a body: the handler may still cut it */
    api_request ar = {&rq->route, &rq->who, rq->body ? rq->body : empty, rq->len, jst_now_ms(), db,
                      s->pages};
    /* ingest requests: the engine takes the writer lock around its commit
     * only (live_set_store_lock), so they decode and detect in parallel */
    /* a notice is a read of the record and a write of it with the notice
     * added: two at once must not both add to the same version */
    bool writes = rq->route.method == ROUTE_POST &&
                  (rq->route.id == ROUTE_INCIDENTS || rq->route.id == ROUTE_NOTICES) &&
                  !store_may_retry(db);
    if (writes)
        pthread_mutex_lock(&s->write_mu);
    api_handle(s->env, &ar, r);
    if (writes)
        pthread_mutex_unlock(&s->write_mu);
}

static void run_handler(server *s, request *rq, reply *r)
{
    store *db = pool_get(&s->db);
    run_handler_on(s, db, rq, r);
    pool_put(&s->db, db);
}

#define TICK_MS 1000

static void *ticker_main(void *arg)
{
    server *s = arg;
    char last[ERROR_TEXT_MAX] = "";
    int64_t every = live_checkpoint_every_ms(s->env->engine), saved = jst_now_ms();
    pthread_mutex_lock(&s->tick_mu);
    while (!s->tick_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += TICK_MS / 1000;
        pthread_cond_timedwait(&s->tick_cv, &s->tick_mu, &until);
        if (s->tick_stop)
            break;
        pthread_mutex_unlock(&s->tick_mu);
        store *db = pool_get(&s->db);
        jiko_error err; /* the engine takes the writer lock itself */
        int rc = live_tick(s->env->engine, db, jst_now_ms(), &err);
        pool_put(&s->db, db);
        /* said once per distinct failure, not every second */
        if (rc && strcmp(err.message, last) != 0) {
            snprintf(last, sizeof last, "%s", err.message);
            fprintf(stderr, "jiko serve: live countdown: %s (retrying every second)\n",
                    err.message);
        } else if (!rc) {
            last[0] = '\0';
        }
        /* the detectors' states, so that a restart needs no new warm-up */
        if (every && jst_now_ms() - saved >= every) {
            saved = jst_now_ms();
            if (live_checkpoint(s->env->engine, &err))
                fprintf(stderr, "jiko serve: %s: %s\n", err.file, err.message);
        }
        pthread_mutex_lock(&s->tick_mu);
    }
    pthread_mutex_unlock(&s->tick_mu);
    return NULL;
}

/* After the grace period and the workers' last handlers: how long the
 * answers they made may take to be sent before the connections close. */
#define SERVER_FLUSH_MS 500

/* What a request refused because the server is stopping is told. */
#define SERVER_SHUTTING_DOWN "the server is shutting down; try again (another server)"

/* The most requests a worker takes from the queue at once. */
#define WORKER_RUN_MAX 8

static void *worker_main(void *arg)
{
    server *s = arg;
    json_arena arena;
    json_arena_init(&arena);
    struct job run[WORKER_RUN_MAX];
    for (;;) {
        pthread_mutex_lock(&s->q_mu);
        while (s->q_len == 0 && !s->q_stop)
            pthread_cond_wait(&s->q_cv, &s->q_mu);
        if (s->q_len == 0) { /* stopping, and nothing left */
            pthread_mutex_unlock(&s->q_mu);
            json_arena_free(&arena);
            return NULL;
        }
        /* Reads waiting in a row at the head of the queue are taken
         * together, up to this worker's share of the queue, and run on one
         * registry snapshot (store_read_begin): the per-statement read
         * transaction was a tenth of a GET incident's cost.  Taken in queue
         * order, each of them arrived before the snapshot starts, so each
         * still sees every write answered before it was sent. */
        int n = 0, share = s->q_len / s->n_workers;
        bool reads = api_json_scratch(&s->queue[s->q_head].rq->route);
        do {
            run[n++] = s->queue[s->q_head];
            s->q_head = (s->q_head + 1) % s->q_cap;
            s->q_len--;
        } while (reads && n < share && n < WORKER_RUN_MAX && s->q_len > 0 &&
                 api_json_scratch(&s->queue[s->q_head].rq->route));
        pthread_mutex_unlock(&s->q_mu);
        store *db = pool_get(&s->db);
        jiko_error err; /* a snapshot that cannot begin: each read runs alone, as before */
        bool snapshot = n > 1 && store_read_begin(db, &err) == 0;
        if (snapshot)
            metrics_read_run(s->stats, n);
        for (int i = 0; i < n; i++) {
            struct job j = run[i];
            /* a read's JSON values from the worker's arena, all released at
             * once after it (json_arena.h): a fifth of GET incident's work
             * was malloc and free of them */
            bool scratch = api_json_scratch(&j.rq->route);
            if (scratch)
                json_arena_use(&arena);
            run_handler_on(s, db, j.rq, &j.rq->out);
            if (scratch) {
                json_arena_use(NULL);
                json_arena_reset(&arena);
            }
            atomic_store(&j.rq->done, true);
            MHD_resume_connection(j.c); /* the I/O thread sends the answer */
        }
        if (snapshot)
            store_read_end(db);
        pool_put(&s->db, db);
    }
}

/* Run an admitted request: on a worker when there are workers (its
 * connection suspended until the answer is ready), else here. */
static enum MHD_Result handle(server *s, struct MHD_Connection *c, request *rq)
{
    if (s->n_workers) {
        pthread_mutex_lock(&s->q_mu);
        /* past the grace period the workers are leaving: a request that
         * completes now (its body was still arriving) would wait for one
         * forever, its connection suspended when MHD stops */
        bool stopping = s->q_stop;
        bool room = !stopping && s->q_len < s->q_cap;
        if (room) {
            MHD_suspend_connection(c);
            rq->queued = true;
            s->queue[(s->q_head + s->q_len) % s->q_cap] = (struct job){c, rq};
            s->q_len++;
            pthread_cond_signal(&s->q_cv);
        }
        pthread_mutex_unlock(&s->q_mu);
        if (room)
            return MHD_YES;
        if (stopping)
            return send_error(s, c, rq, 503, "shutting_down", 1,
                              SERVER_SHUTTING_DOWN);
        /* cannot happen while admission bounds the queue; refuse anyway */
        return send_error(s, c, rq, 503, "overloaded", 1,
                          "the server is at its limit of requests in progress; try again");
    }
    reply r = {0};
    run_handler(s, rq, &r);
    return send_reply(s, c, rq, &r);
}

/* A public page (no token) once admitted: rate-limited by the client's
 * address in a limiter of its own (addresses come and go without end; the
 * tokens' buckets must not share their table), an IPv6 client by its /64
 * (one host commonly holds a whole /64), so that one client cannot take
 * the server from the others. */
static enum MHD_Result public_request(server *s, struct MHD_Connection *c, request *rq,
                                      int64_t now)
{
    char key[INET6_ADDRSTRLEN + 8] = "";
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, key,
                  sizeof key);
    } else if (sa && sa->sa_family == AF_INET6) {
        struct in6_addr net = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        memset(net.s6_addr + 8, 0, 8);
        inet_ntop(AF_INET6, &net, key, sizeof key);
    }
    int retry;
    if (!limit_rate_take(s->public_rates, key, now, &retry)) {
        metrics_refused(s->stats, METRICS_REFUSED_RATE);
        return send_error(s, c, rq, 429, "rate_limited", retry,
                          "too many requests from this address; see Retry-After");
    }
    return handle(s, c, rq);
}

/* Everything before the handler: the route, admission, the token, the
 * role, the rate, the body's type and size.  Runs once per request, when it
 * can first be judged: on MHD's first call when a body follows (so that a
 * refusal comes before the body is read), else once the request is complete. */
static enum MHD_Result check_request(server *s, struct MHD_Connection *c, const char *url,
                                     const char *method, request *rq)
{
    char buf[ROUTE_TARGET_MAX + 2];
    target t = {buf, 0, sizeof buf, true, false};
    buf[0] = '\0';
    if (!target_add(&t, url) ||
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &t) < 0 || t.too_long ||
        t.len > ROUTE_TARGET_MAX)
        return send_error(s, c, rq, 414, "invalid", 0, "request target longer than %d bytes",
                          ROUTE_TARGET_MAX);
    jiko_error err;
    if (route_parse(method, buf, &rq->route, &err)) {
        reply r = {0};
        reply_from_error(&r, &err);
        return send_reply(s, c, rq, &r);
    }
    rq->routed = true;
    int64_t now = jst_now_ms();
    route_id id = rq->route.id;
    if (!route_allows(&rq->route)) {
        reply r = {0};
        reply_error(&r, 405, "method_not_allowed", NULL, "%s takes %s, not %s", route_name(id),
                    route_allow_header(id), method);
        r.allow = route_allow_header(id);
        return send_reply(s, c, rq, &r);
    }
    if (id == ROUTE_HEALTHZ) {
        reply r = {0};
        reply_json(&r, 200, json_pack("{s:s}", "status", "ok"));
        return send_reply(s, c, rq, &r);
    }
    if (id == ROUTE_METRICS)
        return serve_metrics(s, c, rq, now);
    if (id == ROUTE_DASHBOARD || id == ROUTE_ASSET)
        return serve_asset(s, c, rq, id == ROUTE_DASHBOARD ? "index.html" : rq->route.file);

    /* admission: refuse at once rather than queue (seed 002) */
    long before = atomic_fetch_add(&s->inflight, 1);
    rq->admitted = true;
    if (before >= s->conf.max_inflight) {
        metrics_refused(s->stats, METRICS_REFUSED_OVERLOAD_QUEUE);
        release(s, rq);
        rq->replied = true;
        rq->status = 503;
        return MHD_queue_response(c, 503, s->busy);
    }
    refresh_rss(s, now);
    int64_t rss = atomic_load(&s->rss);
    if (rss > (int64_t)s->conf.max_rss_mb << 20) {
        metrics_refused(s->stats, METRICS_REFUSED_OVERLOAD_MEMORY);
        return send_error(s, c, rq, 503, "overloaded", 1,
                          "the server is at its memory limit; try again");
    }

    if (!api_needs_token(id)) /* the public pages: no token, a rate per client address */
        return public_request(s, c, rq, now);

    const char *authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    store *db = pool_get(&s->db);
    auth_result a = auth_check(s->tokens, db, authz, now, &rq->who, &err);
    pool_put(&s->db, db);
    if (a != AUTH_OK) {
        if (a == AUTH_FAILED) {
            reply r = {0};
            reply_from_error(&r, &err);
            return send_reply(s, c, rq, &r);
        }
        metrics_refused(s->stats, METRICS_REFUSED_UNAUTHORIZED);
        return send_error(s, c, rq, 401, "unauthorized", 0, "%s",
                          a == AUTH_MISSING ? "give a token: Authorization: Bearer TOKEN "
                                              "(jiko token create)"
                                            : "unknown or revoked token");
    }
    if (!api_role_allows(&rq->route, rq->who.role, &err)) {
        metrics_refused(s->stats, METRICS_REFUSED_FORBIDDEN);
        reply r = {0};
        reply_from_error(&r, &err);
        return send_reply(s, c, rq, &r);
    }
    int retry;
    if (!limit_rate_take(s->rates, rq->who.id, now, &retry)) {
        metrics_refused(s->stats, METRICS_REFUSED_RATE);
        return send_error(s, c, rq, 429, "rate_limited", retry,
                          "too many requests for this token; see Retry-After");
    }
    if (rq->route.method != ROUTE_POST)
        return handle(s, c, rq);

    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (!body_type_ok(rq->route.id, ct))
        return send_error(s, c, rq, 415, "unsupported_media_type", 0, "send %s, not '%s'",
                          rq->route.id == ROUTE_WRITE_PROM
                              ? "a Prometheus remote_write 1.0 body (application/x-protobuf, "
                                "snappy-compressed)"
                          : rq->route.id == ROUTE_ALERTS
                              ? "Alertmanager's webhook payload (application/json)"
                              : "application/json (one incident) or application/x-ndjson "
                                "(JSON Lines) in UTF-8",
                          ct ? ct : "(no Content-Type)");
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    long n = 0;
    if (cl && num_parse_long(cl, 0, LONG_MAX, &n) && n > s->conf.max_body_bytes) {
        metrics_refused(s->stats, METRICS_REFUSED_BODY_SIZE);
        return send_error(s, c, rq, 413, "payload_too_large", 0,
                          "the body is larger than the limit of %ld bytes",
                          s->conf.max_body_bytes);
    }
    if (n > 0) {
        rq->body = malloc((size_t)n + 1);
        if (!rq->body)
            return send_error(s, c, rq, 503, "out_of_memory", 1, "the server is out of memory");
        rq->cap = (size_t)n + 1;
    }
    return MHD_YES;
}

static enum MHD_Result on_body(server *s, request *rq, const char *data, size_t *size)
{
    size_t n = *size;
    *size = 0;
    if (rq->discard) {
        /* an oversized body without Content-Length: read and dropped up to a
         * point, so that the 413 reaches a well-behaved client; past it the
         * connection is closed */
        rq->discarded += n;
        return rq->discarded > 4 * (size_t)s->conf.max_body_bytes ? MHD_NO : MHD_YES;
    }
    if (rq->len + n > (size_t)s->conf.max_body_bytes) {
        rq->discard = true;
        free(rq->body);
        rq->body = NULL;
        rq->len = rq->cap = 0;
        return MHD_YES;
    }
    if (rq->len + n + 1 > rq->cap) {
        size_t cap = rq->cap ? rq->cap : 4096;
        while (cap < rq->len + n + 1)
            cap *= 2;
        char *b = realloc(rq->body, cap);
        if (!b)
            return MHD_NO;
        rq->body = b;
        rq->cap = cap;
    }
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
    rq->body[rq->len] = '\0';
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    server *s = cls;
    request *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        rq->t0_ns = mono_ns();
        *con_cls = rq;
        atomic_fetch_add(&s->active, 1);
        if (atomic_load(&s->draining)) {
            rq->started = true;
            return send_error(s, c, rq, 503, "shutting_down", 1,
                              SERVER_SHUTTING_DOWN);
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
        if (te || (cl && strcmp(cl, "0") != 0)) {
            /* a body follows: refuse before reading it if it must be refused */
            rq->started = true;
            return check_request(s, c, url, method, rq);
        }
        return MHD_YES; /* complete on the next call */
    }
    if (rq->queued) {
        *upload_data_size = 0;
        if (!atomic_load(&rq->done))
            return MHD_YES;
        rq->queued = false;
        return send_reply(s, c, rq, &rq->out);
    }
    if (!rq->started) {
        rq->started = true;
        *upload_data_size = 0;
        return check_request(s, c, url, method, rq);
    }
    if (rq->replied) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size)
        return on_body(s, rq, upload_data, upload_data_size);
    if (rq->discard) {
        metrics_refused(s->stats, METRICS_REFUSED_BODY_SIZE);
        return send_error(s, c, rq, 413, "payload_too_large", 0,
                          "the body is larger than the limit of %ld bytes",
                          s->conf.max_body_bytes);
    }
    return handle(s, c, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    server *s = cls;
    request *rq = *con_cls;
    if (!rq)
        return;
    double secs = (double)(mono_ns() - rq->t0_ns) / 1e9;
    atomic_fetch_sub(&s->active, 1);
    metrics_request(s->stats, rq->routed ? rq->route.id : ROUTE_NONE,
                    rq->replied ? rq->status : 0, secs);
    release(s, rq); /* a connection closed before its answer */
    route_free(&rq->route);
    auth_who_free(&rq->who);
    reply_free(&rq->out);
    free(rq->body);
    free(rq);
    *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)c;
    (void)socket_context;
    server *s = cls;
    atomic_fetch_add(&s->connections, toe == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1);
}

static void *filler_main(void *arg)
{
    server *s = arg;
    store *db;
    jiko_error err;
    int rc = store_open_existing(&db, s->db_url, &err);
    if (rc == 0) {
        rc = store_key_hint_fill(db, s->hint, NULL, &err);
        store_close(db);
    }
    if (rc) /* reads still work, through the index */
        fprintf(stderr, "jiko serve: key hint not filled: %s\n", err.message);
    return NULL;
}

/* The key hint, shared by every handle of the pool, and its filler.  The
 * hint is optional: without memory for it reads go through the index. */
static int hint_start(server *s, const char *db_url, jiko_error *err)
{
    /* (asked with no hint: a backend without keys to hint says no) */
    if (s->conf.key_hint_mb <= 0 || !store_use_key_hint(s->db.all[0], NULL))
        return 0;
    size_t mb = (size_t)s->conf.key_hint_mb;
    s->hint = mb <= SIZE_MAX >> 21 ? key_hint_new(mb << 20) : NULL;
    if (!s->hint) {
        fprintf(stderr, "jiko serve: no memory for a key hint of %zu MiB: reads go through the "
                        "index\n", mb);
        return 0;
    }
    s->db_url = strdup(db_url);
    if (!s->db_url) {
        error_nomem(err, "making the key hint");
        return -1;
    }
    for (long i = 0; i < s->db.n; i++) /* one backend: each says yes as the first did */
        store_use_key_hint(s->db.all[i], s->hint);
    if (pthread_create(&s->filler, NULL, filler_main, s) == 0)
        s->filler_started = true; /* else: filled by the reads alone */
    return 0;
}

int server_start(server **out, const serve_conf *c, const char *db_url, const api_env *env,
                 jiko_error *err)
{
    server *s = calloc(1, sizeof *s);
    if (!s) {
        error_nomem(err, "starting the server");
        return -1;
    }
    s->conf = *c;
    s->env = env;
    pthread_mutex_init(&s->write_mu, NULL);
    atomic_store(&s->rss_ms, INT64_MIN / 2);
    atomic_store(&s->open_ms, INT64_MIN / 2);
    /* one handle per worker, one for the I/O thread (tokens, /metrics) and
     * one for the live engine's clock: with one fewer, the clock's tick
     * while both workers run could make the I/O thread wait for a handle,
     * and with it every connection */
    long handles = c->registry_connections ? c->registry_connections
                   : c->threads > 0        ? c->threads + 1 + (env->engine ? 1 : 0)
                                           : 8;
    s->tokens = auth_new(c->token_refresh_ms);
    s->stats = metrics_new();
    s->rates = limit_rate_new(c->rate, c->burst, 100000);
    s->public_rates = limit_rate_new(c->rate, c->burst, SERVER_PUBLIC_ADDRESSES);
    if (s->public_rates)
        limit_rate_forget_when_full(s->public_rates);
    s->pages = page_cache_new();
    if (!s->tokens || !s->stats || !s->rates || !s->public_rates || !s->pages) {
        error_nomem(err, "starting the server");
        goto fail;
    }
    if (pool_open(&s->db, handles, db_url, err) || hint_start(s, db_url, err))
        goto fail;
    if (env->engine) { /* before any request: the engine's commits take turns too */
        live_set_store_lock(env->engine, store_may_retry(s->db.all[0]) ? NULL : &s->write_mu);
        s->store_lock_lent = true;
    }
    static const char busy[] = "{\"error\":{\"code\":\"overloaded\",\"message\":\"the server is at "
                               "its limit of requests in progress; try again\"}}\n";
    s->busy = MHD_create_response_from_buffer(sizeof busy - 1, (void *)busy,
                                              MHD_RESPMEM_PERSISTENT);
    if (!s->busy || MHD_add_response_header(s->busy, MHD_HTTP_HEADER_CONTENT_TYPE,
                                            "application/json") != MHD_YES ||
        MHD_add_response_header(s->busy, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES ||
        MHD_add_response_header(s->busy, MHD_HTTP_HEADER_RETRY_AFTER, "1") != MHD_YES) {
        error_nomem(err, "starting the server");
        goto fail;
    }
    if (c->threads > 0) {
        pthread_mutex_init(&s->q_mu, NULL);
        pthread_cond_init(&s->q_cv, NULL);
        s->q_inited = true;
        s->q_cap = c->max_inflight;
        s->queue = calloc((size_t)s->q_cap, sizeof *s->queue);
        s->workers = calloc((size_t)c->threads, sizeof *s->workers);
        if (!s->queue || !s->workers) {
            error_nomem(err, "starting the server");
            goto fail;
        }
        for (; s->n_workers < c->threads; s->n_workers++)
            if (pthread_create(&s->workers[s->n_workers], NULL, worker_main, s)) {
                error_set(err, JIKO_ERR_NOMEM, NULL, 0, NULL, "cannot start a worker thread");
                goto fail;
            }
    }

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, c->host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)c->port);
    } else {
        inet_pton(AF_INET6, c->host, &v6->sin6_addr);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)c->port);
        flags |= MHD_USE_IPv6;
    }
    if (c->threads == 0)
        flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    else /* one I/O thread; the handlers run on the workers */
        flags |= MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME;
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->connection_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)c->max_header_bytes,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, s, MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL, MHD_OPTION_END);
    if (!s->d) {
        error_set(err, JIKO_ERR_IO, NULL, 0, "listen", "cannot listen on %s port %d: %s",
                  c->host, c->port, strerror(errno));
        goto fail;
    }
    if (env->engine) {
        pthread_mutex_init(&s->tick_mu, NULL);
        pthread_cond_init(&s->tick_cv, NULL);
        if (pthread_create(&s->ticker, NULL, ticker_main, s)) {
            pthread_mutex_destroy(&s->tick_mu);
            pthread_cond_destroy(&s->tick_cv);
            error_set(err, JIKO_ERR_NOMEM, NULL, 0, NULL, "cannot start the live engine's clock");
            goto fail;
        }
        s->ticker_started = true;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : c->port;
    *out = s;
    return 0;
fail:
    server_stop(s);
    return -1;
}

int server_port(const server *s)
{
    return s->port;
}

/* Wait, at most ms milliseconds, until no request is in progress (from its
 * headers to its answer's last byte). */
static void wait_quiet(server *s, int64_t ms)
{
    int64_t until = mono_ns() + ms * 1000000;
    while (atomic_load(&s->active) > 0 && mono_ns() < until)
        nanosleep(&(struct timespec){0, 5000000}, NULL);
}

void server_stop(server *s)
{
    if (!s)
        return;
    if (s->filler_started) /* its fill stops now; joined below, before its hint goes */
        key_hint_stop_filling(s->hint);
    if (s->d) {
        atomic_store(&s->draining, true);
        MHD_socket fd = MHD_quiesce_daemon(s->d);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
        /* requests in progress finish and their answers are sent whole; new
         * ones (on open keep-alive connections) get 503 and a closed
         * connection; idle connections do not hold us */
        wait_quiet(s, (int64_t)s->conf.shutdown_grace_s * 1000);
    }
    if (s->q_inited) {
        /* past the grace period: what still waits for a worker is refused,
         * and every suspended connection resumed before MHD stops */
        pthread_mutex_lock(&s->q_mu);
        s->q_stop = true;
        for (; s->q_len > 0; s->q_len--, s->q_head = (s->q_head + 1) % s->q_cap) {
            struct job j = s->queue[s->q_head];
            reply_error(&j.rq->out, 503, "shutting_down", NULL,
                        SERVER_SHUTTING_DOWN);
            atomic_store(&j.rq->done, true);
            MHD_resume_connection(j.c);
        }
        pthread_cond_broadcast(&s->q_cv);
        pthread_mutex_unlock(&s->q_mu);
        for (int i = 0; i < s->n_workers; i++)
            pthread_join(s->workers[i], NULL);
        /* The answers made meanwhile — a handler that was still running,
         * the refusals above — are sent before MHD closes the connections:
         * a write answered 2xx is one the client knows is committed.  Only
         * briefly: a client that does not read its answer must not hold
         * the stop. */
        if (s->d)
            wait_quiet(s, SERVER_FLUSH_MS);
    }
    if (s->d)
        MHD_stop_daemon(s->d);
    if (s->ticker_started) {
        pthread_mutex_lock(&s->tick_mu);
        s->tick_stop = true;
        pthread_cond_signal(&s->tick_cv);
        pthread_mutex_unlock(&s->tick_mu);
        pthread_join(s->ticker, NULL);
        pthread_mutex_destroy(&s->tick_mu);
        pthread_cond_destroy(&s->tick_cv);
    }
    if (s->q_inited) {
        pthread_mutex_destroy(&s->q_mu);
        pthread_cond_destroy(&s->q_cv);
    }
    free(s->queue);
    free(s->workers);
    if (s->busy)
        MHD_destroy_response(s->busy);
    if (s->store_lock_lent) /* the engine outlives the server and its lock */
        live_set_store_lock(s->env->engine, NULL);
    if (s->filler_started)
        pthread_join(s->filler, NULL);
    pool_close(&s->db);
    key_hint_free(s->hint);
    free(s->db_url);
    pthread_mutex_destroy(&s->write_mu);
    auth_free(s->tokens);
    limit_rate_free(s->rates);
    limit_rate_free(s->public_rates);
    page_cache_free(s->pages);
    metrics_free(s->stats);
    free(s);
}
