/*
 * ingest_influx.c — InfluxDB line protocol parser (see ingest_influx.h).
 *
 * How it works: the body is split into lines with memchr; each line is
 * scanned once, left to right, by a hand-written scanner (measurement, tags,
 * fields, timestamp).  Names without escapes point straight into the body;
 * escaped ones are unescaped into a scratch area reset for every line.  Tags
 * are inserted in sorted position as they are read (they usually arrive
 * sorted, making that O(1) each), which also finds duplicates with their
 * exact column.  Field values are converted and held in a per-call array
 * until the timestamp at the end of the line has been read, because a line is
 * delivered whole or not at all.  Then one sample per numeric field goes to
 * the sink, the metric name composed in a buffer that keeps the measurement
 * and rewrites only the field key.
 *
 * Numbers: most KPI values have at most 15 significant digits and a small
 * exponent, which a double represents exactly after one multiplication or
 * division by an exact power of ten (Clinger's fast path), so they are
 * converted without strtod; the rest go through strtod, which rounds
 * correctly.  Both give the same, correctly rounded result.
 */
#include "ingest_influx.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

typedef struct field_val {
    const char *key;
    size_t key_len;
    double value;
} field_val;

typedef struct parser {
    const ingest_influx_opts *o;
    ingest_stats *st;
    size_t max_line, max_labels;
    char sep;
    /* One allocation per call, carved into: */
    char *unesc;       /* unescaped names of the current line (<= line length) */
    size_t unesc_used;
    char *metric;      /* "measurement" sep "field" (<= line length + 1) */
    char *num;         /* NUL-terminated copy of a number for strtod */
    field_val *fields; /* numeric fields of the current line */
    size_t max_fields; /* entries in fields */
    /* The current line, for error reports. */
    const char *line;
    size_t len;
    long lineno;
} parser;

/* What a scanned name or value contains, to decide the slow paths. */
enum { TOK_ESC = 1, TOK_HIGH = 2, TOK_NUL = 4 };

/* `at` of an error not tied to a column. */
#define NO_COLUMN ((size_t)-1)

/* Result of one line: delivered, rejected, or stop everything. */
enum { LINE_OK = 0, LINE_BAD = 1 };

/* What part of a line an error is about: a kind ("tag") and, once known, its
 * name.  Kept unformatted until a line is rejected. */
typedef struct who {
    const char *what; /* NULL: the line as a whole */
    const char *name; /* NULL: no name */
    size_t len;
} who;
#define W(what) ((who){(what), NULL, 0})

static const char *name_field(char *buf, size_t size, const char *what, const char *s, size_t n);

