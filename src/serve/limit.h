/*
 * limit.h — the server's self-protection (seed 002: the POP proxies of the
 * Pepabo case died of memory exhaustion under a connection surge, and the
 * review council asked for admission control):
 *
 * - a token bucket per API token: `rate` requests per second on average,
 *   bursts of up to `burst`; beyond it 429 with Retry-After;
 * - admission by work in progress and by resident memory: beyond either
 *   limit a request is answered 503 with Retry-After at once, before any
 *   work is done for it, instead of being queued.
 */
#ifndef JIKO_LIMIT_H
#define JIKO_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef struct limit_rate limit_rate;

/* A rate limiter for up to `max_keys` keys (API token ids); `rate` <= 0
 * means no limit.  NULL when out of memory. */
limit_rate *limit_rate_new(double rate, double burst, long max_keys);
void limit_rate_free(limit_rate *l);

/* For keys that come and go without end (client addresses): when the table
 * has no room for a new key, every bucket is forgotten (all full again)
 * instead of refusing the key, so that a flood of new addresses cannot
 * lock the others out; it can only make the limiter forget for a moment. */
void limit_rate_forget_when_full(limit_rate *l);

/* Take one request's worth for `key` at `now_ms`.  True when allowed; false
 * with *retry_after_s (whole seconds, at least 1) when the bucket is empty. */
bool limit_rate_take(limit_rate *l, const char *key, int64_t now_ms, int *retry_after_s);

/* Resident memory of this process in bytes (from /proc/self/statm), or -1. */
int64_t limit_rss_bytes(void);

#endif
