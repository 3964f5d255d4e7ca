/*
 * import.h — storing a stream of incident records in the registry: every
 * record through the intake pipeline (intake.h), the valid ones stored in
 * batches of one transaction each, the rejected ones reported in input order.
 *
 * A batch is committed when it is full or its file ends, so a crash loses
 * at most the batch in flight, which was never reported as committed.  A
 * batch that the backend aborts as retryable (a PostgreSQL deadlock or
 * serialization failure) is rolled back and stored again after a short
 * random pause.  Each stored version records its provenance: "imported from
 * FILE:LINE", or for an amendment "amended: REASON (from FILE:LINE)".
 *
 * Records are parsed and classified on two threads while a third stores
 * them (import.c says why); the callbacks come from the storing thread,
 * except on_progress, which comes from the caller's.
 *
 * import_text stores a text held in memory (a request body) in one
 * transaction on the caller's thread, with a result per record.
 */
#ifndef JIKO_IMPORT_H
#define JIKO_IMPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "intake.h"
#include "store.h"

#define IMPORT_BATCH_DEFAULT 1000  /* records per transaction */
#define IMPORT_BATCH_MAX 1000000
#define IMPORT_RETRY_ATTEMPTS 8    /* a retryable batch is stored again this often */
#define IMPORT_RETRY_PAUSE_MAX_MS 50 /* random pause of 1..this before each retry */
#define IMPORT_REASON_MAX 600      /* provenance text of one version */
#define IMPORT_PROGRESS_SECONDS 0.5 /* on_progress at most this often */

typedef struct import_opts {
    store *db;
    intake_opts intake; /* catalog, rulebooks, the current time */
    long batch_size;    /* 1..IMPORT_BATCH_MAX */
    /* Amending one incident: every record must have this id, and the
     * incident must be stored already (else JIKO_ERR_NOT_FOUND from
     * import_open).  NULL for an import. */
    const char *amend_id, *amend_op, *amend_reason;
    /* What happens, as it happens (any may be NULL). */
    void (*on_reject)(void *ctx, const jiko_error *why);
    void (*on_commit)(void *ctx, long batch_no, const char *file, long first_line,
                      long last_line);
    void (*on_progress)(void *ctx, const char *file, long records, double seconds, bool final);
    void *ctx;
} import_opts;

typedef struct import_counts {
    long stored, amended, unchanged, rejected;
} import_counts;

typedef struct import_run import_run;

/* Start an import (threads included).  Fails with JIKO_ERR_INVALID for a
 * bad batch size, JIKO_ERR_NOT_FOUND when the incident to amend is not
 * stored, or the registry's or the system's error. */
int import_open(import_run **out, const import_opts *o, jiko_error *err);

/* Import one JSON Lines stream; `name` names it in errors and provenance.
 * Returns 0 when it was read to its end (rejected records included: they
 * went to on_reject); -1 with err filled when it could not be read to its
 * end (JIKO_ERR_IO, or JIKO_ERR_NOMEM for a line too long to hold: the
 * records before it are stored, the import may go on with the next stream)
 * or when the registry failed (JIKO_ERR_STORE and others: nothing more will
 * be stored).  import_failed() tells the two apart. */
int import_stream(import_run *im, FILE *fp, const char *name, jiko_error *err);

/* Whether the registry failed: nothing more can be stored. */
bool import_failed(import_run *im);

/* Finish: commit what is pending, stop the threads, free everything, and
 * give the counts.  Returns -1 with err filled when a write failed. */
int import_close(import_run *im, import_counts *counts, jiko_error *err);

/* ---- a request body, in one transaction (the server's POST) ------------- */

/* What became of one record of an import_text. */
typedef struct import_result {
    long line;             /* 1-based line in the text where the record starts */
    bool ok;               /* false: rejected, see err */
    incident inc;          /* when ok (owned by the import_results) */
    classify_result res;   /* when ok */
    store_outcome outcome; /* when ok */
    int version;           /* when ok: the incident's current version after storing */
    jiko_error err;        /* when !ok: why (kind JIKO_ERR_INVALID, JIKO_ERR_FORBIDDEN for
                            * another operator's record, JIKO_ERR_NOMEM) */
} import_result;

/* Every record of an import_text, in text order. */
typedef struct import_results {
    import_result *r;
    long n;
    import_counts counts;
} import_results;

/* Store every record of `text` (`len` bytes, NUL not needed) in ONE
 * transaction, without threads: all or nothing for the valid records.  The
 * text is one record when it is one JSON object (or array) spanning several
 * lines, followed by nothing but whitespace — a pretty-printed incident,
 * even one with a JSON mistake inside, which is then rejected as one
 * record; else JSON Lines.  Each record goes through
 * intake_record exactly as in import_stream: the same validation and
 * wording, a byte order mark dropped from line 1, blank lines skipped, a
 * record's text stored as given (a pretty-printed one without the
 * whitespace between its tokens, so that it stays one line of JSON Lines).
 * `name` names the text in errors and provenance; each stored version's
 * provenance is "REASON (from NAME:LINE)", or "imported from NAME:LINE"
 * when `reason` is NULL (e.g. "posted to the API by token t_ab12 (from
 * request:3)").  `only_op`, when not NULL, rejects a record of another
 * operator (kind JIKO_ERR_FORBIDDEN, field "operator").  Rejected records do
 * not stop the others.  A transaction that PostgreSQL aborts as retryable
 * is stored again, up to IMPORT_RETRY_ATTEMPTS times, after a random pause.
 *
 * Returns 0 when the transaction committed: *out holds one result per
 * record (n = 0 for an empty text or one of blank lines only; every record
 * may have been rejected, then nothing was written).  Returns -1 with err
 * filled when the registry failed: nothing was stored, *out is empty.
 * Either way free *out with import_results_free.  Call it from one thread
 * per store; it needs no json_arena hook (the values are heap-allocated,
 * released by import_results_free). */
int import_text(store *db, const intake_opts *io, const char *text, size_t len, const char *name,
                const char *reason, const char *only_op, import_results *out, jiko_error *err);

void import_results_free(import_results *r);

#endif
