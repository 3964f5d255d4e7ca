/* detect.h — streaming anomaly detector for one univariate series (C17).
 *
 * One detect_state per series: fixed size (at most DETECT_STATE_MAX_BYTES =
 * 1 KiB; 1000 bytes on 64-bit targets), no heap, no global state, no I/O.
 * detect_step() consumes one (time, value) point and returns
 * an anomaly score in [0, 1] that depends only on this point and earlier
 * ones (one pass, no look-ahead, deterministic).
 *
 * Method (details and measurements in docs/design-detect.md):
 *  - five cheap evidence channels, each a short EWMA of a raw signal
 *    (spans in rows at 5-minute sampling; for coarser sampling the spans
 *    shrink so that each keeps its time constant):
 *      LEVEL_FAST / LEVEL_SLOW  the value itself (spans 20 / 60 rows)
 *      CUSUM                    two-sided CUSUM (Page) of the fast level's
 *                               z, drift DETECT_CUSUM_K, reset at 0 (span 1):
 *                               accumulated evidence of a sustained shift
 *      SEASON                   x minus a time-of-day profile (96 slots)
 *                               plus an hour-of-week offset (84 slots of
 *                               2 h, used after 14 days of data)
 *      NOVEL                    share of never-seen quantised contexts
 *  - each channel: deviation d = short EWMA - slow baseline (span 1000);
 *    z = (d - mean d) / sd d with d's own long-run (3000-row) mean and
 *    variance, so autocorrelation and noise level of *this* series set the
 *    scale; evidence e = -log10 of the Gaussian tail p of z;
 *  - tail calibration: each channel tracks how often its e reaches 1 decade
 *    (nominal: one row in ten); when that rate r is higher, e is lowered by
 *    log10(r / 0.1), so a channel that alarms more than its p-values promise
 *    is believed less;
 *  - the channels combine as max(w_i e_i) - log10(#channels) (Bonferroni);
 *  - score = e / (e + K), a monotone map of a tail probability, so one
 *    threshold means the same thing on every series;
 *  - episodes: after an alert, later scores are zeroed unless they beat the
 *    episode's maximum by a margin, until min(holdoff_rows, holdoff_ms) has
 *    passed since the last alert (one alert per incident, re-alert when it
 *    escalates);
 *  - bounded influence (v9, robust_k > 0; off by default): the state learns
 *    each value winsorised at robust_k robust scales of the one-step change
 *    (S, the EW mean of |cleaned change| over DETECT_ROBUST_SPAN rows); the
 *    row's own evidence still uses the raw value.  A clipped row followed
 *    by one beyond the limit on the same side is a level change and enters
 *    unclipped.  So a lone outlier of any size moves the state like one
 *    sample K*S from its neighbour (docs/watch.md: the recovery time).
 */
#ifndef JIKO_DETECT_H
#define JIKO_DETECT_H

#include <stdint.h>

enum {
    DETECT_CH_LEVEL_FAST, /* value, short smoothing: spikes, bursts, shifts */
    DETECT_CH_LEVEL_SLOW, /* value, longer smoothing: slow bumps, drifts */
    DETECT_CH_CUSUM,      /* CUSUM of the fast level's z: sustained small shifts */
    DETECT_CH_SEASON,     /* residual from the time-of-day profile */
    DETECT_CH_NOVEL,      /* novelty of quantised value contexts */
    DETECT_NCH
};

#define DETECT_NSLOT 96     /* time-of-day slots of the seasonal profile */
#define DETECT_NWEEK 84     /* hour-of-week slots (2 h) of the weekly offsets */
#define DETECT_WEEK_MIN_DAYS 14 /* weekly offsets are learned from the start
                                   but used once 14 days of rows were seen */
#define DETECT_CTX_WORDS 32 /* context set: 32 * 64 = 2048 hashed bits */
#define DETECT_CTX_ORDER 3  /* contexts of 1..3 consecutive quantised values */
#define DETECT_CUSUM_K 1.0  /* CUSUM drift (reference value) in units of z */
#define DETECT_ROBUST_SPAN 20 /* rows: span of the robust scale S, and the rows
                                 seen before values are winsorised */

typedef struct detect_config {
    float weight[DETECT_NCH]; /* evidence multiplier; 0 disables a channel */
    float span[DETECT_NCH];   /* EWMA span (rows) of the channel smoother */
    int8_t sides[DETECT_NCH]; /* 1: only increases count, 2: both ways */
    int32_t warmup;           /* rows before any non-zero score */
    int32_t nbins;            /* quantisation levels over the warm-up range */
    int32_t holdoff_rows;     /* episode length cap in rows ... */
    float span_ref_s;         /* sampling interval (s) the spans are given
                                 for; coarser series get proportionally
                                 shorter spans (same time constant); 0: off */
    int64_t holdoff_ms;       /* ... and in time (whichever ends first) */
    int64_t period_ms;        /* seasonal period (one day) */
    float long_rows;        /* horizon of the channels' long-run stats */
    float base_rows;        /* span of the per-channel slow baseline */
    float score_k;          /* score = e / (e + K) */
    float std_floor;        /* sd floor relative to the value range seen */
    float margin;           /* score rise over the episode max to re-alert */
    float season_alpha;     /* EWMA rate of a time-of-day slot */
    float week_alpha;       /* EWMA rate of a weekly offset per visit of
                               its 2-hour slot; 0 disables the weekly part */
    float robust_k;         /* values enter the state winsorised at this many
                               robust scales of the one-step change; 0 (the
                               default) disables it: bit-identical to v8.
                               8 is the value decided for v9; it is off until
                               the NAB decision (docs/design-detect.md v9) */
} detect_config;

