/*
 * classify.h — what the law makes of an incident.
 *
 * Given an incident and the rulebook in force, decide the report owed
 * (serious / detailed / simple / none), which clauses applied, the deadlines,
 * and for a live incident the moment it turns serious if nothing changes.
 * classify_incident() does no allocation and no formatting; reasons and JSON
 * are produced separately, only when output is wanted.
 */
#ifndef JIKO_CLASSIFY_H
#define JIKO_CLASSIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "incident.h"
#include "jst.h"
#include "rules.h"

typedef enum classify_report {
    CLASSIFY_NONE = 0,
    CLASSIFY_SIMPLE,
    CLASSIFY_DETAILED,
    CLASSIFY_SERIOUS,
} classify_report;

typedef enum classify_lang { CLASSIFY_EN = 0, CLASSIFY_JA = 1 } classify_lang;

#define CLASSIFY_MAX_HITS 16

/* One clause that applied: which clause, which threshold line, and the
 * service and user count that met it. */
typedef struct classify_hit {
    int clause;    /* index into rulebook.clauses */
    int threshold; /* index into its thresholds; -1 for info_leak */
    int svc;       /* catalog service index, -1 when the whole incident counted */
    /* The line has 'mau >= N' and is met only because a service that lacks
     * services[].monthly_active_users was presumed to reach N (the reasons
     * say so; docs/rulebook-format.md gives the reading).  Placed before
     * `users` so that it fills padding: the result struct, cleared per
     * classification, does not grow. */
    bool mau_presumed;
    int64_t users;
} classify_hit;

typedef struct classify_result {
    const rulebook *book;
    bool forced;          /* rulebook chosen by --rulebook, not by date */
    classify_report report;
    bool minor;           /* excluded as a minor accident (軽微な事故) */
    int64_t now_ms;
    int64_t duration_ms;  /* ended − started, or now − started while ongoing */
    int64_t users;        /* counted users of the whole incident */
    classify_hit serious[CLASSIFY_MAX_HITS];
    int n_serious;
    classify_hit quarterly[CLASSIFY_MAX_HITS];
    int n_quarterly;
    bool simple_allowed;  /* failed equipment allows the simple form */
    bool has_prompt, has_written, has_quarterly, has_becomes;
    int64_t prompt_ms;    /* the moment the prompt-report duty arose */
    jst_date written;     /* last day for the written report (moved past holidays) */
    jst_date quarterly_due;
    /* The dates the periods give before 行政機関の休日に関する法律 第2条
     * moves them; equal to the above when nothing moved. */
    jst_date written_period_end, quarterly_period_end;
    /* A year the holiday calendar does not cover that a deadline reached (0:
     * none).  The deadline is then not given (has_* false): never a guess. */
    int written_gap_year, quarterly_gap_year;
    /* 重大な事故が生ずるおそれがあると認められる事態: owed when the rulebook has
     * [osore core_network] and the incident meets every condition; due 30
     * days after the day it was noticed (覚知), moved past holidays */
    bool osore;
    bool has_osore_due;
    jst_date osore_due, osore_period_end;
    int osore_gap_year;
    /* 通信の秘密の漏えい (施行規則 第57条 表二): due 30 days after the day the
     * operator learnt of it */
    bool has_secrecy_due;
    jst_date secrecy_due, secrecy_period_end;
    int secrecy_gap_year;
    int64_t becomes_ms;   /* ongoing only: earliest moment it is (or was) serious */
    int becomes_clause, becomes_threshold;
    bool becomes_mau_presumed; /* that line holds only by the presumption above */
} classify_result;

/* Classify under `book` (never NULL).  `now_ms` matters only while ongoing. */
void classify_incident(const rulebook *book, const catalog *cat, const incident *inc,
                       int64_t now_ms, classify_result *r);

/* For an incident with an osore_event: the first field that keeps it from
 * being a reportable おそれ事態 under the rulebook's [osore core_network], or
 * NULL when every condition is met. */
const char *classify_osore_unmet(const rulebook *book, const incident *inc);

/* Fails (JIKO_ERR_INVALID, field started_at, naming `file` and `line`) when
 * a deadline could not be moved past the administrative holidays because the
 * holiday calendar lacks its year: "no holiday calendar for 2031 ...". */
int classify_check_calendar(const classify_result *r, const catalog *cat, const char *file,
                            long line, jiko_error *err);

/* The contract's string for a report: "serious", "detailed", "simple", "none". */
const char *classify_report_name(classify_report r);

/* The output object of incident-format.md, keys in contract order. */
json_t *classify_to_json(const classify_result *r, const incident *inc, const catalog *cat,
                         classify_lang lang);

/* Human-readable reasons, each citing its clause; an array of strings. */
json_t *classify_reasons(const classify_result *r, const incident *inc, const catalog *cat,
                         classify_lang lang);

#endif
