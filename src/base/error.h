/*
 * error.h — the error record every jiko module fills in.
 *
 * A user must be able to act on an error: it names the file, the line, the
 * field and what was expected.  Functions return 0 on success or a negative
 * value on failure, and describe the failure in a jiko_error.  Its kind says
 * what sort of failure it was, so that each front end maps it once: the
 * command line to an exit status (src/cli/common.c), the server to an HTTP
 * status.  Messages speak of fields and values, never of how a front end
 * lets the user give them (no command-line options, no URLs).
 */
#ifndef JIKO_ERROR_H
#define JIKO_ERROR_H

#include <stddef.h>

/* What sort of failure; JIKO_ERR_NONE when the record is clear. */
typedef enum jiko_error_kind {
    JIKO_ERR_NONE = 0,
    JIKO_ERR_INVALID,   /* bad input: a record, a value, a request; fix it and send again */
    JIKO_ERR_NOT_FOUND, /* what was asked for does not exist */
    JIKO_ERR_CONFLICT,  /* contradicts what is stored (e.g. an ambiguous id) */
    JIKO_ERR_RETRY,     /* transient (deadlock, serialization failure): do it again */
    JIKO_ERR_IO,        /* a file or stream could not be read or written */
    JIKO_ERR_NOMEM,     /* out of memory */
    JIKO_ERR_CONFIG,    /* rulebooks, catalogs, published figures, configuration */
    JIKO_ERR_STORE,     /* the registry failed: database error, corruption, newer schema */
    JIKO_ERR_FORBIDDEN, /* not allowed to whoever asks (e.g. another operator's incident) */
} jiko_error_kind;

#define JIKO_ERR_KINDS 10

typedef struct jiko_error {
    jiko_error_kind kind;
    char file[256];    /* "" when not tied to a file */
    long line;         /* 1-based; 0 when not tied to a line */
    char field[96];    /* e.g. "services[1].users"; "" when not tied to a field */
    char message[512]; /* what was wrong and what was expected */
} jiko_error;

/* Clear an error record. */
void error_clear(jiko_error *e);

/* Fill an error record; `file` and `field` may be NULL. */
void error_set(jiko_error *e, jiko_error_kind kind, const char *file, long line,
               const char *field, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* "out of memory" of kind JIKO_ERR_NOMEM, with what was being done. */
void error_nomem(jiko_error *e, const char *doing);

/* The kind's stable name: "invalid", "not_found", "conflict", "retry", "io",
 * "out_of_memory", "config", "store", "forbidden" ("none" for JIKO_ERR_NONE).
 * API error codes use these. */
const char *error_kind_name(jiko_error_kind kind);

/* Room for any formatted error: file, line, field and message. */
#define ERROR_TEXT_MAX (sizeof(((jiko_error *)0)->file) + sizeof(((jiko_error *)0)->field) + \
                        sizeof(((jiko_error *)0)->message) + 64)

/* "file:line: field 'x': message" (parts left out when absent). Returns buf. */
const char *error_format(const jiko_error *e, char *buf, size_t size);

#endif
