/*
 * test_notify.c — outgoing webhooks: the [webhook NAME] subscriptions
 * (every bad line: tests/cases/webhook-errors.txt), the signature against
 * Standard Webhooks' published example, the backoff windows, events into
 * the outbox (with the caller's transaction), and delivery to an address
 * that refuses connections: retried, then given up at the horizon.  The
 * delivery to a real receiver is tests/serve/test_webhook.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "notify.h"
#include "notify_send.h"
#include "testutil.h"

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static int load_text(const char *text, notify_subs **subs, jiko_error *err)
{
    conf_file f;
    if (conf_parse(text, strlen(text), "case.conf", &f, err))
        return -1;
    int rc = notify_subs_load(&f, subs, err);
    conf_free(&f);
    return rc;
}

static int webhook_case(void *ctx, const char *name, const char *body, size_t len,
                        const char *want)
{
    (void)ctx;
    (void)len;
    notify_subs *subs = (notify_subs *)1;
    jiko_error err;
    char got[ERROR_TEXT_MAX] = "";
    error_clear(&err);
    if (load_text(body, &subs, &err) == 0) {
        print_error("case '%s': accepted, expected: %s\n", name, want);
        notify_subs_free(subs);
        return 1;
    }
    int failures = 0;
    error_format(&err, got, sizeof got);
    if (strcmp(got, want) != 0 || err.kind != JIKO_ERR_CONFIG || subs != NULL) {
        print_error("case '%s':\n  got      %s (kind %s)\n  expected %s\n", name, got,
                    error_kind_name(err.kind), want);
        failures++;
    }
    /* a secret never appears in an error */
    if (strstr(got, "MfKQ9r8GKYqr") || strstr(got, "AAAAAAAAAAAAAAAA")) {
        print_error("case '%s': the error shows the secret\n", name);
        failures++;
    }
    return failures;
}

static void test_bad_configs(void **state)
{
    (void)state;
    int cases;
    int failures = tu_each_case("tests/cases/webhook-errors.txt", webhook_case, NULL, &cases);
    assert_true(cases >= 20);
    assert_int_equal(failures, 0);
}

static void test_good_config(void **state)
{
    (void)state;
    const char *text = "[serve]\nthreads = 2\n"
                       "[watch dns]\nmatch = x\n"
                       "[webhook noc]\n"
                       "operator = 楽天モバイル株式会社\n"
                       "url = https://noc.example.net/hooks/jiko?x=1\n"
                       "secret = " SECRET "\n"
                       "events = incident.serious , incident.closed\n"
                       "[webhook mic]\n"
                       "regulator = true\n"
                       "url = http://[::1]:8080/mic\n"
                       /* 64 bytes, padded */
                       "secret = whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==\n"
                       "[webhook other.op-2]\n"
                       "operator = B\n"
                       "regulator = false\n"
                       "url = HTTP://example.net/\n"
                       "secret = " SECRET "\n";
    notify_subs *s;
    jiko_error err;
    char msg[ERROR_TEXT_MAX];
    if (load_text(text, &s, &err))
        fail_msg("%s", error_format(&err, msg, sizeof msg));
    assert_int_equal(notify_subs_count(s), 3);
    const notify_sub *noc = notify_subs_find(s, "noc"), *mic = notify_subs_find(s, "mic");
    assert_non_null(noc);
    assert_ptr_equal(notify_subs_at(s, 0), noc);
    assert_null(notify_subs_at(s, 3));
    assert_null(notify_subs_find(s, "nope"));
    assert_string_equal(noc->op, "楽天モバイル株式会社");
    assert_false(noc->regulator);
    assert_int_equal(noc->key_len, 24);
    assert_int_equal(noc->line, 5);
    assert_int_equal(noc->events, (1u << NOTIFY_INCIDENT_SERIOUS) | (1u << NOTIFY_INCIDENT_CLOSED));
    assert_true(mic->regulator);
    assert_null(mic->op);
    assert_int_equal(mic->key_len, 64);
    assert_int_equal(mic->key[63], 63);
    assert_int_equal(mic->events, (1u << NOTIFY_EVENT_TYPES) - 1); /* default: all */
    /* who wants what */
    assert_true(notify_sub_wants(noc, NOTIFY_INCIDENT_SERIOUS, "楽天モバイル株式会社"));
    assert_false(notify_sub_wants(noc, NOTIFY_INCIDENT_OPENED, "楽天モバイル株式会社"));
    assert_false(notify_sub_wants(noc, NOTIFY_INCIDENT_SERIOUS, "B"));
    assert_true(notify_sub_wants(mic, NOTIFY_DEADLINE_SOON, "anyone"));
    assert_false(notify_sub_wants(mic, NOTIFY_EVENT_TYPES, "anyone"));
    notify_subs_free(s);
    /* no [webhook] section: an empty set, not an error */
    assert_int_equal(load_text("[serve]\nthreads = 1\n", &s, &err), 0);
    assert_int_equal(notify_subs_count(s), 0);
    notify_subs_free(s);
    notify_subs_free(NULL);
    /* the six names, both ways */
    for (int t = 0; t < NOTIFY_EVENT_TYPES; t++) {
        notify_event_type back;
        assert_int_equal(notify_event_type_parse(notify_event_type_name(t), &back), 0);
        assert_int_equal(back, t);
    }
    assert_null(notify_event_type_name(NOTIFY_EVENT_TYPES));
}

