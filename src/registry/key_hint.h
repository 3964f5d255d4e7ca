/*
 * key_hint.h — a bounded table in memory from an incident's (operator, id)
 * to the registry's key for it, so that a read by (operator, id) can go
 * straight to the row instead of through the (id, operator) index: two
 * b-tree descents per read instead of three (docs/serve-performance.md).
 *
 * Only ever a hint.  The reader (store.c) checks that the row it read by key
 * is the incident it asked for; a miss, an evicted entry, a hash collision
 * or a slot read while another thread wrote it costs the index lookup the
 * hint would have saved, never a wrong answer.  So the table needs no locks
 * and no invalidation: every slot word is an atomic, read and written
 * relaxed, and keys never change (the registry never deletes an incident;
 * an amendment keeps its key).
 *
 * The table never grows: it has the slots max_bytes allows, in buckets of
 * four (one cache line).  A hash may live in either of two buckets, and a
 * new entry goes to the emptier; when both are full it evicts one of the
 * first's four.  The pages are taken from the kernel as slots are first
 * written.
 */
#ifndef JIKO_KEY_HINT_H
#define JIKO_KEY_HINT_H

#include <stddef.h>
#include <stdint.h>

typedef struct key_hint key_hint;

/* How a read by (operator, id) went (counted by store.c). */
typedef enum key_hint_result {
    KEY_HINT_HIT,   /* the hinted row was the incident */
    KEY_HINT_MISS,  /* no hint: the index was read */
    KEY_HINT_STALE, /* a hint, but not to the incident: the index was read */
    KEY_HINT_RESULTS
} key_hint_result;

typedef struct key_hint_stats {
    unsigned long reads[KEY_HINT_RESULTS];
    unsigned long slots;  /* capacity */
    unsigned long filled; /* slots ever written (evictions reuse them) */
} key_hint_stats;

/* A table of at most max_bytes (at least one bucket); NULL when out of memory. */
key_hint *key_hint_new(size_t max_bytes);
void key_hint_free(key_hint *h);

/* The hash of an incident's name: an operator never contains NUL, so
 * (op, id) pairs map to distinct byte strings. */
uint64_t key_hint_hash(const char *op, const char *id);

/* The key hinted for `hash`, or 0 (keys are >= 1). */
int64_t key_hint_find(key_hint *h, uint64_t hash);

/* Remember key for hash (key >= 1), replacing any hint for the same hash. */
void key_hint_put(key_hint *h, uint64_t hash, int64_t key);

/* True once three quarters of the slots are filled, or once told to stop
 * filling: a bulk fill stops there rather than evict what it has just put. */
int key_hint_nearly_full(key_hint *h);

/* Make key_hint_nearly_full true from now on (a server that stops does
 * not wait for its fill); lookups and single puts go on as before. */
void key_hint_stop_filling(key_hint *h);

void key_hint_count(key_hint *h, key_hint_result r);
void key_hint_stats_get(key_hint *h, key_hint_stats *out);

#endif
