/*
 * test_token.c — API tokens (token.h): random, distinct, named by their
 * hash, hashed as SHA-256, compared in constant time; roles by name.
 */
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "token.h"

static void hex(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static void test_new_tokens(void **state)
{
    (void)state;
    enum { N = 64 };
    char text[N][TOKEN_TEXT_MAX], id[N][TOKEN_ID_MAX];
    unsigned char hash[N][STORE_TOKEN_HASH_BYTES];
    jiko_error err;
    for (int i = 0; i < N; i++) {
        assert_int_equal(token_new(text[i], hash[i], id[i], &err), 0);
        /* "jiko_" + 43 base64url characters */
        assert_int_equal(strlen(text[i]), 5 + 43);
        assert_memory_equal(text[i], "jiko_", 5);
        for (const char *c = text[i] + 5; *c; c++)
            assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *c));
        /* the stored hash is the hash of the text handed out */
        unsigned char again[STORE_TOKEN_HASH_BYTES];
        token_hash(text[i], strlen(text[i]), again);
        assert_true(token_hash_equal(again, hash[i]));
        /* the id is "t_" + the first 12 hex digits of the hash */
        char h[2 * STORE_TOKEN_HASH_BYTES + 1];
        hex(hash[i], STORE_TOKEN_HASH_BYTES, h);
        char want[TOKEN_ID_MAX];
        snprintf(want, sizeof want, "t_%.12s", h);
        assert_string_equal(id[i], want);
        char derived[TOKEN_ID_MAX];
        token_id(hash[i], derived);
        assert_string_equal(derived, id[i]);
        for (int j = 0; j < i; j++) {
            assert_string_not_equal(text[i], text[j]);
            assert_false(token_hash_equal(hash[i], hash[j]));
            assert_string_not_equal(id[i], id[j]);
        }
    }
}

static void test_hash(void **state)
{
    (void)state;
    /* FIPS 180-2's first example */
    unsigned char h[STORE_TOKEN_HASH_BYTES];
    char x[2 * STORE_TOKEN_HASH_BYTES + 1];
    token_hash("abc", 3, h);
    hex(h, sizeof h, x);
    assert_string_equal(x, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char id[TOKEN_ID_MAX];
    token_id(h, id);
    assert_string_equal(id, "t_ba7816bf8f01");
    /* the length counts: a prefix is another token */
    unsigned char h2[STORE_TOKEN_HASH_BYTES];
    token_hash("abcd", 3, h2);
    assert_true(token_hash_equal(h, h2));
    token_hash("abcd", 4, h2);
    assert_false(token_hash_equal(h, h2));
    /* a difference in the last byte only */
    memcpy(h2, h, sizeof h);
    h2[STORE_TOKEN_HASH_BYTES - 1] ^= 1;
    assert_false(token_hash_equal(h, h2));
}

static void test_roles(void **state)
{
    (void)state;
    static const char *const names[] = {"admin", "viewer", "ingest", "regulator"};
    for (int i = 0; i < 4; i++) {
        token_role r;
        assert_int_equal(token_role_parse(names[i], &r), 0);
        assert_int_equal(r, (token_role)i);
        assert_string_equal(token_role_name(r), names[i]);
    }
    token_role r = TOKEN_VIEWER;
    assert_int_equal(token_role_parse("Admin", &r), -1);
    assert_int_equal(token_role_parse("", &r), -1);
    assert_int_equal(token_role_parse("admin ", &r), -1);
    assert_int_equal(token_role_parse(NULL, &r), -1);
    assert_int_equal(r, TOKEN_VIEWER); /* untouched */
    assert_string_equal(token_role_name((token_role)99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_tokens),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_roles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
