/*
 * forecast.c — `jiko forecast`: when will a gauge reach its limit?  Feeds a
 * KPI series (CSV) to the capacity forecaster (src/forecast.c) and reports
 * each time the warning starts or ends, and the forecast at the end.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "forecast.h"

static void help(FILE *out)
{
    fprintf(out,
            "usage: jiko forecast --limit N [--horizon DURATION] [--json] [FILE|-]\n"
            "\n"
            "Forecast when a gauge with a known limit (disk used vs size, memory, session\n"
            "table vs maximum, queue depth vs capacity) will be exhausted.  Input: CSV\n"
            "'timestamp,value' in time order (header optional; timestamps RFC 3339,\n"
            "'YYYY-MM-DD HH:MM:SS' UTC, or Unix seconds/milliseconds).\n"
            "\n"
            "Prints each time the warning starts (the early bound of the exhaustion\n"
            "time comes within the horizon) or ends, then the forecast at the last\n"
            "sample: status, expected exhaustion with a 90%% band, growth rate.\n"
            "\n"
            "options:\n"
            "  --limit N          the gauge's limit, in the units of the values (required)\n"
            "  --horizon DUR      warn this far ahead (default 7d; e.g. 30m, 12h, 14d)\n"
            "  --json             JSON Lines: one object per warning change and the final one\n"
            "  -h, --help         this help\n"
            "\n"
            "Exit status: 0 no warning at the end, 1 some lines rejected, 2 usage,\n"
            "4 file error, 10 warning at the end (exhaustion within the horizon).\n"
            "\n"
            "example:\n"
            "  jiko forecast --limit 500e9 --horizon 3d archive-disk.csv\n");
}

static void report(const forecast_result *r, const char *what, bool json)
{
    char now[40], eta[40], early[40], late[40];
    jst_format(r->now_ms, now, sizeof now);
    bool has_eta = r->eta_ms != FORECAST_NEVER, has_late = r->late_ms != FORECAST_NEVER;
    if (has_eta) {
        jst_format(r->eta_ms, eta, sizeof eta);
        jst_format(r->early_ms, early, sizeof early);
    }
    if (has_late)
        jst_format(r->late_ms, late, sizeof late);
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "event", json_string(what));
        json_object_set_new(o, "at", json_string(now));
        json_object_set_new(o, "status", json_string(forecast_status_name(r->status)));
        json_object_set_new(o, "warn", json_boolean(r->warn));
        json_object_set_new(o, "value", json_real(r->value));
        json_object_set_new(o, "limit", json_real(r->limit));
        json_object_set_new(o, "eta", has_eta ? json_string(eta) : json_null());
        json_object_set_new(o, "early", has_eta ? json_string(early) : json_null());
        json_object_set_new(o, "late", has_late ? json_string(late) : json_null());
        json_object_set_new(o, "rate_per_hour", json_real(r->rate_per_s * 3600.0));
        json_object_set_new(o, "basis", r->basis ? json_string(r->basis) : json_null());
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
        if (s)
            puts(s);
        free(s);
        json_decref(o);
        return;
    }
    printf("%s  %-13s %-9s value %.4g of %.4g (%.1f%%)", now, what,
           forecast_status_name(r->status), r->value, r->limit,
           r->limit > 0 ? 100.0 * r->value / r->limit : 0.0);
    if (has_eta)
        printf(", exhausted about %s (90%%: %s .. %s), %+.4g/h%s%s", eta, early,
               has_late ? late : "never", r->rate_per_s * 3600.0, r->basis && *r->basis ? ", from " : "",
               r->basis && *r->basis ? r->basis : "");
    putchar('\n');
}

int cmd_forecast(int argc, char **argv)
{
    static const struct option opts[] = {
        {"limit", required_argument, NULL, 'L'}, {"horizon", required_argument, NULL, 'H'},
        {"json", no_argument, NULL, 'j'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    double limit = 0;
    const char *horizon = NULL;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'L': limit = strtod(optarg, NULL); break;
        case 'H': horizon = optarg; break;
        case 'j': json = true; break;
        case 'h': help(stdout); return CLI_OK;
        default: help(stderr); return CLI_USAGE;
        }
    }
    forecast_config cfg;
    forecast_config_default(&cfg);
    if (horizon && (!rules_parse_duration(horizon, &cfg.horizon_ms) || cfg.horizon_ms <= 0)) {
        cli_error("forecast", "--horizon '%s': expected a duration like 30m, 12h or 14d", horizon);
        return CLI_USAGE;
    }
    forecast_state *st = malloc(sizeof *st);
    jiko_error err;
    if (!st || forecast_init(st, &cfg, limit, &err)) {
        cli_error("forecast", "--limit: %s", st ? err.message : "out of memory");
        free(st);
        return CLI_USAGE;
    }
    if (argc - optind > 1) {
        help(stderr);
        free(st);
        return CLI_USAGE;
    }
    const char *name;
    FILE *fp = cli_open_input(optind < argc ? argv[optind] : "-", "forecast", &name);
    if (!fp) {
        free(st);
        return CLI_IO;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0, rejected = 0, used = 0;
    bool warned = false;
    int64_t last_ms = 0;
    forecast_result r;
    while ((n = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        size_t len = cli_chomp(line, (size_t)n);
        if (!len || line[0] == '#' || (lineno == 1 && strncmp(line, "timestamp", 9) == 0))
            continue;
        char *comma = strchr(line, ','), *end = NULL;
        int64_t t;
        double v = comma ? strtod(comma + 1, &end) : 0;
        if (!comma || !cli_parse_kpi_time(line, (size_t)(comma - line), &t) || end == comma + 1 ||
            *end) {
            fprintf(stderr, "%s:%ld: expected 'timestamp,value' with a time and a number\n", name,
                    lineno);
            rejected++;
            continue;
        }
        int step = forecast_step(st, t, v);
        if (step == FORECAST_ERR_VALUE) {
            fprintf(stderr, "%s:%ld: field 'value': '%.40s' is not a finite number\n", name,
                    lineno, comma + 1);
            rejected++;
            continue;
        }
        if (step != FORECAST_OK) {
            fprintf(stderr, "%s:%ld: field 'timestamp': earlier than the previous sample\n", name,
                    lineno);
            rejected++;
            continue;
        }
        used++;
        last_ms = t;
        forecast_eval(st, t, &r);
        if (r.warn != warned) {
            report(&r, r.warn ? "warning" : "warning-ended", json);
            warned = r.warn;
        }
    }
    free(line);
    if (fp != stdin)
        fclose(fp);
    int rc = rejected ? CLI_REJECTED : CLI_OK;
    if (used) {
        forecast_eval(st, last_ms, &r);
        report(&r, "final", json);
        if (r.warn && rc == CLI_OK)
            rc = 10;
    } else {
        cli_error("forecast", "%s: no samples", name);
        if (rc == CLI_OK)
            rc = CLI_REJECTED;
    }
    free(st);
    return rc;
}
