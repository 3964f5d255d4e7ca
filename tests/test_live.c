/*
 * test_live.c — the live engine: selectors, the [watch]/[live] sections, and
 * the engine on a real SQLite registry with a fake clock (opening, grouping,
 * lead-time alarms at their exact times, closing, a person's edit kept).
 */
#include <jansson.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "ensemble.h"
#include "import.h"
#include "jst.h"
#include "live_conf.h"
#include "match.h"
#include "report.h"
#include "store.h"
#include "testutil.h"

#define MIN_MS 60000LL

/* The PostgreSQL registry of the run (argv[1]); empty: SQLite files. */
static char g_pg[1024];

/* A sample (or an alert's label set, metric "") from "k=v" pairs, which
 * must be given sorted by name. */
static ingest_sample sample_of(const char *metric, const char *const *kv, size_t n, double v,
                               int64_t t)
{
    ingest_sample s;
    memset(&s, 0, sizeof s);
    s.metric = metric;
    s.metric_len = strlen(metric);
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(kv[i], '=');
        s.labels[i].name = kv[i];
        s.labels[i].name_len = (size_t)(eq - kv[i]);
        s.labels[i].value = eq + 1;
        s.labels[i].value_len = strlen(eq + 1);
    }
    s.n_labels = n;
    s.value = v;
    s.t_ms = t;
    return s;
}

static void test_selectors(void **state)
{
    (void)state;
    match_selector *m;
    jiko_error err;
    assert_int_equal(match_parse("dns_fail{site=\"tokyo\", pop=~\"tyo[0-9]+\", env!=\"test\"}",
                                 "f", 3, "match", &m, &err),
                     0);
    const char *a[] = {"env=prod", "pop=tyo12", "site=tokyo"};
    ingest_sample s = sample_of("dns_fail", a, 3, 1, 0);
    assert_true(match_sample(m, &s));
    const char *b[] = {"env=test", "pop=tyo12", "site=tokyo"};
    s = sample_of("dns_fail", b, 3, 1, 0);
    assert_false(match_sample(m, &s));
    const char *c[] = {"pop=tyo12x", "site=tokyo"}; /* anchored: no partial match */
    s = sample_of("dns_fail", c, 2, 1, 0);
    assert_false(match_sample(m, &s));
    const char *d[] = {"pop=tyo1", "site=tokyo"}; /* env absent = "" != "test" */
    s = sample_of("dns_fail", d, 2, 1, 0);
    assert_true(match_sample(m, &s));
    s = sample_of("other", d, 2, 1, 0);
    assert_false(match_sample(m, &s));
    match_free(m);

    /* labels alone: alerts (no metric) and series */
    assert_int_equal(match_parse("{alertname=\"DNSDown\"}", "f", 1, "match", &m, &err), 0);
    const char *al[] = {"alertname=DNSDown", "site=osaka"};
    s = sample_of("", al, 2, 1, 0);
    assert_true(match_sample(m, &s));
    assert_string_equal(match_metric(m), "");
    match_free(m);

    static const struct {
        const char *text, *message;
    } bad[] = {
        {"", "column 1: expected a metric name or '{'"},
        {"9x", "column 1: expected a metric name or '{'"},
        {"m{", "column 3: expected a label name"},
        {"m{a}", "column 4: expected one of the operators"},
        {"m{a=b}", "column 5: expected a double-quoted value"},
        {"m{a=\"b}", "column 8: expected the closing"},
        {"m{a=\"b\" c=\"d\"}", "column 9: expected ',' or '}'"},
        {"m{a=\"\\q\"}", "expected one of the escapes"},
        {"m{a=~\"(\"}", "expected a valid regular expression"},
        {"m{a=~\"\\\\d+\"}", "a POSIX extended regular expression ([0-9] instead of \\d"},
        {"m{a=~\"(?i)x\"}", "no (?flags) groups"},
        {"{}", "expected a metric name or at least one label matcher"},
        {"m{a=~\"fw+++\"}", "no repetition of a repetition"},
        {"m{a=~\"x{1000}\"}", "repetition counts of at most 100"},
        {"m{a=~\"((((((a)+)+)+)+)+)+\"}", "at most 5 repeated groups"},
        {"m x", "column 3: expected the end of the selector"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m = (match_selector *)1;
        if (match_parse(bad[i].text, "w.conf", 7, "match", &m, &err) == 0)
            fail_msg("'%s' was accepted", bad[i].text);
        assert_null(m);
        assert_int_equal(err.line, 7);
        assert_string_equal(err.field, "match");
        if (!strstr(err.message, bad[i].message))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].text, err.message, bad[i].message);
    }
}

static const char *const good_conf =
    "[watch dns-tokyo]\n"
    "match = dns_failure_ratio{site=\"tokyo\"}\n"
    "operator = Demo ISP\n"
    "service = internet_access\n"
    "users = 50000\n"
    "equipment = application_server\n"
    "area = 東京都\n"
    "[watch mail]\n"
    "match = {alertname=\"MailDown\"}\n"
    "operator = Demo ISP\n"
    "service = email_paid\n"
    "users = 20000\n"
    "effect = stop\n"
    "[watch dns-alert]\n"
    "match = {alertname=\"DNSDown\"}\n"
    "operator = Demo ISP\n"
    "service = internet_access\n"
    "users = 10000\n"
    "[watch other-op]\n"
    "match = {alertname=\"DNSDown\"}\n"
    "operator = Other ISP\n"
    "service = internet_access\n"
    "users = 999999\n"
    "[live]\n"
    "group_window_min = 30\n"
    "lead_minutes = 10, 60, 30\n"
    "close_samples = 3\n"
    "close_min = 5\n";

static int load_conf(const tu_env *env, const char *text, live_conf *c, jiko_error *err)
{
    conf_file f;
    if (conf_parse(text, strlen(text), "jiko.conf", &f, err))
        return -1;
    live_conf_default(c);
    int rc = live_conf_load(c, &f, &env->cat, err);
    conf_free(&f);
    return rc;
}