static int vbad(parser *p, size_t at, who w, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static int vbad(parser *p, size_t at, who w, const char *fmt, va_list ap)
{
    /* Formatting happens only here, on a rejected line: valid lines cost no
     * formatted I/O. */
    ingest_error ie;
    char msg[sizeof ie.e.message], field[96];
    vsnprintf(msg, sizeof msg, fmt, ap);
    const char *f = w.name ? name_field(field, sizeof field, w.what, w.name, w.len) : w.what;
    error_set(&ie.e, JIKO_ERR_INVALID, p->o->source, p->lineno, f, "%s", msg);
    ie.column = at == NO_COLUMN ? 0 : (long)at + 1;
    ie.text = p->line;
    ie.text_len = p->len;
    if (p->st->rejected++ == 0)
        p->st->first = ie;
    if (p->o->on_error && p->o->on_error(p->o->error_ctx, &ie))
        return INGEST_STOPPED;
    return LINE_BAD;
}

static int bad(parser *p, size_t at, who w, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad(parser *p, size_t at, who w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vbad(p, at, w, fmt, ap);
    va_end(ap);
    return rc;
}

/* "tag 'host'" for error reports, the name cut by ingest_name_excerpt. */
static const char *name_field(char *buf, size_t size, const char *what, const char *s, size_t n)
{
    snprintf(buf, size, "%s '%.*s'", what, (int)ingest_name_excerpt(s, n), s);
    return buf;
}

/* Bytes of a rejected value quoted in a message, and room for them with
 * "..." and the NUL. */
#define VALUE_EXCERPT_MAX 40
#define VALUE_EXCERPT_BUF (VALUE_EXCERPT_MAX + 8)

/* An excerpt of a rejected value for the message: printable ASCII only (the
 * value may be any bytes), at most VALUE_EXCERPT_MAX of them. */
static const char *excerpt(char *buf, size_t size, const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 4 < size; i++) {
        if (k == VALUE_EXCERPT_MAX) {
            memcpy(buf + k, "...", 3);
            k += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        buf[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    buf[k] = '\0';
    return buf;
}

/* Byte classes for scan_token, so that the common byte (a plain name
 * character) costs one table load and one test. */
enum { C_SEP = 1, C_EQ = 2, C_BSL = 4, C_NUL = 8, C_HIGH = 16 };
static const unsigned char byte_class[256] = {
    [0] = C_NUL, [' '] = C_SEP, [','] = C_SEP, ['='] = C_EQ, ['\\'] = C_BSL,
#define H16(b) [b] = C_HIGH, [b + 1] = C_HIGH, [b + 2] = C_HIGH, [b + 3] = C_HIGH,                  \
               [b + 4] = C_HIGH, [b + 5] = C_HIGH, [b + 6] = C_HIGH, [b + 7] = C_HIGH,            \
               [b + 8] = C_HIGH, [b + 9] = C_HIGH, [b + 10] = C_HIGH, [b + 11] = C_HIGH,          \
               [b + 12] = C_HIGH, [b + 13] = C_HIGH, [b + 14] = C_HIGH, [b + 15] = C_HIGH
    H16(0x80), H16(0x90), H16(0xA0), H16(0xB0), H16(0xC0), H16(0xD0), H16(0xE0), H16(0xF0),
#undef H16
};

/* Scan a name or tag value from `i` to the first unescaped space or comma
 * (or '=' when stop_eq), or the end of the line; a backslash escapes the
 * byte after it.  Returns the end index; *flags says what the slow paths
 * must handle. */
static size_t scan_token(const char *s, size_t n, size_t i, int stop_eq, int *flags)
{
    int f = 0;
    const unsigned stop = C_SEP | (stop_eq ? C_EQ : 0);
    while (i < n) {
        unsigned c = byte_class[(unsigned char)s[i]];
        if (!c) {
            i++;
            continue;
        }
        if (c & stop)
            break;
        if (c & C_BSL) {
            if (i + 1 < n) {
                f |= TOK_ESC;
                i++;
                c = byte_class[(unsigned char)s[i]];
            } else {
                c = 0;
            }
        }
        if (c & C_HIGH)
            f |= TOK_HIGH;
        else if (c & C_NUL)
            f |= TOK_NUL;
        i++;
    }
    *flags = f;
    return i;
}

/* The token's text as the sample shows it: unescaped into scratch when it
 * has escapes ("\," "\=" "\ " lose their backslash, others keep it). */
static void token_text(parser *p, const char *s, size_t n, int flags, const char **out,
                       size_t *out_len)
{
    if (!(flags & TOK_ESC)) {
        *out = s;
        *out_len = n;
        return;
    }
    char *d = p->unesc + p->unesc_used;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && (s[i + 1] == ',' || s[i + 1] == '=' || s[i + 1] == ' '))
            i++;
        d[k++] = s[i];
    }
    p->unesc_used += k;
    *out = d;
    *out_len = k;
}

/* A token with a NUL byte or invalid UTF-8 can't become a name: the series
 * store and JSON output rely on both. */
static int token_check(parser *p, size_t at, const char *tok, size_t n, int flags, who field,
                       const char *what)
{
    if (flags & TOK_NUL)
        return bad(p, at, field, "NUL byte in the %s", what);
    if ((flags & TOK_HIGH) && !utf8_valid(tok, n))
        return bad(p, at, field, "invalid UTF-8 in the %s", what);
    return LINE_OK;
}

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

enum { NUM_OK = 0, NUM_SYNTAX = 1, NUM_RANGE = 2 };

/* A float in line protocol's syntax: -?(d+(.d*)?|.d+)([eE][+-]?d+)?  */
static int parse_float(parser *p, const char *s, size_t n, double *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < n && s[i] == '-') {
        neg = 1;
        i++;
    }
    uint64_t mant = 0;
    int sig = 0;       /* significant digits kept in mant */
    int dropped = 0;   /* significant digits beyond 19: the fast path can't */
    long exp10 = 0;
    size_t digits = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (sig < 19) {
            mant = mant * 10 + (uint64_t)(s[i] - '0');
            if (mant)
                sig++;
        } else {
            dropped = 1;
            exp10++;
        }
        digits++;
        i++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (sig < 19) {
                mant = mant * 10 + (uint64_t)(s[i] - '0');
                if (mant)
                    sig++;
                exp10--;
            } else {
                dropped = 1;
            }
            digits++;
            i++;
        }
    }
    if (!digits)
        return NUM_SYNTAX;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        size_t e0 = i;
        long e = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (e < 100000)
                e = e * 10 + (s[i] - '0');
            i++;
        }
        if (i == e0)
            return NUM_SYNTAX;
        exp10 += eneg ? -e : e;
    }
    if (i != n)
        return NUM_SYNTAX;
    if (!dropped && sig <= 15 && exp10 >= -22 && exp10 <= 22) {
        /* mant < 10^15 < 2^53 and the power of ten are exact doubles, so one
         * IEEE operation rounds correctly. */
        double v = (double)mant;
        v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
        *out = neg ? -v : v;
        return NUM_OK;
    }
    /* strtod needs a terminated string; the syntax is already checked, so
     * it sees nothing it could read differently (no hex, inf or nan). */
    memcpy(p->num, s, n);
    p->num[n] = '\0';
    errno = 0;
    double v = strtod(p->num, NULL);
    if (isinf(v))
        return NUM_RANGE;
    *out = v;
    return NUM_OK;
}

