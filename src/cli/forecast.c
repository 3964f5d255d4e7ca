/*
 * forecast.c — `jiko forecast`: when will a gauge reach its limit?  Reads
 * a KPI series (src/watch/kpi_csv.h) into a forecast run
 * (src/watch/forecast_run.h) and prints each time the warning starts or
 * ends, and the forecast at the end.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "forecast_run.h"
#include "jst.h"
#include "kpi_csv.h"

/* the rate is printed per hour */
#define SEC_PER_HOUR 3600.0

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
            "4 file error, 7 out of memory, 10 warning at the end (exhaustion within the\n"
            "horizon; also when some lines were rejected).\n"
            "\n"
            "example:\n"
            "  jiko forecast --limit 500e9 --horizon 3d archive-disk.csv\n");
}

/* One event: a JSON line, or a line for people. */
static void report(const forecast_result *r, forecast_run_event ev, bool json)
{
    if (json) {
        char *s = forecast_run_json(r, ev);
        if (s)
            puts(s);
        free(s);
        return;
    }
    char now[JST_TEXT_MAX], eta[JST_TEXT_MAX], early[JST_TEXT_MAX], late[JST_TEXT_MAX];
    jst_format(r->now_ms, now, sizeof now);
    bool has_eta = r->eta_ms != FORECAST_NEVER, has_late = r->late_ms != FORECAST_NEVER;
    if (has_eta) {
        jst_format(r->eta_ms, eta, sizeof eta);
        jst_format(r->early_ms, early, sizeof early);
    }
    if (has_late)
        jst_format(r->late_ms, late, sizeof late);
    printf("%s  %-13s %-9s value %.4g of %.4g (%.1f%%)", now, forecast_run_event_name(ev),
           forecast_status_name(r->status), r->value, r->limit,
           r->limit > 0 ? 100.0 * r->value / r->limit : 0.0);
    if (has_eta)
        printf(", exhausted about %s (90%%: %s .. %s), %+.4g/h%s%s", eta, early,
               has_late ? late : "never", r->rate_per_s * SEC_PER_HOUR,
               r->basis && *r->basis ? ", from " : "", r->basis && *r->basis ? r->basis : "");
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
        case 'L':
            if (cli_opt_double("forecast", "--limit", "the gauge's limit, a number > 0", optarg,
                               &limit))
                return CLI_USAGE;
            break;
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
    forecast_run run;
    jiko_error err;
    if (forecast_run_init(&run, &cfg, limit, &err)) {
        cli_error("forecast", "--limit: %s", err.message);
        return CLI_USAGE;
    }
    const char *name;
    int status;
    FILE *fp = cli_open_operand(argc, argv, "forecast", help, &name, &status);
    if (!fp)
        return status;
    run.source = name;
    kpi_csv in;
    kpi_csv_open(&in, fp, name, KPI_CSV_GAUGE);
    kpi_row row;
    forecast_result r;
    long rejected = 0;
    int got;
    while ((got = kpi_csv_next(&in, &row, &err)) != KPI_CSV_END && got != KPI_CSV_FAILED) {
        int ev = got == KPI_CSV_ROW
                     ? forecast_run_feed(&run, row.line, row.t_ms, row.value, row.value_text, &r, &err)
                     : -1;
        if (ev < 0) {
            cli_print_error(&err);
            rejected++;
        } else if (ev != FORECAST_RUN_NONE) {
            report(&r, ev, json);
        }
    }
    kpi_csv_close(&in);
    if (fp != stdin)
        fclose(fp);
    int rc = rejected ? CLI_REJECTED : CLI_OK;
    if (got == KPI_CSV_FAILED)
        rc = cli_fail("forecast", &err);
    if (forecast_run_final(&run, &r, &err) == 0) {
        report(&r, FORECAST_RUN_FINAL, json);
        /* the warning is what a script acts on: rejected lines (already
         * reported) do not hide it */
        if (r.warn && (rc == CLI_OK || rc == CLI_REJECTED))
            rc = CLI_WARNING;
    } else if (rc == CLI_OK || rc == CLI_REJECTED) {
        rc = cli_fail("forecast", &err);
    }
    return rc;
}
