/* utf8.h — UTF-8 validation and terminal display width (for aligned tables). */
#ifndef JIKO_UTF8_H
#define JIKO_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* True when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t n);

/* Bytes of the well-formed sequence starting at s (1 for ASCII), reading at
 * most `avail` bytes; 0 when it is not well-formed UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF). */
size_t utf8_seq(const char *s, size_t avail);

/* Columns of the character at s (1, or 2 when East Asian wide), and in
 * *bytes its length, stopping at a NUL; for text already validated. */
size_t utf8_char_width(const char *s, size_t *bytes);

/* Columns a terminal uses for s: East Asian wide characters count 2. */
size_t utf8_width(const char *s);

/* Write s for a terminal: control characters (C0, DEL, C1; an escape
 * sequence or a line break in an id would forge table rows or drive the
 * terminal) and bytes that are not UTF-8 become U+FFFD.  Returns the
 * columns written. */
size_t utf8_print_safe(FILE *out, const char *s);

#endif
