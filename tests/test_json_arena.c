/* test_json_arena.c — jansson values from arenas and from the heap. */
#include <jansson.h>
#include <string.h>

#include "json_arena.h"
#include "testutil.h"

static const char *const REC =
    "{\"id\":\"a1\",\"operator\":\"Op\",\"services\":[{\"service\":\"ftth\",\"users\":12}],"
    "\"cause\":{\"category\":\"equipment\"},\"region\":\"関東\"}";

static void test_arena_values(void **state)
{
    (void)state;
    json_arena a;
    json_arena_init(&a);
    for (int round = 0; round < 3; round++) { /* reuse after reset */
        json_arena_use(&a);
        json_t *j = json_loadb(REC, strlen(REC), JSON_REJECT_DUPLICATES, NULL);
        json_arena_use(NULL);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "id")), "a1");
        assert_int_equal(json_integer_value(json_object_get(
                             json_array_get(json_object_get(j, "services"), 0), "users")),
                         12);
        json_decref(j); /* a no-op for arena values, and harmless */
        json_arena_reset(&a);
    }
    json_arena_free(&a);
}

static void test_arena_large_and_errors(void **state)
{
    (void)state;
    /* a string larger than a chunk, and many values: several chunks */
    size_t n = 100000;
    char *big = malloc(n + 3);
    assert_non_null(big);
    big[0] = '"';
    memset(big + 1, 'x', n);
    big[n + 1] = '"';
    big[n + 2] = '\0';
    json_arena a;
    json_arena_init(&a);
    json_arena *prev = json_arena_use(&a);
    assert_null(prev);
    json_t *s = json_loadb(big, n + 2, JSON_DECODE_ANY, NULL);
    json_t *arr = json_array();
    for (int i = 0; i < 2000; i++)
        json_array_append_new(arr, json_integer(i));
    /* a parse error releases its partial values into the arena */
    json_error_t je;
    assert_null(json_loadb("{\"a\":[1,2,", 10, 0, &je));
    json_arena_use(NULL);
    assert_int_equal(json_string_length(s), n);
    assert_int_equal(json_array_size(arr), 2000);
    assert_int_equal(json_integer_value(json_array_get(arr, 1999)), 1999);
    json_arena_free(&a);
    free(big);
}

static void test_heap_fallback(void **state)
{
    (void)state;
    /* no current arena: ordinary values, freed one by one (valgrind and
     * LeakSanitizer check that they are) */
    json_t *j = json_loadb(REC, strlen(REC), 0, NULL);
    assert_non_null(j);
    json_t *copy = json_deep_copy(j);
    assert_true(json_equal(j, copy));
    char *dump = json_dumps(j, JSON_COMPACT);
    assert_non_null(dump);
    json_malloc_t m;
    json_free_t f;
    json_get_alloc_funcs(&m, &f);
    f(dump); /* json_dumps output is jansson memory: not for plain free() */
    json_decref(j);
    json_decref(copy);
}

int main(void)
{
    json_arena_install(); /* before any jansson value, as jiko import does */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_values),
        cmocka_unit_test(test_arena_large_and_errors),
        cmocka_unit_test(test_heap_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
