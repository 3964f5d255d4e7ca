/* detect.c — the streaming anomaly detector and event extraction (see detect.h). */
#include "detect.h"
#include "jst.h"

#include <math.h>
#include <string.h>

#define LOG10_2 0.30102999566398120
#define INV_SQRT2 0.70710678118654752   /* Q(z) = erfc(z / sqrt 2) / 2 */
#define SQRT_2PI 2.5066282746310002
#define INV_LN10 0.43429448190325183    /* log10(x) = ln(x) / ln 10 */
/* From this z on, the asymptotic form of the tail is used (erfc would
 * underflow further out). */
#define TAIL_ASYMPTOTIC_Z 8.0

/* Values are clamped to +-VALUE_MAX so that squares of differences stay
 * finite: telemetry never needs more. */
#define VALUE_MAX 1e150
/* A range narrower than this (relative, plus absolute) is taken as flat. */
#define RANGE_REL_MIN 1e-9
#define RANGE_ABS_MIN 1e-12
/* Quantised values are clamped to +-QUANT_MAX, well inside int32. */
#define QUANT_MAX 1e9
#define QUANT_MAX_I 1000000000
/* The CUSUM's input z is clamped to +-Z_FAST_MAX, so that one absurd row
 * cannot dominate the sums. */
#define Z_FAST_MAX 50.0

/* Sampling interval estimate: each step's log(dt) is limited to +-ln 4
 * around the estimate, which moves at DT_RATE_START for the first
 * DT_START_ROWS rows (to find the interval quickly), then at DT_RATE. */
#define LN_4 1.3862943611198906
#define DT_RATE_START 0.2
#define DT_RATE 0.02
#define DT_START_ROWS 20
/* The interval assumed until one is known: 5 minutes. */
#define DT_DEFAULT_MS 300000.0
#define MS_PER_SEC 1000.0

/* Profile entries are int16 in [-INT16_Q_MAX, INT16_Q_MAX]; INT16_MIN marks
 * a slot never seen.  PROF_EXP_START: the first unit, 2^-60, far below any
 * deviation, so the exponent only ever grows. */
#define INT16_Q_MAX 32767.0
#define PROF_EXP_START (-60)

void detect_config_default(detect_config *c)
{
    static const float w[DETECT_NCH] = {1.0f, 1.0f, 0.3f, 0.6f, 0.5f};
    static const float span[DETECT_NCH] = {20.0f, 60.0f, 1.0f, 10.0f, 10.0f};
    static const int8_t sides[DETECT_NCH] = {2, 2, 2, 2, 1};
    memset(c, 0, sizeof *c);
    memcpy(c->weight, w, sizeof w);
    memcpy(c->span, span, sizeof span);
    memcpy(c->sides, sides, sizeof sides);
    c->warmup = 150;
    c->nbins = 16;
    c->holdoff_rows = 300;
    c->span_ref_s = 300.0f;
    c->holdoff_ms = 2 * JST_MS_PER_DAY;
    c->period_ms = JST_MS_PER_DAY;
    c->long_rows = 3000.0f;
    c->base_rows = 1000.0f;
    c->score_k = 5.0f;
    c->std_floor = 1e-3f;
    c->margin = 0.2f;
    c->season_alpha = 0.1f;
    c->week_alpha = 0.2f;
    c->robust_k = 0.0f; /* off: see docs/design-detect.md v9 (NAB fell at 8 and 16) */
}

