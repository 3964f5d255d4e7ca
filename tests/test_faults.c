/*
 * test_faults.c — allocation failure at every allocation site, as SQLite
 * tests itself: each operation of the parsers and the registry is run again
 * and again, the Nth allocation failing once in run N, until a run makes no
 * more allocations than N.  Every run must end in success (a path that
 * recovers) or in an error of kind out-of-memory, never a crash, another
 * error, or a leak: blocks allocated during the run and not freed by its
 * end are counted.
 *
 * malloc and friends are replaced in this program (glibc allows it by symbol
 * interposition; the shared libraries' calls come here too), so it runs on
 * the plain build only: sanitizers and valgrind bring their own.
 */
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <snappy-c.h>

#include "catalog.h"
#include "import.h"
#include "incident.h"
#include "ingest_influx.h"
#include "ingest_prom.h"
#include "intake.h"
#include "json_arena.h"
#include "notice.h"
#include "notify.h"
#include "report.h"
#include "rules.h"
#include "status.h"
#include "store.h"
#include "store_row.h"
#include "token.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

/* The injector's state: one program, one thread at a time (the import's
 * threads allocate too, under the lock below). */
typedef struct faults {
    long fail_at;   /* the allocation to fail, counted from 1; 0 = none */
    long count;     /* allocations so far in this run */
    bool failed;    /* the failure was injected */
    bool tracking;
    long live;      /* blocks allocated in this run and not yet freed */
} faults;
static faults F;
#define SLOTS (1u << 20)
static void *live[SLOTS]; /* open addressing: the run's live blocks */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static const void *TOMB = &F;

static size_t slot_of(const void *p) { return ((uintptr_t)p >> 4) * 2654435761u & (SLOTS - 1); }

static void track_add(void *p)
{
    if (!p || !F.tracking)
        return;
    for (size_t i = slot_of(p);; i = (i + 1) & (SLOTS - 1))
        if (!live[i] || live[i] == TOMB) {
            live[i] = p;
            F.live++;
            return;
        }
}

static void track_del(void *p)
{
    if (!p || !F.tracking)
        return;
    for (size_t i = slot_of(p); live[i]; i = (i + 1) & (SLOTS - 1))
        if (live[i] == p) {
            live[i] = (void *)TOMB;
            F.live--;
            return;
        }
}

static bool inject(void)
{
    if (!F.tracking)
        return false;
    F.count++;
    if (F.fail_at && F.count == F.fail_at) {
        F.failed = true;
        if (getenv("JIKO_FAULT_TRACE")) { /* where the failure was injected */
            void *frames[32];
            backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
        }
        return true;
    }
    return false;
}

void *malloc(size_t n)
{
    pthread_mutex_lock(&mu);
    void *p = inject() ? NULL : __libc_malloc(n);
    track_add(p);
    pthread_mutex_unlock(&mu);
    if (!p)
        errno = ENOMEM;
    return p;
}

void *calloc(size_t a, size_t b)
{
    pthread_mutex_lock(&mu);
    void *p = inject() ? NULL : __libc_calloc(a, b);
    track_add(p);
    pthread_mutex_unlock(&mu);
    if (!p)
        errno = ENOMEM;
    return p;
}

void *realloc(void *old, size_t n)
{
    if (!old)
        return malloc(n);
    pthread_mutex_lock(&mu);
    void *p = NULL;
    if (!inject()) {
        p = __libc_realloc(old, n);
        if (p) {
            track_del(old);
            track_add(p);
        }
    }
    pthread_mutex_unlock(&mu);
    if (!p)
        errno = ENOMEM;
    return p;
}

void free(void *p)
{
    pthread_mutex_lock(&mu);
    track_del(p);
    pthread_mutex_unlock(&mu);
    __libc_free(p);
}

/* ---- the operations ------------------------------------------------------ */

typedef struct env {
    catalog cat;
    rules_set rules;
    char dir[1024];
} env;

typedef int (*op_fn)(env *e, jiko_error *err);

static const char *REC =
    "{\"id\":\"f1\",\"operator\":\"Op\",\"started_at\":\"2021-08-03T15:00:00+09:00\","
    "\"ended_at\":\"2021-08-03T17:30:00+09:00\",\"services\":[{\"service\":\"email_paid\","
    "\"effect\":\"stop\",\"users\":456516},{\"service\":\"ftth\",\"effect\":\"degrade\","
    "\"users\":40000}],\"cause\":{\"category\":\"equipment\",\"detail\":\"x\"},"
    "\"equipment\":\"application_server\",\"summary\":\"s\",\"measures\":[\"m\"]}";