static void test_conf_lines(void **state)
{
    tu_env *env = *state;
    live_conf c;
    jiko_error err;
    assert_int_equal(load_conf(env, good_conf, &c, &err), 0);
    assert_int_equal(c.n_watches, 4);
    assert_int_equal(c.n_leads, 3);
    assert_true(c.lead_ms[0] == 60 * MIN_MS && c.lead_ms[2] == 10 * MIN_MS); /* sorted */
    assert_int_equal(c.watches[1].effect, INCIDENT_STOP);
    assert_int_equal(c.watches[0].effect, INCIDENT_DEGRADE);
    live_conf_free(&c);

    static const struct {
        const char *text;
        long line;
        const char *field, *message;
    } bad[] = {
        {"[watch]\nmatch = m\n", 1, NULL, "needs a name"},
        {"[watch a]\nmatch = m\noperator = X\nservice = nosuch\nusers = 1\n", 4, "service",
         "a service code of the catalog"},
        {"[watch a]\nmatch = m\noperator = X\nservice = dns\nusers = many\n", 5, "users",
         "a number of users"},
        {"[watch a]\nmatch = m{\noperator = X\n", 2, "match", "expected a label name"},
        {"[watch a]\nmatch = m\noperator = X\nservice = dns\nusers = 1\ncolour = red\n", 6,
         "colour", "unknown key in [watch]"},
        {"[watch a]\nmatch = m\noperator = X\nservice = dns\n", 1, "users", "needs 'users = ...'"},
        {"[watch a]\noperator = X\nservice = dns\nusers = 1\n", 1, "match", "needs 'match = ...'"},
        {"[watch a]\nmatch = m\noperator = X\noperator = Y\n", 4, "operator", "given twice"},
        {"[watch a]\nmatch = m\ndetect = sometimes\n", 3, "detect", "anomaly, capacity or both"},
        {"[watch a]\nmatch = m\noperator = X\nservice = dns\nusers = 1\ndetect = capacity\n", 1,
         "limit", "needs 'limit = ...'"},
        {"[watch a]\nmatch = m\nlimit = -1\n", 3, "limit", "a number above 0"},
        {"[watch a]\nmatch = m\nlimit = nan\n", 3, "limit", "a number above 0"},
        {"[watch a]\nmatch = m\neffect = broken\n", 3, "effect", "stop or degrade"},
        {"[watch a]\nmatch = m\nequipment = toaster\n", 3, "equipment", "equipment code"},
        {"[watch a]\nmatch = m\noperator = X\nservice = dns\nusers = 1\n[watch a]\n", 6, NULL,
         "given twice"},
        {"[live]\nlead_minutes = 10, x\n", 2, "lead_minutes", "up to 8 lead times"},
        {"[live]\nlead_minutes = 10, 10\n", 2, "lead_minutes", "distinct lead times"},
        {"[live]\nclose_samples = 0\n", 2, "close_samples", "from 1 to 10000"},
        {"[live]\ngroup_window_min = -1\n", 2, "group_window_min", "number of minutes"},
        {"[live]\nmax_series = 0\n", 2, "max_series", "number of series"},
        {"[live]\ncheckpoint_s = 0\n", 2, "checkpoint_s", "number of seconds"},
        {"[live]\nwhat = 1\n", 2, "what", "unknown key in [live]"},
        {"[live]\ndetector = heavy\n", 2, "detector", "light or full"},
        {"[live]\nhistory = -1\n", 2, "history", "from 0 to 100000"},
        {"[watch a]\nmatch = m\noperator = X\nservice = dns\nusers = 1\nwholesale_to = A, B\n", 1,
         "wholesale_users", "go together"},
        {"[watch a]\nmatch = m\nwholesale_to = A, B\nwholesale_users = 1\n", 4, "wholesale_users",
         "as many numbers as wholesale_to"},
        {"[watch a]\nmatch = m\nwholesale_users = 1, x\n", 3, "wholesale_users", "numbers of users"},
        {"[watch a]\nmatch = m\noperator = X\nservice = dns\nusers = 1\nwholesale_users = 1, 2\n", 1,
         "wholesale_to", "go together"}, /* once freed a list that was never made */
        {"[watch a]\nmatch = m\nwholesale_to = A, , B\n", 3, "wholesale_to", "operator names"},
        {"[watch a]\nmatch = m\nwholesale_to = A, A\n", 3, "wholesale_to", "distinct operators"},
        {"[watch a]\nmatch = m\noperator = X\nservice = dns\nusers = 1\nwholesale_to = X\n"
         "wholesale_users = 5\n", 1, "wholesale_to", "cannot receive its own service"},
        {"[live x]\n", 1, NULL, "takes no name"},
        {"[live]\n[live]\n", 2, NULL, "given twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = load_conf(env, bad[i].text, &c, &err);
        live_conf_free(&c);
        if (rc == 0)
            fail_msg("config %zu was accepted", i);
        assert_int_equal(err.kind, JIKO_ERR_CONFIG);
        assert_string_equal(err.file, "jiko.conf");
        if (err.line != bad[i].line)
            fail_msg("config %zu: line %ld, expected %ld", i, err.line, bad[i].line);
        if (bad[i].field)
            assert_string_equal(err.field, bad[i].field);
        if (!strstr(err.message, bad[i].message))
            fail_msg("config %zu: '%s' lacks '%s'", i, err.message, bad[i].message);
    }
}

/* The example configuration of the documentation is valid. */
static void test_example_conf(void **state)
{
    tu_env *env = *state;
    char path[4096];
    conf_file f;
    jiko_error err;
    assert_int_equal(conf_load(tu_path(path, sizeof path, "examples/jiko.conf"), &f, &err), 0);
    live_conf c;
    live_conf_default(&c);
    if (live_conf_load(&c, &f, &env->cat, &err))
        fail_msg("examples/jiko.conf: %s", err.message);
    assert_int_equal(c.n_watches, 4);
    assert_int_equal(c.watches[2].detect, LIVE_DETECT_CAPACITY);
    const char *kv[] = {"fw=fw12", "role=mobile-core"};
    ingest_sample s = sample_of("firewall_session_drop_ratio", kv, 2, 0, 0);
    assert_true(match_sample(c.watches[1].match, &s));
    live_conf_free(&c);
    conf_free(&f);
}

/* ---- the engine ---- */

typedef struct seen {
    live_event_type type[64];
    int64_t lead[64], at[64];
    char id[64][96];
    int n;
    int fail_next; /* the next calls fail, as a registry that is down */
} seen;

static int on_event(void *ctx, store *db, const live_event *ev, int64_t now_ms, jiko_error *err)
{
    (void)db;
    (void)err;
    seen *s = ctx;
    if (s->fail_next > 0) {
        s->fail_next--;
        error_set(err, JIKO_ERR_STORE, "outbox", 0, NULL, "the registry is down (test)");
        return -1;
    }
    assert_true(s->n < 64);
    s->type[s->n] = ev->type;
    s->lead[s->n] = ev->lead_ms;
    s->at[s->n] = now_ms;
    snprintf(s->id[s->n], sizeof s->id[0], "%s", ev->id);
    json_t *data = json_loads(ev->data_json, 0, NULL);
    if (ev->type == LIVE_EV_CAPACITY_WARNING) { /* no incident: what and when */
        assert_true(json_real_value(json_object_get(data, "limit")) > 0);
        assert_non_null(json_object_get(data, "eta"));
        assert_string_equal(json_string_value(json_object_get(data, "status")), "growing");
    } else {
        assert_non_null(json_object_get(data, "incident"));
        assert_non_null(json_object_get(data, "classification"));
    }
    json_decref(data);
    s->n++;
    return 0;
}

typedef struct fixture {
    tu_env *env;
    live_conf conf;
    live_env lenv;
    live_engine *e;
    store *db;
    char path[64];
    seen ev;
} fixture;

static void fixture_open_conf(fixture *f, tu_env *env, const char *conf)
{
    memset(f, 0, sizeof *f);
    f->env = env;
    jiko_error err;
    if (load_conf(env, conf, &f->conf, &err))
        fail_msg("conf: %s", err.message);
    snprintf(f->path, sizeof f->path, "/tmp/jiko-live-XXXXXX");
    int fd = mkstemp(f->path);
    assert_true(fd >= 0);
    close(fd);
    unlink(f->path);
    if (g_pg[0])
        tu_reset_pg(g_pg);
    if (store_open(&f->db, g_pg[0] ? g_pg : f->path, &err))
        fail_msg("registry: %s", err.message);
    f->lenv = (live_env){&env->cat, &env->rules, &f->conf, on_event, &f->ev, NULL};
    assert_int_equal(live_engine_new(&f->e, &f->lenv, f->db, 0, &err), 0);
}

static void fixture_open(fixture *f, tu_env *env)
{
    fixture_open_conf(f, env, good_conf);
}

/* good_conf with more lines in its [live] section (its last) */
static void fixture_open_live(fixture *f, tu_env *env, const char *live_lines)
{
    size_t n = strlen(good_conf) + strlen(live_lines) + 1;
    char *conf = malloc(n);
    assert_non_null(conf);
    snprintf(conf, n, "%s%s", good_conf, live_lines);
    fixture_open_conf(f, env, conf);
    free(conf);
}

static void fixture_close(fixture *f)
{
    live_engine_free(f->e);
    store_close(f->db);
    live_conf_free(&f->conf);
    char p[96];
    unlink(f->path);
    snprintf(p, sizeof p, "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", f->path);
    unlink(p);
}

static void alert(fixture *f, const char *op, const char *name, bool firing, int64_t starts,
                  int64_t ends, int64_t now)
{
    char an[64];
    snprintf(an, sizeof an, "alertname=%s", name);
    const char *kv[] = {an, "site=tokyo"};
    ingest_sample s = sample_of("", kv, 2, 0, 0);
    live_batch *b = live_begin(f->e, op);
    assert_non_null(b);
    live_alert(b, &s, firing, starts, ends);
    jiko_error err;
    if (live_commit(b, f->db, now, &err))
        fail_msg("commit: %s", err.message);
}

static json_t *stored(fixture *f, const char *op, const char *id, int *version)
{
    store_row row;
    jiko_error err;
    assert_int_equal(store_get(f->db, op, id, &row, &err), 1);
    json_t *r = json_loads(row.record, 0, NULL);
    if (version)
        *version = row.version;
    store_row_free(&row);
    return r;
}

/* A person's change of an incident, stored as the API stores it
 * (import_text); r is the whole record, consumed. */
static void person_stores(fixture *f, json_t *r, const char *reason, int64_t now)
{
    char *text = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    assert_non_null(text);
    intake_opts io = {&f->env->cat, &f->env->rules, NULL, now};
    import_results res;
    jiko_error err;
    assert_int_equal(import_text(f->db, &io, text, strlen(text), "api", reason, NULL, &res, &err), 0);
    assert_true(res.r[0].ok);
    import_results_free(&res);
    free(text);
}

static void test_alerts_open_group_close(void **state)
{
    fixture f;
    fixture_open(&f, *state);
    int64_t t0 = tu_time("2026-12-05T10:00:00+09:00");
    alert(&f, "Demo ISP", "DNSDown", true, t0, 0, t0 + 1000);
    assert_int_equal(f.ev.n, 1);
    assert_int_equal(f.ev.type[0], LIVE_EV_OPENED);
    assert_string_equal(f.ev.id[0], "live-20261205-100000-dns-alert");
    int v;
    json_t *r = stored(&f, "Demo ISP", f.ev.id[0], &v);
    assert_int_equal(v, 1);
    assert_string_equal(json_string_value(json_object_get(r, "started_at")),
                        "2026-12-05T10:00:00+09:00");
    assert_true(json_is_null(json_object_get(r, "ended_at")));
    json_t *svc = json_array_get(json_object_get(r, "services"), 0);
    assert_string_equal(json_string_value(json_object_get(svc, "service")), "internet_access");
    assert_int_equal(json_integer_value(json_object_get(svc, "users")), 10000);
    json_decref(r);

    /* another operator's alert of the same name: its own incident, never
     * this one (its token's operator decides) */
    alert(&f, "Other ISP", "DNSDown", true, t0 + MIN_MS, 0, t0 + MIN_MS);
    assert_int_equal(f.ev.n, 2);
    assert_string_equal(f.ev.id[1], "live-20261205-100100-other-op");

    /* a second service within the window joins as a service entry */
    alert(&f, "Demo ISP", "MailDown", true, t0 + 20 * MIN_MS, 0, t0 + 20 * MIN_MS);
    assert_int_equal(f.ev.n, 3);
    assert_int_equal(f.ev.type[2], LIVE_EV_UPDATED);
    assert_string_equal(f.ev.id[2], f.ev.id[0]);
    r = stored(&f, "Demo ISP", f.ev.id[0], &v);
    assert_int_equal(v, 2);
    json_t *svcs = json_object_get(r, "services");
    assert_int_equal(json_array_size(svcs), 2);
    svc = json_array_get(svcs, 1);
    assert_string_equal(json_string_value(json_object_get(svc, "service")), "email_paid");
    assert_string_equal(json_string_value(json_object_get(svc, "effect")), "stop");
    json_decref(r);

    /* resolved: one alert resolving leaves it open, the last closes it
     * with ended_at = that alert's endsAt */
    alert(&f, "Demo ISP", "DNSDown", false, t0, t0 + 40 * MIN_MS, t0 + 41 * MIN_MS);
    assert_int_equal(f.ev.n, 3);
    alert(&f, "Demo ISP", "MailDown", false, t0 + 20 * MIN_MS, t0 + 50 * MIN_MS,
          t0 + 51 * MIN_MS);
    assert_int_equal(f.ev.n, 4);
    assert_int_equal(f.ev.type[3], LIVE_EV_CLOSED);
    r = stored(&f, "Demo ISP", f.ev.id[0], &v);
    assert_int_equal(v, 3);
    assert_string_equal(json_string_value(json_object_get(r, "ended_at")),
                        "2026-12-05T10:50:00+09:00");
    json_decref(r);

    /* after the window, a new alert opens a new incident */
    alert(&f, "Demo ISP", "DNSDown", true, t0 + 90 * MIN_MS, 0, t0 + 90 * MIN_MS);
    assert_int_equal(f.ev.n, 5);
    assert_int_equal(f.ev.type[4], LIVE_EV_OPENED);
    assert_string_equal(f.ev.id[4], "live-20261205-113000-dns-alert");

    live_stats st;
    live_stats_get(f.e, &st);
    assert_int_equal(st.opened, 3);
    assert_int_equal(st.closed, 1);
    assert_int_equal(st.open_incidents, 2);
    fixture_close(&f);
}

/* internet_access is category 5 of jp-2019: serious at 2 h with 30,000
 * users or more.  The DNS watch counts 50,000: serious at t0 + 2 h; the
 * leads 60, 30, 10 min fire at +60, +90, +110 min exactly, and not a
 * millisecond before. */
/* A steady DNS failure ratio for ten hours, then a jump at t0: the
 * 50,000-user watch opens an incident at t0. */
static void open_by_jump(fixture *f, int64_t t0)
{
    const char *kv[] = {"site=tokyo"};
    live_batch *b = live_begin(f->e, "Demo ISP");
    for (int k = 0; k < 600; k++) {
        ingest_sample s = sample_of("dns_failure_ratio", kv, 1, 0.01 + 0.0001 * (k % 7),
                                    t0 - (600 - k) * MIN_MS);
        live_feed(b, &s);
    }
    jiko_error err;
    assert_int_equal(live_commit(b, f->db, t0, &err), 0);
    assert_int_equal(f->ev.n, 0); /* normal: nothing opened */
    b = live_begin(f->e, "Demo ISP");
    ingest_sample s = sample_of("dns_failure_ratio", kv, 1, 0.95, t0);
    live_feed(b, &s);
    assert_int_equal(live_commit(b, f->db, t0 + 500, &err), 0);
    assert_int_equal(f->ev.n, 1);
    assert_int_equal(f->ev.type[0], LIVE_EV_OPENED);
}

/* An alarm whose queuing fails (the registry down) is not lost: the next
 * tick sends it. */
static void test_alarm_retried(void **state)
{
    fixture f;
    fixture_open(&f, *state);
    int64_t t0 = tu_time("2026-12-05T10:00:00+09:00");
    open_by_jump(&f, t0);
    jiko_error err;
    int64_t at = t0 + 60 * MIN_MS; /* 60 min before it turns serious at t0 + 2 h */
    f.ev.fail_next = 1;
    assert_int_equal(live_tick(f.e, f.db, at, &err), -1);
    assert_int_equal(f.ev.n, 1);
    assert_int_equal(live_tick(f.e, f.db, at + 1000, &err), 0);
    assert_int_equal(f.ev.n, 2);
    assert_int_equal(f.ev.type[1], LIVE_EV_SERIOUS_SOON);
    assert_true(f.ev.lead[1] == 60 * MIN_MS);
    fixture_close(&f);
}

static void test_countdown_exact(void **state)
{
    fixture f;
    fixture_open(&f, *state);
    int64_t t0 = tu_time("2026-12-05T10:00:00+09:00");
    open_by_jump(&f, t0);
    jiko_error err;
    assert_string_equal(f.ev.id[0], "live-20261205-100000-dns-tokyo");

    int64_t serious = t0 + 120 * MIN_MS;
    static const int64_t lead[] = {60, 30, 10};
    int n = 1;
    for (int k = 0; k < 3; k++) {
        int64_t at = serious - lead[k] * MIN_MS;
        assert_int_equal(live_tick(f.e, f.db, at - 1, &err), 0);
        assert_int_equal(f.ev.n, n);
        assert_int_equal(live_tick(f.e, f.db, at, &err), 0);
        assert_int_equal(f.ev.n, n + 1);
        assert_int_equal(f.ev.type[n], LIVE_EV_SERIOUS_SOON);
        assert_true(f.ev.lead[n] == lead[k] * MIN_MS);
        assert_true(f.ev.at[n] == at);
        n++;
        assert_int_equal(live_tick(f.e, f.db, at + 1000, &err), 0); /* once */
        assert_int_equal(f.ev.n, n);
    }
    assert_int_equal(live_tick(f.e, f.db, serious - 1, &err), 0);
    assert_int_equal(f.ev.n, n);
    assert_int_equal(live_tick(f.e, f.db, serious, &err), 0);
    assert_int_equal(f.ev.n, n + 1);
    assert_int_equal(f.ev.type[n], LIVE_EV_SERIOUS);
    assert_int_equal(live_tick(f.e, f.db, serious + 5000, &err), 0);
    assert_int_equal(f.ev.n, n + 1);
    fixture_close(&f);
}

/* A person corrects the users through the registry (as the API does); the
 * engine's next change (another service joining) keeps the person's
 * services, and still writes its own fields the person did not touch. */
static void test_person_edit_kept(void **state)
{
    fixture f;
    fixture_open(&f, *state);
    int64_t t0 = tu_time("2026-12-05T10:00:00+09:00");
    alert(&f, "Demo ISP", "DNSDown", true, t0, 0, t0);
    const char *id = f.ev.id[0];
    int v;
    json_t *r = stored(&f, "Demo ISP", id, &v);
    json_t *svc = json_array_get(json_object_get(r, "services"), 0);
    json_object_set_new(svc, "users", json_integer(123456));
    json_object_set_new(r, "cause", json_pack("{s:s,s:s}", "category", "equipment", "detail",
                                              "resolver process crashed"));
    person_stores(&f, r, "corrected by a person", t0);

    alert(&f, "Demo ISP", "DNSDown", false, t0, t0 + 30 * MIN_MS, t0 + 31 * MIN_MS);
    r = stored(&f, "Demo ISP", id, &v);
    assert_int_equal(v, 3);
    svc = json_array_get(json_object_get(r, "services"), 0);
    assert_int_equal(json_integer_value(json_object_get(svc, "users")), 123456);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "cause"), "detail")),
                        "resolver process crashed");
    assert_string_equal(json_string_value(json_object_get(r, "ended_at")),
                        "2026-12-05T10:30:00+09:00");
    json_decref(r);
    fixture_close(&f);
}

