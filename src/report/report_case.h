/*
 * report_case.h — documents an operator files: the serious-accident case
 * sheet in the layout of the release's 別紙 (seed 000: operator, start,
 * duration, users, area, what happened, category, cause, measures, public
 * notices), and the quarterly batch (四半期報告) split into the detailed and
 * simple forms with its due date.
 */
#ifndef JIKO_REPORT_CASE_H
#define JIKO_REPORT_CASE_H

#include <stdio.h>

#include "catalog.h"
#include "classify.h"
#include "incident.h"
#include "intake.h"
#include "report_table.h"
#include "store.h"

/* The case sheet of one incident.  `others` are the other operators that
 * reported the same accident (wholesale), may be NULL.  fmt: REPORT_MD or
 * REPORT_HTML. */
void report_case_write(FILE *out, const incident *inc, const classify_result *r,
                       const catalog *cat, const char *const *others, int n_others,
                       report_format fmt, bool ja);

/* One line of a quarterly batch. */
typedef struct report_batch_item {
    const incident *inc;
    const classify_result *r;
} report_batch_item;

/* The quarterly batch of fiscal year fy, quarter q: items in the order
 * given.  `book` is the rulebook in force when the quarter began (its
 * deadline is printed; NULL when none was).  fmt: REPORT_TEXT, REPORT_CSV
 * or REPORT_JSON. */
void report_batch_write(FILE *out, int fy, int q, const char *op, const rulebook *book,
                        const report_batch_item *items, int n, const catalog *cat,
                        report_format fmt, bool ja);

/* What a quarterly batch holds, read from the registry: every ended
 * incident of the quarter that owes a report and whose rulebook puts it in
 * the quarterly report, classified again as stored (store_row.h), in the
 * registry's order. */
typedef struct report_batch {
    incident *inc;
    classify_result *r;
    int n, cap;
} report_batch;

/* Collect the batch of fiscal year fy, quarter q (1-4), of one operator or
 * of all (op NULL).  Free with report_batch_free, also after a failure. */
int report_batch_collect(report_batch *b, store *db, const intake_opts *o, int fy, int q,
                         const char *op, jiko_error *err);
void report_batch_free(report_batch *b);

/* The rulebook in force on the first day of a fiscal quarter, or NULL. */
const rulebook *report_quarter_rulebook(const rules_set *rules, int fy, int q);

/* The operators of the other reports of one wholesale accident: stored
 * incidents that started at the same instant, by another operator, with the
 * same owner (the wholesale provider, else the operator itself).  At most
 * REPORT_PARTNERS_MAX; *ops is an array of *n strings (free with
 * report_partners_free). */
#define REPORT_PARTNERS_MAX 64
int report_wholesale_partners(store *db, const store_row *row, const incident *inc,
                              char ***ops, int *n, jiko_error *err);
void report_partners_free(char **ops, int n);

#endif
