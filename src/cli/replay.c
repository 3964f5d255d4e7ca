/*
 * replay.c — `jiko replay`: a recorded KPI file sent to a jiko server as if
 * it were happening now (or as recorded, for back-testing), through the
 * Influx endpoint POST /api/v2/write.
 *
 * The file is read whole and checked first (every bad line reported with
 * its line, and skipped); the lines are then sent in time order, paced at
 * --speed times real time, in batches, with their timestamps shifted by one
 * offset so that the recording ends when the replay does.
 */
#include <curl/curl.h>
#include <errno.h>
#include <strings.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ingest_influx.h"
#include "jst.h"
#include "kpi_csv.h"

#define REPLAY_BATCH_MAX 5000      /* lines per request */
#define REPLAY_SLICE_MS 100        /* lines due within this are sent together */
#define REPLAY_ATTEMPTS 5          /* per request, for transient failures */

static void help(FILE *out)
{
    fputs("usage: jiko replay FILE --to URL --token TOKEN [--speed N] [--as-recorded]\n"
          "                   [--format influx|csv] [--precision ns|us|ms|s]\n"
          "                   [--metric NAME] [--label K=V]... [--quiet]\n"
          "\n"
          "Send a recorded KPI file to a jiko server (POST /api/v2/write, an ingest token)\n"
          "as if it were happening now: its lines in time order, at N times real time,\n"
          "their timestamps shifted so that the recording ends when the replay does —\n"
          "the live engine's countdowns and alarms then run on the wall clock.  With\n"
          "--as-recorded the timestamps are kept, for back-testing: run the server with\n"
          "'[live] clock = samples' so that the engine counts down on the samples' time.\n"
          "Every line is checked before anything is sent; a bad line is reported (file,\n"
          "line, what was expected) and skipped.\n"
          "\n"
          "  --to URL           the server (http://127.0.0.1:8080)\n"
          "  --token TOKEN      an ingest token of the operator (jiko token create --role\n"
          "                     ingest --operator NAME); default $JIKO_TOKEN\n"
          "  --speed N          times real time (default 1); 0 = as fast as it takes them\n"
          "  --as-recorded      keep the recorded timestamps\n"
          "  --format F         influx (line protocol) or csv; default: csv for *.csv files,\n"
          "                     else influx\n"
          "  --precision P      unit of the Influx timestamps in FILE (default ns)\n"
          "  --metric NAME      csv: the series' name (default: the file's name); a\n"
          "                     three-column csv names its series itself\n"
          "  --label K=V        csv: a label of the series (repeatable)\n"
          "  --quiet            no progress on standard error\n"
          "  -h, --help         this help\n"
          "\n"
          "examples:\n"
          "  jiko replay examples/pepabo-2021-08-03.lp --to http://127.0.0.1:8080 --speed 60\n"
          "  jiko replay kpi.csv --metric dns_failure_ratio --label site=tokyo --to URL --speed 0\n"
          "\n"
          "Exit status: 0 every line sent, 1 some lines of FILE rejected (the rest sent),\n"
          "2 usage, 4 FILE unreadable or the server unreachable or refusing the lines.\n",
          out);
}

typedef struct rline {
    int64_t t_ms;
    long line;
    char *text; /* the line without its timestamp */
} rline;

typedef struct recording {
    rline *v;
    size_t n, cap;
    long rejected;
} recording;

static int rec_add(recording *r, int64_t t, long line, const char *text, size_t len)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        rline *v = realloc(r->v, cap * sizeof *v);
        if (!v)
            return -1;
        r->v = v;
        r->cap = cap;
    }
    char *t_copy = strndup(text, len);
    if (!t_copy)
        return -1;
    r->v[r->n++] = (rline){t, line, t_copy};
    return 0;
}

static void rec_free(recording *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].text);
    free(r->v);
}

typedef struct bad_lines {
    unsigned char *bad; /* by line number */
    long n_lines;
    bool quiet_errors;
} bad_lines;

static int on_bad(void *ctx, const ingest_error *e)
{
    bad_lines *b = ctx;
    if (e->e.line > 0 && e->e.line <= b->n_lines)
        b->bad[e->e.line] = 1;
    char msg[ERROR_TEXT_MAX];
    cli_error("replay", "%s", ingest_error_format(e, msg, sizeof msg));
    return 0;
}

static int count_none(void *ctx, const ingest_sample *s)
{
    (void)ctx;
    (void)s;
    return 0;
}

static int64_t to_ms(int64_t t, ingest_influx_precision p)
{
    switch (p) {
    case INGEST_INFLUX_NS: return t >= 0 ? t / 1000000 : -((-t + 999999) / 1000000);
    case INGEST_INFLUX_US: return t >= 0 ? t / 1000 : -((-t + 999) / 1000);
    case INGEST_INFLUX_MS: return t;
    case INGEST_INFLUX_S: return t * 1000;
    }
    return t;
}

