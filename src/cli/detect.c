/*
 * detect.c — `jiko detect`: score KPI series with the streaming anomaly
 * detector (src/detect.c), from CSV or Influx line protocol, or over a
 * directory laid out like the Numenta Anomaly Benchmark.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "detect.h"
#include "ingest_influx.h"
#include "strmap.h"

static void help(FILE *out)
{
    fprintf(out,
            "usage: jiko detect [--format csv|influx] [--events] [--threshold T] [FILE|-]\n"
            "       jiko detect --nab DIR --out DIR\n"
            "\n"
            "Score KPI series with jiko's streaming anomaly detector: one pass, no\n"
            "look-ahead, about 1 KiB of state per series, the same configuration for\n"
            "every series.  Each point gets an anomaly score in [0, 1].\n"
            "\n"
            "input formats:\n"
            "  csv     'timestamp,value' (one series) or 'series,timestamp,value'; the\n"
            "          header line is optional.  Timestamps: RFC 3339, 'YYYY-MM-DD\n"
            "          HH:MM:SS' (taken as UTC) or Unix seconds / milliseconds.\n"
            "  influx  Influx line protocol; every numeric field is a series named\n"
            "          measurement.field{tags}; timestamps in ns (--precision to change).\n"
            "\n"
            "options:\n"
            "  --format csv|influx  input format (default: csv)\n"
            "  --precision ns|us|ms|s  Influx timestamp unit (default ns)\n"
            "  --events             print anomaly events (JSON Lines: series, start, peak,\n"
            "                       peak score, end) instead of a score per point\n"
            "  --threshold T        score that makes an alert (default %.3f, calibrated\n"
            "                       once for all series)\n"
            "  --nab DIR --out DIR  for every DIR/*/*.csv (except labels/) write OUT/<same\n"
            "                       path> with columns timestamp,value,anomaly_score\n"
            "  -h, --help           this help\n"
            "\n"
            "Output (default): CSV 'series,timestamp,value,anomaly_score' (or\n"
            "'timestamp,value,anomaly_score' for one-series CSV input).  Bad lines are\n"
            "reported as FILE:LINE: ... and skipped.  Exit status: 0 ok, 1 some lines\n"
            "rejected, 2 usage, 4 file error.\n"
            "\n"
            "examples:\n"
            "  jiko detect kpi.csv > scored.csv\n"
            "  jiko detect --format influx --events telegraf.lp\n",
            DETECT_ALERT_THRESHOLD);
}

/* ---- series table -------------------------------------------------------- */

typedef struct series {
    const char *name; /* the map's copy of the key */
    detect_state st;
    detect_events ev;
} series;

/* Every series by name; values are series. */
typedef struct series_map {
    strmap names;
    double threshold;
} series_map;

static series *map_get(series_map *m, const char *name, size_t len, const detect_config *cfg)
{
    void **v = strmap_put(&m->names, name, len, NULL);
    if (!v)
        return NULL;
    if (!*v) { /* new (or its allocation failed before: try again) */
        series *s = malloc(sizeof *s);
        if (!s)
            return NULL;
        s->name = m->names.keys[v - m->names.vals];
        detect_init(&s->st, cfg);
        detect_events_init(&s->ev, m->threshold, 12);
        *v = s;
    }
    return *v;
}

static void map_free(series_map *m)
{
    for (size_t i = 0; i < m->names.cap; i++)
        free(m->names.vals[i]);
    strmap_free(&m->names);
}

static void print_event(const char *name, const detect_event *e)
{
    char a[40], b[40], c[40];
    json_t *o = json_object();
    json_object_set_new(o, "series", json_string(name));
    json_object_set_new(o, "start", json_string(jst_format(e->start_ms, a, sizeof a)));
    json_object_set_new(o, "peak_at", json_string(jst_format(e->peak_ms, b, sizeof b)));
    json_object_set_new(o, "peak_score", json_real(e->peak));
    json_object_set_new(o, "end", json_string(jst_format(e->end_ms, c, sizeof c)));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4));
    if (s)
        puts(s);
    free(s);
    json_decref(o);
}