/* A KPI that jumps to its failed level and stays there: the detector soon
 * scores it low again, but the incident stays open until the value is back
 * at its usual level; ended_at = the first sample back there. */
static void test_level_shift_stays_open(void **state)
{
    fixture f;
    fixture_open(&f, *state);
    int64_t t0 = tu_time("2026-12-05T10:00:00+09:00");
    const char *kv[] = {"site=tokyo"};
    jiko_error err;
    live_batch *b = live_begin(f.e, "Demo ISP");
    for (int k = -600; k < 120; k++) {
        double v = k < 0 ? 0.01 + 0.0001 * ((k + 700) % 7) : k < 60 ? 0.95 : 0.0103;
        ingest_sample s = sample_of("dns_failure_ratio", kv, 1, v, t0 + k * MIN_MS);
        live_feed(b, &s);
        if (k == 59) { /* an hour at the failed level: still open */
            assert_int_equal(live_commit(b, f.db, t0 + k * MIN_MS, &err), 0);
            assert_int_equal(f.ev.n, 1);
            live_stats st;
            live_stats_get(f.e, &st);
            assert_int_equal(st.open_incidents, 1);
            b = live_begin(f.e, "Demo ISP");
        }
    }
    assert_int_equal(live_commit(b, f.db, t0 + 120 * MIN_MS, &err), 0);
    assert_int_equal(f.ev.n, 2);
    assert_int_equal(f.ev.type[1], LIVE_EV_CLOSED);
    json_t *r = stored(&f, "Demo ISP", f.ev.id[0], NULL);
    assert_string_equal(json_string_value(json_object_get(r, "started_at")),
                        "2026-12-05T10:00:00+09:00");
    assert_string_equal(json_string_value(json_object_get(r, "ended_at")),
                        "2026-12-05T11:00:00+09:00");
    json_decref(r);
    fixture_close(&f);
}

