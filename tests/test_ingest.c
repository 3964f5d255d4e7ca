/*
 * test_ingest.c — the KPI ingest formats: Influx line protocol and Prometheus
 * remote_write, into samples.
 *
 * Samples are rendered by the collecting sink as one canonical string each,
 * "metric{a=1,b=2} value @t_ms", so a test states what the receiver sees in
 * one line; errors are compared as formatted by ingest_error_format, whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the includes above first */
#include <cmocka.h>

#include <math.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_influx.h"
#include "ingest_prom.h"
#include "remote.pb-c.h"

/* ---- collecting sink and error callback ---- */

#define MAX_OUT 128

typedef struct coll {
    char out[MAX_OUT][512];
    double values[MAX_OUT];
    size_t n;
    char errs[MAX_OUT][700];
    size_t nerr;
    size_t stop_after; /* stop the parse after this many samples; 0 = never */
    size_t stop_after_errors;
} coll;

static int coll_sink(void *ctx, const ingest_sample *s)
{
    coll *c = ctx;
    assert_true(c->n < MAX_OUT);
    /* The contract: labels sorted, unique, non-empty; no NULs anywhere. */
    for (size_t i = 0; i < s->n_labels; i++) {
        assert_true(s->labels[i].name_len > 0);
        assert_null(memchr(s->labels[i].name, 0, s->labels[i].name_len));
        assert_null(memchr(s->labels[i].value, 0, s->labels[i].value_len));
        if (i)
            assert_true(ingest_name_cmp(s->labels[i - 1].name, s->labels[i - 1].name_len,
                                        s->labels[i].name, s->labels[i].name_len) < 0);
    }
    char *b = c->out[c->n];
    size_t sz = sizeof c->out[0];
    int k = snprintf(b, sz, "%.*s{", (int)s->metric_len, s->metric);
    for (size_t i = 0; i < s->n_labels; i++)
        k += snprintf(b + k, sz - (size_t)k, "%s%.*s=%.*s", i ? "," : "",
                      (int)s->labels[i].name_len, s->labels[i].name, (int)s->labels[i].value_len,
                      s->labels[i].value);
    snprintf(b + k, sz - (size_t)k, "} %.15g @%lld", s->value, (long long)s->t_ms);
    c->values[c->n] = s->value;
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

static int coll_err(void *ctx, const ingest_error *e)
{
    coll *c = ctx;
    assert_true(c->nerr < MAX_OUT);
    ingest_error_format(e, c->errs[c->nerr], sizeof c->errs[0]);
    c->nerr++;
    return c->stop_after_errors && c->nerr >= c->stop_after_errors;
}

static int null_sink(void *ctx, const ingest_sample *s)
{
    (void)ctx;
    (void)s;
    return 0;
}

static coll *coll_new(void)
{
    coll *c = calloc(1, sizeof *c);
    assert_non_null(c);
    return c;
}

/* ---- Influx helpers ---- */

static ingest_influx_opts iopts(coll *c)
{
    ingest_influx_opts o = ingest_influx_defaults();
    o.source = "t";
    o.default_t_ms = 42;
    o.on_error = coll_err;
    o.error_ctx = c;
    return o;
}

static int influx(coll *c, const ingest_influx_opts *o, const char *body, size_t len,
                  ingest_stats *st)
{
    jiko_error err;
    return ingest_influx_parse(o, body, len ? len : strlen(body), coll_sink, c, st, &err);
}

static void expect_out(const coll *c, size_t n, const char *const *want)
{
    for (size_t i = 0; i < n && i < c->n; i++)
        assert_string_equal(c->out[i], want[i]);
    assert_int_equal(c->n, n);
}

/* ---- Influx: good input ---- */

static void test_influx_basic(void **state)
{
    (void)state;
    coll *c = coll_new();
    ingest_influx_opts o = iopts(c);
    ingest_stats st;
    const char *body = "cpu,region=eu,host=a usage=0.5,idle=99i 1700000000123456789\n"
                       "mem,host=a used=1.5e9\n";
    assert_int_equal(influx(c, &o, body, 0, &st), 0);
    const char *want[] = {
        "cpu.usage{host=a,region=eu} 0.5 @1700000000123",
        "cpu.idle{host=a,region=eu} 99 @1700000000123",
        "mem.used{host=a} 1500000000 @42", /* no timestamp: the caller's default */
    };
    expect_out(c, 3, want);
    assert_int_equal(st.records, 2);
    assert_int_equal(st.samples, 3);
    assert_int_equal(st.rejected, 0);
    assert_int_equal(st.skipped, 0);
    assert_int_equal(c->nerr, 0);
    free(c);
}

static void test_influx_types(void **state)
{
    (void)state;
    coll *c = coll_new();
    ingest_influx_opts o = iopts(c);
    ingest_stats st;
    const char *body =
        "m f1=1,f2=-1.5,f3=1e3,f4=1.5E-3,f5=.5,f6=1.,f7=-0,f8=2.5e+2 1\n"
        "m i1=0i,i2=-9223372036854775808i,i3=9223372036854775807i,u1=0u,u2=18446744073709551615u 1\n"
        "m b1=t,b2=T,b3=true,b4=True,b5=TRUE,b6=f,b7=F,b8=false,b9=False,b10=FALSE 1\n"
        "m s1=\"text, with \\\"quotes\\\" and \\\\ = spaces\",n=7,s2=\"\" 1\n";
    assert_int_equal(influx(c, &o, body, 0, &st), 0);
    const char *want[] = {
        "m.f1{} 1 @0",     "m.f2{} -1.5 @0",     "m.f3{} 1000 @0",   "m.f4{} 0.0015 @0",
        "m.f5{} 0.5 @0",   "m.f6{} 1 @0",        "m.f7{} -0 @0",     "m.f8{} 250 @0",
        "m.i1{} 0 @0",     "m.i2{} -9.22337203685478e+18 @0",
        "m.i3{} 9.22337203685478e+18 @0",        "m.u1{} 0 @0",
        "m.u2{} 1.84467440737096e+19 @0",
        "m.b1{} 1 @0",     "m.b2{} 1 @0",        "m.b3{} 1 @0",      "m.b4{} 1 @0",
        "m.b5{} 1 @0",     "m.b6{} 0 @0",        "m.b7{} 0 @0",      "m.b8{} 0 @0",
        "m.b9{} 0 @0",     "m.b10{} 0 @0",       "m.n{} 7 @0",
    };
    expect_out(c, sizeof want / sizeof want[0], want);
    assert_int_equal(st.skipped, 2); /* the two strings: counted, not delivered */
    assert_int_equal(st.rejected, 0);
    assert_true(signbit(c->values[6]));
    free(c);
}

/* The fast path and strtod must agree bit for bit on every float. */
static void test_influx_float_exact(void **state)
{
    (void)state;
    static const char *const nums[] = {
        "0.1", "0.3", "1.7976931348623157e308", "2.2250738585072014e-308", "4.9e-324",
        "123456789012345", "1234567890123456789", "12345678901234567890123", "0.000001234",
        "3.141592653589793", "9007199254740993", "1e22", "1e23", "8.589973e9", "1e-22",
        "0.00000000000000000000000000001", "100000000000000000000000000000000000e-35",
        "-2.5e-5", "99999999999999999999999999999999999999999999999999.5", "1e-400"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        coll *c = coll_new();
        ingest_influx_opts o = iopts(c);
        ingest_stats st;
        char line[200];
        snprintf(line, sizeof line, "m v=%s", nums[i]);
        assert_int_equal(influx(c, &o, line, 0, &st), 0);
        assert_int_equal(c->n, 1);
        double want = strtod(nums[i], NULL);
        if (memcmp(&want, &c->values[0], sizeof want) != 0)
            fail_msg("%s: got %.17g, strtod says %.17g", nums[i], c->values[0], want);
        free(c);
    }
}

static void test_influx_escapes(void **state)
{
    (void)state;
    coll *c = coll_new();
    ingest_influx_opts o = iopts(c);
    ingest_stats st;
    const char *body = "my\\ meas\\,ure,k\\=1=v\\ 1\\,2\\=3,a\\b=c\\d f\\ x\\,y\\=z=1 5\n"
                       "m,t=x\\ y v=2 5\n"         /* escaped space inside a tag value */
                       "dir\\\\,p=a\\\\ v=3 5\n"   /* "\\" is kept as two backslashes */
                       "tr,t=a\\ v=4\n";           /* escaped space: no fields */
    assert_int_equal(influx(c, &o, body, 0, &st), 0);
    const char *want[] = {
        "my meas,ure.f x,y=z{a\\b=c\\d,k=1=v 1,2=3} 1 @0",
        "m.v{t=x y} 2 @0",
        "dir\\\\.v{p=a\\\\} 3 @0",
    };
    expect_out(c, 3, want);
    assert_int_equal(c->nerr, 1);
    assert_string_equal(c->errs[0], "t:4:12: missing fields; expected 'measurement[,tag=value...] "
                                    "field=value[,field=value...] [timestamp]'");
    free(c);
}

static void test_influx_precision(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *ts;
        long long want;
    } cases[] = {
        {"ns", "1700000000123999999", 1700000000123LL},
        {"ns", "-1", -1},
        {"ns", "-1000000", -1},
        {"ns", "-1000001", -2},
        {"us", "1700000000123999", 1700000000123LL},
        {"u", "-1", -1},
        {"ms", "1700000000123", 1700000000123LL},
        {"ms", "-5", -5},
        {"s", "1700000000", 1700000000000LL},
        {"s", "-1", -1000},
        {"n", "0", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        coll *c = coll_new();
        ingest_influx_opts o = iopts(c);
        jiko_error err;
        assert_int_equal(ingest_influx_precision_parse(cases[i].name, &o.precision, &err), 0);
        ingest_stats st;
        char line[100];
        snprintf(line, sizeof line, "m v=1 %s", cases[i].ts);
        assert_int_equal(influx(c, &o, line, 0, &st), 0);
        char want[100];
        snprintf(want, sizeof want, "m.v{} 1 @%lld", cases[i].want);
        assert_int_equal(c->n, 1);
        assert_string_equal(c->out[0], want);
        free(c);
    }
    ingest_influx_precision p;
    jiko_error err;
    /* A separator that would break the metric's UTF-8 is refused up front. */
    ingest_influx_opts bad = ingest_influx_defaults();
    bad.metric_sep = (char)0xE3;
    ingest_stats st;
    assert_int_equal(ingest_influx_parse(&bad, "m v=1", 5, null_sink, NULL, &st, &err),
                     INGEST_FAILED);
    assert_string_equal(err.message, "must be a printable ASCII character");
    assert_int_equal(ingest_influx_precision_parse("h", &p, &err), -1);
    assert_string_equal(err.message, "unknown precision 'h'; expected ns, us, ms or s");
    assert_string_equal(err.field, "precision");
}

static void test_influx_layout(void **state)
{
    (void)state;
    coll *c = coll_new();
    ingest_influx_opts o = iopts(c);
    o.metric_sep = '_';
    ingest_stats st;
    /* Comments, blank and blank-looking lines, CRLF, leading blanks, runs of
     * spaces, trailing spaces, UTF-8 names, no final newline. */
    const char *body = "# a comment\n"
                       "\n"
                       "   \t  \r\n"
                       "  # indented comment\n"
                       "a v=1 1000000\r\n"
                       "  b,sw=東京 v=2   2000000   \n"
                       "c    v=3\n"
                       "d v=4 ";
    assert_int_equal(influx(c, &o, body, 0, &st), 0);
    const char *want[] = {"a_v{} 1 @1", "b_v{sw=東京} 2 @2", "c_v{} 3 @42", "d_v{} 4 @42"};
    expect_out(c, 4, want);
    assert_int_equal(st.records, 4);
    assert_int_equal(c->nerr, 0);
    free(c);
}

/* Bad lines are reported with their line number and the rest still arrives. */
static void test_influx_recovery(void **state)
{
    (void)state;
    coll *c = coll_new();
    ingest_influx_opts o = iopts(c);
    ingest_stats st;
    const char *body = "a v=1 1000000\n"
                       "b v=oops,w=2 1000000\n" /* all or nothing: w not delivered */
                       "\n"
                       "# comment\n"
                       "c v=3 3000000\n"
                       "d,x v=4\n"
                       "e v=5 5000000";
    assert_int_equal(influx(c, &o, body, 0, &st), 0);
    const char *want[] = {"a.v{} 1 @1", "c.v{} 3 @3", "e.v{} 5 @5"};
    expect_out(c, 3, want);
    assert_int_equal(st.records, 5);
    assert_int_equal(st.rejected, 2);
    assert_int_equal(c->nerr, 2);
    assert_string_equal(c->errs[0],
                        "t:2:5: field 'v': invalid value 'oops'; expected a float (1.5), an "
                        "integer (1i), an unsigned (1u), a boolean (true) or a quoted string");
    assert_string_equal(c->errs[1],
                        "t:6:4: tag 'x': expected '=' and a value after the tag key");
    /* The first error is kept for callers without a callback. */
    char buf[700];
    assert_string_equal(ingest_error_format(&st.first, buf, sizeof buf), c->errs[0]);
    assert_int_equal(st.first.text_len, strlen("b v=oops,w=2 1000000"));
    free(c);
}

static void test_influx_no_callback(void **state)
{
    (void)state;
    coll *c = coll_new();
    ingest_influx_opts o = ingest_influx_defaults();
    ingest_stats st;
    assert_int_equal(influx(c, &o, "x\ny v=1 0\nz v=\n", 0, &st), 0);
    assert_int_equal(c->n, 1);
    assert_int_equal(st.rejected, 2);
    char buf[700];
    assert_string_equal(ingest_error_format(&st.first, buf, sizeof buf),
                        "1:2: missing fields; expected 'measurement[,tag=value...] "
                        "field=value[,field=value...] [timestamp]'");
    free(c);
}

static void test_influx_stop(void **state)
{
    (void)state;
    coll *c = coll_new();
    c->stop_after = 2;
    ingest_influx_opts o = iopts(c);
    ingest_stats st;
    jiko_error err;
    const char *body = "a v=1,w=2,x=3\nb v=1\n";
    assert_int_equal(ingest_influx_parse(&o, body, strlen(body), coll_sink, c, &st, &err),
                     INGEST_STOPPED);
    assert_int_equal(c->n, 2);
    assert_string_equal(err.message, "stopped at line 1 by the receiver");

    coll *d = coll_new();
    d->stop_after_errors = 1;
    o = iopts(d);
    assert_int_equal(ingest_influx_parse(&o, "a\nb v=1\n", 8, coll_sink, d, &st, &err),
                     INGEST_STOPPED);
    assert_int_equal(d->n, 0);
    assert_int_equal(d->nerr, 1);
    free(c);
    free(d);
}

static void test_influx_limits(void **state)
{
    (void)state;
    /* Exactly at the limits is fine. */
    coll *c = coll_new();
    ingest_influx_opts o = iopts(c);
    o.max_labels = 3;
    o.max_line = 16;
    ingest_stats st;
    assert_int_equal(influx(c, &o, "m,a=1,b=2 v=1 0\n", 0, &st), 0); /* 15 bytes */
    assert_int_equal(c->n, 1);
    assert_int_equal(influx(c, &o, "m,a=1,b=2,c=3 v=1", 0, &st), 0); /* 3 tags, 17 bytes */
    assert_int_equal(c->nerr, 1);
    assert_string_equal(c->errs[0], "t:1: line longer than 16 bytes");
    free(c);

    /* 1024 numeric fields are fine, 1025 are not; strings don't count. */
    char *line = malloc(20000);
    assert_non_null(line);
    size_t k = (size_t)sprintf(line, "m s=\"x\"");
    for (int i = 0; i < 1025; i++)
        k += (size_t)sprintf(line + k, ",f%d=%d", i, i);
    c = coll_new();
    o = iopts(c);
    assert_int_equal(influx(c, &o, line, k, &st), 0);
    assert_int_equal(c->n, 0);
    assert_int_equal(c->nerr, 1);
    char want[200];
    /* The column of the 1025th key, just after its comma. */
    snprintf(want, sizeof want, "t:1:%zu: field 'f1024': more than 1024 numeric fields in one line",
             (size_t)(strstr(line, ",f1024=") - line) + 2);
    assert_string_equal(c->errs[0], want);
    free(c);
    c = coll_new();
    o = iopts(c);
    *strstr(line, ",f1024=") = '\0';
    jiko_error err;
    assert_int_equal(ingest_influx_parse(&o, line, strlen(line), null_sink, NULL, &st, &err), 0);
    assert_int_equal(st.samples, 1024);
    assert_int_equal(c->nerr, 0);
    free(c);
    free(line);
}

/* Malformed lines: each with its exact error, formatted as the user sees it. */
static void test_influx_malformed(void **state)
{
    (void)state;
#define HINT "expected 'measurement[,tag=value...] field=value[,field=value...] [timestamp]'"
#define VALS "expected a float (1.5), an integer (1i), an unsigned (1u), a boolean (true) or a quoted string"
    static const struct {
        const char *line;
        size_t len; /* 0: strlen */
        const char *want;
    } cases[] = {
        {",host=a v=1", 0, "t:1:1: measurement: missing; " HINT},
        {"cpu", 0, "t:1:4: missing fields; " HINT},
        {"cpu,host=a", 0, "t:1:11: missing fields; " HINT},
        {"cpu ", 0, "t:1:5: missing fields; " HINT},
        {"cpu\\ v=1", 0, "t:1:9: missing fields; " HINT},
        {"cpu,=a v=1", 0, "t:1:5: tag: empty tag key; expected tag=value after ','"},
        {"cpu, v=1", 0, "t:1:5: tag: empty tag key; expected tag=value after ','"},
        {"cpu,host v=1", 0, "t:1:9: tag 'host': expected '=' and a value after the tag key"},
        {"cpu,host,a=b v=1", 0, "t:1:9: tag 'host': expected '=' and a value after the tag key"},
        {"cpu,host= v=1", 0, "t:1:10: tag 'host': empty value; InfluxDB tags need a non-empty value"},
        {"cpu,host=a,host=b v=1", 0,
         "t:1:12: tag 'host': duplicate tag key; each key may appear once per line"},
        {"cpu,b=1,a=1,b=2 v=1", 0,
         "t:1:13: tag 'b': duplicate tag key; each key may appear once per line"},
        {"cpu v", 0, "t:1:6: field 'v': expected '=' and a value after the field key"},
        {"cpu v,w=1", 0, "t:1:6: field 'v': expected '=' and a value after the field key"},
        {"cpu =1", 0, "t:1:5: empty field key; expected field=value"},
        {"cpu v=1,", 0, "t:1:9: empty field key; expected field=value"},
        {"cpu v=1,,w=2", 0, "t:1:9: empty field key; expected field=value"},
        {"cpu v=", 0, "t:1:7: field 'v': missing value; expected a number, a boolean or a quoted string"},
        {"cpu v=,w=1", 0, "t:1:7: field 'v': missing value; expected a number, a boolean or a quoted string"},
        {"cpu v= 1", 0, "t:1:7: field 'v': missing value; expected a number, a boolean or a quoted string"},
        {"cpu v=abc", 0, "t:1:7: field 'v': invalid value 'abc'; " VALS},
        {"cpu v=NaN", 0, "t:1:7: field 'v': invalid value 'NaN'; " VALS},
        {"cpu v=-Inf", 0, "t:1:7: field 'v': invalid value '-Inf'; " VALS},
        {"cpu v=1.2.3", 0, "t:1:7: field 'v': invalid value '1.2.3'; " VALS},
        {"cpu v=1e", 0, "t:1:7: field 'v': invalid value '1e'; " VALS},
        {"cpu v=--1", 0, "t:1:7: field 'v': invalid value '--1'; " VALS},
        {"cpu v=+1", 0, "t:1:7: field 'v': invalid value '+1'; " VALS},
        {"cpu v=0x10", 0, "t:1:7: field 'v': invalid value '0x10'; " VALS},
        {"cpu v=tru", 0, "t:1:7: field 'v': invalid value 'tru'; " VALS},
        {"cpu v=i", 0, "t:1:7: field 'v': invalid value 'i'; " VALS},
        {"cpu v=1\x01", 0, "t:1:7: field 'v': invalid value '1?'; " VALS},
        {"cpu v=1.5i", 0, "t:1:7: field 'v': invalid integer '1.5i'; expected digits before 'i', e.g. -12i"},
        {"cpu v=-i", 0, "t:1:7: field 'v': invalid integer '-i'; expected digits before 'i', e.g. -12i"},
        {"cpu v=9223372036854775808i", 0,
         "t:1:7: field 'v': integer '9223372036854775808i' is out of range for 64 bits"},
        {"cpu v=-9223372036854775809i", 0,
         "t:1:7: field 'v': integer '-9223372036854775809i' is out of range for 64 bits"},
        {"cpu v=-1u", 0, "t:1:7: field 'v': invalid unsigned '-1u'; expected digits before 'u', e.g. 12u"},
        {"cpu v=18446744073709551616u", 0,
         "t:1:7: field 'v': unsigned '18446744073709551616u' is out of range for 64 bits"},
        {"cpu v=1e400", 0, "t:1:7: field 'v': number '1e400' is out of range for a 64-bit float"},
        {"cpu v=-1e309", 0, "t:1:7: field 'v': number '-1e309' is out of range for a 64-bit float"},
        {"cpu v=\"abc", 0,
         "t:1:7: field 'v': unterminated string; expected a closing '\"' on the same line"},
        {"cpu v=\"ab\\\"", 0,
         "t:1:7: field 'v': unterminated string; expected a closing '\"' on the same line"},
        {"cpu v=\"a\"b", 0, "t:1:10: field 'v': expected ',' or a space after the closing '\"'"},
        {"cpu v=1 abc", 0,
         "t:1:9: timestamp: invalid timestamp 'abc'; expected an integer number of nanoseconds"},
        {"cpu v=1 1.5", 0,
         "t:1:9: timestamp: invalid timestamp '1.5'; expected an integer number of nanoseconds"},
        {"cpu v=1 -", 0,
         "t:1:9: timestamp: invalid timestamp '-'; expected an integer number of nanoseconds"},
        {"cpu v=1 99999999999999999999", 0,
         "t:1:9: timestamp: '99999999999999999999' nanoseconds is out of range for 64-bit "
         "milliseconds"},
        {"cpu v=1 123 456", 0,
         "t:1:13: unexpected text after the timestamp; expected the end of the line"},
        {"c\0pu v=1", 8, "t:1:1: measurement: NUL byte in the name"},
        {"cpu,h\0=a v=1", 12, "t:1:5: tag: NUL byte in the key"},
        {"cpu,host=\xff v=1", 0, "t:1:10: tag 'host': invalid UTF-8 in the value"},
        {"cpu \xc3\x28=1", 0, "t:1:5: field: invalid UTF-8 in the key"},
        {"\xed\xa0\x80 v=1", 0, "t:1:1: measurement: invalid UTF-8 in the name"},
        {"cpu,a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,j=10,k=11,l=12,m=13,n=14,o=15,p=16,q=17,r=18,"
         "s=19,t=20,u=21,v=22,w=23,x=24,y=25,z=26,A=27,B=28,C=29,D=30,E=31,F=32,G=33 v=1",
         0, "t:1:156: tag 'G': more than 32 tags in one line"},
    };
#undef HINT
#undef VALS
    size_t ncases = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < ncases; i++) {
        coll *c = coll_new();
        ingest_influx_opts o = iopts(c);
        ingest_stats st;
        /* The bad line between two good ones: both good ones still arrive. */
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].line);
        char body[1024];
        memcpy(body, "ok v=1\n", 7);
        memcpy(body + 7, cases[i].line, len);
        memcpy(body + 7 + len, "\nok v=2\n", 8);
        assert_int_equal(influx(c, &o, body, 7 + len + 8, &st), 0);
        if (c->nerr != 1)
            fail_msg("case %zu (%s): %zu errors", i, cases[i].line, c->nerr);
        /* The line number is 2 in the body; the table says 1 for the line alone. */
        char want[700];
        snprintf(want, sizeof want, "t:2:%s", cases[i].want + 4);
        if (strcmp(c->errs[0], want) != 0)
            fail_msg("case %zu (%s):\n got  %s\n want %s", i, cases[i].line, c->errs[0], want);
        assert_int_equal(c->n, 2);
        assert_int_equal(st.rejected, 1);
        free(c);
    }
    print_message("%zu malformed Influx lines checked\n", ncases);
    assert_true(ncases >= 25);
}

