/*
 * ingest_prom.h — Prometheus remote_write 1.0 in, samples out (see sample.h).
 *
 * The body of a remote_write POST is a prometheus.WriteRequest protobuf
 * (proto/remote.proto, proto/types.proto: the subset of Prometheus' prompb
 * that is read, same field numbers), compressed with snappy's block format
 * (Content-Encoding: snappy; not the framed/stream format).  Each sample of
 * each series becomes one ingest_sample: metric = the __name__ label,
 * labels = the other labels sorted by name, value and timestamp (ms) as sent.
 *
 * Ignored without error: metadata, exemplars and native histograms (these
 * are counted in stats.skipped: they are samples, but not plain numbers).
 * Labels with an empty value are dropped, as Prometheus treats them as absent.
 *
 * Whole-body errors (return INGEST_FAILED, jiko_error filled): empty body,
 * not snappy, snappy framed format, decompressed size above max_body, corrupt
 * snappy data, not a WriteRequest.
 * Per-series errors (reported through on_error as "timeseries[i]...", the
 * series skipped, the others delivered): no __name__, empty __name__, empty
 * label name, duplicate label name, more labels than max_labels, invalid
 * UTF-8 or a NUL byte in a label name or value.
 *
 * Memory per call: the decompressed body (<= max_body), read in place.
 * Note for the server: remote_write 2.0 (Content-Type
 * application/x-protobuf;proto=io.prometheus.write.v2.Request) is a
 * different message; answer it with 415 rather than passing it here.
 */
#ifndef JIKO_INGEST_PROM_H
#define JIKO_INGEST_PROM_H

#include <stddef.h>

#include "error.h"
#include "sample.h"

/* Largest decompressed body accepted by default (32 MiB).  Prometheus sends
 * at most 2,000 samples per request by default, well under 1 MiB. */
#define INGEST_PROM_MAX_BODY (32u << 20)
/* Kept for callers that set it: the decoder reads the body in place and
 * needs no memory beyond the decompressed body (max_body bounds that). */
#define INGEST_PROM_MEMORY_FACTOR 4

typedef struct ingest_prom_opts {
    const char *source;       /* names the body in errors; may be NULL */
    size_t max_body;          /* decompressed bytes; 0: INGEST_PROM_MAX_BODY */
    size_t max_memory;        /* unused: nothing is allocated per series or label */
    size_t max_labels;        /* besides __name__; 0 or above INGEST_MAX_LABELS: that */
    ingest_error_fn on_error; /* each rejected series; may be NULL */
    void *error_ctx;
} ingest_prom_opts;

/* Defaults: 32 MiB body, 128 MiB decoded, INGEST_MAX_LABELS labels. */
ingest_prom_opts ingest_prom_defaults(void);

/* Decompress, decode and deliver a remote_write body.
 * Returns 0 when every series was read (st->rejected may have been refused),
 * INGEST_FAILED when the body as a whole is unusable (err says why; nothing
 * was delivered), INGEST_STOPPED when a callback asked to stop.  `st` is
 * always filled. */
int ingest_prom_parse(const ingest_prom_opts *o, const void *body, size_t len, ingest_sink sink,
                      void *ctx, ingest_stats *st, jiko_error *err);

#endif