/* Influx line protocol: checked whole by the parser (bad lines reported and
 * marked), then each good line split at its timestamp. */
static int read_influx(const char *path, char *text, size_t len, ingest_influx_precision prec,
                       recording *r)
{
    long n_lines = 1;
    for (size_t i = 0; i < len; i++)
        n_lines += text[i] == '\n';
    bad_lines b = {calloc((size_t)n_lines + 2, 1), n_lines, false};
    if (!b.bad)
        return CLI_NOMEM;
    ingest_influx_opts o = ingest_influx_defaults();
    o.source = path;
    o.precision = prec;
    o.on_error = on_bad;
    o.error_ctx = &b;
    ingest_stats st;
    jiko_error err;
    if (ingest_influx_parse(&o, text, len, count_none, NULL, &st, &err) == INGEST_FAILED) {
        free(b.bad);
        return cli_fail("replay", &err);
    }
    r->rejected = (long)st.rejected;
    long ln = 0;
    for (char *p = text, *end = text + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        ln++;
        char *next = nl ? nl + 1 : end;
        while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        size_t lead = 0;
        while (lead < n && (p[lead] == ' ' || p[lead] == '\t'))
            lead++;
        if (n == lead || p[lead] == '#' || b.bad[ln]) {
            p = next;
            continue;
        }
        /* the timestamp is the last token; a line without one has its field
         * set there, which contains '=' */
        size_t sp = n;
        while (sp > lead && p[sp - 1] != ' ')
            sp--;
        char *tail;
        char num[32];
        size_t tl = n - sp;
        long long t = 0;
        bool ok = sp > lead && tl > 0 && tl < sizeof num;
        if (ok) {
            memcpy(num, p + sp, tl);
            num[tl] = '\0';
            t = strtoll(num, &tail, 10);
            ok = *tail == '\0';
        }
        if (!ok) {
            cli_error("replay", "%s:%ld: expected a timestamp at the end of the line: a replay "
                                "needs the time of every sample",
                      path, ln);
            r->rejected++;
            p = next;
            continue;
        }
        size_t keep = sp - 1;
        while (keep > lead && p[keep - 1] == ' ')
            keep--;
        if (rec_add(r, to_ms(t, prec), ln, p + lead, keep - lead)) {
            free(b.bad);
            return CLI_NOMEM;
        }
        p = next;
    }
    free(b.bad);
    return 0;
}

/* A measurement or tag part escaped for line protocol. */
static void escape(char *out, size_t size, const char *s, bool tag)
{
    size_t n = 0;
    for (; *s && n + 2 < size; s++) {
        if (*s == ',' || *s == ' ' || (tag && *s == '='))
            out[n++] = '\\';
        out[n++] = *s;
    }
    out[n] = '\0';
}

static int read_csv(const char *path, FILE *fp, const char *metric, char **labels, int n_labels,
                    recording *r)
{
    kpi_csv in;
    kpi_csv_open(&in, fp, path, KPI_CSV_SERIES);
    kpi_row row;
    jiko_error err;
    char tags[2048] = "";
    size_t tn = 0;
    for (int k = 0; k < n_labels; k++) {
        char *eq = strchr(labels[k], '=');
        char key[256], val[512];
        snprintf(key, sizeof key, "%.*s", (int)(eq - labels[k]), labels[k]);
        escape(key, sizeof key, key, true);
        escape(val, sizeof val, eq + 1, true);
        tn += (size_t)snprintf(tags + tn, sizeof tags - tn, ",%s=%s", key, val);
        if (tn >= sizeof tags)
            tn = sizeof tags - 1;
    }
    int rc;
    while ((rc = kpi_csv_next(&in, &row, &err)) != KPI_CSV_END) {
        if (rc == KPI_CSV_FAILED) {
            kpi_csv_close(&in);
            return cli_fail("replay", &err);
        }
        if (rc == KPI_CSV_REJECTED) {
            cli_fail("replay", &err);
            r->rejected++;
            continue;
        }
        char name[512], text[4096];
        if (row.series)
            snprintf(name, sizeof name, "%.*s", (int)row.series_len, row.series);
        else
            snprintf(name, sizeof name, "%s", metric);
        escape(name, sizeof name, name, false);
        int n = snprintf(text, sizeof text, "%s%s value=%s", name, tags, row.value_text);
        if (n < 0 || (size_t)n >= sizeof text || !isfinite(row.value)) {
            cli_error("replay", "%s:%ld: field 'value': expected a finite number", path, row.line);
            r->rejected++;
            continue;
        }
        if (rec_add(r, row.t_ms, row.line, text, (size_t)n)) {
            kpi_csv_close(&in);
            return CLI_NOMEM;
        }
    }
    kpi_csv_close(&in);
    return 0;
}