void detect_init(detect_state *s, const detect_config *c)
{
    memset(s, 0, sizeof *s);
    s->cfg = *c;
    detect_config *k = &s->cfg;
    for (int i = 0; i < DETECT_NCH; i++) {
        if (!(k->weight[i] >= 0.0f)) k->weight[i] = 0.0f;
        if (!(k->span[i] >= 1.0f)) k->span[i] = 1.0f;
        if (k->sides[i] != 1) k->sides[i] = 2;
    }
    if (k->warmup < 1) k->warmup = 1;
    if (k->nbins < 2) k->nbins = 2;
    if (k->period_ms <= 0) k->period_ms = JST_MS_PER_DAY;
    if (!(k->long_rows >= 1.0f)) k->long_rows = 1.0f;
    if (!(k->base_rows >= 1.0f)) k->base_rows = 1.0f;
    if (!(k->score_k > 0.0f)) k->score_k = 1.0f;
    if (!(k->std_floor >= 0.0f)) k->std_floor = 0.0f;
    if (!(k->margin >= 0.0f)) k->margin = 0.0f;
    if (!(k->season_alpha > 0.0f && k->season_alpha <= 1.0f)) k->season_alpha = 0.1f;
    if (!(k->week_alpha >= 0.0f && k->week_alpha <= 1.0f)) k->week_alpha = 0.0f;
    if (!(k->span_ref_s >= 0.0f && k->span_ref_s <= 1e9f)) k->span_ref_s = 0.0f;
    if (!(k->robust_k > 0.0f && k->robust_k <= 1e6f)) k->robust_k = 0.0f;
    for (int i = 0; i < DETECT_NSLOT; i++) s->slot[i] = INT16_MIN;
    s->prof_exp = PROF_EXP_START; /* grows to fit the first deviations */
    s->since_alert = INT32_MAX;
    s->last_alert_ms = INT64_MIN / 2;
}

double detect_evidence(const detect_state *s, int ch)
{
    return ch >= 0 && ch < DETECT_NCH ? (double)s->ev[ch] : 0.0;
}

/* -log10 of the upper Gaussian tail Q(z); asymptotic form for large z. */
static double neglog10_tail(double z)
{
    if (z <= 0.0) return LOG10_2;
    if (z < TAIL_ASYMPTOTIC_Z) return -log10(0.5 * erfc(z * INV_SQRT2));
    double lnq = -0.5 * z * z - log(z * SQRT_2PI);
    return -lnq * INV_LN10;
}

/* double -> float without the undefined out-of-range conversion */
static float to_float(double v)
{
    if (v > 3.0e38) return 3.0e38f;
    if (v < -3.0e38) return -3.0e38f;
    return (float)v;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* Feed one signal sample to channel i; return its evidence -log10 p
 * (0 while not scoring).  Everything compared uses earlier rows only.
 * x is the cleaned (winsorised) signal, which the state learns; excess is
 * raw minus cleaned (0 unless the row was clipped): this row's evidence is
 * that of the raw signal, whose short EWMA would sit excess * rate higher. */
static double chan_step(detect_state *s, int i, double x, double excess, double floor,
                        int scoring, double tscale)
{
    detect_chan *c = &s->chan[i];
    const detect_config *cf = &s->cfg;
    double rate = 1.0;
    if (s->n == 0) {
        c->m = c->base = x;
    } else {
        double span = (double)cf->span[i] * tscale;
        if (span < 1.0) span = 1.0;
        rate = 2.0 / (span + 1.0);
        c->m += rate * (x - c->m);
    }
    double dev = c->m - c->base;
    double out = 0.0;
    if (scoring) {
        double sd = (double)c->sd;
        if (sd < floor) sd = floor;
        double draw = excess != 0.0 ? dev + rate * excess : dev;
        double z = sd > 0.0 ? (draw - c->mu) / sd : 0.0;
        if (cf->sides[i] == 1) z = z > 0.0 ? z : 0.0;
        else z = fabs(z);
        out = neglog10_tail(z) - LOG10_2; /* two-sided p, or one-sided x2 */
        if (out < 0.0) out = 0.0;
    }
    /* update: baseline, then long-run stats of the deviation */
    double inv = 1.0 / (double)(s->n + 1);
    double ab = 2.0 / ((double)cf->base_rows + 1.0);
    c->base += (inv > ab ? inv : ab) * (x - c->base);
    double a = 1.0 / (double)cf->long_rows;
    if (a < inv) a = inv;
    double d = dev - (double)c->mu;
    double sd = (double)c->sd;
    c->mu = to_float((double)c->mu + a * d);
    c->sd = to_float(sqrt((1.0 - a) * (sd * sd + a * d * d)));
    return out;
}

/* Share of the contexts (last 1..DETECT_CTX_ORDER quantised values) never
 * seen before; records them.  A fixed bit set, so old contexts are never
 * forgotten and collisions only make the channel less eager. */
static double novelty(detect_state *s, double x)
{
    double q = floor(x / s->qwidth);
    int32_t qi = q > QUANT_MAX ? QUANT_MAX_I : q < -QUANT_MAX ? -QUANT_MAX_I : (int32_t)q;
    memmove(&s->qhist[1], &s->qhist[0], (DETECT_CTX_ORDER - 1) * sizeof s->qhist[0]);
    s->qhist[0] = qi;
    if (s->n < DETECT_CTX_ORDER) return 0.0;
    int novel = 0;
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int k = 0; k < DETECT_CTX_ORDER; k++) {
        h = mix64(h ^ (uint64_t)(uint32_t)s->qhist[k] ^ ((uint64_t)(k + 1) << 40));
        unsigned bit = (unsigned)(h % (DETECT_CTX_WORDS * 64));
        uint64_t mask = 1ULL << (bit & 63);
        if (!(s->ctx[bit >> 6] & mask)) {
            novel++;
            s->ctx[bit >> 6] |= mask;
        }
    }
    return (double)novel / DETECT_CTX_ORDER;
}

