/* ensemble.h — the full anomaly detector: a small ensemble of evidence
 * members, each calibrated against its own series' history to a common
 * false-alarm rate (C17).
 *
 * One ensemble_state per series: fixed size (sizeof is given in
 * docs/design-detect.md and asserted below to stay within
 * ENSEMBLE_STATE_MAX_BYTES), no heap, no pointers (the live engine
 * checkpoints states with memcpy), no global state, no I/O.
 * ensemble_step() consumes one (time, value) point and returns an anomaly
 * score in [0, 1] that depends only on this point and earlier ones.
 *
 * Method (why each part is there, and the measurements that chose it:
 * docs/design-detect.md):
 *  - three members: the value smoothed over 1 hour and over 6 hours (a
 *    short outage, a slow incident), and the residual from a daily and
 *    weekly load profile smoothed over 1 hour; each against a slow baseline
 *    (3 days) and standardised by its own long-run mean and spread (2 weeks);
 *  - calibration to a common false-alarm rate: each member keeps a
 *    histogram of its |z| over the long run; its Gaussian evidence
 *    -log10 p(|z|) is lowered by how much more often than a Gaussian its
 *    |z| passes its own 99th percentile.  A heavy-tailed member is believed
 *    less, by a constant that keeps the far tail's growth, so a given
 *    evidence means about the same row-level false-alarm rate everywhere;
 *  - evidence = max over members - log10(members) (Bonferroni);
 *  - score = e / (e + ENSEMBLE_SCORE_K), emitted only when it beats the
 *    current episode's maximum by ENSEMBLE_MARGIN; an episode ends a day
 *    after its last alert (one page per incident, re-page on escalation);
 *  - bounded influence: the state learns each value clipped at clip_k
 *    long-run spreads of the value's deviation from its baseline (the row's
 *    own evidence uses the raw value); two clipped rows in a row on the
 *    same side are a level change and enter as they are;
 *  - NaN and inf are missing samples: score 0, nothing learned.
 */
#ifndef JIKO_ENSEMBLE_H
#define JIKO_ENSEMBLE_H

#include <stdint.h>

enum {
    ENSEMBLE_M_SHORT,  /* the value smoothed over 1 hour */
    ENSEMBLE_M_LONG,   /* the value smoothed over 6 hours */
    ENSEMBLE_M_SEASON, /* residual from the daily + weekly profile, 1 hour */
    ENSEMBLE_NMEMBER
};

#define ENSEMBLE_NSLOT 96    /* daily profile: 15-minute slots */
#define ENSEMBLE_NWEEK 168   /* weekly offsets: hour-of-week slots */
#define ENSEMBLE_NBIN 64     /* histogram of |z|: bins of 1/4, the last open */
#define ENSEMBLE_BIN_W 0.25f

typedef struct ensemble_config {
    int64_t span_ms[ENSEMBLE_NMEMBER]; /* smoothing time constant per member */
    int64_t base_ms;     /* slow baseline time constant */
    int64_t long_ms;     /* horizon of the long-run statistics */
    int64_t holdoff_ms;  /* an episode ends this long after its last alert */
    int32_t warmup;      /* rows before any non-zero score */
    float tail_q;        /* the tail is checked at the 1 - tail_q quantile */
    float clip_k;        /* the state learns values clipped at this many sds */
} ensemble_config;

/* A smoothed signal against its own slow baseline, with the long-run mean
 * and spread of the difference. */
typedef struct ensemble_stat {
    double m;     /* short EWMA of the signal */
    double base;  /* slow baseline of the signal */
    float mu, sd; /* long-run mean and sd of m - base */
} ensemble_stat;

typedef struct ensemble_member {
    ensemble_stat st;
    float u;      /* the 1 - tail_q quantile of |z| over the long run */
    float ev;     /* last evidence, -log10 p, for diagnostics */
    float w;      /* weight of the next row: it grows, which is the decay */
    float total;  /* sum of the weights in hist */
    float last_sum; /* weighted sum of the |z| in the last (open) bin */
    float hist[ENSEMBLE_NBIN]; /* weighted counts of |z| over the long run */
} ensemble_member;

typedef struct ensemble_state {
    ensemble_config cfg;
    int64_t n;              /* rows seen (finite values) */
    int64_t prev_ms;        /* time of the previous row */
    int64_t last_alert_ms;  /* time of the last emitted score */
    double dt_ms;           /* sampling interval estimate (running median) */
    double anchor;          /* first value: profiles are stored relative to it */
    double vmin, vmax;      /* range of the learned values so far (sd floor) */
    float ep_max;           /* highest score of the current episode */
    int8_t wild;            /* side of the previous row's clip; 0: none */
    int8_t spare_[3];
    ensemble_stat ref;      /* the raw value against its baseline: the clip */
    ensemble_member mem[ENSEMBLE_NMEMBER];
    float slot[ENSEMBLE_NSLOT];   /* daily profile, relative to anchor; NaN: unseen */
    float week[ENSEMBLE_NWEEK];   /* hour-of-week offset from the daily profile */
} ensemble_state;

/* The budget of the full mode: at most 64 KiB per series. */
#define ENSEMBLE_STATE_MAX_BYTES 65536
_Static_assert(sizeof(ensemble_state) <= ENSEMBLE_STATE_MAX_BYTES,
               "ensemble_state outgrew its 64 KiB budget (docs/design-detect.md)");

/* score = e / (e + K) and the episode margin in score units */
#define ENSEMBLE_SCORE_K 5.0
#define ENSEMBLE_MARGIN 0.2

/* The score at or above which a point is an alert: the best standard
 * threshold on the public NAB files (each leave-one-category-out fold chose
 * its own on the other three: 0.3933 in three folds, 0.4007 in one;
 * docs/design-detect.md). */
#define ENSEMBLE_ALERT_THRESHOLD 0.393

/* Fill c with the defaults (docs/design-detect.md). */
void ensemble_config_default(ensemble_config *c);

/* Reset s to a fresh detector using a copy of c. */
void ensemble_init(ensemble_state *s, const ensemble_config *c);

/* Feed one point (t_ms: Unix time in ms; a non-finite value is a missing
 * sample: the state does not learn it and the score is 0).  Returns the
 * anomaly score in [0, 1]. */
double ensemble_step(ensemble_state *s, int64_t t_ms, double value);

/* Evidence (-log10 p) of member i at the last step; 0 for an invalid i. */
double ensemble_evidence(const ensemble_state *s, int i);

#endif
