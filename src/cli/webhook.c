/*
 * webhook.c — `jiko webhook emit|deliver|list`: the outgoing webhooks'
 * outbox from the command line (src/notify/, docs/webhooks.md).
 *
 * `emit` queues a test event for the subscriptions of a config file, as
 * the live engine queues real ones; `deliver` runs the sender's passes in
 * this process (what `jiko serve` does on a thread); `list` shows the
 * outbox.  Attempts are reported one per line on standard error.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "conf.h"
#include "notify.h"
#include "notify_send.h"
#include "utf8.h"
#include "json_text.h"

/* `deliver`: messages are still pending (not delivered, not given up) when
 * the command ends. */
#define CLI_PENDING 11

static void help(FILE *out)
{
    fprintf(out,
            "usage: jiko webhook emit --config FILE [--db URL] --type TYPE --operator NAME\n"
            "                         --incident ID [--data JSON]\n"
            "       jiko webhook deliver --config FILE [--db URL] [--until-empty SECONDS]\n"
            "                            [--timeout SECONDS]\n"
            "       jiko webhook list [--db URL] [--json] [--limit N]\n"
            "\n"
            "Outgoing webhooks (docs/webhooks.md).  The [webhook NAME] sections of the\n"
            "config file say who gets which events; messages wait in the registry's outbox\n"
            "until they are delivered (an answer 2xx) or, after retries for 24 hours, given\n"
            "up.  'jiko serve --config FILE' delivers them on its own; these commands\n"
            "queue a test event, deliver by hand and show the outbox.\n"
            "\n"
            "  emit      queue one event for every subscription that wants it (its\n"
            "            operator's, or the regulator's; the type in its events)\n"
            "  deliver   send the messages that are due now, signed (Standard Webhooks);\n"
            "            with --until-empty, keep retrying as they fall due until none is\n"
            "            pending or SECONDS have passed\n"
            "  list      every message of the outbox and its state\n"
            "\n"
            "options:\n"
            "  --config FILE        the subscriptions: [webhook NAME] sections (emit, deliver)\n"
            "  --db URL             registry (default $JIKO_DB or ./jiko.db; postgresql://...);\n"
            "                       emit makes it when it does not exist\n"
            "  --type TYPE          incident.opened, incident.updated, incident.serious_soon,\n"
            "                       incident.serious, incident.closed, deadline.soon or\n"
            "                       capacity.warning (emit)\n"
            "  --operator NAME      the incident's operator (emit)\n"
            "  --incident ID        the incident's id (emit)\n"
            "  --data JSON          the event's data object (emit; default {})\n"
            "  --until-empty SECONDS  (deliver) retry until nothing is pending, at most SECONDS\n"
            "  --timeout SECONDS    one attempt's time limit (deliver; default 10)\n"
            "  --json               JSON Lines instead of a table (list)\n"
            "  --limit N            the newest N messages only (list)\n"
            "  -h, --help           this help\n"
            "\n"
            "examples:\n"
            "  jiko webhook emit --config jiko.conf --type incident.opened \\\n"
            "       --operator 'Example Telecom' --incident 2021-001 --data '{\"users\":1200}'\n"
            "  jiko webhook deliver --config jiko.conf --until-empty 60\n"
            "  jiko webhook list --json\n"
            "\n"
            "Exit status: 0 ok (deliver: nothing left pending), 1 a bad event (emit), 2 usage,\n"
            "3 config file, 4 libcurl could not start, 5 registry error, 11 (deliver)\n"
            "messages are still pending: not delivered yet, to be retried.\n");
}

typedef struct options {
    const char *config, *db, *type, *op, *incident, *data, *until, *timeout, *limit;
    bool json;
} options;

static int load_subs(const char *path, notify_subs **subs)
{
    conf_file f;
    jiko_error err;
    error_clear(&err);
    *subs = NULL;
    if (conf_load(path, &f, &err))
        return cli_fail("webhook", &err);
    int rc = notify_subs_load(&f, subs, &err);
    conf_free(&f);
    if (rc)
        return cli_fail("webhook", &err);
    return CLI_OK;
}

static bool japanese(void)
{
    classify_lang l;
    return cli_lang(NULL, &l) == 0 && l == CLASSIFY_JA;
}

