/*
 * import.c — `jiko import` and `jiko amend`: validate, classify and store
 * incidents in the registry.
 *
 * Input is streamed: records are parsed and classified one by one and
 * written in batches, one transaction per batch, so memory does not grow
 * with the file and a crash loses at most the batch in flight (which was
 * never reported as committed).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "incident.h"
#include "json_arena.h"
#include "store.h"

/*
 * Three threads share the work.  This one reads lines into a bounded ring
 * and publishes them in chunks of CHUNK records; it and a parser thread take
 * published chunks in turn and parse, validate and classify them (jansson
 * parsing is most of the CPU, more than one core's worth next to the
 * writer); a writer thread stores the chunks strictly in input order, so
 * commits, batches and the order of error messages are those of the input.
 * Rejected records travel through the ring too and are reported by the
 * writer, in line order.  Memory stays flat whatever the input size.
 */
#define RING_SLOTS 512
#define CHUNK 64

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
    char *msg; /* ITEM_REJECTED: the error to report */
} item;

/* A published run of ring slots [start, end), parsed or not yet. */
typedef struct chunk {
    size_t start, end;
    bool parsed;
} chunk;

typedef struct importer {
    const char *cmd;
    cli_env env;
    store *db;
    int64_t now_ms;
    classify_lang lang;
    long batch_size;
    bool log_commits, progress;
    const char *amend_id, *amend_op, *amend_reason;
    /* The ring: slots are filled by the reader, parsed chunk by chunk, then
     * stored by the writer.  Counters only grow; index modulo the sizes.
     * Each chunk holds at least one slot, so RING_SLOTS chunks suffice. */
    item ring[RING_SLOTS];
    chunk chunks[RING_SLOTS];
    size_t n_published, n_claimed, n_stored; /* chunks, under mu */
    size_t tail;                             /* slots stored, under mu */
    pthread_mutex_t mu;
    pthread_cond_t parsed_cv, space_cv, work_cv;
    bool stop;   /* no more chunks will be published: the parser may end */
    bool has_parser; /* the parser thread runs (else this thread parses all) */
    bool failed; /* the writer hit an error it cannot retry: stop reading */
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
    long counts[3];
    /* reader state */
    const char *file;
    long rejected, seen;
    double t_start, t_last_progress;
    int status;
} importer;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parse, check and classify one record; 0 ok, -1 rejected with the error
 * in msg.  Called from several threads: reads only the shared settings. */
