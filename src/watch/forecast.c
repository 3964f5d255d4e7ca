/*
 * forecast.c — streaming capacity-exhaustion forecaster (see forecast.h for
 * the method; docs/watch.md for what it achieves on the test series).
 *
 * All arithmetic is on fractions of the limit, so one set of thresholds fits
 * bytes, sessions and buffers alike, and the ring can hold floats.
 */
#include "forecast.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jst.h"

#define MS_PER_HOUR ((double)JST_MS_PER_HOUR)
#define MS_PER_SEC 1000
#define MS_PER_MIN (60 * MS_PER_SEC)
#define SEC_PER_MIN 60
#define SEC_PER_HOUR 3600
#define SEC_PER_DAY 86400
#define HOURS_PER_DAY 24

/* Where in its bucket a value was seen is kept as a uint16 fraction. */
#define BUCKET_POS_SCALE 65535.0f
/* Residuals beyond this many sigma are clipped before the refit. */
#define CLIP_SIGMA 2.5
/* Bucket closes in a row are counted up to here (only "at least
 * confirm[k]" matters; the cap keeps the counter from overflowing). */
#define STREAK_MAX 1000
/* Rate of the short EWMA that a drop is compared with to tell a reset. */
#define RESET_EWMA_RATE 0.3f
/* Week over week: the last two weeks of daily peaks, each week needing at
 * least WEEK_MIN_DAYS of them. */
#define DAYS_PER_WEEK 7
#define WEEK_MIN_DAYS 5
/* A seasonally adjusted fit spanning at least this many hours starts from
 * the recent daily peak rather than its own level. */
#define PEAK_SPAN_MIN_HOURS 2
/* Times further ahead than this (about 100,000 years) are never. */
#define HOURS_NEVER 1e9
/* Floor of a slope's standard error (fractions of the limit per hour), so
 * that a perfectly straight line has a finite t. */
#define SE_MIN 1e-9
/* The late bound when the growth may be zero: beyond any horizon. */
#define HOURS_INFINITE 1e300

/* Fit windows in buckets, newest first: short to catch a fresh trend, long
 * for precision.  The last must equal FORECAST_NBUCKET. */
static const int win_len[FORECAST_NWIN] = {6, 11, FORECAST_NBUCKET};

/* One-sided 0.9999 quantiles of Student's t by degrees of freedom (index 0:
 * the normal limit).  t_min is stated as a normal z; a fit with few buckets
 * must reach the t of the same tail probability, or short noisy fits on
 * thousands of series would raise warnings every day. */
#define T_DF_MAX 14 /* the last entry stands for 14 or more degrees of freedom */
static const double t_9999[T_DF_MAX + 1] = {3.719, 3183.1, 70.70, 22.20, 13.03, 9.68, 8.02, 7.06,
                                  6.44,  6.01,   5.69,  5.45,  5.26,  5.11, 4.99};

/* Floor division: times before the epoch or negative offsets stay in the
 * right bucket. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

void forecast_config_default(forecast_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->bucket_ms[0] = 8 * MS_PER_SEC;
    cfg->bucket_ms[1] = 2 * MS_PER_MIN;
    cfg->bucket_ms[2] = 30 * MS_PER_MIN;
    cfg->bucket_ms[3] = JST_MS_PER_DAY;
    /* The daily scale tracks daily peaks: exhaustion happens at the peak,
     * and the daily maximum does not move with the time of day. */
    cfg->bucket_max[3] = true;
    cfg->season_scale[0] = 1;
    cfg->season_min_days[0] = 0;
    cfg->season_scale[1] = 2;
    cfg->season_min_days[1] = 7;
    cfg->weekly_scale = 3;
    cfg->horizon_ms = 7 * JST_MS_PER_DAY;
    cfg->tz_offset_ms = JST_OFFSET_MS;
    cfg->min_buckets = 6;
    cfg->confirm[0] = cfg->confirm[1] = 2;
    cfg->confirm[2] = cfg->confirm[3] = 1;
    cfg->t_min = 4.0;
    cfg->z = 1.645;
    cfg->extrapolate = 2.0;
    cfg->reset_drop = 0.10;
    cfg->season_ratio = 2.0;
    cfg->season_decay = 0.98;
}

