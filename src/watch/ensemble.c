/* ensemble.c — the full anomaly detector (see ensemble.h; the design and its
 * measurements are in docs/design-detect.md). */
#include "ensemble.h"
#include "jst.h"

#include <math.h>
#include <string.h>

#define LN10 2.30258509299404568
#define LOG10_2 0.30102999566398120
#define INV_SQRT2 0.70710678118654752 /* Q(z) = erfc(z / sqrt 2) / 2 */
#define SQRT_2PI 2.5066282746310002
/* From this z on, the asymptotic form of the Gaussian tail is used (erfc
 * underflows further out). */
#define TAIL_ASYMPTOTIC_Z 8.0
/* Values are clamped to +-VALUE_MAX so that squares stay finite. */
#define VALUE_MAX 1e150
/* |z| beyond the histogram enters its open bin's sum at most at this, so
 * that one wild row moves the open bin's mean by a bounded amount. */
#define Z_SUM_MAX 100.0
/* The histogram's weights are renormalised when the growing weight of a
 * row passes this (float range). */
#define W_RESCALE 1e20f
/* The spreads are floored at this share of the range of (clipped) values
 * seen so far: a series flat for a while, then moving, would otherwise
 * standardise every later move by a spread of zero. */
#define SD_FLOOR_RANGE 1e-3
/* Values are clipped from this row on: the spread of 20 rows is enough to
 * tell a wild value (8 sds) from the data, and a wild value in the first
 * rows of warm-up would otherwise set the state's scale for weeks. */
#define CLIP_MIN_ROWS 20
/* Sampling interval: a running median of the row intervals, moved by this
 * factor per row (faster while the first rows find it). */
#define DT_STEP 1.02
#define DT_STEP_START 1.25
#define DT_START_ROWS 20
#define DT_DEFAULT_MS 300000.0
/* The daily profile is trusted (the season member scored) after three days:
 * before that a slot's mean is one or two days' noise. */
#define SEASON_MIN_DAYS 3
/* Weekly offsets are learned from the start but used after two weeks of
 * data: with one visit per slot they would subtract one week's noise. */
#define WEEK_MIN_DAYS 14
#define SLOT_ALPHA 0.1  /* daily slot: EWMA rate per visit (about ten days) */
#define WEEK_ALPHA 0.2  /* weekly offset: EWMA rate per visit (five weeks) */

void ensemble_config_default(ensemble_config *c)
{
    memset(c, 0, sizeof *c);
    c->span_ms[ENSEMBLE_M_SHORT] = JST_MS_PER_HOUR;
    c->span_ms[ENSEMBLE_M_LONG] = 6 * JST_MS_PER_HOUR;
    c->span_ms[ENSEMBLE_M_SEASON] = JST_MS_PER_HOUR;
    c->base_ms = 3 * JST_MS_PER_DAY;
    c->long_ms = 2 * JST_MS_PER_WEEK;
    c->holdoff_ms = JST_MS_PER_DAY;
    c->warmup = 200;
    c->tail_q = 0.01f;
    c->clip_k = 8.0f;
}

void ensemble_init(ensemble_state *s, const ensemble_config *c)
{
    memset(s, 0, sizeof *s);
    s->cfg = *c;
    ensemble_config *k = &s->cfg;
    for (int i = 0; i < ENSEMBLE_NMEMBER; i++)
        if (k->span_ms[i] < 0) k->span_ms[i] = 0;
    if (k->base_ms < 1) k->base_ms = 1;
    if (k->long_ms < 1) k->long_ms = 1;
    if (k->holdoff_ms < 0) k->holdoff_ms = 0;
    if (k->warmup < 1) k->warmup = 1;
    if (!(k->tail_q > 0.0f && k->tail_q < 0.5f)) k->tail_q = 0.01f;
    if (!(k->clip_k > 0.0f && k->clip_k <= 1e6f)) k->clip_k = 0.0f; /* 0: never clip */
    for (int i = 0; i < ENSEMBLE_NSLOT; i++) s->slot[i] = NAN;
    s->dt_ms = DT_DEFAULT_MS;
    s->last_alert_ms = INT64_MIN / 2;
}

