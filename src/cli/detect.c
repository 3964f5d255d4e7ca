/*
 * detect.c — `jiko detect`: score KPI series with the streaming anomaly
 * detector, from CSV or Influx line protocol, or over a directory laid out
 * like the Numenta Anomaly Benchmark.  The series table, the CSV intake and
 * the event JSON are library code (src/watch/series.h, kpi_csv.h); this
 * file parses options, walks the NAB layout and prints.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "detect.h"
#include "ensemble.h"
#include "ingest_influx.h"
#include "jst.h"
#include "kpi_csv.h"
#include "outfile.h"
#include "series.h"

static void help(FILE *out)
{
    fprintf(out,
            "usage: jiko detect [--detector light|full] [--format csv|influx] [--events]\n"
            "                   [--threshold T] [FILE|-]\n"
            "       jiko detect [--detector light|full] --nab DIR --out DIR\n"
            "\n"
            "Score KPI series with jiko's streaming anomaly detector: one pass, no\n"
            "look-ahead, the same configuration for every series.  Each point gets an\n"
            "anomaly score in [0, 1].\n"
            "\n"
            "input formats:\n"
            "  csv     'timestamp,value' (one series) or 'series,timestamp,value'; the\n"
            "          header line is optional.  Timestamps: RFC 3339, 'YYYY-MM-DD\n"
            "          HH:MM:SS' (taken as UTC) or Unix seconds / milliseconds.\n"
            "  influx  Influx line protocol; every numeric field is a series named\n"
            "          measurement.field{tags}; timestamps in ns (--precision to change).\n"
            "\n"
            "options:\n"
            "  --detector full|light  full (default): %zu bytes per series, a detector\n"
            "                       calibrated to each series' own tails; light: 1000\n"
            "                       bytes per series, for very many series\n"
            "                       (docs/design-detect.md)\n"
            "  --format csv|influx  input format (default: csv)\n"
            "  --precision ns|us|ms|s  Influx timestamp unit (default ns)\n"
            "  --events             print anomaly events (JSON Lines: series, start, peak,\n"
            "                       peak score, end) instead of a score per point\n"
            "  --threshold T        score that makes an alert (default %.3f full, %.3f\n"
            "                       light, calibrated once for all series)\n"
            "  --max-series N       series held at most (default %d); the points of\n"
            "                       further series are rejected\n"
            "  --nab DIR --out DIR  for every DIR/*/*.csv (except labels/) write OUT/<same\n"
            "                       path> with columns timestamp,value,anomaly_score\n"
            "  -h, --help           this help\n"
            "\n"
            "Output (default): CSV 'series,timestamp,value,anomaly_score' (or\n"
            "'timestamp,value,anomaly_score' for one-series CSV input).  Bad lines are\n"
            "reported as FILE:LINE: ... and skipped.  Influx lines without a timestamp\n"
            "are stamped with the current time.  Exit status: 0 ok, 1 some lines\n"
            "rejected, 2 usage, 4 file error, 7 out of memory.\n"
            "\n"
            "examples:\n"
            "  jiko detect kpi.csv > scored.csv\n"
            "  jiko detect --format influx --events telegraf.lp\n"
            "  jiko detect --detector light --events kpi.csv\n",
            sizeof(ensemble_state), ENSEMBLE_ALERT_THRESHOLD, DETECT_ALERT_THRESHOLD,
            SERIES_MAX_DEFAULT);
}

/* Room for "%.17g" of any double (at most 24 characters). */
#define VALUE_TEXT_MAX 32

/* ---- scoring and printing ------------------------------------------------ */

typedef struct run {
    series_table tab;
    bool events;
    long rejected;
    long refused;   /* points of series beyond the cap */
    bool nomem;     /* the Influx sink ran out of memory */
} run;

/* A series the table refused at its cap: said once, then counted. */
static bool series_refused(run *r, const char *name, size_t len)
{
    if (!r->tab.full)
        return false;
    if (r->refused++ == 0)
        cli_error("detect", "series '%.*s': more than %zu series; the points of further series "
                            "are rejected (--max-series N allows more)",
                  (int)(len > 80 ? 80 : len), name, r->tab.max);
    r->rejected++;
    return true;
}

static int no_memory(void)
{
    cli_error("detect", "out of memory");
    return CLI_NOMEM;
}

static void print_event(void *ctx, const series *s, const detect_event *e)
{
    (void)ctx;
    char *j = series_event_json(s->name, e);
    if (j)
        puts(j);
    free(j);
}

