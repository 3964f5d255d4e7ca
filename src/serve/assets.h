/*
 * assets.h — the dashboard's files (web/: HTML, CSS, JavaScript without a
 * build step, and uPlot from npm), read once when the server starts and
 * answered from memory.
 *
 * Read at start rather than on each request: the dashboard's first paint
 * must not wait for the disk, a file changed under a running server cannot
 * be half-read, and nothing of the file system beyond the two directories
 * named in the config is ever reachable by a request (no path is joined
 * from a URL).  Only regular files with a known type are taken, each at
 * most ASSETS_FILE_MAX bytes.
 */
#ifndef JIKO_ASSETS_H
#define JIKO_ASSETS_H

#include <stddef.h>

#include "error.h"

#define ASSETS_FILE_MAX (4L << 20)
#define ASSETS_MAX 64

typedef struct asset {
    char name[64];      /* "index.html", "uPlot.iife.min.js" */
    const char *type;   /* Content-Type */
    char etag[24];      /* "\"<16 hex digits>\"": a hash of the content */
    char *body;
    size_t len;
} asset;

typedef struct assets {
    asset files[ASSETS_MAX];
    size_t n;
    int vendor_missing; /* uPlot was not found: the dashboard draws no charts */
} assets;

/* Read every file of web_dir, then uPlot's two files from vendor_dir (its
 * dist/ directory; missing ones only set vendor_missing).  0, or -1 with
 * err (web_dir unreadable, a file too large, too many files). */
int assets_load(assets *a, const char *web_dir, const char *vendor_dir, jiko_error *err);

/* The file of that name, or NULL. */
const asset *assets_find(const assets *a, const char *name);

void assets_free(assets *a);

#endif
