/* rw_body.h — the remote_write bodies of the live benchmarks
 * (bench/live_send.c sends them, bench/live_engine_bench.c decodes them in
 * process): series kpi_bench{job="bench", site="sNNNNNN"} for N in
 * [first, first + n), one sample each at t_ms, packed with protobuf-c and
 * snappy-compressed as Prometheus sends them. */
#ifndef JIKO_BENCH_RW_BODY_H
#define JIKO_BENCH_RW_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "remote.pb-c.h"

/* A WriteRequest packed and snappy-compressed, as a sender sends it: a
 * malloc'd body of *len bytes (*raw_len before compression; raw_len may be
 * NULL).  Aborts when out of memory (a benchmark). */
char *rw_pack(const Prometheus__WriteRequest *wr, size_t *len, size_t *raw_len);

/* The value of series s in this body. */
typedef double (*rw_value_fn)(void *ctx, long s);

/* A malloc'd body of *len bytes; aborts when out of memory (a benchmark). */
char *rw_body(long first, long n, int64_t t_ms, rw_value_fn value, void *ctx, size_t *len);

/* The same bodies round after round without building them again: the
 * protobuf is encoded once, then each round patches its values and times
 * in place and compresses it.  Building a body with protobuf-c each time
 * cost the load generator more than a receiver took to answer it, so the
 * benchmark measured its own client (bench/live_bench.sh). */
typedef struct rw_template {
    long first, n;
    uint8_t *raw;      /* the encoded WriteRequest */
    size_t raw_len;
    size_t *value_at;  /* per series: offset of its sample's fixed64 value */
    size_t *time_at;   /* ... and of its timestamp's varint */
    int time_bytes;    /* that varint's length (the same for every round) */
    char *out;         /* the compressed body of the last round */
    size_t out_cap;
} rw_template;

void rw_template_init(rw_template *t, long first, long n, int64_t t_ms);
/* This round's body (valid until the next call); aborts when t_ms needs a
 * varint of another length than the template's (not before 2109). */
const char *rw_template_body(rw_template *t, int64_t t_ms, rw_value_fn value, void *ctx,
                             size_t *len);
void rw_template_free(rw_template *t);

#endif
