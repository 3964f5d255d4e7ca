/*
 * fnv.h — the 64-bit FNV-1a hash, for hash tables, ETags and checksums that
 * only have to change when the bytes do (not against an adversary).
 */
#ifndef JIKO_FNV_H
#define JIKO_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A64_OFFSET 0xcbf29ce484222325ULL /* 14695981039346656037 */

/* h after the n bytes at p; start from FNV1A64_OFFSET, or from the hash of
 * what came before to hash a stream piece by piece. */
static inline uint64_t fnv1a64(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

#endif
