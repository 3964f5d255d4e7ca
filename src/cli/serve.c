/*
 * serve.c — `jiko serve`: the HTTP API over the registry (server.h).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "cli.h"
#include "json_arena.h"
#include "conf.h"
#include "engine.h"
#include "notify.h"
#include "notify_conf.h"
#include "notify_send.h"
#include "report_published.h"
#include "server.h"

static void help(FILE *out)
{
    fputs("usage: jiko serve [--db URL] [--listen ADDR:PORT] [--config FILE] [--threads N]\n"
          "                  [--ready-file FILE] [--rules-dir DIR] [--catalog-dir DIR]\n"
          "\n"
          "Serve the JSON API over the registry (docs/api.md): incidents stored and read\n"
          "as by 'jiko import' and 'jiko list', classification, rulebooks and reports,\n"
          "with API tokens ('jiko token create'), per-token rate limits, admission\n"
          "control, /healthz and /metrics (Prometheus).  Runs the live engine: KPI\n"
          "samples (/api/v1/write, /api/v2/write) and alerts (/api/v1/alerts) from\n"
          "ingest tokens open, grow and close the incidents of the [watch] sections\n"
          "by themselves (docs/watch.md).  Runs until SIGTERM or SIGINT, then lets the\n"
          "requests in progress finish, writes the detectors' checkpoint and closes the\n"
          "registry.\n"
          "\n"
          "  --db URL           registry (default $JIKO_DB or ./jiko.db; postgresql://...);\n"
          "                     created when missing\n"
          "  --listen ADDR:PORT address to listen on (default 127.0.0.1:8080; port 0 = any\n"
          "                     free port)\n"
          "  --config FILE      settings: [serve] (limits, threads; docs/api.md), [live]\n"
          "                     and [watch NAME] (the live engine; docs/watch.md),\n"
          "                     [webhook NAME] subscriptions, delivered from the\n"
          "                     registry's outbox on a thread of their own\n"
          "                     (docs/webhooks.md); example: examples/jiko.conf\n"
          "  --threads N        worker threads for the handlers (default 2; 0 = one thread\n"
          "                     per connection)\n"
          "  --ready-file FILE  when listening, write the server's URL to FILE\n"
          "  --rules-dir DIR    rulebooks (default $JIKO_RULES_DIR or the built-in rules/)\n"
          "  --catalog-dir DIR  catalogs (default $JIKO_CATALOG_DIR or the built-in catalogs/)\n"
          "  -h, --help         this help\n"
          "\n"
          "Exit status: 0 stopped by a signal, 2 usage, 3 rulebooks, catalogs or the config\n"
          "file, 4 cannot listen, 5 registry error.\n",
          out);
}

/* The URL, written whole (temp file and rename) so that a test polling for
 * the file never reads half of it. */
static int write_ready(const char *path, const char *url)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%s\n", url);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return -1;
    return 0;
}

/* The webhook sender's lines, from its thread: one fprintf each, so that
 * they do not interleave with the server's. */
static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "jiko serve: %s\n", line);
}

/* The live engine's events become webhook messages in the transaction of
 * the change that raised them (notify_emit); once it is committed the
 * sender is told to look at once. */
typedef struct events {
    const notify_subs *subs;
    notify_sender *sender;
} events;

static int on_live_event(void *ctx, store *db, const live_event *ev, int64_t now_ms,
                         jiko_error *err)
{
    events *x = ctx;
    if (!notify_subs_count(x->subs))
        return 0;
    notify_event ne = {live_event_name(ev->type), ev->op, ev->id, ev->data_json};
    return notify_emit(x->subs, db, &ne, now_ms, err) < 0 ? -1 : 0;
}

static void on_live_committed(void *ctx)
{
    events *x = ctx;
    if (x->sender)
        notify_sender_kick(x->sender);
}

/* The dashboard's files (assets.h): from [serve] web and web_vendor, else
 * from where the build put them.  A directory named in the config must be
 * there; the built-in one may be missing (the API still serves). */
