/* test_json_text.c — json_text writes the bytes json_dumps(JSON_COMPACT)
 * writes, for chosen values and for many random ones. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "json_text.h"
#include "testutil.h"

/* json_dumps' text against ours (flags: JSON_COMPACT added). */
static void same_as_jansson(json_t *v, size_t flags)
{
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | flags);
    assert_non_null(want);
    size_t len = 0;
    char *got = json_text_of(v, flags, false, &len);
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    free(got);
    free(want);
}

static void test_chosen_values(void **state)
{
    (void)state;
    const char *texts[] = {
        "{}", "[]", "\"\"", "0", "-9223372036854775808", "9223372036854775807", "true",
        "false", "null", "1.5", "0.1", "1e300", "-2.5e-300", "3.0", "123456789.125",
        "{\"a\":{\"b\":[1,[2,[3,{}]],\"x\"]},\"c\":null}",
        "{\"record\":{\"id\":\"s1\",\"operator\":\"株式会社テスト\",\"region\":\"北海道\"}}",
        /* every escape jansson writes, 0x7f left as it is, '/' too */
        "\"quote\\\" back\\\\ \\b\\f\\n\\r\\t \\u0001\\u001f\\u007f / \\u00e9 \\ud83d\\ude00\"",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        json_error_t je;
        json_t *v = json_loads(texts[i], JSON_DECODE_ANY, &je);
        assert_non_null(v);
        same_as_jansson(v, 0);
        json_decref(v);
    }
    /* keys in insertion order, also after a key is deleted and added again */
    json_t *o = json_object();
    json_object_set_new(o, "zeta", json_integer(1));
    json_object_set_new(o, "alpha", json_integer(2));
    json_object_set_new(o, "mid", json_integer(3));
    json_object_del(o, "alpha");
    json_object_set_new(o, "alpha", json_string("again"));
    json_object_set_new(o, "zeta", json_string("replaced in place"));
    same_as_jansson(o, 0);
    json_decref(o);
    /* a key and a string with a NUL inside */
    o = json_object();
    json_object_setn_new(o, "a\0b", 3, json_stringn("x\0y", 3));
    same_as_jansson(o, 0);
    json_decref(o);
    /* a real's precision, as series answers ask for it */
    json_t *r = json_real(3.14159265358979);
    same_as_jansson(r, JSON_REAL_PRECISION(4));
    same_as_jansson(r, 0);
    json_decref(r);
}

/* A random value of depth at most d (the generator's state is the caller's). */
static json_t *random_value(unsigned *seed, int d)
{
    int kind = rand_r(seed) % (d > 0 ? 9 : 7);
    switch (kind) {
    case 0: return json_null();
    case 1: return json_true();
    case 2: return json_false();
    case 3: return json_integer((json_int_t)rand_r(seed) * (rand_r(seed) % 2 ? 1 : -977));
    case 4: return json_real((double)rand_r(seed) / ((rand_r(seed) % 1000) + 1) * (rand_r(seed) % 2 ? 1e-7 : 1e9));
    case 5:
    case 6: {
        /* bytes 1-127 and a few UTF-8 sequences */
        static const char *const multi[] = {"é", "日本", "😀", "\xc2\x80", "\xe2\x80\xa8"};
        char buf[64];
        size_t n = 0, want = (size_t)(rand_r(seed) % 20);
        while (n < want && n + 8 < sizeof buf) {
            if (rand_r(seed) % 5 == 0) {
                const char *m = multi[rand_r(seed) % 5];
                memcpy(buf + n, m, strlen(m));
                n += strlen(m);
            } else {
                buf[n++] = (char)(1 + rand_r(seed) % 127);
            }
        }
        return json_stringn(buf, n);
    }
    case 7: {
        json_t *a = json_array();
        int n = rand_r(seed) % 5;
        for (int i = 0; i < n; i++)
            json_array_append_new(a, random_value(seed, d - 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        int n = rand_r(seed) % 5;
        for (int i = 0; i < n; i++) {
            char key[8];
            snprintf(key, sizeof key, "%c%d", (char)(rand_r(seed) % 2 ? '"' : 'k'), rand_r(seed) % 50);
            json_object_set_new(o, key, random_value(seed, d - 1));
        }
        return o;
    }
    }
}

static void test_random_values(void **state)
{
    (void)state;
    unsigned seed = 20261206;
    for (int i = 0; i < 5000; i++) {
        json_t *v = random_value(&seed, 4);
        assert_non_null(v);
        same_as_jansson(v, 0);
        json_decref(v);
    }
}

static void test_pieces_and_failure(void **state)
{
    (void)state;
    json_text t = {0};
    json_text_lit(&t, "{\"k\":");
    json_text_str(&t, "a\"b", 3);
    json_text_raw(&t, "}", 1);
    size_t len;
    char *s = json_text_take(&t, &len);
    assert_string_equal(s, "{\"k\":\"a\\\"b\"}");
    assert_int_equal(len, strlen(s));
    free(s);
    assert_null(t.s); /* empty again */
    /* a value nested beyond reason fails the whole text, as a circular
     * value fails json_dumps */
    json_t *deep = json_array(), *top = deep;
    for (int i = 0; i < 600; i++) {
        json_t *inner = json_array();
        json_array_append_new(deep, inner);
        deep = inner;
    }
    assert_null(json_text_of(top, 0, true, NULL));
    json_decref(top);
    json_text_value(&t, NULL, 0); /* no value: a failure, not a crash */
    assert_null(json_text_take(&t, NULL));
    /* with a newline, as the server's answers end */
    json_t *one = json_pack("{s:i}", "n", 1);
    s = json_text_of(one, 0, true, &len);
    assert_string_equal(s, "{\"n\":1}\n");
    free(s);
    json_decref(one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chosen_values),
        cmocka_unit_test(test_random_values),
        cmocka_unit_test(test_pieces_and_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
