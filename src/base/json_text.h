/*
 * json_text.h — compact JSON text of jansson values, fast, into memory of
 * the caller's (free()).
 *
 * jansson's json_dumps writes through a callback per piece and escapes
 * strings one code point at a time: for the server's answer to GET
 * /api/v1/incidents/{operator}/{id} it was a quarter of the instructions
 * (tests/test_json_text.c and docs/serve-performance.md).  This writer
 * produces the same bytes as json_dumps(v, JSON_COMPACT) with the installed
 * jansson (2.14, whose objects keep their keys in insertion order, so
 * JSON_PRESERVE_ORDER changes nothing), copying runs of plain bytes at once.
 * Reals are handed to jansson's own formatting, so their text is jansson's
 * too.
 *
 * Its text is ordinary heap memory, also where a process installed the
 * jansson allocation hook of json_arena.h (json_dumps' text is then not
 * free()'s to free), so that servers and commands can use it alike.
 */
#ifndef JIKO_JSON_TEXT_H
#define JIKO_JSON_TEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* A growing text.  Zero-initialise; after a failure every append
 * is ignored and json_text_take returns NULL. */
typedef struct json_text {
    char *s;
    size_t len, cap;
    bool failed; /* out of memory, or a value nested beyond reason */
} json_text;

/* Append n bytes as they are (already JSON, or punctuation). */
void json_text_raw(json_text *t, const char *s, size_t n);

/* Append a NUL-terminated text as they are. */
void json_text_lit(json_text *t, const char *s);

/* Append the JSON string of n bytes of UTF-8 text, quoted and escaped as
 * jansson escapes (\" \\ \b \f \n \r \t, other controls as \u00XX). */
void json_text_str(json_text *t, const char *s, size_t n);

/* Append a value, compact: jansson's JSON_COMPACT text of it.  `flags` may
 * add JSON_REAL_PRECISION(n) for reals. */
void json_text_value(json_text *t, const json_t *v, size_t flags);

/* The text (NUL-terminated; *len without the NUL when len is not NULL),
 * now the caller's to free(); NULL after a failure (the buffer is
 * freed).  The json_text is empty again. */
char *json_text_take(json_text *t, size_t *len);

/* Release the text without taking it. */
void json_text_free(json_text *t);

/* json_dumps(v, JSON_COMPACT | flags) into heap memory, with a newline at the
 * end when `newline`: NULL when out of memory. */
char *json_text_of(const json_t *v, size_t flags, bool newline, size_t *len);

#endif