static int op_catalog(env *e, jiko_error *err)
{
    catalog c;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/catalogs", e->dir);
    if (catalog_load(&c, dir, err))
        return -1;
    catalog_free(&c);
    return 0;
}

static int op_rules(env *e, jiko_error *err)
{
    rules_set r;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/rules", e->dir);
    if (rules_load_dir(&r, dir, &e->cat, err))
        return -1;
    rules_free(&r);
    return 0;
}

static int op_intake(env *e, jiko_error *err)
{
    intake_opts o = {&e->cat, &e->rules, NULL, 0};
    incident inc;
    classify_result r;
    if (intake_record(&o, REC, strlen(REC), "f", 1, &inc, &r, err))
        return -1;
    json_t *j = classify_to_json(&r, &inc, &e->cat, CLASSIFY_JA);
    incident_free(&inc);
    if (!j) {
        error_nomem(err, "classify_to_json");
        return -1;
    }
    json_decref(j);
    return 0;
}

static int count_sample(void *ctx, const ingest_sample *s)
{
    (void)s;
    ++*(long *)ctx;
    return 0;
}

static int op_influx(env *e, jiko_error *err)
{
    (void)e;
    static const char body[] = "cpu,host=a,region=eu usage=0.5,idle=99i 1700000000000000000\n"
                               "dns,site=tokyo q=3,fail=0.2 1700000000000000000\nbad line\n";
    ingest_influx_opts o = ingest_influx_defaults();
    ingest_stats st;
    long n = 0;
    int rc = ingest_influx_parse(&o, body, sizeof body - 1, count_sample, &n, &st, err);
    return rc == INGEST_FAILED ? -1 : 0;
}

/* One remote_write body, built once outside the runs. */
static unsigned char prom_body[512];
static size_t prom_len;

static void prom_build(void)
{
    /* WriteRequest { timeseries { labels {__name__: up} labels {job: n}
     * samples {1.0 @ 1000} } } twice, as protobuf bytes (the fuzz seed's) */
    static const unsigned char series[] =
        "\x0a\x28\x0a\x0e\x0a\x08__name__\x12\x02up\x0a\x08\x0a\x03job\x12\x01n"
        "\x12\x0c\x09\x00\x00\x00\x00\x00\x00\xf0\x3f\x10\xe8\x07";
    unsigned char raw[2 * (sizeof series - 1)];
    memcpy(raw, series, sizeof series - 1);
    memcpy(raw + sizeof series - 1, series, sizeof series - 1);
    prom_len = sizeof prom_body;
    if (snappy_compress((const char *)raw, sizeof raw, (char *)prom_body, &prom_len) != SNAPPY_OK)
        abort();
}

static int op_prom(env *e, jiko_error *err)
{
    (void)e;
    ingest_prom_opts o = ingest_prom_defaults();
    ingest_stats st;
    long n = 0;
    int rc = ingest_prom_parse(&o, prom_body, prom_len, count_sample, &n, &st, err);
    if (rc == INGEST_FAILED)
        return -1;
    if (n != 2) { /* both series delivered, or the body was not what it says */
        error_set(err, JIKO_ERR_INVALID, NULL, 0, NULL, "%ld samples of 2", n);
        return -1;
    }
    return 0;
}

static int op_store(env *e, jiko_error *err)
{
    store *db;
    if (store_open(&db, ":memory:", err))
        return -1;
    intake_opts o = {&e->cat, &e->rules, NULL, 0};
    incident inc;
    classify_result r;
    int rc = -1;
    store_outcome out;
    store_row row;
    if (intake_record(&o, REC, strlen(REC), "f", 1, &inc, &r, err) == 0) {
        if (store_begin(db, err) == 0 &&
            store_put(db, &inc, &r, REC, strlen(REC), "test", 1, &out, NULL, err) == 0 &&
            store_commit(db, err) == 0) {
            int found = store_get(db, "Op", "f1", &row, err);
            if (found == 1) {
                json_t *j = store_row_json(&row, true);
                json_decref(j);
                store_row_free(&row);
                rc = 0;
            }
        } else {
            jiko_error ignore;
            store_rollback(db, &ignore);
        }
        incident_free(&inc);
    }
    store_close(db);
    return rc;
}

static void on_reject(void *ctx, const jiko_error *why)
{
    /* an out-of-memory rejection is the import's report of the fault */
    if (why->kind != JIKO_ERR_NOMEM)
        *(jiko_error *)ctx = *why;
}

