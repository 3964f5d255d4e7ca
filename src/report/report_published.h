/*
 * report_published.h — what the yearly report quotes from MIC's releases
 * rather than counts: serious accidents of the years before the registry,
 * published figures that a recount does not reproduce (the equipment table's
 * "2,636件を除く"), and the release's notes and definitions under each table.
 *
 * The data is catalogs/published.conf (format in its header and in
 * docs/reports.md), carried by the catalog (catalog.published).  Reading it
 * checks every line and keeps pointers into that file: a report_published is
 * valid while the catalog it was read from is.
 */
#ifndef JIKO_REPORT_PUBLISHED_H
#define JIKO_REPORT_PUBLISHED_H

#include <stdbool.h>

#include "conf.h"
#include "error.h"

/* One fiscal year as published; -1 where the source gives no figure. */
typedef struct report_pub_year {
    int fy;
    long serious, serious_operators;
    long equipment_known, equipment_unknown;
    const char *source;
} report_pub_year;

/* A note printed under a table; in the matrix it may mark a cell. */
typedef struct report_pub_note {
    const char *table, *ja, *en, *source;
    const char *mark; /* NULL, or the marker of cell (row, col) */
    int row, col;
} report_pub_note;

typedef struct report_published {
    report_pub_year *years; /* ascending, each year at most once */
    int n_years;
    report_pub_note *notes; /* those printed for the report's year, in file order */
    int n_notes;
} report_published;

/* Read `f` (an empty file gives an empty result) for the report of fiscal
 * year `fy`.  Errors name the file, line and key (kind config). */
int report_published_read(report_published *p, const conf_file *f, int fy, jiko_error *err);
void report_published_free(report_published *p);

/* The published figures of a year, or NULL when the file has none. */
const report_pub_year *report_published_year(const report_published *p, int fy);

/* The marker the release puts in matrix cell (row, col), or NULL. */
const char *report_published_mark(const report_published *p, int row, int col);

#endif
