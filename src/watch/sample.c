/* sample.c — helpers shared by the ingest formats (see sample.h). */
#include "sample.h"

#include <stdio.h>
#include <string.h>

const char *ingest_error_format(const ingest_error *e, char *buf, size_t size)
{
    if (!size)
        return buf;
    size_t n = 0;
    buf[0] = '\0';
    /* snprintf returns what it would have written; clamp so a long file name
     * cannot push n past the buffer. */
#define PUT(...)                                                                                   \
    do {                                                                                           \
        if (n < size) {                                                                            \
            int k = snprintf(buf + n, size - n, __VA_ARGS__);                                      \
            n = k < 0 ? size : n + (size_t)k;                                                      \
        }                                                                                          \
    } while (0)
    if (e->e.file[0])
        PUT("%s:", e->e.file);
    if (e->e.line > 0)
        PUT("%ld:", e->e.line);
    if (e->column > 0)
        PUT("%ld:", e->column);
    if (n > 0)
        PUT(" ");
    if (e->e.field[0])
        PUT("%s: ", e->e.field);
    PUT("%s", e->e.message);
#undef PUT
    return buf;
}

size_t ingest_name_excerpt(const char *s, size_t n)
{
    if (n > INGEST_NAME_EXCERPT_MAX) {
        n = INGEST_NAME_EXCERPT_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return n;
}

int ingest_name_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

long ingest_labels_sort(ingest_label *l, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (ingest_name_cmp(l[i - 1].name, l[i - 1].name_len, l[i].name, l[i].name_len) <= 0)
            continue;
        ingest_label x = l[i];
        size_t j = i;
        while (j > 0 && ingest_name_cmp(l[j - 1].name, l[j - 1].name_len, x.name, x.name_len) > 0) {
            l[j] = l[j - 1];
            j--;
        }
        l[j] = x;
    }
    for (size_t i = 1; i < n; i++)
        if (l[i - 1].name_len == l[i].name_len &&
            memcmp(l[i - 1].name, l[i].name, l[i].name_len) == 0)
            return (long)i - 1;
    return -1;
}
