/*
 * import_text.c — storing a text held in memory in one transaction (see
 * import.h).
 *
 * The server's POST carries one incident or a few JSON Lines, and its
 * answer says what became of each record: all of them are parsed first,
 * then the valid ones are stored in one transaction, which is replayed as
 * a whole when PostgreSQL aborts it as retryable.  No ring, no threads: a
 * request body is small, and a caller that answers per record needs every
 * result before it answers anyway.
 */
#include "import.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One record's text in the working copy, for storing it. */
typedef struct piece {
    const char *text;
    size_t len;
} piece;

static bool is_blank_char(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Drop the whitespace between the tokens of valid JSON, in place; returns
 * the new length (and terminates the text there).  Only whitespace outside strings goes, so the value and
 * every byte of its strings are kept; in valid JSON no two tokens need a
 * space between them (scalars are always separated by , : [ ] { }). */
static size_t compact_json(char *s, size_t len)
{
    size_t o = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            s[o++] = c;
            if (c == '\\' && i + 1 < len)
                s[o++] = s[++i];
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
            s[o++] = c;
        } else if (!is_blank_char(c)) {
            s[o++] = c;
        }
    }
    s[o] = '\0';
    return o;
}

/* Whether the text is one JSON object or array written over several lines
 * (a pretty-printed incident) rather than JSON Lines; [*start, *end) is the
 * value and *line the line it starts on.  Decided by the text's structure
 * alone (brackets outside strings), without parsing or allocating: a
 * bracketed value followed by nothing but whitespace is one record, whose
 * JSON intake_record then judges, so a pretty-printed incident with a typo
 * is one rejected record rather than a rejection per line, and running out
 * of memory cannot turn it into lines.  A text with one non-blank line is
 * JSON Lines of one record, stored exactly as import_stream would store it. */
static bool one_value(const char *buf, size_t len, size_t *start, size_t *end, long *line)
{
    size_t i = 0;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    long lineno = 1;
    for (; i < len && is_blank_char(buf[i]); i++)
        lineno += buf[i] == '\n';
    if (i == len || (buf[i] != '{' && buf[i] != '['))
        return false;
    size_t depth = 0, j;
    bool in_string = false, lines = false;
    for (j = i; j < len; j++) {
        char c = buf[j];
        if (in_string) {
            if (c == '\\')
                j++;
            else if (c == '"')
                in_string = false;
            else if (c == '\n')
                return false; /* not JSON: a string never spans lines */
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0)
                break;
        } else if (c == '\n') {
            lines = true;
        }
    }
    if (j >= len || !lines)
        return false;
    for (size_t k = j + 1; k < len; k++)
        if (!is_blank_char(buf[k]))
            return false;
    *start = i;
    *end = j + 1;
    *line = lineno;
    return true;
}

/* Parse, validate and classify one record into r (r->ok: accepted). */
static void take(const intake_opts *io, const char *text, size_t len, const char *name,
                 long line, const char *only_op, import_result *r)
{
    r->line = line;
    r->ok = false;
    if (intake_record(io, text, len, name, line, &r->inc, &r->res, &r->err))
        return;
    if (only_op && strcmp(r->inc.op, only_op) != 0) {
        error_set(&r->err, JIKO_ERR_FORBIDDEN, name, line, "operator",
                  "the token may write only incidents of operator '%s', not '%s'", only_op,
                  r->inc.op);
        incident_free(&r->inc);
        return;
    }
    r->ok = true;
}

static void provenance(char *buf, size_t size, const char *reason, const char *name, long line)
{
    if (reason)
        snprintf(buf, size, "%s (from %s:%ld)", reason, name, line);
    else
        snprintf(buf, size, "imported from %s:%ld", name, line);
}

