/*
 * ingest_prom.c — Prometheus remote_write decoder (see ingest_prom.h).
 *
 * How it works: the snappy header gives the decompressed size, which is
 * checked against the limit before anything is allocated; the body is
 * decompressed into one buffer and decoded by protobuf-c (code generated
 * from proto/remote.proto and proto/types.proto) with an arena allocator,
 * so the thousands of small allocations protobuf-c makes for series, labels
 * and strings are pointer bumps, freed together at the end.  Then each
 * series is checked and turned into samples: labels are taken by pointer
 * from the decoded message (no copy), __name__ is moved out of them into the
 * metric, and they are sorted only when the sender did not sort them
 * (Prometheus always does).
 */
#include "ingest_prom.h"

#include <snappy-c.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.pb-c.h"
#include "utf8.h"

/* ---- arena: protobuf-c's allocator for one body ---- */

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t cap, used;
    unsigned char *data;
} arena_chunk;

typedef struct arena {
    arena_chunk *head;
    size_t total;     /* bytes of all chunks */
    size_t limit;     /* max_memory */
    size_t next_size; /* size of the next chunk */
    int exhausted;    /* a request was refused by the limit */
    int oom;          /* malloc failed */
} arena;

static void *arena_alloc(void *ad, size_t size)
{
    arena *a = ad;
    const size_t align = alignof(max_align_t);
    if (size > a->limit) {
        a->exhausted = 1;
        return NULL;
    }
    size = (size + align - 1) & ~(align - 1);
    if (!size)
        size = align;
    arena_chunk *c = a->head;
    if (!c || c->cap - c->used < size) {
        size_t want = a->next_size > size ? a->next_size : size;
        if (want > a->limit - a->total) {
            /* Take what is left under the limit if the request fits. */
            want = a->limit - a->total;
            if (want < size) {
                a->exhausted = 1;
                return NULL;
            }
        }
        /* Header and data in one block; data starts aligned after it. */
        size_t hdr = (sizeof(arena_chunk) + align - 1) & ~(align - 1);
        c = malloc(hdr + want);
        if (!c) {
            a->oom = 1;
            return NULL;
        }
        c->data = (unsigned char *)c + hdr;
        c->cap = want;
        c->used = 0;
        c->next = a->head;
        a->head = c;
        a->total += want;
        a->next_size = want * 2;
    }
    void *p = c->data + c->used;
    c->used += size;
    return p;
}

/* protobuf-c frees piece by piece (on a failed decode); the arena frees
 * everything at once in arena_release. */
static void arena_free(void *ad, void *p)
{
    (void)ad;
    (void)p;
}

static void arena_release(arena *a)
{
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = NULL;
}

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
/* The decode arena's first chunk: a decoded WriteRequest takes about this
 * many times the decompressed size, and never less than ARENA_FIRST_MIN. */
#define ARENA_DECODE_FACTOR 3
#define ARENA_FIRST_MIN 4096

/* Histograms are field 4 of TimeSeries, not declared in types.proto, so
 * protobuf-c keeps them as unknown fields: count them as skipped. */
#define TIMESERIES_HISTOGRAMS_TAG 4
static size_t count_histograms(const Prometheus__TimeSeries *ts)
{
    size_t n = 0;
    for (unsigned i = 0; i < ts->base.n_unknown_fields; i++)
        if (ts->base.unknown_fields[i].tag == TIMESERIES_HISTOGRAMS_TAG)
            n++;
    return n;
}

/* Returns 0 delivered, 1 rejected, INGEST_STOPPED. */
static int do_series(pctx *p, size_t idx, const Prometheus__TimeSeries *ts, ingest_sample *smp,
                     size_t max_labels, ingest_sink sink, void *ctx)
{
    p->st->skipped += count_histograms(ts);
    smp->metric = NULL;
    smp->metric_len = 0;
    smp->n_labels = 0;
    int sorted = 1;
    for (size_t j = 0; j < ts->n_labels; j++) {
        const char *name = ts->labels[j]->name, *value = ts->labels[j]->value;
        size_t nl = strlen(name), vl = strlen(value);
        if (!nl)
            return series_bad(p, idx, (long)j, "empty label name");
        if (!utf8_valid(name, nl))
            return series_bad(p, idx, (long)j, "invalid UTF-8 in the label name");
        if (!utf8_valid(value, vl))
            return series_bad(p, idx, (long)j, "invalid UTF-8 in the value of label '%.*s'",
                              short_len(name, nl), name);
        if (nl == 8 && memcmp(name, "__name__", 8) == 0) {
            if (smp->metric)
                return series_bad(p, idx, (long)j, "duplicate label name '__name__'");
            if (!vl)
                return series_bad(p, idx, (long)j, "empty __name__; expected the metric name");
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
        if (smp->n_labels &&
            ingest_name_cmp(l[-1].name, l[-1].name_len, name, nl) >= 0)
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
    for (size_t k = 0; k < ts->n_samples; k++) {
        smp->value = ts->samples[k]->value;
        smp->t_ms = ts->samples[k]->timestamp;
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
    size_t max_memory = o->max_memory ? o->max_memory : INGEST_PROM_MEMORY_FACTOR * max_body;
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
    /* First chunk sized for a typical body's decoded form, so most bodies
     * need one malloc; the arena grows by doubling up to the limit. */
    size_t first = raw_len * ARENA_DECODE_FACTOR;
    if (first < ARENA_FIRST_MIN)
        first = ARENA_FIRST_MIN;
    if (first > max_memory)
        first = max_memory;
    arena a = {.limit = max_memory, .next_size = first};
    ProtobufCAllocator alloc = {.alloc = arena_alloc, .free = arena_free, .allocator_data = &a};
    Prometheus__WriteRequest *wr =
        prometheus__write_request__unpack(&alloc, raw_len, (const uint8_t *)raw);
    free(raw);
    /* Nothing below points into raw: protobuf-c copied every string into the
     * arena. */
    if (!wr) {
        if (a.oom)
            error_set(err, JIKO_ERR_NOMEM, o->source, 0, NULL, "out of memory decoding the body");
        else if (a.exhausted)
            error_set(err, JIKO_ERR_INVALID, o->source, 0, NULL,
                      "decoding the body needs more than %zu bytes of memory (the limit)",
                      max_memory);
        else
            error_set(err, JIKO_ERR_INVALID, o->source, 0, NULL,
                      "not a valid prometheus.WriteRequest protobuf message (%zu bytes after "
                      "snappy)",
                      raw_len);
        arena_release(&a);
        return INGEST_FAILED;
    }
    pctx p = {.o = o, .st = st};
    ingest_sample smp;
    int rc = 0;
    for (size_t i = 0; i < wr->n_timeseries; i++) {
        st->records++;
        if (do_series(&p, i, wr->timeseries[i], &smp, max_labels, sink, ctx) == INGEST_STOPPED) {
            error_set(err, JIKO_ERR_INVALID, o->source, 0, NULL, "stopped at timeseries[%zu] by the receiver", i);
            rc = INGEST_STOPPED;
            break;
        }
    }
    arena_release(&a);
    return rc;
}
