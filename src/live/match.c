/*
 * match.c — Prometheus-style series selectors (match.h).
 */
#include "match.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum match_op { MATCH_EQ, MATCH_NE, MATCH_RE, MATCH_NRE } match_op;

typedef struct matcher {
    char *label;
    char *value;
    size_t value_len;
    match_op op;
    bool has_re;
    regex_t re;
} matcher;

struct match_selector {
    char *metric; /* "" when none */
    matcher m[MATCH_MAX_MATCHERS];
    size_t n;
};

typedef struct parser {
    const char *s, *p;
    const char *file, *field;
    long line;
    jiko_error *err;
} parser;

static int fail(parser *ps, const char *what)
{
    error_set(ps->err, JIKO_ERR_CONFIG, ps->file, ps->line, ps->field, "column %ld: expected %s",
              (long)(ps->p - ps->s) + 1, what);
    return -1;
}

static void skip_blank(parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t')
        ps->p++;
}

static bool name_start(char c, bool colon)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

static bool name_char(char c, bool colon)
{
    return name_start(c, colon) || (c >= '0' && c <= '9');
}

/* A metric name (colons allowed) or a label name; NULL with the error set. */
static char *name(parser *ps, bool colon, const char *what)
{
    const char *b = ps->p;
    if (!name_start(*ps->p, colon)) {
        fail(ps, what);
        return NULL;
    }
    while (name_char(*ps->p, colon))
        ps->p++;
    char *n = strndup(b, (size_t)(ps->p - b));
    if (!n)
        error_nomem(ps->err, "reading a selector");
    return n;
}