double ensemble_evidence(const ensemble_state *s, int i)
{
    return i >= 0 && i < ENSEMBLE_NMEMBER ? (double)s->mem[i].ev : 0.0;
}

static float to_float(double v)
{
    if (v > 3.0e38) return 3.0e38f;
    if (v < -3.0e38) return -3.0e38f;
    return (float)v;
}

/* EWMA rate for a time constant of span_ms at the current interval: one
 * row at least, so a span shorter than the sampling is the raw signal. */
static double rate_of(const ensemble_state *s, int64_t span_ms)
{
    double rows = (double)span_ms / s->dt_ms;
    return rows <= 1.0 ? 1.0 : 2.0 / (rows + 1.0);
}

/* -log10 of the two-sided Gaussian tail 2 Q(|z|). */
static double gauss_evidence(double az)
{
    if (az <= 0.0) return 0.0;
    double one = az < TAIL_ASYMPTOTIC_Z ? -log10(0.5 * erfc(az * INV_SQRT2))
                                        : (0.5 * az * az + log(az * SQRT_2PI)) / LN10;
    return one - LOG10_2;
}

/* Evidence -log10 p of |z| for member mb: the Gaussian evidence, lowered
 * by how much more often than a Gaussian the member's |z| passes its own
 * 1 - q quantile u.  A heavy-tailed member is believed less by that factor
 * everywhere; a member at or lighter than Gaussian keeps its evidence. */
static double member_evidence(const ensemble_member *mb, double q, double az)
{
    double shift = gauss_evidence((double)mb->u) + log10(q);
    double e = gauss_evidence(az) - (shift > 0.0 ? shift : 0.0);
    return e > 0.0 ? e : 0.0;
}

/* Add |z| to the member's histogram (weights growing by 1 / (1 - along)
 * per row: an exponential forgetting over the long-run horizon), then
 * re-derive u, its 1 - q quantile (interpolated in its bin; the open last
 * bin by the mean of its values). */
static void tail_learn(ensemble_member *mb, double az, double along, double q)
{
    if (mb->w == 0.0f) mb->w = 1.0f;
    else mb->w = to_float((double)mb->w / (1.0 - along));
    if (mb->w > W_RESCALE) {
        float r = 1.0f / mb->w;
        for (int i = 0; i < ENSEMBLE_NBIN; i++) mb->hist[i] *= r;
        mb->total *= r;
        mb->last_sum *= r;
        mb->w = 1.0f;
    }
    if (!(az > 0.0)) az = 0.0;
    double bf = az / (double)ENSEMBLE_BIN_W;
    int b = bf < ENSEMBLE_NBIN - 1 ? (int)bf : ENSEMBLE_NBIN - 1;
    if (b == ENSEMBLE_NBIN - 1)
        mb->last_sum = to_float((double)mb->last_sum + (double)mb->w * fmin(az, Z_SUM_MAX));
    mb->hist[b] += mb->w;
    mb->total += mb->w;
    double want = q * (double)mb->total, c = 0.0, bw = (double)ENSEMBLE_BIN_W;
    for (int i = ENSEMBLE_NBIN - 1; i >= 0; i--) {
        double h = (double)mb->hist[i];
        if (c + h >= want && h > 0.0) {
            mb->u = i == ENSEMBLE_NBIN - 1 ? to_float((double)mb->last_sum / h)
                                           : to_float((i + 1 - (want - c) / h) * bw);
            return;
        }
        c += h;
    }
}

/* The standardised deviation of st for signal value v, as it would be
 * after smoothing v in at rate a; does not change st. */
static double stat_z(const ensemble_stat *st, double v, double a, double floor)
{
    double m = st->m + a * (v - st->m);
    double sd = fmax((double)st->sd, floor);
    return sd > 0.0 ? (m - st->base - (double)st->mu) / sd : 0.0;
}