/* One attempt at the transaction: every valid record, then the commit. */
static int store_all(store *db, const intake_opts *io, import_results *out, const piece *pc,
                     const char *name, const char *reason, jiko_error *err)
{
    out->counts.stored = out->counts.amended = out->counts.unchanged = 0;
    if (store_begin(db, err))
        return -1;
    for (long i = 0; i < out->n; i++) {
        import_result *r = &out->r[i];
        if (!r->ok)
            continue;
        char why[IMPORT_REASON_MAX];
        provenance(why, sizeof why, reason, name, r->line);
        if (store_put(db, &r->inc, &r->res, pc[i].text, pc[i].len, why, io->now_ms, &r->outcome,
                      &r->version, err)) {
            /* name the record the registry could not take */
            if (!err->file[0]) {
                snprintf(err->file, sizeof err->file, "%s", name);
                err->line = r->line;
            }
            return -1;
        }
        if (r->outcome == STORE_STORED)
            out->counts.stored++;
        else if (r->outcome == STORE_AMENDED)
            out->counts.amended++;
        else
            out->counts.unchanged++;
    }
    return store_commit(db, err);
}

int import_text(store *db, const intake_opts *io, const char *text, size_t len, const char *name,
                const char *reason, const char *only_op, import_results *out, jiko_error *err)
{
    memset(out, 0, sizeof *out);
    /* A working copy: intake_line terminates each line in place, and a
     * pretty-printed record is compacted in place. */
    char *buf = malloc(len + 1);
    if (!buf) {
        error_nomem(err, "reading the records");
        return -1;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    long cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += buf[i] == '\n';
    size_t start = 0, end = 0;
    long first_line = 1;
    bool single = one_value(buf, len, &start, &end, &first_line);
    if (single)
        cap = 1;
    out->r = calloc((size_t)cap, sizeof *out->r);
    piece *pc = calloc((size_t)cap, sizeof *pc);
    if (!out->r || !pc) {
        free(buf);
        free(pc);
        import_results_free(out);
        error_nomem(err, "reading the records");
        return -1;
    }
    if (single) {
        import_result *r = &out->r[out->n++];
        take(io, buf + start, end - start, name, first_line, only_op, r);
        /* stored as one line; compacted only once jansson has read it as
         * valid JSON, where dropping the whitespace between tokens cannot
         * change what it says (in "1 2" it would) */
        if (r->ok)
            pc[0] = (piece){buf + start, compact_json(buf + start, end - start)};
    } else {
        long lineno = 0;
        for (size_t pos = 0; pos < len;) {
            char *s = buf + pos;
            const char *nl = memchr(s, '\n', len - pos);
            size_t l = nl ? (size_t)(nl - s) + 1 : len - pos;
            pos += l;
            lineno++;
            if (!intake_line(&s, &l, lineno))
                continue;
            pc[out->n] = (piece){s, l};
            take(io, s, l, name, lineno, only_op, &out->r[out->n++]);
        }
    }
    for (long i = 0; i < out->n; i++)
        out->counts.rejected += !out->r[i].ok;
    int rc = 0;
    if (out->counts.rejected < out->n) {
        /* xorshift for the pauses between attempts, seeded per call (no
         * state shared between calls or threads) */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)io->now_ms ^ (uint64_t)(uintptr_t)out;
        rng |= 1;
        rc = store_all(db, io, out, pc, name, reason, err);
        for (int attempt = 0; rc; attempt++) {
            jiko_error ignore;
            store_rollback(db, &ignore);
            if (err->kind != JIKO_ERR_RETRY || attempt == IMPORT_RETRY_ATTEMPTS)
                break;
            /* a random pause, so that the conflicting writers do not meet
             * again at once */
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            struct timespec pause = {0, 1000000L * (1 + (long)(rng % IMPORT_RETRY_PAUSE_MAX_MS))};
            nanosleep(&pause, NULL);
            rc = store_all(db, io, out, pc, name, reason, err);
        }
    }
    free(pc);
    free(buf);
    if (rc) {
        import_results_free(out);
        return -1;
    }
    return 0;
}

void import_results_free(import_results *r)
{
    for (long i = 0; r->r && i < r->n; i++)
        if (r->r[i].ok)
            incident_free(&r->r[i].inc);
    free(r->r);
    memset(r, 0, sizeof *r);
}