static void clear_scale(forecast_scale *sc)
{
    int64_t base = sc->base;
    memset(sc, 0, sizeof *sc);
    sc->base = base;
}

int forecast_init(forecast_state *s, const forecast_config *cfg, double limit,
                  jiko_error *err)
{
    forecast_config def;
    if (!cfg) {
        forecast_config_default(&def);
        cfg = &def;
    }
    const char *field = NULL, *want = NULL;
    for (int k = 0; k < FORECAST_NSCALE && !field; k++)
        if (cfg->bucket_ms[k] <= 0 || (k > 0 && cfg->bucket_ms[k] <= cfg->bucket_ms[k - 1]))
            field = "bucket_ms", want = "positive widths, strictly increasing by scale";
    if (field)
        ;
    else if (!(limit > 0) || !isfinite(limit))
        field = "limit", want = "a positive finite limit";
    for (int j = 0; j < FORECAST_NSEASON && !field; j++)
        if (cfg->season_scale[j] < -1 || cfg->season_scale[j] >= FORECAST_NSCALE ||
            (j == 1 && cfg->season_scale[1] >= 0 && cfg->season_scale[1] == cfg->season_scale[0]))
            field = "season_scale", want = "distinct scale indices or -1";
        else if (cfg->season_min_days[j] < 0)
            field = "season_min_days", want = "a number of days >= 0";
    if (field)
        ;
    else if (cfg->weekly_scale < -1 || cfg->weekly_scale >= FORECAST_NSCALE ||
             (cfg->weekly_scale >= 0 && cfg->bucket_ms[cfg->weekly_scale] != JST_MS_PER_DAY))
        field = "weekly_scale", want = "-1 or the index of a scale with one-day buckets";
    else if (cfg->confirm[0] < 0 || cfg->confirm[1] < 0 || cfg->confirm[2] < 0 ||
             cfg->confirm[3] < 0)
        field = "confirm", want = "a count of bucket closes >= 0";
    else if (cfg->min_buckets < 3 || cfg->min_buckets > FORECAST_NBUCKET)
        field = "min_buckets", want = "3 to 16";
    else if (!(cfg->t_min > 0) || !isfinite(cfg->t_min))
        field = "t_min", want = "a positive number";
    else if (!(cfg->z >= 0) || !isfinite(cfg->z))
        field = "z", want = "a number >= 0";
    else if (!(cfg->extrapolate > 0) || !isfinite(cfg->extrapolate))
        field = "extrapolate", want = "a positive number";
    else if (!(cfg->reset_drop > 0 && cfg->reset_drop <= 1))
        field = "reset_drop", want = "a fraction of the limit in (0, 1]";
    else if (!(cfg->season_ratio >= 1) || !isfinite(cfg->season_ratio))
        field = "season_ratio", want = "a factor >= 1";
    else if (!(cfg->season_decay >= 0 && cfg->season_decay <= 1))
        field = "season_decay", want = "a factor in [0, 1]";
    else if (cfg->horizon_ms < 0)
        field = "horizon_ms", want = "a duration >= 0";
    if (field) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, field, "invalid forecast setting: expected %s", want);
        return -1;
    }
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->limit = limit;
    s->last_reset_ms = INT64_MIN;
    s->day_max = s->prev_day_max = -1.0f;
    for (int j = 0; j < FORECAST_NSEASON; j++)
        for (int h = 0; h < FORECAST_NSLOT; h++)
            s->season_today[j][h] = s->season_ref[j][h] = -1.0f;
    return 0;
}

