/* num.c — strict number parsing (see num.h). */
#include "num.h"

#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>

/* strtol and friends skip leading white space; the options do not. */
static bool starts_plain(const char *s)
{
    return s && *s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != '\f' &&
           *s != '\v';
}

bool num_parse_long(const char *s, long min, long max, long *out)
{
    if (!starts_plain(s))
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool num_parse_u64(const char *s, uint64_t *out)
{
    if (!starts_plain(s) || *s == '-' || *s == '+')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = (uint64_t)v;
    return true;
}

bool num_parse_double(const char *s, double *out)
{
    if (!starts_plain(s))
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    /* ERANGE on underflow gives a usable tiny value; overflow gives inf */
    if (*end || !isfinite(v) || (errno == ERANGE && fabs(v) > 1.0))
        return false;
    *out = v;
    return true;
}

char *num_group_digits(long long v, char *buf, size_t size)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%lld", v < 0 ? -v : v);
    size_t o = 0;
    if (v < 0 && o + 1 < size)
        buf[o++] = '-';
    for (int i = 0; i < n && o + 2 < size; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    if (size)
        buf[o] = '\0';
    return buf;
}
