/*
 * error.h — the error record every jiko module fills in.
 *
 * A user must be able to act on an error: it names the file, the line, the
 * field and what was expected.  Functions return 0 on success or a negative
 * value on failure, and describe the failure in a jiko_error.
 */
#ifndef JIKO_ERROR_H
#define JIKO_ERROR_H

#include <stddef.h>

typedef struct jiko_error {
    char file[256];    /* "" when not tied to a file */
    long line;         /* 1-based; 0 when not tied to a line */
    char field[96];    /* e.g. "services[1].users"; "" when not tied to a field */
    char message[512]; /* what was wrong and what was expected */
} jiko_error;

/* Clear an error record. */
void error_clear(jiko_error *e);

/* Fill an error record; `file` and `field` may be NULL. */
void error_set(jiko_error *e, const char *file, long line, const char *field,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* "file:line: field 'x': message" (parts left out when absent). Returns buf. */
const char *error_format(const jiko_error *e, char *buf, size_t size);

#endif