/* Least squares of y on x, one robust pass: residuals beyond 2.5 sigma are
 * clipped and the line refitted, so one spike or stuck bucket cannot tilt a
 * short fit.  The scatter reported is that of the unclipped first pass: a
 * spike should lower confidence, not raise it (a robust sigma from a dozen
 * points, e.g. from the median, is itself so noisy that noise would often
 * look significant).  x is in buckets, <= 0; no sorting, O(n). */
static void fit_line(const float *x, const float *y, int n, int span, forecast_fit *f,
                     double per_hour)
{
    memset(f, 0, sizeof *f);
    if (n < 3)
        return;
    double mx = 0, my = 0;
    for (int i = 0; i < n; i++)
        mx += x[i], my += y[i];
    mx /= n, my /= n;
    double sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        sxx += (x[i] - mx) * (x[i] - mx);
        sxy += (x[i] - mx) * (y[i] - my);
    }
    if (sxx <= 0)
        return;
    double b = sxy / sxx, a = my - b * mx;
    double ssr = 0;
    for (int i = 0; i < n; i++) {
        double r = y[i] - (a + b * x[i]);
        ssr += r * r;
    }
    double sd = sqrt(ssr / (n - 2));
    double clip = CLIP_SIGMA * sd;
    if (clip > 0) {
        double myc = 0, sxyc = 0;
        for (int i = 0; i < n; i++) {
            double fi = a + b * x[i], r = y[i] - fi;
            double yc = fi + (r > clip ? clip : r < -clip ? -clip : r);
            myc += yc;
            sxyc += (x[i] - mx) * yc; /* sum (x - mx) = 0, so no centring of yc */
        }
        myc /= n;
        b = sxyc / sxx, a = myc - b * mx;
    }
    f->slope = (float)(b * per_hour);
    f->se = (float)(sd / sqrt(sxx) * per_hour);
    f->level = (float)a;
    f->sd = (float)sd;
    f->n = (int16_t)n;
    f->span = (int16_t)span;
}

/* Index of scale k among the seasonal scales, or -1. */
static int season_of(const forecast_config *c, int k)
{
    for (int j = 0; j < FORECAST_NSEASON; j++)
        if (c->season_scale[j] == k)
            return j;
    return -1;
}

static int hour_slot(int64_t t_ms, int64_t tz)
{
    return (int)(floor_div(t_ms + tz, JST_MS_PER_HOUR) % HOURS_PER_DAY + HOURS_PER_DAY) %
           HOURS_PER_DAY;
}

