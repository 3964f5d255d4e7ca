/* rw_body.h — the remote_write bodies of the live benchmarks
 * (bench/live_send.c sends them, bench/live_engine_bench.c decodes them in
 * process): series kpi_bench{job="bench", site="sNNNNNN"} for N in
 * [first, first + n), one sample each at t_ms, packed with protobuf-c and
 * snappy-compressed as Prometheus sends them. */
#ifndef JIKO_BENCH_RW_BODY_H
#define JIKO_BENCH_RW_BODY_H

#include <stddef.h>
#include <stdint.h>

/* The value of series s in this body. */
typedef double (*rw_value_fn)(void *ctx, long s);

/* A malloc'd body of *len bytes; aborts when out of memory (a benchmark). */
char *rw_body(long first, long n, int64_t t_ms, rw_value_fn value, void *ctx, size_t *len);

#endif
