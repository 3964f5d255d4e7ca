/*
 * bench_forecast.c — forecaster throughput on many series, one core.
 *
 * S series (default 4096) of P points (default 2048), states in one
 * contiguous array, fed round-robin in time order as ingest would.  Measured
 * in one run over the same generated data:
 *   baseline   a plain EWMA update per point (the cheapest useful detector)
 *   step       forecast_step per point
 *   step+eval  forecast_step and forecast_eval per point (worst case: an
 *              engine that asks for a forecast after every sample)
 * for two sampling intervals (10 s: fast scales close a bucket often; 60 s).
 * Prints points/s and the ratio to the baseline, and sizeof(forecast_state).
 * usage: bench_forecast [S] [P]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "forecast.h"
#include "bench_util.h"

int main(int argc, char **argv)
{
    long S = argc > 1 ? atol(argv[1]) : 4096, P = argc > 2 ? atol(argv[2]) : 2048;
    if (S < 1 || P < 1) {
        fprintf(stderr, "usage: bench_forecast [series] [points]\n");
        return 2;
    }
    float *data = malloc(sizeof *data * (size_t)(S * P));
    forecast_state *st = malloc(sizeof *st * (size_t)S);
    double *ewma = malloc(sizeof *ewma * (size_t)S);
    if (!data || !st || !ewma)
        return 1;
    /* Gauges at 30-80 % of the limit, a slow random trend each, uniform noise. */
    uint64_t seed = 42;
    for (long i = 0; i < S; i++) {
        double base = 30 + (double)(bench_rng(&seed) % 50), slope = (double)(bench_rng(&seed) % 100) / 1e4;
        for (long p = 0; p < P; p++)
            data[p * S + i] = (float)(base + slope * (double)p +
                                      (double)(bench_rng(&seed) % 1000) / 500.0 - 1.0);
    }
    printf("sizeof(forecast_state) = %zu bytes; %ld series x %ld points\n", sizeof(forecast_state),
           S, P);
    static const int64_t steps[2] = {10000, 60000};
    double sink = 0;
    for (int si = 0; si < 2; si++) {
        int64_t step = steps[si], t0 = 1632495600000LL;
        /* baseline */
        for (long i = 0; i < S; i++)
            ewma[i] = data[i];
        double a = bench_now_s();
        for (long p = 0; p < P; p++) {
            const float *row = data + p * S;
            for (long i = 0; i < S; i++)
                ewma[i] += 0.1 * (row[i] - ewma[i]);
        }
        double t_base = bench_now_s() - a;
        for (long i = 0; i < S; i++)
            sink += ewma[i];
        /* step */
        for (long i = 0; i < S; i++)
            forecast_init(&st[i], NULL, 100.0, NULL);
        a = bench_now_s();
        for (long p = 0; p < P; p++) {
            const float *row = data + p * S;
            int64_t t = t0 + p * step;
            for (long i = 0; i < S; i++)
                forecast_step(&st[i], t, row[i]);
        }
        double t_step = bench_now_s() - a;
        /* step + eval */
        for (long i = 0; i < S; i++)
            forecast_init(&st[i], NULL, 100.0, NULL);
        long warns = 0;
        a = bench_now_s();
        for (long p = 0; p < P; p++) {
            const float *row = data + p * S;
            int64_t t = t0 + p * step;
            for (long i = 0; i < S; i++) {
                forecast_result r;
                forecast_step(&st[i], t, row[i]);
                forecast_eval(&st[i], t, &r);
                warns += r.warn;
            }
        }
        double t_eval = bench_now_s() - a;
        double n = (double)S * (double)P;
        printf("sampling every %2llds:\n", (long long)(step / 1000));
        printf("  baseline EWMA  %12.0f points/s  ratio 1.00\n", n / t_base);
        printf("  forecast_step  %12.0f points/s  ratio %.4f = %.0fx the baseline cost "
               "(%.1f ns/point)\n",
               n / t_step, t_base / t_step, t_step / t_base, 1e9 * t_step / n);
        printf("  step+eval      %12.0f points/s  ratio %.4f = %.0fx the baseline cost "
               "(%.1f ns/point; %ld warnings)\n",
               n / t_eval, t_base / t_eval, t_eval / t_base, 1e9 * t_eval / n, warns);
    }
    if (sink == 42.0)
        printf("\n");
    free(data);
    free(st);
    free(ewma);
    return 0;
}
