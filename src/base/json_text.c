/* json_text.c — compact JSON text of jansson values (see json_text.h). */
#include "json_text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting beyond this is a bug of the caller (jansson refuses circular
 * values the same way: the text fails). */
#define JSON_TEXT_MAX_DEPTH 512

static bool grow(json_text *t, size_t more)
{
    if (t->failed)
        return false;
    if (t->cap - t->len > more)
        return true;
    size_t cap = t->cap ? t->cap : 256;
    while (cap - t->len <= more) {
        if (cap > SIZE_MAX / 2) {
            t->failed = true;
            return false;
        }
        cap *= 2;
    }
    char *s = realloc(t->s, cap);
    if (!s) {
        t->failed = true;
        return false;
    }
    t->s = s;
    t->cap = cap;
    return true;
}

void json_text_raw(json_text *t, const char *s, size_t n)
{
    if (grow(t, n)) {
        memcpy(t->s + t->len, s, n);
        t->len += n;
    }
}

void json_text_lit(json_text *t, const char *s) { json_text_raw(t, s, strlen(s)); }

/* 1 for the bytes a JSON string cannot hold as they are. */
static bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

#define ONES 0x0101010101010101ULL
#define HIGH 0x8080808080808080ULL

/* Where the run of bytes from i that need no escape ends: eight bytes at a
 * time (is any byte below 0x20, a quote or a backslash?), then one by one. */
static size_t plain_run(const char *s, size_t i, size_t n)
{
    while (n - i >= 8) {
        uint64_t v;
        memcpy(&v, s + i, 8);
        uint64_t q = v ^ (ONES * '"'), b = v ^ (ONES * '\\');
        if (((v - ONES * 0x20) & ~v & HIGH) | ((q - ONES) & ~q & HIGH) |
            ((b - ONES) & ~b & HIGH))
            break;
        i += 8;
    }
    while (i < n && !needs_escape((unsigned char)s[i]))
        i++;
    return i;
}

void json_text_str(json_text *t, const char *s, size_t n)
{
    json_text_raw(t, "\"", 1);
    size_t i = 0;
    while (i < n) {
        size_t run = plain_run(s, i, n);
        json_text_raw(t, s + i, run - i);
        if (run == n)
            break;
        char esc[8];
        unsigned char c = (unsigned char)s[run];
        const char *named = c == '"'    ? "\\\""
                            : c == '\\' ? "\\\\"
                            : c == '\b' ? "\\b"
                            : c == '\f' ? "\\f"
                            : c == '\n' ? "\\n"
                            : c == '\r' ? "\\r"
                            : c == '\t' ? "\\t"
                                        : NULL;
        if (!named) { /* as jansson writes them: upper-case hex */
            snprintf(esc, sizeof esc, "\\u%04X", c);
            named = esc;
        }
        json_text_lit(t, named);
        i = run + 1;
    }
    json_text_raw(t, "\"", 1);
}

static void value(json_text *t, json_t *v, size_t flags, int depth)
{
    if (t->failed)
        return;
    if (depth > JSON_TEXT_MAX_DEPTH) {
        t->failed = true;
        return;
    }
    char num[64];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        json_text_raw(t, "{", 1);
        bool first = true;
        for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
            if (!first)
                json_text_raw(t, ",", 1);
            first = false;
            json_text_str(t, json_object_iter_key(it), json_object_iter_key_len(it));
            json_text_raw(t, ":", 1);
            value(t, json_object_iter_value(it), flags, depth + 1);
        }
        json_text_raw(t, "}", 1);
        break;
    }
    case JSON_ARRAY: {
        json_text_raw(t, "[", 1);
        size_t n = json_array_size(v);
        for (size_t i = 0; i < n; i++) {
            if (i)
                json_text_raw(t, ",", 1);
            value(t, json_array_get(v, i), flags, depth + 1);
        }
        json_text_raw(t, "]", 1);
        break;
    }
    case JSON_STRING:
        json_text_str(t, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        json_text_raw(t, num,
                      (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
                                       json_integer_value(v)));
        break;
    case JSON_REAL: {
        /* jansson's own formatting (%.17g or the precision asked, ".0"
         * added to integral values, the exponent without '+' and zeros) */
        size_t n = json_dumpb(v, num, sizeof num, JSON_COMPACT | JSON_ENCODE_ANY |
                                                      (flags & JSON_REAL_PRECISION(31)));
        if (n == 0 || n > sizeof num)
            t->failed = true;
        else
            json_text_raw(t, num, n);
        break;
    }
    case JSON_TRUE: json_text_raw(t, "true", 4); break;
    case JSON_FALSE: json_text_raw(t, "false", 5); break;
    case JSON_NULL: json_text_raw(t, "null", 4); break;
    }
}

void json_text_value(json_text *t, const json_t *v, size_t flags)
{
    if (!v) {
        t->failed = true;
        return;
    }
    /* jansson's iteration API takes no const; nothing is changed */
    value(t, (json_t *)v, flags, 0);
}

char *json_text_take(json_text *t, size_t *len)
{
    char *s = NULL;
    if (grow(t, 0)) {
        s = t->s;
        s[t->len] = '\0';
        if (len)
            *len = t->len;
    } else {
        free(t->s);
    }
    *t = (json_text){0};
    return s;
}

void json_text_free(json_text *t)
{
    free(t->s);
    *t = (json_text){0};
}

char *json_text_of(const json_t *v, size_t flags, bool newline, size_t *len)
{
    json_text t = {0};
    json_text_value(&t, v, flags);
    if (newline)
        json_text_raw(&t, "\n", 1);
    return json_text_take(&t, len);
}
