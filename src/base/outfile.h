/*
 * outfile.h — writing an output file all or nothing.
 *
 * The output goes to a temporary file beside the target (same directory,
 * so the rename cannot cross file systems); every write is checked by the
 * stream's error flag, and only when the whole output is flushed, synced
 * and closed without error does the temporary file take the target's name.
 * A failure (full disk, I/O error) leaves the old file as it was and no
 * half-written one.  Standard output ("-" or no path) is written directly.
 */
#ifndef JIKO_OUTFILE_H
#define JIKO_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"

typedef struct outfile {
    FILE *fp;      /* write here */
    char *path;    /* the target; NULL for standard output */
    char *tmp;     /* the temporary file */
} outfile;

/* Open for writing.  `guard` lists paths the output must not replace (the
 * inputs, the registry), NULL-terminated, may be NULL: naming one of them
 * (the same file, by device and inode) is JIKO_ERR_INVALID on field
 * `field`.  Other failures: JIKO_ERR_IO. */
int outfile_open(outfile *o, const char *path, const char *const *guard, const char *field,
                 jiko_error *err);

/* Finish: flush, check, sync, close and rename into place.  -1 (JIKO_ERR_IO,
 * naming the target) when anything failed; the target is then unchanged. */
int outfile_commit(outfile *o, jiko_error *err);

/* Give up: the target is unchanged and the temporary file removed. */
void outfile_abort(outfile *o);

/* Whether two paths name the same existing file. */
bool outfile_same(const char *a, const char *b);

#endif
