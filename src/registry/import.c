/*
 * import.c — storing a stream of incident records (see import.h).
 *
 * Three threads share the work.  The caller's thread reads lines into a
 * bounded ring and publishes them in chunks of CHUNK records; it and a
 * parser thread take published chunks in turn and parse, validate and
 * classify them (jansson parsing is most of the CPU, more than one core's
 * worth next to the writer); a writer thread stores the chunks strictly in
 * input order, so commits, batches and the order of error messages are
 * those of the input.  Rejected records travel through the ring too and are
 * reported by the writer, in line order.  Memory stays flat whatever the
 * input size.
 *
 * The ring lives here, not in a front end: it is how a stream is stored
 * fast and in order, which the command line and the server's bulk upload
 * both want, and its threads are tied to the writer's batches and retries.
 */
#include "import.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_arena.h"
#include "lines.h"

#define RING_SLOTS 512
#define CHUNK 64
/* The reader publishes at most CHUNK slots at once and waits for room when
 * the ring is full, so a chunk always fits in the ring. */
_Static_assert(CHUNK <= RING_SLOTS, "a chunk fits in the ring");

enum { ITEM_RECORD, ITEM_REJECTED, ITEM_END_OF_FILE, ITEM_END };

typedef struct item {
    int kind;
    incident inc;
    /* The record's jansson values: parsed into this slot's arena and
     * released at once when the reader reuses the slot, after the writer
     * has stored it (no per-value malloc/free). */
    json_arena arena;
    classify_result res;
    char *text;
    size_t len, cap;
    long line;
    const char *file;
    jiko_error *why; /* ITEM_REJECTED: the error to report (NULL: out of memory) */
} item;

/* A published run of ring slots [start, end), parsed or not yet. */
typedef struct chunk {
    size_t start, end;
    bool parsed;
} chunk;