static void test_influx_seconds_range(void **state)
{
    (void)state;
    coll *c = coll_new();
    ingest_influx_opts o = iopts(c);
    o.precision = INGEST_INFLUX_S;
    ingest_stats st;
    assert_int_equal(influx(c, &o, "m v=1 9223372036854775\nm v=1 9223372036854776\n", 0, &st),
                     0);
    assert_int_equal(c->n, 1);
    assert_string_equal(c->out[0], "m.v{} 1 @9223372036854775000");
    assert_string_equal(c->errs[0], "t:2:7: timestamp: '9223372036854776' seconds is out of "
                                    "range for 64-bit milliseconds");
    free(c);
}

static void test_influx_empty(void **state)
{
    (void)state;
    coll *c = coll_new();
    ingest_influx_opts o = iopts(c);
    ingest_stats st;
    jiko_error err;
    assert_int_equal(ingest_influx_parse(&o, "", 0, coll_sink, c, &st, &err), 0);
    assert_int_equal(influx(c, &o, "\n\n# only comments\n", 0, &st), 0);
    assert_int_equal(st.records, 0);
    assert_int_equal(c->n + c->nerr, 0);
    free(c);
}

/* ---- remote_write helpers ---- */

typedef struct tseries {
    const char *labels[2 * 40 + 2]; /* name, value, ..., NULL */
    double v[4];
    int64_t t[4];
    size_t ns;
} tseries;

