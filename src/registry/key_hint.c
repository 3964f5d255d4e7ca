/* key_hint.c — the (operator, id) -> key hint table (key_hint.h). */
#include "key_hint.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fnv.h"

#define KEY_HINT_WAYS 4

/* One bucket is one 64-byte cache line (the table is aligned to 64): a
 * lookup touches one line, two when the hash is in its second bucket. */
typedef struct bucket {
    _Atomic uint64_t tag[KEY_HINT_WAYS]; /* the hash, never 0; 0 = empty */
    _Atomic int64_t key[KEY_HINT_WAYS];
} bucket;
#define KEY_HINT_LINE 64
static_assert(sizeof(bucket) == KEY_HINT_LINE, "a bucket is one cache line");
static_assert(KEY_HINT_WAYS == 4, "the way evicted is named by the hash's top two bits");

struct key_hint {
    bucket *b;    /* 64-aligned, inside mem */
    void *mem;
    size_t mask; /* buckets - 1 */
    atomic_ulong reads[KEY_HINT_RESULTS];
    atomic_ulong filled;
    atomic_bool stop_filling;
};

key_hint *key_hint_new(size_t max_bytes)
{
    size_t n = 1;
    while (n <= max_bytes / sizeof(bucket) / 2)
        n *= 2;
    key_hint *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    /* zeroed by calloc's fresh pages: all slots empty, and a page is only
     * resident once a slot on it is written (aligned_alloc would have to
     * clear them all).  One bucket more, to align the table to a line:
     * malloc's 16-byte alignment would split every bucket over two. */
    h->mem = calloc(n + 1, sizeof(bucket));
    if (!h->mem) {
        free(h);
        return NULL;
    }
    uintptr_t at = ((uintptr_t)h->mem + KEY_HINT_LINE - 1) & ~(uintptr_t)(KEY_HINT_LINE - 1);
    h->b = (bucket *)at;
    h->mask = n - 1;
    return h;
}

void key_hint_free(key_hint *h)
{
    if (!h)
        return;
    free(h->mem);
    free(h);
}

uint64_t key_hint_hash(const char *op, const char *id)
{
    uint64_t x = fnv1a64(FNV1A64_OFFSET, op, strlen(op) + 1); /* with its NUL */
    x = fnv1a64(x, id, strlen(id));
    /* FNV's low bits, which pick the bucket, mix the last bytes poorly:
     * ids that differ in one digit would crowd neighbouring buckets */
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x ? x : 1;
}

/* Two buckets per hash, the new entry going to the emptier ("two
 * choices"): at half the slots filled, one bucket of four would leave ~3%
 * of the entries evicted, two leave almost none. */
static bucket *bucket_of(key_hint *h, uint64_t hash, int which)
{
    return &h->b[(which ? hash >> 32 : hash) & h->mask];
}

/* The way of b holding hash, or -1. */
static int way_of(bucket *b, uint64_t hash)
{
    for (int i = 0; i < KEY_HINT_WAYS; i++)
        if (atomic_load_explicit(&b->tag[i], memory_order_relaxed) == hash)
            return i;
    return -1;
}

int64_t key_hint_find(key_hint *h, uint64_t hash)
{
    for (int w = 0; w < 2; w++) {
        bucket *b = bucket_of(h, hash, w);
        int i = way_of(b, hash);
        if (i >= 0)
            return atomic_load_explicit(&b->key[i], memory_order_relaxed);
    }
    return 0;
}

static int empty_ways(bucket *b)
{
    int n = 0;
    for (int i = 0; i < KEY_HINT_WAYS; i++)
        n += atomic_load_explicit(&b->tag[i], memory_order_relaxed) == 0;
    return n;
}

/* Claim an empty way of b for hash (another thread may take it first). */
static int claim(key_hint *h, bucket *b, uint64_t hash)
{
    for (int i = 0; i < KEY_HINT_WAYS; i++) {
        uint64_t empty = 0;
        if (atomic_compare_exchange_strong_explicit(&b->tag[i], &empty, hash,
                                                    memory_order_relaxed, memory_order_relaxed)) {
            atomic_fetch_add_explicit(&h->filled, 1, memory_order_relaxed);
            return i;
        }
    }
    return -1;
}

void key_hint_put(key_hint *h, uint64_t hash, int64_t key)
{
    bucket *b0 = bucket_of(h, hash, 0), *b1 = bucket_of(h, hash, 1);
    bucket *b = b0;
    int slot = way_of(b0, hash);
    if (slot < 0 && (slot = way_of(b1, hash)) >= 0)
        b = b1;
    if (slot < 0) {
        bucket *first = empty_ways(b1) > empty_ways(b0) ? b1 : b0;
        bucket *second = first == b0 ? b1 : b0;
        if ((slot = claim(h, b = first, hash)) < 0 && (slot = claim(h, b = second, hash)) < 0) {
            /* both full: evict the way of the first that the hash's top bits name */
            b = b0;
            slot = (int)(hash >> 62);
            atomic_store_explicit(&b->tag[slot], hash, memory_order_relaxed);
        }
    }
    /* between the tag and the key a reader may pair this tag with the
     * slot's old key: the row it reads then is not the incident, and it
     * falls back to the index */
    atomic_store_explicit(&b->key[slot], key, memory_order_relaxed);
}

static unsigned long slots(const key_hint *h)
{
    return (unsigned long)(h->mask + 1) * KEY_HINT_WAYS;
}

int key_hint_nearly_full(key_hint *h)
{
    return atomic_load_explicit(&h->stop_filling, memory_order_relaxed) ||
           atomic_load_explicit(&h->filled, memory_order_relaxed) >= slots(h) / 4 * 3;
}

void key_hint_stop_filling(key_hint *h)
{
    atomic_store_explicit(&h->stop_filling, true, memory_order_relaxed);
}

void key_hint_count(key_hint *h, key_hint_result r)
{
    if ((unsigned)r < KEY_HINT_RESULTS)
        atomic_fetch_add_explicit(&h->reads[r], 1, memory_order_relaxed);
}

void key_hint_stats_get(key_hint *h, key_hint_stats *out)
{
    for (int i = 0; i < KEY_HINT_RESULTS; i++)
        out->reads[i] = atomic_load_explicit(&h->reads[i], memory_order_relaxed);
    out->slots = slots(h);
    out->filled = atomic_load_explicit(&h->filled, memory_order_relaxed);
}