/* Decimal digits only, at most `limit`.  A non-digit anywhere is a syntax
 * error even after the value has overflowed (syntax is reported first). */
static int parse_digits(const char *s, size_t n, uint64_t limit, uint64_t *out)
{
    if (!n)
        return NUM_SYNTAX;
    uint64_t v = 0;
    int range = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return NUM_SYNTAX;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            range = 1;
        else
            v = v * 10 + d;
    }
    if (range)
        return NUM_RANGE;
    *out = v;
    return NUM_OK;
}

/* -?digits within int64; *out the value. */
static int parse_int64(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < n && s[i] == '-') {
        neg = 1;
        i++;
    }
    uint64_t v = 0;
    int rc = parse_digits(s + i, n - i, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &v);
    if (rc != NUM_OK)
        return rc;
    /* -(INT64_MAX + 1) is representable; negate in unsigned to avoid UB. */
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return NUM_OK;
}

static int parse_uint64(const char *s, size_t n, uint64_t *out)
{
    return parse_digits(s, n, UINT64_MAX, out);
}

static int is_bool(const char *s, size_t n, double *out)
{
    /* t T true True TRUE / f F false False FALSE, and nothing else. */
    static const char *const forms[] = {"t", "T", "true", "True", "TRUE",
                                        "f", "F", "false", "False", "FALSE"};
    static const size_t lens[] = {1, 1, 4, 4, 4, 1, 1, 5, 5, 5};
    for (size_t k = 0; k < 10; k++) {
        if (lens[k] == n && memcmp(s, forms[k], n) == 0) {
            *out = k < 5;
            return 1;
        }
    }
    return 0;
}

/* Convert one unquoted field value; a rejection is reported here. */
static int field_value(parser *p, size_t at, who fname, const char *v, size_t n,
                       double *out)
{
    char ex[VALUE_EXCERPT_BUF];
    char last = v[n - 1];
    /* Only a value that starts like a number is reported as a bad integer or
     * unsigned: "tru" is a bad value, not a bad unsigned. */
    int numeric = (v[0] >= '0' && v[0] <= '9') || v[0] == '-' || v[0] == '.';
    /* The common case first: a plain float starts with a digit, '-' or '.'. */
    if (numeric && last != 'i' && last != 'u') {
        int rc = parse_float(p, v, n, out);
        if (rc == NUM_OK)
            return LINE_OK;
        if (rc == NUM_RANGE)
            return bad(p, at, fname, "number '%s' is out of range for a 64-bit float",
                       excerpt(ex, sizeof ex, v, n));
    } else if (numeric && last == 'i' && n > 1) {
        int64_t x;
        int rc = parse_int64(v, n - 1, &x);
        if (rc == NUM_OK) {
            *out = (double)x;
            return LINE_OK;
        }
        if (rc == NUM_RANGE)
            return bad(p, at, fname, "integer '%s' is out of range for 64 bits",
                       excerpt(ex, sizeof ex, v, n));
        return bad(p, at, fname, "invalid integer '%s'; expected digits before 'i', e.g. -12i",
                   excerpt(ex, sizeof ex, v, n));
    } else if (numeric && last == 'u' && n > 1) {
        uint64_t x;
        int rc = parse_uint64(v, n - 1, &x);
        if (rc == NUM_OK) {
            *out = (double)x;
            return LINE_OK;
        }
        if (rc == NUM_RANGE)
            return bad(p, at, fname, "unsigned '%s' is out of range for 64 bits",
                       excerpt(ex, sizeof ex, v, n));
        return bad(p, at, fname, "invalid unsigned '%s'; expected digits before 'u', e.g. 12u",
                   excerpt(ex, sizeof ex, v, n));
    } else if (is_bool(v, n, out)) {
        return LINE_OK;
    }
    return bad(p, at, fname,
               "invalid value '%s'; expected a float (1.5), an integer (1i), an unsigned (1u), "
               "a boolean (true) or a quoted string",
               excerpt(ex, sizeof ex, v, n));
}

