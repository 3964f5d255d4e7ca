/*
 * sample.h — the one sample representation every KPI ingest format produces.
 *
 * A format module (ingest_influx.c: Influx line protocol, ingest_prom.c:
 * Prometheus remote_write) turns a request body into a stream of samples and
 * hands each one to a sink callback; the sink (series lookup, detection) never
 * needs to know which format the sample came from.
 *
 * What a sample is
 *   metric   the series name: "measurement.field" for Influx (the separator
 *            is an option), the __name__ label for remote_write.
 *   labels   the other name/value pairs identifying the series, sorted by
 *            name (bytewise, shorter first on a tie), no duplicate names,
 *            no empty names, at most INGEST_MAX_LABELS.  The metric is not
 *            repeated among them.  Sorted order lets the sink hash or compare
 *            series without sorting again.
 *   value    a double.  Influx integers and unsigneds are converted (exact up
 *            to 2^53), booleans are 1 or 0.  remote_write values pass through
 *            unchanged, including NaN (Prometheus' staleness marker).
 *   t_ms     milliseconds since the Unix epoch, UTC.  Finer Influx
 *            timestamps are floored to the millisecond.
 * Every string is well-formed UTF-8 without NUL bytes, given as pointer and
 * length: it is NOT NUL-terminated.
 *
 * Memory
 *   A sample and every string it points to live only for the duration of the
 *   sink call: they point into the request body or into a scratch area the
 *   parser reuses for the next sample.  A sink that keeps anything copies it.
 *   Parsers allocate per request body (a scratch area, a decode arena), never
 *   per line or per sample, and do no formatted I/O unless reporting an error.
 *
 * Errors
 *   A body is parsed to its end even when parts of it are bad: each bad Influx
 *   line or remote_write series is reported once through an error callback as
 *   an ingest_error (line, column, what was expected, the offending text) and
 *   skipped, and the rest is still delivered.  Only what makes the whole body
 *   unreadable (not snappy, not protobuf, over a size limit, out of memory)
 *   fails the call itself, through the usual jiko_error.
 *
 * Back-pressure
 *   A sink or error callback that returns non-zero stops the parse at once
 *   (the server's admission control, or "too many errors in this body"); the
 *   parse function then fails with INGEST_STOPPED.
 */
#ifndef JIKO_SAMPLE_H
#define JIKO_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Labels per series, the metric name not counted.  Prometheus' own default
 * limit is unlimited, but real exporters stay well under 30; a fixed bound
 * keeps ingest_sample a plain struct on the stack.  Format options can lower
 * it, not raise it. */
#define INGEST_MAX_LABELS 32

typedef struct ingest_label {
    const char *name, *value;
    size_t name_len, value_len;
} ingest_label;

typedef struct ingest_sample {
    const char *metric;
    size_t metric_len;
    ingest_label labels[INGEST_MAX_LABELS];
    size_t n_labels;
    double value;
    int64_t t_ms;
} ingest_sample;

/* Receives one sample; return 0 to go on, non-zero to stop the parse. */
typedef int (*ingest_sink)(void *ctx, const ingest_sample *s);

/* One rejected part of a body.  `e.file` is the caller's name for the body
 * (e.g. "influx write from 10.1.2.3"), `e.line` the 1-based line (0 for
 * remote_write), `e.field` what part was wrong ("tag 'host'",
 * "timeseries[3].labels"), `e.message` what was expected. */
typedef struct ingest_error {
    jiko_error e;
    long column;      /* 1-based byte column in the line; 0 when none */
    const char *text; /* the offending line, NOT NUL-terminated; NULL when none. */
    size_t text_len;  /* Valid during the callback only. */
} ingest_error;

/* Receives one rejected line or series; return 0 to go on, non-zero to stop. */
typedef int (*ingest_error_fn)(void *ctx, const ingest_error *e);

/* What one parse call did.  Nothing is dropped without being counted here:
 * every input line or series is either delivered, rejected or skipped. */
typedef struct ingest_stats {
    size_t records;  /* Influx: non-blank, non-comment lines; remote_write: series */
    size_t samples;  /* samples handed to the sink */
    size_t rejected; /* lines or series reported as errors and skipped */
    size_t skipped;  /* values that are not numbers: Influx string fields,
                        remote_write native histogram samples */
    ingest_error first; /* the first rejection, when rejected > 0, so a caller
                           without an error callback can still say what was wrong */
} ingest_stats;

/* Return codes of the parse functions (besides 0). */
#define INGEST_FAILED (-1)  /* the body as a whole is unusable; see the jiko_error */
#define INGEST_STOPPED (-2) /* a sink or error callback asked to stop */

/* "file:line:column: field 'x': message" (parts left out when absent). */
const char *ingest_error_format(const ingest_error *e, char *buf, size_t size);

/* Sort labels by name (insertion sort: label sets are small and usually
 * already sorted, which makes this one pass).  Returns the index of the first
 * of two labels with the same name, or -1 when the names are unique. */
long ingest_labels_sort(ingest_label *labels, size_t n);

/* Names quoted in error messages are cut to at most this many bytes: enough
 * to recognise a label, short enough for one line. */
#define INGEST_NAME_EXCERPT_MAX 60

/* How many bytes of the name s (n bytes) an error message quotes: at most
 * INGEST_NAME_EXCERPT_MAX, cut on a character boundary so that the message
 * stays valid UTF-8. */
size_t ingest_name_excerpt(const char *s, size_t n);

/* Order of two names: bytewise, then shorter first (like strcmp). */
int ingest_name_cmp(const char *a, size_t an, const char *b, size_t bn);

#endif