/* Tail calibration of channel i's evidence e (-log10 p) at scored row k
 * (0 = first scored row).  If the channel's p-values were calibrated, one
 * row in ten would have e >= 1 decade.  A channel whose deviation the
 * long-run mean and sd describe badly (a wander the baseline cannot follow,
 * volatility regimes, a lagging season profile) sits beyond that level
 * more often, and its p-values are then too small by about the ratio
 * observed rate / 0.1; log10 of that ratio is subtracted.  Only deflates:
 * a channel quieter than nominal (heavy tails inflate the sd, so spiky
 * series usually are) keeps its evidence.  The rate is an EW mean over the
 * long-run horizon, trusted once as many rows have been scored as the
 * warm-up had, and updated after use from the uncorrected evidence.
 * Measured on the NAB files: +0.13 standard at the best threshold, +0.56
 * averaged over evidence offsets (docs/design-detect.md, v7). */
static double tail_calibrate(detect_state *s, int i, double e, int64_t k)
{
    const detect_config *cf = &s->cfg;
    const double nominal = 0.1; /* P(e >= 1) for a calibrated p-value */
    double r = (double)s->rate[i];
    double out = e;
    if (k >= cf->warmup && r > nominal) {
        out = e - log10(r / nominal);
        if (out < 0.0) out = 0.0;
    }
    double a = 1.0 / (double)(k + 1), along = 1.0 / (double)cf->long_rows;
    if (a < along) a = along;
    s->rate[i] = k == 0 ? (float)nominal : to_float(r + a * ((e >= 1.0 ? 1.0 : 0.0) - r));
    return out;
}

/* A profile entry in value units (relative to prof_anchor). */
static double prof_get(const detect_state *s, int16_t q)
{
    return ldexp((double)q, s->prof_exp);
}

/* Store v (relative to prof_anchor) in *p; when it does not fit in int16,
 * the exponent grows by as many bits as needed and every stored entry is
 * rounded to the coarser unit (rare: about once per doubling of the
 * largest deviation). */
