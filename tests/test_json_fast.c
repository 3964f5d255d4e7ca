/* test_json_fast.c — the fast parsing path gives jansson's values or
 * declines; it never accepts what jansson rejects. */
#include <jansson.h>
#include <string.h>

#include "json_fast.h"
#include "testutil.h"

/* Same value, same key order, all the way down. */
static bool same(json_t *a, json_t *b)
{
    if (!json_equal(a, b))
        return false;
    if (json_is_object(a)) {
        void *ia = json_object_iter(a), *ib = json_object_iter(b);
        for (; ia && ib; ia = json_object_iter_next(a, ia), ib = json_object_iter_next(b, ib))
            if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) != 0 ||
                !same(json_object_iter_value(ia), json_object_iter_value(ib)))
                return false;
        return !ia && !ib;
    }
    if (json_is_array(a))
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same(json_array_get(a, i), json_array_get(b, i)))
                return false;
    return true;
}

/* 1: fast path took it (and agrees with jansson), 0: declined. */
static int check(const char *s, size_t n)
{
    json_t *f = json_fast_loadb(s, n);
    json_t *j = json_loadb(s, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    if (f && (!j || !same(f, j)))
        fail_msg("fast path disagrees with jansson on: %.*s", (int)n, s);
    json_decref(f);
    json_decref(j);
    return f != NULL;
}

static void test_taken(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "{}",
        " {\"a\" : 1 }\r\n",
        "{\"id\": \"b0\", \"operator\": \"Operator 0\", \"started_at\": \"2021-01-01T00:00:00+09:00\","
        " \"services\": [{\"service\": \"ftth\", \"effect\": \"stop\", \"users\": 433}],"
        " \"cause\": {\"category\": \"equipment\", \"detail\": null}, \"region\": \"関東\"}",
        "{\"a\":[],\"b\":[[],{}],\"c\":true,\"d\":false,\"e\":null,\"f\":-0,\"g\":-123456789012345678}",
        "{\"s\":\"tab\\there \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\",\"u\":\"\xf0\x9f\x98\x80 \xc3\xa9\"}",
        "{\"b\":1,\"a\":2,\"c\":{\"z\":1,\"y\":2}}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (!check(ok[i], strlen(ok[i])))
            fail_msg("fast path declined: %s", ok[i]);
}

static void test_declined(void **state)
{
    (void)state;
    /* jansson decides all of these: errors, reals, \u, big numbers, ... */
    static const char *const no[] = {
        "", "   ", "[]", "\"x\"", "1", "{", "{\"a\":1", "{\"a\":1,}", "{\"a\" 1}", "{a:1}",
        "{\"a\":1}x", "{\"a\":1}{}", "{\"a\":1,\"a\":2}", "{\"a\":1.5}", "{\"a\":1e3}",
        "{\"a\":01}", "{\"a\":-}", "{\"a\":--1}", "{\"a\":1234567890123456789}",
        "{\"a\":\"\\u0041\"}", "{\"a\":\"\\u0000\"}", "{\"a\\n\":1}", "{\"a\":\"\\x\"}",
        "{\"a\":tru}", "{\"a\":truex}", "{\"a\":nul}", "{\"a\":\"\x01\"}", "{\"a\":\"\xc3\"}",
        "{\"a\":\"\xc0\x80\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}",
        "{\"a\":\"\xe0\x80\xaf\"}", "{\"a\":\"unterminated}", "{\"a\":[1,]}", "{\"a\":[1 2]}",
        "\xef\xbb\xbf{}",
        "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
    };
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (check(no[i], strlen(no[i])))
            fail_msg("fast path took: %s", no[i]);
    /* a NUL byte inside a string and after the object */
    assert_int_equal(check("{\"a\":\"x\0y\"}", 11), 0);
    assert_int_equal(check("{\"a\":1}\0", 8), 0);
}

/* Every example record and every malformed test record: where the fast path
 * answers, it answers as jansson does. */
static void test_project_records(void **state)
{
    (void)state;
    const char *files[] = {"examples/fy2021-serious.jsonl", "tests/cases/bad-records.txt"};
    int taken = 0;
    for (size_t k = 0; k < 2; k++) {
        char path[1024];
        size_t len;
        char *text = tu_read(tu_path(path, sizeof path, files[k]), &len);
        for (char *line = text, *nl; *line; line = nl + 1) {
            nl = strchr(line, '\n');
            if (!nl)
                nl = line + strlen(line) - 1;
            taken += check(line, (size_t)(nl - line));
            if (!nl[1])
                break;
        }
        free(text);
    }
    assert_true(taken >= 13); /* at least the 13 examples took the fast path */
}

/* json_fast_string gives what json_string gives: the same string, or NULL
 * for the same inputs (not UTF-8: overlongs, surrogates, above U+10FFFF,
 * cut sequences, stray continuation bytes). */
static void same_as_jansson(const char *s)
{
    json_t *a = json_string(s), *b = json_fast_string(s);
    if ((a == NULL) != (b == NULL))
        fail_msg("json_string %s, json_fast_string %s for \"%s\"", a ? "took" : "refused",
                 b ? "took" : "refused", s);
    if (a && !json_equal(a, b))
        fail_msg("different strings for \"%s\"", s);
    json_decref(a);
    json_decref(b);
}

static void test_string(void **state)
{
    (void)state;
    assert_null(json_fast_string(NULL));
    static const char *const chosen[] = {
        "", "ascii only, longer than eight bytes", "重大な事故に該当します",
        "mixed 障害 text 1,234 users", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80",
        "\xF4\x90\x80\x80", "\xF0\x9F\x98\x80", "abc\xE3\x81", "\x80" "abc", "abcdefgh\xFF",
        "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF", "\xC2\x80", "\x7F\x01",
    };
    for (size_t i = 0; i < sizeof chosen / sizeof chosen[0]; i++)
        same_as_jansson(chosen[i]);
    /* random strings of bytes that UTF-8 cares about, around ASCII runs */
    static const unsigned char parts[] = {'a', ' ', 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                                          0xE0, 0xE3, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0x81,
                                          0x9F, 0xA0};
    unsigned seed = 12345;
    char buf[40];
    for (int k = 0; k < 200000; k++) {
        seed = seed * 1103515245u + 12345u;
        size_t n = (seed >> 16) % (sizeof buf);
        for (size_t j = 0; j < n; j++) {
            seed = seed * 1103515245u + 12345u;
            buf[j] = (char)parts[(seed >> 16) % sizeof parts];
        }
        buf[n] = '\0';
        same_as_jansson(buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_taken),
        cmocka_unit_test(test_declined),
        cmocka_unit_test(test_project_records),
        cmocka_unit_test(test_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
