/*
 * ingest_influx.h — InfluxDB line protocol in, samples out (see sample.h).
 *
 *   measurement[,tag=value...] field=value[,field=value...] [timestamp]
 *
 * Each numeric field of a line becomes one sample: metric
 * "measurement.field" (the separator is an option), labels = the tags sorted
 * by key, value = the field's value, t_ms = the timestamp converted from the
 * body's precision (or the caller's default when the line has none).  All
 * samples of one line share its tags and timestamp.
 *
 * Accepted, as InfluxDB accepts it:
 *   - escapes: "\," "\=" "\ " in the measurement, tag keys, tag values and
 *     field keys; a backslash before any other character is kept as is.
 *   - field values: floats (1, -1.5, 1e-3), integers (12i), unsigneds (12u),
 *     booleans (t T true True TRUE f F false False FALSE: 1 or 0), quoted
 *     strings ("a \"b\" \\ c": skipped and counted, they are not numbers).
 *   - blank lines, lines whose first non-blank is '#' (comments), CRLF line
 *     ends, runs of spaces between the three sections.
 * Refused, with the line and column: everything else, including NaN and
 * infinities, integers out of range, duplicate tag keys, empty tag values,
 * invalid UTF-8 and NUL bytes.  A line is all or nothing: when any part of it
 * is bad, none of its fields is delivered.  A newline always ends a line, even
 * inside a quoted string (InfluxDB documents that line protocol has no
 * newlines in values), so one bad line never swallows the next.
 *
 * The body is parsed whole (it is in memory, limited by the server); one
 * scratch area of about 2 x max_line bytes is allocated per call.
 *
 * Example:
 *   ingest_influx_opts o = ingest_influx_defaults();
 *   o.default_t_ms = now_ms;            // for lines without a timestamp
 *   ingest_stats st;
 *   jiko_error err;
 *   int rc = ingest_influx_parse(&o, body, len, my_sink, my_ctx, &st, &err);
 *   // rc 0: st.samples delivered, st.rejected lines reported through o.on_error
 */
#ifndef JIKO_INGEST_INFLUX_H
#define JIKO_INGEST_INFLUX_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "sample.h"

/* Longest accepted line.  Telegraf's largest plugins (nstat, mysql) write
 * lines of a few KiB; 64 KiB leaves room and bounds the scratch area. */
#define INGEST_INFLUX_MAX_LINE (64u << 10)
/* Numeric fields per line; a line is validated whole before its first
 * sample is delivered, so its fields are held until the timestamp is read. */
#define INGEST_INFLUX_MAX_FIELDS 1024

typedef enum ingest_influx_precision {
    INGEST_INFLUX_NS = 0, /* the protocol's default */
    INGEST_INFLUX_US,
    INGEST_INFLUX_MS,
    INGEST_INFLUX_S
} ingest_influx_precision;

typedef struct ingest_influx_opts {
    const char *source;                /* names the body in errors; may be NULL */
    ingest_influx_precision precision; /* unit of the timestamps in the body */
    int64_t default_t_ms;              /* time of lines without a timestamp */
    size_t max_line;                   /* bytes; 0 or above INGEST_INFLUX_MAX_LINE: that */
    size_t max_labels;                 /* tags; 0 or above INGEST_MAX_LABELS: that */
    char metric_sep;                   /* between measurement and field, printable
                                          ASCII; 0: '.' */
    ingest_error_fn on_error;          /* each rejected line; may be NULL */
    void *error_ctx;
} ingest_influx_opts;

/* Defaults: nanoseconds, default time 0, the maximum limits, '.'. */
ingest_influx_opts ingest_influx_defaults(void);

/* "ns", "us" (or "u"), "ms", "s" — the values of InfluxDB's `precision`
 * query parameter.  Returns 0, or -1 with a message in err. */
int ingest_influx_precision_parse(const char *s, ingest_influx_precision *out, jiko_error *err);

/* Parse a whole body, delivering each sample to sink(ctx, sample).
 * Returns 0 when the body was read to its end (st->rejected lines may have
 * been refused), INGEST_STOPPED when a callback asked to stop, INGEST_FAILED
 * when out of memory (err says so).  `st` is always filled. */
int ingest_influx_parse(const ingest_influx_opts *o, const char *buf, size_t len, ingest_sink sink,
                        void *ctx, ingest_stats *st, jiko_error *err);

#endif
