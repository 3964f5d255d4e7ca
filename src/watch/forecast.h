/*
 * forecast.h — streaming capacity-exhaustion forecaster for gauges with a
 * known limit (disk used vs size, memory used vs total, sessions vs table
 * maximum, queue or buffer depth vs capacity).
 *
 * Four of the seven FY2021 serious accidents were a resource running out:
 * memory in minutes, buffers and session tables in tens of minutes to hours,
 * an archive-log disk over two weeks.  One forecaster therefore watches the
 * same series at four time scales in parallel and reports the earliest
 * exhaustion that is *credible*:
 *
 *   scale  bucket  window (16 buckets)  catches
 *   0      8 s     ~2 min               connection surges (memory)
 *   1      2 min   ~32 min              retry storms (sessions, buffers)
 *   2      30 min  ~8 h                 leaks of hours; seasonally adjusted
 *   3      1 day   ~16 days             slow fills; daily peaks, week-over-week
 *
 * Each scale averages samples into fixed time buckets (the daily scale keeps
 * the daily maximum instead), and at every bucket close fits a robust line
 * (least squares, residuals clipped at 2.5 sigma, refitted) over the
 * last 6, 11 and 16 buckets, so a trend that started recently is not diluted
 * by the flat history before it.  A fit becomes a forecast only when
 *   - it has at least min_buckets buckets,
 *   - its slope is significant (t >= t_min), and
 *   - the time to the limit is at most extrapolate x the span it was fitted
 *     on (a 2-minute fit says nothing about next week), and
 *   - on the fast scales, two bucket closes in a row agreed (they fit
 *     thousands of times a day; one noise excursion must not warn).
 * Seasonality: a daily peak is not a trend.  The daily scale works on daily
 * maxima (immune to the daily cycle) and, once two weeks are known, takes the
 * smaller of its slope and the week-over-week slope (immune to weekday /
 * weekend).  The 2-minute and 30-minute scales compare their slope with the
 * largest slope seen at the same hour on earlier days, need at least twice
 * that, and forecast only the excess (the 30-minute scale from the recent
 * daily peak, and only after a week of such history).  The fast scales can
 * only believe ramps that reach the limit within about an hour, which smooth
 * daily cycles never do.
 * Resets (log rotation, cleanup, restart): a drop of more than reset_drop of
 * the limit, confirmed by the next sample, restarts the trend of every scale
 * rather than producing a negative growth; scales whose bucket is longer
 * than half the interval between resets keep their history, so a disk that
 * is cleaned every night is judged on its nightly peaks.
 *
 * forecast_step() is the hot path: no allocation, no I/O, constant memory
 * (sizeof(forecast_state) is under 2 KiB), deterministic.  forecast_eval()
 * is cheap and does not change the state.  forecast_reason() formats English
 * text for people and is not meant for the hot path.
 */
#ifndef JIKO_FORECAST_H
#define JIKO_FORECAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define FORECAST_NSCALE 4  /* time scales watched in parallel */
#define FORECAST_NBUCKET 16 /* buckets kept per scale */
#define FORECAST_NWIN 3     /* fit windows per scale: last 6, 11, 16 buckets */
#define FORECAST_NSLOT 24   /* hour-of-day slots of the seasonal slope reference */
#define FORECAST_NSEASON 2  /* scales that may be compared with earlier days */
#define FORECAST_NEVER INT64_MAX

typedef struct forecast_config {
    int64_t bucket_ms[FORECAST_NSCALE]; /* bucket width of each scale, increasing */
    bool bucket_max[FORECAST_NSCALE];   /* bucket value is the max (peaks), not the mean */
    /* Scales whose slope is compared with the largest slope seen at the same
     * hour (+-1 h) on earlier days, so a daily ramp is not taken for a trend
     * (defaults 1 and 2; -1 none).  season_min_days: days of such history a
     * scale needs before it may forecast at all; 0 lets it forecast without
     * adjustment until an hour has history (default 0 for the 2-minute scale,
     * which must see a storm on day one; 7 for the 30-minute scale, which
     * cannot tell a week's pattern from a trend sooner). */
    int season_scale[FORECAST_NSEASON];
    int season_min_days[FORECAST_NSEASON];
    int weekly_scale;    /* daily-bucket scale checked week over week; -1 none */
    int64_t horizon_ms;  /* warn when the early bound is this close (default 7 days) */
    int64_t tz_offset_ms; /* where days and hours start (default JST, +9 h) */
    int min_buckets;     /* fewest buckets a fit may use (default 6) */
    int confirm[FORECAST_NSCALE]; /* bucket closes in a row that must foresee
                          * exhaustion before a scale is believed (2, 2, 1, 1) */
    double t_min;        /* slope significance needed to believe a trend, as a normal
                          * z (default 4); short fits need more (Student t, same p) */
    double z;            /* band half-width in standard errors (default 1.645: 90 %) */
    double extrapolate;  /* credible only up to this x the fitted span (default 2) */
    double reset_drop;   /* drop, as a fraction of the limit, that is a reset (0.10) */
    double season_ratio; /* ... and must be at least this x that slope (default 2) */
    double season_decay; /* per-day decay of the seasonal slope reference (0.98:
                          * a weekday ramp is still remembered next Monday) */
} forecast_config;

/* One closed bucket; idx counts buckets from the scale's first one. */
typedef struct forecast_bucket {
    float v;
    int32_t idx;
    uint16_t pos; /* when v was seen, in 1/65535 of the bucket: the mean sample
                   * time for means, the time of the peak for maxima */
} forecast_bucket;

