/* bench_util.h — what every benchmark needs: a monotonic clock and a fixed-
 * seed generator, so runs are repeatable and comparable. */
#ifndef JIKO_BENCH_UTIL_H
#define JIKO_BENCH_UTIL_H

#include <stdint.h>
#include <time.h>

static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64: deterministic, state owned by the caller */
static inline uint64_t bench_rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

#endif