static int prepare(const importer *im, item *it, const char *text, size_t len,
                   const char *file, long lineno, char *msg, size_t msgsize)
{
    jiko_error err;
    if (incident_parse(&it->inc, text, len, &im->env.cat, file, lineno, &err)) {
        error_format(&err, msg, msgsize);
        return -1;
    }
    const rulebook *book = rules_select(&im->env.rules, it->inc.started_ms);
    if (!book) {
        error_set(&err, file, lineno, "started_at",
                  "no rulebook is in force on that date; the earliest (%s) takes effect from FY%d",
                  im->env.rules.books[0].id, jst_fiscal_year(im->env.rules.books[0].effective));
        error_format(&err, msg, msgsize);
        incident_free(&it->inc);
        return -1;
    }
    if (im->amend_id && strcmp(it->inc.id, im->amend_id) != 0) {
        snprintf(msg, msgsize, "%s:%ld: field 'id': is \"%s\" but the incident to amend is \"%s\"",
                 file, lineno, it->inc.id, im->amend_id);
        incident_free(&it->inc);
        return -1;
    }
    classify_incident(book, &im->env.cat, &it->inc, im->now_ms, &it->res);
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

static void reason_for(importer *im, char *buf, size_t size, const char *file, long line)
{
    if (im->amend_id)
        snprintf(buf, size, "amended%s%s (from %s:%ld)", im->amend_reason ? ": " : "",
                 im->amend_reason ? im->amend_reason : "", file, line);
    else if (!fast_reason(buf, size, file, line))
        snprintf(buf, size, "imported from %s:%ld", file, line);
}

/* ---- writer thread ------------------------------------------------------ */

static int remember(importer *im, const item *it)
{
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
static int replay(importer *im, long *counts, jiko_error *err)
{
    int rc = store_begin(im->db, err);
    for (long i = 0; rc == 0 && i < im->n_batch; i++) {
        long end = i + 1 < im->n_batch ? im->batch_off[i + 1] : (long)im->batch_used;
        const char *t = im->batch_text + im->batch_off[i];
        size_t len = (size_t)(end - im->batch_off[i]);
        item it;
        memset(&it, 0, sizeof it);
        char msg[1200];
        if (prepare(im, &it, t, len, im->batch_file, im->batch_line[i], msg, sizeof msg))
            continue; /* cannot happen: it was valid a moment ago */
        char reason[600];
        reason_for(im, reason, sizeof reason, im->batch_file, im->batch_line[i]);
        store_outcome out;
        rc = store_put(im->db, &it.inc, &it.res, t, len, reason, im->now_ms, &out, err);
        if (rc == 0)
            counts[out]++;
        incident_free(&it.inc);
    }
    return rc;
}

/* After a retryable failure (rc -2: a PostgreSQL deadlock or serialization
 * failure aborted the transaction), roll back, wait a random 1-50 ms so that
 * the conflicting writers do not meet again, and store the whole batch
 * anew; `commit` also commits it.  Up to 8 attempts. */
static int retry_batch(importer *im, int rc, long *counts, bool commit, jiko_error *err)
{
    for (int attempt = 0; rc == -2 && attempt < 8; attempt++) {
        jiko_error ignore;
        store_rollback(im->db, &ignore);
        im->rng ^= im->rng << 13;
        im->rng ^= im->rng >> 7;
        im->rng ^= im->rng << 17;
        struct timespec ts = {0, (long)(1000000L * (1 + (long)(im->rng % 50)))};
        nanosleep(&ts, NULL);
        memset(counts, 0, 3 * sizeof *counts);
        rc = replay(im, counts, err);
        if (rc == 0 && commit)
            rc = store_commit(im->db, err);
    }
    return rc;
}

static int commit_batch(importer *im, long *counts, jiko_error *err)
{
    if (!im->n_batch)
        return 0;
    int rc = retry_batch(im, store_commit(im->db, err), counts, true, err);
    if (rc)
        return rc;
    for (int k = 0; k < 3; k++)
        im->counts[k] += counts[k];
    memset(counts, 0, 3 * sizeof *counts);
    im->batch_no++;
    if (im->log_commits)
        fprintf(stderr, "jiko %s: committed batch %ld: %s lines %ld-%ld\n", im->cmd, im->batch_no,
                im->batch_file, im->batch_line[0], im->batch_line[im->n_batch - 1]);
    im->n_batch = 0;
    im->batch_used = 0;
    return 0;
}

static int store_item(importer *im, item *it, long *counts, jiko_error *err)
{
    if (im->n_batch == 0) {
        int rc = store_begin(im->db, err);
        if (rc)
            return rc;
    }
    if (remember(im, it)) {
        error_set(err, NULL, 0, NULL, "out of memory");
        return -1;
    }
    char reason[600];
    reason_for(im, reason, sizeof reason, it->file, it->line);
    store_outcome out;
    int rc = store_put(im->db, &it->inc, &it->res, it->text, it->len, reason, im->now_ms, &out,
                       err);
    if (rc == 0)
        counts[out]++;
    /* the replay stores the whole batch again, this record included */
    rc = retry_batch(im, rc, counts, false, err);
    if (rc == 0 && im->n_batch == im->batch_size)
        rc = commit_batch(im, counts, err);
    return rc;
}

static void *writer(void *arg)
{
    importer *im = arg;
    long counts[3] = {0};
    jiko_error err;
    char msg[1200];
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
        for (size_t i = im->chunks[c % RING_SLOTS].start; i < end && !done; i++) {
            item *it = &im->ring[i % RING_SLOTS];
            done = it->kind == ITEM_END;
            if (it->kind == ITEM_REJECTED) {
                /* reported here, by the one thread that sees records in
                 * input order */
                fprintf(stderr, "%s\n", it->msg ? it->msg : "out of memory");
                im->rejected++;
                continue;
            }
            if (rc == 0) {
                if (it->kind == ITEM_RECORD)
                    rc = store_item(im, it, counts, &err);
                else
                    rc = commit_batch(im, counts, &err);
                if (rc) {
                    fprintf(stderr, "jiko %s: %s\n", im->cmd, error_format(&err, msg, sizeof msg));
                    jiko_error ignore;
                    store_rollback(im->db, &ignore);
                }
            }
            /* The slot's record is released by the reader when it reuses
             * the slot (json_arena_reset). */
        }
        pthread_mutex_lock(&im->mu);
        im->tail = end;
        im->n_stored = c_end;
        if (rc)
            im->failed = true;
        pthread_cond_signal(&im->space_cv);
        pthread_mutex_unlock(&im->mu);
    }
    return NULL;
}

/* ---- parsing (this thread and the parser thread) ------------------------ */

static void parse_chunk(const importer *im, const chunk *ch)
{
    char msg[1200];
    for (size_t i = ch->start; i < ch->end; i++) {
        item *it = &((importer *)im)->ring[i % RING_SLOTS];
        if (it->kind != ITEM_RECORD)
            continue;
        json_arena_use(&it->arena);
        int bad = prepare(im, it, it->text, it->len, it->file, it->line, msg, sizeof msg);
        json_arena_use(NULL);
        if (bad) {
            it->kind = ITEM_REJECTED;
            it->msg = strdup(msg); /* NULL: the writer reports "out of memory" */
        }
    }
}

/* Parse the oldest published chunk nobody has taken, when more than `leave`
 * wait; false when there is none.  Called with mu held; returns with it
 * held. */
static bool parse_one(importer *im, size_t leave)
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
    importer *im = arg;
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

/* ---- reader (this thread) ---------------------------------------------- */

/* Publish the filled slots of the open chunk, then parse a chunk here too
 * (the parser thread takes the others), so both parse while the writer
 * stores. */
static void publish(importer *im)
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
static item *slot(importer *im, bool always)
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
    free(it->msg);
    it->msg = NULL;
    return it;
}

