/* outfile.c — all-or-nothing output files (see outfile.h). */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool outfile_same(const char *a, const char *b)
{
    struct stat sa, sb;
    return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

int outfile_open(outfile *o, const char *path, const char *const *guard, const char *field,
                 jiko_error *err)
{
    memset(o, 0, sizeof *o);
    if (!path || strcmp(path, "-") == 0) {
        o->fp = stdout;
        return 0;
    }
    for (size_t i = 0; guard && guard[i]; i++)
        if (outfile_same(path, guard[i])) {
            error_set(err, JIKO_ERR_INVALID, path, 0, field,
                      "is %s, which this command reads; write the output elsewhere", guard[i]);
            return -1;
        }
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        error_set(err, JIKO_ERR_IO, path, 0, field, "is a directory");
        return -1;
    }
    size_t n = strlen(path);
    o->path = strdup(path);
    o->tmp = malloc(n + sizeof ".tmp-XXXXXX");
    if (!o->path || !o->tmp) {
        outfile_abort(o);
        error_nomem(err, "opening the output");
        return -1;
    }
    memcpy(o->tmp, path, n);
    memcpy(o->tmp + n, ".tmp-XXXXXX", sizeof ".tmp-XXXXXX");
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        error_set(err, JIKO_ERR_IO, path, 0, NULL, "cannot write: %s", strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        outfile_abort(o);
        return -1;
    }
    /* mkstemp makes it 0600; an output file gets the usual mode */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    o->fp = fdopen(fd, "w");
    if (!o->fp) {
        error_set(err, JIKO_ERR_IO, path, 0, NULL, "cannot write: %s", strerror(errno));
        close(fd);
        outfile_abort(o);
        return -1;
    }
    return 0;
}

int outfile_commit(outfile *o, jiko_error *err)
{
    if (!o->path) { /* standard output: the caller's final flush checks it */
        o->fp = NULL;
        return 0;
    }
    errno = 0;
    bool bad = fflush(o->fp) != 0 || ferror(o->fp);
    int e = errno;
    if (!bad && fsync(fileno(o->fp)) != 0) {
        bad = true;
        e = errno;
    }
    if (fclose(o->fp) != 0 && !bad) {
        bad = true;
        e = errno;
    }
    o->fp = NULL;
    if (!bad && rename(o->tmp, o->path) != 0) {
        bad = true;
        e = errno;
    }
    if (bad) {
        error_set(err, JIKO_ERR_IO, o->path, 0, NULL, "write failed%s%s; the file is unchanged",
                  e ? ": " : "", e ? strerror(e) : "");
        outfile_abort(o);
        return -1;
    }
    free(o->tmp);
    free(o->path);
    o->tmp = o->path = NULL;
    return 0;
}

void outfile_abort(outfile *o)
{
    if (o->fp && o->fp != stdout)
        fclose(o->fp);
    if (o->tmp)
        unlink(o->tmp);
    free(o->tmp);
    free(o->path);
    memset(o, 0, sizeof *o);
}