static void flush_events(series_map *m)
{
    for (size_t i = 0; i < m->names.cap; i++) {
        series *s = m->names.vals[i];
        detect_event e;
        if (s && detect_events_flush(&s->ev, &e))
            print_event(s->name, &e);
    }
}

/* ---- CSV ----------------------------------------------------------------- */

typedef struct run {
    detect_config cfg;
    series_map map;
    bool events;
    long rejected;
} run;

static void score_point(run *r, series *s, int64_t t_ms, double v, const char *label_ts,
                        size_t ts_len, const char *value_txt, size_t v_len, bool with_series)
{
    double sc = detect_step(&s->st, t_ms, v);
    if (r->events) {
        detect_event e;
        if (detect_events_feed(&s->ev, t_ms, sc, &e))
            print_event(s->name, &e);
        return;
    }
    if (with_series)
        printf("%s,", s->name);
    printf("%.*s,%.*s,%.6f\n", (int)ts_len, label_ts, (int)v_len, value_txt, sc);
}

static int detect_csv(run *r, FILE *fp, const char *name)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int cols = 0;
    series *single = NULL;
    while ((n = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        size_t len = cli_chomp(line, (size_t)n);
        if (!len || line[0] == '#')
            continue;
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        int ncol = !c1 ? 1 : !c2 ? 2 : 3;
        if (!cols) {
            cols = ncol;
            if (cols < 2) {
                fprintf(stderr, "%s:%ld: expected 'timestamp,value' or 'series,timestamp,value'\n",
                        name, lineno);
                r->rejected++;
                cols = 0;
                continue;
            }
            if (!r->events)
                puts(cols == 2 ? "timestamp,value,anomaly_score"
                               : "series,timestamp,value,anomaly_score");
            if (strncmp(line, "timestamp,", 10) == 0 || strncmp(line, "series,", 7) == 0)
                continue; /* header */
        }
        if (ncol != cols || (cols == 3 && strchr(c2 + 1, ','))) {
            fprintf(stderr, "%s:%ld: expected %d comma-separated columns\n", name, lineno, cols);
            r->rejected++;
            continue;
        }
        const char *ts = cols == 2 ? line : c1 + 1;
        size_t ts_len = (size_t)((cols == 2 ? c1 : c2) - ts);
        const char *vt = (cols == 2 ? c1 : c2) + 1;
        int64_t t_ms;
        if (!cli_parse_kpi_time(ts, ts_len, &t_ms)) {
            fprintf(stderr,
                    "%s:%ld: field 'timestamp': expected RFC 3339, 'YYYY-MM-DD HH:MM:SS' or Unix "
                    "time, got '%.*s'\n",
                    name, lineno, (int)(ts_len > 40 ? 40 : ts_len), ts);
            r->rejected++;
            continue;
        }
        char *end;
        double v = strtod(vt, &end);
        if (end == vt || *end) {
            fprintf(stderr, "%s:%ld: field 'value': expected a number, got '%.40s'\n", name,
                    lineno, vt);
            r->rejected++;
            continue;
        }
        series *s;
        if (cols == 2) {
            if (!single)
                single = map_get(&r->map, name, strlen(name), &r->cfg);
            s = single;
        } else {
            s = map_get(&r->map, line, (size_t)(c1 - line), &r->cfg);
        }
        if (!s) {
            free(line);
            return -1;
        }
        score_point(r, s, t_ms, v, ts, ts_len, vt, strlen(vt), cols == 3);
    }
    free(line);
    return 0;
}

/* ---- Influx -------------------------------------------------------------- */

