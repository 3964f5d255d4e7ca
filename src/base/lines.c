/* lines.c — line reading that tells failure from the end (see lines.h). */
#include "lines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void lines_init(lines *l, FILE *fp, const char *name)
{
    memset(l, 0, sizeof *l);
    l->fp = fp;
    l->name = name;
}

int lines_next(lines *l, char **s, size_t *len, jiko_error *err)
{
    errno = 0;
    ssize_t n = getline(&l->buf, &l->cap, l->fp);
    if (n >= 0) {
        l->lineno++;
        *s = l->buf;
        *len = (size_t)n;
        return 1;
    }
    int e = errno;
    if (feof(l->fp) && !ferror(l->fp))
        return 0;
    if (e == ENOMEM || e == EOVERFLOW)
        error_set(err, JIKO_ERR_NOMEM, l->name, l->lineno + 1, NULL,
                  "line too long to hold in memory; nothing after it was read");
    else
        error_set(err, JIKO_ERR_IO, l->name, l->lineno + 1, NULL,
                  "read error: %s; nothing after it was read", strerror(e ? e : EIO));
    return -1;
}

void lines_free(lines *l)
{
    free(l->buf);
    l->buf = NULL;
    l->cap = 0;
}
