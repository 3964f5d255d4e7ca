/* assets.c — the dashboard's files, read once (assets.h). */
#include "assets.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fnv.h"
static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
};

static const char *type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

/* Read dir/name into the next place.  0 taken, 1 skipped (not a regular
 * file, no known type, or missing when `optional`), -1 with err. */
static int take(assets *a, const char *dir, const char *name, bool optional, jiko_error *err)
{
    const char *type = type_of(name);
    if (!type || name[0] == '.' || strlen(name) >= sizeof a->files[0].name)
        return 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    if (stat(path, &st) != 0) {
        if (optional && errno == ENOENT)
            return 1;
        error_set(err, JIKO_ERR_IO, path, 0, "web", "cannot read: %s", strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode))
        return 1;
    if (st.st_size > ASSETS_FILE_MAX) {
        error_set(err, JIKO_ERR_CONFIG, path, 0, "web", "larger than %ld bytes: not a dashboard file",
                  ASSETS_FILE_MAX);
        return -1;
    }
    if (a->n == ASSETS_MAX) {
        error_set(err, JIKO_ERR_CONFIG, dir, 0, "web", "more than %d dashboard files", ASSETS_MAX);
        return -1;
    }
    FILE *f = fopen(path, "rb");
    asset *x = &a->files[a->n];
    x->body = malloc((size_t)st.st_size + 1);
    if (!f || !x->body) {
        if (f)
            fclose(f);
        free(x->body);
        x->body = NULL;
        if (!f)
            error_set(err, JIKO_ERR_IO, path, 0, "web", "cannot read: %s", strerror(errno));
        else
            error_nomem(err, "reading the dashboard's files");
        return -1;
    }
    x->len = fread(x->body, 1, (size_t)st.st_size, f);
    int bad = ferror(f) || x->len != (size_t)st.st_size;
    fclose(f);
    if (bad) {
        free(x->body);
        x->body = NULL;
        error_set(err, JIKO_ERR_IO, path, 0, "web", "cannot read the whole file");
        return -1;
    }
    snprintf(x->name, sizeof x->name, "%s", name);
    x->type = type;
    snprintf(x->etag, sizeof x->etag, "\"%016llx\"", (unsigned long long)fnv1a64(FNV1A64_OFFSET, x->body, x->len));
    a->n++;
    return 0;
}

int assets_load(assets *a, const char *web_dir, const char *vendor_dir, jiko_error *err)
{
    memset(a, 0, sizeof *a);
    DIR *d = opendir(web_dir);
    if (!d) {
        error_set(err, JIKO_ERR_IO, web_dir, 0, "web", "cannot read the dashboard's directory: %s",
                  strerror(errno));
        return -1;
    }
    struct dirent *de;
    int rc = 0;
    while (!rc && (de = readdir(d)))
        rc = take(a, web_dir, de->d_name, false, err) < 0 ? -1 : 0;
    closedir(d);
    static const char *const vendor[] = {"uPlot.iife.min.js", "uPlot.min.css"};
    for (size_t i = 0; !rc && i < sizeof vendor / sizeof vendor[0]; i++) {
        int t = vendor_dir ? take(a, vendor_dir, vendor[i], true, err) : 1;
        if (t < 0)
            rc = -1;
        else if (t == 1)
            a->vendor_missing = 1;
    }
    if (rc)
        assets_free(a);
    return rc;
}

const asset *assets_find(const assets *a, const char *name)
{
    for (size_t i = 0; a && i < a->n; i++)
        if (strcmp(a->files[i].name, name) == 0)
            return &a->files[i];
    return NULL;
}

void assets_free(assets *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->files[i].body);
    a->n = 0;
}