/* The series behind an incident, for the dashboard: its last samples in
 * time order (a ring of [live] history), the jump scored above the
 * threshold; still there once the incident has closed; nothing for an
 * incident of another operator or one the engine never saw. */
static void check_points(json_t *pts, size_t n, int64_t last_ms, double last_v)
{
    assert_int_equal(json_array_size(pts), n);
    for (size_t i = 1; i < n; i++)
        assert_true(json_integer_value(json_array_get(json_array_get(pts, i - 1), 0)) <
                    json_integer_value(json_array_get(json_array_get(pts, i), 0)));
    json_t *last = json_array_get(pts, n - 1);
    assert_int_equal(json_integer_value(json_array_get(last, 0)), last_ms);
    assert_true(fabs(json_real_value(json_array_get(last, 1)) - last_v) < 1e-6);
}

static void test_series_history(void **state)
{
    fixture f;
    fixture_open_live(&f, *state, "history = 50\n");
    int64_t t0 = tu_time("2026-12-05T10:00:00+09:00");
    open_by_jump(&f, t0);
    json_t *o = live_incident_series(f.e, "Demo ISP", f.ev.id[0]);
    assert_non_null(o);
    assert_true(json_is_true(json_object_get(o, "known")));
    assert_int_equal(json_integer_value(json_object_get(o, "history")), 50);
    json_t *ser = json_object_get(o, "series");
    assert_int_equal(json_array_size(ser), 1);
    json_t *s0 = json_array_get(ser, 0);
    assert_string_equal(json_string_value(json_object_get(s0, "name")),
                        "dns_failure_ratio{site=tokyo}");
    assert_string_equal(json_string_value(json_object_get(s0, "watch")), "dns-tokyo");
    assert_true(json_is_null(json_object_get(s0, "forecast")));
    json_t *pts = json_object_get(s0, "points");
    /* 601 samples fed while quiet: the lead-in of LIVE_HIST_IDLE kept, the
     * jump last (the ring grows to [live] history once the incident holds it) */
    check_points(pts, LIVE_HIST_IDLE, t0, 0.95);
    double thr = json_real_value(json_object_get(s0, "threshold"));
    assert_true(json_real_value(json_array_get(json_array_get(pts, LIVE_HIST_IDLE - 1), 2)) >= thr);
    assert_true(json_real_value(json_array_get(json_array_get(pts, LIVE_HIST_IDLE - 2), 2)) < thr);
    json_decref(o);
    /* another operator's, and one never seen: no series */
    o = live_incident_series(f.e, "Other ISP", f.ev.id[0]);
    assert_false(json_is_true(json_object_get(o, "known")));
    assert_int_equal(json_array_size(json_object_get(o, "series")), 0);
    json_decref(o);
    /* 65 minutes in, 55 before it turns serious (50,000 users, 2 hours):
     * the 60-minute alarm, noted with the time it was raised at */
    jiko_error err;
    assert_int_equal(live_tick(f.e, f.db, t0 + 65 * MIN_MS, &err), 0);
    assert_int_equal(f.ev.type[f.ev.n - 1], LIVE_EV_SERIOUS_SOON);
    o = live_incident_series(f.e, "Demo ISP", f.ev.id[0]);
    json_t *al = json_object_get(o, "alarms");
    assert_int_equal(json_array_size(al), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(al, 0), "lead_minutes")), 60);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(al, 0), "at")),
                     t0 + 65 * MIN_MS);
    json_decref(o);
    /* recovery closes it; the dashboard still draws it, alarms too */
    const char *kv[] = {"site=tokyo"};
    live_batch *b = live_begin(f.e, "Demo ISP");
    for (int k = 66; k <= 95; k++) {
        ingest_sample smp = sample_of("dns_failure_ratio", kv, 1, 0.0102, t0 + k * MIN_MS);
        live_feed(b, &smp);
    }
    assert_int_equal(live_commit(b, f.db, t0 + 95 * MIN_MS, &err), 0);
    assert_int_equal(f.ev.type[f.ev.n - 1], LIVE_EV_CLOSED);
    o = live_incident_series(f.e, "Demo ISP", f.ev.id[0]);
    assert_true(json_is_true(json_object_get(o, "known")));
    check_points(json_object_get(json_array_get(json_object_get(o, "series"), 0), "points"), 50,
                 t0 + 95 * MIN_MS, 0.0102);
    assert_int_equal(json_array_size(json_object_get(o, "alarms")), 1);
    json_decref(o);
    live_stats st;
    live_stats_get(f.e, &st);
    assert_int_equal(st.open_incidents, 0);
    fixture_close(&f);
}

