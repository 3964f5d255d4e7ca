/* token.c — API tokens: random text, SHA-256, public id (see token.h). */
#include "token.h"

#include <sodium.h>
#include <string.h>

_Static_assert(sizeof TOKEN_PREFIX - 1 +
                       sodium_base64_ENCODED_LEN(TOKEN_RANDOM_BYTES,
                                                 sodium_base64_VARIANT_URLSAFE_NO_PADDING) <=
                   TOKEN_TEXT_MAX,
               "a token's text fits TOKEN_TEXT_MAX");
_Static_assert(crypto_hash_sha256_BYTES == STORE_TOKEN_HASH_BYTES, "the stored hash is SHA-256");
_Static_assert(2 + 12 + 1 <= TOKEN_ID_MAX, "an id fits TOKEN_ID_MAX");

static const char *const role_names[] = {"admin", "viewer", "ingest", "regulator"};

const char *token_role_name(token_role r)
{
    return (unsigned)r < sizeof role_names / sizeof role_names[0] ? role_names[r] : "unknown";
}

int token_role_parse(const char *s, token_role *out)
{
    for (size_t i = 0; s && i < sizeof role_names / sizeof role_names[0]; i++)
        if (strcmp(s, role_names[i]) == 0) {
            *out = (token_role)i;
            return 0;
        }
    return -1;
}

int token_new(char text[TOKEN_TEXT_MAX], unsigned char hash[STORE_TOKEN_HASH_BYTES],
              char id[TOKEN_ID_MAX], jiko_error *err)
{
    /* sodium_init fails only when it cannot reach the system's randomness */
    if (sodium_init() < 0) {
        error_set(err, JIKO_ERR_IO, NULL, 0, NULL,
                  "cannot make a token: libsodium found no source of randomness");
        return -1;
    }
    unsigned char raw[TOKEN_RANDOM_BYTES];
    randombytes_buf(raw, sizeof raw);
    size_t pre = sizeof TOKEN_PREFIX - 1;
    memcpy(text, TOKEN_PREFIX, pre);
    sodium_bin2base64(text + pre, TOKEN_TEXT_MAX - pre, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    token_hash(text, strlen(text), hash);
    token_id(hash, id);
    return 0;
}

void token_hash(const char *text, size_t len, unsigned char hash[STORE_TOKEN_HASH_BYTES])
{
    /* only picks the fastest implementation: SHA-256 is right without it,
     * so a failure (no randomness) does not matter here */
    int ready = sodium_init();
    (void)ready;
    crypto_hash_sha256(hash, (const unsigned char *)text, len);
}

void token_id(const unsigned char hash[STORE_TOKEN_HASH_BYTES], char id[TOKEN_ID_MAX])
{
    memcpy(id, "t_", 2);
    sodium_bin2hex(id + 2, TOKEN_ID_MAX - 2, hash, 6);
}

bool token_hash_equal(const unsigned char *a, const unsigned char *b)
{
    return sodium_memcmp(a, b, STORE_TOKEN_HASH_BYTES) == 0;
}
