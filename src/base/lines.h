/*
 * lines.h — reading text input line by line, telling the end of the input
 * from a failure.
 *
 * getline returns -1 both at the end of a file and when it fails; a loop
 * that stops on -1 takes a line too long to hold in memory, or a read error,
 * for the end of the input and silently drops every line after it.  Every
 * line-oriented reader in jiko goes through lines_next instead.
 */
#ifndef JIKO_LINES_H
#define JIKO_LINES_H

#include <stdio.h>
#include <sys/types.h>

#include "error.h"

typedef struct lines {
    FILE *fp;
    const char *name; /* what errors call the input */
    char *buf;
    size_t cap;
    long lineno; /* of the line last returned, 1-based */
} lines;

void lines_init(lines *l, FILE *fp, const char *name);

/* The next line in *s (NUL-terminated, its line end kept) and its length
 * in *len.  1: a line; 0: the end of the input; -1: the input could not be
 * read (err: JIKO_ERR_IO naming the input and the line, or JIKO_ERR_NOMEM
 * when a line is too long to hold in memory). */
int lines_next(lines *l, char **s, size_t *len, jiko_error *err);

void lines_free(lines *l);

#endif
