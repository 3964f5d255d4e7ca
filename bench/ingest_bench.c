/*
 * bench_ingest.c — KPI ingest throughput, each format against a baseline
 * measured in the same run on the same bytes.
 *
 * Influx line protocol: a generated stream of N lines (default 400,000;
 * deterministic) from 2,000 hosts: cpu (4 float fields), net (5 integer
 * fields, per interface), mem (2 integers, 1 float), sessions (2 integers, a
 * boolean, a string) — the shape Telegraf sends, with nanosecond timestamps.
 *   baseline  split lines with memchr, strtod/strtoll on every field value
 *             and the timestamp, nothing else (no names, no checks)
 *   ingest    ingest_influx_parse into a sink that only sums the values
 * remote_write: the same kind of series as Prometheus' node_exporter and
 * kube-style pods produce (4–9 labels, one sample each), in bodies of
 * 2,000 samples (Prometheus' default max_samples_per_send), snappy-compressed.
 *   baseline  snappy_uncompress + protobuf-c unpack (default allocator) +
 *             free, no conversion into samples
 *   ingest    ingest_prom_parse into the same summing sink
 * Each stage runs 5 times, interleaved; the best run is reported as
 * samples/s with the ratio to its baseline (higher is faster).
 * usage: bench_ingest [N_INFLUX_LINES] [N_PROM_BODIES]
 */
#include <snappy-c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest_influx.h"
#include "ingest_prom.h"
#include "remote.pb-c.h"
#include "bench_util.h"
#include "rw_body.h"

typedef struct sums {
    double total;
    size_t n, bytes;
} sums;

/* The cheapest sink that still reads what it is given. */
static int sum_sink(void *ctx, const ingest_sample *s)
{
    sums *m = ctx;
    m->total += s->value;
    m->bytes += s->metric_len + s->n_labels;
    m->n++;
    return 0;
}

/* ---- Influx ---- */

