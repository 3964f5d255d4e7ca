/*
 * test_telecom.c — both detectors (light: detect.h, full: ensemble.h) on
 * generated series from telecom operations, each with its own seed:
 *
 *   ramp      memory of a session server leaking 2 % an hour until full
 *   storm     a retry storm: 10 % extra load that feeds itself (+2 % per
 *             5 minutes) up to four times the normal load
 *   shift     traffic falls by 30 % and stays there (a lost route)
 *   weekly    daily and weekly load, nothing else (false alarms only)
 *   gaps      irregular sampling (1 to 9 minutes) with a 2-hour gap every
 *             two days; an outage (load at 5 %) for one hour
 *   reset     a cumulative counter that restarts from 0 (a process restart)
 *   holiday   a Wednesday that has a Sunday's load
 *
 * Five weeks of normal load (5-minute sampling, a daily shape with its
 * evening peak and a weekend shape), then the event on the Wednesday of week
 * 5 at 10:00.  For each detector: caught (an alert at or above its
 * threshold within a day of the onset), how many minutes after the onset,
 * and the alerts per week over weeks 2 to 5 before the onset.  The table is
 * printed (docs/design-detect.md quotes it) and each figure is held to the
 * bound in `expect` below, so a regression fails.
 */
#include "detect.h"
#include "ensemble.h"
#include "proptest.h"

#include <math.h>
#include <string.h>

#define T0 1704067200000LL   /* 2024-01-01 00:00 UTC, a Monday */
#define MIN_MS 60000LL
#define DAY_MS 86400000LL
#define WEEK_MS (7 * DAY_MS)
#define STEP_MS (5 * MIN_MS)
#define WEEKS 6
/* the onset: Wednesday of week 5, 10:00 */
#define ONSET_MS (T0 + 4 * WEEK_MS + 2 * DAY_MS + 10 * 60 * MIN_MS)

enum { RAMP, STORM, SHIFT, WEEKLY, GAPS, RESET, HOLIDAY, NSCEN };
static const char *const scen_name[NSCEN] = {"ramp", "storm", "shift", "weekly",
                                             "gaps", "reset", "holiday"};

/* Normal load at t: a daily shape (trough at 04:00, evening peak at 21:00)
 * scaled for weekends, each day's level within +-5 %, 4 % noise and, on
 * one sample in 500, a burst of +25 % (a flash crowd, a batch job): the
 * ordinary roughness that must not page anyone.  `sunday` forces a
 * Sunday's shape. */
static double load(uint64_t *rng, int64_t t_ms, int sunday)
{
    int64_t rel = t_ms - T0;
    int dow = (int)((rel / DAY_MS) % 7); /* 0 = Monday */
    double h = (double)(rel % DAY_MS) / (60.0 * MIN_MS);
    int weekend = sunday || dow >= 5;
    double day = 0.55 + 0.45 * exp(-pow((h - 21.0) / 4.0, 2)) + 0.25 * exp(-pow((h - 12.5) / 2.5, 2)) -
                 0.3 * exp(-pow((h - 4.0) / 2.5, 2));
    double wk = weekend ? 0.8 + 0.2 * exp(-pow((h - 15.0) / 3.0, 2)) : 1.0;
    uint64_t dr = 0x9e3779b97f4a7c15ULL * (uint64_t)(rel / DAY_MS + 1);
    double level = 0.95 + 0.1 * urand(&dr);
    double burst = urand(rng) < 0.002 ? 1.25 : 1.0;
    return 1000.0 * day * wk * level * burst * (1.0 + 0.04 * gauss4(rng));
}

/* The value of scenario k at time t (rows in time order). */
typedef struct gen {
    uint64_t rng;
    double extra;   /* the retry storm's extra load */
    double counter; /* the reset scenario's cumulative counter */
    int64_t prev_ms;
} gen;

static double value(gen *g, int k, int64_t t)
{
    int after = t >= ONSET_MS;
    double hours = (double)(t - ONSET_MS) / (60.0 * MIN_MS);
    switch (k) {
    case RAMP: {
        double h = (double)((t - T0) % DAY_MS) / (60.0 * MIN_MS);
        double v = 40.0 + 5.0 * sin(2.0 * 3.14159265358979 * (h - 9.0) / 24.0) + 0.5 * gauss4(&g->rng);
        if (after) v += 2.0 * hours;
        return v > 100.0 ? 100.0 : v;
    }
    case STORM: {
        double l = load(&g->rng, t, 0);
        if (after) {
            g->extra = g->extra == 0.0 ? 0.1 : g->extra * 1.02;
            if (g->extra > 3.0) g->extra = 3.0;
        }
        return l * (1.0 + g->extra);
    }
    case SHIFT: return load(&g->rng, t, 0) * (after ? 0.7 : 1.0);
    case GAPS: return load(&g->rng, t, 0) * (after && hours < 1.0 ? 0.05 : 1.0);
    case RESET: {
        double l = load(&g->rng, t, 0);
        if (t >= ONSET_MS && g->prev_ms < ONSET_MS) g->counter = 0.0;
        else g->counter += l * (double)(t - g->prev_ms) / 1000.0;
        g->prev_ms = t;
        return g->counter;
    }
    case HOLIDAY: return load(&g->rng, t, after && hours < 14.0);
    default: return load(&g->rng, t, 0);
    }
}

