/*
 * match.h — Prometheus-style series selectors: which KPI series and which
 * alerts a [watch] section of the server's configuration is about.
 *
 *     dns_failure_ratio{site="tokyo", pop=~"tyo[0-9]+", env!="test"}
 *     {alertname="DNSDown"}           labels alone: series and alerts
 *     dns_failure_ratio               every series of that metric
 *
 * Operators as in PromQL: = equal, != not equal, =~ matches the regular
 * expression, !~ does not.  A label a sample does not have counts as the
 * empty string (so {env=""} matches series without env, as in PromQL), and a
 * regular expression must match the whole value: it is anchored at both
 * ends.  Regular expressions are POSIX extended (regcomp), not RE2: the
 * common subset (classes, alternation, repetition, groups) behaves the same;
 * RE2-only syntax such as \d or (?i) is refused when the file is read, not
 * silently misread.  Values are double-quoted with the escapes \" \\ \n.
 *
 * A selector with a metric name matches series of that metric only; one
 * without matches series and alerts (an alert is a label set with no
 * metric) by their labels alone.
 */
#ifndef JIKO_MATCH_H
#define JIKO_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "sample.h"

/* Matchers per selector: more than any real selector needs. */
#define MATCH_MAX_MATCHERS 16

typedef struct match_selector match_selector;

/* Parse `text` (NUL-terminated).  On error, err names `file`, `line` and
 * the field `field` and says what was expected at which column. */
int match_parse(const char *text, const char *file, long line, const char *field,
                match_selector **out, jiko_error *err);

/* Whether the sample (metric + sorted labels, sample.h) is selected.  An
 * alert is given as a sample with an empty metric. */
bool match_sample(const match_selector *m, const ingest_sample *s);

/* The selector's metric name ("" when it has none). */
const char *match_metric(const match_selector *m);

void match_free(match_selector *m);

#endif