static void prof_put(detect_state *s, int16_t *p, double v)
{
    double q = nearbyint(ldexp(v, -s->prof_exp));
    if (fabs(q) > INT16_Q_MAX) {
        int by;
        (void)frexp(q / INT16_Q_MAX, &by);
        for (int i = 0; i < DETECT_NSLOT; i++)
            if (s->slot[i] != INT16_MIN)
                s->slot[i] = (int16_t)nearbyint(ldexp((double)s->slot[i], -by));
        for (int i = 0; i < DETECT_NWEEK; i++)
            s->week[i] = (int16_t)nearbyint(ldexp((double)s->week[i], -by));
        s->prof_exp = (int16_t)(s->prof_exp + by);
        q = nearbyint(ldexp(v, -s->prof_exp));
        if (q > INT16_Q_MAX) q = INT16_Q_MAX;
        if (q < -INT16_Q_MAX) q = -INT16_Q_MAX;
    }
    *p = (int16_t)q;
}

/* Residual of x from its time-of-day slot mean plus its hour-of-week offset;
 * updates both.  The daily profile learns x minus the offset in use; the
 * offset learns how far this 2-hour slot of the week sits from the daily
 * profile (weekends, a weekday's rush hour), at week_alpha per visit (the
 * per-row rate is scaled by the rows per visit).  The offset is learned
 * from the start but only used after DETECT_WEEK_MIN_DAYS of rows: with one
 * visit per slot it would otherwise subtract one week's noise, which cost
 * 2.8 points on the two-week AWS series (docs/design-detect.md, v8).
 * dt_ms: the sampling interval estimate (0 while unknown). */
static double season_resid(detect_state *s, int64_t t_ms, double x, double dt_ms)
{
    const detect_config *cf = &s->cfg;
    if (s->n == 0) s->prof_anchor = x;
    double xr = x - s->prof_anchor;
    int64_t ph = t_ms % cf->period_ms;
    if (ph < 0) ph += cf->period_ms;
    int k = (int)(ph * DETECT_NSLOT / cf->period_ms);
    const int64_t week_ms = JST_MS_PER_WEEK;
    int64_t pw = t_ms % week_ms;
    if (pw < 0) pw += week_ms;
    int kw = (int)(pw * DETECT_NWEEK / week_ms);
    double wl = prof_get(s, s->week[kw]), wv = 0.0, aw = 0.0;
    if (cf->week_alpha > 0.0f) {
        double dt = dt_ms > 0.0 ? dt_ms : DT_DEFAULT_MS;
        double per_visit = dt * DETECT_NWEEK / (double)week_ms; /* visits per row */
        aw = (double)cf->week_alpha * (per_visit < 1.0 ? per_visit : 1.0);
        if ((double)s->n * dt >= DETECT_WEEK_MIN_DAYS * (double)JST_MS_PER_DAY) wv = wl;
    }
    if (s->slot[k] == INT16_MIN) {
        prof_put(s, &s->slot[k], xr - wv);
        return 0.0;
    }
    double d = prof_get(s, s->slot[k]);
    double r = xr - d - wv;
    prof_put(s, &s->slot[k], d + (double)cf->season_alpha * r);
    if (aw > 0.0) prof_put(s, &s->week[kw], wl + aw * (xr - prof_get(s, s->slot[k]) - wl));
    return r;
}