struct import_run {
    import_opts o;
    char *amend_stored_op; /* amending: the operator the stored incident belongs to */
    /* The ring: slots are filled by the reader, parsed chunk by chunk, then
     * stored by the writer.  Counters only grow; index modulo the sizes.
     * Each chunk holds at least one slot, so RING_SLOTS chunks suffice. */
    item ring[RING_SLOTS];
    chunk chunks[RING_SLOTS];
    size_t n_published, n_claimed, n_stored; /* chunks, under mu */
    size_t tail;                             /* slots stored, under mu */
    pthread_mutex_t mu;
    pthread_cond_t parsed_cv, space_cv, work_cv;
    pthread_t writer_thread, parser_thread;
    bool stop;       /* no more chunks will be published: the parser may end */
    bool has_parser; /* the parser thread runs (else the reader parses all) */
    bool failed;     /* the writer hit an error it cannot retry: stop reading */
    jiko_error write_err; /* the writer's error, when failed */
    /* reader-side (no lock): slots filled, start of the open chunk, copies */
    size_t filled, chunk_start, seen_tail;
    bool seen_failed;
    /* writer state: the open batch, kept as text for a replay */
    char *batch_text;
    size_t batch_used, batch_cap;
    long *batch_off, *batch_line, n_batch, batch_no;
    bool keep_text; /* keep the batch's text for a replay (backends that may ask) */
    uint64_t rng;   /* xorshift state for retry back-off */
    const char *batch_file;
    long counts[3]; /* committed, by store_outcome */
    long rejected;
    /* reader state */
    const char *file;
    long seen;
    double t_start, t_last_progress;
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parse, check and classify one record; 0 ok, -1 rejected with err filled.
 * Called from several threads: reads only the shared settings. */
static int prepare(const import_run *im, item *it, const char *text, size_t len,
                   const char *file, long lineno, jiko_error *err)
{
    if (intake_record(&im->o.intake, text, len, file, lineno, &it->inc, &it->res, err))
        return -1;
    if (im->o.amend_id && strcmp(it->inc.id, im->o.amend_id) != 0) {
        error_set(err, JIKO_ERR_INVALID, file, lineno, "id",
                  "is \"%s\" but the incident to amend is \"%s\"", it->inc.id, im->o.amend_id);
        incident_free(&it->inc);
        return -1;
    }
    /* an amendment changes the stored incident; it never starts another
     * one under a different operator */
    if (im->amend_stored_op && strcmp(it->inc.op, im->amend_stored_op) != 0) {
        error_set(err, JIKO_ERR_INVALID, file, lineno, "operator",
                  "is \"%s\" but the incident to amend belongs to \"%s\"", it->inc.op,
                  im->amend_stored_op);
        incident_free(&it->inc);
        return -1;
    }
    return 0;
}

/* "imported from FILE:LINE" without printf, which cost the writer 5% of
 * its time at one reason per record; false when it might not fit (then
 * snprintf truncates as it always did). */
static bool fast_reason(char *buf, size_t size, const char *file, long line)
{
    static const char pre[] = "imported from ";
    size_t fl = strlen(file);
    if (line < 0 || sizeof pre + fl + 1 + 20 > size)
        return false;
    char digits[20];
    size_t nd = 0;
    unsigned long v = (unsigned long)line;
    do
        digits[nd++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    char *p = buf;
    memcpy(p, pre, sizeof pre - 1);
    p += sizeof pre - 1;
    memcpy(p, file, fl);
    p += fl;
    *p++ = ':';
    while (nd)
        *p++ = digits[--nd];
    *p = '\0';
    return true;
}

static void reason_for(const import_run *im, char *buf, size_t size, const char *file, long line)
{
    if (im->o.amend_id)
        snprintf(buf, size, "amended%s%s (from %s:%ld)", im->o.amend_reason ? ": " : "",
                 im->o.amend_reason ? im->o.amend_reason : "", file, line);
    else if (!fast_reason(buf, size, file, line))
        snprintf(buf, size, "imported from %s:%ld", file, line);
}

/* ---- writer thread ------------------------------------------------------ */

static int remember(import_run *im, const item *it)
{
    /* a full batch is committed before the next record joins it */
    assert(im->n_batch < im->o.batch_size);
    im->batch_line[im->n_batch] = it->line;
    im->batch_file = it->file;
    if (!im->keep_text) {
        im->n_batch++;
        return 0;
    }
    if (im->batch_used + it->len > im->batch_cap) {
        size_t nc = (im->batch_cap + it->len) * 2;
        char *p = realloc(im->batch_text, nc);
        if (!p)
            return -1;
        im->batch_text = p;
        im->batch_cap = nc;
    }
    memcpy(im->batch_text + im->batch_used, it->text, it->len);
    im->batch_off[im->n_batch] = (long)im->batch_used;
    im->batch_used += it->len;
    im->n_batch++;
    return 0;
}

/* Store the remembered batch again after a retryable failure: parse it anew
 * (the ring's copies are gone) in a fresh transaction. */
static int replay(import_run *im, long *counts, jiko_error *err)
{
    int rc = store_begin(im->o.db, err);
    for (long i = 0; rc == 0 && i < im->n_batch; i++) {
        long end = i + 1 < im->n_batch ? im->batch_off[i + 1] : (long)im->batch_used;
        const char *t = im->batch_text + im->batch_off[i];
        size_t len = (size_t)(end - im->batch_off[i]);
        item it;
        memset(&it, 0, sizeof it);
        jiko_error why;
        if (prepare(im, &it, t, len, im->batch_file, im->batch_line[i], &why))
            continue; /* cannot happen: it was valid a moment ago */
        char reason[IMPORT_REASON_MAX];
        reason_for(im, reason, sizeof reason, im->batch_file, im->batch_line[i]);
        store_outcome out;
        rc = store_put(im->o.db, &it.inc, &it.res, t, len, reason, im->o.intake.now_ms, &out, NULL,
                       err);
        if (rc == 0)
            counts[out]++;
        incident_free(&it.inc);
    }
    return rc;
}

/* After a retryable failure (a PostgreSQL deadlock or serialization failure
 * aborted the transaction), roll back, wait a random pause so that the
 * conflicting writers do not meet again, and store the whole batch anew;
 * `commit` also commits it. */
static int retry_batch(import_run *im, int rc, long *counts, bool commit, jiko_error *err)
{
    for (int attempt = 0; rc && err->kind == JIKO_ERR_RETRY && attempt < IMPORT_RETRY_ATTEMPTS;
         attempt++) {
        jiko_error ignore;
        store_rollback(im->o.db, &ignore);
        im->rng ^= im->rng << 13;
        im->rng ^= im->rng >> 7;
        im->rng ^= im->rng << 17;
        long pause_ms = 1 + (long)(im->rng % IMPORT_RETRY_PAUSE_MAX_MS);
        struct timespec ts = {0, 1000000L * pause_ms};
        nanosleep(&ts, NULL);
        memset(counts, 0, 3 * sizeof *counts);
        rc = replay(im, counts, err);
        if (rc == 0 && commit)
            rc = store_commit(im->o.db, err);
    }
    return rc;
}

static int commit_batch(import_run *im, long *counts, jiko_error *err)
{
    if (!im->n_batch)
        return 0;
    int rc = retry_batch(im, store_commit(im->o.db, err), counts, true, err);
    if (rc)
        return rc;
    for (int k = 0; k < 3; k++)
        im->counts[k] += counts[k];
    memset(counts, 0, 3 * sizeof *counts);
    im->batch_no++;
    if (im->o.on_commit)
        im->o.on_commit(im->o.ctx, im->batch_no, im->batch_file, im->batch_line[0],
                        im->batch_line[im->n_batch - 1]);
    im->n_batch = 0;
    im->batch_used = 0;
    return 0;
}

static int store_item(import_run *im, item *it, long *counts, jiko_error *err)
{
    if (im->n_batch == 0) {
        int rc = store_begin(im->o.db, err);
        if (rc)
            return rc;
    }
    if (remember(im, it)) {
        error_nomem(err, "keeping the batch for a retry");
        return -1;
    }
    char reason[IMPORT_REASON_MAX];
    reason_for(im, reason, sizeof reason, it->file, it->line);
    store_outcome out;
    int rc = store_put(im->o.db, &it->inc, &it->res, it->text, it->len, reason,
                       im->o.intake.now_ms, &out, NULL, err);
    if (rc == 0)
        counts[out]++;
    /* the replay stores the whole batch again, this record included */
    rc = retry_batch(im, rc, counts, false, err);
    if (rc == 0 && im->n_batch == im->o.batch_size)
        rc = commit_batch(im, counts, err);
    return rc;
}

static void *writer(void *arg)
{
    import_run *im = arg;
    long counts[3] = {0};
    jiko_error err;
    error_clear(&err);
    int rc = 0;
    bool done = false;
    while (!done) {
        /* Take every parsed chunk at the front at once: one lock per chunk
         * at most, not per record. */
        pthread_mutex_lock(&im->mu);
        while (im->n_stored == im->n_published || !im->chunks[im->n_stored % RING_SLOTS].parsed)
            pthread_cond_wait(&im->parsed_cv, &im->mu);
        size_t c = im->n_stored, c_end = c;
        while (c_end < im->n_published && im->chunks[c_end % RING_SLOTS].parsed)
            c_end++;
        pthread_mutex_unlock(&im->mu);
        size_t end = im->chunks[(c_end - 1) % RING_SLOTS].end;
        /* chunks are stored in the order they were published, back to back */
        assert(im->chunks[c % RING_SLOTS].start == im->tail);
        for (size_t i = im->chunks[c % RING_SLOTS].start; i < end && !done; i++) {
            item *it = &im->ring[i % RING_SLOTS];
            done = it->kind == ITEM_END;
            if (it->kind == ITEM_REJECTED) {
                /* reported here, by the one thread that sees records in
                 * input order */
                jiko_error nomem;
                if (!it->why) {
                    error_nomem(&nomem, NULL);
                    snprintf(nomem.file, sizeof nomem.file, "%s", it->file);
                    nomem.line = it->line;
                }
                if (im->o.on_reject)
                    im->o.on_reject(im->o.ctx, it->why ? it->why : &nomem);
                im->rejected++;
                continue;
            }
            if (rc == 0) {
                if (it->kind == ITEM_RECORD)
                    rc = store_item(im, it, counts, &err);
                else
                    rc = commit_batch(im, counts, &err);
                if (rc) {
                    jiko_error ignore;
                    store_rollback(im->o.db, &ignore);
                }
            }
            /* The slot's record is released by the reader when it reuses
             * the slot (json_arena_reset). */
        }
        pthread_mutex_lock(&im->mu);
        im->tail = end;
        im->n_stored = c_end;
        if (rc && !im->failed) {
            im->failed = true;
            im->write_err = err;
        }
        pthread_cond_signal(&im->space_cv);
        pthread_mutex_unlock(&im->mu);
    }
    return NULL;
}

/* ---- parsing (the caller's thread and the parser thread) ---------------- */

static void parse_chunk(import_run *im, const chunk *ch)
{
    jiko_error why;
    for (size_t i = ch->start; i < ch->end; i++) {
        item *it = &im->ring[i % RING_SLOTS];
        if (it->kind != ITEM_RECORD)
            continue;
        json_arena_use(&it->arena);
        int bad = prepare(im, it, it->text, it->len, it->file, it->line, &why);
        json_arena_use(NULL);
        if (bad) {
            it->kind = ITEM_REJECTED;
            it->why = malloc(sizeof *it->why); /* NULL: the writer says "out of memory" */
            if (it->why)
                *it->why = why;
        }
    }
}

/* Parse the oldest published chunk nobody has taken, when more than `leave`
 * wait; false when there is none.  Called with mu held; returns with it
 * held. */
static bool parse_one(import_run *im, size_t leave)
{
    if (im->n_published - im->n_claimed <= leave)
        return false;
    chunk *ch = &im->chunks[im->n_claimed++ % RING_SLOTS];
    pthread_mutex_unlock(&im->mu);
    parse_chunk(im, ch);
    pthread_mutex_lock(&im->mu);
    ch->parsed = true;
    pthread_cond_signal(&im->parsed_cv);
    return true;
}

static void *parser(void *arg)
{
    import_run *im = arg;
    pthread_mutex_lock(&im->mu);
    for (;;) {
        if (parse_one(im, 0))
            continue;
        if (im->stop)
            break;
        pthread_cond_wait(&im->work_cv, &im->mu);
    }
    pthread_mutex_unlock(&im->mu);
    return NULL;
}

/* ---- reader (the caller's thread) --------------------------------------- */

/* Publish the filled slots of the open chunk, then parse a chunk here too
 * (the parser thread takes the others), so both parse while the writer
 * stores. */
static void publish(import_run *im)
{
    if (im->filled == im->chunk_start)
        return;
    pthread_mutex_lock(&im->mu);
    im->chunks[im->n_published++ % RING_SLOTS] = (chunk){im->chunk_start, im->filled, false};
    pthread_cond_signal(&im->work_cv);
    /* Leave the newest chunk to the parser thread, which is woken for it:
     * parsing it here, under this very lock, would starve that thread. */
    parse_one(im, im->has_parser ? 1 : 0);
    im->seen_tail = im->tail;
    im->seen_failed = im->failed;
    pthread_mutex_unlock(&im->mu);
    im->chunk_start = im->filled;
}

/* The next free slot; NULL when the writer failed (unless `always`, for the
 * end markers that let the writer finish). */
static item *slot(import_run *im, bool always)
{
    if (im->filled - im->seen_tail == RING_SLOTS || (im->seen_failed && !always)) {
        publish(im);
        pthread_mutex_lock(&im->mu);
        /* While the ring is full, parse rather than wait when there is
         * something to parse. */
        while (im->filled - im->tail == RING_SLOTS && (always || !im->failed))
            if (!parse_one(im, 0))
                pthread_cond_wait(&im->space_cv, &im->mu);
        im->seen_tail = im->tail;
        im->seen_failed = im->failed;
        pthread_mutex_unlock(&im->mu);
        if (im->seen_failed && !always)
            return NULL;
    }
    item *it = &im->ring[im->filled % RING_SLOTS];
    /* The writer is done with this slot: drop its record wholesale.  Its
     * incident is the only reference to the values, so no decref walk. */
    json_arena_reset(&it->arena);
    free(it->why);
    it->why = NULL;
    return it;
}

/* A slot is filled: publish in chunks of CHUNK to keep locking rare. */
static void staged(import_run *im)
{
    im->filled++;
    if (im->filled - im->chunk_start >= CHUNK)
        publish(im);
}

/* End of a file or of the input: always delivered, then published. */
static void publish_marker(import_run *im, int kind)
{
    item *it = slot(im, true);
    it->kind = kind;
    im->filled++;
    publish(im);
}

static void progress(import_run *im, bool final)
{
    if (!im->o.on_progress)
        return;
    double t = mono();
    if (!final && t - im->t_last_progress < IMPORT_PROGRESS_SECONDS)
        return;
    im->t_last_progress = t;
    im->o.on_progress(im->o.ctx, im->file, im->seen, t - im->t_start, final);
}

/* The writer's error, once it failed. */
static int writer_failed(import_run *im, jiko_error *err)
{
    pthread_mutex_lock(&im->mu);
    *err = im->write_err;
    pthread_mutex_unlock(&im->mu);
    return -1;
}

static int one_record(import_run *im, const char *text, size_t len, long lineno, jiko_error *err)
{
    item *it = slot(im, false);
    if (!it)
        return writer_failed(im, err);
    im->seen++;
    if (len > it->cap) {
        char *p = realloc(it->text, len);
        if (!p) {
            error_nomem(err, "reading a record");
            return -1;
        }
        it->text = p;
        it->cap = len;
    }
    memcpy(it->text, text, len);
    it->len = len;
    it->line = lineno;
    it->file = im->file;
    it->kind = ITEM_RECORD;
    staged(im);
    progress(im, false);
    return 0;
}

int import_stream(import_run *im, FILE *fp, const char *name, jiko_error *err)
{
    lines in;
    lines_init(&in, fp, name);
    char *s;
    size_t len;
    int got, rc = 0;
    im->file = name;
    while (rc == 0 && (got = lines_next(&in, &s, &len, err)) > 0) {
        if (!intake_line(&s, &len, in.lineno))
            continue;
        rc = one_record(im, s, len, in.lineno, err);
    }
    /* a batch never spans two files, so each commit names one file: what
     * was read before a read failure is still stored */
    publish_marker(im, ITEM_END_OF_FILE);
    if (rc == 0 && got < 0)
        rc = -1;
    lines_free(&in);
    progress(im, true);
    return rc;
}

/* The incident to amend must be there already; *op gets its operator. */
static int check_amend(const import_opts *o, char **op, jiko_error *err)
{
    store_row row;
    int found = store_get(o->db, o->amend_op, o->amend_id, &row, err);
    if (found < 0)
        return -1;
    if (found == 0) {
        error_set(err, JIKO_ERR_NOT_FOUND, NULL, 0, "id", "no incident '%s'%s%s in the registry",
                  o->amend_id, o->amend_op ? " of " : "", o->amend_op ? o->amend_op : "");
        return -1;
    }
    *op = row.op; /* kept; the rest of the row goes */
    row.op = NULL;
    store_row_free(&row);
    return 0;
}

int import_open(import_run **out, const import_opts *o, jiko_error *err)
{
    *out = NULL;
    if (o->batch_size < 1 || o->batch_size > IMPORT_BATCH_MAX) {
        error_set(err, JIKO_ERR_INVALID, NULL, 0, "batch", "must be 1 to %d records",
                  IMPORT_BATCH_MAX);
        return -1;
    }
    if (!json_arena_installed()) {
        /* the slots' records are released by resetting their arenas */
        error_set(err, JIKO_ERR_CONFIG, NULL, 0, NULL,
                  "json_arena_install() must run before any JSON value is made");
        return -1;
    }
    char *stored_op = NULL;
    if (o->amend_id && check_amend(o, &stored_op, err))
        return -1;
    /* The ring of parsed records is large: keep it off the stack.  Zeroed
     * memory is a set of empty arenas (json_arena_init). */
    import_run *im = calloc(1, sizeof *im);
    if (!im) {
        free(stored_op);
        error_nomem(err, "starting the import");
        return -1;
    }
    im->amend_stored_op = stored_op;
    im->o = *o;
    im->keep_text = store_may_retry(o->db);
    im->rng = (uint64_t)o->intake.now_ms | 1;
    im->batch_off = malloc((size_t)o->batch_size * sizeof *im->batch_off);
    im->batch_line = malloc((size_t)o->batch_size * sizeof *im->batch_line);
    im->t_start = mono();
    if (!im->batch_off || !im->batch_line) {
        free(im->batch_off);
        free(im->batch_line);
        free(im->amend_stored_op);
        free(im);
        error_nomem(err, "starting the import");
        return -1;
    }
    pthread_mutex_init(&im->mu, NULL);
    pthread_cond_init(&im->parsed_cv, NULL);
    pthread_cond_init(&im->space_cv, NULL);
    pthread_cond_init(&im->work_cv, NULL);
    /* jansson seeds its hash function on first use; do it before there are
     * several parsing threads. */
    json_object_seed(0);
    if (pthread_create(&im->writer_thread, NULL, writer, im)) {
        error_set(err, JIKO_ERR_NOMEM, NULL, 0, NULL, "cannot start the writer thread");
        pthread_mutex_destroy(&im->mu);
        pthread_cond_destroy(&im->parsed_cv);
        pthread_cond_destroy(&im->space_cv);
        pthread_cond_destroy(&im->work_cv);
        free(im->batch_off);
        free(im->batch_line);
        free(im->amend_stored_op);
        free(im);
        return -1;
    }
    /* Without the parser thread the caller's thread parses everything:
     * slower, same result. */
    im->has_parser = pthread_create(&im->parser_thread, NULL, parser, im) == 0;
    *out = im;
    return 0;
}

bool import_failed(import_run *im)
{
    pthread_mutex_lock(&im->mu);
    bool failed = im->failed;
    pthread_mutex_unlock(&im->mu);
    return failed;
}

int import_close(import_run *im, import_counts *counts, jiko_error *err)
{
    publish_marker(im, ITEM_END);
    pthread_mutex_lock(&im->mu);
    im->stop = true;
    pthread_cond_signal(&im->work_cv);
    while (parse_one(im, 0))
        ;
    pthread_mutex_unlock(&im->mu);
    if (im->has_parser)
        pthread_join(im->parser_thread, NULL);
    pthread_join(im->writer_thread, NULL);
    int rc = 0;
    if (im->failed) {
        *err = im->write_err;
        rc = -1;
    }
    counts->stored = im->counts[STORE_STORED];
    counts->amended = im->counts[STORE_AMENDED];
    counts->unchanged = im->counts[STORE_UNCHANGED];
    counts->rejected = im->rejected;
    for (int i = 0; i < RING_SLOTS; i++) {
        json_arena_free(&im->ring[i].arena); /* the records' values with it */
        free(im->ring[i].text);
        free(im->ring[i].why);
    }
    free(im->batch_text);
    free(im->batch_off);
    free(im->batch_line);
    free(im->amend_stored_op);
    pthread_mutex_destroy(&im->mu);
    pthread_cond_destroy(&im->parsed_cv);
    pthread_cond_destroy(&im->space_cv);
    pthread_cond_destroy(&im->work_cv);
    free(im);
    return rc;
}
