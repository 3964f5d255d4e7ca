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
#include "report_table.h"

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
 * given.  fmt: REPORT_TEXT, REPORT_CSV or REPORT_JSON. */
void report_batch_write(FILE *out, int fy, int q, const char *op, const report_batch_item *items,
                        int n, const catalog *cat, report_format fmt, bool ja);

#endif