/* Refit every window of scale k after a bucket closed. */
static void refit(forecast_state *s, int k)
{
    forecast_scale *sc = &s->sc[k];
    float x[FORECAST_NBUCKET], y[FORECAST_NBUCKET];
    int32_t age_of[FORECAST_NBUCKET];
    int n = 0;
    for (int i = 0; i < sc->count; i++) {
        const forecast_bucket *b =
            &sc->ring[(sc->head - 1 - i + FORECAST_NBUCKET) % FORECAST_NBUCKET];
        int32_t age = sc->newest_idx - b->idx;
        if (age >= FORECAST_NBUCKET)
            break; /* older than the window after a gap */
        x[n] = (float)-age + (float)b->pos / BUCKET_POS_SCALE;
        y[n] = b->v;
        age_of[n] = age;
        n++;
    }
    double per_hour = MS_PER_HOUR / (double)s->cfg.bucket_ms[k];
    for (int w = 0; w < FORECAST_NWIN; w++) {
        int m = 0;
        while (m < n && age_of[m] < win_len[w])
            m++;
        fit_line(x, y, m, m ? age_of[m - 1] + 1 : 0, &sc->fit[w], per_hour);
    }
    if (k == s->cfg.weekly_scale) {
        /* Week over week: the mean of the last 7 daily peaks against the 7
         * before.  Equal weekday mixes on both sides, so a weekday/weekend
         * pattern cancels out. */
        double sy[2] = {0, 0}, sx[2] = {0, 0};
        int cnt[2] = {0, 0};
        for (int i = 0; i < n; i++) {
            int age = age_of[i];
            if (age < 2 * DAYS_PER_WEEK)
                sy[age / DAYS_PER_WEEK] += y[i], sx[age / DAYS_PER_WEEK] += x[i],
                    cnt[age / DAYS_PER_WEEK]++;
        }
        /* slope between the two groups' centres (not a fixed 7 days: days
         * may be missing) */
        s->weekly_ok = cnt[0] >= WEEK_MIN_DAYS && cnt[1] >= WEEK_MIN_DAYS;
        if (s->weekly_ok) {
            double dx = sx[0] / cnt[0] - sx[1] / cnt[1];
            s->weekly_slope = (float)((sy[0] / cnt[0] - sy[1] / cnt[1]) / dx * per_hour);
        } else {
            s->weekly_slope = 0.0f;
        }
    }
    int j = season_of(&s->cfg, k);
    if (j >= 0) {
        int64_t mid = (sc->base + sc->newest_idx) * s->cfg.bucket_ms[k] - s->cfg.tz_offset_ms +
                      s->cfg.bucket_ms[k] / 2;
        int slot = hour_slot(mid, s->cfg.tz_offset_ms);
        for (int w = 0; w < FORECAST_NWIN; w++) {
            if (sc->fit[w].n < s->cfg.min_buckets)
                continue;
            float v = sc->fit[w].slope > 0 ? sc->fit[w].slope : 0.0f;
            if (v > s->season_today[j][slot])
                s->season_today[j][slot] = v;
        }
    }
}

static void update_streak(forecast_state *s, int k, int64_t now_ms);

static void close_bucket(forecast_state *s, int k)
{
    forecast_scale *sc = &s->sc[k];
    forecast_bucket *b = &sc->ring[sc->head];
    bool mx = s->cfg.bucket_max[k];
    b->v = mx ? sc->open_max : sc->open_sum / (float)sc->open_n;
    float pos = mx ? sc->open_tmax : sc->open_tsum / (float)sc->open_n;
    b->pos = (uint16_t)(pos * BUCKET_POS_SCALE + 0.5f);
    b->idx = sc->open_idx;
    sc->newest_idx = sc->open_idx;
    sc->head = (sc->head + 1) % FORECAST_NBUCKET;
    if (sc->count < FORECAST_NBUCKET)
        sc->count++;
    sc->open_n = 0;
    refit(s, k);
    int64_t end = (sc->base + sc->open_idx + 1) * s->cfg.bucket_ms[k] - s->cfg.tz_offset_ms;
    update_streak(s, k, end);
}

/* A new day: today's same-hour slopes join the decayed reference of earlier
 * days, and today's peak becomes yesterday's. */
static void new_day(forecast_state *s, int32_t day)
{
    float d = (float)s->cfg.season_decay;
    for (int j = 0; j < FORECAST_NSEASON; j++)
        for (int h = 0; h < FORECAST_NSLOT; h++) {
            float t = s->season_today[j][h], *r = &s->season_ref[j][h];
            if (*r >= 0)
                *r *= d;
            if (t >= 0 && t > *r)
                *r = t;
            s->season_today[j][h] = -1.0f;
        }
    s->season_days++;
    s->prev_day_max = (day == s->day + 1) ? s->day_max : -1.0f;
    s->day_max = -1.0f;
    s->day = day;
}

static void do_reset(forecast_state *s, int64_t t_ms, float u)
{
    bool rare_for_days = true;
    for (int k = 0; k < FORECAST_NSCALE; k++) {
        /* Resets that come at least every other bucket are part of the
         * pattern this scale sees (a disk cleaned nightly, judged on its
         * daily peaks); rarer ones end the trend it was tracking. */
        bool rare = s->last_reset_ms == INT64_MIN ||
                    t_ms - s->last_reset_ms > 2 * s->cfg.bucket_ms[k];
        if (rare)
            clear_scale(&s->sc[k]);
        if (k == s->cfg.weekly_scale && rare)
            s->weekly_ok = false;
        if (k == FORECAST_NSCALE - 1)
            rare_for_days = rare;
    }
    if (rare_for_days)
        s->day_max = s->prev_day_max = -1.0f;
    s->last_reset_ms = t_ms;
    s->resets++;
    s->fast = u;
}

