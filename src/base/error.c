/* error.c — filling and formatting jiko_error records (see error.h). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void error_clear(jiko_error *e)
{
    if (e)
        memset(e, 0, sizeof *e);
}

void error_set(jiko_error *e, jiko_error_kind kind, const char *file, long line,
               const char *field, const char *fmt, ...)
{
    if (!e)
        return;
    e->kind = kind;
    snprintf(e->file, sizeof e->file, "%s", file ? file : "");
    e->line = line;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

const char *error_format(const jiko_error *e, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    if (e->file[0])
        n += (size_t)snprintf(buf + n, size - n, "%s:", e->file);
    if (n < size && e->line > 0)
        n += (size_t)snprintf(buf + n, size - n, "%ld:", e->line);
    if (n < size && n > 0)
        n += (size_t)snprintf(buf + n, size - n, " ");
    if (n < size && e->field[0])
        n += (size_t)snprintf(buf + n, size - n, "field '%s': ", e->field);
    if (n < size)
        snprintf(buf + n, size - n, "%s", e->message);
    return buf;
}

void error_nomem(jiko_error *e, const char *doing)
{
    if (doing && *doing)
        error_set(e, JIKO_ERR_NOMEM, NULL, 0, NULL, "out of memory while %s", doing);
    else
        error_set(e, JIKO_ERR_NOMEM, NULL, 0, NULL, "out of memory");
}

_Static_assert(JIKO_ERR_FORBIDDEN + 1 == JIKO_ERR_KINDS, "error_kind_name has a name for every kind");

const char *error_kind_name(jiko_error_kind kind)
{
    static const char *const names[JIKO_ERR_KINDS] = {
        "none", "invalid", "not_found", "conflict", "retry", "io", "out_of_memory", "config",
        "store", "forbidden"};
    return (unsigned)kind < JIKO_ERR_KINDS ? names[kind] : "unknown";
}
