/*
 * page_cache.h — the public status pages and feeds, kept for a few seconds.
 *
 * A public page is the same for everyone who asks, takes no token, and
 * costs a pass over the registry's recent incidents to make (status.h: the
 * receivers of a wholesale provider are found among every operator's
 * records).  Without a cache each request repeats the pass, so a client
 * that keeps asking could keep the workers busy; with it the pass is made
 * at most once per page every PAGE_CACHE_TTL_MS, whoever asks and however
 * often.  A notice published through this server empties the cache, so
 * the publisher sees it at once; other changes (an incident that ended, a
 * notice stored by another server) show within the TTL.
 *
 * The cache holds whole answers (status, type, body, validators) by key,
 * at most PAGE_CACHE_ENTRIES of them (the oldest make room), under one
 * mutex: a hit costs a copy of the body.
 */
#ifndef JIKO_PAGE_CACHE_H
#define JIKO_PAGE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "reply.h"

#define PAGE_CACHE_TTL_MS 5000
#define PAGE_CACHE_ENTRIES 256
#define PAGE_CACHE_KEY_MAX 1024 /* longer keys (operator names) are not cached */

typedef struct page_cache page_cache;

page_cache *page_cache_new(void);
void page_cache_free(page_cache *c);

/* A copy of the answer kept for `key`, if it was made within the TTL of
 * now_ms: true with *out filled (its body the caller's to free). */
bool page_cache_get(page_cache *c, const char *key, int64_t now_ms, reply *out);

/* Keep a copy of an answer (200 or 404 only; nothing when out of memory). */
void page_cache_put(page_cache *c, const char *key, int64_t now_ms, const reply *r);

/* Forget every page: something they show has changed. */
void page_cache_clear(page_cache *c);

#endif
