/*
 * strmap.h — a map from strings to pointers: open addressing over FNV-1a
 * hashes, doubling at half full.  Keys are copied and owned by the map (their
 * addresses never change, so callers may keep them); values belong to the
 * caller.  Used where a few thousand names are looked up per row of a hot
 * loop: KPI series by name, operators and catalog codes in the reports.
 */
#ifndef JIKO_STRMAP_H
#define JIKO_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct strmap {
    char **keys;  /* cap slots, NULL = empty; iterate over them to visit all */
    size_t *lens;
    void **vals;
    size_t cap, n;
} strmap;

/* FNV-1a of n bytes. */
uint64_t strmap_hash(const char *s, size_t n);

/* The value slot of key (n bytes), or NULL when absent. */
void **strmap_get(const strmap *m, const char *key, size_t n);

/* The value slot of key, added (value NULL, *added true) when absent;
 * NULL when out of memory. */
void **strmap_put(strmap *m, const char *key, size_t n, bool *added);

/* Frees the keys and the table, not the values. */
void strmap_free(strmap *m);

#endif
