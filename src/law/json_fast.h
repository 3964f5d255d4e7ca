/*
 * json_fast.h — a fast path for parsing the common incident record into
 * jansson values.
 *
 * jansson's reader handles every byte through a buffered stream and a
 * growing token buffer: about 160 instructions per byte, most of `jiko
 * import`'s CPU.  This parser builds the same jansson values (objects with
 * keys in input order, arrays, strings, integers, true/false/null) directly
 * from the buffer, but only for plain input: a JSON object holding strings
 * (valid UTF-8; escapes other than \u), integers of at most 18 digits,
 * literals, and objects and arrays nested at most 32 deep, with unescaped
 * keys that occur once.  For anything else — invalid JSON, a duplicate key,
 * a number with a fraction or exponent, \u escapes, deep nesting — it
 * returns NULL without judging, and the caller parses with json_loadb, so
 * errors and edge cases are exactly jansson's.  Whatever it accepts, jansson
 * accepts as an equal value (fuzz/fuzz_incident.c checks this).
 */
#ifndef JIKO_JSON_FAST_H
#define JIKO_JSON_FAST_H

#include <jansson.h>
#include <stddef.h>

/* The object in text[0..len), or NULL: parse it with json_loadb instead. */
json_t *json_fast_loadb(const char *text, size_t len);

/* json_string(s), with the same result (NULL when s is NULL or not UTF-8),
 * but checked by utf8_valid, eight ASCII bytes at a time, instead of
 * jansson's call per character: that check was a fifth of the instructions
 * of a classification's JSON, whose reasons are long Japanese text. */
json_t *json_fast_string(const char *s);

#endif