static int influx_sink(void *ctx, const ingest_sample *smp)
{
    run *r = ctx;
    /* series name: metric{k=v,...} with the labels in their sorted order */
    char name[2048];
    size_t o = 0;
    o += (size_t)snprintf(name, sizeof name, "%.*s", (int)smp->metric_len, smp->metric);
    for (size_t i = 0; i < smp->n_labels && o < sizeof name; i++)
        o += (size_t)snprintf(name + o, sizeof name - o, "%s%.*s=%.*s", i ? "," : "{",
                              (int)smp->labels[i].name_len, smp->labels[i].name,
                              (int)smp->labels[i].value_len, smp->labels[i].value);
    if (smp->n_labels && o < sizeof name)
        o += (size_t)snprintf(name + o, sizeof name - o, "}");
    if (o >= sizeof name)
        o = sizeof name - 1;
    series *s = map_get(&r->map, name, o, &r->cfg);
    if (!s)
        return 1;
    char ts[40], vt[40];
    jst_format(smp->t_ms, ts, sizeof ts);
    int vl = snprintf(vt, sizeof vt, "%.17g", smp->value);
    score_point(r, s, smp->t_ms, smp->value, ts, strlen(ts), vt, (size_t)vl, true);
    return 0;
}

static int influx_error(void *ctx, const ingest_error *e)
{
    run *r = ctx;
    char buf[1200];
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
        return -1;
    }
    if (!r->events)
        puts("series,timestamp,value,anomaly_score");
    ingest_influx_opts o = ingest_influx_defaults();
    o.source = name;
    o.precision = prec;
    o.on_error = influx_error;
    o.error_ctx = r;
    ingest_stats st;
    jiko_error err;
    char msg[1200];
    int rc = ingest_influx_parse(&o, buf, len, influx_sink, r, &st, &err);
    free(buf);
    if (rc == INGEST_FAILED) {
        cli_error("detect", "%s", error_format(&err, msg, sizeof msg));
        return -1;
    }
    return 0;
}

/* ---- NAB directory ------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

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

static int nab_file(const detect_config *cfg, const char *in, const char *out, long *rejected)
{
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
    detect_state st;
    detect_init(&st, cfg);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    fputs("timestamp,value,anomaly_score\n", fo);
    while ((n = getline(&line, &cap, fi)) >= 0) {
        lineno++;
        size_t len = cli_chomp(line, (size_t)n);
        if (!len || (lineno == 1 && strncmp(line, "timestamp", 9) == 0))
            continue;
        char *comma = strchr(line, ',');
        int64_t ms;
        char *end = NULL;
        double v = comma ? strtod(comma + 1, &end) : 0;
        if (!comma || !cli_parse_kpi_time(line, (size_t)(comma - line), &ms) || end == comma + 1) {
            fprintf(stderr, "%s:%ld: expected 'timestamp,value'\n", in, lineno);
            (*rejected)++;
            continue;
        }
        fprintf(fo, "%.*s,%s,%.10f\n", (int)(comma - line), line, comma + 1,
                detect_step(&st, ms, v));
    }
    free(line);
    fclose(fi);
    return fclose(fo) ? -1 : 0;
}

static int detect_nab(const detect_config *cfg, const char *data, const char *outd, long *rejected)
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
        char path[4096], opath[4096];
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
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    run r;
    memset(&r, 0, sizeof r);
    detect_config_default(&r.cfg);
    r.map.threshold = DETECT_ALERT_THRESHOLD;
    const char *format = "csv", *nab = NULL, *out = NULL, *prec = "ns";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': format = optarg; break;
        case 'p': prec = optarg; break;
        case 'e': r.events = true; break;
        case 't': r.map.threshold = atof(optarg); break;
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
    if (r.map.threshold <= 0 || r.map.threshold > 1) {
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
        long rejected = 0;
        int rc = detect_nab(&r.cfg, nab, out, &rejected);
        return rc ? CLI_IO : rejected ? CLI_REJECTED : CLI_OK;
    }
    if (argc - optind > 1) {
        help(stderr);
        return CLI_USAGE;
    }
    const char *name;
    FILE *fp = cli_open_input(optind < argc ? argv[optind] : "-", "detect", &name);
    if (!fp)
        return CLI_IO;
    int rc = strcmp(format, "csv") == 0 ? detect_csv(&r, fp, name) : detect_influx(&r, fp, name, p);
    if (fp != stdin)
        fclose(fp);
    if (r.events)
        flush_events(&r.map);
    map_free(&r.map);
    if (rc)
        return CLI_IO;
    return r.rejected ? CLI_REJECTED : CLI_OK;
}