double detect_step(detect_state *s, int64_t t_ms, double x)
{
    const detect_config *cf = &s->cfg;
    if (!isfinite(x)) x = s->n ? s->prev : 0.0;
    if (x > VALUE_MAX) x = VALUE_MAX;
    if (x < -VALUE_MAX) x = -VALUE_MAX;
    if (s->n == 0) {
        s->prev = x;
        s->vmin = s->vmax = x;
    }
    /* Bounded influence: the state learns x winsorised at robust_k robust
     * scales S of the one-step change; this row's value-channel evidence
     * uses the raw x (through `excess`).  A clipped row followed by another
     * beyond the limit on the same side is a level change: that row enters
     * as it is.  S is the EW mean of the cleaned |change| (plain mean over
     * the first rows), floored like the channels' sds (std_floor x range). */
    double xc = x;
    if (cf->robust_k > 0.0f) {
        double step = x - s->prev;
        int side = step > 0.0 ? 1 : step < 0.0 ? -1 : 0;
        if (s->n >= DETECT_ROBUST_SPAN) {
            double sc = (double)s->rscale, fl = (double)cf->std_floor * (s->vmax - s->vmin);
            if (sc < fl) sc = fl;
            double lim = (double)cf->robust_k * sc, tiny0 = 1e-9 * fabs(s->prev) + 1e-12;
            if (lim < tiny0) lim = tiny0;
            if (fabs(step) > lim && side != s->wild) {
                xc = s->prev + side * lim;
                s->wild = (int8_t)side;
            } else {
                s->wild = 0; /* within the limit, or a confirmed level change */
            }
        }
        if (s->n > 0) {
            double a = 1.0 / (double)s->n, amin = 2.0 / (DETECT_ROBUST_SPAN + 1.0);
            if (a < amin) a = amin;
            double sc = (double)s->rscale;
            s->rscale = to_float(sc + a * (fabs(xc - s->prev) - sc));
        }
    }
    double excess = x - xc;
    x = xc;
    if (x < s->vmin) s->vmin = x;
    if (x > s->vmax) s->vmax = x;
    double range = s->vmax - s->vmin;
    double tiny = RANGE_REL_MIN * fabs(x) + RANGE_ABS_MIN;
    if (range < tiny) range = tiny;
    if (s->n <= cf->warmup) s->qwidth = range / cf->nbins;
    int scoring = s->n >= cf->warmup;

    /* Sampling interval: EW mean of log(dt), each step's log(dt) limited to
     * +-log 4 around the estimate so gaps and bursts barely move it.  The
     * channel spans are row counts for span_ref_s sampling; coarser series
     * get tscale = ref / dt < 1, i.e. the same smoothing time constant.
     * Finer series keep the row spans (tscale <= 1). */
    if (s->n > 0 && t_ms > s->prev_ms) {
        double l = log((double)(t_ms - s->prev_ms));
        if (s->n == 1) {
            s->log_dt = (float)l;
        } else {
            double cur = (double)s->log_dt;
            if (l > cur + LN_4) l = cur + LN_4;
            if (l < cur - LN_4) l = cur - LN_4;
            s->log_dt = (float)(cur + (s->n < DT_START_ROWS ? DT_RATE_START : DT_RATE) * (l - cur));
        }
    }
    s->prev_ms = t_ms;
    /* one exp per row serves the spans and the weekly offsets' rate;
     * 0 until two rows have given an interval */
    double dt_ms = s->log_dt > 0.0f ? exp((double)s->log_dt) : 0.0;
    double tscale = 1.0;
    if (cf->span_ref_s > 0.0f && dt_ms > 0.0) {
        tscale = (double)cf->span_ref_s * MS_PER_SEC / dt_ms;
        if (tscale > 1.0) tscale = 1.0;
    }

    double sig[DETECT_NCH];
    sig[DETECT_CH_LEVEL_FAST] = x;
    sig[DETECT_CH_LEVEL_SLOW] = x;
    /* Page's CUSUM of the fast level's z at the previous row, both ways,
     * reset at 0: evidence of a small shift accumulates row by row */
    {
        double zf = (double)s->z_fast, kk = DETECT_CUSUM_K;
        double up = (double)s->cus_up + zf - kk, dn = (double)s->cus_dn - zf - kk;
        s->cus_up = to_float(up > 0.0 ? up : 0.0);
        s->cus_dn = to_float(dn > 0.0 ? dn : 0.0);
        sig[DETECT_CH_CUSUM] = (double)(s->cus_up > s->cus_dn ? s->cus_up : s->cus_dn);
    }
    sig[DETECT_CH_SEASON] = season_resid(s, t_ms, x, dt_ms);
    sig[DETECT_CH_NOVEL] = cf->weight[DETECT_CH_NOVEL] > 0.0f ? novelty(s, x) : 0.0;

    double best = 0.0;
    int active = 0;
    for (int i = 0; i < DETECT_NCH; i++) {
        if (cf->weight[i] <= 0.0f) {
            s->ev[i] = 0.0f;
            continue;
        }
        /* sd floor: value channels in units of the value range, the
         * novelty share and the CUSUM (a sum of z) in their own units */
        double floor = (double)cf->std_floor *
                       (i == DETECT_CH_NOVEL || i == DETECT_CH_CUSUM ? 1.0 : range);
        double ex = i == DETECT_CH_LEVEL_FAST || i == DETECT_CH_LEVEL_SLOW || i == DETECT_CH_SEASON
                        ? excess : 0.0;
        double e = chan_step(s, i, sig[i], ex, floor, scoring, tscale);
        if (scoring) e = tail_calibrate(s, i, e, s->n - cf->warmup);
        /* its z, for the CUSUM — during warm-up too, so that the CUSUM
         * channel learns its own spread before it is scored (otherwise it
         * sits at 0 through warm-up and its first values look enormous) */
        if (i == DETECT_CH_LEVEL_FAST) {
            const detect_chan *c = &s->chan[i];
            double sd = (double)c->sd;
            if (sd < floor) sd = floor;
            double z = sd > 0.0 ? (c->m - c->base - (double)c->mu) / sd : 0.0;
            s->z_fast = (float)(z > Z_FAST_MAX ? Z_FAST_MAX : z < -Z_FAST_MAX ? -Z_FAST_MAX : z);
        }
        s->ev[i] = to_float(e);
        active++;
        e *= cf->weight[i];
        if (e > best) best = e;
    }
    if (active > 1) best -= log10((double)active);
    if (!scoring || !(best > 0.0)) best = 0.0;

    s->prev = x;
    s->n++;

    double score = best / (best + (double)cf->score_k);
    /* episodes: one alert per incident, re-alert only on escalation */
    if (s->since_alert < INT32_MAX) s->since_alert++;
    int in_episode = s->since_alert <= cf->holdoff_rows &&
                     !(cf->holdoff_ms > 0 && t_ms - s->last_alert_ms > cf->holdoff_ms);
    if (!in_episode) s->ep_max = 0.0f;
    if (score > 0.0 && score >= (double)s->ep_max + (double)cf->margin) {
        s->ep_max = (float)score;
        s->since_alert = 0;
        s->last_alert_ms = t_ms;
    } else {
        score = 0.0;
    }
    if (!(score >= 0.0)) score = 0.0;
    if (score > 1.0) score = 1.0;
    return score;
}

void detect_events_init(detect_events *e, double threshold, int32_t quiet_points)
{
    memset(e, 0, sizeof *e);
    e->threshold = threshold;
    e->quiet_points = quiet_points > 0 ? quiet_points : 1;
}

int detect_events_feed(detect_events *e, int64_t t_ms, double score, detect_event *closed)
{
    if (score >= e->threshold) {
        if (!e->open) {
            e->open = 1;
            e->ev.start_ms = e->ev.peak_ms = t_ms;
            e->ev.peak = score;
        } else if (score > e->ev.peak) {
            e->ev.peak = score;
            e->ev.peak_ms = t_ms;
        }
        e->ev.end_ms = t_ms;
        e->quiet = 0;
        return 0;
    }
    if (e->open && ++e->quiet >= e->quiet_points) {
        *closed = e->ev;
        e->open = 0;
        e->quiet = 0;
        return 1;
    }
    return 0;
}

int detect_events_flush(detect_events *e, detect_event *open)
{
    if (!e->open)
        return 0;
    *open = e->ev;
    e->open = 0;
    return 1;
}
