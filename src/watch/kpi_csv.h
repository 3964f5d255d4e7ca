/*
 * kpi_csv.h — KPI series as CSV text: the intake of `jiko detect` (one or
 * many series), of `jiko detect --nab` (Numenta Anomaly Benchmark data
 * files) and of `jiko forecast` (one gauge).
 *
 * A reader takes lines from a stream, drops their line ends (LF or CRLF),
 * skips what is not data (blank lines, '#' comments, a header) and splits
 * the rest into a row: optional series name, timestamp, value.  Each bad
 * line is reported once, with its file and line, and skipped; the reader
 * then goes on with the next line, so one bad line never ends a run.
 *
 * The three layouts accept what the commands have always accepted, quirks
 * included, because their outputs are compared byte for byte:
 *
 *   KPI_CSV_SERIES  'timestamp,value' (one series) or 'series,timestamp,value'.
 *                   The first data line fixes the number of columns; it is a
 *                   header when it starts with "timestamp," or "series,".
 *                   '#' lines are comments.  The value is a number and
 *                   nothing else.  Errors name the field that was wrong.
 *   KPI_CSV_GAUGE   'timestamp,value'; line 1 is a header when it starts with
 *                   "timestamp"; '#' lines are comments; the value is a
 *                   number and nothing else.
 *   KPI_CSV_NAB     'timestamp,value' as NAB writes it; line 1 is a header
 *                   when it starts with "timestamp"; no comments; the value is
 *                   the number that starts the text after the first comma, and
 *                   that whole text is kept as the value's text.
 *
 * Timestamps (kpi_parse_time): RFC 3339, NAB's "YYYY-MM-DD HH:MM:SS" taken as
 * UTC, or Unix seconds, or milliseconds when too large to be seconds.
 */
#ifndef JIKO_KPI_CSV_H
#define JIKO_KPI_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "lines.h"

/* Bytes of a rejected field quoted in an error message: enough to recognise
 * it, short enough that a runaway line does not flood the terminal. */
#define KPI_EXCERPT_MAX 40

/* A KPI timestamp: RFC 3339, "YYYY-MM-DD HH:MM:SS" (UTC) or Unix seconds or
 * milliseconds.  s need not be NUL-terminated.  Returns false when it is
 * none of these. */
bool kpi_parse_time(const char *s, size_t n, int64_t *ms);

typedef enum kpi_csv_layout {
    KPI_CSV_SERIES, /* jiko detect: one series or many, fixed by the first line */
    KPI_CSV_GAUGE,  /* jiko forecast: one gauge */
    KPI_CSV_NAB,    /* jiko detect --nab: a NAB data file */
} kpi_csv_layout;

/* One data line.  The pointers point into the reader's line buffer and are
 * valid until the next kpi_csv_next or kpi_csv_close. */
typedef struct kpi_row {
    long line;                /* 1-based line number */
    const char *series;       /* three-column rows; NULL otherwise */
    size_t series_len;
    const char *time;         /* the timestamp as written */
    size_t time_len;
    const char *value_text;   /* the value as written, NUL-terminated */
    size_t value_len;
    int64_t t_ms;             /* the timestamp, ms since the Unix epoch */
    double value;
} kpi_row;

typedef struct kpi_csv {
    FILE *fp;
    const char *source; /* names the input in errors */
    kpi_csv_layout layout;
    int columns;        /* KPI_CSV_SERIES: 0 until the first data line, then 2 or 3 */
    long line;          /* lines read so far */
    lines in;           /* the reader (a failed read is not the end) */
} kpi_csv;

/* Start reading fp (which stays the caller's to close); source names it in
 * errors ("<stdin>", a path). */
void kpi_csv_open(kpi_csv *r, FILE *fp, const char *source, kpi_csv_layout layout);

/* Return codes of kpi_csv_next. */
#define KPI_CSV_ROW 1
#define KPI_CSV_END 0
#define KPI_CSV_REJECTED (-1)
#define KPI_CSV_FAILED (-2)

/* The next data line: KPI_CSV_ROW with *row filled; KPI_CSV_REJECTED for a
 * bad line, with err saying where and what (kind JIKO_ERR_INVALID, file,
 * line and, where one field was wrong, the field) — call again for the rest;
 * KPI_CSV_END at the end of the stream; KPI_CSV_FAILED when the stream could
 * not be read on (err: JIKO_ERR_IO, or JIKO_ERR_NOMEM for a line too long to
 * hold): nothing after it was read, and nothing more will be. */
int kpi_csv_next(kpi_csv *r, kpi_row *row, jiko_error *err);

/* KPI_CSV_SERIES: the columns fixed by the first data line (2 or 3), 0
 * while none was seen; the other layouts: 2.  A caller that writes a
 * header for its output checks this after every kpi_csv_next, since the
 * header line itself is not returned. */
int kpi_csv_columns(const kpi_csv *r);

/* Free the line buffer (not the stream). */
void kpi_csv_close(kpi_csv *r);

#endif