int forecast_step(forecast_state *s, int64_t t_ms, double value)
{
    if (!isfinite(value))
        return FORECAST_ERR_VALUE;
    if (s->n > 0 && t_ms < s->last_ms)
        return FORECAST_ERR_TIME;
    double ud = value / s->limit; /* finite limits keep float's range: clamp */
    float u = (float)(ud > 1e30 ? 1e30 : ud < -1e30 ? -1e30 : ud);
    const forecast_config *c = &s->cfg;
    int32_t day = (int32_t)floor_div(t_ms + c->tz_offset_ms, JST_MS_PER_DAY);
    /* uc: what the trend state learns.  A sample beyond reset_drop of the
     * reference `fast`, after one that was not, is held (uc = fast), so a
     * lone wild reading (a spike to 95 %, a scrape returning 0) moves
     * neither the buckets, the daily peak nor the reference.  The next
     * sample decides: beyond reset_drop on the same side, the level moved
     * (a drop restarts the trend: one bad reading must not throw away two
     * weeks of history, two in a row are a rotation); on the other side it
     * is taken as it is (a gauge flapping by more than reset_drop passes
     * after its first sample) without moving the reference. */
    float uc = u;
    if (s->n == 0) {
        for (int k = 0; k < FORECAST_NSCALE; k++)
            s->sc[k].base = floor_div(t_ms + c->tz_offset_ms, c->bucket_ms[k]);
        s->fast = u;
        s->day = day;
        s->wild = 0;
    } else {
        float rd = (float)c->reset_drop;
        int side = u < s->fast - rd ? -1 : u > s->fast + rd ? 1 : 0;
        if (side == 0) {
            s->fast += RESET_EWMA_RATE * (u - s->fast);
        } else if (s->wild == 0) {
            uc = s->fast; /* held: a lone outlier unless the next confirms */
        } else if (s->wild == side) {
            if (side < 0)
                do_reset(s, t_ms, u);
            s->fast = u; /* confirmed: the level moved */
        }
        s->wild = (int8_t)side;
    }
    if (day != s->day)
        new_day(s, day);
    if (uc > s->day_max)
        s->day_max = uc;
    for (int k = 0; k < FORECAST_NSCALE; k++) {
        forecast_scale *sc = &s->sc[k];
        int32_t idx = (int32_t)(floor_div(t_ms + c->tz_offset_ms, c->bucket_ms[k]) - sc->base);
        if (sc->open_n > 0 && idx != sc->open_idx)
            close_bucket(s, k);
        /* where in the bucket this sample falls, in [0, 1) */
        float pos = (float)((double)(t_ms + c->tz_offset_ms -
                                     (sc->base + idx) * c->bucket_ms[k]) /
                            (double)c->bucket_ms[k]);
        if (sc->open_n == 0) {
            sc->open_idx = idx;
            sc->open_sum = sc->open_tsum = 0;
            sc->open_max = uc;
            sc->open_tmax = pos;
        }
        sc->open_n++;
        sc->open_sum += uc;
        sc->open_tsum += pos;
        if (uc > sc->open_max)
            sc->open_max = uc, sc->open_tmax = pos;
    }
    s->last = u;
    s->last_ms = t_ms;
    s->n++;
    return FORECAST_OK;
}

static int64_t add_hours(int64_t now, double h)
{
    if (!(h < HOURS_NEVER)) /* or NaN */
        return FORECAST_NEVER;
    return now + (int64_t)(h > 0 ? h * MS_PER_HOUR : 0);
}

