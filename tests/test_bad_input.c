/*
 * test_bad_input.c — malformed incident records and their exact errors.
 *
 * tests/cases/bad-records.txt holds blocks:
 *     === what is wrong
 *     <one input line; \xNN stands for a raw byte>
 *     --- <the exact error, after "bad-records.txt:LINE: ">
 * Each input must be rejected with exactly that message, naming the input's
 * own line in the file.  With JIKO_TEST_PRINT=1 the actual messages are
 * printed instead, for reviewing new cases.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident.h"
#include "testutil.h"

static size_t unescape(const char *in, char *out)
{
    size_t n = 0;
    for (const char *p = in; *p;) {
        unsigned v;
        if (p[0] == '\\' && p[1] == 'x' && sscanf(p + 2, "%2x", &v) == 1) {
            out[n++] = (char)v;
            p += 4;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    return n;
}

static void test_bad_records(void **state)
{
    tu_env *env = *state;
    char path[1024];
    char *text = tu_read(tu_path(path, sizeof path, "tests/cases/bad-records.txt"), NULL);
    bool print = getenv("JIKO_TEST_PRINT") != NULL;
    int cases = 0, failures = 0;
    long lineno = 0, input_line = 0;
    char *input = NULL, *name = NULL;
    for (char *ln = text, *next; ln && *ln; ln = next) {
        char *nl = strchr(ln, '\n');
        next = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        lineno++;
        if (!*ln)
            continue;
        if (strncmp(ln, "=== ", 4) == 0) {
            name = ln + 4;
            input = NULL;
        } else if (strncmp(ln, "--- ", 4) == 0) {
            if (!input)
                fail_msg("bad-records.txt:%ld: a --- line needs an input line before it", lineno);
            char buf[4096];
            size_t len = unescape(input, buf);
            incident inc;
            jiko_error err;
            char got[ERROR_TEXT_MAX], want[ERROR_TEXT_MAX];
            error_clear(&err);
            if (incident_parse(&inc, buf, len, &env->cat, "bad-records.txt", input_line, &err) == 0) {
                print_error("case '%s' (line %ld) was accepted\n", name, input_line);
                incident_free(&inc);
                failures++;
            } else {
                error_format(&err, got, sizeof got);
                snprintf(want, sizeof want, "bad-records.txt:%ld: %s", input_line, ln + 4);
                if (print)
                    printf("=== %s\n%s\n--- %s\n", name, input, got + strlen("bad-records.txt:") +
                                                               (size_t)snprintf(NULL, 0, "%ld: ", input_line));
                else if (strcmp(got, want) != 0) {
                    print_error("case '%s':\n   got: %s\n  want: %s\n", name, got, want);
                    failures++;
                }
            }
            cases++;
            input = NULL;
        } else if (ln[0] != '#') {
            input = ln;
            input_line = lineno;
        }
    }
    free(text);
    print_message("%d malformed records, %d failures\n", cases, failures);
    assert_true(cases >= 50);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_records),
    };
    return cmocka_run_group_tests(tests, tu_env_setup, tu_env_teardown);
}
