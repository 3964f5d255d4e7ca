/*
 * live_conf.h — what the live engine watches and how it behaves: the
 * [watch NAME] and [live] sections of the server's configuration file
 * (docs/watch.md).
 *
 *     [watch dns-tokyo]
 *     match     = dns_failure_ratio{site="tokyo"}   # match.h
 *     operator  = Demo ISP
 *     service   = internet_access                   # a service catalog code
 *     users     = 1200000        # users served by what this series measures
 *     detect    = anomaly        # anomaly | capacity | both
 *     limit     = 1.0            # capacity: the value at exhaustion
 *     effect    = degrade        # stop | degrade (default degrade)
 *     equipment = application_server                # equipment catalog code
 *     area      = 東京都
 *     population = tokyo-dns        # watches of the same users: counted once
 *     wholesale_to    = MVNO A, MVNO B    # receiving operators (卸先), each
 *     wholesale_users = 30000, 20000      # with its own users affected
 *
 *     [live]
 *     group_window_min = 30      # events this close join one incident
 *     lead_minutes     = 60, 30, 10
 *     close_samples    = 3       # normal samples before an incident ends ...
 *     close_min        = 5       # ... and normal minutes (both)
 *     max_series       = 100000
 *     checkpoint       = /var/lib/jiko/live.ckpt
 *     checkpoint_s     = 60
 *     clock            = wall     # samples: back-testing a recording
 *     history          = 720      # samples kept per watched series (dashboard)
 *     detector         = light    # full: 2 KiB a series (docs/watch.md)
 *
 * Sections of other types ([serve], [webhook]) are left to their modules.
 */
#ifndef JIKO_LIVE_CONF_H
#define JIKO_LIVE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "conf.h"
#include "error.h"
#include "incident.h"
#include "match.h"

#define LIVE_MAX_LEADS 8

/* What watches a series: the anomaly detector, the capacity forecaster
 * (needs the limit), or both. */
typedef enum live_detect {
    LIVE_DETECT_ANOMALY = 1,
    LIVE_DETECT_CAPACITY = 2,
    LIVE_DETECT_BOTH = LIVE_DETECT_ANOMALY | LIVE_DETECT_CAPACITY
} live_detect;

typedef struct live_watch {
    char *name;            /* the section's name */
    match_selector *match;
    char *match_text;      /* as written, for messages */
    char *op;              /* operator */
    char *service;         /* catalog code */
    int64_t users;
    /* Watches of one population look at the same users (a POP's connections
     * and its logins): counted once, the largest; different populations
     * (Tokyo's resolvers and Osaka's) add up.  Default: the watch's name. */
    char *population;
    live_detect detect;
    double limit;          /* capacity: the value at exhaustion; 0 = none */
    incident_effect effect;
    char *equipment;       /* catalog code or NULL */
    char *area;            /* free text or NULL */
    /* Operators receiving this service wholesale (卸役務): each gets a
     * linked incident of its own with its users. */
    char **wholesale_to;
    int64_t *wholesale_users;
    size_t n_wholesale;
    long line;             /* of the section header */
} live_watch;

/* Receiving operators per watch, at most. */
#define LIVE_MAX_WHOLESALE 32

typedef struct live_conf {
    live_watch *watches;
    size_t n_watches;
    int64_t group_window_ms;
    int64_t lead_ms[LIVE_MAX_LEADS]; /* descending */
    int n_leads;
    int close_samples;
    int64_t close_ms;
    size_t max_series;
    bool clock_samples; /* clock = samples: the law applied as of the samples' time */
    char *checkpoint; /* NULL: none */
    int64_t checkpoint_ms;
    /* The last samples of each watched series, with their scores, kept for
     * the dashboard's chart of an incident (0: none kept). */
    int history;
    /* Each series' anomaly detector: the light one (detect.h, 1000 bytes)
     * or the full one (ensemble.h, 2120 bytes: not blinded by a wild value,
     * catches level shifts on seasonal load; docs/design-detect.md). */
    bool detector_full;
} live_conf;

/* The defaults: no watch, 30 min, 60/30/10 min, 3 samples and 5 min,
 * 100,000 series, no checkpoint file, 60 s, 720 samples of history. */
void live_conf_default(live_conf *c);

/* Read the [watch NAME] and [live] sections of f, checking service and
 * equipment codes against cat.  Errors (JIKO_ERR_CONFIG) name the file,
 * line and key.  On failure c holds what it held before plus nothing to
 * leak (live_conf_free is still right). */
int live_conf_load(live_conf *c, const conf_file *f, const catalog *cat, jiko_error *err);

void live_conf_free(live_conf *c);

#endif
