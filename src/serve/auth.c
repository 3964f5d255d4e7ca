/* auth.c — API tokens in memory (auth.h). */
#include "auth.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct entry {
    unsigned char hash[STORE_TOKEN_HASH_BYTES];
    char id[TOKEN_ID_MAX];
    token_role role;
    char *op;
} entry;

typedef struct snapshot {
    entry *e;
    long n, cap;
} snapshot;

struct auth {
    pthread_rwlock_t lock;    /* guards `cur` */
    pthread_mutex_t reload;   /* one reader of the registry at a time */
    snapshot cur;
    _Atomic int64_t loaded_ms; /* when `cur` was read; INT64_MIN = never */
    int64_t refresh_ms;
};

static void snapshot_free(snapshot *s)
{
    for (long i = 0; i < s->n; i++)
        free(s->e[i].op);
    free(s->e);
    memset(s, 0, sizeof *s);
}

auth *auth_new(int64_t refresh_ms)
{
    auth *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    if (pthread_rwlock_init(&a->lock, NULL)) {
        free(a);
        return NULL;
    }
    if (pthread_mutex_init(&a->reload, NULL)) {
        pthread_rwlock_destroy(&a->lock);
        free(a);
        return NULL;
    }
    a->refresh_ms = refresh_ms > 0 ? refresh_ms : AUTH_REFRESH_MS_DEFAULT;
    atomic_store(&a->loaded_ms, INT64_MIN);
    return a;
}

void auth_free(auth *a)
{
    if (!a)
        return;
    snapshot_free(&a->cur);
    pthread_rwlock_destroy(&a->lock);
    pthread_mutex_destroy(&a->reload);
    free(a);
}

typedef struct loading {
    snapshot s;
    bool nomem;
} loading;

static int add_token(void *ctx, const store_token *t)
{
    loading *l = ctx;
    token_role role;
    if (t->revoked_ms || token_role_parse(t->role, &role))
        return 0; /* revoked, or a role this build does not know: never admitted */
    if (l->s.n == l->s.cap) {
        long cap = l->s.cap ? 2 * l->s.cap : 16;
        entry *e = realloc(l->s.e, (size_t)cap * sizeof *e);
        if (!e) {
            l->nomem = true;
            return -1;
        }
        l->s.e = e;
        l->s.cap = cap;
    }
    entry *e = &l->s.e[l->s.n];
    memcpy(e->hash, t->hash, sizeof e->hash);
    snprintf(e->id, sizeof e->id, "%s", t->id);
    e->role = role;
    e->op = t->op ? strdup(t->op) : NULL;
    if (t->op && !e->op) {
        l->nomem = true;
        return -1;
    }
    l->s.n++;
    return 0;
}

/* Read the active tokens again, unless another thread has done so since the
 * caller saw the copy loaded at `seen_ms` (concurrent misses read once). */
static int reload(auth *a, store *db, int64_t now_ms, int64_t seen_ms, jiko_error *err)
{
    pthread_mutex_lock(&a->reload);
    int rc = 0;
    if (atomic_load(&a->loaded_ms) == seen_ms) {
        loading l = {{0}, false};
        if (store_token_list(db, add_token, &l, err)) {
            if (l.nomem)
                error_nomem(err, "reading the API tokens");
            snapshot_free(&l.s);
            rc = -1;
        } else {
            pthread_rwlock_wrlock(&a->lock);
            snapshot old = a->cur;
            a->cur = l.s;
            pthread_rwlock_unlock(&a->lock);
            snapshot_free(&old);
            /* never equal to a value a caller saw before: a reload in the
             * same millisecond must still count as a new copy */
            int64_t stamp = now_ms > seen_ms ? now_ms : seen_ms + 1;
            atomic_store(&a->loaded_ms, stamp);
        }
    }
    pthread_mutex_unlock(&a->reload);
    return rc;
}

/* Look the hash up; every entry is compared, in constant time each, so the
 * time taken says nothing about which bytes matched. */
static bool lookup(auth *a, const unsigned char *hash, auth_who *who)
{
    pthread_rwlock_rdlock(&a->lock);
    long found = -1;
    for (long i = 0; i < a->cur.n; i++)
        if (token_hash_equal(a->cur.e[i].hash, hash))
            found = i;
    bool ok = false;
    if (found >= 0) {
        const entry *e = &a->cur.e[found];
        memcpy(who->id, e->id, sizeof who->id);
        who->role = e->role;
        who->op = e->op ? strdup(e->op) : NULL;
        ok = !e->op || who->op;
    }
    pthread_rwlock_unlock(&a->lock);
    return ok;
}

auth_result auth_check(auth *a, store *db, const char *authorization, int64_t now_ms,
                       auth_who *who, jiko_error *err)
{
    memset(who, 0, sizeof *who);
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return AUTH_MISSING;
    const char *t = authorization + 7;
    while (*t == ' ')
        t++;
    size_t n = strlen(t);
    while (n && t[n - 1] == ' ')
        n--;
    if (!n || n >= TOKEN_TEXT_MAX)
        return n ? AUTH_UNKNOWN : AUTH_MISSING;
    unsigned char hash[STORE_TOKEN_HASH_BYTES];
    token_hash(t, n, hash);
    int64_t loaded = atomic_load(&a->loaded_ms);
    if (loaded == INT64_MIN || now_ms - loaded >= a->refresh_ms) {
        if (reload(a, db, now_ms, loaded, err))
            return AUTH_FAILED;
        loaded = atomic_load(&a->loaded_ms);
    }
    if (lookup(a, hash, who))
        return AUTH_OK;
    /* not in the copy: perhaps created since it was read */
    if (reload(a, db, now_ms, loaded, err))
        return AUTH_FAILED;
    return lookup(a, hash, who) ? AUTH_OK : AUTH_UNKNOWN;
}

long auth_count(auth *a)
{
    pthread_rwlock_rdlock(&a->lock);
    long n = a->cur.n;
    pthread_rwlock_unlock(&a->lock);
    return n;
}

void auth_who_free(auth_who *who)
{
    free(who->op);
    who->op = NULL;
}
