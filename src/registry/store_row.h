/*
 * store_row.h — what is done with a stored incident version: its JSON for
 * lists, `show` and the API, and its classification read back.
 */
#ifndef JIKO_STORE_ROW_H
#define JIKO_STORE_ROW_H

#include <jansson.h>
#include <stdbool.h>

#include "intake.h"
#include "store.h"

/* The registry's columns of a row (operator, id, version, dates, fiscal
 * year and quarter, report, rulebook, clauses, users, changed_at, reason),
 * with the record itself under "record" when with_record.  Keys in this
 * order; NULL when out of memory. */
json_t *store_row_json(const store_row *row, bool with_record);

/* One version of an incident's history: version, changed_at, reason, record. */
json_t *store_version_json(const store_row *row);

/* Parse and classify a stored record again, under the rulebook it was
 * stored under (else the one in force on its start date), as of its end, or
 * of when it was stored while it is ongoing.  `o` gives the catalog and
 * rulebooks; its forced rulebook and clock are not used.  A record that no
 * longer validates is an error of kind JIKO_ERR_STORE naming the incident. */
int store_row_classify(const intake_opts *o, const store_row *row, incident *inc,
                       classify_result *res, jiko_error *err);

#endif
