/* strmap.c — see strmap.h. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "fnv.h"
uint64_t strmap_hash(const char *s, size_t n) { return fnv1a64(FNV1A64_OFFSET, s, n); }

static size_t slot_of(const strmap *m, const char *key, size_t n)
{
    size_t j = strmap_hash(key, n) & (m->cap - 1);
    while (m->keys[j] && !(m->lens[j] == n && memcmp(m->keys[j], key, n) == 0))
        j = (j + 1) & (m->cap - 1);
    return j;
}

void **strmap_get(const strmap *m, const char *key, size_t n)
{
    if (!m->cap)
        return NULL;
    size_t j = slot_of(m, key, n);
    return m->keys[j] ? &m->vals[j] : NULL;
}

static int grow(strmap *m)
{
    size_t cap = m->cap ? 2 * m->cap : 64;
    strmap g = {calloc(cap, sizeof(char *)), calloc(cap, sizeof(size_t)),
                calloc(cap, sizeof(void *)), cap, m->n};
    if (!g.keys || !g.lens || !g.vals) {
        free(g.keys);
        free(g.lens);
        free(g.vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) {
            size_t j = slot_of(&g, m->keys[i], m->lens[i]);
            g.keys[j] = m->keys[i];
            g.lens[j] = m->lens[i];
            g.vals[j] = m->vals[i];
        }
    free(m->keys);
    free(m->lens);
    free(m->vals);
    *m = g;
    return 0;
}

void **strmap_put(strmap *m, const char *key, size_t n, bool *added)
{
    if (added)
        *added = false;
    if (2 * (m->n + 1) > m->cap && grow(m))
        return NULL;
    size_t j = slot_of(m, key, n);
    if (!m->keys[j]) {
        char *k = malloc(n + 1);
        if (!k)
            return NULL;
        memcpy(k, key, n);
        k[n] = '\0';
        m->keys[j] = k;
        m->lens[j] = n;
        m->vals[j] = NULL;
        m->n++;
        if (added)
            *added = true;
    }
    return &m->vals[j];
}

void strmap_free(strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->lens);
    free(m->vals);
    memset(m, 0, sizeof *m);
}