static int op_import(env *e, jiko_error *err)
{
    store *db;
    if (store_open(&db, ":memory:", err))
        return -1;
    jiko_error rejected;
    error_clear(&rejected);
    import_opts o = {0};
    o.db = db;
    o.intake = (intake_opts){&e->cat, &e->rules, NULL, 0};
    o.batch_size = 2;
    o.on_reject = on_reject;
    o.ctx = &rejected;
    import_run *im;
    int rc = import_open(&im, &o, err);
    if (rc == 0) {
        char text[2048];
        int n = snprintf(text, sizeof text, "%s\n%s\n", REC, REC);
        FILE *fp = fmemopen(text, (size_t)n, "r");
        if (!fp) {
            error_nomem(err, "fmemopen");
            rc = -1;
        } else {
            rc = import_stream(im, fp, "mem", err);
            fclose(fp);
        }
        import_counts c;
        jiko_error cerr;
        if (import_close(im, &c, &cerr) && rc == 0) {
            *err = cerr;
            rc = -1;
        }
    }
    store_close(db);
    if (rc == 0 && rejected.kind != JIKO_ERR_NONE) {
        *err = rejected; /* a rejection for another reason is a failure */
        return -1;
    }
    return rc;
}

/* A request body in one transaction: JSON Lines, then a pretty-printed
 * record.  A record rejected for want of memory is the fault's report; any
 * other rejection is a failure. */
static int op_import_text(env *e, jiko_error *err)
{
    store *db;
    if (store_open(&db, ":memory:", err))
        return -1;
    intake_opts o = {&e->cat, &e->rules, NULL, 0};
    char lines[2048], pretty[2048];
    int nl = snprintf(lines, sizeof lines, "%s\n\n%s\n", REC, REC);
    int np = snprintf(pretty, sizeof pretty, "{\n  %s", REC + 1);
    const char *texts[] = {lines, pretty};
    const int lens[] = {nl, np}, want[] = {2, 1};
    int rc = 0;
    for (int t = 0; t < 2 && rc == 0; t++) {
        import_results res;
        rc = import_text(db, &o, texts[t], (size_t)lens[t], "mem", "posted by t_x", "Op", &res,
                         err);
        for (long i = 0; rc == 0 && i < res.n; i++)
            if (!res.r[i].ok && res.r[i].err.kind != JIKO_ERR_NOMEM) {
                *err = res.r[i].err;
                rc = -1;
            }
        if (rc == 0 && res.n != want[t]) {
            error_set(err, JIKO_ERR_INVALID, NULL, 0, NULL, "%ld records of %d", res.n, want[t]);
            rc = -1;
        }
        import_results_free(&res);
    }
    store_close(db);
    return rc;
}

static int count_token(void *ctx, const store_token *t)
{
    (void)t;
    ++*(int *)ctx;
    return 0;
}

/* An API token made, stored, listed and revoked. */
static int op_token(env *e, jiko_error *err)
{
    (void)e;
    store *db;
    if (store_open(&db, ":memory:", err))
        return -1;
    char text[TOKEN_TEXT_MAX], id[TOKEN_ID_MAX];
    store_token t = {id, {0}, "Op", "ingest", "note", 1, 0};
    int n = 0;
    int rc = token_new(text, t.hash, id, err) || store_token_add(db, &t, err) ||
                     store_token_list(db, count_token, &n, err) ||
                     store_token_revoke(db, id, 2, err)
                 ? -1
                 : 0;
    if (rc == 0 && n != 1) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, NULL, "%d tokens listed of 1", n);
        rc = -1;
    }
    store_close(db);
    return rc;
}

static int count_msg(void *ctx, const store_outbox_msg *m)
{
    (void)m;
    ++*(int *)ctx;
    return 0;
}

/* Webhooks: subscriptions read, an event queued for two of them, the
 * outbox listed, taken and rescheduled as the sender does.  (Not the POST
 * itself: libcurl 7.88.1 leaks a block when one of its allocations inside
 * curl_easy_perform fails, which is not ours to fix.) */