/* Pack a WriteRequest with protobuf-c, as a sender would. */
static uint8_t *pack_wr(const tseries *s, size_t n, size_t *len)
{
    Prometheus__WriteRequest wr = PROMETHEUS__WRITE_REQUEST__INIT;
    Prometheus__TimeSeries *ts = calloc(n + 1, sizeof *ts);
    Prometheus__TimeSeries **tsp = calloc(n + 1, sizeof *tsp);
    Prometheus__Label *lab = calloc(n * 41 + 1, sizeof *lab);
    Prometheus__Label **labp = calloc(n * 41 + 1, sizeof *labp);
    Prometheus__Sample *sam = calloc(n * 4 + 1, sizeof *sam);
    Prometheus__Sample **samp = calloc(n * 4 + 1, sizeof *samp);
    assert_true(ts && tsp && lab && labp && sam && samp);
    size_t li = 0, si = 0;
    for (size_t i = 0; i < n; i++) {
        prometheus__time_series__init(&ts[i]);
        tsp[i] = &ts[i];
        ts[i].labels = &labp[li];
        for (size_t j = 0; s[i].labels[j]; j += 2) {
            prometheus__label__init(&lab[li]);
            lab[li].name = (char *)s[i].labels[j];
            lab[li].value = (char *)s[i].labels[j + 1];
            labp[li] = &lab[li];
            li++;
            ts[i].n_labels++;
        }
        ts[i].samples = &samp[si];
        for (size_t k = 0; k < s[i].ns; k++) {
            prometheus__sample__init(&sam[si]);
            sam[si].value = s[i].v[k];
            sam[si].timestamp = s[i].t[k];
            samp[si] = &sam[si];
            si++;
            ts[i].n_samples++;
        }
    }
    wr.n_timeseries = n;
    wr.timeseries = tsp;
    *len = prometheus__write_request__get_packed_size(&wr);
    uint8_t *out = malloc(*len + 1);
    assert_non_null(out);
    assert_int_equal(prometheus__write_request__pack(&wr, out), *len);
    free(ts);
    free(tsp);
    free(lab);
    free(labp);
    free(sam);
    free(samp);
    return out;
}

