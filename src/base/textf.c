/*
 * textf.c — %s and %d by hand, everything else by vsnprintf (textf.h).
 */
#include "textf.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Whether every conversion in fmt is a bare %s, %d or %%. */
static bool simple(const char *fmt)
{
    for (const char *p = fmt; (p = strchr(p, '%')) != NULL; p += 2)
        if (p[1] != 's' && p[1] != 'd' && p[1] != '%')
            return false;
    return true;
}

/* Append n bytes at *len, keeping what fits before the final NUL. */
static void put(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
    if (*len + 1 < size) {
        size_t room = size - 1 - *len;
        memcpy(buf + *len, s, n < room ? n : room);
    }
    *len += n;
}

int textf_v(char *buf, size_t size, const char *fmt, va_list ap)
{
    if (!simple(fmt))
        return vsnprintf(buf, size, fmt, ap);
    size_t len = 0;
    const char *p = fmt;
    for (;;) {
        const char *c = strchr(p, '%');
        if (!c) {
            put(buf, size, &len, p, strlen(p));
            break;
        }
        put(buf, size, &len, p, (size_t)(c - p));
        if (c[1] == 's') {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            put(buf, size, &len, s, strlen(s));
        } else if (c[1] == 'd') {
            int v = va_arg(ap, int);
            char digits[12];
            size_t k = sizeof digits;
            unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
            do
                digits[--k] = (char)('0' + u % 10);
            while ((u /= 10) != 0);
            if (v < 0)
                digits[--k] = '-';
            put(buf, size, &len, digits + k, sizeof digits - k);
        } else {
            put(buf, size, &len, "%", 1);
        }
        p = c + 2;
    }
    if (size > 0)
        buf[len < size ? len : size - 1] = '\0';
    return len > (size_t)__INT_MAX__ ? -1 : (int)len;
}

int textf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = textf_v(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