/* A provider's outage reaches two receiving operators (卸先): each gets a
 * linked incident with its own users, closed with the provider's; the
 * yearly report counts the serious ones as one accident of two reporting
 * operators (the release's ※ rule). */
static void test_wholesale_linked(void **state)
{
    fixture f;
    fixture_open_conf(&f, *state,
                      "[watch core]\nmatch = {alertname=\"CoreDown\"}\noperator = Net Co\n"
                      "service = internet_access\nusers = 1200000\nwholesale_to = MVNO A, MVNO B\n"
                      "wholesale_users = 30000, 20000\n");
    int64_t t0 = tu_time("2026-12-05T10:00:00+09:00");
    alert(&f, "Net Co", "CoreDown", true, t0, 0, t0);
    assert_int_equal(f.ev.n, 3); /* opened: the provider's and the two receivers' */
    for (int k = 0; k < 3; k++) {
        assert_int_equal(f.ev.type[k], LIVE_EV_OPENED);
        assert_string_equal(f.ev.id[k], "live-20261205-100000-core");
    }
    json_t *r = stored(&f, "MVNO A", "live-20261205-100000-core", NULL);
    assert_string_equal(json_string_value(json_object_get(r, "wholesale_provider")), "Net Co");
    assert_string_equal(json_string_value(json_object_get(r, "started_at")),
                        "2026-12-05T10:00:00+09:00");
    json_t *svc = json_array_get(json_object_get(r, "services"), 0);
    assert_int_equal(json_integer_value(json_object_get(svc, "users")), 30000);
    json_decref(r);
    r = stored(&f, "Net Co", "live-20261205-100000-core", NULL);
    assert_null(json_object_get(r, "wholesale_provider"));
    json_decref(r);

    alert(&f, "Net Co", "CoreDown", false, t0, t0 + 180 * MIN_MS, t0 + 181 * MIN_MS);
    assert_int_equal(f.ev.n, 6);
    const char *ops[] = {"Net Co", "MVNO A", "MVNO B"};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(f.ev.type[3 + k], LIVE_EV_CLOSED);
        r = stored(&f, ops[k], "live-20261205-100000-core", NULL);
        assert_string_equal(json_string_value(json_object_get(r, "ended_at")),
                            "2026-12-05T13:00:00+09:00");
        json_decref(r);
    }
    report_year y;
    jiko_error err;
    assert_int_equal(report_compute(&y, f.db, &f.env->cat, 2026, &err), 0);
    assert_int_equal(y.cur.reports[REPORT_SERIOUS], 1);   /* one accident ... */
    assert_int_equal(y.cur.operators[REPORT_SERIOUS], 2); /* ... Net Co and MVNO A */
    assert_int_equal(y.cur.serious_records, 2);
    assert_int_equal(y.cur.n_accidents, 1);
    assert_string_equal(y.cur.accidents[0].ops[0], "Net Co");
    report_free(&y);
    fixture_close(&f);
}