static const char *basis_of(const forecast_state *s, int k, bool weekly, bool adjusted)
{
    if (adjusted)
        return "excess over the same hour on earlier days";
    if (s->cfg.bucket_max[k])
        return weekly ? "daily peaks, checked week over week" : "peaks";
    return "bucket means";
}

/* One fit judged as a forecast. */
typedef struct cand {
    double b, t, level, eta_h, early_h, late_h;
    bool weekly, adjusted;
} cand;

enum { J_NONE, J_FIT, J_CREDIBLE };

/* Judge window w of scale k as of now: J_NONE (no usable fit), J_FIT (a fit
 * that does not foresee exhaustion) or J_CREDIBLE (significant growth that
 * reaches the limit within what this scale can extrapolate). */
static int judge(const forecast_state *s, int k, int w, int64_t now_ms, cand *o)
{
    const forecast_config *c = &s->cfg;
    const forecast_scale *sc = &s->sc[k];
    const forecast_fit *f = &sc->fit[w];
    memset(o, 0, sizeof *o);
    if (f->n < c->min_buckets)
        return J_NONE;
    double w_h = (double)c->bucket_ms[k] / MS_PER_HOUR;
    int64_t start = (sc->base + sc->newest_idx) * c->bucket_ms[k] - c->tz_offset_ms;
    double span_h = f->span * w_h;
    double age_h = (double)(now_ms - start) / MS_PER_HOUR;
    if (age_h > span_h + w_h)
        return J_NONE; /* the data stopped; this fit is stale */
    double b = f->slope, se = f->se > (float)SE_MIN ? f->se : SE_MIN;
    int j = season_of(c, k);
    if (j >= 0) {
        if (s->season_days < c->season_min_days[j])
            return J_NONE; /* too few earlier days: a trend and a daily ramp look alike */
        /* Only growth beyond what this hour (and its neighbours, for a ramp
         * that starts a little early) did on earlier days. */
        int slot = hour_slot(start + c->bucket_ms[k] / 2, c->tz_offset_ms);
        float ref = -1.0f;
        for (int d = -1; d <= 1; d++) {
            float v = s->season_ref[j][(slot + d + FORECAST_NSLOT) % FORECAST_NSLOT];
            if (v > ref)
                ref = v;
        }
        if (ref >= 0) {
            /* At least twice as steep as this hour has been lately: a Monday
             * ramp after a quieter weekend is not a storm. */
            b = b < c->season_ratio * ref ? 0 : b - ref;
            o->adjusted = true;
        }
    }
    if (k == c->weekly_scale && s->weekly_ok) {
        o->weekly = true;
        if (s->weekly_slope < b)
            b = s->weekly_slope;
    }
    o->b = b;
    o->t = b / se;
    double t_crit = c->t_min * t_9999[f->n - 2 < T_DF_MAX ? f->n - 2 : T_DF_MAX] / t_9999[0];
    if (o->t < t_crit)
        return J_FIT;
    double level = f->level + b * (age_h > 0 ? age_h : 0);
    float env = s->day_max > s->prev_day_max ? s->day_max : s->prev_day_max;
    if (o->adjusted && span_h >= PEAK_SPAN_MIN_HOURS && env > level)
        level = env; /* a fit over much of a day: the daily peak comes back */
    double head = 1.0 - level;
    o->level = level;
    o->eta_h = head > 0 ? head / b : 0;
    if (o->eta_h > c->extrapolate * span_h)
        return J_FIT; /* too far beyond what this scale has seen */
    double eh = head - c->z * f->sd;
    o->early_h = eh > 0 ? eh / (b + c->z * se) : 0;
    double bl = b - c->z * se;
    o->late_h = bl > 0 ? (head + c->z * f->sd) / bl : HOURS_INFINITE;
    return J_CREDIBLE;
}

