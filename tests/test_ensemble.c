/*
 * test_ensemble.c — property checks for the full detector, ensemble.c
 * (run under ASan/UBSan and valgrind too): scores in [0, 1], determinism,
 * no look-ahead, a checkpoint by memcpy, hostile values (NaN, inf, huge,
 * time going backwards), a lone wild value that must not blind it to later
 * spikes (issue 13 row 9), flat and stationary series, unit-free scores,
 * the state's size.
 */
#include "ensemble.h"
#include "proptest.h"

#include <math.h>
#include <string.h>

enum { N = 6000 };              /* rows of the reference series */
#define T0 1400000000000LL      /* its first timestamp */
#define STEP 300000LL           /* 5-minute sampling */
#define THR ENSEMBLE_ALERT_THRESHOLD

/* A slow wave with noise, a spike at row 3000 and a shift after row 4000. */
static double gen(uint64_t *rng, long i)
{
    double v = 10.0 + sin((double)i * 0.0218) * 3.0 + urand(rng);
    if (i == 3000) v += 50.0;
    if (i > 4000) v += 8.0;
    return v;
}

/* s, fresh, with the default configuration. */
static void fresh(ensemble_state *s)
{
    ensemble_config c;
    ensemble_config_default(&c);
    ensemble_init(s, &c);
}

static void reference_scores(double *a, double scale, double offset)
{
    ensemble_state s;
    fresh(&s);
    uint64_t rng = 42;
    for (long i = 0; i < N; i++)
        a[i] = ensemble_step(&s, T0 + i * STEP, gen(&rng, i) * scale + offset);
}

static double max_of(const double *a, long from, long to)
{
    double m = 0.0;
    for (long i = from; i < to; i++)
        if (a[i] > m) m = a[i];
    return m;
}

static void test_range_determinism_spike_shift(tcase *t)
{
    static double a[N], b[N];
    reference_scores(a, 1.0, 0.0);
    reference_scores(b, 1.0, 0.0);
    int bad = 0;
    for (long i = 0; i < N; i++) bad += !(a[i] >= 0.0 && a[i] <= 1.0);
    CHECK(bad == 0);
    CHECK(memcmp(a, b, sizeof a) == 0);
    double quiet = max_of(a, 1000, 2990), spike = max_of(a, 3000, 3010),
           shift = max_of(a, 4001, 4100);
    printf("  quiet max %.3f, spike %.3f, shift %.3f (threshold %.3f)\n", quiet, spike, shift, THR);
    CHECK(quiet < THR);
    CHECK(spike >= THR);
    CHECK(shift >= THR);
}

/* Changing the future leaves every earlier score bit-identical. */
static void test_no_lookahead(tcase *t)
{
    ensemble_state s1, s2;
    fresh(&s1);
    fresh(&s2);
    uint64_t r1 = 7, r2 = 7;
    int same = 1;
    for (long i = 0; i < 2500; i++) {
        double v1 = gen(&r1, i), v2 = gen(&r2, i);
        if (i >= 2000) v2 = 1e6; /* a different future for the second copy */
        double a = ensemble_step(&s1, T0 + i * STEP, v1), b = ensemble_step(&s2, T0 + i * STEP, v2);
        if (i < 2000 && a != b) same = 0;
    }
    CHECK(same);
}

/* The live engine checkpoints a state with memcpy: a copy taken mid-stream
 * continues exactly as the original. */
static void test_memcpy_checkpoint(tcase *t)
{
    ensemble_state s, copy;
    fresh(&s);
    uint64_t rng = 11;
    for (long i = 0; i < 3000; i++) ensemble_step(&s, T0 + i * STEP, gen(&rng, i));
    memcpy(&copy, &s, sizeof s);
    uint64_t r2 = rng;
    int same = 1;
    for (long i = 3000; i < N; i++) {
        double v = gen(&rng, i), v2 = gen(&r2, i);
        if (ensemble_step(&s, T0 + i * STEP, v) != ensemble_step(&copy, T0 + i * STEP, v2)) same = 0;
    }
    CHECK(same);
}

/* NaN and inf are missing samples (score 0, state unchanged); huge values
 * and time going backwards give scores in [0, 1]. */
static void test_hostile_values(tcase *t)
{
    ensemble_state s, before;
    fresh(&s);
    uint64_t rng = 3;
    const double hostile[] = {NAN, INFINITY, -INFINITY, 1e308, -1e308, 1e150, -1e300,
                              18446744073709551615.0, 0.0, 5e-324};
    int bad = 0, unchanged = 1;
    for (long i = 0; i < 4000; i++) {
        double v = gen(&rng, i);
        int64_t ts = T0 + i * STEP;
        if (i % 97 == 0) v = hostile[(i / 97) % (sizeof hostile / sizeof hostile[0])];
        if (i % 131 == 0) ts -= 7 * STEP; /* time going backwards */
        if (!isfinite(v)) memcpy(&before, &s, sizeof s);
        double sc = ensemble_step(&s, ts, v);
        bad += !(sc >= 0.0 && sc <= 1.0);
        if (!isfinite(v) && (sc != 0.0 || memcmp(&before, &s, sizeof s) != 0)) unchanged = 0;
    }
    CHECK(bad == 0);
    CHECK(unchanged);
    CHECK(ensemble_evidence(&s, -1) == 0.0 && ensemble_evidence(&s, ENSEMBLE_NMEMBER) == 0.0);
}

