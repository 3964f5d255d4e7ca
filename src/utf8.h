/* utf8.h — UTF-8 validation and terminal display width (for aligned tables). */
#ifndef JIKO_UTF8_H
#define JIKO_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t n);

/* Columns a terminal uses for s: East Asian wide characters count 2. */
size_t utf8_width(const char *s);

#endif
