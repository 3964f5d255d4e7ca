/*
 * report.h — the yearly statistics of telecom accidents as MIC publishes them
 * (seed 000, "電気通信サービスの事故発生状況"), computed from the registry.
 *
 * What is counted, and how (docs/reports.md has the reasoning):
 * - Only closed incidents count: an ongoing one has no duration yet and its
 *   report type may still change.  They are counted in `open_excluded`.
 * - "Detailed-form reports" (詳細な様式による報告) are the registry's serious
 *   and detailed reports together: the release counts the serious reports
 *   inside the detailed total (its note 3).  Every (operator, id) record is
 *   one report, so a wholesale outage counts once per reporting operator
 *   (note ※2).  All tables of section 3 are over this set.
 * - Serious accidents (重大な事故) count once per accident: the records of a
 *   wholesale provider and its receivers that start at the same instant are
 *   one accident (note ※1), so 13 reports from 10 operators are 7 accidents.
 * - Percentages are rounded half up (四捨五入); a change in points is the
 *   difference of the two published (rounded) percentages.
 */
#ifndef JIKO_REPORT_H
#define JIKO_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "error.h"
#include "store.h"

enum { REPORT_DURATIONS = 8, REPORT_USERS = 6 };
enum { REPORT_SERIOUS = 0, REPORT_DETAILED = 1, REPORT_SIMPLE = 2, REPORT_TYPES = 3 };
enum { REPORT_GROUPS_MAX = 8, REPORT_SUBGROUPS_MAX = 8 };

/* A statistics group with its subgroups (service or equipment groups, in
 * catalog order of first appearance). */
typedef struct report_group {
    char name[32];
    long count;
    int n_sub;
    char sub[REPORT_SUBGROUPS_MAX][32];
    long sub_count[REPORT_SUBGROUPS_MAX];
} report_group;

/* One serious accident: the records that report it. */
typedef struct report_accident {
    char **ops;          /* reporting operators, the facility owner first */
    char **ids;
    int n_ops;
    int64_t started_ms, ended_ms, users;
    char *summary;       /* from the owner's record */
    char *summary_en;    /* its optional English summary, or NULL */
    int users_qualifier; /* incident_users_qualifier of the owner's record */
    bool users_are_operators; /* users counted as companies (JSAT: 9社) */
    char *categories;    /* serious categories, comma-separated, merged */
    char *services;      /* service codes, comma-separated, merged */
} report_accident;

/* One fiscal year's figures. */
typedef struct report_counts {
    int fy;
    long reports[REPORT_TYPES];   /* serious: accidents; others: records */
    long operators[REPORT_TYPES];
    long serious_records;
    long matrix[REPORT_DURATIONS][REPORT_USERS];
    long unplaced;      /* detailed reports in a cell outside the duty (e.g. leaks) */
    long detailed;      /* = reports[REPORT_DETAILED] */
    long open_excluded; /* ongoing incidents, not counted anywhere */
    long services_total;
    int n_service_groups;
    report_group service_groups[REPORT_GROUPS_MAX];
    long cause[4];      /* equipment, human, external, other (incident_cause order) */
    long cause_unknown; /* no cause given */
    long equipment_known;
    int n_equipment_groups;
    report_group equipment_groups[REPORT_GROUPS_MAX];
    report_accident *accidents;
    int n_accidents;
} report_counts;

typedef struct report_year {
    report_counts cur, prev; /* fiscal year and the one before */
} report_year;

/* Row and column bounds of the duration x users matrix. */
extern const int64_t report_duration_lo_ms[REPORT_DURATIONS];
extern const int64_t report_users_lo[REPORT_USERS];
/* The matrix cell outside the quarterly duty (blank in the release). */
bool report_cell_outside_duty(int row, int col);
int report_duration_row(int64_t ms);
int report_users_col(int64_t users);

/* Compute the statistics of fiscal year `fy` (and fy - 1). */
int report_compute(report_year *y, store *s, const catalog *cat, int fy, jiko_error *err);
/* The same over one operator's reports only (op NULL: every operator): what
 * an operator's dashboard shows of its own year. */
int report_compute_op(report_year *y, store *s, const catalog *cat, int fy, const char *op,
                      jiko_error *err);
void report_free(report_year *y);

/* Percentage of n in d rounded half up to `decimals` places, in units of
 * 10^-decimals (92.8 % with 1 decimal is 928); -1 when d is 0. */
long report_pct(long n, long d, int decimals);

/* Share of a group's count in its whole, in whole percent (rounded); the
 * helpers used by every renderer so that all formats agree. */
long report_delta_pt(long n, long d, long n_prev, long d_prev, bool *known);

#endif
