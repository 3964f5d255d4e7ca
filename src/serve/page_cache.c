/* page_cache.c — public pages kept for a few seconds (page_cache.h). */
#include "page_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *key; /* NULL: free */
    int64_t made_ms;
    reply r; /* body owned */
} entry;

struct page_cache {
    pthread_mutex_t mu;
    entry e[PAGE_CACHE_ENTRIES];
};

page_cache *page_cache_new(void)
{
    page_cache *c = calloc(1, sizeof *c);
    if (c && pthread_mutex_init(&c->mu, NULL)) {
        free(c);
        return NULL;
    }
    return c;
}

static void drop(entry *e)
{
    free(e->key);
    free(e->r.body);
    memset(e, 0, sizeof *e);
}

void page_cache_free(page_cache *c)
{
    if (!c)
        return;
    page_cache_clear(c);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void page_cache_clear(page_cache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < PAGE_CACHE_ENTRIES; i++)
        drop(&c->e[i]);
    pthread_mutex_unlock(&c->mu);
}

bool page_cache_get(page_cache *c, const char *key, int64_t now_ms, reply *out)
{
    if (!c)
        return false;
    bool hit = false;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < PAGE_CACHE_ENTRIES && !hit; i++) {
        entry *e = &c->e[i];
        if (!e->key || strcmp(e->key, key) != 0)
            continue;
        if (now_ms - e->made_ms >= PAGE_CACHE_TTL_MS || now_ms < e->made_ms) {
            drop(e); /* stale, or the clock went back */
            break;
        }
        char *body = malloc(e->r.len ? e->r.len : 1);
        if (body) {
            memcpy(body, e->r.body, e->r.len);
            *out = e->r;
            out->body = body;
            hit = true;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void page_cache_put(page_cache *c, const char *key, int64_t now_ms, const reply *r)
{
    if (!c || (r->status != 200 && r->status != 404) || !r->body ||
        strlen(key) >= PAGE_CACHE_KEY_MAX)
        return;
    char *k = strdup(key), *body = malloc(r->len ? r->len : 1);
    if (!k || !body) {
        free(k);
        free(body);
        return;
    }
    memcpy(body, r->body, r->len);
    pthread_mutex_lock(&c->mu);
    /* the same key, else a free place, else the oldest */
    entry *slot = &c->e[0];
    for (int i = 0; i < PAGE_CACHE_ENTRIES; i++) {
        entry *e = &c->e[i];
        if (e->key && strcmp(e->key, key) == 0) {
            slot = e;
            break;
        }
        if (!e->key ? slot->key != NULL : slot->key && e->made_ms < slot->made_ms)
            slot = e;
    }
    drop(slot);
    slot->key = k;
    slot->made_ms = now_ms;
    slot->r = *r;
    slot->r.body = body;
    pthread_mutex_unlock(&c->mu);
}