/* A slot is filled: publish in chunks of CHUNK to keep locking rare. */
static void staged(importer *im)
{
    im->filled++;
    if (im->filled - im->chunk_start >= CHUNK)
        publish(im);
}

/* End of a file or of the input: always delivered, then published. */
static void publish_marker(importer *im, int kind)
{
    item *it = slot(im, true);
    it->kind = kind;
    im->filled++;
    publish(im);
}

static void progress(importer *im, bool final)
{
    if (!im->progress)
        return;
    double t = mono();
    if (!final && t - im->t_last_progress < 0.5)
        return;
    im->t_last_progress = t;
    double el = t - im->t_start;
    fprintf(stderr, "\r%s: %ld records, %.0f/s%s", im->file, im->seen, el > 0 ? im->seen / el : 0,
            final ? "\n" : "   ");
}

static int one_record(importer *im, const char *text, size_t len, long lineno)
{
    item *it = slot(im, false);
    if (!it)
        return -1;
    im->seen++;
    if (len > it->cap) {
        char *p = realloc(it->text, len);
        if (!p) {
            fprintf(stderr, "jiko %s: out of memory\n", im->cmd);
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

static int one_stream(importer *im, FILE *fp, const char *name)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int rc = 0;
    im->file = name;
    while (rc == 0 && (n = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        size_t len = (size_t)n;
        char *s = line;
        if (!cli_record_line(&s, &len, lineno))
            continue;
        rc = one_record(im, s, len, lineno);
    }
    /* a batch never spans two files, so each commit names one file */
    publish_marker(im, ITEM_END_OF_FILE);
    if (rc == 0 && ferror(fp)) {
        cli_error(im->cmd, "%s: read error", name);
        im->status = CLI_IO;
    }
    free(line);
    progress(im, true);
    return rc;
}

static void help(FILE *out, bool amend)
{
    if (amend)
        fprintf(out,
                "usage: jiko amend ID [--operator NAME] [--reason TEXT] [OPTIONS] FILE|-\n"
                "\n"
                "Amend a stored incident: FILE holds its new version (one JSON record with the\n"
                "same id).  The new version becomes current; earlier versions are kept with\n"
                "when and why they changed ('jiko history ID').\n");
    else
        fprintf(out,
                "usage: jiko import [OPTIONS] FILE...|-\n"
                "\n"
                "Validate, classify and store incidents (JSON Lines) in the registry.  A new\n"
                "(operator, id) is stored; a changed record is an amendment (the new version\n"
                "is current, earlier ones are kept); an identical one is left unchanged.\n"
                "Invalid records are reported as FILE:LINE: field 'NAME': ... and stored\n"
                "nothing; the valid rest is stored.  Writes are one transaction per batch.\n");
    fprintf(out,
            "\n"
            "options:\n"
            "  --db URL           registry: a SQLite file (default $JIKO_DB or ./jiko.db)\n"
            "                     or postgresql://user@host/db (also ?host=/socket/dir)\n"
            "  --batch N          records per transaction (default 1000)\n"
            "  --log-commits      report each committed batch on standard error\n"
            "  --now TIME         the current time for ongoing incidents (default: clock)\n"
            "  --lang ja|en       language of messages\n"
            "  --rules-dir DIR, --catalog-dir DIR   data directories (see jiko classify)\n"
            "  -h, --help         this help\n"
            "\n"
            "Summary on standard error: stored, amended, unchanged, rejected.  Exit status:\n"
            "0 ok, 1 some records rejected, 2 usage, 3 rulebook/catalog, 4 file, 5 registry.\n");
}

static int run(importer *im, int argc, char **argv, bool amend)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},      {"batch", required_argument, NULL, 'b'},
        {"log-commits", no_argument, NULL, 'L'},   {"now", required_argument, NULL, 'n'},
        {"lang", required_argument, NULL, 'l'},    {"rules-dir", required_argument, NULL, 'R'},
        {"catalog-dir", required_argument, NULL, 'C'}, {"operator", required_argument, NULL, 'o'},
        {"reason", required_argument, NULL, 'r'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};

    im->cmd = amend ? "amend" : "import";
    im->batch_size = 1000;
    /* Before any jansson value exists: records are parsed into the ring's
     * arenas (json_arena.h; the hook is process-global, and this process
     * runs one command). */
    json_arena_install();
    const char *db = NULL, *now = NULL, *lang = NULL, *rules_dir = NULL, *catalog_dir = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'b': im->batch_size = atol(optarg); break;
        case 'L': im->log_commits = true; break;
        case 'n': now = optarg; break;
        case 'l': lang = optarg; break;
        case 'R': rules_dir = optarg; break;
        case 'C': catalog_dir = optarg; break;
        case 'o': im->amend_op = optarg; break;
        case 'r': im->amend_reason = optarg; break;
        case 'h': help(stdout, amend); return CLI_OK;
        default: help(stderr, amend); return CLI_USAGE;
        }
    }
    if (im->batch_size < 1 || im->batch_size > 1000000) {
        cli_error(im->cmd, "--batch must be 1 to 1000000");
        return CLI_USAGE;
    }
    if (cli_lang(lang, &im->lang)) {
        cli_error(im->cmd, "--lang must be ja or en");
        return CLI_USAGE;
    }
    if (amend) {
        if (optind + 2 != argc) {
            help(stderr, true);
            return CLI_USAGE;
        }
        im->amend_id = argv[optind++];
    } else if (optind >= argc) {
        help(stderr, false);
        return CLI_USAGE;
    }
    im->now_ms = wall_ms();
    if (now) {
        const char *why;
        if (!jst_parse_rfc3339(now, strlen(now), &im->now_ms, &why)) {
            cli_error(im->cmd, "--now '%s': %s", now, why);
            return CLI_USAGE;
        }
    }
    int rc = cli_env_load(&im->env, rules_dir, catalog_dir);
    if (rc)
        return rc;
    rc = cli_store_open(&im->db, db, im->cmd);
    if (rc) {
        cli_env_free(&im->env);
        return rc;
    }
    if (amend) {
        store_row row;
        jiko_error err;
        char msg[1200];
        int found = store_get(im->db, im->amend_op, im->amend_id, &row, &err);
        if (found < 0) {
            cli_error(im->cmd, "%s", error_format(&err, msg, sizeof msg));
            rc = CLI_STORE;
        } else if (found == 0) {
            cli_error(im->cmd, "no incident '%s' in the registry; use 'jiko import' for new ones",
                      im->amend_id);
            rc = CLI_NOT_FOUND;
        }
        if (found > 0)
            store_row_free(&row);
        if (rc) {
            store_close(im->db);
            cli_env_free(&im->env);
            return rc;
        }
    }
    im->keep_text = store_may_retry(im->db);
    im->rng = (uint64_t)im->now_ms | 1;
    im->batch_off = malloc((size_t)im->batch_size * sizeof *im->batch_off);
    im->batch_line = malloc((size_t)im->batch_size * sizeof *im->batch_line);
    im->progress = isatty(STDERR_FILENO) && !im->log_commits;
    im->t_start = mono();
    im->status = CLI_OK;
    pthread_mutex_init(&im->mu, NULL);
    pthread_cond_init(&im->parsed_cv, NULL);
    pthread_cond_init(&im->space_cv, NULL);
    pthread_cond_init(&im->work_cv, NULL);
    /* jansson seeds its hash function on first use; do it before there are
     * several parsing threads. */
    json_object_seed(0);
    pthread_t wt, pt;
    if (!im->batch_off || !im->batch_line || pthread_create(&wt, NULL, writer, im)) {
        cli_error(im->cmd, "cannot start the writer");
        store_close(im->db);
        cli_env_free(&im->env);
        return CLI_STORE;
    }
    /* Without the parser thread this one parses everything: slower, same
     * result. */
    im->has_parser = pthread_create(&pt, NULL, parser, im) == 0;
    for (int i = optind; i < argc && im->status != CLI_STORE; i++) {
        bool is_stdin = strcmp(argv[i], "-") == 0;
        FILE *fp = is_stdin ? stdin : fopen(argv[i], "r");
        if (!fp) {
            cli_error(im->cmd, "%s: %s", argv[i], strerror(errno));
            im->status = CLI_IO;
            continue;
        }
        if (one_stream(im, fp, is_stdin ? "<stdin>" : argv[i]))
            im->status = CLI_STORE;
        if (!is_stdin)
            fclose(fp);
    }
    publish_marker(im, ITEM_END);
    pthread_mutex_lock(&im->mu);
    im->stop = true;
    pthread_cond_signal(&im->work_cv);
    while (parse_one(im, 0))
        ;
    pthread_mutex_unlock(&im->mu);
    if (im->has_parser)
        pthread_join(pt, NULL);
    pthread_join(wt, NULL);
    if (im->failed)
        im->status = CLI_STORE;
    for (int i = 0; i < RING_SLOTS; i++) {
        json_arena_free(&im->ring[i].arena); /* the records' values with it */
        free(im->ring[i].text);
        free(im->ring[i].msg);
    }
    free(im->batch_text);
    free(im->batch_off);
    free(im->batch_line);
    pthread_mutex_destroy(&im->mu);
    pthread_cond_destroy(&im->parsed_cv);
    pthread_cond_destroy(&im->space_cv);
    pthread_cond_destroy(&im->work_cv);
    if (im->lang == CLASSIFY_JA)
        fprintf(stderr, "jiko %s: 新規 %ld、修正 %ld、変更なし %ld、却下 %ld\n", im->cmd,
                im->counts[STORE_STORED], im->counts[STORE_AMENDED], im->counts[STORE_UNCHANGED],
                im->rejected);
    else
        fprintf(stderr, "jiko %s: %ld stored, %ld amended, %ld unchanged, %ld rejected\n", im->cmd,
                im->counts[STORE_STORED], im->counts[STORE_AMENDED], im->counts[STORE_UNCHANGED],
                im->rejected);
    if (im->status == CLI_OK && im->rejected)
        im->status = CLI_REJECTED;
    store_close(im->db);
    cli_env_free(&im->env);
    return im->status;
}

static int run_alloc(int argc, char **argv, bool amend)
{
    /* The ring of parsed records is large: keep it off the stack.  Zeroed
     * memory is a set of empty arenas (json_arena_init). */
    importer *im = calloc(1, sizeof *im);
    if (!im) {
        cli_error(amend ? "amend" : "import", "out of memory");
        return CLI_STORE;
    }
    int rc = run(im, argc, argv, amend);
    free(im);
    return rc;
}


int cmd_import(int argc, char **argv) { return run_alloc(argc, argv, false); }
int cmd_amend(int argc, char **argv) { return run_alloc(argc, argv, true); }