/* Learn signal value v: smoother, baseline, long-run mean and spread. */
static void stat_learn(ensemble_stat *st, double v, double a, double abase, double along,
                       int64_t n)
{
    if (n == 0) {
        st->m = st->base = v;
        return;
    }
    st->m += a * (v - st->m);
    double d = st->m - st->base - (double)st->mu, sd = (double)st->sd;
    st->base += abase * (v - st->base);
    st->mu = to_float((double)st->mu + along * d);
    st->sd = to_float(sqrt((1.0 - along) * (sd * sd + along * d * d)));
}

/* Values are clipped from this row on: the spread of 20 rows is enough to
 * tell a wild value (8 sds) from the data, and a wild value in the first
 * rows of warm-up would otherwise set the state's scale for weeks. */
#define CLIP_MIN_ROWS 20
/* Sampling interval: a running median of the row intervals, in log space
 * (each row moves it by a fixed factor towards its interval), so gaps and
 * bursts barely move it. */
static void interval_learn(ensemble_state *s, int64_t t_ms)
{
    if (s->n == 0 || t_ms <= s->prev_ms) return;
    double dt = (double)(t_ms - s->prev_ms);
    if (s->n == 1) {
        s->dt_ms = dt;
        return;
    }
    double f = s->n < DT_START_ROWS ? DT_STEP_START : DT_STEP;
    if (dt > s->dt_ms) s->dt_ms = fmin(s->dt_ms * f, dt);
    else if (dt < s->dt_ms) s->dt_ms = fmax(s->dt_ms / f, dt);
}

/* Slots of t in the daily and weekly profiles. */
static void slots_of(int64_t t_ms, int *k, int *kw)
{
    int64_t pd = t_ms % JST_MS_PER_DAY, pw = t_ms % JST_MS_PER_WEEK;
    if (pd < 0) pd += JST_MS_PER_DAY;
    if (pw < 0) pw += JST_MS_PER_WEEK;
    *k = (int)(pd * ENSEMBLE_NSLOT / JST_MS_PER_DAY);
    *kw = (int)(pw * ENSEMBLE_NWEEK / JST_MS_PER_WEEK);
}

static double days_seen(const ensemble_state *s)
{
    return (double)s->n * s->dt_ms / (double)JST_MS_PER_DAY;
}

/* The expected value at daily slot k and weekly slot kw, relative to the
 * anchor; NaN when the daily slot was never seen. */
static double profile_of(const ensemble_state *s, int k, int kw)
{
    double w = days_seen(s) >= WEEK_MIN_DAYS ? (double)s->week[kw] : 0.0;
    return (double)s->slot[k] + w;
}

static void profile_learn(ensemble_state *s, int k, int kw, double xr)
{
    if (isnan(s->slot[k])) {
        s->slot[k] = to_float(xr);
        return;
    }
    double used = profile_of(s, k, kw);
    s->slot[k] = to_float((double)s->slot[k] + SLOT_ALPHA * (xr - used));
    /* the weekly offset: how far this hour of the week sits from the daily
     * profile, at WEEK_ALPHA per visit (rows per visit scale the rate) */
    double per_row = WEEK_ALPHA * s->dt_ms / (double)JST_MS_PER_HOUR;
    if (per_row > WEEK_ALPHA) per_row = WEEK_ALPHA;
    double off = (double)s->week[kw];
    s->week[kw] = to_float(off + per_row * (xr - (double)s->slot[k] - off));
}

/* Bounded influence: the value the state learns, x clipped at clip_k
 * long-run sds of the raw deviation from the baseline.  A second clipped
 * row on the same side is a level change and enters as it is. */