static int op_webhook(env *e, jiko_error *err)
{
    (void)e;
    static const char conf[] =
        "[serve]\nthreads = 1\n"
        "[webhook noc]\noperator = Op\nurl = http://127.0.0.1:1/noc\n"
        "secret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\nevents = incident.opened\n"
        "[webhook mic]\nregulator = true\nurl = http://127.0.0.1:1/mic\n"
        "secret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n";
    conf_file f;
    if (conf_parse(conf, sizeof conf - 1, "f.conf", &f, err))
        return -1;
    notify_subs *subs;
    int rc = notify_subs_load(&f, &subs, err);
    conf_free(&f);
    if (rc)
        return -1;
    store *db;
    if (store_open(&db, ":memory:", err)) {
        notify_subs_free(subs);
        return -1;
    }
    notify_event ev = {"incident.opened", "Op", "i-1", "{\"users\":1200}"};
    int n = 0, taken = 0, q = notify_emit(subs, db, &ev, 1634200620000, err);
    store_outbox_counts c = {0};
    rc = q < 0 || store_outbox_list(db, 0, count_msg, &n, err) ||
                 (taken = store_outbox_take(db, 1634200620000, 4, 45000, count_msg, &n, err)) < 0 ||
                 store_outbox_count(db, &c, err)
             ? -1
             : 0;
    if (rc == 0 && (q != 2 || n != 4 || taken != 2 || c.pending != 2)) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, NULL, "queued %d, seen %d, taken %d, pending %ld",
                  q, n, taken, c.pending);
        rc = -1;
    }
    store_close(db);
    notify_subs_free(subs);
    return rc;
}

/* Notices: the JSON a person sends, drafts of every kind in both
 * languages, publishing into a fresh registry, and the status page and
 * feed that then show the notice. */
static int op_notice(env *e, jiko_error *err)
{
    static const char body[] = "{\"kind\":\"first\",\"title\":\"t\",\"body\":\"b <&>\","
                               "\"lang\":\"ja\",\"channel\":\"sns\"}";
    int64_t now = 1627981200000; /* 2021-08-03T18:00:00+09:00, after REC ended */
    intake_opts o = {&e->cat, &e->rules, NULL, now};
    incident inc;
    classify_result r;
    if (intake_record(&o, REC, strlen(REC), "f", 1, &inc, &r, err))
        return -1;
    int rc = 0;
    for (int k = 0; k < 3 && rc == 0; k++)
        for (int ja = 0; ja < 2 && rc == 0; ja++) {
            notice_draft d;
            /* first and update as of the start, when it was going on */
            int64_t at = k == NOTICE_RECOVERY ? now : inc.started_ms + 60000;
            rc = notice_draft_make(&inc, &e->cat, (notice_kind)k, ja, at, &d, err);
            if (rc == 0) {
                json_t *j = notice_draft_json(&d);
                if (!j) {
                    error_nomem(err, "notice_draft_json");
                    rc = -1;
                }
                json_decref(j);
                notice_draft_free(&d);
            }
        }
    incident_free(&inc);
    notice_input n;
    if (rc || notice_parse(body, sizeof body - 1, now, &n, err))
        return -1;
    store *db;
    if (store_open(&db, ":memory:", err)) {
        notice_input_free(&n);
        return -1;
    }
    import_results res;
    int version = 0;
    rc = import_text(db, &o, REC, strlen(REC), "mem", NULL, NULL, &res, err);
    if (rc == 0 && res.n == 1 && !res.r[0].ok) {
        *err = res.r[0].err;
        rc = -1;
    }
    import_results_free(&res);
    if (rc == 0)
        rc = notice_publish(db, &o, "Op", "f1", &n, "t", &version, err);
    notice_input_free(&n);
    status_page p;
    memset(&p, 0, sizeof p); /* status_free is safe on it, collected or not */
    if (rc == 0 && (rc = status_collect(&p, db, "Op", now, err)) == 0) {
        /* a temporary file, not open_memstream: libc allocates a memory
         * stream's buffer inside itself, which this test's free() would
         * then be given */
        static char text[65536];
        FILE *f = tmpfile();
        if (!f) { /* its FILE is allocated too */
            error_nomem(err, "tmpfile");
            rc = -1;
        } else {
            status_write_html(f, &p, &e->cat, true);
            int failed = status_write_atom(f, &p, &e->cat, false);
            rewind(f);
            size_t len = fread(text, 1, sizeof text - 1, f);
            text[len] = '\0';
            fclose(f);
            if (failed) {
                error_nomem(err, "writing the feed");
                rc = -1;
            } else if (p.n != 1 || !strstr(text, "b &lt;&amp;&gt;")) {
                error_set(err, JIKO_ERR_INVALID, NULL, 0, NULL, "the notice is not on the page");
                rc = -1;
            }
        }
    }
    status_free(&p);
    store_close(db);
    return rc;
}

/* The yearly statistics over a small registry (made outside the runs). */
static store *report_db;