static int load_web(assets *web, const serve_conf *conf)  /* 0, or an exit status */
{
    const char *dir = conf->web[0] ? conf->web : JIKO_DATADIR "/web";
    const char *vendor = conf->web_vendor[0] ? conf->web_vendor
                                             : JIKO_DATADIR "/node_modules/uplot/dist";
    jiko_error err;
    if (assets_load(web, dir, vendor, &err)) {
        if (conf->web[0])
            return cli_fail("serve", &err);
        cli_error("serve", "no dashboard: %s (%s)", err.message, dir);
        return 0;
    }
    if (web->vendor_missing)
        cli_error("serve", "the dashboard draws no charts: uPlot is not in %s (make deps, or "
                           "[serve] web_vendor)", vendor);
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},        {"listen", required_argument, NULL, 'L'},
        {"config", required_argument, NULL, 'c'},    {"threads", required_argument, NULL, 't'},
        {"ready-file", required_argument, NULL, 'r'}, {"rules-dir", required_argument, NULL, 'R'},
        {"catalog-dir", required_argument, NULL, 'C'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *db = NULL, *listen = NULL, *config = NULL, *threads = NULL, *ready = NULL,
               *rules_dir = NULL, *catalog_dir = NULL;
    int c;
    /* before any JSON value: the workers answer reads from per-request
     * arenas (api_json_scratch); every other value stays on the heap */
    json_arena_install();
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'L': listen = optarg; break;
        case 'c': config = optarg; break;
        case 't': threads = optarg; break;
        case 'r': ready = optarg; break;
        case 'R': rules_dir = optarg; break;
        case 'C': catalog_dir = optarg; break;
        case 'h': help(stdout); return CLI_OK;
        default: help(stderr); return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("serve", "unexpected argument '%s'", argv[optind]);
        return CLI_USAGE;
    }
    serve_conf conf;
    serve_conf_default(&conf);
    jiko_error err;
    error_clear(&err);
    /* one reading of the file: [serve] for the server, [webhook] for the
     * sender, [live] and [watch] for the engine (after the catalogs) */
    conf_file file = {0};
    notify_subs *subs = NULL;
    notify_sender_opts so;
    notify_sender_opts_default(&so);
    live_conf watch;
    live_conf_default(&watch);
    cli_env env;
    bool env_loaded = false;
    live_engine *engine = NULL;
    notify_sender *sender = NULL;
    server *srv = NULL;
    events ev = {NULL, NULL};
    assets web = {0};
    int rc = CLI_OK;
    if (config && (conf_load(config, &file, &err) || serve_conf_apply(&conf, &file, &err) ||
                   notify_subs_load(&file, &subs, &err) || notify_sender_opts_test_env(&so, &err))) {
        rc = cli_fail("serve", &err);
        goto done;
    }
    so.subs = subs;
    so.log = log_line;
    if (listen && serve_conf_listen(&conf, listen, &err)) {
        cli_fail("serve", &err);
        rc = CLI_USAGE;
        goto done;
    }
    if (threads) {
        long n;
        if (cli_opt_long("serve", "--threads", "a thread count 0-256", threads, 0, 256, &n)) {
            rc = CLI_USAGE;
            goto done;
        }
        conf.threads = (int)n;
    }
    if ((rc = cli_env_load(&env, rules_dir, catalog_dir)) != 0)
        goto done;
    env_loaded = true;
    /* a malformed published.conf refused now, not on every yearly report asked for */
    report_published pub;
    if (report_published_read(&pub, &env.cat.published, 0, &err)) {
        rc = cli_fail("serve", &err);
        goto done;
    }
    report_published_free(&pub);
    if (config && live_conf_load(&watch, &file, &env.cat, &err)) {
        rc = cli_fail("serve", &err);
        goto done;
    }
    const char *url = cli_db_url(db);
    /* detector states kept beside a SQLite registry unless told otherwise */
    if (!watch.checkpoint && !store_is_pg_url(url)) {
        size_t n = strlen(url) + 6;
        watch.checkpoint = malloc(n);
        if (watch.checkpoint)
            snprintf(watch.checkpoint, n, "%s.live", url);
    }
    /* the signals are taken by sigwait below, in this thread only: every
     * server thread inherits the blocked mask */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-answer is the server's business, not fatal */
    /* webhooks go out from a thread of their own, never from a request's;
     * started first, so that the engine's first event finds it */
    if (notify_subs_count(subs) && notify_sender_start(&sender, url, &so, &err)) {
        rc = cli_fail("serve", &err);
        goto done;
    }
    ev = (events){subs, sender};
    live_env lenv = {&env.cat, &env.rules, &watch, on_live_event, &ev, on_live_committed};
    store *boot = NULL;
    int64_t now = 0;
    cli_now(NULL, &now, "serve");
    if (store_open(&boot, url, &err) || live_engine_new(&engine, &lenv, boot, now, &err)) {
        if (boot)
            store_close(boot);
        rc = cli_fail("serve", &err);
        goto done;
    }
    store_close(boot);
    if ((rc = load_web(&web, &conf)) != 0)
        goto done;
    api_env api = {&env.cat, &env.rules, engine, web.n ? &web : NULL};
    if (server_start(&srv, &conf, url, &api, &err)) {
        rc = cli_fail("serve", &err);
        rc = rc == CLI_REJECTED ? CLI_USAGE : rc;
        goto done;
    }
    char base[160];
    snprintf(base, sizeof base, strchr(conf.host, ':') ? "http://[%s]:%d" : "http://%s:%d",
             conf.host, server_port(srv));
    fprintf(stderr, "jiko serve: listening on %s (registry %s, %s, %zu watch%s)\n", base,
            store_is_pg_url(url) ? "postgresql" : url,
            conf.threads ? "I/O thread and workers" : "one thread per connection",
            watch.n_watches, watch.n_watches == 1 ? "" : "es");
    if (sender)
        fprintf(stderr, "jiko serve: webhooks: %zu subscription%s, delivered from the registry's "
                        "outbox by a sender thread\n",
                notify_subs_count(subs), notify_subs_count(subs) == 1 ? "" : "s");
    if (ready && write_ready(ready, base))
        cli_error("serve", "cannot write --ready-file %s", ready);
    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "jiko serve: %s: finishing the requests in progress\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT");
done:
    if (srv)
        server_stop(srv);
    if (engine && srv && live_checkpoint(engine, &err))
        cli_fail("serve", &err);
    live_engine_free(engine);
    assets_free(&web);
    if (sender) {
        notify_stats st;
        notify_sender_stats(sender, &st);
        notify_sender_stop(sender);
        fprintf(stderr, "jiko serve: webhooks: %ld delivered, %ld failed attempts, %ld given up, "
                        "%ld pending\n",
                st.delivered, st.failed, st.given_up, st.pending);
    }
    notify_subs_free(subs);
    live_conf_free(&watch);
    conf_free(&file);
    if (env_loaded)
        cli_env_free(&env);
    if (srv)
        fprintf(stderr, "jiko serve: stopped\n");
    return rc;
}