/* A double-quoted value with \" \\ \n escapes. */
static char *quoted(parser *ps, size_t *len)
{
    if (*ps->p != '"') {
        fail(ps, "a double-quoted value");
        return NULL;
    }
    ps->p++;
    char *out = malloc(strlen(ps->p) + 1);
    if (!out) {
        error_nomem(ps->err, "reading a selector");
        return NULL;
    }
    size_t n = 0;
    for (;;) {
        char c = *ps->p;
        if (c == '\0') {
            free(out);
            fail(ps, "the closing '\"' of the value");
            return NULL;
        }
        ps->p++;
        if (c == '"')
            break;
        if (c == '\\') {
            char e = *ps->p;
            if (e != '"' && e != '\\' && e != 'n') {
                free(out);
                fail(ps, "one of the escapes \\\" \\\\ \\n");
                return NULL;
            }
            ps->p++;
            c = e == 'n' ? '\n' : e;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    *len = n;
    return out;
}

/* Regular expressions that regcomp would blow up: glibc builds x+ and
 * x{n,m} by copying x, so stacked or nested repetitions grow without bound
 * (a fuzzer found "fw++++...+" taking over 2 GB).  Refused, as RE2 refuses
 * most of them: a repetition of a repetition ("++", "*{2}"), a count above
 * MATCH_RE_COUNT_MAX, more than MATCH_RE_GROUP_REPS repeated groups, more
 * than MATCH_RE_MAX bytes.  NULL when the expression is fine. */
#define MATCH_RE_MAX 512
#define MATCH_RE_COUNT_MAX 100
#define MATCH_RE_GROUP_REPS 5

static const char *regex_refused(const char *re)
{
    if (strlen(re) > MATCH_RE_MAX)
        return "at most 512 bytes";
    bool prev_quant = false, prev_group = false;
    int group_reps = 0;
    for (const char *p = re; *p; p++) {
        if (*p == '\\' && p[1]) { /* an escaped character is a plain one */
            p++;
            prev_quant = prev_group = false;
            continue;
        }
        if (*p == '[') { /* a bracket expression: up to its closing ']' */
            p++;
            if (*p == '^')
                p++;
            if (*p == ']')
                p++;
            while (*p && *p != ']')
                p++;
            if (!*p)
                return NULL; /* unterminated: regcomp says so */
            prev_quant = prev_group = false;
            continue;
        }
        bool quant = *p == '*' || *p == '+' || *p == '?' || *p == '{';
        if (quant && prev_quant)
            return "no repetition of a repetition (such as ++, +? or *{2})";
        if (quant && prev_group && ++group_reps > MATCH_RE_GROUP_REPS)
            return "at most 5 repeated groups";
        if (*p == '{') {
            for (const char *q = p + 1; *q && *q != '}'; q++)
                if (*q >= '0' && *q <= '9' && strtol(q, NULL, 10) > MATCH_RE_COUNT_MAX)
                    return "repetition counts of at most 100";
            const char *end = strchr(p, '}');
            p = end ? end : p;
        }
        prev_quant = quant;
        prev_group = *p == ')';
    }
    return NULL;
}

static int one_matcher(parser *ps, match_selector *m)
{
    if (m->n == MATCH_MAX_MATCHERS)
        return fail(ps, "at most 16 label matchers");
    matcher *x = &m->m[m->n];
    memset(x, 0, sizeof *x);
    x->label = name(ps, false, "a label name");
    if (!x->label)
        return -1;
    m->n++; /* from here on match_free releases it */
    skip_blank(ps);
    if (ps->p[0] == '=' && ps->p[1] == '~')
        x->op = MATCH_RE, ps->p += 2;
    else if (ps->p[0] == '!' && ps->p[1] == '~')
        x->op = MATCH_NRE, ps->p += 2;
    else if (ps->p[0] == '!' && ps->p[1] == '=')
        x->op = MATCH_NE, ps->p += 2;
    else if (ps->p[0] == '=')
        x->op = MATCH_EQ, ps->p += 1;
    else
        return fail(ps, "one of the operators = != =~ !~ after the label name");
    skip_blank(ps);
    const char *at = ps->p;
    x->value = quoted(ps, &x->value_len);
    if (!x->value)
        return -1;
    if (x->op == MATCH_RE || x->op == MATCH_NRE) {
        /* RE2 escapes such as \d, \w, \s mean something else (or nothing)
         * to POSIX: refuse rather than misread */
        if (strstr(x->value, "\\d") || strstr(x->value, "\\w") || strstr(x->value, "\\s")) {
            ps->p = at;
            return fail(ps, "a POSIX extended regular expression ([0-9] instead of \\d, "
                            "[[:alnum:]_] instead of \\w, [[:space:]] instead of \\s)");
        }
        if (strstr(x->value, "(?")) {
            ps->p = at;
            return fail(ps, "a POSIX extended regular expression (no (?flags) groups)");
        }
        const char *why = regex_refused(x->value);
        if (why) {
            ps->p = at;
            char what[160];
            snprintf(what, sizeof what, "a simpler regular expression: %s", why);
            return fail(ps, what);
        }
        size_t n = x->value_len + 5;
        char *anchored = malloc(n);
        if (!anchored) {
            error_nomem(ps->err, "reading a selector");
            return -1;
        }
        snprintf(anchored, n, "^(%s)$", x->value);
        int rc = regcomp(&x->re, anchored, REG_EXTENDED | REG_NOSUB);
        free(anchored);
        if (rc != 0) {
            char msg[128];
            regerror(rc, &x->re, msg, sizeof msg);
            ps->p = at;
            error_set(ps->err, JIKO_ERR_CONFIG, ps->file, ps->line, ps->field,
                      "column %ld: expected a valid regular expression (%s)",
                      (long)(at - ps->s) + 1, msg);
            return -1;
        }
        x->has_re = true;
    }
    return 0;
}

int match_parse(const char *text, const char *file, long line, const char *field,
                match_selector **out, jiko_error *err)
{
    *out = NULL;
    match_selector *m = calloc(1, sizeof *m);
    if (!m) {
        error_nomem(err, "reading a selector");
        return -1;
    }
    parser ps = {text, text, file, field, line, err};
    int rc = 0;
    skip_blank(&ps);
    if (*ps.p == '{') {
        m->metric = strdup("");
        if (!m->metric)
            rc = -1, error_nomem(err, "reading a selector");
    } else {
        m->metric = name(&ps, true, "a metric name or '{'");
        rc = m->metric ? 0 : -1;
    }
    skip_blank(&ps);
    if (!rc && *ps.p == '{') {
        ps.p++;
        skip_blank(&ps);
        while (!rc && *ps.p != '}') {
            rc = one_matcher(&ps, m);
            skip_blank(&ps);
            if (!rc && *ps.p == ',') {
                ps.p++;
                skip_blank(&ps);
            } else if (!rc && *ps.p != '}') {
                rc = fail(&ps, "',' or '}' after a label matcher");
            }
        }
        if (!rc)
            ps.p++;
        skip_blank(&ps);
    }
    if (!rc && *ps.p)
        rc = fail(&ps, "the end of the selector");
    if (!rc && !m->metric[0] && m->n == 0)
        rc = fail(&ps, "a metric name or at least one label matcher ({} selects everything)");
    if (rc) {
        match_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

static bool value_ok(const matcher *x, const char *v, size_t n)
{
    switch (x->op) {
    case MATCH_EQ:
        return n == x->value_len && memcmp(v, x->value, n) == 0;
    case MATCH_NE:
        return !(n == x->value_len && memcmp(v, x->value, n) == 0);
    case MATCH_RE:
    case MATCH_NRE: {
        /* sample strings are not NUL-terminated: copy (label values are
         * short; a long one gets a heap copy) */
        char small[256];
        char *s = n < sizeof small ? small : malloc(n + 1);
        if (!s)
            return false; /* out of memory: the sample is not selected */
        memcpy(s, v, n);
        s[n] = '\0';
        bool hit = regexec(&x->re, s, 0, NULL, 0) == 0;
        if (s != small)
            free(s);
        return x->op == MATCH_RE ? hit : !hit;
    }
    }
    return false;
}

bool match_sample(const match_selector *m, const ingest_sample *s)
{
    size_t ml = strlen(m->metric);
    if (ml && (s->metric_len != ml || memcmp(s->metric, m->metric, ml) != 0))
        return false;
    for (size_t i = 0; i < m->n; i++) {
        const matcher *x = &m->m[i];
        size_t ll = strlen(x->label);
        const char *v = "";
        size_t vn = 0;
        if (strcmp(x->label, "__name__") == 0) {
            v = s->metric;
            vn = s->metric_len;
        } else {
            for (size_t j = 0; j < s->n_labels; j++)
                if (s->labels[j].name_len == ll && memcmp(s->labels[j].name, x->label, ll) == 0) {
                    v = s->labels[j].value;
                    vn = s->labels[j].value_len;
                    break;
                }
        }
        if (!value_ok(x, v, vn))
            return false;
    }
    return true;
}

const char *match_metric(const match_selector *m) { return m->metric; }

void match_free(match_selector *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->m[i].label);
        free(m->m[i].value);
        if (m->m[i].has_re)
            regfree(&m->m[i].re);
    }
    free(m->metric);
    free(m);
}