static char *snap(const void *raw, size_t n, size_t *len)
{
    *len = snappy_max_compressed_length(n);
    char *out = malloc(*len);
    assert_non_null(out);
    assert_int_equal(snappy_compress(raw, n, out, len), SNAPPY_OK);
    return out;
}

static char *wr_body(const tseries *s, size_t n, size_t *len)
{
    size_t rl;
    uint8_t *raw = pack_wr(s, n, &rl);
    char *b = snap(raw, rl, len);
    free(raw);
    return b;
}

static ingest_prom_opts popts(coll *c)
{
    ingest_prom_opts o = ingest_prom_defaults();
    o.source = "rw";
    o.on_error = coll_err;
    o.error_ctx = c;
    return o;
}

static int prom(coll *c, const ingest_prom_opts *o, const void *body, size_t len, ingest_stats *st,
                jiko_error *err)
{
    error_clear(err);
    return ingest_prom_parse(o, body, len, coll_sink, c, st, err);
}

/* ---- remote_write: good input ---- */

static void test_prom_roundtrip(void **state)
{
    (void)state;
    static const tseries s[] = {
        {{"__name__", "up", "instance", "a:9100", "job", "node", NULL}, {1, 0}, {1000, 2000}, 2},
        /* unsorted, __name__ last, an empty label value (= absent) */
        {{"zone", "tokyo", "empty", "", "if", "eth0", "__name__", "if_octets", NULL},
         {1.5e12}, {-5}, 1},
        /* no samples: delivered as nothing, not an error */
        {{"__name__", "idle", NULL}, {0}, {0}, 0},
        {{"__name__", "ユーザー数", "局", "大手町", NULL}, {12345}, {1700000000000}, 1},
    };
    size_t len;
    char *body = wr_body(s, 4, &len);
    coll *c = coll_new();
    ingest_prom_opts o = popts(c);
    ingest_stats st;
    jiko_error err;
    assert_int_equal(prom(c, &o, body, len, &st, &err), 0);
    const char *want[] = {
        "up{instance=a:9100,job=node} 1 @1000",
        "up{instance=a:9100,job=node} 0 @2000",
        "if_octets{if=eth0,zone=tokyo} 1500000000000 @-5",
        "ユーザー数{局=大手町} 12345 @1700000000000",
    };
    expect_out(c, 4, want);
    assert_int_equal(st.records, 4);
    assert_int_equal(st.samples, 4);
    assert_int_equal(st.rejected, 0);
    free(body);
    free(c);
}

