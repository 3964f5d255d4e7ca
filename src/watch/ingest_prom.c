/*
 * ingest_prom.c — Prometheus remote_write decoder (see ingest_prom.h).
 *
 * How it works: the snappy header gives the decompressed size, which is
 * checked against the limit before anything is allocated; the body is
 * decompressed into one buffer and read in place by a protobuf walker that
 * knows the few fields remote_write uses (proto/remote.proto,
 * proto/types.proto).  A first pass checks the whole message's structure
 * (every tag, wire type and length, as a protobuf library would, so that a
 * malformed body delivers nothing); a second delivers each series: its
 * labels point into the buffer (no copy, no allocation per series or
 * label), __name__ is moved out of them into the metric, they are sorted
 * only when the sender did not sort them (Prometheus always does), then its
 * samples go to the sink.  Decoding with protobuf-c, which builds the whole
 * message tree first, took as long as the anomaly detector itself
 * (bench/live_engine_bench.c); the walker is what the tests and the fuzzer
 * compare with protobuf-c's reading of the same bytes.
 */
#include "ingest_prom.h"

#include <snappy-c.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* ---- per-series checks ---- */

typedef struct pctx {
    const ingest_prom_opts *o;
    ingest_stats *st;
} pctx;

/* Report one rejected series; formatting happens only here. */
static int series_bad(pctx *p, size_t ts, long label, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int series_bad(pctx *p, size_t ts, long label, const char *fmt, ...)
{
    ingest_error ie;
    char field[96], msg[sizeof ie.e.message];
    if (label >= 0)
        snprintf(field, sizeof field, "timeseries[%zu].labels[%ld]", ts, label);
    else
        snprintf(field, sizeof field, "timeseries[%zu]", ts);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    error_set(&ie.e, JIKO_ERR_INVALID, p->o->source, 0, field, "%s", msg);
    ie.column = 0;
    ie.text = NULL;
    ie.text_len = 0;
    if (p->st->rejected++ == 0)
        p->st->first = ie;
    if (p->o->on_error && p->o->on_error(p->o->error_ctx, &ie))
        return INGEST_STOPPED;
    return 1;
}

/* Name for error messages (a printf precision): see ingest_name_excerpt. */
static int short_len(const char *s, size_t n)
{
    return (int)ingest_name_excerpt(s, n);
}

/* Snappy's framed format starts with this stream identifier chunk. */
static const char snappy_framed_magic[] = "\xff\x06\x00\x00sNaPpY";
#define SNAPPY_FRAMED_MAGIC_LEN (sizeof snappy_framed_magic - 1)
/* ---- the protobuf walker ---- */

typedef struct pb {
    const uint8_t *p, *end;
} pb;

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

/* Message fields read (proto/remote.proto, proto/types.proto); the others
 * are skipped.  Histograms are TimeSeries field 4, counted as skipped. */
enum {
    WR_TIMESERIES = 1,
    TS_LABELS = 1,
    TS_SAMPLES = 2,
    TS_HISTOGRAMS = 4,
    LABEL_NAME = 1,
    LABEL_VALUE = 2,
    SAMPLE_VALUE = 1,
    SAMPLE_TIMESTAMP = 2
};

static bool pb_varint(pb *b, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 70; shift += 7) { /* at most 10 bytes */
        if (b->p == b->end)
            return false;
        uint8_t c = *b->p++;
        x |= (uint64_t)(c & 0x7f) << (shift < 64 ? shift : 0);
        if (!(c & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* The next field's number and wire type: 1, 0 at the end, -1 malformed
 * (a key longer than 5 bytes, or a wire type protobuf no longer uses:
 * groups). */
static int pb_next_slow(pb *b, uint32_t *field, int *wire);

static inline bool pb_wire_ok(int w)
{
    return w == WIRE_VARINT || w == WIRE_I64 || w == WIRE_LEN || w == WIRE_I32;
}

/* Every key of remote_write's own fields is one byte: that case inline. */
static inline int pb_next(pb *b, uint32_t *field, int *wire)
{
    if (b->p == b->end)
        return 0;
    uint8_t c = *b->p;
    if (c >= 8 && c < 0x80) {
        b->p++;
        *field = c >> 3;
        *wire = c & 7;
        return pb_wire_ok(*wire) ? 1 : -1;
    }
    return pb_next_slow(b, field, wire);
}

static int pb_next_slow(pb *b, uint32_t *field, int *wire)
{
    /* The key as protobuf-c reads it, so that the two agree on every body
     * (the fuzzer compares them): at most 5 bytes; a first byte without
     * field-number bits (below 8) is refused; the number is kept to 32 bits. */
    uint8_t c = *b->p++;
    if (!(c & 0xf8))
        return -1;
    uint32_t num = (uint32_t)(c & 0x7f) >> 3;
    *wire = c & 7;
    for (int i = 1, shift = 4; c & 0x80; i++, shift += 7) {
        if (b->p == b->end || i == 5)
            return -1;
        c = *b->p++;
        num |= (uint32_t)(c & 0x7f) << shift;
    }
    *field = num; /* 0 (from a longer key) is no field of ours: skipped */
    return pb_wire_ok(*wire) ? 1 : -1;
}

/* A length-delimited field's bytes (its length at most 5 bytes long, as
 * protobuf-c reads it). */
static inline bool pb_bytes(pb *b, pb *sub)
{
    uint64_t n;
    const uint8_t *at = b->p;
    if (at < b->end && *at < 0x80) { /* a length below 128: one byte */
        n = *at;
        if (n > (uint64_t)(b->end - at - 1))
            return false;
        sub->p = at + 1;
        sub->end = sub->p + n;
        b->p = sub->end;
        return true;
    }
    if (!pb_varint(b, &n) || b->p - at > 5 || n > (uint64_t)(b->end - b->p))
        return false;
    sub->p = b->p;
    sub->end = b->p + n;
    b->p += n;
    return true;
}

static bool pb_skip(pb *b, int wire)
{
    uint64_t v;
    pb sub;
    size_t n = wire == WIRE_I64 ? 8 : 4;
    switch (wire) {
    case WIRE_VARINT: return pb_varint(b, &v);
    case WIRE_LEN: return pb_bytes(b, &sub);
    default:
        if ((size_t)(b->end - b->p) < n)
            return false;
        b->p += n;
        return true;
    }
}

static bool pb_fixed64(pb *b, uint64_t *v)
{
    if (b->end - b->p < 8)
        return false;
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) /* little-endian on the wire, whatever the host */
        x = x << 8 | b->p[i];
    b->p += 8;
    *v = x;
    return true;
}

/* A message whose known fields must have these wire types (0: not a field
 * of it; everything else is skipped as unknown). */
typedef int (*pb_wire_of)(uint32_t field);

static bool pb_check(pb m, pb_wire_of want, int depth);

static int wire_label(uint32_t f) { return f == LABEL_NAME || f == LABEL_VALUE ? WIRE_LEN : -1; }
static int wire_sample(uint32_t f)
{
    return f == SAMPLE_VALUE ? WIRE_I64 : f == SAMPLE_TIMESTAMP ? WIRE_VARINT : -1;
}
static int wire_series(uint32_t f) { return f == TS_LABELS || f == TS_SAMPLES ? WIRE_LEN : -1; }
static int wire_request(uint32_t f) { return f == WR_TIMESERIES ? WIRE_LEN : -1; }

/* Structure only: every tag, wire type and length, nested (depth 0:
 * WriteRequest, 1: TimeSeries, 2: Label and Sample). */
static bool pb_check(pb m, pb_wire_of want, int depth)
{
    uint32_t f;
    int wire, r;
    while ((r = pb_next(&m, &f, &wire)) == 1) {
        int w = want(f);
        if (w < 0) {
            if (!pb_skip(&m, wire))
                return false;
            continue;
        }
        if (wire != w)
            return false; /* a known field with another type: not this message */
        if (w != WIRE_LEN) {
            if (!pb_skip(&m, wire))
                return false;
            continue;
        }
        pb sub;
        if (!pb_bytes(&m, &sub))
            return false;
        if (depth == 2)
            continue; /* a label's name or value: bytes */
        pb_wire_of inner = depth == 0 ? wire_series : f == TS_LABELS ? wire_label : wire_sample;
        if (!pb_check(sub, inner, depth + 1))
            return false;
    }
    return r == 0;
}

/* Returns 0 delivered, 1 rejected, INGEST_STOPPED.  The series' structure
 * was checked by pb_check. */
static int do_series(pctx *p, size_t idx, pb ts, ingest_sample *smp, size_t max_labels,
                     ingest_sink sink, void *ctx)
{
    smp->metric = NULL;
    smp->metric_len = 0;
    smp->n_labels = 0;
    int sorted = 1;
    long j = -1; /* the label's index in the series, for messages */
    uint32_t f;
    int wire;
    pb walk = ts;
    while (pb_next(&walk, &f, &wire) == 1) {
        if (f == TS_HISTOGRAMS)
            p->st->skipped++;
        if (f != TS_LABELS) {
            pb_skip(&walk, wire);
            continue;
        }
        pb lab = {NULL, NULL}, fld = {NULL, NULL};
        pb_bytes(&walk, &lab);
        j++;
        const char *name = "", *value = "";
        size_t nl = 0, vl = 0;
        uint32_t lf;
        int lw;
        while (pb_next(&lab, &lf, &lw) == 1) { /* a field given twice: the last counts */
            if (lf == LABEL_NAME || lf == LABEL_VALUE) {
                pb_bytes(&lab, &fld);
                if (lf == LABEL_NAME)
                    name = (const char *)fld.p, nl = (size_t)(fld.end - fld.p);
                else
                    value = (const char *)fld.p, vl = (size_t)(fld.end - fld.p);
            } else {
                pb_skip(&lab, lw);
            }
        }
        if (!nl)
            return series_bad(p, idx, j, "empty label name");
        /* strings point into the body, with their lengths: no NUL ends them,
         * and none may be inside (sample.h) */
        if (!utf8_valid(name, nl))
            return series_bad(p, idx, j, "invalid UTF-8 in the label name");
        if (memchr(name, 0, nl))
            return series_bad(p, idx, j, "a NUL byte in the label name");
        if (!utf8_valid(value, vl))
            return series_bad(p, idx, j, "invalid UTF-8 in the value of label '%.*s'",
                              short_len(name, nl), name);
        if (memchr(value, 0, vl))
            return series_bad(p, idx, j, "a NUL byte in the value of label '%.*s'",
                              short_len(name, nl), name);
        if (nl == 8 && memcmp(name, "__name__", 8) == 0) {
            if (smp->metric)
                return series_bad(p, idx, j, "duplicate label name '__name__'");
            if (!vl)
                return series_bad(p, idx, j, "empty __name__; expected the metric name");
            smp->metric = value;
            smp->metric_len = vl;
            continue;
        }
        if (!vl)
            continue; /* Prometheus: an empty label value is the label's absence */
        if (smp->n_labels >= max_labels)
            return series_bad(p, idx, -1, "more than %zu labels besides __name__", max_labels);
        ingest_label *l = &smp->labels[smp->n_labels];
        *l = (ingest_label){.name = name, .name_len = nl, .value = value, .value_len = vl};
        if (smp->n_labels && ingest_name_cmp(l[-1].name, l[-1].name_len, name, nl) >= 0)
            sorted = 0;
        smp->n_labels++;
    }
    if (!smp->metric)
        return series_bad(p, idx, -1, "no __name__ label; expected the metric name");
    if (!sorted) {
        long d = ingest_labels_sort(smp->labels, smp->n_labels);
        if (d >= 0)
            return series_bad(p, idx, -1, "duplicate label name '%.*s'",
                              short_len(smp->labels[d].name, smp->labels[d].name_len),
                              smp->labels[d].name);
    }
    walk = ts;
    while (pb_next(&walk, &f, &wire) == 1) {
        if (f != TS_SAMPLES) {
            pb_skip(&walk, wire);
            continue;
        }
        pb sam = {NULL, NULL};
        pb_bytes(&walk, &sam);
        uint64_t bits = 0, t = 0; /* proto3: an absent field is 0 */
        uint32_t sf;
        int sw;
        while (pb_next(&sam, &sf, &sw) == 1) {
            if (sf == SAMPLE_VALUE)
                pb_fixed64(&sam, &bits);
            else if (sf == SAMPLE_TIMESTAMP)
                pb_varint(&sam, &t);
            else
                pb_skip(&sam, sw);
        }
        memcpy(&smp->value, &bits, sizeof smp->value);
        smp->t_ms = (int64_t)t; /* int64 is two's complement on the wire */
        p->st->samples++;
        if (sink(ctx, smp))
            return INGEST_STOPPED;
    }
    return 0;
}

ingest_prom_opts ingest_prom_defaults(void)
{
    return (ingest_prom_opts){.max_body = INGEST_PROM_MAX_BODY,
                              .max_memory = (size_t)INGEST_PROM_MEMORY_FACTOR * INGEST_PROM_MAX_BODY,
                              .max_labels = INGEST_MAX_LABELS};
}

int ingest_prom_parse(const ingest_prom_opts *o, const void *body, size_t len, ingest_sink sink,
                      void *ctx, ingest_stats *st, jiko_error *err)
{
    memset(st, 0, sizeof *st);
    size_t max_body = o->max_body ? o->max_body : INGEST_PROM_MAX_BODY;
    size_t max_labels = o->max_labels && o->max_labels < INGEST_MAX_LABELS ? o->max_labels
                                                                           : INGEST_MAX_LABELS;
    const char *in = body;
    if (len == 0) {
        error_set(err, JIKO_ERR_INVALID, o->source, 0, NULL,
                  "empty body; expected a snappy-compressed prometheus.WriteRequest");
        return INGEST_FAILED;
    }
    /* The framed format starts with a stream identifier chunk; a sender
     * using it has the wrong library call, say so plainly. */
    if (len >= SNAPPY_FRAMED_MAGIC_LEN &&
        memcmp(in, snappy_framed_magic, SNAPPY_FRAMED_MAGIC_LEN) == 0) {
        error_set(err, JIKO_ERR_INVALID, o->source, 0, NULL,
                  "body uses snappy's framed format; remote_write uses the block format");
        return INGEST_FAILED;
    }
    size_t raw_len;
    if (snappy_uncompressed_length(in, len, &raw_len) != SNAPPY_OK) {
        error_set(err, JIKO_ERR_INVALID, o->source, 0, NULL,
                  "body is not snappy-compressed (block format); expected a remote_write body "
                  "sent with Content-Encoding: snappy");
        return INGEST_FAILED;
    }
    if (raw_len > max_body) {
        error_set(err, JIKO_ERR_INVALID, o->source, 0, NULL,
                  "decompressed body would be %zu bytes, more than the limit of %zu", raw_len,
                  max_body);
        return INGEST_FAILED;
    }
    /* +1 so that an empty message still gets a real buffer. */
    char *raw = malloc(raw_len + 1);
    if (!raw) {
        error_set(err, JIKO_ERR_NOMEM, o->source, 0, NULL, "out of memory (%zu bytes for the body)", raw_len);
        return INGEST_FAILED;
    }
    size_t got = raw_len;
    if (snappy_uncompress(in, len, raw, &got) != SNAPPY_OK || got != raw_len) {
        free(raw);
        error_set(err, JIKO_ERR_INVALID, o->source, 0, NULL,
                  "corrupt snappy data; expected a snappy-compressed prometheus.WriteRequest");
        return INGEST_FAILED;
    }
    pb wr = {(const uint8_t *)raw, (const uint8_t *)raw + raw_len};
    if (!pb_check(wr, wire_request, 0)) {
        free(raw);
        error_set(err, JIKO_ERR_INVALID, o->source, 0, NULL,
                  "not a valid prometheus.WriteRequest protobuf message (%zu bytes after snappy)",
                  raw_len);
        return INGEST_FAILED;
    }
    pctx p = {.o = o, .st = st};
    ingest_sample smp;
    int rc = 0;
    uint32_t f;
    int wire;
    size_t i = 0;
    while (pb_next(&wr, &f, &wire) == 1) {
        if (f != WR_TIMESERIES) {
            pb_skip(&wr, wire); /* metadata: not samples */
            continue;
        }
        pb ts = {NULL, NULL};
        pb_bytes(&wr, &ts);
        st->records++;
        if (do_series(&p, i, ts, &smp, max_labels, sink, ctx) == INGEST_STOPPED) {
            error_set(err, JIKO_ERR_INVALID, o->source, 0, NULL,
                      "stopped at timeseries[%zu] by the receiver", i);
            rc = INGEST_STOPPED;
            break;
        }
        i++;
    }
    free(raw);
    return rc;
}
