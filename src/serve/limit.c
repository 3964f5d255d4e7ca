/* limit.c — token buckets and memory readings (limit.h). */
#include "limit.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct bucket {
    char *key;
    double tokens;
    int64_t last_ms;
} bucket;

/* Open addressing over token ids; the set of keys is the set of API tokens,
 * small and known, but bounded anyway: a full table refuses new keys. */
struct limit_rate {
    pthread_mutex_t mu;
    double rate, burst;
    long cap;
    bucket *slots;
    bool forget; /* limit_rate_forget_when_full */
};

limit_rate *limit_rate_new(double rate, double burst, long max_keys)
{
    limit_rate *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->rate = rate;
    l->burst = burst < 1 ? 1 : burst;
    l->cap = 16;
    while (l->cap < 2 * max_keys)
        l->cap *= 2;
    l->slots = calloc((size_t)l->cap, sizeof *l->slots);
    if (!l->slots || pthread_mutex_init(&l->mu, NULL)) {
        free(l->slots);
        free(l);
        return NULL;
    }
    return l;
}

void limit_rate_free(limit_rate *l)
{
    if (!l)
        return;
    for (long i = 0; i < l->cap; i++)
        free(l->slots[i].key);
    free(l->slots);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static unsigned long hash(const char *s)
{
    unsigned long h = 5381;
    while (*s)
        h = h * 33 ^ (unsigned char)*s++;
    return h;
}

void limit_rate_forget_when_full(limit_rate *l)
{
    l->forget = true;
}

/* Every bucket gone: each key starts again with a full bucket. */
static void forget_all(limit_rate *l)
{
    for (long i = 0; i < l->cap; i++) {
        free(l->slots[i].key);
        l->slots[i].key = NULL;
    }
}

bool limit_rate_take(limit_rate *l, const char *key, int64_t now_ms, int *retry_after_s)
{
    if (l->rate <= 0)
        return true;
    pthread_mutex_lock(&l->mu);
    long mask = l->cap - 1, i = (long)(hash(key) & (unsigned long)mask);
    bucket *b = NULL;
    bool full = true; /* no room for the key along its chain */
    for (long probes = 0; probes < l->cap; probes++, i = (i + 1) & mask) {
        if (!l->slots[i].key) {
            if (probes * 2 > l->cap) /* over half full along this chain: refuse */
                break;
            full = false;
            l->slots[i].key = strdup(key);
            if (!l->slots[i].key)
                break;
            l->slots[i].tokens = l->burst;
            l->slots[i].last_ms = now_ms;
            b = &l->slots[i];
            break;
        }
        if (strcmp(l->slots[i].key, key) == 0) {
            full = false;
            b = &l->slots[i];
            break;
        }
    }
    if (full && l->forget) { /* forget every key, and take this one's first slot */
        forget_all(l);
        i = (long)(hash(key) & (unsigned long)mask);
        if ((l->slots[i].key = strdup(key))) {
            l->slots[i].tokens = l->burst;
            l->slots[i].last_ms = now_ms;
            b = &l->slots[i];
        }
    }
    bool ok = false;
    if (b) {
        if (now_ms > b->last_ms) {
            b->tokens = fmin(l->burst, b->tokens + (double)(now_ms - b->last_ms) * l->rate / 1e3);
            b->last_ms = now_ms;
        }
        if (b->tokens >= 1) {
            b->tokens -= 1;
            ok = true;
        } else {
            double wait = (1 - b->tokens) / l->rate;
            *retry_after_s = (int)fmax(1, ceil(wait));
        }
    } else {
        *retry_after_s = 1;
    }
    pthread_mutex_unlock(&l->mu);
    return ok;
}

int64_t limit_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    long size, resident;
    int n = fscanf(f, "%ld %ld", &size, &resident);
    fclose(f);
    if (n != 2)
        return -1;
    return (int64_t)resident * sysconf(_SC_PAGESIZE);
}