/* Staleness markers (a NaN with a special payload) pass through bit for bit. */
static void test_prom_stale_nan(void **state)
{
    (void)state;
    uint64_t bits = 0x7ff0000000000002ull;
    double stale;
    memcpy(&stale, &bits, sizeof stale);
    /* (-0.0 can't be tested: proto3 senders omit a value equal to 0, so it
     * arrives as +0 whatever the receiver does.) */
    tseries s[1] = {{{"__name__", "up", NULL}, {stale, -1e-300, INFINITY}, {1, 2, 3}, 3}};
    size_t len;
    char *body = wr_body(s, 1, &len);
    coll *c = coll_new();
    ingest_prom_opts o = popts(c);
    ingest_stats st;
    jiko_error err;
    assert_int_equal(prom(c, &o, body, len, &st, &err), 0);
    assert_int_equal(c->n, 3);
    assert_memory_equal(&c->values[0], &stale, sizeof stale);
    assert_true(c->values[1] == -1e-300);
    assert_true(isinf(c->values[2]));
    free(body);
    free(c);
}

static void test_prom_empty_request(void **state)
{
    (void)state;
    size_t len;
    char *body = snap("", 0, &len); /* an empty WriteRequest is zero bytes */
    coll *c = coll_new();
    ingest_prom_opts o = popts(c);
    ingest_stats st;
    jiko_error err;
    assert_int_equal(prom(c, &o, body, len, &st, &err), 0);
    assert_int_equal(st.records + st.samples + c->nerr, 0);
    free(body);
    free(c);
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Metadata (WriteRequest field 3), exemplars (TimeSeries 3) and native
 * histograms (TimeSeries 4) are not declared in our .proto: they must be
 * skipped, histograms counted. */
static void test_prom_ignored_fields(void **state)
{
    (void)state;
    /* The series packed by protobuf-c, then fields 3 and 4 appended as a
     * newer sender would write them (a message may be extended by
     * concatenation). */
    Prometheus__Label l0 = PROMETHEUS__LABEL__INIT, l1 = PROMETHEUS__LABEL__INIT;
    l0.name = "__name__";
    l0.value = "rpc_seconds";
    l1.name = "job";
    l1.value = "api";
    Prometheus__Label *lp[] = {&l0, &l1};
    Prometheus__Sample sm = PROMETHEUS__SAMPLE__INIT;
    sm.value = 0.25;
    sm.timestamp = 7;
    Prometheus__Sample *sp[] = {&sm};
    Prometheus__TimeSeries t = PROMETHEUS__TIME_SERIES__INIT;
    t.n_labels = 2;
    t.labels = lp;
    t.n_samples = 1;
    t.samples = sp;
    uint8_t ts[512], wr[1024];
    size_t n = prometheus__time_series__pack(&t, ts);
    static const uint8_t exemplar[] = {0x1a, 0x00};            /* field 3, empty */
    static const uint8_t histogram[] = {0x22, 0x02, 0x08, 0x05}; /* field 4: {count_int: 5} */
    memcpy(ts + n, exemplar, sizeof exemplar);
    n += sizeof exemplar;
    memcpy(ts + n, histogram, sizeof histogram);
    n += sizeof histogram;
    memcpy(ts + n, histogram, sizeof histogram);
    n += sizeof histogram;
    size_t w = 0;
    wr[w++] = 0x0a; /* WriteRequest field 1: the series */
    w += put_varint(wr + w, n);
    memcpy(wr + w, ts, n);
    w += n;
    static const uint8_t metadata[] = {0x1a, 0x05, 0x08, 0x01, 0x12, 0x01, 'x'}; /* field 3 */
    memcpy(wr + w, metadata, sizeof metadata);
    w += sizeof metadata;

    size_t len;
    char *body = snap(wr, w, &len);
    coll *c = coll_new();
    ingest_prom_opts o = popts(c);
    ingest_stats st;
    jiko_error err;
    assert_int_equal(prom(c, &o, body, len, &st, &err), 0);
    const char *want[] = {"rpc_seconds{job=api} 0.25 @7"};
    expect_out(c, 1, want);
    assert_int_equal(st.skipped, 2);
    assert_int_equal(c->nerr, 0);
    free(body);
    free(c);
}

static void test_prom_stop(void **state)
{
    (void)state;
    tseries s[2] = {{{"__name__", "a", NULL}, {1, 2}, {1, 2}, 2}, {{"__name__", "b", NULL}, {3}, {3}, 1}};
    size_t len;
    char *body = wr_body(s, 2, &len);
    coll *c = coll_new();
    c->stop_after = 1;
    ingest_prom_opts o = popts(c);
    ingest_stats st;
    jiko_error err;
    assert_int_equal(prom(c, &o, body, len, &st, &err), INGEST_STOPPED);
    assert_int_equal(c->n, 1);
    assert_string_equal(err.message, "stopped at timeseries[0] by the receiver");
    free(body);
    free(c);
}

/* ---- remote_write: bad series (reported, skipped, the rest delivered) ---- */

static void test_prom_bad_series(void **state)
{
    (void)state;
    static const struct {
        tseries s;
        const char *want;
    } cases[] = {
        {{{"job", "x", NULL}, {1}, {1}, 1}, "rw: timeseries[1]: no __name__ label; expected the metric name"},
        {{{"__name__", "", "job", "x", NULL}, {1}, {1}, 1},
         "rw: timeseries[1].labels[0]: empty __name__; expected the metric name"},
        {{{"__name__", "m", "", "x", NULL}, {1}, {1}, 1}, "rw: timeseries[1].labels[1]: empty label name"},
        {{{"__name__", "m", "__name__", "n", NULL}, {1}, {1}, 1},
         "rw: timeseries[1].labels[1]: duplicate label name '__name__'"},
        {{{"__name__", "m", "job", "a", "job", "b", NULL}, {1}, {1}, 1},
         "rw: timeseries[1]: duplicate label name 'job'"},
        {{{"__name__", "m", "z", "1", "job", "a", "job", "b", NULL}, {1}, {1}, 1},
         "rw: timeseries[1]: duplicate label name 'job'"},
        {{{"__name__", "m", "a", "1", "b", "2", "c", "3", "d", "4", NULL}, {1}, {1}, 1},
         "rw: timeseries[1]: more than 3 labels besides __name__"},
        {{{"__name__", "m", "job", "\xff", NULL}, {1}, {1}, 1},
         "rw: timeseries[1].labels[1]: invalid UTF-8 in the value of label 'job'"},
        {{{"__name__", "m", "j\xc0\x80", "x", NULL}, {1}, {1}, 1},
         "rw: timeseries[1].labels[1]: invalid UTF-8 in the label name"},
        {{{"__name__", "\xed\xa0\x80", NULL}, {1}, {1}, 1},
         "rw: timeseries[1].labels[0]: invalid UTF-8 in the value of label '__name__'"},
    };
    size_t ncases = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < ncases; i++) {
        tseries s[3] = {{{"__name__", "before", NULL}, {1}, {10}, 1},
                        cases[i].s,
                        {{"__name__", "after", "a", "1", "b", "2", "c", "3", NULL}, {2}, {20}, 1}};
        size_t len;
        char *body = wr_body(s, 3, &len);
        coll *c = coll_new();
        ingest_prom_opts o = popts(c);
        o.max_labels = 3;
        ingest_stats st;
        jiko_error err;
        assert_int_equal(prom(c, &o, body, len, &st, &err), 0);
        const char *want[] = {"before{} 1 @10", "after{a=1,b=2,c=3} 2 @20"};
        expect_out(c, 2, want);
        if (c->nerr != 1 || strcmp(c->errs[0], cases[i].want) != 0)
            fail_msg("case %zu: got %zu errors, first '%s', want '%s'", i, c->nerr,
                     c->nerr ? c->errs[0] : "", cases[i].want);
        assert_int_equal(st.rejected, 1);
        assert_int_equal(st.records, 3);
        free(body);
        free(c);
    }
    print_message("%zu bad remote_write series checked\n", ncases);
}

