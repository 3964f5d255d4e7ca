/* json_fast.c — the plain-record fast path in front of json_loadb
 * (json_fast.h).  Every "return NULL" means "not sure: let jansson decide",
 * never "invalid". */
#include "json_fast.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "utf8.h"

#define MAX_DEPTH 32
#define MAX_DIGITS 18 /* below 2^63 whatever the digits: no overflow check */

typedef struct fp {
    const unsigned char *p, *end;
    char tmp[1024]; /* a string value with escapes, decoded */
} fp;

static void ws(fp *f)
{
    while (f->p < f->end && (*f->p == ' ' || *f->p == '\t' || *f->p == '\n' || *f->p == '\r'))
        f->p++;
}

/* A string after its opening quote.  Without escapes *out points into the
 * input; with them (only when `escapes`) into f->tmp. */
static bool string(fp *f, bool escapes, const char **out, size_t *len)
{
    const unsigned char *s = f->p, *p = s;
    while (p < f->end) {
        unsigned c = *p;
        if (c == '"') {
            *out = (const char *)s;
            *len = (size_t)(p - s);
            f->p = p + 1;
            return true;
        }
        if (c == '\\')
            break;
        if (c < 0x20)
            return false;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t n = utf8_seq((const char *)p, (size_t)(f->end - p));
        if (!n)
            return false;
        p += n;
    }
    if (!escapes || p >= f->end || (size_t)(p - s) > sizeof f->tmp)
        return false;
    size_t o = (size_t)(p - s);
    memcpy(f->tmp, s, o);
    while (p < f->end) {
        unsigned c = *p;
        if (c == '"') {
            *out = f->tmp;
            *len = o;
            f->p = p + 1;
            return true;
        }
        if (o + 4 > sizeof f->tmp || c < 0x20)
            return false;
        if (c == '\\') {
            if (p + 1 >= f->end)
                return false;
            char e;
            switch (p[1]) {
            case '"': e = '"'; break;
            case '\\': e = '\\'; break;
            case '/': e = '/'; break;
            case 'b': e = '\b'; break;
            case 'f': e = '\f'; break;
            case 'n': e = '\n'; break;
            case 'r': e = '\r'; break;
            case 't': e = '\t'; break;
            default: return false; /* \u (NUL, surrogates) and bad escapes */
            }
            f->tmp[o++] = e;
            p += 2;
        } else if (c < 0x80) {
            f->tmp[o++] = (char)c;
            p++;
        } else {
            size_t n = utf8_seq((const char *)p, (size_t)(f->end - p));
            if (!n)
                return false;
            memcpy(f->tmp + o, p, n);
            o += n;
            p += n;
        }
    }
    return false;
}

static json_t *number(fp *f)
{
    const unsigned char *p = f->p;
    bool neg = p < f->end && *p == '-';
    if (neg)
        p++;
    const unsigned char *d = p;
    while (p < f->end && *p >= '0' && *p <= '9')
        p++;
    size_t nd = (size_t)(p - d);
    /* no digits, a leading zero, too many digits, a fraction or exponent */
    if (nd == 0 || (nd > 1 && *d == '0') || nd > MAX_DIGITS ||
        (p < f->end && (*p == '.' || *p == 'e' || *p == 'E')))
        return NULL;
    json_int_t v = 0;
    for (; d < p; d++)
        v = v * 10 + (*d - '0');
    f->p = p;
    return json_integer(neg ? -v : v);
}

static json_t *literal(fp *f, const char *word, size_t n, json_t *v)
{
    if ((size_t)(f->end - f->p) < n || memcmp(f->p, word, n) != 0)
        return NULL;
    f->p += n; /* "truex": the next token check fails */
    return v;
}

static json_t *value(fp *f, int depth);

static json_t *object(fp *f, int depth)
{
    if (depth > MAX_DEPTH)
        return NULL;
    json_t *o = json_object();
    if (!o)
        return NULL;
    f->p++; /* '{' */
    ws(f);
    if (f->p < f->end && *f->p == '}') {
        f->p++;
        return o;
    }
    for (;;) {
        const char *k;
        size_t kn;
        if (f->p >= f->end || *f->p != '"')
            break;
        f->p++;
        /* keys unescaped: they point into the input, valid while the value
         * after them is parsed */
        if (!string(f, false, &k, &kn) || json_object_getn(o, k, kn))
            break;
        ws(f);
        if (f->p >= f->end || *f->p != ':')
            break;
        f->p++;
        ws(f);
        json_t *v = value(f, depth);
        if (!v || json_object_setn_new_nocheck(o, k, kn, v))
            break; /* setn_new releases v when it fails */
        ws(f);
        if (f->p < f->end && *f->p == ',') {
            f->p++;
            ws(f);
            continue;
        }
        if (f->p < f->end && *f->p == '}') {
            f->p++;
            return o;
        }
        break;
    }
    json_decref(o);
    return NULL;
}

static json_t *array(fp *f, int depth)
{
    if (depth > MAX_DEPTH)
        return NULL;
    json_t *a = json_array();
    if (!a)
        return NULL;
    f->p++; /* '[' */
    ws(f);
    if (f->p < f->end && *f->p == ']') {
        f->p++;
        return a;
    }
    for (;;) {
        json_t *v = value(f, depth);
        if (!v || json_array_append_new(a, v))
            break;
        ws(f);
        if (f->p < f->end && *f->p == ',') {
            f->p++;
            ws(f);
            continue;
        }
        if (f->p < f->end && *f->p == ']') {
            f->p++;
            return a;
        }
        break;
    }
    json_decref(a);
    return NULL;
}

static json_t *value(fp *f, int depth)
{
    if (f->p >= f->end)
        return NULL;
    switch (*f->p) {
    case '{': return object(f, depth + 1);
    case '[': return array(f, depth + 1);
    case '"': {
        const char *s;
        size_t n;
        f->p++;
        return string(f, true, &s, &n) ? json_stringn_nocheck(s, n) : NULL;
    }
    case 't': return literal(f, "true", 4, json_true());
    case 'f': return literal(f, "false", 5, json_false());
    case 'n': return literal(f, "null", 4, json_null());
    default: return number(f);
    }
}

json_t *json_fast_loadb(const char *text, size_t len)
{
    fp f;
    f.p = (const unsigned char *)text;
    f.end = f.p + len;
    ws(&f);
    if (f.p >= f.end || *f.p != '{')
        return NULL;
    json_t *o = object(&f, 0);
    if (!o)
        return NULL;
    ws(&f);
    if (f.p != f.end) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *json_fast_string(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    return utf8_valid(s, n) ? json_stringn_nocheck(s, n) : NULL;
}