static double clip_value(ensemble_state *s, double x, double floor)
{
    const ensemble_config *cf = &s->cfg;
    if (!(cf->clip_k > 0.0f) || s->n < CLIP_MIN_ROWS) return x;
    const ensemble_stat *r = &s->ref;
    double lim = (double)cf->clip_k * fmax((double)r->sd, floor);
    double centre = r->base + (double)r->mu, dev = x - centre;
    int side = dev > lim ? 1 : dev < -lim ? -1 : 0;
    int clip = side != 0 && side != s->wild;
    s->wild = (int8_t)(clip ? side : 0);
    return clip ? centre + side * lim : x;
}

double ensemble_step(ensemble_state *s, int64_t t_ms, double x)
{
    const ensemble_config *cf = &s->cfg;
    if (!isfinite(x)) return 0.0; /* a missing sample: nothing to learn or score */
    if (x > VALUE_MAX) x = VALUE_MAX;
    if (x < -VALUE_MAX) x = -VALUE_MAX;
    interval_learn(s, t_ms);
    if (s->n == 0) {
        s->anchor = x;
        s->vmin = s->vmax = x;
    }
    if (s->n == 0 || t_ms > s->prev_ms) s->prev_ms = t_ms;

    /* the spreads' floor, from what the state has learned (never from this
     * row's value, which may be wild) */
    double floor = 1e-9 * fabs(s->ref.base) + 1e-12 + SD_FLOOR_RANGE * (s->vmax - s->vmin);
    double xc = clip_value(s, x, floor);
    double along = fmax(1.0 / (double)(s->n + 1), s->dt_ms / (double)cf->long_ms);
    double abase = fmax(1.0 / (double)(s->n + 1), rate_of(s, cf->base_ms));
    double q = (double)cf->tail_q;
    int k, kw;
    slots_of(t_ms, &k, &kw);
    double prof = profile_of(s, k, kw);

    /* each member's signal: raw (this row's evidence) and clipped (learned) */
    double raw[ENSEMBLE_NMEMBER], lrn[ENSEMBLE_NMEMBER];
    raw[ENSEMBLE_M_SHORT] = raw[ENSEMBLE_M_LONG] = x;
    lrn[ENSEMBLE_M_SHORT] = lrn[ENSEMBLE_M_LONG] = xc;
    raw[ENSEMBLE_M_SEASON] = isnan(prof) ? 0.0 : x - s->anchor - prof;
    lrn[ENSEMBLE_M_SEASON] = isnan(prof) ? 0.0 : xc - s->anchor - prof;

    int scoring = s->n >= cf->warmup;
    double best = 0.0;
    for (int i = 0; i < ENSEMBLE_NMEMBER; i++) {
        ensemble_member *mb = &s->mem[i];
        double a = rate_of(s, cf->span_ms[i]);
        double e = 0.0;
        int on = scoring && (i != ENSEMBLE_M_SEASON || days_seen(s) >= SEASON_MIN_DAYS);
        if (on) e = member_evidence(mb, q, fabs(stat_z(&mb->st, raw[i], a, floor)));
        mb->ev = to_float(e);
        if (e > best) best = e;
        if (s->n > 0) tail_learn(mb, fabs(stat_z(&mb->st, lrn[i], a, floor)), along, q);
        stat_learn(&mb->st, lrn[i], a, abase, along, s->n);
    }
    stat_learn(&s->ref, xc, 1.0, abase, along, s->n);
    profile_learn(s, k, kw, xc - s->anchor);
    if (xc < s->vmin) s->vmin = xc;
    if (xc > s->vmax) s->vmax = xc;
    s->n++;

    /* Bonferroni over the members, then the episode rule */
    best -= log10((double)ENSEMBLE_NMEMBER);
    if (!scoring || !(best > 0.0)) return 0.0;
    double score = best / (best + ENSEMBLE_SCORE_K);
    if (t_ms - s->last_alert_ms > cf->holdoff_ms) s->ep_max = 0.0f;
    if (score < (double)s->ep_max + ENSEMBLE_MARGIN) return 0.0;
    s->ep_max = (float)score;
    s->last_alert_ms = t_ms;
    return score > 1.0 ? 1.0 : score;
}
