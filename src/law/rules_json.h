/*
 * rules_json.h — rulebooks as JSON, for `jiko rules --json` and the API:
 * keys in a fixed order, every clause with its legal source.
 */
#ifndef JIKO_RULES_JSON_H
#define JIKO_RULES_JSON_H

#include <jansson.h>

#include "catalog.h"
#include "rules.h"

/* id, effective, until (null while in force), titles, file. */
json_t *rules_summary_json(const rulebook *b);

/* The whole rulebook: the summary's facts, source, effects, clauses and
 * deadlines. */
json_t *rules_book_json(const rulebook *b, const catalog *cat);

/* One clause: kind, id, names, facility, thresholds, the services of a
 * serious category, source and status. */
json_t *rules_clause_json(const rulebook *b, const rules_clause *cl, const catalog *cat);

#endif