/* A line fitted at the last bucket close; values are fractions of the limit. */
typedef struct forecast_fit {
    float slope; /* per hour */
    float se;    /* standard error of the slope, per hour */
    float level; /* fitted value at the start of the newest bucket */
    float sd;    /* robust residual standard deviation */
    int16_t n;   /* buckets used; 0 = no fit */
    int16_t span; /* buckets from oldest to newest used, inclusive */
} forecast_fit;

typedef struct forecast_scale {
    int64_t base;    /* bucket number (since the epoch, tz-shifted) of idx 0 */
    int32_t open_idx;
    int32_t open_n;  /* samples in the open bucket; 0 = none open */
    float open_sum, open_max;
    float open_tsum, open_tmax; /* sum of sample positions, position of the max */
    int32_t head, count; /* ring: next slot to write, buckets held */
    int32_t newest_idx;
    int32_t streak;  /* closes in a row with a credible exhaustion */
    forecast_bucket ring[FORECAST_NBUCKET];
    forecast_fit fit[FORECAST_NWIN];
} forecast_scale;

typedef struct forecast_state {
    forecast_config cfg;
    double limit;
    int64_t n;            /* samples accepted */
    int64_t last_ms;      /* time of the last sample */
    int64_t last_reset_ms; /* INT64_MIN: never */
    int64_t resets;       /* confirmed resets */
    float last;           /* last value, fraction of the limit */
    float fast;           /* short EWMA of the value: reference for resets and
                           * for wild readings (see forecast_step) */
    int8_t wild;          /* side (-1 drop, +1 rise) of the previous sample when it
                           * was beyond reset_drop from `fast`; 0: it was not */
    bool weekly_ok;       /* week-over-week slope known */
    float weekly_slope;   /* per hour, from the daily scale */
    int32_t day;          /* current day number (tz-shifted) */
    float day_max, prev_day_max; /* today's and yesterday's peak; -1 = unknown */
    int32_t season_days;  /* day changes seen by the seasonal reference */
    /* Per seasonal scale and hour of day: the largest slope (any window)
     * seen today, and the decayed maximum over earlier days (-1 = never). */
    float season_today[FORECAST_NSEASON][FORECAST_NSLOT];
    float season_ref[FORECAST_NSEASON][FORECAST_NSLOT];
    forecast_scale sc[FORECAST_NSCALE];
} forecast_state;

typedef enum forecast_status {
    FORECAST_UNKNOWN = 0, /* not enough history at any scale */
    FORECAST_STABLE,      /* no credible growth towards the limit */
    FORECAST_GROWING,     /* credible growth; the limit is reached at eta */
    FORECAST_EXHAUSTED,   /* the last value is at or above the limit */
} forecast_status;

typedef struct forecast_result {
    forecast_status status;
    bool warn;          /* early bound within the horizon (or exhausted) */
    int scale;          /* scale that gave the forecast; -1 none */
    int window;         /* its fit window (0..FORECAST_NWIN-1); -1 none */
    int64_t bucket_ms;  /* that scale's bucket width; 0 none */
    int fit_buckets;    /* buckets the fit used */
    const char *basis;  /* what was fitted, e.g. "daily peaks" (static text) */
    int64_t now_ms;
    int64_t eta_ms;     /* expected exhaustion; FORECAST_NEVER when none */
    int64_t early_ms;   /* early and late bounds of the band; */
    int64_t late_ms;    /* late_ms is FORECAST_NEVER when growth may be 0 */
    double confidence;  /* two-sided coverage of the band, e.g. 0.90 */
    double value;       /* last value (units of the limit) */
    double level;       /* level the forecast starts from (units of the limit) */
    double limit;
    double rate_per_s;  /* growth rate in units per second (most significant fit) */
    double t_stat;      /* its t-statistic */
    int64_t horizon_ms;
    int64_t resets;
} forecast_result;

/* Defaults described on the fields above. */
void forecast_config_default(forecast_config *cfg);

/* Start a forecaster for a gauge whose limit is `limit` (> 0, finite).
 * `cfg` may be NULL for the defaults.  Returns 0, or -1 and fills err. */
int forecast_init(forecast_state *s, const forecast_config *cfg, double limit,
                  jiko_error *err);

/* forecast_step() results: the sample is taken (0) or ignored. */
enum {
    FORECAST_OK = 0,
    FORECAST_ERR_TIME = -1,  /* earlier than the previous sample */
    FORECAST_ERR_VALUE = -2, /* the value is not a finite number (NaN, inf) */
};

/* Feed one sample; times must not go backwards.  Returns FORECAST_OK, or
 * FORECAST_ERR_VALUE / FORECAST_ERR_TIME when the sample is ignored (a bad
 * value is reported first when both are wrong).
 * Bounded influence: a sample more than reset_drop of the limit away from
 * the recent level, after one that was not, is held: the trend state takes
 * the recent level in its place (the reported value and the exhausted status
 * use the sample).  The next sample decides: beyond reset_drop on the same
 * side too, the level moved (a drop restarts the trend); otherwise the held
 * sample was a lone outlier and never entered the buckets. */
int forecast_step(forecast_state *s, int64_t t_ms, double value);

/* The forecast as of now_ms (normally the time of the last sample). */
void forecast_eval(const forecast_state *s, int64_t now_ms, forecast_result *out);

/* "Short name" of a status: "unknown", "stable", "growing", "exhausted". */
const char *forecast_status_name(forecast_status st);

/* One English sentence for people, naming the time scale, the rate, the
 * expected time and band (in JST) and the warning.  `what` names the gauge
 * ("disk /var/archive"); may be NULL.  Returns buf. */
const char *forecast_reason(const forecast_result *r, const char *what, char *buf,
                            size_t size);

#endif
