/*
 * intake.h — one incident record in: bytes → validated incident → the
 * rulebook in force → classification.
 *
 * Every front end that takes incident records (jiko classify, jiko import
 * and amend, the reports' re-reading of stored records, the server) goes
 * through intake_record(), so a record is accepted or rejected the same way
 * and a mistake is worded the same way wherever it is made.
 */
#ifndef JIKO_INTAKE_H
#define JIKO_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "classify.h"
#include "error.h"
#include "incident.h"
#include "rules.h"

typedef struct intake_opts {
    const catalog *cat;
    const rules_set *rules;
    /* Classify under this rulebook instead of the one in force on the
     * incident's start date (NULL: by date).  The result is marked forced. */
    const rulebook *forced;
    int64_t now_ms; /* the current time, for ongoing incidents */
} intake_opts;

/* Parse and validate one record (`file` and `line` name it in errors),
 * choose its rulebook and classify it.  On success the caller owns *inc
 * (incident_free).  On failure *inc holds nothing and err says what was
 * wrong (kind JIKO_ERR_INVALID, or JIKO_ERR_NOMEM). */
int intake_record(const intake_opts *o, const char *text, size_t len, const char *file,
                  long line, incident *inc, classify_result *res, jiko_error *err);

/* One JSON Lines record as read by getline (`*len` bytes at `*s`, line
 * `lineno` of its stream): drops a UTF-8 byte order mark on line 1 and the
 * line end, and terminates the text there.  False when the line is blank:
 * blank lines separate nothing and are skipped. */
bool intake_line(char **s, size_t *len, long lineno);

/* The rulebook in force when an incident started, or NULL with err filled
 * (field "started_at": no rulebook in force on that date). */
const rulebook *intake_rulebook(const rules_set *rules, int64_t started_ms, const char *file,
                                long line, jiko_error *err);

#endif
