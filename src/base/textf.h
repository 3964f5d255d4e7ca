/*
 * textf.h — vsnprintf for the two conversions that reasons and other
 * sentences of text are made of, %s and %d, at a fraction of its cost.
 *
 * The server writes a classification's reasons for every GET of an
 * incident; glibc's vsnprintf was most of their cost.  textf_v gives the
 * same bytes and the same return value as vsnprintf for %s, %d and %%
 * (a NULL string prints "(null)", as glibc does), and hands any other
 * format — a flag, a width, a precision, another conversion — to vsnprintf
 * whole, so a format string is never read differently.
 */
#ifndef JIKO_TEXTF_H
#define JIKO_TEXTF_H

#include <stdarg.h>
#include <stddef.h>

/* As vsnprintf(buf, size, fmt, ap): the length the whole text has (which
 * may be size or more: then it was cut, and buf ends in a NUL when size
 * > 0); negative on an error of vsnprintf's. */
int textf_v(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

int textf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