/* The next sampling time: every 5 minutes, or for GAPS 1 to 9 minutes
 * with a 2-hour gap every two days. */
static int64_t next_time(gen *g, int k, int64_t t)
{
    if (k != GAPS) return t + STEP_MS;
    int64_t nt = t + MIN_MS + (int64_t)(urand(&g->rng) * 8.0 * (double)MIN_MS);
    if ((nt - T0) / (2 * DAY_MS) != (t - T0) / (2 * DAY_MS)) nt += 2 * 60 * MIN_MS;
    return nt;
}

typedef struct result {
    int caught;
    double delay_min; /* minutes from the onset to the first alert */
    double fp_week;   /* alerts per week, weeks 2 to 5 before the onset */
    int after;        /* alerts in the 3 days after the first (reset: re-alerts) */
} result;

/* Run detector d (0 light, 1 full) over scenario k with seed `seed`. */
static result run(int d, int k, uint64_t seed)
{
    detect_config lc;
    detect_config_default(&lc);
    ensemble_config fc;
    ensemble_config_default(&fc);
    static detect_state ls;
    static ensemble_state fs;
    detect_init(&ls, &lc);
    ensemble_init(&fs, &fc);
    double thr = d ? ENSEMBLE_ALERT_THRESHOLD : DETECT_ALERT_THRESHOLD;
    gen g = {.rng = seed, .prev_ms = T0};
    result r = {0, -1.0, 0.0, 0};
    int fp = 0;
    int64_t first = -1;
    for (int64_t t = T0; t < T0 + WEEKS * WEEK_MS; t = next_time(&g, k, t)) {
        double v = value(&g, k, t);
        double sc = d ? ensemble_step(&fs, t, v) : detect_step(&ls, t, v);
        if (sc < thr) continue;
        if (t >= T0 + WEEK_MS && t < ONSET_MS) fp++;
        if (t >= ONSET_MS && t < ONSET_MS + DAY_MS && first < 0) first = t;
        if (first >= 0 && t > first && t < first + 3 * DAY_MS) r.after++;
    }
    r.fp_week = fp / ((double)(ONSET_MS - T0 - WEEK_MS) / (double)WEEK_MS);
    if (first >= 0 && k != WEEKLY) {
        r.caught = 1;
        r.delay_min = (double)(first - ONSET_MS) / (double)MIN_MS;
    }
    return r;
}

#define SEEDS 3

/* What each detector must keep doing, per scenario: catch at least this many
 * of the SEEDS runs, its latest first alert (minutes after the onset), the
 * most alerts per normal week (mean over the seeds).  Set from the measured
 * table (docs/design-detect.md) with a margin: delay +50 % and 15 minutes,
 * alerts +0.5 a week. */
static const struct {
    int caught_min;
    double delay_max, fp_max;
} expect[2][NSCEN] = {
    /* light: ramp, storm, shift, weekly, gaps, reset, holiday */
    {{3, 90, 0.5}, {3, 758, 0.5}, {0, 0, 0.5}, {0, 0, 0.5}, {3, 51, 0.5}, {3, 15, 0.5}, {0, 0, 0.5}},
    /* full */
    {{3, 83, 0.5}, {3, 593, 0.5}, {3, 113, 0.5}, {0, 0, 0.5}, {3, 47, 0.5}, {3, 15, 0.5}, {0, 0, 0.5}},
};

static void test_telecom_series(tcase *t)
{
    printf("  %d seeds per series; caught, latest first alert after the onset, alerts per normal\n"
           "  week (weeks 2-5), alerts in the 3 days after the first\n", SEEDS);
    printf("  %-8s | %-36s | %-36s\n", "series", "light", "full");
    for (int k = 0; k < NSCEN; k++) {
        printf("  %-8s", scen_name[k]);
        for (int d = 0; d < 2; d++) {
            int caught = 0, after = 0;
            double worst = 0.0, fp = 0.0;
            for (uint64_t sd = 0; sd < SEEDS; sd++) {
                result r = run(d, k, 1000 + 10 * (uint64_t)k + sd);
                caught += r.caught;
                if (r.caught && r.delay_min > worst) worst = r.delay_min;
                fp += r.fp_week / SEEDS;
                after += r.after;
            }
            printf(" | %d/%d %5.0f min %4.2f/wk +%d after", caught, SEEDS, worst, fp, after);
            CHECK(caught >= expect[d][k].caught_min);
            if (expect[d][k].caught_min > 0) CHECK(worst <= expect[d][k].delay_max);
            CHECK(fp <= expect[d][k].fp_max);
        }
        printf("\n");
    }
}

int main(void)
{
    tcase t = {"telecom_series", 0};
    test_telecom_series(&t);
    printf("%s %s\n", t.fails ? "FAILED" : "ok    ", t.name);
    return t.fails != 0;
}