/* Score a point and print its score, or the event it ends (--events);
 * time and value are printed as the input wrote them. */
static void score_point(run *r, series *s, int64_t t_ms, double v, const char *ts,
                        size_t ts_len, const char *vt, size_t v_len, bool with_series)
{
    double sc;
    detect_event e;
    bool closed = series_feed(s, t_ms, v, &sc, &e);
    if (r->events) {
        if (closed)
            print_event(NULL, s, &e);
        return;
    }
    if (with_series)
        printf("%s,", s->name);
    printf("%.*s,%.*s,%.6f\n", (int)ts_len, ts, (int)v_len, vt, sc);
}

/* ---- CSV (these readers return an exit status) --------------------------- */

static int detect_csv(run *r, FILE *fp, const char *name)
{
    kpi_csv in;
    kpi_csv_open(&in, fp, name, KPI_CSV_SERIES);
    bool header = r->events; /* events have no header */
    series *single = NULL;   /* a one-series file is named after the file */
    kpi_row row;
    jiko_error err;
    int got, rc = 0;
    do {
        got = kpi_csv_next(&in, &row, &err);
        if (!header && kpi_csv_columns(&in)) {
            puts(kpi_csv_columns(&in) == 2 ? "timestamp,value,anomaly_score"
                                           : "series,timestamp,value,anomaly_score");
            header = true;
        }
        if (got == KPI_CSV_FAILED) {
            rc = cli_fail("detect", &err); /* what was read before is scored */
            break;
        }
        if (got == KPI_CSV_REJECTED) {
            cli_print_error(&err);
            r->rejected++;
        } else if (got == KPI_CSV_ROW) {
            series *s = row.series ? series_get(&r->tab, row.series, row.series_len)
                        : single   ? single
                                   : (single = series_get(&r->tab, name, strlen(name)));
            if (!s) {
                if (series_refused(r, row.series ? row.series : name,
                                   row.series ? row.series_len : strlen(name)))
                    continue;
                rc = no_memory();
                break;
            }
            score_point(r, s, row.t_ms, row.value, row.time, row.time_len, row.value_text,
                        row.value_len, row.series != NULL);
        }
    } while (got != KPI_CSV_END);
    kpi_csv_close(&in);
    return rc;
}

/* ---- Influx -------------------------------------------------------------- */

static int influx_sink(void *ctx, const ingest_sample *smp)
{
    run *r = ctx;
    series *s = series_of_sample(&r->tab, smp);
    if (!s) {
        if (series_refused(r, r->tab.scratch, r->tab.scratch ? strlen(r->tab.scratch) : 0))
            return 0;
        r->nomem = true;
        return 1;
    }
    char ts[JST_TEXT_MAX], vt[VALUE_TEXT_MAX];
    jst_format(smp->t_ms, ts, sizeof ts);
    int vl = snprintf(vt, sizeof vt, "%.17g", smp->value);
    score_point(r, s, smp->t_ms, smp->value, ts, strlen(ts), vt, (size_t)vl, true);
    return 0;
}

static int influx_error(void *ctx, const ingest_error *e)
{
    run *r = ctx;
    char buf[ERROR_TEXT_MAX];
    fprintf(stderr, "%s\n", ingest_error_format(e, buf, sizeof buf));
    r->rejected++;
    return 0;
}

static int detect_influx(run *r, FILE *fp, const char *name, ingest_influx_precision prec)
{
    /* The parser takes a whole body; read the input in memory. */
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, fp)) > 0) {
        len += got;
        if (len == cap) {
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
    }
    if (!buf) {
        cli_error("detect", "out of memory reading %s", name);
        return CLI_NOMEM;
    }
    if (ferror(fp)) {
        free(buf);
        cli_error("detect", "%s: read error", name);
        return CLI_IO;
    }
    if (!r->events)
        puts("series,timestamp,value,anomaly_score");
    ingest_influx_opts o = ingest_influx_defaults();
    o.source = name;
    o.precision = prec;
    o.on_error = influx_error;
    o.error_ctx = r;
    /* a line without a timestamp is stamped on arrival, as InfluxDB does */
    o.default_t_ms = jst_now_ms();
    ingest_stats st;
    jiko_error err;
    int rc = ingest_influx_parse(&o, buf, len, influx_sink, r, &st, &err);
    free(buf);
    if (rc == INGEST_FAILED)
        return cli_fail("detect", &err);
    if (r->nomem)
        return no_memory();
    return 0;
}

/* ---- NAB directory ------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Room for DIR/category/file.csv (Linux's PATH_MAX). */
#define NAB_PATH_MAX 4096