/* After a refit: how many bucket closes in a row this scale has foreseen
 * exhaustion.  Fast scales fit thousands of times a day; asking for two in a
 * row keeps a one-off noise excursion from raising a warning. */
static void update_streak(forecast_state *s, int k, int64_t now_ms)
{
    forecast_scale *sc = &s->sc[k];
    cand cd;
    bool any = false;
    for (int w = 0; w < FORECAST_NWIN && !any; w++)
        any = judge(s, k, w, now_ms, &cd) == J_CREDIBLE;
    sc->streak = any ? (sc->streak < STREAK_MAX ? sc->streak + 1 : sc->streak) : 0;
}

void forecast_eval(const forecast_state *s, int64_t now_ms, forecast_result *out)
{
    const forecast_config *c = &s->cfg;
    memset(out, 0, sizeof *out);
    out->status = FORECAST_UNKNOWN;
    out->scale = out->window = -1;
    out->now_ms = now_ms;
    out->eta_ms = out->early_ms = out->late_ms = FORECAST_NEVER;
    out->confidence = erf(c->z / sqrt(2.0));
    out->value = (double)s->last * s->limit;
    out->level = out->value;
    out->limit = s->limit;
    out->horizon_ms = c->horizon_ms;
    out->resets = s->resets;
    out->basis = "";
    if (s->n == 0)
        return;
    if (s->last >= 1.0f) {
        out->status = FORECAST_EXHAUSTED;
        out->warn = true;
        out->eta_ms = out->early_ms = out->late_ms = s->last_ms;
        return;
    }
    bool any = false, found = false;
    double best_abs_t = -1;
    cand best = {0};
    for (int k = 0; k < FORECAST_NSCALE; k++) {
        for (int w = 0; w < FORECAST_NWIN; w++) {
            cand cd;
            int v = judge(s, k, w, now_ms, &cd);
            if (v == J_NONE)
                continue;
            any = true;
            if (!found && fabs(cd.t) > best_abs_t) {
                best_abs_t = fabs(cd.t);
                out->rate_per_s = cd.b * s->limit / (double)SEC_PER_HOUR;
                out->t_stat = cd.t;
            }
            if (v != J_CREDIBLE || s->sc[k].streak < c->confirm[k])
                continue;
            /* the earliest credible exhaustion wins */
            if (found && (cd.early_h > best.early_h ||
                          (cd.early_h == best.early_h && cd.eta_h >= best.eta_h)))
                continue;
            found = true;
            best = cd;
            out->scale = k, out->window = w;
        }
    }
    if (!found) {
        out->status = any ? FORECAST_STABLE : FORECAST_UNKNOWN;
        return;
    }
    const forecast_fit *f = &s->sc[out->scale].fit[out->window];
    out->status = FORECAST_GROWING;
    out->bucket_ms = c->bucket_ms[out->scale];
    out->fit_buckets = f->n;
    out->basis = basis_of(s, out->scale, best.weekly, best.adjusted);
    out->eta_ms = add_hours(now_ms, best.eta_h);
    out->early_ms = add_hours(now_ms, best.early_h);
    out->late_ms = add_hours(now_ms, best.late_h);
    out->level = best.level * s->limit;
    out->rate_per_s = best.b * s->limit / (double)SEC_PER_HOUR;
    out->t_stat = best.t;
    out->warn = out->early_ms - now_ms <= c->horizon_ms;
}

const char *forecast_status_name(forecast_status st)
{
    switch (st) {
    case FORECAST_STABLE: return "stable";
    case FORECAST_GROWING: return "growing";
    case FORECAST_EXHAUSTED: return "exhausted";
    case FORECAST_UNKNOWN: break;
    }
    return "unknown";
}

