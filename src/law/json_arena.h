/*
 * json_arena.h — bump allocation for jansson values, released all at once.
 *
 * jansson mallocs every value, key and string of a parsed record (about 60
 * allocations for one incident) and frees them one by one; for `jiko import`
 * that was a third of the parsing thread's time.  With the arena hook
 * installed, values are carved from an arena that the calling thread has made
 * current, freeing one is a no-op, and resetting the arena releases them all.
 * A thread with no current arena gets ordinary heap memory, freed normally,
 * so other code using jansson in the same process is unaffected.
 *
 * json_set_alloc_funcs is process-global, so the hook is installed once, by a
 * command (`jiko import`), before it creates any jansson value, and stays
 * installed; every block carries a tag saying how to free it.  Values taken
 * from an arena must not be used, or decref'd, after that arena is reset.
 * Strings jansson returns for the caller to free (json_dumps) must then go
 * to jansson's free function (json_get_alloc_funcs), not to free().
 *
 * Under AddressSanitizer each value gets its own heap block, released on
 * reset, so a value used after its arena was reset is still reported.
 */
#ifndef JIKO_JSON_ARENA_H
#define JIKO_JSON_ARENA_H

#include <stdbool.h>
#include <stddef.h>

typedef struct json_arena_chunk json_arena_chunk;

typedef struct json_arena {
    json_arena_chunk *chunks; /* newest first; the oldest is kept on reset */
    char *pos, *end;          /* free space in the newest chunk */
} json_arena;

/* Route jansson's allocations through the arena hook (idempotent).  Call it
 * before any jansson value is created in the process. */
void json_arena_install(void);

/* Whether the hook is installed (a user of arenas checks before relying on
 * json_arena_reset to release its values). */
bool json_arena_installed(void);

/* An empty arena (no memory until the first allocation). */
void json_arena_init(json_arena *a);

/* Make `a` the calling thread's current arena (NULL: the heap); returns the
 * previous one. */
json_arena *json_arena_use(json_arena *a);

/* Release every value allocated from `a`; keeps one chunk for reuse. */
void json_arena_reset(json_arena *a);

/* Release everything, the kept chunk too. */
void json_arena_free(json_arena *a);

#endif