/* Standard Webhooks' published example (its libraries' tests), and a body
 * with a NUL-free but non-ASCII payload checked against a value computed by
 * Python's hmac (tests/serve/test_webhook.py checks every real request). */
static void test_signature(void **state)
{
    (void)state;
    notify_subs *s;
    jiko_error err;
    assert_int_equal(load_text("[webhook t]\nregulator = true\nurl = http://h/\nsecret = " SECRET "\n",
                               &s, &err),
                     0);
    const notify_sub *t = notify_subs_at(s, 0);
    char sig[NOTIFY_SIGNATURE_MAX];
    const char *body = "{\"test\": 2432232314}";
    notify_signature(t->key, t->key_len, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
                     strlen(body), sig);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* python3 -c 'import hmac,hashlib,base64; k=base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
     *   print(base64.b64encode(hmac.new(k, "msg_x.1.{\"事故\":1}".encode(), hashlib.sha256).digest()))' */
    body = "{\"事故\":1}";
    notify_signature(t->key, t->key_len, "msg_x", 1, body, strlen(body), sig);
    assert_string_equal(sig, "v1,3dvFuXDKkatAFHSl39kGHhnyRuWH6C+OfWlQRgtQ2io=");
    notify_subs_free(s);
}

static void test_backoff(void **state)
{
    (void)state;
    notify_sender_opts o;
    notify_sender_opts_default(&o);
    assert_int_equal(o.backoff_first_ms, 5000);
    assert_int_equal(o.horizon_ms, 24L * 3600 * 1000);
    assert_int_equal(o.timeout_ms, 10000);
    /* the window: [0, 5 s], [0, 10 s], [0, 20 s] ... capped at [0, 1 h] */
    assert_int_equal(notify_backoff_ms(&o, 1, 0), 0);
    assert_int_equal(notify_backoff_ms(&o, 1, UINT32_MAX), 5000);
    assert_int_equal(notify_backoff_ms(&o, 2, UINT32_MAX), 10000);
    assert_int_equal(notify_backoff_ms(&o, 3, UINT32_MAX), 20000);
    assert_int_equal(notify_backoff_ms(&o, 10, UINT32_MAX), 2560000);
    assert_int_equal(notify_backoff_ms(&o, 11, UINT32_MAX), 3600000);
    assert_int_equal(notify_backoff_ms(&o, 1000000, UINT32_MAX), 3600000);
    assert_int_equal(notify_backoff_ms(&o, 3, 1u << 31), 10000); /* the middle of [0, 20 s] */
    /* the test knobs: the cap follows the first window */
    setenv("JIKO_WEBHOOK_TEST_BACKOFF_MS", "100", 1);
    setenv("JIKO_WEBHOOK_TEST_HORIZON_MS", "1500", 1);
    jiko_error err;
    assert_int_equal(notify_sender_opts_test_env(&o, &err), 0);
    assert_int_equal(o.backoff_first_ms, 100);
    assert_int_equal(o.backoff_max_ms, 72000);
    assert_int_equal(o.horizon_ms, 1500);
    setenv("JIKO_WEBHOOK_TEST_HORIZON_MS", "soon", 1);
    assert_int_equal(notify_sender_opts_test_env(&o, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_CONFIG);
    assert_string_equal(err.field, "JIKO_WEBHOOK_TEST_HORIZON_MS");
    unsetenv("JIKO_WEBHOOK_TEST_BACKOFF_MS");
    unsetenv("JIKO_WEBHOOK_TEST_HORIZON_MS");
}

/* Two subscriptions on a closed loopback port (1: nothing listens there). */
static const char *const CONF = "[webhook noc]\noperator = A\nurl = http://127.0.0.1:1/noc\n"
                                "secret = " SECRET "\nevents = incident.opened, incident.closed\n"
                                "[webhook mic]\nregulator = true\nurl = http://127.0.0.1:1/mic\n"
                                "secret = " SECRET "\n";

static void drop_db(store *db, const char *path)
{
    store_close(db);
    tu_unlink_db(path);
}

typedef struct seen {
    int n;
    store_outbox_msg m[8];
    char body[8][512], id[8][NOTIFY_ID_MAX], sub[8][16], err[8][300];
} seen;

static int keep(void *ctx, const store_outbox_msg *m)
{
    seen *s = ctx;
    if (s->n < 8) {
        s->m[s->n] = *m;
        snprintf(s->body[s->n], sizeof s->body[0], "%s", m->body);
        snprintf(s->id[s->n], sizeof s->id[0], "%s", m->id);
        snprintf(s->sub[s->n], sizeof s->sub[0], "%s", m->subscription);
        snprintf(s->err[s->n], sizeof s->err[0], "%s", m->last_error);
    }
    s->n++;
    return 0;
}

/* A registry file of this process's own (two builds' tests may run at once). */
static store *fresh_db(const char *name, char *path, size_t size)
{
    snprintf(path, size, "/tmp/jiko-test-%s-%ld.db", name, (long)getpid());
    tu_unlink_db(path);
    store *db;
    jiko_error err;
    if (store_open(&db, path, &err))
        fail_msg("%s", err.message);
    return db;
}

static void test_emit(void **state)
{
    (void)state;
    notify_subs *subs;
    jiko_error err;
    assert_int_equal(load_text(CONF, &subs, &err), 0);
    char path[128];
    store *db = fresh_db("notify", path, sizeof path);
    notify_event ev = {"incident.opened", "A", "2021-001", "{\"users\":1200,\"report\":\"serious\"}"};
    assert_int_equal(notify_emit(subs, db, &ev, 1634200620000, &err), 2);
    ev = (notify_event){"incident.updated", "A", "2021-001", NULL};
    assert_int_equal(notify_emit(subs, db, &ev, 1634200680000, &err), 1); /* mic only */
    ev = (notify_event){"incident.closed", "B", "b-1", "{}"};
    assert_int_equal(notify_emit(subs, db, &ev, 1634200740000, &err), 1); /* mic only */
    seen s = {0};
    assert_int_equal(store_outbox_list(db, 0, keep, &s, &err), 0);
    assert_int_equal(s.n, 4);
    /* one body for both subscriptions of an event, Standard Webhooks' shape */
    assert_string_equal(s.body[0], s.body[1]);
    json_t *b = json_loads(s.body[0], 0, NULL);
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(b, "type")), "incident.opened");
    assert_string_equal(json_string_value(json_object_get(b, "timestamp")), "2021-10-14T08:37:00.000Z");
    json_t *data = json_object_get(b, "data");
    assert_int_equal(json_integer_value(json_object_get(data, "users")), 1200);
    assert_string_equal(json_string_value(json_object_get(data, "operator")), "A");
    assert_string_equal(json_string_value(json_object_get(data, "incident_id")), "2021-001");
    json_decref(b);
    assert_string_not_equal(s.id[0], s.id[1]);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(strncmp(s.id[i], "msg_", 4), 0);
        assert_int_equal(strlen(s.id[i]), 28);
        assert_int_equal(s.m[i].attempts, 0);
        assert_int_equal(s.m[i].next_attempt_ms, s.m[i].created_ms);
    }
    /* nobody wants it: nothing queued, no error */
    ev = (notify_event){"deadline.soon", "B", "b-1", "not even JSON"};
    notify_subs *none;
    assert_int_equal(load_text("[serve]\n", &none, &err), 0);
    assert_int_equal(notify_emit(none, db, &ev, 1, &err), 0);
    notify_subs_free(none);
    /* bad events */
    struct {
        notify_event ev;
        const char *field;
    } bad[] = {
        {{"incident.reopened", "A", "x", "{}"}, "type"},
        {{NULL, "A", "x", "{}"}, "type"},
        {{"incident.opened", "", "x", "{}"}, "operator"},
        {{"incident.opened", "A", "", "{}"}, "incident_id"},
        {{"incident.opened", "A", "\xff", "{}"}, "incident_id"},
        {{"incident.opened", "A", "x", "[1]"}, "data"},
        {{"incident.opened", "A", "x", "{\"a\":"}, "data"},
        {{"incident.opened", "A", "x", "{\"a\":1,\"a\":2}"}, "data"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(notify_emit(subs, db, &bad[i].ev, 1, &err), -1);
        assert_int_equal(err.kind, JIKO_ERR_INVALID);
        assert_string_equal(err.field, bad[i].field);
    }
    /* in the caller's batch: rolled back with it, committed with it */
    assert_int_equal(store_begin(db, &err), 0);
    assert_true(store_in_batch(db));
    ev = (notify_event){"incident.closed", "A", "2021-001", "{}"};
    assert_int_equal(notify_emit(subs, db, &ev, 1634200800000, &err), 2);
    assert_true(store_in_batch(db)); /* still the caller's */
    assert_int_equal(store_rollback(db, &err), 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(store_outbox_list(db, 0, keep, &s, &err), 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(store_begin(db, &err), 0);
    assert_int_equal(notify_emit(subs, db, &ev, 1634200800000, &err), 2);
    assert_int_equal(store_commit(db, &err), 0);
    assert_false(store_in_batch(db));
    memset(&s, 0, sizeof s);
    assert_int_equal(store_outbox_list(db, 0, keep, &s, &err), 0);
    assert_int_equal(s.n, 6);
    drop_db(db, path);
    notify_subs_free(subs);
}

static void test_deliver_refused(void **state)
{
    (void)state;
    notify_subs *subs;
    jiko_error err;
    char msg[ERROR_TEXT_MAX];
    assert_int_equal(load_text(CONF, &subs, &err), 0);
    char path[128];
    store *db = fresh_db("notify-send", path, sizeof path);
    int64_t t0 = 1634200620000;
    notify_event ev = {"incident.opened", "A", "2021-001", NULL};
    assert_int_equal(notify_emit(subs, db, &ev, t0, &err), 2);
    notify_sender_opts o;
    notify_sender_opts_default(&o);
    o.subs = subs;
    o.timeout_ms = 2000;
    notify_stats st = {0};
    if (notify_deliver_due(db, &o, t0, &st, &err))
        fail_msg("%s", error_format(&err, msg, sizeof msg));
    assert_int_equal(st.delivered, 0);
    assert_int_equal(st.failed, 2);
    assert_int_equal(st.pending, 2);
    seen s = {0};
    assert_int_equal(store_outbox_list(db, 0, keep, &s, &err), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(s.m[i].attempts, 1);
        assert_true(s.m[i].last_attempt_ms >= t0);
        /* the first window: within 5 s of the attempt, never in this pass */
        assert_true(s.m[i].next_attempt_ms > t0);
        assert_true(s.m[i].next_attempt_ms <= s.m[i].last_attempt_ms + 5000);
        assert_non_null(strstr(s.err[i], "onnect"));
    }
    /* not due yet: a pass at the same time sends nothing */
    memset(&st, 0, sizeof st);
    assert_int_equal(notify_deliver_due(db, &o, t0, &st, &err), 0);
    assert_int_equal(st.failed, 0);
    /* a subscription gone from the configuration: a failed attempt saying so */
    notify_subs *mic_only;
    assert_int_equal(load_text("[webhook mic]\nregulator = true\nurl = http://127.0.0.1:1/mic\n"
                               "secret = " SECRET "\n",
                               &mic_only, &err),
                     0);
    o.subs = mic_only;
    memset(&st, 0, sizeof st);
    assert_int_equal(notify_deliver_due(db, &o, t0 + 6000, &st, &err), 0);
    assert_int_equal(st.failed, 2);
    memset(&s, 0, sizeof s);
    assert_int_equal(store_outbox_list(db, 0, keep, &s, &err), 0);
    int gone = strcmp(s.sub[0], "noc") == 0 ? 0 : 1;
    assert_string_equal(s.err[gone], "no [webhook noc] in the configuration: cannot sign");
    /* at the horizon: the failing attempt gives up, the message is kept */
    o.subs = subs;
    memset(&st, 0, sizeof st);
    assert_int_equal(notify_deliver_due(db, &o, t0 + o.horizon_ms, &st, &err), 0);
    assert_int_equal(st.failed, 2);
    assert_int_equal(st.given_up, 2);
    assert_int_equal(st.pending, 0);
    store_outbox_counts c;
    assert_int_equal(store_outbox_count(db, &c, &err), 0);
    assert_int_equal(c.given_up, 2);
    assert_int_equal(c.pending, 0);
    assert_int_equal(c.next_due_ms, 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(store_outbox_list(db, 0, keep, &s, &err), 0);
    assert_int_equal(s.n, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(s.m[i].attempts, 3);
        assert_true(s.m[i].gave_up_ms >= t0 + o.horizon_ms);
        assert_int_equal(s.m[i].delivered_ms, 0);
    }
    drop_db(db, path);
    notify_subs_free(mic_only);
    notify_subs_free(subs);
}

/* The sender thread: starts on its own connection, works through a kick,
 * stops at once when asked (no attempt in progress), counts. */
static void test_sender_thread(void **state)
{
    (void)state;
    notify_subs *subs;
    jiko_error err;
    assert_int_equal(load_text(CONF, &subs, &err), 0);
    char path[128];
    store *db = fresh_db("notify-thread", path, sizeof path);
    notify_sender_opts o;
    notify_sender_opts_default(&o);
    o.subs = subs;
    o.poll_ms = 60000; /* only the kick wakes it */
    notify_sender *s;
    assert_int_equal(notify_sender_start(&s, path, &o, &err), 0);
    notify_event ev = {"incident.opened", "A", "t-1", NULL};
    int64_t now = (int64_t)time(NULL) * 1000;
    assert_int_equal(notify_emit(subs, db, &ev, now, &err), 2);
    notify_sender_kick(s);
    notify_stats st = {0};
    for (int i = 0; i < 500 && st.failed < 2; i++) {
        nanosleep(&(struct timespec){0, 10000000}, NULL);
        notify_sender_stats(s, &st);
    }
    assert_int_equal(st.failed, 2); /* both tried (refused), without waiting for the poll */
    notify_sender_stop(s);
    notify_sender_stop(NULL);
    /* a registry that cannot be opened is the caller's error at once */
    assert_int_equal(notify_sender_start(&s, "/nonexistent-dir/x.db", &o, &err), -1);
    assert_null(s);
    drop_db(db, path);
    notify_subs_free(subs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_configs),     cmocka_unit_test(test_good_config),
        cmocka_unit_test(test_signature),       cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_emit),            cmocka_unit_test(test_deliver_refused),
        cmocka_unit_test(test_sender_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
