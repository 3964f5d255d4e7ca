/*
 * token.h — API tokens for the server: made, hashed and named here, stored
 * in the registry by their hash (store_token_add).
 *
 * A token is "jiko_" followed by 256 random bits in base64url (43
 * characters).  The registry keeps only its SHA-256: a stolen database or
 * backup does not let anyone in, and 256 random bits need no slow password
 * hash.  The public id, "t_" and the first 12 hex digits of that hash,
 * names a token in lists, logs and provenance without revealing it.
 *
 * libsodium does the randomness, the hash and the constant-time compare;
 * each function that needs it calls sodium_init() itself (idempotent and
 * thread-safe), so there is no state of our own to set up.
 */
#ifndef JIKO_TOKEN_H
#define JIKO_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "store.h"

#define TOKEN_PREFIX "jiko_"
#define TOKEN_RANDOM_BYTES 32
#define TOKEN_TEXT_MAX 72 /* "jiko_" + 43 base64url chars of 32 random bytes + NUL, with room */
#define TOKEN_ID_MAX 16   /* "t_" + 12 hex digits + NUL, with room */

typedef enum token_role { TOKEN_ADMIN, TOKEN_VIEWER, TOKEN_INGEST, TOKEN_REGULATOR } token_role;

/* "admin", "viewer", "ingest", "regulator" (the registry's role column). */
const char *token_role_name(token_role r);

/* 0 with *out set for one of the names above; -1 for anything else. */
int token_role_parse(const char *s, token_role *out);

/* A new token: its text (shown once, never stored), its SHA-256 and its id.
 * -1 with err (JIKO_ERR_IO) when libsodium cannot start (no randomness). */
int token_new(char text[TOKEN_TEXT_MAX], unsigned char hash[STORE_TOKEN_HASH_BYTES],
              char id[TOKEN_ID_MAX], jiko_error *err);

/* SHA-256 of a token as presented (e.g. an Authorization header's value). */
void token_hash(const char *text, size_t len, unsigned char hash[STORE_TOKEN_HASH_BYTES]);

/* The public id of the token with this hash: "t_" + 12 hex digits. */
void token_id(const unsigned char hash[STORE_TOKEN_HASH_BYTES], char id[TOKEN_ID_MAX]);

/* Whether two hashes are equal, in time independent of where they differ. */
bool token_hash_equal(const unsigned char *a, const unsigned char *b);

#endif
