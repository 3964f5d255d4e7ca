/*
 * test_base.c — base pieces the hardening rests on: strict numbers (num.h),
 * line reading that tells failure from the end (lines.h), all-or-nothing
 * output files (outfile.h).
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lines.h"
#include "num.h"
#include "jst.h"
#include "outfile.h"
#include "textf.h"
#include "testutil.h"
#include "utf8.h"

/* utf8_valid's ASCII fast path (eight bytes at a time) agrees with the
 * byte-by-byte rule wherever the first non-ASCII byte falls. */
static void test_utf8_valid(void **state)
{
    (void)state;
    static const char *const good[] = {"\xe4\xba\x8b", "\xc2\xa0", "\xf0\x9f\x93\xa1"};
    static const char *const bad[] = {"\xff", "\xc0\xaf", "\xe4\xba", "\xed\xa0\x80",
                                      "\x80", "\xf5\x80\x80\x80"};
    char buf[64];
    for (size_t pre = 0; pre <= 17; pre++) {
        for (size_t post = 0; post <= 9; post += 3) {
            for (size_t g = 0; g < 3; g++) {
                size_t n = 0;
                memset(buf, 'a', pre);
                n = pre;
                memcpy(buf + n, good[g], strlen(good[g]));
                n += strlen(good[g]);
                memset(buf + n, 'b', post);
                n += post;
                assert_true(utf8_valid(buf, n));
            }
            for (size_t k = 0; k < 6; k++) {
                memset(buf, 'a', pre);
                size_t n = pre;
                memcpy(buf + n, bad[k], strlen(bad[k]));
                n += strlen(bad[k]);
                memset(buf + n, 'b', post);
                n += post;
                if (utf8_valid(buf, n))
                    fail_msg("accepted %s after %zu ASCII bytes", bad[k], pre);
            }
        }
    }
    assert_true(utf8_valid("", 0));
    assert_true(utf8_valid("abcdefgh\0ijk", 12)); /* NUL is valid UTF-8; callers refuse it */
}

/* textf gives vsnprintf's bytes and return value: for %s, %d and %% (by
 * hand), at every buffer size (cut, and the length the whole would have),
 * and for anything else (handed to vsnprintf). */
static void check_textf(const char *fmt, const char *s1, int d1, const char *s2, int d2)
{
    for (size_t size = 0; size < 48; size++) {
        char a[64], b[64];
        memset(a, 'x', sizeof a);
        memset(b, 'x', sizeof b);
        /* the same arguments to both; a format uses a prefix of them */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
        int na = textf(size ? a : NULL, size, fmt, s1, d1, s2, d2);
        int nb = snprintf(size ? b : NULL, size, fmt, s1, d1, s2, d2);
#pragma GCC diagnostic pop
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, sizeof a);
    }
}

static void test_textf(void **state)
{
    (void)state;
    check_textf("", "", 0, "", 0);
    check_textf("plain text, no conversion", "", 0, "", 0);
    check_textf("%s", "", 0, "", 0);
    check_textf("%s: %d users; %s (%d%%)", "email", 456516, "基準「3時間以上」", -7);
    check_textf("%s%d%s%d", "a", 0, "", 2147483647);
    check_textf("[%s] %d", "x", -2147483647 - 1, "", 0);
    check_textf("100%% %s %d", "sure", 42, "", 0);
    check_textf("%s ends with a percent %", "x", 1, "", 0);
    /* handed to vsnprintf: widths, flags, other conversions */
    check_textf("%5s|%-4d|%s|%d", "ab", 7, "c", 8);
    check_textf("%.2s %03d %s %x", "abcdef", 5, "z", 255);
    /* a NULL string as glibc prints it */
    char a[32];
    const char *volatile nil = NULL; /* not seen as NULL at compile time */
    assert_int_equal(textf(a, sizeof a, "<%s>", nil), 8);
    assert_string_equal(a, "<(null)>");
    /* random texts and numbers */
    srand(7);
    for (int i = 0; i < 2000; i++) {
        char s1[24], s2[24];
        int n1 = rand() % 23, n2 = rand() % 23;
        for (int k = 0; k < n1; k++)
            s1[k] = (char)(' ' + rand() % 95);
        for (int k = 0; k < n2; k++)
            s2[k] = (char)(' ' + rand() % 95);
        s1[n1] = s2[n2] = '\0';
        int d1 = rand() - RAND_MAX / 2, d2 = (rand() % 3 - 1) * rand();
        check_textf("%s=%d, %s=%d", s1, d1, s2, d2);
    }
}

/* jst_format_date by hand gives snprintf's "%04d-%02d-%02d" */
static void test_format_date(void **state)
{
    (void)state;
    static const jst_date days[] = {{2021, 8, 3},  {1, 1, 1},      {9999, 12, 31}, {0, 0, 0},
                                    {10000, 1, 1}, {-5, 3, 4},    {2021, 100, 1}, {1873, 1, 1}};
    for (size_t i = 0; i < sizeof days / sizeof *days; i++) {
        char a[32], b[32];
        jst_format_date(days[i], a, sizeof a);
        snprintf(b, sizeof b, "%04d-%02d-%02d", days[i].y, days[i].m, days[i].d);
        assert_string_equal(a, b);
    }
    for (int64_t z = -800000; z < 3000000; z += 997) {
        jst_date d = jst_civil_from_days(z);
        char a[16], b[32];
        jst_format_date(d, a, sizeof a);
        snprintf(b, sizeof b, "%04d-%02d-%02d", d.y, d.m, d.d);
        assert_string_equal(a, b);
    }
}