/* "3d4h", "2h25m", "59s": days matter for disks, seconds for memory. */
static const char *fmt_dur(int64_t ms, char *buf, size_t size)
{
    if (ms == FORECAST_NEVER) {
        snprintf(buf, size, "never");
        return buf;
    }
    if (ms < 0)
        ms = 0;
    int64_t sec = ms / MS_PER_SEC, d = sec / SEC_PER_DAY, h = sec / SEC_PER_HOUR % HOURS_PER_DAY,
            m = sec / SEC_PER_MIN % SEC_PER_MIN;
    /* the two largest units, the second left out when zero ("1d", "2m") */
    long long big, small;
    const char *u1, *u2;
    if (d)
        big = d, small = h, u1 = "d", u2 = "h";
    else if (h)
        big = h, small = m, u1 = "h", u2 = "m";
    else if (m)
        big = m, small = sec % SEC_PER_MIN, u1 = "m", u2 = "s";
    else
        big = sec, small = 0, u1 = "s", u2 = "";
    if (small)
        snprintf(buf, size, "%lld%s%lld%s", big, u1, small, u2);
    else
        snprintf(buf, size, "%lld%s", big, u1);
    return buf;
}

/* A rate as percent of the limit per the unit that gives a readable number. */
static const char *fmt_rate(double per_s, double limit, char *buf, size_t size)
{
    double pct_s = 100.0 * per_s / limit;
    if (fabs(pct_s) * SEC_PER_MIN >= 1)
        snprintf(buf, size, "%+.2f%%/min", pct_s * SEC_PER_MIN);
    else if (fabs(pct_s) * SEC_PER_HOUR >= 1)
        snprintf(buf, size, "%+.2f%%/h", pct_s * SEC_PER_HOUR);
    else
        snprintf(buf, size, "%+.2f%%/day", pct_s * SEC_PER_DAY);
    return buf;
}

const char *forecast_reason(const forecast_result *r, const char *what, char *buf, size_t size)
{
    char rate[32], d1[32], d2[32], d3[32], d4[32], bw[32], eta[40];
    double pct = r->limit > 0 ? 100.0 * r->value / r->limit : 0;
    if (!what)
        what = "gauge";
    switch (r->status) {
    case FORECAST_UNKNOWN:
        snprintf(buf, size, "%s at %.1f%% of its limit (%g of %g); not enough history for a forecast yet.",
                 what, pct, r->value, r->limit);
        break;
    case FORECAST_EXHAUSTED:
        snprintf(buf, size, "%s at %.1f%% of its limit (%g of %g): exhausted.", what, pct, r->value,
                 r->limit);
        break;
    case FORECAST_STABLE:
        snprintf(buf, size,
                 "%s at %.1f%% of its limit (%g of %g); no credible growth towards it "
                 "(most significant trend %s, t = %.1f).",
                 what, pct, r->value, r->limit, fmt_rate(r->rate_per_s, r->limit, rate, sizeof rate),
                 r->t_stat);
        break;
    case FORECAST_GROWING:
        jst_format(r->eta_ms, eta, sizeof eta);
        snprintf(buf, size,
                 "%s at %.1f%% of its limit (%g of %g), growing %s (%s of %d %s buckets, t = %.1f); "
                 "exhaustion expected %s, in %s (%.0f%% band %s to %s)%s%s%s.",
                 what, pct, r->value, r->limit, fmt_rate(r->rate_per_s, r->limit, rate, sizeof rate),
                 r->basis, r->fit_buckets, fmt_dur(r->bucket_ms, bw, sizeof bw), r->t_stat, eta,
                 fmt_dur(r->eta_ms - r->now_ms, d1, sizeof d1), 100 * r->confidence,
                 fmt_dur(r->early_ms - r->now_ms, d2, sizeof d2),
                 r->late_ms == FORECAST_NEVER ? "never" : fmt_dur(r->late_ms - r->now_ms, d3, sizeof d3),
                 r->warn ? "; WARNING: may run out within the " : "",
                 r->warn ? fmt_dur(r->horizon_ms, d4, sizeof d4) : "", r->warn ? " horizon" : "");
        break;
    }
    return buf;
}