/* Convert a timestamp of the body's precision to milliseconds, flooring. */
static int to_ms(int64_t t, ingest_influx_precision prec, int64_t *ms)
{
    int64_t div;
    switch (prec) {
    case INGEST_INFLUX_NS: div = 1000000; break;
    case INGEST_INFLUX_US: div = 1000; break;
    case INGEST_INFLUX_MS: *ms = t; return 0;
    case INGEST_INFLUX_S:
        if (t > INT64_MAX / 1000 || t < INT64_MIN / 1000)
            return -1;
        *ms = t * 1000;
        return 0;
    default: return -1;
    }
    int64_t q = t / div;
    if (t % div < 0)
        q--; /* floor, so that -1 ns is in the millisecond before the epoch */
    *ms = q;
    return 0;
}

static const char *const prec_names[] = {"nanoseconds", "microseconds", "milliseconds", "seconds"};

/* Insert tag (name, value) into the sorted label array, or report it as a
 * duplicate.  Tags usually arrive sorted, so the loop rarely moves anything. */
static int add_tag(parser *p, ingest_sample *s, size_t at, const char *k, size_t kn,
                   const char *v, size_t vn)
{
    size_t j = s->n_labels;
    while (j > 0) {
        const ingest_label *l = &s->labels[j - 1];
        int c = ingest_name_cmp(l->name, l->name_len, k, kn);
        if (c == 0) {
            return bad(p, at, (who){"tag", k, kn},
                       "duplicate tag key; each key may appear once per line");
        }
        if (c < 0)
            break;
        j--;
    }
    memmove(&s->labels[j + 1], &s->labels[j], (s->n_labels - j) * sizeof s->labels[0]);
    s->labels[j] = (ingest_label){.name = k, .name_len = kn, .value = v, .value_len = vn};
    s->n_labels++;
    return LINE_OK;
}

#define SYNTAX_HINT "'measurement[,tag=value...] field=value[,field=value...] [timestamp]'"

