/* json_arena.c — bump allocation for jansson values (json_arena.h). */
#include "json_arena.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* One block per value under AddressSanitizer (see json_arena.h). */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_EXACT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_EXACT 1
#endif
#endif
#ifndef ARENA_EXACT
#define ARENA_EXACT 0
#endif

/* Every block handed to jansson follows a header saying where it came from,
 * because the free hook gets only the pointer.  16 bytes keep the block as
 * aligned as malloc's. */
#define HDR 16
#define TAG_HEAP ((uint64_t)0x4a534f4e48454150ULL)  /* "JSONHEAP" */
#define TAG_ARENA ((uint64_t)0x4a534f4e4152454eULL) /* "JSONAREN" */
#define CHUNK_DATA 4096 /* one incident's values take about 3.4 KiB */

struct json_arena_chunk {
    json_arena_chunk *next;
    size_t size;
    _Alignas(16) char data[];
};

/* The arena jansson allocates from on this thread.  jansson's hook takes no
 * context, so this thread-local is the one piece of mutable state outside
 * the arenas themselves (set and restored by json_arena_use). */
static _Thread_local json_arena *current;

static void *heap_alloc(size_t size)
{
    if (size > SIZE_MAX - HDR)
        return NULL;
    char *p = malloc(HDR + size);
    if (!p)
        return NULL;
    *(uint64_t *)p = TAG_HEAP;
    return p + HDR;
}

static void *arena_alloc(size_t size)
{
    json_arena *a = current;
    if (!a)
        return heap_alloc(size);
    if (size > SIZE_MAX / 2)
        return NULL;
    size_t need = HDR + ((size + 15) & ~(size_t)15);
    if (ARENA_EXACT || (size_t)(a->end - a->pos) < need) {
        size_t cs = ARENA_EXACT || need > CHUNK_DATA ? need : CHUNK_DATA;
        json_arena_chunk *c = malloc(sizeof *c + cs);
        if (!c)
            return NULL;
        c->size = cs;
        c->next = a->chunks;
        a->chunks = c;
        a->pos = c->data;
        a->end = c->data + cs;
    }
    char *p = a->pos;
    a->pos += need;
    *(uint64_t *)p = TAG_ARENA;
    return p + HDR;
}

static void arena_free(void *ptr)
{
    if (!ptr)
        return;
    char *p = (char *)ptr - HDR;
    uint64_t tag = *(uint64_t *)p;
    if (tag == TAG_HEAP) {
        free(p);
    } else if (tag != TAG_ARENA) {
        /* Not ours: a value created before the hook was installed, or a
         * corrupted heap.  Continuing would corrupt it further. */
        fputs("json_arena: free of a block it did not allocate\n", stderr);
        abort();
    }
    /* Arena blocks go when their arena is reset. */
}

void json_arena_install(void) { json_set_alloc_funcs(arena_alloc, arena_free); }

bool json_arena_installed(void)
{
    json_malloc_t m;
    json_free_t f;
    json_get_alloc_funcs(&m, &f);
    return m == arena_alloc && f == arena_free;
}

void json_arena_init(json_arena *a)
{
    a->chunks = NULL;
    a->pos = a->end = NULL;
}

json_arena *json_arena_use(json_arena *a)
{
    json_arena *prev = current;
    current = a;
    return prev;
}

void json_arena_reset(json_arena *a)
{
    json_arena_chunk *c = a->chunks, *keep = NULL;
    while (c) {
        json_arena_chunk *next = c->next;
        if (!next && !ARENA_EXACT && c->size == CHUNK_DATA)
            keep = c; /* the oldest, regular-sized chunk serves the next record */
        else
            free(c);
        c = next;
    }
    a->chunks = keep;
    a->pos = keep ? keep->data : NULL;
    a->end = keep ? keep->data + keep->size : NULL;
}

void json_arena_free(json_arena *a)
{
    json_arena_reset(a);
    free(a->chunks);
    json_arena_init(a);
}