static int emit(const options *o)
{
    if (!o->type || !o->op || !o->incident) {
        cli_error("webhook", "emit needs --type, --operator and --incident");
        return CLI_USAGE;
    }
    notify_event_type t;
    if (notify_event_type_parse(o->type, &t)) {
        cli_error("webhook", "--type expects incident.opened, incident.updated, "
                             "incident.serious_soon, incident.serious, incident.closed, "
                             "deadline.soon or capacity.warning, got '%s'", o->type);
        return CLI_USAGE;
    }
    notify_subs *subs;
    int rc = load_subs(o->config, &subs);
    if (rc)
        return rc;
    int64_t now;
    if (cli_now(NULL, &now, "webhook")) {
        notify_subs_free(subs);
        return CLI_USAGE;
    }
    store *db;
    if ((rc = cli_store_open(&db, o->db, true, "webhook"))) {
        notify_subs_free(subs);
        return rc;
    }
    notify_event ev = {o->type, o->op, o->incident, o->data};
    jiko_error err;
    error_clear(&err);
    int n = notify_emit(subs, db, &ev, now, &err);
    if (n < 0) {
        rc = cli_fail("webhook", &err);
    } else if (japanese()) {
        printf("%d 件を送信待ちにしました\n", n);
        if (n == 0)
            fprintf(stderr, "jiko webhook: この事象を購読する [webhook] はありません\n");
    } else {
        printf("queued %d message%s\n", n, n == 1 ? "" : "s");
        if (n == 0)
            fprintf(stderr, "jiko webhook: no [webhook] subscription wants this event\n");
    }
    store_close(db);
    notify_subs_free(subs);
    return rc;
}

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    fputs("jiko webhook: ", stderr);
    utf8_print_safe(stderr, line); /* URLs and errors from elsewhere */
    fputc('\n', stderr);
}

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static int deliver(const options *o)
{
    long until = -1, timeout = NOTIFY_TIMEOUT_MS / 1000;
    if (o->until && cli_opt_long("webhook", "--until-empty", "seconds from 0 to 86400", o->until,
                                 0, 86400, &until))
        return CLI_USAGE;
    if (o->timeout && cli_opt_long("webhook", "--timeout", "seconds from 1 to 600", o->timeout,
                                   1, 600, &timeout))
        return CLI_USAGE;
    notify_subs *subs;
    int rc = load_subs(o->config, &subs);
    if (rc)
        return rc;
    if (notify_subs_count(subs) == 0) {
        cli_error("webhook", "%s: no [webhook NAME] section: no secret to sign with", o->config);
        notify_subs_free(subs);
        return CLI_CONFIG;
    }
    notify_sender_opts so;
    notify_sender_opts_default(&so);
    so.subs = subs;
    so.timeout_ms = timeout * 1000;
    so.log = log_line;
    jiko_error err;
    error_clear(&err);
    if (notify_sender_opts_test_env(&so, &err)) {
        notify_subs_free(subs);
        return cli_fail("webhook", &err);
    }
    store *db;
    if ((rc = cli_store_open(&db, o->db, false, "webhook"))) {
        notify_subs_free(subs);
        return rc;
    }
    notify_stats st = {0};
    int64_t deadline = mono_ms() + (until > 0 ? until * 1000 : 0);
    for (;;) {
        int64_t now;
        if (cli_now(NULL, &now, "webhook") || notify_deliver_due(db, &so, now, &st, &err)) {
            rc = cli_fail("webhook", &err);
            break;
        }
        int64_t left = deadline - mono_ms();
        if (until < 0 || st.pending == 0 || left <= 0)
            break;
        /* sleep until the next message falls due (or the time is up) */
        store_outbox_counts c;
        if (store_outbox_count(db, &c, &err)) {
            rc = cli_fail("webhook", &err);
            break;
        }
        if (cli_now(NULL, &now, "webhook"))
            break;
        int64_t wait = c.next_due_ms ? c.next_due_ms - now : 1000;
        if (wait > left)
            wait = left;
        if (wait < 10)
            wait = 10;
        sleep_ms(wait);
    }
    if (japanese())
        fprintf(stderr, "jiko webhook: 配信 %ld、失敗した試行 %ld、断念 %ld、未配信 %ld\n",
                st.delivered, st.failed, st.given_up, st.pending);
    else
        fprintf(stderr,
                "jiko webhook: %ld delivered, %ld failed attempts, %ld given up, %ld pending\n",
                st.delivered, st.failed, st.given_up, st.pending);
    if (rc == CLI_OK && st.pending > 0)
        rc = CLI_PENDING;
    store_close(db);
    notify_subs_free(subs);
    return rc;
}

static const char *state_of(const store_outbox_msg *m)
{
    return m->delivered_ms ? "delivered" : m->gave_up_ms ? "given_up" : "pending";
}

typedef struct lister {
    bool json;
    long n;
} lister;

static json_t *ms_or_null(int64_t ms)
{
    return ms ? json_integer(ms) : json_null();
}