static int parse_line(parser *p, ingest_sample *smp, ingest_sink sink, void *ctx, size_t i)
{
    const char *s = p->line;
    size_t n = p->len;
    who fb;
    int flags, rc;
    p->unesc_used = 0;
    smp->n_labels = 0;

    /* measurement */
    size_t m0 = i;
    i = scan_token(s, n, i, 0, &flags);
    if (i == m0)
        return bad(p, m0, W("measurement"), "missing; expected " SYNTAX_HINT);
    if ((rc = token_check(p, m0, s + m0, i - m0, flags, W("measurement"), "name")))
        return rc;
    const char *meas;
    size_t meas_len;
    token_text(p, s + m0, i - m0, flags, &meas, &meas_len);

    /* tags */
    while (i < n && s[i] == ',') {
        size_t k0 = ++i;
        i = scan_token(s, n, i, 1, &flags);
        if (i == k0)
            return bad(p, k0, W("tag"), "empty tag key; expected tag=value after ','");
        if ((rc = token_check(p, k0, s + k0, i - k0, flags, W("tag"), "key")))
            return rc;
        const char *k;
        size_t kn;
        token_text(p, s + k0, i - k0, flags, &k, &kn);
        fb = (who){"tag", k, kn};
        if (i >= n || s[i] != '=')
            return bad(p, i, fb, "expected '=' and a value after the tag key");
        size_t v0 = ++i;
        i = scan_token(s, n, i, 0, &flags);
        if (i == v0)
            return bad(p, v0, fb, "empty value; InfluxDB tags need a non-empty value");
        if ((rc = token_check(p, v0, s + v0, i - v0, flags, fb, "value")))
            return rc;
        if (smp->n_labels >= p->max_labels)
            return bad(p, k0, fb, "more than %zu tags in one line", p->max_labels);
        const char *v;
        size_t vn;
        token_text(p, s + v0, i - v0, flags, &v, &vn);
        if ((rc = add_tag(p, smp, k0, k, kn, v, vn)))
            return rc;
    }

    /* fields, after one or more spaces */
    while (i < n && s[i] == ' ')
        i++;
    if (i >= n)
        return bad(p, i, W(NULL), "missing fields; expected " SYNTAX_HINT);
    size_t nf = 0, n_str = 0;
    for (;;) {
        size_t k0 = i;
        i = scan_token(s, n, i, 1, &flags);
        if (i == k0)
            return bad(p, k0, W(NULL), "empty field key; expected field=value");
        if ((rc = token_check(p, k0, s + k0, i - k0, flags, W("field"), "key")))
            return rc;
        const char *k;
        size_t kn;
        token_text(p, s + k0, i - k0, flags, &k, &kn);
        fb = (who){"field", k, kn};
        if (i >= n || s[i] != '=')
            return bad(p, i, fb, "expected '=' and a value after the field key");
        size_t v0 = ++i;
        if (i >= n || s[i] == ',' || s[i] == ' ')
            return bad(p, v0, fb,
                       "missing value; expected a number, a boolean or a quoted string");
        if (s[i] == '"') {
            /* A string: skipped (not a number), but its syntax is checked so
             * the fields after it are found where the sender meant them. */
            i++;
            while (i < n && s[i] != '"')
                i += s[i] == '\\' ? 2 : 1;
            if (i >= n)
                return bad(p, v0, fb, "unterminated string; expected a closing '\"' on the same line");
            i++;
            if (i < n && s[i] != ',' && s[i] != ' ')
                return bad(p, i, fb, "expected ',' or a space after the closing '\"'");
            n_str++;
        } else {
            while (i < n && s[i] != ',' && s[i] != ' ')
                i++;
            if (nf >= p->max_fields)
                return bad(p, k0, fb, "more than %d numeric fields in one line",
                           INGEST_INFLUX_MAX_FIELDS);
            field_val *f = &p->fields[nf];
            if ((rc = field_value(p, v0, fb, s + v0, i - v0, &f->value)))
                return rc;
            f->key = k;
            f->key_len = kn;
            nf++;
        }
        if (i < n && s[i] == ',') {
            i++;
            continue;
        }
        break;
    }

    /* timestamp, optional */
    while (i < n && s[i] == ' ')
        i++;
    int64_t t_ms = p->o->default_t_ms;
    if (i < n) {
        size_t t0 = i;
        while (i < n && s[i] != ' ')
            i++;
        int64_t t;
        char ex[VALUE_EXCERPT_BUF];
        int nrc = parse_int64(s + t0, i - t0, &t);
        if (nrc == NUM_SYNTAX)
            return bad(p, t0, W("timestamp"),
                       "invalid timestamp '%s'; expected an integer number of %s",
                       excerpt(ex, sizeof ex, s + t0, i - t0), prec_names[p->o->precision]);
        if (nrc == NUM_RANGE || to_ms(t, p->o->precision, &t_ms))
            return bad(p, t0, W("timestamp"), "'%s' %s is out of range for 64-bit milliseconds",
                       excerpt(ex, sizeof ex, s + t0, i - t0), prec_names[p->o->precision]);
        while (i < n && s[i] == ' ')
            i++;
        if (i < n)
            return bad(p, i, W(NULL), "unexpected text after the timestamp; expected the end of the line");
    }

    /* Deliver.  The measurement and separator are written once; each field
     * rewrites only its key after them. */
    p->st->skipped += n_str;
    memcpy(p->metric, meas, meas_len);
    p->metric[meas_len] = p->sep;
    smp->metric = p->metric;
    smp->t_ms = t_ms;
    for (size_t f = 0; f < nf; f++) {
        memcpy(p->metric + meas_len + 1, p->fields[f].key, p->fields[f].key_len);
        smp->metric_len = meas_len + 1 + p->fields[f].key_len;
        smp->value = p->fields[f].value;
        p->st->samples++;
        if (sink(ctx, smp))
            return INGEST_STOPPED;
    }
    return LINE_OK;
}

