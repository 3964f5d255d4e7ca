/*
 * live_engine_bench.c — where a remote_write sample's time goes inside
 * jiko serve, without HTTP: the same bodies as bench/live_send.c (N series,
 * 2,000 samples a body) through
 *   1. the bare detector (detect_step over the same values): the baseline,
 *   2. the remote_write decoder alone (ingest_prom_parse into a sink that
 *      does nothing),
 *   3. decoder and live engine (live_begin, live_feed, live_commit), as an
 *      ingest request runs on a server worker,
 * timed in the thread's CPU time (what a busy machine's other processes do
 * not add to), after a warm-up past the detector's.  Prints ns per sample
 * and each figure as a multiple of the bare detector's.
 *
 * usage: bench_live_engine [SERIES [ROUNDS]]   (default 10000, 60)
 */
#include <jansson.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "detect.h"
#include "engine.h"
#include "ingest_prom.h"
#include "live_conf.h"
#include "remote.pb-c.h"
#include "rules.h"
#include "rw_body.h"

#ifndef JIKO_DATADIR
#define JIKO_DATADIR "."
#endif
#define PER_BODY 2000
#define WARM_ROUNDS 200 /* past the detector's warm-up of 150 rows */

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double value_of(long s, long r)
{
    return 0.01 + 0.0001 * (double)((s * 7 + r * 3) % 5);
}

static double round_value(void *ctx, long s)
{
    return value_of(s, *(const long *)ctx);
}

static int sink_none(void *ctx, const ingest_sample *s)
{
    (void)s;
    (*(long *)ctx)++;
    return 0;
}

typedef struct bodies {
    char **b;
    size_t *len;
    long n;
} bodies;

/* The bodies of rounds [r0, r0 + rounds). */
static bodies make_rounds(long series, long r0, long rounds, int64_t t0)
{
    long per_round = (series + PER_BODY - 1) / PER_BODY;
    bodies x = {calloc((size_t)(per_round * rounds), sizeof(char *)),
                calloc((size_t)(per_round * rounds), sizeof(size_t)), 0};
    if (!x.b || !x.len)
        abort();
    for (long r = r0; r < r0 + rounds; r++)
        for (long f = 0; f < series; f += PER_BODY) {
            long n = series - f < PER_BODY ? series - f : PER_BODY;
            x.b[x.n] = rw_body(f, n, t0 + r * 100, round_value, &r, &x.len[x.n]);
            x.n++;
        }
    return x;
}

static void free_rounds(bodies *x)
{
    for (long i = 0; i < x->n; i++)
        free(x->b[i]);
    free(x->b);
    free(x->len);
}

static double feed_engine(live_engine *e, const bodies *x)
{
    ingest_prom_opts o = ingest_prom_defaults();
    ingest_stats st;
    jiko_error err;
    double t = cpu_s();
    for (long i = 0; i < x->n; i++) {
        live_batch *b = live_begin(e, "Bench ISP");
        if (ingest_prom_parse(&o, x->b[i], x->len[i], live_feed, b, &st, &err) ||
            live_commit(b, NULL, 0, &err)) {
            fprintf(stderr, "bench_live_engine: %s\n", err.message);
            exit(1);
        }
    }
    return cpu_s() - t;
}

int main(int argc, char **argv)
{
    long series = argc > 1 ? atol(argv[1]) : 10000;
    long rounds = argc > 2 ? atol(argv[2]) : 60;
    if (series < 1 || rounds < 1)
        return 2;
    catalog cat;
    rules_set rules;
    jiko_error err;
    if (catalog_load(&cat, JIKO_DATADIR "/catalogs", &err) ||
        rules_load_dir(&rules, JIKO_DATADIR "/rules", &cat, &err)) {
        fprintf(stderr, "bench_live_engine: %s\n", err.message);
        return 3;
    }
    live_conf conf;
    live_conf_default(&conf);
    conf.max_series = (size_t)series + 10;
    live_env env = {&cat, &rules, &conf, NULL, NULL, NULL};
    live_engine *e;
    if (live_engine_new(&e, &env, NULL, 0, &err)) {
        fprintf(stderr, "bench_live_engine: %s\n", err.message);
        return 1;
    }
    int64_t t0 = 1700000000000;
    bodies warm = make_rounds(series, 0, WARM_ROUNDS, t0);
    feed_engine(e, &warm);
    free_rounds(&warm);
    bodies x = make_rounds(series, WARM_ROUNDS, rounds, t0);
    double n = (double)series * (double)rounds;

    /* 1. the bare detector, on states warmed the same way */
    detect_config dc;
    detect_config_default(&dc);
    detect_state *ds = malloc((size_t)series * sizeof *ds);
    if (!ds)
        return 1;
    for (long s = 0; s < series; s++) {
        detect_init(&ds[s], &dc);
        for (long r = 0; r < WARM_ROUNDS; r++)
            detect_step(&ds[s], t0 + r * 100, value_of(s, r));
    }
    double sink = 0, t = cpu_s();
    for (long r = WARM_ROUNDS; r < WARM_ROUNDS + rounds; r++)
        for (long s = 0; s < series; s++)
            sink += detect_step(&ds[s], t0 + r * 100, value_of(s, r));
    double det = (cpu_s() - t) / n * 1e9;
    free(ds);

    /* 2. the decoder alone */
    ingest_prom_opts o = ingest_prom_defaults();
    ingest_stats st;
    long got = 0;
    t = cpu_s();
    for (long i = 0; i < x.n; i++)
        ingest_prom_parse(&o, x.b[i], x.len[i], sink_none, &got, &st, &err);
    double dec = (cpu_s() - t) / n * 1e9;

    /* 3. decoder and engine */
    double eng = feed_engine(e, &x) / n * 1e9;
    live_stats ls;
    live_stats_get(e, &ls);
    printf("live engine, %ld series, %ld rounds of bodies of %d samples (thread CPU time)\n",
           series, rounds, PER_BODY);
    printf("| path | ns/sample | x bare detector |\n|---|---:|---:|\n");
    printf("| bare detector (baseline) | %.0f | 1.00 |\n", det);
    printf("| remote_write decoder alone | %.0f | %.2f |\n", dec, dec / det);
    printf("| decoder + live engine (one ingest request's work) | %.0f | %.2f |\n", eng, eng / det);
    printf("(engine: %zu series; checksum %.3f, %ld samples decoded)\n", ls.series, sink, got);
    free_rounds(&x);
    live_engine_free(e);
    rules_free(&rules);
    catalog_free(&cat);
    return 0;
}