static int op_report(env *e, jiko_error *err)
{
    report_year y;
    if (report_compute(&y, report_db, &e->cat, 2021, err))
        return -1;
    report_free(&y);
    return 0;
}

/* ---- the driver ---------------------------------------------------------- */

/* Run `fn` with each allocation failing in turn (from `only` alone when
 * it is not 0). */
static int check(const char *name, op_fn fn, env *e, long only)
{
    jiko_error err;
    /* warm-up: one-time initialisations (SQLite's, jansson's) are not leaks */
    error_clear(&err);
    if (fn(e, &err)) {
        fprintf(stderr, "%s: fails without any fault: %s\n", name, err.message);
        return 1;
    }
    int bad = 0;
    long n;
    for (n = only ? only : 1;; n++) {
        memset(live, 0, sizeof live);
        F = (faults){.fail_at = n, .tracking = true};
        error_clear(&err);
        int rc = fn(e, &err);
        pthread_mutex_lock(&mu);
        F.tracking = false;
        bool failed = F.failed;
        long leaked = F.live;
        pthread_mutex_unlock(&mu);
        if (rc != 0 && err.kind != JIKO_ERR_NOMEM) {
            fprintf(stderr, "%s: allocation %ld failed: error of kind %s, not out of memory: %s\n",
                    name, n, error_kind_name(err.kind), err.message);
            bad++;
        }
        if (leaked) {
            fprintf(stderr, "%s: allocation %ld failed: %ld blocks leaked\n", name, n, leaked);
            bad++;
        }
        if (!failed || only)
            break; /* fewer allocations than n: every site has failed once */
        if (bad > 10)
            break;
    }
    printf("%-8s %5ld allocation sites failed in turn: %s\n", name, n - 1, bad ? "FAILED" : "ok");
    return bad != 0;
}

int main(int argc, char **argv)
{
    void *warm[1];
    backtrace(warm, 1); /* loads what backtrace needs before any fault */
    /* test_faults OP N: run one operation with allocation N failing */
    json_arena_install(); /* as jiko import does; heap blocks elsewhere */
    static env e;
    snprintf(e.dir, sizeof e.dir, "%s", JIKO_SOURCE_DIR);
    jiko_error err;
    char d[1100];
    snprintf(d, sizeof d, "%s/catalogs", e.dir);
    if (catalog_load(&e.cat, d, &err))
        return 1;
    snprintf(d, sizeof d, "%s/rules", e.dir);
    if (rules_load_dir(&e.rules, d, &e.cat, &err))
        return 1;
    int fails = 0;
    prom_build();
    if (store_open(&report_db, ":memory:", &err))
        return 1;
    {
        intake_opts o = {&e.cat, &e.rules, NULL, 0};
        incident inc;
        classify_result r;
        store_outcome out;
        if (intake_record(&o, REC, strlen(REC), "f", 1, &inc, &r, &err) || store_begin(report_db, &err) ||
            store_put(report_db, &inc, &r, REC, strlen(REC), "t", 1, &out, NULL, &err) ||
            store_commit(report_db, &err))
            return 1;
        incident_free(&inc);
    }
    if (argc > 2) {
        static const struct { const char *name; op_fn fn; } ops[] = {
            {"catalog", op_catalog}, {"rules", op_rules}, {"intake", op_intake},
            {"influx", op_influx},   {"prom", op_prom},   {"store", op_store},
            {"import", op_import},   {"report", op_report}, {"import_text", op_import_text},
            {"token", op_token}, {"webhook", op_webhook}, {"notice", op_notice}};
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
            if (strcmp(argv[1], ops[i].name) == 0)
                fails += check(ops[i].name, ops[i].fn, &e, atol(argv[2]));
        return fails;
    }
    fails += check("catalog", op_catalog, &e, 0);
    fails += check("rules", op_rules, &e, 0);
    fails += check("intake", op_intake, &e, 0);
    fails += check("influx", op_influx, &e, 0);
    fails += check("prom", op_prom, &e, 0);
    fails += check("store", op_store, &e, 0);
    fails += check("import", op_import, &e, 0);
    fails += check("report", op_report, &e, 0);
    fails += check("import_text", op_import_text, &e, 0);
    fails += check("token", op_token, &e, 0);
    fails += check("webhook", op_webhook, &e, 0);
    fails += check("notice", op_notice, &e, 0);
    store_close(report_db);
    rules_free(&e.rules);
    catalog_free(&e.cat);
    return fails ? 1 : 0;
}