static int incidents_of(fixture *f, const char *op);
static void restart(fixture *f, bool checkpoint, int64_t now);

/* A disk filling towards its limit: the forecaster warns before it is full
 * (capacity.warning, no incident: nothing has failed yet); the incident
 * opens at the first sample at the limit, when the service fails, and ends
 * when it is emptied.  Kept in the checkpoint like the detectors. */
static void test_capacity(void **state)
{
    fixture f;
    fixture_open_conf(&f, *state,
                      "[watch archive]\nmatch = archive_disk_used_ratio{host=\"db1\"}\n"
                      "operator = Demo ISP\nservice = voice_00xy\nusers = 62095\n"
                      "detect = capacity\nlimit = 1.0\n");
    char ckpt[80];
    snprintf(ckpt, sizeof ckpt, "%s.live", f.path);
    f.conf.checkpoint = strdup(ckpt);
    int64_t t0 = tu_time("2021-10-09T04:00:00+09:00");
    const char *kv[] = {"host=db1"};
    jiko_error err;
    int64_t full_at = 0, warned_at = 0;
    for (int k = 0; k < 8 * 60; k++) { /* 1-minute samples */
        int64_t t = t0 + k * MIN_MS;
        /* steady at 50 % for 2 h, then filling 25 %/h to full, full for an
         * hour, then archived away to 20 % */
        double v = k < 120 ? 0.5 + 0.001 * (k % 3)
                   : k < 240 ? 0.5 + 0.25 * (k - 120) / 60.0
                   : k < 300 ? 1.0
                             : 0.2;
        if (v >= 1.0 && !full_at)
            full_at = t;
        live_batch *b = live_begin(f.e, "Demo ISP");
        ingest_sample s = sample_of("archive_disk_used_ratio", kv, 1, v, t);
        live_feed(b, &s);
        assert_int_equal(live_commit(b, f.db, t, &err), 0);
        for (int i = 0; i < f.ev.n; i++)
            if (f.ev.type[i] == LIVE_EV_CAPACITY_WARNING && !warned_at)
                warned_at = t;
        if (k == 200) { /* through a restart, forecaster and all */
            restart(&f, true, t);
        }
    }
    assert_true(warned_at > 0 && warned_at < full_at); /* seen coming */
    printf("capacity: warned %lld min before the disk was full\n",
           (long long)((full_at - warned_at) / MIN_MS));
    int opened = -1, closed = -1, warnings = 0;
    for (int i = 0; i < f.ev.n; i++) {
        warnings += f.ev.type[i] == LIVE_EV_CAPACITY_WARNING;
        if (f.ev.type[i] == LIVE_EV_OPENED)
            opened = i;
        if (f.ev.type[i] == LIVE_EV_CLOSED)
            closed = i;
    }
    assert_int_equal(warnings, 1);
    assert_string_equal(f.ev.id[0], "capacity:archive");
    assert_true(opened > 0 && closed > opened);
    json_t *r = stored(&f, "Demo ISP", f.ev.id[opened], NULL);
    char want[JST_TEXT_MAX];
    jst_format(full_at, want, sizeof want);
    assert_string_equal(json_string_value(json_object_get(r, "started_at")), want);
    assert_string_equal(json_string_value(json_object_get(r, "ended_at")),
                        "2021-10-09T09:00:00+09:00");
    json_decref(r);
    unlink(ckpt);
    fixture_close(&f);
}

