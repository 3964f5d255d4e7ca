/*
 * num.h — strict number parsing for options, filters and configuration.
 *
 * The whole text must be the number: no leading or trailing spaces, no
 * unit, no suffix ("2000abc", "0.5x", "FY2021" are refused, not read as
 * 2000, 0.5 or 0), no overflow, and for reals nothing that is not finite
 * (nan, inf).  A filter that silently meant "no filter" returned everything.
 */
#ifndef JIKO_NUM_H
#define JIKO_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A decimal integer in [min, max]. */
bool num_parse_long(const char *s, long min, long max, long *out);

/* A decimal unsigned 64-bit integer (no sign). */
bool num_parse_u64(const char *s, uint64_t *out);

/* A finite real ("1.5", "-2", "500e9"). */
bool num_parse_double(const char *s, double *out);

/* 456516 -> "456,516": digits in groups of three, for people to read. */
char *num_group_digits(long long v, char *buf, size_t size);

#endif