static char *gen_influx(size_t lines, size_t *len)
{
    size_t cap = lines * 260 + 1;
    char *buf = malloc(cap);
    if (!buf)
        abort();
    uint64_t s = 0x9e3779b97f4a7c15ull;
    size_t n = 0;
    int64_t t = 1700000000000000000LL;
    static const char *const regions[] = {"tokyo", "osaka", "nagoya", "fukuoka", "sapporo"};
    for (size_t i = 0; i < lines; i++) {
        unsigned host = (unsigned)(bench_rng(&s) % 2000);
        const char *region = regions[host % 5];
        if (i % 2000 == 0)
            t += 10000000000LL; /* a new 10 s scrape round */
        int k;
        switch (bench_rng(&s) % 4) {
        case 0:
            k = snprintf(buf + n, cap - n,
                         "cpu,cpu=cpu-total,host=edge-%04u,region=%s usage_user=%.2f,"
                         "usage_system=%.2f,usage_idle=%.2f,usage_iowait=%.3f %lld\n",
                         host, region, (double)(bench_rng(&s) % 10000) / 100,
                         (double)(bench_rng(&s) % 3000) / 100, (double)(bench_rng(&s) % 10000) / 100,
                         (double)(bench_rng(&s) % 1000) / 1000, (long long)t);
            break;
        case 1:
            k = snprintf(buf + n, cap - n,
                         "net,host=edge-%04u,interface=eth%u,region=%s bytes_recv=%llui,"
                         "bytes_sent=%llui,packets_recv=%llui,err_in=%ui,drop_in=%ui %lld\n",
                         host, (unsigned)(bench_rng(&s) % 4), region,
                         (unsigned long long)(bench_rng(&s) % 100000000000ull),
                         (unsigned long long)(bench_rng(&s) % 100000000000ull),
                         (unsigned long long)(bench_rng(&s) % 1000000000ull), (unsigned)(bench_rng(&s) % 3),
                         (unsigned)(bench_rng(&s) % 10), (long long)t);
            break;
        case 2:
            k = snprintf(buf + n, cap - n,
                         "mem,host=edge-%04u,region=%s used=%llui,available=%llui,"
                         "used_percent=%.4f %lld\n",
                         host, region, (unsigned long long)(bench_rng(&s) % 64000000000ull),
                         (unsigned long long)(bench_rng(&s) % 64000000000ull),
                         (double)(bench_rng(&s) % 1000000) / 10000, (long long)t);
            break;
        default:
            k = snprintf(buf + n, cap - n,
                         "sessions,bng=bng-%02u,host=edge-%04u,region=%s active=%ui,"
                         "limit=64000i,healthy=%s,state=\"%s\" %lld\n",
                         host % 40, host, region, (unsigned)(bench_rng(&s) % 64000),
                         bench_rng(&s) % 50 ? "true" : "false", bench_rng(&s) % 50 ? "ok" : "degraded",
                         (long long)t);
            break;
        }
        n += (size_t)k;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The baseline: what any reader of these bytes must at least do. */
static size_t influx_baseline(const char *buf, size_t len, double *total)
{
    size_t values = 0;
    const char *p = buf, *endb = buf + len;
    while (p < endb) {
        const char *nl = memchr(p, '\n', (size_t)(endb - p));
        const char *e = nl ? nl : endb;
        const char *sp = memchr(p, ' ', (size_t)(e - p));
        if (sp) {
            const char *q = sp + 1;
            for (;;) {
                const char *eq = memchr(q, '=', (size_t)(e - q));
                if (!eq)
                    break;
                char *end;
                double v = strtod(eq + 1, &end);
                if (end != eq + 1) {
                    *total += v;
                    values++;
                }
                while (end < e && *end != ',' && *end != ' ')
                    end++;
                if (end >= e || *end == ' ') {
                    if (end < e)
                        *total += (double)strtoll(end + 1, NULL, 10);
                    break;
                }
                q = end + 1;
            }
        }
        p = e + 1;
    }
    return values;
}

/* ---- remote_write ---- */

typedef struct body {
    char *data;
    size_t len;
} body;

static body *gen_prom(size_t nbodies, size_t per_body, size_t *raw_total)
{
    body *b = calloc(nbodies, sizeof *b);
    Prometheus__TimeSeries *ts = calloc(per_body, sizeof *ts);
    Prometheus__TimeSeries **tsp = calloc(per_body, sizeof *tsp);
    Prometheus__Label *lab = calloc(per_body * 9, sizeof *lab);
    Prometheus__Label **labp = calloc(per_body * 9, sizeof *labp);
    Prometheus__Sample *sam = calloc(per_body, sizeof *sam);
    Prometheus__Sample **samp = calloc(per_body, sizeof *samp);
    char (*text)[9][48] = calloc(per_body, sizeof *text);
    if (!b || !ts || !tsp || !lab || !labp || !sam || !samp || !text)
        abort();
    uint64_t s = 0x2545f4914f6cdd1dull;
    int64_t t = 1700000000000LL;
    *raw_total = 0;
    static const char *const modes[] = {"idle", "user", "system", "iowait", "irq", "steal"};
    for (size_t bi = 0; bi < nbodies; bi++) {
        size_t li = 0;
        for (size_t i = 0; i < per_body; i++) {
            prometheus__time_series__init(&ts[i]);
            tsp[i] = &ts[i];
            ts[i].labels = &labp[li];
            const char *kv[18];
            size_t nkv = 0;
            unsigned host = (unsigned)(bench_rng(&s) % 2000);
            switch (bench_rng(&s) % 3) {
            case 0:
                snprintf(text[i][0], 48, "%u", (unsigned)(bench_rng(&s) % 32));
                snprintf(text[i][1], 48, "edge-%04u:9100", host);
                kv[nkv++] = "__name__", kv[nkv++] = "node_cpu_seconds_total";
                kv[nkv++] = "cpu", kv[nkv++] = text[i][0];
                kv[nkv++] = "instance", kv[nkv++] = text[i][1];
                kv[nkv++] = "job", kv[nkv++] = "node";
                kv[nkv++] = "mode", kv[nkv++] = modes[bench_rng(&s) % 6];
                break;
            case 1:
                snprintf(text[i][0], 48, "eth%u", (unsigned)(bench_rng(&s) % 4));
                snprintf(text[i][1], 48, "edge-%04u:9100", host);
                kv[nkv++] = "__name__", kv[nkv++] = "node_network_receive_bytes_total";
                kv[nkv++] = "device", kv[nkv++] = text[i][0];
                kv[nkv++] = "instance", kv[nkv++] = text[i][1];
                kv[nkv++] = "job", kv[nkv++] = "node";
                break;
            default:
                snprintf(text[i][0], 48, "bng-%02u-7d9f8c6b5-%05u", host % 40,
                         (unsigned)(bench_rng(&s) % 100000));
                snprintf(text[i][1], 48, "10.%u.%u.%u:8080", host / 250, host % 250,
                         (unsigned)(bench_rng(&s) % 250));
                kv[nkv++] = "__name__", kv[nkv++] = "bng_subscriber_sessions";
                kv[nkv++] = "container", kv[nkv++] = "bng";
                kv[nkv++] = "instance", kv[nkv++] = text[i][1];
                kv[nkv++] = "job", kv[nkv++] = "kubernetes-pods";
                kv[nkv++] = "namespace", kv[nkv++] = "access";
                kv[nkv++] = "node", kv[nkv++] = "worker-07";
                kv[nkv++] = "pod", kv[nkv++] = text[i][0];
                kv[nkv++] = "region", kv[nkv++] = "tokyo";
                break;
            }
            for (size_t k = 0; k < nkv; k += 2) {
                prometheus__label__init(&lab[li]);
                lab[li].name = (char *)kv[k];
                lab[li].value = (char *)kv[k + 1];
                labp[li] = &lab[li];
                li++;
                ts[i].n_labels++;
            }
            prometheus__sample__init(&sam[i]);
            sam[i].value = (double)(bench_rng(&s) % 100000000) / 100;
            sam[i].timestamp = t + (int64_t)(bench_rng(&s) % 15000);
            samp[i] = &sam[i];
            ts[i].samples = &samp[i];
            ts[i].n_samples = 1;
        }
        t += 15000;
        Prometheus__WriteRequest wr = PROMETHEUS__WRITE_REQUEST__INIT;
        wr.n_timeseries = per_body;
        wr.timeseries = tsp;
        size_t rl;
        b[bi].data = rw_pack(&wr, &b[bi].len, &rl);
        *raw_total += rl;
    }
    free(ts);
    free(tsp);
    free(lab);
    free(labp);
    free(sam);
    free(samp);
    free(text);
    return b;
}

static size_t prom_baseline(const body *b, size_t nb, char *scratch, size_t cap, double *total)
{
    size_t samples = 0;
    for (size_t i = 0; i < nb; i++) {
        size_t rl = cap;
        if (snappy_uncompress(b[i].data, b[i].len, scratch, &rl) != SNAPPY_OK)
            abort();
        Prometheus__WriteRequest *wr =
            prometheus__write_request__unpack(NULL, rl, (const uint8_t *)scratch);
        if (!wr)
            abort();
        for (size_t k = 0; k < wr->n_timeseries; k++)
            samples += wr->timeseries[k]->n_samples;
        *total += (double)wr->n_timeseries;
        prometheus__write_request__free_unpacked(wr, NULL);
    }
    return samples;
}

int main(int argc, char **argv)
{
    size_t nlines = argc > 1 ? strtoul(argv[1], NULL, 10) : 400000;
    size_t nbodies = argc > 2 ? strtoul(argv[2], NULL, 10) : 200;
    const size_t per_body = 2000;
    enum { RUNS = 5 };

    size_t ilen;
    char *ibuf = gen_influx(nlines, &ilen);
    size_t raw_total;
    body *bodies = gen_prom(nbodies, per_body, &raw_total);
    size_t ctotal = 0;
    for (size_t i = 0; i < nbodies; i++)
        ctotal += bodies[i].len;
    char *scratch = malloc(INGEST_PROM_MAX_BODY);
    if (!scratch)
        abort();
    printf("influx: %zu lines, %.1f MB\n", nlines, (double)ilen / 1e6);
    printf("remote_write: %zu bodies x %zu samples, %.1f MB snappy (%.1f MB protobuf)\n", nbodies,
           per_body, (double)ctotal / 1e6, (double)raw_total / 1e6);

    double best[4] = {1e9, 1e9, 1e9, 1e9};
    size_t count[4] = {0};
    double sink_total = 0;
    for (int r = 0; r < RUNS; r++) {
        double t0 = bench_now_s();
        count[0] = influx_baseline(ibuf, ilen, &sink_total);
        double t1 = bench_now_s();
        sums m = {0};
        ingest_influx_opts io = ingest_influx_defaults();
        ingest_stats st;
        jiko_error err;
        if (ingest_influx_parse(&io, ibuf, ilen, sum_sink, &m, &st, &err) || st.rejected)
            abort();
        count[1] = m.n;
        double t2 = bench_now_s();
        count[2] = prom_baseline(bodies, nbodies, scratch, INGEST_PROM_MAX_BODY, &sink_total);
        double t3 = bench_now_s();
        sums pm = {0};
        ingest_prom_opts po = ingest_prom_defaults();
        for (size_t i = 0; i < nbodies; i++)
            if (ingest_prom_parse(&po, bodies[i].data, bodies[i].len, sum_sink, &pm, &st, &err) ||
                st.rejected)
                abort();
        count[3] = pm.n;
        double t4 = bench_now_s();
        double d[4] = {t1 - t0, t2 - t1, t3 - t2, t4 - t3};
        for (int k = 0; k < 4; k++)
            if (d[k] < best[k])
                best[k] = d[k];
        sink_total += m.total + pm.total + (double)(m.bytes + pm.bytes);
    }
    /* The baseline counts only values strtod accepts (not booleans or
     * strings), so compare samples/s on the samples each produced. */
    static const char *const names[] = {
        "influx baseline: memchr lines + strtod values", "influx ingest_influx_parse",
        "remote_write baseline: snappy + protobuf-c unpack", "remote_write ingest_prom_parse"};
    printf("\n%-52s %14s %12s %10s\n", "stage (best of 5)", "samples/s", "MB/s in", "vs base");
    for (int k = 0; k < 4; k++) {
        double rate = (double)count[k] / best[k];
        double base = (double)count[k & ~1] / best[k & ~1];
        double mb = (k < 2 ? (double)ilen : (double)ctotal) / best[k] / 1e6;
        printf("%-52s %14.0f %12.1f %9.2fx\n", names[k], rate, mb, rate / base);
    }
    printf("\n(samples: influx baseline %zu, ingest %zu; remote_write %zu, %zu; checksum %g)\n",
           count[0], count[1], count[2], count[3], sink_total);
    for (size_t i = 0; i < nbodies; i++)
        free(bodies[i].data);
    free(bodies);
    free(ibuf);
    free(scratch);
    return 0;
}