static int list_msg(void *ctx, const store_outbox_msg *m)
{
    lister *l = ctx;
    if (l->json) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(m->id));
        json_object_set_new(o, "state", json_string(state_of(m)));
        json_object_set_new(o, "subscription", json_string(m->subscription));
        json_object_set_new(o, "url", json_string(m->url));
        json_object_set_new(o, "event", json_string(m->event));
        json_object_set_new(o, "operator", json_string(m->op));
        json_object_set_new(o, "incident_id", json_string(m->incident_id));
        json_object_set_new(o, "attempts", json_integer(m->attempts));
        json_object_set_new(o, "created_ms", json_integer(m->created_ms));
        json_object_set_new(o, "next_attempt_ms", m->delivered_ms || m->gave_up_ms
                                                      ? json_null()
                                                      : json_integer(m->next_attempt_ms));
        json_object_set_new(o, "last_attempt_ms", ms_or_null(m->last_attempt_ms));
        json_object_set_new(o, "delivered_ms", ms_or_null(m->delivered_ms));
        json_object_set_new(o, "gave_up_ms", ms_or_null(m->gave_up_ms));
        json_object_set_new(o, "last_error", json_string(m->last_error));
        json_object_set_new(o, "body", json_string(m->body));
        char *s = json_text_of(o, 0, false, NULL);
        json_decref(o);
        if (s) {
            puts(s);
            free(s);
        }
        l->n++;
        return 0;
    }
    /* free text (the operator, the error) goes last or is cut by cli_pad */
    static const size_t w[] = {28, 9, 16, 21, 19, 5, 19};
    if (l->n++ == 0) {
        const char *h[] = {"ID", "STATE", "WEBHOOK", "EVENT", "INCIDENT", "TRIES", "WHEN (JST)"};
        for (int i = 0; i < 7; i++)
            cli_pad(stdout, h[i], w[i]);
        puts("OPERATOR / LAST ERROR");
    }
    char at[JST_TEXT_MAX], tries[16];
    snprintf(tries, sizeof tries, "%d", m->attempts);
    int64_t t = m->delivered_ms   ? m->delivered_ms
                : m->gave_up_ms   ? m->gave_up_ms
                                  : m->next_attempt_ms;
    const char *cols[] = {m->id, state_of(m), m->subscription, m->event, m->incident_id, tries,
                          cli_jst_short(t, at, sizeof at)};
    for (int i = 0; i < 7; i++)
        cli_pad(stdout, cols[i], w[i]);
    utf8_print_safe(stdout, m->op);
    if (m->last_error[0]) {
        fputs(" / ", stdout);
        utf8_print_safe(stdout, m->last_error);
    }
    putchar('\n');
    return 0;
}

static int list(const options *o)
{
    long limit = 0;
    if (o->limit && cli_opt_long("webhook", "--limit", "a count from 1 to 1000000000", o->limit,
                                 1, 1000000000, &limit))
        return CLI_USAGE;
    store *db;
    int rc = cli_store_open(&db, o->db, false, "webhook");
    if (rc)
        return rc;
    lister l = {o->json, 0};
    jiko_error err;
    error_clear(&err);
    if (store_outbox_list(db, limit, list_msg, &l, &err))
        rc = cli_fail("webhook", &err);
    else if (l.n == 0 && !o->json)
        fprintf(stderr, japanese() ? "jiko webhook: 送信待ちの通知はありません\n"
                                   : "jiko webhook: the outbox is empty\n");
    store_close(db);
    return rc;
}

int cmd_webhook(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},   {"db", required_argument, NULL, 'd'},
        {"type", required_argument, NULL, 't'},     {"operator", required_argument, NULL, 'o'},
        {"incident", required_argument, NULL, 'i'}, {"data", required_argument, NULL, 'D'},
        {"until-empty", required_argument, NULL, 'u'},
        {"timeout", required_argument, NULL, 'T'},  {"limit", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},           {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    options o = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o.config = optarg; break;
        case 'd': o.db = optarg; break;
        case 't': o.type = optarg; break;
        case 'o': o.op = optarg; break;
        case 'i': o.incident = optarg; break;
        case 'D': o.data = optarg; break;
        case 'u': o.until = optarg; break;
        case 'T': o.timeout = optarg; break;
        case 'l': o.limit = optarg; break;
        case 'j': o.json = true; break;
        case 'h': help(stdout); return CLI_OK;
        default: help(stderr); return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("webhook", "expected emit, deliver or list");
        help(stderr);
        return CLI_USAGE;
    }
    const char *sub = argv[optind];
    bool is_emit = strcmp(sub, "emit") == 0, is_deliver = strcmp(sub, "deliver") == 0,
         is_list = strcmp(sub, "list") == 0;
    if (!is_emit && !is_deliver && !is_list) {
        cli_error("webhook", "unknown subcommand '%s'; expected emit, deliver or list", sub);
        return CLI_USAGE;
    }
    if (optind + 1 < argc) {
        cli_error("webhook", "%s takes no arguments, got '%s'", sub, argv[optind + 1]);
        return CLI_USAGE;
    }
    /* an option that the subcommand would ignore is a mistake worth saying */
    if (!is_emit && (o.type || o.op || o.incident || o.data)) {
        cli_error("webhook", "--type, --operator, --incident and --data are for emit only");
        return CLI_USAGE;
    }
    if (!is_deliver && (o.until || o.timeout)) {
        cli_error("webhook", "--until-empty and --timeout are for deliver only");
        return CLI_USAGE;
    }
    if (!is_list && (o.json || o.limit)) {
        cli_error("webhook", "--json and --limit are for list only");
        return CLI_USAGE;
    }
    if (is_list && o.config) {
        cli_error("webhook", "list reads the registry only: leave out --config");
        return CLI_USAGE;
    }
    if (!is_list && !o.config) {
        cli_error("webhook", "%s needs --config FILE (the [webhook NAME] subscriptions)", sub);
        return CLI_USAGE;
    }
    if (is_emit)
        return emit(&o);
    if (is_deliver)
        return deliver(&o);
    return list(&o);
}
