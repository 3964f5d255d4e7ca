/*
 * fuzz_check.h — invariants every ingest sink may rely on (see sample.h),
 * checked on each sample the fuzz targets receive; a violation aborts, which
 * libFuzzer reports as a crash.  Header-only: shared by the two targets.
 */
#ifndef JIKO_FUZZ_CHECK_H
#define JIKO_FUZZ_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "sample.h"
#include "utf8.h"

static void fuzz_check_text(const char *s, size_t n)
{
    if (n && !s)
        abort();
    if (memchr(s, 0, n) || !utf8_valid(s, n))
        abort();
}

static int fuzz_check_sample(void *ctx, const ingest_sample *s)
{
    (void)ctx;
    if (!s->metric_len || s->n_labels > INGEST_MAX_LABELS)
        abort();
    fuzz_check_text(s->metric, s->metric_len);
    for (size_t i = 0; i < s->n_labels; i++) {
        const ingest_label *l = &s->labels[i];
        if (!l->name_len || !l->value_len)
            abort();
        fuzz_check_text(l->name, l->name_len);
        fuzz_check_text(l->value, l->value_len);
        if (i && ingest_name_cmp(s->labels[i - 1].name, s->labels[i - 1].name_len, l->name,
                                 l->name_len) >= 0)
            abort(); /* not sorted, or a duplicate */
    }
    return 0;
}

static int fuzz_check_error(void *ctx, const ingest_error *e)
{
    (void)ctx;
    char buf[ERROR_TEXT_MAX];
    ingest_error_format(e, buf, sizeof buf);
    if (!e->e.message[0] || !utf8_valid(buf, strlen(buf)))
        abort(); /* every error says something, in text a log or JSON accepts */
    if (e->text && e->text_len)
        (void)((volatile const char *)e->text)[e->text_len - 1]; /* in bounds (ASan) */
    return 0;
}

#endif