/* An incident the law cannot take (an alert from 1970, before any
 * rulebook) is said and dropped; it does not hold back the next batches. */
static void test_unstorable_dropped(void **state)
{
    fixture f;
    fixture_open(&f, *state);
    int64_t t0 = tu_time("2026-12-05T10:00:00+09:00");
    alert(&f, "Demo ISP", "MailDown", true, 1000, 0, t0); /* commits: the drop is not a failure */
    assert_int_equal(f.ev.n, 0);
    live_stats st;
    live_stats_get(f.e, &st);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(st.open_incidents, 0);
    alert(&f, "Demo ISP", "DNSDown", true, t0, 0, t0);
    assert_int_equal(f.ev.n, 1);
    assert_int_equal(f.ev.type[0], LIVE_EV_OPENED);
    assert_int_equal(incidents_of(&f, "Demo ISP"), 1);
    fixture_close(&f);
}

/* A person names a receiving operator in the provider's record
 * (services[].wholesale_to); the engine links it when it next stores the
 * incident — here, its closing — and the receiver's incident closes with it. */
static void test_wholesale_from_record(void **state)
{
    fixture f;
    fixture_open(&f, *state);
    int64_t t0 = tu_time("2026-12-05T10:00:00+09:00");
    alert(&f, "Demo ISP", "DNSDown", true, t0, 0, t0);
    const char *id = f.ev.id[0];
    json_t *r = stored(&f, "Demo ISP", id, NULL);
    json_t *svc = json_array_get(json_object_get(r, "services"), 0);
    json_object_set_new(svc, "wholesale_to",
                        json_pack("[{s:s, s:i}]", "operator", "Small MVNO", "users", 4000));
    person_stores(&f, r, "a person names the MVNO", t0);

    alert(&f, "Demo ISP", "DNSDown", false, t0, t0 + 45 * MIN_MS, t0 + 46 * MIN_MS);
    r = stored(&f, "Small MVNO", id, NULL);
    assert_string_equal(json_string_value(json_object_get(r, "wholesale_provider")), "Demo ISP");
    assert_string_equal(json_string_value(json_object_get(r, "ended_at")),
                        "2026-12-05T10:45:00+09:00");
    svc = json_array_get(json_object_get(r, "services"), 0);
    assert_string_equal(json_string_value(json_object_get(svc, "service")), "internet_access");
    assert_int_equal(json_integer_value(json_object_get(svc, "users")), 4000);
    json_decref(r);
    /* the provider's record keeps the person's wholesale_to */
    r = stored(&f, "Demo ISP", id, NULL);
    svc = json_array_get(json_object_get(r, "services"), 0);
    assert_non_null(json_object_get(svc, "wholesale_to"));
    json_decref(r);
    fixture_close(&f);
}

static int count_incidents(void *ctx, const store_row *r)
{
    (void)r;
    ++*(int *)ctx;
    return 0;
}

static int incidents_of(fixture *f, const char *op)
{
    int n = 0;
    jiko_error err;
    store_filter flt = {.op = op, .open = -1};
    assert_int_equal(store_list(f->db, &flt, count_incidents, &n, &err), 0);
    return n;
}

static void restart(fixture *f, bool checkpoint, int64_t now)
{
    jiko_error err;
    if (checkpoint)
        assert_int_equal(live_checkpoint(f->e, &err), 0);
    live_engine_free(f->e);
    assert_int_equal(live_engine_new(&f->e, &f->lenv, f->db, now, &err), 0);
}

/* Restarted with its checkpoint: the alert's series is still linked to its
 * incident, so its resolution closes it; nothing is opened twice. */
static void test_restart_with_checkpoint(void **state)
{
    fixture f;
    fixture_open(&f, *state);
    char ckpt[80];
    snprintf(ckpt, sizeof ckpt, "%s.live", f.path);
    f.conf.checkpoint = strdup(ckpt);
    int64_t t0 = tu_time("2026-12-05T10:00:00+09:00");
    alert(&f, "Demo ISP", "DNSDown", true, t0, 0, t0);
    alert(&f, "Demo ISP", "MailDown", true, t0 + MIN_MS, 0, t0 + MIN_MS);
    restart(&f, true, t0 + 2 * MIN_MS);
    live_stats st;
    live_stats_get(f.e, &st);
    assert_int_equal(st.open_incidents, 1);
    assert_int_equal(st.series, 2);
    alert(&f, "Demo ISP", "DNSDown", false, t0, t0 + 20 * MIN_MS, t0 + 21 * MIN_MS);
    assert_int_equal(f.ev.n, 2); /* still open: the mail alert holds it */
    alert(&f, "Demo ISP", "MailDown", false, t0, t0 + 25 * MIN_MS, t0 + 26 * MIN_MS);
    assert_int_equal(f.ev.n, 3);
    assert_int_equal(f.ev.type[2], LIVE_EV_CLOSED);
    assert_string_equal(f.ev.id[2], f.ev.id[0]);
    assert_int_equal(incidents_of(&f, "Demo ISP"), 1);
    json_t *r = stored(&f, "Demo ISP", f.ev.id[0], NULL);
    assert_string_equal(json_string_value(json_object_get(r, "ended_at")),
                        "2026-12-05T10:25:00+09:00");
    assert_int_equal(json_array_size(json_object_get(r, "services")), 2);
    json_decref(r);

    /* a damaged checkpoint is ignored, not trusted */
    restart(&f, true, t0 + 30 * MIN_MS);
    FILE *c = fopen(ckpt, "r+b");
    assert_non_null(c);
    fseek(c, 40, SEEK_SET);
    fputc('#', c);
    fclose(c);
    restart(&f, false, t0 + 30 * MIN_MS);
    live_stats_get(f.e, &st);
    assert_int_equal(st.series, 0);
    unlink(ckpt);
    fixture_close(&f);
}

/* Restarted without a checkpoint (kill -9 before the first one): the open
 * incident is reloaded from the registry; the alert, sent again by
 * Alertmanager, joins it instead of opening a second one, and a person's
 * change made before the restart stays. */