static void test_numbers_strict(void **state)
{
    (void)state;
    long v;
    assert_true(num_parse_long("2021", 1900, 9999, &v));
    assert_int_equal(v, 2021);
    static const char *const bad_long[] = {"FY2021", "2021x", "x", "", " 2021", "2021 ",
                                           "20 21", "99999", "1899", "0x7e5", "2e3",
                                           "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_long / sizeof *bad_long; i++)
        assert_false(num_parse_long(bad_long[i], 1900, 9999, &v));
    assert_false(num_parse_long(NULL, 0, 1, &v));
    double d;
    assert_true(num_parse_double("0.5", &d));
    assert_true(d == 0.5);
    assert_true(num_parse_double("500e9", &d));
    assert_true(d == 500e9);
    assert_true(num_parse_double("-2", &d));
    static const char *const bad_d[] = {"nan", "NaN", "inf", "-inf", "infinity", "0.5x", "",
                                        " 1", "1e999", "--1"};
    for (size_t i = 0; i < sizeof bad_d / sizeof *bad_d; i++)
        assert_false(num_parse_double(bad_d[i], &d));
    uint64_t u;
    assert_true(num_parse_u64("18446744073709551615", &u));
    assert_true(u == UINT64_MAX);
    assert_false(num_parse_u64("18446744073709551616", &u));
    assert_false(num_parse_u64("-1", &u));
    assert_false(num_parse_u64("+1", &u));
}

static void test_lines_end_and_failure(void **state)
{
    (void)state;
    char text[] = "a\nbb\r\n\nlast";
    FILE *fp = fmemopen(text, strlen(text), "r");
    lines in;
    lines_init(&in, fp, "mem");
    char *s;
    size_t n;
    jiko_error err;
    const char *want[] = {"a\n", "bb\r\n", "\n", "last"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(lines_next(&in, &s, &n, &err), 1);
        assert_string_equal(s, want[i]);
        assert_int_equal(in.lineno, i + 1);
    }
    assert_int_equal(lines_next(&in, &s, &n, &err), 0);
    lines_free(&in);
    fclose(fp);
    /* reading a stream opened for writing fails: an error, not the end */
    fp = fopen("/dev/null", "w");
    lines_init(&in, fp, "w-only");
    assert_int_equal(lines_next(&in, &s, &n, &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_IO);
    assert_string_equal(err.file, "w-only");
    assert_int_equal(err.line, 1);
    assert_non_null(strstr(err.message, "nothing after it was read"));
    lines_free(&in);
    fclose(fp);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static char *slurp(const char *path)
{
    size_t n;
    return tu_read(path, &n);
}

/* Files in dir other than the expected ones (a leftover temporary file). */
static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_outfile_all_or_nothing(void **state)
{
    (void)state;
    char dir[] = "/tmp/jiko-outfile-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], db[128];
    snprintf(path, sizeof path, "%s/report.html", dir);
    snprintf(db, sizeof db, "%s/jiko.db", dir);
    write_file(path, "old");
    write_file(db, "registry");
    jiko_error err;
    outfile o;
    /* the output may not replace what the command reads */
    const char *guard[] = {db, NULL};
    assert_int_equal(outfile_open(&o, db, guard, "--out", &err), -1);
    assert_int_equal(err.kind, JIKO_ERR_INVALID);
    char other[160];
    snprintf(other, sizeof other, "%s/../%s/jiko.db", dir, strrchr(dir, '/') + 1);
    assert_int_equal(outfile_open(&o, other, guard, "--out", &err), -1); /* another name, same file */
    char *t = slurp(db);
    assert_string_equal(t, "registry");
    free(t);
    /* a write that fails part way leaves the old file and no temporary one */
    assert_int_equal(outfile_open(&o, path, guard, "--out", &err), 0);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 4096;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    for (int i = 0; i < 1000; i++)
        fputs("<p>a line of the report that will not fit</p>\n", o.fp);
    int rc = outfile_commit(&o, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    assert_int_equal(rc, -1);
    assert_int_equal(err.kind, JIKO_ERR_IO);
    assert_non_null(strstr(err.message, "unchanged"));
    t = slurp(path);
    assert_string_equal(t, "old");
    free(t);
    assert_int_equal(count_files(dir), 2);
    /* and a complete write replaces it, with the usual mode */
    assert_int_equal(outfile_open(&o, path, guard, "--out", &err), 0);
    fputs("new", o.fp);
    assert_int_equal(outfile_commit(&o, &err), 0);
    t = slurp(path);
    assert_string_equal(t, "new");
    free(t);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    mode_t mask = umask(022);
    umask(mask);
    assert_int_equal(st.st_mode & 0777, 0666 & ~mask); /* not mkstemp's 0600 */
    assert_int_equal(count_files(dir), 2);
    /* given up: nothing changes */
    assert_int_equal(outfile_open(&o, path, NULL, "--out", &err), 0);
    fputs("half", o.fp);
    outfile_abort(&o);
    t = slurp(path);
    assert_string_equal(t, "new");
    free(t);
    assert_int_equal(count_files(dir), 2);
    /* a directory is not an output file */
    assert_int_equal(outfile_open(&o, dir, NULL, "--out", &err), -1);
    unlink(path);
    unlink(db);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_numbers_strict),
        cmocka_unit_test(test_textf),
        cmocka_unit_test(test_format_date),
        cmocka_unit_test(test_lines_end_and_failure),
        cmocka_unit_test(test_outfile_all_or_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