typedef struct detect_chan {
    double m;    /* short EWMA of the raw signal (value units: double, because
                    m - base cancels on series with a large offset) */
    double base; /* slow baseline of the raw signal */
    float mu;    /* long-run mean of m - base (a deviation: float is enough) */
    float sd;    /* long-run standard deviation of m - base (sd, not the
                    variance, so that float's range covers deviations to 3e38) */
} detect_chan;

typedef struct detect_state {
    detect_config cfg;
    int64_t n;             /* rows seen */
    int64_t prev_ms;       /* time of the previous row */
    int64_t last_alert_ms; /* time of the last alert */
    float ep_max;          /* highest alert score of the current episode */
    float rscale;          /* S: EW mean |cleaned one-step change| (robust scale) */
    double prev;           /* previous value, as cleaned (winsorised) */
    double vmin, vmax;     /* range of the cleaned values seen so far */
    double qwidth;         /* quantisation bin width (fixed after warm-up) */
    int32_t qhist[DETECT_CTX_ORDER]; /* last quantised values, newest first */
    float log_dt;          /* EW mean of log(sampling interval in ms) */
    detect_chan chan[DETECT_NCH];
    float ev[DETECT_NCH];  /* last evidence (-log10 p) per channel */
    float rate[DETECT_NCH]; /* EW rate of rows with raw evidence >= 1 decade
                               (nominal 0.1), for the tail calibration */
    int32_t since_alert;   /* rows since the last alert (saturating) */
    float cus_up, cus_dn;  /* CUSUM sums of the fast level's z, up and down */
    float z_fast;          /* signed z of LEVEL_FAST at the previous row */
    /* Seasonal profiles, stored as int16 multiples of 2^prof_exp relative
     * to prof_anchor (the first value): half the memory of floats, which
     * pays for the weekly offsets.  The exponent grows (and every entry is
     * halved) when a value no longer fits, so the resolution is about
     * 1/16384 of the largest deviation seen, far below any noise. */
    double prof_anchor;
    int16_t prof_exp;
    int8_t wild;           /* side (-1/+1) of the previous row's clip; 0: none */
    int8_t spare_;
    int16_t slot[DETECT_NSLOT]; /* time-of-day profile; INT16_MIN: not seen */
    int16_t week[DETECT_NWEEK]; /* hour-of-week offset from the daily profile */
    uint64_t ctx[DETECT_CTX_WORDS];
} detect_state;

/* The state's budget: about 1 KiB per series, so that a million series fit
 * in a gigabyte (docs/design-detect.md records 1000 bytes on 64-bit
 * targets; every field added since v4 was paid for inside it). */
#define DETECT_STATE_MAX_BYTES 1024
_Static_assert(sizeof(detect_state) <= DETECT_STATE_MAX_BYTES,
               "detect_state outgrew its 1 KiB budget (docs/design-detect.md)");

/* Fill c with the tuned defaults (see docs/design-detect.md). */
void detect_config_default(detect_config *c);

/* Reset s to a fresh detector using a copy of c (c may be freed after). */
void detect_init(detect_state *s, const detect_config *c);

/* Feed one point (t_ms: Unix time in ms, any monotone epoch works; value:
 * non-finite values are treated as a repeat of the previous value).  Returns
 * the anomaly score in [0, 1].  The score of this row uses the raw value;
 * the state learns it winsorised (see robust_k). */
double detect_step(detect_state *s, int64_t t_ms, double value);

/* Evidence (-log10 p, before weighting) of channel ch at the last step; for
 * diagnostics and for explaining an alert.  0 for an invalid ch. */
double detect_evidence(const detect_state *s, int ch);

/* ---- anomaly events ---------------------------------------------------- */

/* The score above which a point is an alert: the single threshold that is
 * best for all NAB series together (scores are calibrated tail
 * probabilities, so one threshold fits every series). */
#define DETECT_ALERT_THRESHOLD 0.421

/* Turns a stream of scores into events: an event opens at the first score
 * at or above the threshold, takes the highest score as its peak, and closes
 * after `quiet_points` consecutive points below the threshold. */
typedef struct detect_event {
    int64_t start_ms, peak_ms, end_ms; /* end: last point at or above threshold */
    double peak;
} detect_event;

typedef struct detect_events {
    double threshold;
    int32_t quiet_points, quiet;
    int open;
    detect_event ev;
} detect_events;

void detect_events_init(detect_events *e, double threshold, int32_t quiet_points);

/* Feed one scored point; returns 1 and fills *closed when an event ends. */
int detect_events_feed(detect_events *e, int64_t t_ms, double score, detect_event *closed);

/* At the end of a stream: returns 1 and fills *open when an event is open. */
int detect_events_flush(detect_events *e, detect_event *open);

#endif
