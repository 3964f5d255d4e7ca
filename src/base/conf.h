/*
 * conf.h — the readable key file format shared by rulebooks and catalogs.
 *
 *     # a comment; also after a value, preceded by a blank: "2h   # why"
 *     [type name]          a section: a type word and an optional name
 *     key = value          entries; a key may repeat (e.g. several thresholds)
 *
 * The format is deliberately small so that a compliance officer can read and
 * review a rulebook without knowing any programming language.  Every section
 * and entry remembers its line, so the modules interpreting it (rules.c,
 * catalog.c) can report "file:line: ..." errors.
 */
#ifndef JIKO_CONF_H
#define JIKO_CONF_H

#include <stddef.h>

#include "error.h"

typedef struct conf_entry {
    char *key;
    char *value;
    long line;
} conf_entry;

typedef struct conf_section {
    char *type; /* word before the first blank inside [...] */
    char *name; /* rest of the header, trimmed; "" when absent */
    long line;
    conf_entry *entries;
    size_t n_entries, cap_entries;
} conf_section;

typedef struct conf_file {
    char *path;
    conf_section *sections;
    size_t n_sections, cap_sections;
} conf_file;

/* Parse text (need not be NUL-terminated). `path` names it in errors.
 * On failure `out` is left empty (nothing to free). */
int conf_parse(const char *text, size_t len, const char *path, conf_file *out, jiko_error *err);

/* Read and parse a file. */
int conf_load(const char *path, conf_file *out, jiko_error *err);

void conf_free(conf_file *f);

/* First value of `key` in a section, or NULL. */
const conf_entry *conf_get(const conf_section *s, const char *key);

#endif