static void test_restart_without_checkpoint(void **state)
{
    fixture f;
    fixture_open(&f, *state);
    int64_t t0 = tu_time("2026-12-05T10:00:00+09:00");
    alert(&f, "Demo ISP", "DNSDown", true, t0, 0, t0);
    const char *id = f.ev.id[0];
    json_t *r = stored(&f, "Demo ISP", id, NULL);
    json_object_set_new(r, "region", json_string("関東"));
    person_stores(&f, r, "region corrected", t0);

    restart(&f, false, t0 + 2 * MIN_MS);
    alert(&f, "Demo ISP", "DNSDown", true, t0, 0, t0 + 2 * MIN_MS);
    alert(&f, "Demo ISP", "DNSDown", false, t0, t0 + 30 * MIN_MS, t0 + 31 * MIN_MS);
    assert_int_equal(incidents_of(&f, "Demo ISP"), 1);
    assert_int_equal(f.ev.type[f.ev.n - 1], LIVE_EV_CLOSED);
    assert_string_equal(f.ev.id[f.ev.n - 1], id);
    r = stored(&f, "Demo ISP", id, NULL);
    assert_string_equal(json_string_value(json_object_get(r, "region")), "関東");
    assert_string_equal(json_string_value(json_object_get(r, "ended_at")),
                        "2026-12-05T10:30:00+09:00");
    json_decref(r);
    fixture_close(&f);
}

/* [live] detector = full: the full detector (ensemble.h) in every series,
 * opening the same incident from the same jump, its state kept by the
 * checkpoint; a checkpoint of the other detector is refused, not misread. */
static void test_full_detector(void **state)
{
    fixture f;
    fixture_open_live(&f, *state, "detector = full\n");
    char ckpt[80];
    snprintf(ckpt, sizeof ckpt, "%s.live", f.path);
    f.conf.checkpoint = strdup(ckpt);
    int64_t t0 = tu_time("2026-12-05T10:00:00+09:00");
    open_by_jump(&f, t0);
    live_stats st;
    live_stats_get(f.e, &st);
    /* the series' state is the full detector's */
    assert_true(st.state_bytes >= sizeof(ensemble_state));
    json_t *o = live_incident_series(f.e, "Demo ISP", f.ev.id[0]);
    json_t *s0 = json_array_get(json_object_get(o, "series"), 0);
    assert_true(fabs(json_real_value(json_object_get(s0, "threshold")) - ENSEMBLE_ALERT_THRESHOLD) <
                1e-9);
    json_decref(o);
    restart(&f, true, t0 + MIN_MS);
    live_stats_get(f.e, &st);
    assert_int_equal(st.series, 1);
    assert_int_equal(st.open_incidents, 1);
    /* the same file under the light detector: refused, the detectors start afresh */
    f.conf.detector_full = false;
    restart(&f, false, t0 + 2 * MIN_MS);
    live_stats_get(f.e, &st);
    assert_int_equal(st.series, 0);
    assert_int_equal(st.open_incidents, 1); /* the incident itself comes from the registry */
    unlink(ckpt);
    fixture_close(&f);
}

/* A counter glitch (2^64 - 1 read once) on a watched series: it is an
 * anomaly, and may open an incident that closes again; what matters is that
 * the engine's detector still sees the real outage hours later (issue 13
 * row 9: a lone wild value blinded the light detector). */
static void test_wild_value_does_not_blind(void **state)
{
    fixture f;
    fixture_open(&f, *state);
    int64_t t0 = tu_time("2026-12-05T00:00:00+09:00");
    const char *kv[] = {"site=tokyo"};
    jiko_error err;
    int opened_before = 0;
    live_batch *b = live_begin(f.e, "Demo ISP");
    for (int k = 0; k < 1200; k++) {
        double v = k == 600 ? 18446744073709551615.0 : 0.01 + 0.0001 * (k % 7);
        ingest_sample s = sample_of("dns_failure_ratio", kv, 1, v, t0 + k * MIN_MS);
        live_feed(b, &s);
    }
    assert_int_equal(live_commit(b, f.db, t0 + 1200 * MIN_MS, &err), 0);
    for (int i = 0; i < f.ev.n; i++)
        opened_before += f.ev.type[i] == LIVE_EV_OPENED;
    live_stats st;
    live_stats_get(f.e, &st);
    assert_int_equal(st.open_incidents, 0); /* the glitch's incident, if any, has closed */
    /* ten hours later the resolvers fail for real */
    b = live_begin(f.e, "Demo ISP");
    ingest_sample s = sample_of("dns_failure_ratio", kv, 1, 0.95, t0 + 1200 * MIN_MS);
    live_feed(b, &s);
    assert_int_equal(live_commit(b, f.db, t0 + 1200 * MIN_MS, &err), 0);
    int opened_after = 0;
    for (int i = 0; i < f.ev.n; i++)
        opened_after += f.ev.type[i] == LIVE_EV_OPENED;
    assert_int_equal(opened_after, opened_before + 1);
    fixture_close(&f);
}

int main(int argc, char **argv)
{
    if (argc > 1) { /* the PostgreSQL run: the engine's registry work on the other backend */
        tu_pg_url(argv[1], g_pg, sizeof g_pg);
        if (!g_pg[0]) {
            fprintf(stderr, "test_live: no PostgreSQL URL in %s\n", argv[1]);
            return 1;
        }
        const struct CMUnitTest pg[] = {
            cmocka_unit_test(test_alerts_open_group_close),
            cmocka_unit_test(test_person_edit_kept),
            cmocka_unit_test(test_wholesale_linked),
            cmocka_unit_test(test_unstorable_dropped),
            cmocka_unit_test(test_restart_with_checkpoint),
            cmocka_unit_test(test_restart_without_checkpoint),
        };
        return cmocka_run_group_tests_name("postgresql", pg, tu_env_setup, tu_env_teardown);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selectors),
        cmocka_unit_test(test_conf_lines),
        cmocka_unit_test(test_example_conf),
        cmocka_unit_test(test_alerts_open_group_close),
        cmocka_unit_test(test_countdown_exact),
        cmocka_unit_test(test_alarm_retried),
        cmocka_unit_test(test_person_edit_kept),
        cmocka_unit_test(test_level_shift_stays_open),
        cmocka_unit_test(test_series_history),
        cmocka_unit_test(test_full_detector),
        cmocka_unit_test(test_wild_value_does_not_blind),
        cmocka_unit_test(test_wholesale_linked),
        cmocka_unit_test(test_wholesale_from_record),
        cmocka_unit_test(test_unstorable_dropped),
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_restart_with_checkpoint),
        cmocka_unit_test(test_restart_without_checkpoint),
    };
    return cmocka_run_group_tests(tests, tu_env_setup, tu_env_teardown);
}