static int by_time(const void *a, const void *b)
{
    const rline *x = a, *y = b;
    if (x->t_ms != y->t_ms)
        return x->t_ms < y->t_ms ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

typedef struct sink {
    char *buf;
    size_t len;
} sink;

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
    sink *s = ctx;
    size_t add = size * n;
    if (s->len + add < 4096) {
        memcpy(s->buf + s->len, p, add);
        s->len += add;
        s->buf[s->len] = '\0';
    }
    return add;
}

/* POST one batch; 0, or the exit status with the error said. */
static int post(CURL *c, const char *url, struct curl_slist *hdr, const char *body, size_t len)
{
    char answer[4096] = "";
    sink s = {answer, 0};
    for (int attempt = 1;; attempt++) {
        s.len = 0;
        answer[0] = '\0';
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
        CURLcode rc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (rc == CURLE_OK && status / 100 == 2)
            return 0;
        bool transient = rc != CURLE_OK || status == 429 || status >= 500;
        if (!transient || attempt == REPLAY_ATTEMPTS) {
            if (rc != CURLE_OK)
                cli_error("replay", "%s: %s", url, curl_easy_strerror(rc));
            else
                cli_error("replay", "%s: the server answered %ld: %s", url, status, answer);
            return CLI_IO;
        }
        /* 0.5, 1, 2, 4 s: the server is restarting or busy */
        struct timespec d = {(1L << (attempt - 1)) / 2, ((1L << (attempt - 1)) % 2) * 500000000L};
        nanosleep(&d, NULL);
    }
}

static int send_all(recording *r, const char *base, const char *token, double speed,
                    bool as_recorded, bool quiet)
{
    char url[2048];
    snprintf(url, sizeof url, "%s%s/api/v2/write?precision=ms", base,
             base[0] && base[strlen(base) - 1] == '/' ? "." : "");
    CURL *c = curl_easy_init();
    if (!c)
        return CLI_NOMEM;
    char auth[1024];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    struct curl_slist *hdr = curl_slist_append(NULL, auth);
    hdr = curl_slist_append(hdr, "Content-Type: text/plain; charset=utf-8");
    int64_t first = r->v[0].t_ms, last = r->v[r->n - 1].t_ms;
    int64_t start = jst_now_ms();
    int64_t span = speed > 0 ? (int64_t)((double)(last - first) / speed) : 0;
    /* the recording ends when the replay does */
    int64_t offset = as_recorded ? 0 : start + span - last;
    size_t cap = 1 << 20, blen;
    char *body = malloc(cap);
    int rc = body ? 0 : CLI_NOMEM;
    int64_t said = start;
    for (size_t i = 0; i < r->n && !rc;) {
        int64_t due = speed > 0 ? start + (int64_t)((double)(r->v[i].t_ms - first) / speed) : 0;
        int64_t now = jst_now_ms();
        if (due > now) {
            int64_t wait = due - now;
            struct timespec d = {wait / 1000, (wait % 1000) * 1000000};
            nanosleep(&d, NULL);
        }
        blen = 0;
        size_t j = i;
        for (; j < r->n && j - i < REPLAY_BATCH_MAX; j++) {
            int64_t dj = speed > 0 ? start + (int64_t)((double)(r->v[j].t_ms - first) / speed) : 0;
            if (dj > jst_now_ms() + REPLAY_SLICE_MS)
                break;
            size_t need = strlen(r->v[j].text) + 32;
            if (blen + need > cap) {
                char *g = realloc(body, cap * 2 + need);
                if (!g) {
                    rc = CLI_NOMEM;
                    break;
                }
                body = g;
                cap = cap * 2 + need;
            }
            blen += (size_t)sprintf(body + blen, "%s %lld\n", r->v[j].text,
                                    (long long)(r->v[j].t_ms + offset));
        }
        if (!rc)
            rc = post(c, url, hdr, body, blen);
        i = j;
        if (!quiet && (jst_now_ms() - said >= 1000 || i == r->n)) {
            said = jst_now_ms();
            char t[JST_TEXT_MAX];
            fprintf(stderr, "replay: %zu of %zu lines sent (%.0f%%), at %s\n", i, r->n,
                    100.0 * (double)i / (double)r->n,
                    jst_format(r->v[i - 1].t_ms + offset, t, sizeof t));
        }
    }
    free(body);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    return rc;
}