/* ---- remote_write: bodies refused whole ---- */

static void expect_body_error(const ingest_prom_opts *base, const void *body, size_t len,
                              const char *want)
{
    coll *c = coll_new();
    ingest_prom_opts o = *base;
    o.on_error = coll_err;
    o.error_ctx = c;
    ingest_stats st;
    jiko_error err;
    assert_int_equal(prom(c, &o, body, len, &st, &err), INGEST_FAILED);
    assert_string_equal(err.file, "rw");
    if (strcmp(err.message, want) != 0)
        fail_msg("got '%s', want '%s'", err.message, want);
    assert_int_equal(c->n + c->nerr + st.samples, 0);
    free(c);
}

static int any_sink(void *ctx, const ingest_sample *s)
{
    (void)s;
    (*(size_t *)ctx)++;
    return 0;
}

static void test_prom_bad_bodies(void **state)
{
    (void)state;
    ingest_prom_opts o = ingest_prom_defaults();
    o.source = "rw";
    tseries s[3] = {{{"__name__", "up", "job", "node", NULL}, {1}, {1}, 1},
                    {{"__name__", "up", "job", "db", NULL}, {1}, {1}, 1},
                    {{"__name__", "load", "job", "db", NULL}, {1}, {1}, 1}};
    size_t rl, len;
    uint8_t *raw = pack_wr(s, 3, &rl);
    char *body = snap(raw, rl, &len);
    int cases = 0;

    expect_body_error(&o, "", 0, "empty body; expected a snappy-compressed prometheus.WriteRequest");
    cases++;
    /* Not compressed at all: the protobuf's first bytes are no valid header. */
    expect_body_error(&o, "\xff\xff\xff\xff\xff\xff", 6,
                      "body is not snappy-compressed (block format); expected a remote_write "
                      "body sent with Content-Encoding: snappy");
    cases++;
    expect_body_error(&o, "\xff\x06\x00\x00sNaPpY\x01\x00\x00\x00", 14,
                      "body uses snappy's framed format; remote_write uses the block format");
    cases++;
    /* A header claiming 4 GiB: refused before any allocation. */
    expect_body_error(&o, "\xff\xff\xff\xff\x0f\x00", 6,
                      "decompressed body would be 4294967295 bytes, more than the limit of 33554432");
    cases++;
    ingest_prom_opts small = o;
    small.max_body = rl - 1;
    char want[200];
    snprintf(want, sizeof want, "decompressed body would be %zu bytes, more than the limit of %zu",
             rl, rl - 1);
    expect_body_error(&small, body, len, want);
    cases++;
    /* Truncated snappy data: the header is intact, the data is not. */
    expect_body_error(&o, body, len / 2,
                      "corrupt snappy data; expected a snappy-compressed prometheus.WriteRequest");
    cases++;
    expect_body_error(&o, body, len - 1,
                      "corrupt snappy data; expected a snappy-compressed prometheus.WriteRequest");
    cases++;
    /* Valid snappy around bytes that are not a WriteRequest. */
    size_t gl;
    char *g = snap("\xff\xff\xff\xff", 4, &gl);
    snprintf(want, sizeof want,
             "not a valid prometheus.WriteRequest protobuf message (4 bytes after snappy)");
    expect_body_error(&o, g, gl, want);
    cases++;
    free(g);
    /* A protobuf cut short, then compressed correctly. */
    g = snap(raw, rl - 3, &gl);
    snprintf(want, sizeof want,
             "not a valid prometheus.WriteRequest protobuf message (%zu bytes after snappy)", rl - 3);
    expect_body_error(&o, g, gl, want);
    cases++;
    free(g);
    /* Field 1 with the wrong wire type (varint instead of a message). */
    g = snap("\x08\x01", 2, &gl);
    expect_body_error(&o, g, gl,
                      "not a valid prometheus.WriteRequest protobuf message (2 bytes after snappy)");
    cases++;
    free(g);
    /* A length running past the end of the message. */
    g = snap("\x0a\x7f\x0a\x02", 4, &gl);
    expect_body_error(&o, g, gl,
                      "not a valid prometheus.WriteRequest protobuf message (4 bytes after snappy)");
    cases++;
    free(g);
    /* max_memory no longer limits anything: the body is read in place, with
     * no allocation per series or label */
    ingest_prom_opts tight = o;
    tight.max_memory = 256;
    ingest_stats tst;
    jiko_error terr;
    size_t none = 0;
    assert_int_equal(ingest_prom_parse(&tight, body, len, any_sink, &none, &tst, &terr), 0);
    assert_int_equal(none, tst.samples);
    assert_true(tst.samples >= 3);
    free(body);
    free(raw);
    print_message("%d refused remote_write bodies checked\n", cases);
}

