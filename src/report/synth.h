/*
 * synth.h — realistic synthetic incidents that reproduce a published year.
 *
 * `synth_year` reads the year's published figures (stats/fyYYYY.conf) and
 * writes JSON Lines incidents that, imported and reported (report.h), give
 * back every published count and share: the overview, the duration x users
 * matrix, services, causes and failed equipment.  The real serious accidents
 * of the year come from their case-sheet records; everything else is made up
 * by a seeded generator (same seed, same output):
 * - synthetic operators, named so that nobody mistakes them for real ones,
 *   with a skewed number of reports each (a few large carriers, many small);
 * - durations and user counts spread inside each matrix cell;
 * - services from the catalog, several per accident as published;
 * - causes paired with equipment as the release describes them (unknown
 *   equipment mostly when another operator's failure was the cause; cable
 *   cuts and power loss as external causes);
 * - accidents that would meet a serious threshold but are not among the
 *   published serious ones are failures of non-telecom facilities (停電等),
 *   which the rules never make serious (注1 covers telecom facilities only).
 * Every generated record is classified before it is written and must owe the
 * report its cell says; synth fails rather than write a wrong year.
 */
#ifndef JIKO_SYNTH_H
#define JIKO_SYNTH_H

#include <stdint.h>
#include <stdio.h>

#include "catalog.h"
#include "error.h"
#include "rules.h"

typedef struct synth_stats {
    long detailed, simple, serious_records, operators_detailed, operators_simple;
} synth_stats;

/* Write the incidents of fiscal year `fy` to `out`.  `stats_path` is the
 * year's figures; `data_dir` resolves relative paths in it (the serious
 * accidents file). */
int synth_year(FILE *out, const char *stats_path, const char *data_dir, const catalog *cat,
               const rules_set *rules, int fy, uint64_t seed, synth_stats *st, jiko_error *err);

#endif