/* Spikes of +5 every 400 rows on a series around 10 (noise sd 0.3) after
 * a wild value at row `at` (0: none); returns how many of the 20 reach
 * the threshold, and in *other the alerting rows away from the spikes. */
static int spikes_after_wild(uint64_t seed, long at, double wild, int *other)
{
    ensemble_state s;
    fresh(&s);
    uint64_t rng = seed;
    int hits = 0;
    *other = 0;
    for (long i = 0; i < 1200 + 20 * 400; i++) {
        double v = 10.0 + 0.3 * gauss4(&rng);
        int spike = i >= 1400 && (i - 1400) % 400 == 0 && (i - 1400) / 400 < 20;
        if (spike) v += 5.0;
        if (at && i == at) v = wild;
        double sc = ensemble_step(&s, T0 + i * STEP, v);
        if (spike && sc >= THR) hits++;
        else if (sc >= THR && i != at) (*other)++;
    }
    return hits;
}

/* issue 13 row 9: one sample of 1e4 (or -1e4, 2^64 - 1, 1e300) on a series
 * around 10, at row 1000 or inside the warm-up, must not blind the detector
 * to later spikes: all 20 spikes alert, as without it, on 3 seeds, with at
 * most one more other alerting row (measured: 1, in one of 24 runs). */
static void test_outlier_does_not_blind(tcase *t)
{
    const double wild[] = {1e4, -1e4, 18446744073709551615.0, 1e300};
    const long at[] = {1000, 100};
    int worst = 20, extra = 0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        int o0, o1;
        int base = spikes_after_wild(seed, 0, 0.0, &o0);
        CHECK(base == 20);
        for (size_t w = 0; w < sizeof wild / sizeof wild[0]; w++)
            for (size_t j = 0; j < 2; j++) {
                int hits = spikes_after_wild(seed, at[j], wild[w], &o1);
                if (hits < worst) worst = hits;
                if (o1 - o0 > extra) extra = o1 - o0;
                if (hits != 20) printf("  seed %d at %ld wild %g: %d of 20\n", (int)seed, at[j], wild[w], hits);
                CHECK(hits == 20);
                CHECK(o1 <= o0 + 1);
            }
    }
    printf("  at least %d of 20 spikes after a wild value, %d more other alerting rows\n", worst,
           extra);
}

static void test_flat_series_never_alerts(tcase *t)
{
    ensemble_state s;
    fresh(&s);
    double m = 0.0;
    for (long i = 0; i < 5000; i++) {
        double sc = ensemble_step(&s, T0 + i * STEP, 42.0);
        if (sc > m) m = sc;
    }
    CHECK(m == 0.0);
}

/* Gaussian noise for 8 weeks: at most one alerting row per week after the
 * first week (measured: 0). */
static void test_stationary_noise_quiet(tcase *t)
{
    int worst = 0;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        ensemble_state s;
        fresh(&s);
        uint64_t rng = seed;
        int alerts = 0;
        for (long i = 0; i < 8 * 2016; i++) {
            double sc = ensemble_step(&s, T0 + i * STEP, 100.0 + gauss4(&rng));
            if (i >= 2016 && sc >= THR) alerts++;
        }
        if (alerts > worst) worst = alerts;
    }
    printf("  at most %d alerting rows in 7 weeks of noise (5 seeds)\n", worst);
    CHECK(worst <= 7);
}

/* Scores depend on the series' shape, not its unit or offset. */
static void test_unit_free(tcase *t)
{
    static double a[N], b[N];
    reference_scores(a, 1.0, 0.0);
    const double scale[3] = {1e6, 1e-6, 1.0}, off[3] = {0.0, 0.0, 1e6};
    double worst = 0.0;
    for (int k = 0; k < 3; k++) {
        reference_scores(b, scale[k], off[k]);
        for (long i = 0; i < N; i++)
            if (fabs(a[i] - b[i]) > worst) worst = fabs(a[i] - b[i]);
    }
    printf("  largest score difference x1e6 / x1e-6 / +1e6: %.4f\n", worst);
    CHECK(worst <= 0.01);
}

static void test_state_size(tcase *t)
{
    CHECK(sizeof(ensemble_state) <= ENSEMBLE_STATE_MAX_BYTES);
}

int main(void)
{
    static const struct {
        const char *name;
        void (*run)(tcase *);
    } tests[] = {
        {"range_determinism_spike_shift", test_range_determinism_spike_shift},
        {"no_lookahead", test_no_lookahead},
        {"memcpy_checkpoint", test_memcpy_checkpoint},
        {"hostile_values", test_hostile_values},
        {"outlier_does_not_blind", test_outlier_does_not_blind},
        {"flat_series_never_alerts", test_flat_series_never_alerts},
        {"stationary_noise_quiet", test_stationary_noise_quiet},
        {"unit_free", test_unit_free},
        {"state_size", test_state_size},
    };
    int fails = 0, failed_tests = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        tcase t = {tests[i].name, 0};
        tests[i].run(&t);
        printf("%s %s\n", t.fails ? "FAILED" : "ok    ", t.name);
        fails += t.fails;
        failed_tests += t.fails != 0;
    }
    printf("%s (%d failures in %d tests), sizeof(ensemble_state) = %zu\n", fails ? "FAILED" : "ok",
           fails, failed_tests, sizeof(ensemble_state));
    return fails != 0;
}