int cmd_replay(int argc, char **argv)
{
    static const struct option opts[] = {
        {"to", required_argument, NULL, 't'},        {"token", required_argument, NULL, 'k'},
        {"speed", required_argument, NULL, 's'},     {"as-recorded", no_argument, NULL, 'a'},
        {"format", required_argument, NULL, 'f'},    {"precision", required_argument, NULL, 'p'},
        {"metric", required_argument, NULL, 'm'},    {"label", required_argument, NULL, 'l'},
        {"quiet", no_argument, NULL, 'q'},           {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *to = NULL, *token = getenv("JIKO_TOKEN"), *format = NULL, *precision = NULL,
               *metric = NULL;
    char *labels[32];
    int n_labels = 0;
    double speed = 1;
    bool as_recorded = false, quiet = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 't': to = optarg; break;
        case 'k': token = optarg; break;
        case 's':
            if (cli_opt_double("replay", "--speed", "a speed from 0 to 1000000", optarg, &speed))
                return CLI_USAGE;
            if (speed < 0 || speed > 1e6) {
                cli_error("replay", "--speed expects a speed from 0 to 1000000, got '%s'", optarg);
                return CLI_USAGE;
            }
            break;
        case 'a': as_recorded = true; break;
        case 'f': format = optarg; break;
        case 'p': precision = optarg; break;
        case 'm': metric = optarg; break;
        case 'l':
            if (n_labels == 32 || !strchr(optarg, '=') || optarg[0] == '=') {
                cli_error("replay", "--label '%s': expected KEY=VALUE (at most 32)", optarg);
                return CLI_USAGE;
            }
            labels[n_labels++] = optarg;
            break;
        case 'q': quiet = true; break;
        case 'h': help(stdout); return CLI_OK;
        default: help(stderr); return CLI_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_error("replay", optind < argc ? "one FILE only" : "give the recording: jiko replay FILE");
        return CLI_USAGE;
    }
    const char *path = argv[optind];
    if (!to || (strncmp(to, "http://", 7) != 0 && strncmp(to, "https://", 8) != 0)) {
        cli_error("replay", "give --to http://HOST:PORT (the jiko server)");
        return CLI_USAGE;
    }
    if (!token || !*token) {
        cli_error("replay", "give --token TOKEN (an ingest token) or set JIKO_TOKEN");
        return CLI_USAGE;
    }
    size_t pl = strlen(path);
    bool csv = format ? strcmp(format, "csv") == 0
                      : pl > 4 && strcasecmp(path + pl - 4, ".csv") == 0;
    if (format && !csv && strcmp(format, "influx") != 0) {
        cli_error("replay", "--format '%s': expected influx or csv", format);
        return CLI_USAGE;
    }
    ingest_influx_precision prec = INGEST_INFLUX_NS;
    jiko_error err;
    if (precision && ingest_influx_precision_parse(precision, &prec, &err)) {
        cli_error("replay", "--precision: %s", err.message);
        return CLI_USAGE;
    }
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!fp) {
        cli_error("replay", "cannot read %s: %s", path, strerror(errno));
        return CLI_IO;
    }
    recording r = {0};
    int rc;
    char base_metric[256];
    if (csv) {
        if (!metric) { /* the file's name without directory and extension */
            const char *b = strrchr(path, '/');
            snprintf(base_metric, sizeof base_metric, "%s", b ? b + 1 : path);
            char *dot = strrchr(base_metric, '.');
            if (dot)
                *dot = '\0';
            metric = base_metric;
        }
        rc = read_csv(path, fp, metric, labels, n_labels, &r);
    } else {
        size_t cap = 1 << 16, len = 0;
        char *text = malloc(cap);
        size_t got;
        while (text && (got = fread(text + len, 1, cap - len, fp)) > 0) {
            len += got;
            if (len == cap) {
                char *g = realloc(text, cap * 2);
                if (!g) {
                    free(text);
                    text = NULL;
                    break;
                }
                text = g;
                cap *= 2;
            }
        }
        if (!text)
            rc = CLI_NOMEM;
        else if (ferror(fp)) {
            cli_error("replay", "cannot read %s: %s", path, strerror(errno));
            rc = CLI_IO;
        } else
            rc = read_influx(path, text, len, prec, &r);
        free(text);
    }
    if (fp != stdin)
        fclose(fp);
    if (!rc && r.n == 0) {
        cli_error("replay", "%s: no sample to send", path);
        rc = r.rejected ? CLI_REJECTED : CLI_IO;
    }
    if (!rc) {
        qsort(r.v, r.n, sizeof *r.v, by_time);
        if (!quiet)
            fprintf(stderr, "replay: %zu lines from %s (%ld rejected), %s\n", r.n, path,
                    r.rejected,
                    speed > 0 ? "paced" : "as fast as the server takes them");
        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = send_all(&r, to, token, speed, as_recorded, quiet);
        curl_global_cleanup();
    }
    if (!rc && r.rejected)
        rc = CLI_REJECTED;
    rec_free(&r);
    return rc;
}