/* Sorted entries of a directory (skipping dot files); NULL-terminated. */
static char **list_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return NULL;
    size_t n = 0, cap = 16;
    char **v = malloc(cap * sizeof *v);
    struct dirent *e;
    while (v && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n + 1 >= cap) {
            char **p = realloc(v, (cap *= 2) * sizeof *v);
            if (!p)
                break;
            v = p;
        }
        v[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (v) {
        v[n] = NULL;
        qsort(v, n, sizeof *v, cmp_names);
    }
    return v;
}

static void free_list(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* The detector chosen with --detector, with its configuration. */
typedef struct detector_choice {
    bool full;             /* ensemble.h; false: detect.h (light) */
    detect_config light;
    ensemble_config fullc;
} detector_choice;

/* One NAB file's detector: a state of either kind, on the stack. */
typedef struct nab_detector {
    bool full;
    union {
        detect_state light;
        ensemble_state full;
    } st;
} nab_detector;

static void nab_detector_init(nab_detector *d, const detector_choice *c)
{
    d->full = c->full;
    if (c->full)
        ensemble_init(&d->st.full, &c->fullc);
    else
        detect_init(&d->st.light, &c->light);
}

static double nab_detector_step(nab_detector *d, int64_t t_ms, double v)
{
    return d->full ? ensemble_step(&d->st.full, t_ms, v) : detect_step(&d->st.light, t_ms, v);
}

static int nab_file(const detector_choice *cfg, const char *in, const char *out, long *rejected)
{
    /* opening the output truncates it: never over the input it scores */
    if (outfile_same(in, out)) {
        cli_error("detect", "%s: is the input %s; the scores go to another directory", out, in);
        return -1;
    }
    FILE *fi = fopen(in, "r");
    if (!fi) {
        cli_error("detect", "%s: %s", in, strerror(errno));
        return -1;
    }
    FILE *fo = fopen(out, "w");
    if (!fo) {
        cli_error("detect", "%s: %s", out, strerror(errno));
        fclose(fi);
        return -1;
    }
    nab_detector st;
    nab_detector_init(&st, cfg);
    kpi_csv rd;
    kpi_csv_open(&rd, fi, in, KPI_CSV_NAB);
    kpi_row row;
    jiko_error err;
    int got;
    fputs("timestamp,value,anomaly_score\n", fo);
    while ((got = kpi_csv_next(&rd, &row, &err)) != KPI_CSV_END) {
        if (got == KPI_CSV_FAILED) {
            cli_fail("detect", &err);
            kpi_csv_close(&rd);
            fclose(fi);
            fclose(fo);
            return -1;
        }
        if (got == KPI_CSV_REJECTED) {
            cli_print_error(&err);
            (*rejected)++;
            continue;
        }
        fprintf(fo, "%.*s,%s,%.10f\n", (int)row.time_len, row.time, row.value_text,
                nab_detector_step(&st, row.t_ms, row.value));
    }
    kpi_csv_close(&rd);
    fclose(fi);
    bool bad = ferror(fo) != 0;
    if (fclose(fo) != 0 || bad) {
        cli_error("detect", "%s: cannot write the scores", out);
        return -1;
    }
    return 0;
}

static int detect_nab(const detector_choice *cfg, const char *data, const char *outd, long *rejected)
{
    if (mkdir(outd, 0777) && errno != EEXIST) {
        cli_error("detect", "%s: %s", outd, strerror(errno));
        return -1;
    }
    char **subs = list_dir(data);
    if (!subs) {
        cli_error("detect", "%s: %s", data, strerror(errno));
        return -1;
    }
    int rc = 0, files = 0;
    for (size_t k = 0; subs[k]; k++) {
        if (strcmp(subs[k], "labels") == 0)
            continue;
        char path[NAB_PATH_MAX], opath[NAB_PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", data, subs[k]);
        struct stat sb;
        if (stat(path, &sb) || !S_ISDIR(sb.st_mode))
            continue;
        char **names = list_dir(path);
        snprintf(opath, sizeof opath, "%s/%s", outd, subs[k]);
        if (mkdir(opath, 0777) && errno != EEXIST) {
            cli_error("detect", "%s: %s", opath, strerror(errno));
            rc = -1;
        }
        for (size_t i = 0; names && names[i]; i++) {
            size_t l = strlen(names[i]);
            if (l < 5 || strcmp(names[i] + l - 4, ".csv") != 0)
                continue;
            snprintf(path, sizeof path, "%s/%s/%s", data, subs[k], names[i]);
            snprintf(opath, sizeof opath, "%s/%s/%s", outd, subs[k], names[i]);
            if (nab_file(cfg, path, opath, rejected))
                rc = -1;
            else
                files++;
        }
        free_list(names);
    }
    free_list(subs);
    fprintf(stderr, "jiko detect: %d files scored into %s\n", files, outd);
    return rc;
}

int cmd_detect(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"precision", required_argument, NULL, 'p'},
        {"events", no_argument, NULL, 'e'},       {"threshold", required_argument, NULL, 't'},
        {"nab", required_argument, NULL, 'N'},    {"out", required_argument, NULL, 'o'},
        {"max-series", required_argument, NULL, 'm'},
        {"detector", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    run r = {.events = false, .rejected = 0};
    detector_choice cfg = {.full = false};
    detect_config_default(&cfg.light);
    ensemble_config_default(&cfg.fullc);
    double threshold = 0.0;
    bool threshold_given = false; /* else the chosen detector's own */
    /* full is the default: its figures on categories it was not chosen on
     * are the honest ones; light's were seen while it was tuned
     * (docs/design-detect.md, "Which is the default") */
    const char *detector = "full";
    long max_series = SERIES_MAX_DEFAULT;
    const char *format = "csv", *nab = NULL, *out = NULL, *prec = "ns";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': format = optarg; break;
        case 'p': prec = optarg; break;
        case 'e': r.events = true; break;
        case 't':
            if (cli_opt_double("detect", "--threshold", "a score in (0, 1]", optarg, &threshold))
                return CLI_USAGE;
            threshold_given = true;
            break;
        case 'm':
            if (cli_opt_long("detect", "--max-series", "a series count from 1 to 100000000",
                             optarg, 1, 100000000, &max_series))
                return CLI_USAGE;
            break;
        case 'd': detector = optarg; break;
        case 'N': nab = optarg; break;
        case 'o': out = optarg; break;
        case 'h': help(stdout); return CLI_OK;
        default: help(stderr); return CLI_USAGE;
        }
    }
    if (strcmp(format, "csv") && strcmp(format, "influx")) {
        cli_error("detect", "--format must be csv or influx, not '%s'", format);
        return CLI_USAGE;
    }
    if (strcmp(detector, "full") && strcmp(detector, "light")) {
        cli_error("detect", "--detector must be full or light, not '%s'", detector);
        return CLI_USAGE;
    }
    cfg.full = strcmp(detector, "full") == 0;
    if (!threshold_given)
        threshold = cfg.full ? ENSEMBLE_ALERT_THRESHOLD : DETECT_ALERT_THRESHOLD;
    if (threshold <= 0 || threshold > 1) {
        cli_error("detect", "--threshold must be in (0, 1]");
        return CLI_USAGE;
    }
    ingest_influx_precision p;
    jiko_error err;
    if (ingest_influx_precision_parse(prec, &p, &err)) {
        cli_error("detect", "--precision: %s", err.message);
        return CLI_USAGE;
    }
    if (nab || out) {
        if (!nab || !out || optind != argc) {
            cli_error("detect", "--nab DIR and --out DIR go together, without FILE");
            return CLI_USAGE;
        }
        if (outfile_same(nab, out)) {
            cli_error("detect", "--out %s is the --nab directory: its CSV files would be "
                                "overwritten with their scores", out);
            return CLI_USAGE;
        }
        long rejected = 0;
        int rc = detect_nab(&cfg, nab, out, &rejected);
        return rc ? CLI_IO : rejected ? CLI_REJECTED : CLI_OK;
    }
    const char *name;
    int status;
    FILE *fp = cli_open_operand(argc, argv, "detect", help, &name, &status);
    if (!fp)
        return status;
    series_table_init(&r.tab, &cfg.light, threshold);
    if (cfg.full)
        series_table_use_full(&r.tab, &cfg.fullc);
    r.tab.max = (size_t)max_series;
    int rc = strcmp(format, "csv") == 0 ? detect_csv(&r, fp, name) : detect_influx(&r, fp, name, p);
    if (fp != stdin)
        fclose(fp);
    if (r.events)
        series_table_flush(&r.tab, print_event, NULL);
    series_table_free(&r.tab);
    if (r.refused > 1)
        cli_error("detect", "%ld points of series beyond the first %ld were rejected", r.refused,
                  max_series);
    if (rc)
        return rc;
    return r.rejected ? CLI_REJECTED : CLI_OK;
}