static int count_sink(void *ctx, const ingest_sample *s)
{
    size_t *n = ctx;
    assert_true(s->metric_len == 10 && s->n_labels == 2);
    (*n)++;
    return 0;
}

/* Many series, one body: no per-series limit is hit by accident, and with a
 * small first chunk the arena grows through several. */
static void test_prom_large(void **state)
{
    (void)state;
    enum { N = 5000 };
    tseries *s = calloc(N, sizeof *s);
    char (*inst)[32] = calloc(N, 32);
    assert_true(s && inst);
    for (size_t i = 0; i < N; i++) {
        snprintf(inst[i], 32, "host-%05zu:9100", i);
        const char *l[] = {"__name__", "node_load1", "instance", inst[i], "job", "node", NULL};
        memcpy(s[i].labels, l, sizeof l);
        s[i].v[0] = (double)i;
        s[i].t[0] = (int64_t)i;
        s[i].ns = 1;
    }
    size_t len;
    char *body = wr_body(s, N, &len);
    ingest_prom_opts o = ingest_prom_defaults();
    ingest_stats st;
    jiko_error err;
    size_t count = 0;
    assert_int_equal(ingest_prom_parse(&o, body, len, count_sink, &count, &st, &err), 0);
    assert_int_equal(count, N);
    assert_int_equal(st.samples, N);
    assert_int_equal(st.rejected, 0);
    free(body);
    free(s);
    free(inst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_influx_basic),        cmocka_unit_test(test_influx_types),
        cmocka_unit_test(test_influx_float_exact),  cmocka_unit_test(test_influx_escapes),
        cmocka_unit_test(test_influx_precision),    cmocka_unit_test(test_influx_layout),
        cmocka_unit_test(test_influx_recovery),     cmocka_unit_test(test_influx_no_callback),
        cmocka_unit_test(test_influx_stop),         cmocka_unit_test(test_influx_limits),
        cmocka_unit_test(test_influx_malformed),    cmocka_unit_test(test_influx_seconds_range),
        cmocka_unit_test(test_influx_empty),        cmocka_unit_test(test_prom_roundtrip),
        cmocka_unit_test(test_prom_stale_nan),      cmocka_unit_test(test_prom_empty_request),
        cmocka_unit_test(test_prom_ignored_fields), cmocka_unit_test(test_prom_stop),
        cmocka_unit_test(test_prom_bad_series),     cmocka_unit_test(test_prom_bad_bodies),
        cmocka_unit_test(test_prom_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
