/* test_conf.c — the key file format shared by rulebooks and catalogs. */
#include <string.h>

#include "conf.h"
#include "testutil.h"

static void test_parse(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBF# header comment\r\n"
                       "[rulebook]\r\n"
                       "id = jp-2019   # inline comment\n"
                       "  title.en =  Rules#1 stay   \n"
                       "\n"
                       "[serious 5]\n"
                       "threshold = duration >= 2h and users >= 30000\n"
                       "threshold = duration >= 1h and users >= 1000000\n"
                       "[ critical ]\n";
    conf_file f;
    jiko_error err;
    assert_int_equal(conf_parse(text, strlen(text), "t.rules", &f, &err), 0);
    assert_int_equal(f.n_sections, 3);
    assert_string_equal(f.sections[0].type, "rulebook");
    assert_string_equal(f.sections[0].name, "");
    assert_int_equal(f.sections[0].line, 2);
    assert_string_equal(conf_get(&f.sections[0], "id")->value, "jp-2019");
    assert_string_equal(conf_get(&f.sections[0], "title.en")->value, "Rules#1 stay");
    assert_int_equal(conf_get(&f.sections[0], "title.en")->line, 4);
    assert_string_equal(f.sections[1].type, "serious");
    assert_string_equal(f.sections[1].name, "5");
    assert_int_equal(f.sections[1].n_entries, 2);
    assert_string_equal(f.sections[1].entries[1].value, "duration >= 1h and users >= 1000000");
    assert_string_equal(f.sections[2].type, "critical");
    assert_null(conf_get(&f.sections[2], "id"));
    conf_free(&f);
}

static void expect_error(const char *text, size_t len, long line, const char *msg)
{
    conf_file f;
    jiko_error err;
    error_clear(&err);
    if (len == 0)
        len = strlen(text);
    assert_int_not_equal(conf_parse(text, len, "t.rules", &f, &err), 0);
    assert_int_equal(err.line, line);
    if (!strstr(err.message, msg))
        fail_msg("got '%s', expected '%s'", err.message, msg);
    assert_int_equal(f.n_sections, 0);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("[a]\nno equals sign\n", 0, 2, "expected 'key = value'");
    expect_error("x = 1\n", 0, 1, "before any [section]");
    expect_error("[a]\n[b\n", 0, 2, "must end with ']'");
    expect_error("[]\n", 0, 1, "empty section header");
    expect_error("[a]\nbad key = 1\n", 0, 2, "key must be");
    expect_error("[a]\nk = \xff\n", 0, 2, "invalid UTF-8");
    expect_error("[a]\nk = a\0b\n", 10, 2, "NUL byte");
    expect_error("[a b]\n[c!]\n", 0, 2, "section type");
    char big[5000];
    memset(big, 'x', sizeof big);
    memcpy(big, "[a]\nk = ", 8);
    expect_error(big, sizeof big, 2, "longer than");
}

static void test_load_missing(void **state)
{
    (void)state;
    conf_file f;
    jiko_error err;
    assert_int_not_equal(conf_load("/nonexistent/x.rules", &f, &err), 0);
    assert_string_equal(err.file, "/nonexistent/x.rules");
    assert_non_null(strstr(err.message, "cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_load_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