ingest_influx_opts ingest_influx_defaults(void)
{
    return (ingest_influx_opts){.precision = INGEST_INFLUX_NS,
                                .max_line = INGEST_INFLUX_MAX_LINE,
                                .max_labels = INGEST_MAX_LABELS,
                                .metric_sep = '.'};
}

int ingest_influx_precision_parse(const char *s, ingest_influx_precision *out, jiko_error *err)
{
    if (strcmp(s, "ns") == 0 || strcmp(s, "n") == 0)
        *out = INGEST_INFLUX_NS;
    else if (strcmp(s, "us") == 0 || strcmp(s, "u") == 0)
        *out = INGEST_INFLUX_US;
    else if (strcmp(s, "ms") == 0)
        *out = INGEST_INFLUX_MS;
    else if (strcmp(s, "s") == 0)
        *out = INGEST_INFLUX_S;
    else {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "precision", "unknown precision '%.20s'; expected ns, us, ms or s",
                  s);
        return -1;
    }
    return 0;
}

int ingest_influx_parse(const ingest_influx_opts *o, const char *buf, size_t len, ingest_sink sink,
                        void *ctx, ingest_stats *st, jiko_error *err)
{
    memset(st, 0, sizeof *st);
    parser p = {.o = o, .st = st};
    p.max_line = o->max_line && o->max_line < INGEST_INFLUX_MAX_LINE ? o->max_line
                                                                      : INGEST_INFLUX_MAX_LINE;
    p.max_labels = o->max_labels && o->max_labels < INGEST_MAX_LABELS ? o->max_labels
                                                                       : INGEST_MAX_LABELS;
    p.sep = o->metric_sep ? o->metric_sep : '.';
    if ((unsigned)o->precision > INGEST_INFLUX_S) {
        error_set(err, JIKO_ERR_INVALID, o->source, 0, "precision", "invalid precision %d", (int)o->precision);
        return INGEST_FAILED;
    }
    if ((unsigned char)p.sep < 0x21 || (unsigned char)p.sep > 0x7e) {
        /* The metric must stay valid UTF-8 and free of separators. */
        error_set(err, JIKO_ERR_INVALID, o->source, 0, "metric_sep", "must be a printable ASCII character");
        return INGEST_FAILED;
    }
    if (len == 0)
        return 0;
    /* Scratch sized by the longest line the body can hold, so a small body
     * costs a small allocation. */
    size_t line_cap = len < p.max_line ? len : p.max_line;
    size_t nfields = line_cap / 4 + 1; /* "k=1," is the shortest field */
    if (nfields > INGEST_INFLUX_MAX_FIELDS)
        nfields = INGEST_INFLUX_MAX_FIELDS;
    size_t bytes = nfields * sizeof(field_val) + 3 * (line_cap + 2);
    char *mem = malloc(bytes);
    if (!mem) {
        error_set(err, JIKO_ERR_NOMEM, o->source, 0, NULL, "out of memory (%zu bytes of scratch)", bytes);
        return INGEST_FAILED;
    }
    p.fields = (field_val *)mem;
    p.max_fields = nfields;
    p.unesc = mem + nfields * sizeof(field_val);
    p.metric = p.unesc + line_cap + 2;
    p.num = p.metric + line_cap + 2;

    ingest_sample smp;
    int rc = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        p.line = buf + pos;
        p.len = end - pos;
        p.lineno++;
        pos = nl ? end + 1 : len;
        if (p.len && p.line[p.len - 1] == '\r')
            p.len--;
        size_t i = 0;
        while (i < p.len && (p.line[i] == ' ' || p.line[i] == '\t'))
            i++;
        if (i == p.len || p.line[i] == '#')
            continue;
        st->records++;
        if (p.len > p.max_line) {
            p.len = 0; /* too long to be worth echoing */
            if (bad(&p, NO_COLUMN, W(NULL), "line longer than %zu bytes", p.max_line) == INGEST_STOPPED) {
                rc = INGEST_STOPPED;
                break;
            }
            continue;
        }
        if (parse_line(&p, &smp, sink, ctx, i) == INGEST_STOPPED) {
            rc = INGEST_STOPPED;
            break;
        }
    }
    free(mem);
    if (rc == INGEST_STOPPED)
        error_set(err, JIKO_ERR_INVALID, o->source, p.lineno, NULL, "stopped at line %ld by the receiver", p.lineno);
    return rc;
}
