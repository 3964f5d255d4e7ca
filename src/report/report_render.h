/*
 * report_render.h — the yearly statistics as tables (text, Markdown, HTML
 * with inline SVG charts, CSV) and as JSON (layout: docs/reports.md).
 *
 * Table ids, in the release's order: overview, serious_by_year, serious,
 * serious_services, headline, matrix, services, causes, equipment.  CSV
 * columns of overview, headline, matrix, services, causes and equipment match
 * the files of the published FY2021 figures (extra columns follow).
 */
#ifndef JIKO_REPORT_RENDER_H
#define JIKO_REPORT_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "report.h"
#include "report_table.h"

#define REPORT_N_TABLES 9
extern const char *const report_table_ids[REPORT_N_TABLES];

/* Whether id names one of the tables. */
bool report_table_known(const char *id);

/* Write the report; `only` selects one table by id (NULL = all).
 * Returns 0, or -1 with err filled (unknown table, out of memory). */
int report_render(FILE *out, const report_year *y, report_format fmt, bool ja, const char *only,
                  jiko_error *err);

/* The whole report as a JSON object (new reference), or NULL on OOM. */
json_t *report_to_json(const report_year *y);

/* Localised label of a statistics code ("voice" -> "音声サービス"); the code
 * itself when there is no label. */
const char *report_label(const char *code, bool ja);

#endif
