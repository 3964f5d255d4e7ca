/*
 * auth.h — who is calling: `Authorization: Bearer TOKEN` → the API token's
 * id, role and operator.
 *
 * Tokens live in the registry as SHA-256 hashes only (token.h); the server
 * keeps the active ones in memory and compares a presented token's hash
 * with every one of them in constant time.  The copy is read again from the
 * registry every `refresh_ms` (so a token revoked with `jiko token revoke`
 * is refused within that time, by every server sharing the registry), and
 * at once when a token is not found, so that a token just created works at
 * once (concurrent misses share one reading).
 */
#ifndef JIKO_AUTH_H
#define JIKO_AUTH_H

#include <stdint.h>

#include "store.h"
#include "token.h"

#define AUTH_REFRESH_MS_DEFAULT 1000

typedef struct auth auth;

typedef struct auth_who {
    char id[TOKEN_ID_MAX];
    token_role role;
    char *op; /* the token's operator (malloc'd); NULL for a regulator */
} auth_who;

typedef enum auth_result {
    AUTH_OK = 0,
    AUTH_MISSING = 1, /* no Authorization header, or not "Bearer TOKEN" */
    AUTH_UNKNOWN = 2, /* no such active token: never issued, or revoked */
    AUTH_FAILED = -1  /* the registry could not be read (err filled) */
} auth_result;

auth *auth_new(int64_t refresh_ms);
void auth_free(auth *a);

/* Check the Authorization header's value (NULL when absent); `db` is the
 * calling thread's registry handle, used when the copy is read again. */
auth_result auth_check(auth *a, store *db, const char *authorization, int64_t now_ms,
                       auth_who *who, jiko_error *err);

/* Active tokens in the copy. */
long auth_count(auth *a);

void auth_who_free(auth_who *who);

#endif
