/*
 * detect_bench.c — anomaly detector throughput on a long multi-series stream.
 *
 *   bench_detect [SERIES [POINTS_PER_SERIES]]     (defaults 1000 x 20000)
 *
 * Interleaves SERIES independent series (daily sine + noise + random walk +
 * rare spikes, fixed-seed xorshift), one detect_state each in a contiguous
 * array, 5-minute timestamps, fed in time order as ingest would.  Measured
 * in one run over the same stream:
 *   baseline   an EWMA mean/variance z-score per point (the classic cheap
 *              detector, 24 bytes of state)
 *   detect     detect_step (the light detector, detect.h)
 *   ensemble   ensemble_step (the full detector, ensemble.h)
 * Prints points/s per core, the ratio to the baseline, and bytes of state.
 * The budget of the full detector is 250,000 points/s per core.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "detect.h"
#include "ensemble.h"
#include "bench_util.h"

static double urand(uint64_t *r)
{
    return (double)(bench_rng(r) >> 11) * (1.0 / 9007199254740992.0);
}

typedef struct ewma {
    double m, v, n;
} ewma;

/* The value of series i at point p (same for both runs). */
static double value(double *lvl, long i, long p, const double *noise, unsigned *k)
{
    double day = sin(2.0 * 3.14159265358979 * (double)(p % 288) / 288.0);
    double e = noise[(*k)++ & ((1u << 16) - 1)];
    lvl[i] += 0.05 * e;
    double v = lvl[i] + 8.0 * day + 3.0 * e;
    if (((*k * 2654435761u) >> 20) == 7)
        v += 40.0; /* rare spike */
    return v;
}

/* One detector's step over a state array of stride `size` bytes. */
typedef double (*step_fn)(void *st, int64_t t_ms, double v);

static double step_light(void *st, int64_t t, double v)
{
    return detect_step(st, t, v);
}

static double step_full(void *st, int64_t t, double v)
{
    return ensemble_step(st, t, v);
}

/* Feed the stream to ns states of one detector; returns the seconds taken
 * and adds to *sink and *alerts (so the work cannot be optimised away). */
static double run_detector(step_fn step, unsigned char *st, size_t size, long ns, long np,
                           double *lvl, const double *lvl0, const double *noise, double *sink,
                           long *alerts)
{
    const int64_t t_start = 1400000000000LL;
    for (long i = 0; i < ns; i++)
        lvl[i] = lvl0[i];
    unsigned k = 0;
    double t0 = bench_now_s();
    for (long p = 0; p < np; p++) {
        int64_t t = t_start + p * 300000LL;
        for (long i = 0; i < ns; i++) {
            double s = step(st + (size_t)i * size, t, value(lvl, i, p, noise, &k));
            *sink += s;
            *alerts += s > 0.5;
        }
    }
    return bench_now_s() - t0;
}

int main(int argc, char **argv)
{
    long ns = argc > 1 ? atol(argv[1]) : 1000;
    long np = argc > 2 ? atol(argv[2]) : 20000;
    if (ns < 1 || np < 1)
        return 2;
    uint64_t r = 0x243f6a8885a308d3ULL;
    detect_config cfg;
    detect_config_default(&cfg);
    ensemble_config ecfg;
    ensemble_config_default(&ecfg);
    detect_state *st = malloc((size_t)ns * sizeof *st);
    ensemble_state *est = malloc((size_t)ns * sizeof *est);
    ewma *base = calloc((size_t)ns, sizeof *base);
    double *lvl0 = malloc((size_t)ns * sizeof *lvl0), *lvl = malloc((size_t)ns * sizeof *lvl);
    double *noise = malloc((1u << 16) * sizeof *noise);
    if (!st || !est || !base || !lvl0 || !lvl || !noise)
        return 1;
    for (long i = 0; i < ns; i++) {
        detect_init(&st[i], &cfg);
        ensemble_init(&est[i], &ecfg);
        lvl0[i] = 50.0 + 10.0 * urand(&r);
    }
    for (unsigned i = 0; i < (1u << 16); i++)
        noise[i] = urand(&r) - 0.5;
    double pts = (double)ns * (double)np;

    /* baseline: EWMA z-score */
    for (long i = 0; i < ns; i++)
        lvl[i] = lvl0[i];
    unsigned k = 0;
    double sink_b = 0.0, t0 = bench_now_s();
    for (long p = 0; p < np; p++) {
        for (long i = 0; i < ns; i++) {
            double v = value(lvl, i, p, noise, &k);
            ewma *b = &base[i];
            double d = v - b->m;
            b->m += 0.01 * d;
            b->v = 0.99 * (b->v + 0.01 * d * d);
            b->n++;
            sink_b += b->v > 0 ? fabs(d) / sqrt(b->v) : 0.0;
        }
    }
    double tb = bench_now_s() - t0;

    double sink = 0.0, sink_e = 0.0;
    long alerts = 0, alerts_e = 0;
    double td = run_detector(step_light, (unsigned char *)st, sizeof *st, ns, np, lvl, lvl0, noise,
                             &sink, &alerts);
    double te = run_detector(step_full, (unsigned char *)est, sizeof *est, ns, np, lvl, lvl0,
                             noise, &sink_e, &alerts_e);
    printf("detector benchmark: %ld series x %ld points = %.0f points, one core\n", ns, np, pts);
    printf("%-36s %14s %10s %12s\n", "", "points/s", "ns/point", "state bytes");
    printf("%-36s %14.0f %10.1f %12zu\n", "baseline: EWMA z-score", pts / tb, 1e9 * tb / pts,
           sizeof(ewma));
    printf("%-36s %14.0f %10.1f %12zu  (%.2fx baseline time)\n", "detect_step (light)", pts / td,
           1e9 * td / pts, sizeof(detect_state), td / tb);
    printf("%-36s %14.0f %10.1f %12zu  (%.2fx baseline time)\n", "ensemble_step (full)", pts / te,
           1e9 * te / pts, sizeof(ensemble_state), te / tb);
    printf("alerts > 0.5: %ld light, %ld full; checksums %.3f %.3f %.3f\n", alerts, alerts_e, sink,
           sink_e, sink_b);
    free(st);
    free(est);
    free(base);
    free(lvl0);
    free(lvl);
    free(noise);
    return 0;
}
