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
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "incident.h"
#include "store.h"

typedef struct pending {
    incident inc;
    classify_result res;
    char *text;
    size_t len;
    long line;
} pending;

typedef struct importer {
    const char *cmd;
    cli_env env;
    store *db;
    int64_t now_ms;
    classify_lang lang;
    long batch_size;
    bool log_commits, progress;
    const char *amend_id, *amend_op, *amend_reason;
    pending *batch;
    long n_batch, batch_no;
    const char *file;
    long counts[3], rejected, seen;
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

static void clear_batch(importer *im)
{
    for (long i = 0; i < im->n_batch; i++) {
        incident_free(&im->batch[i].inc);
        free(im->batch[i].text);
    }
    im->n_batch = 0;
}

/* Write the pending batch in one transaction; replay it when the backend
 * says the transaction may succeed if retried (deadlock, serialization). */
static int flush(importer *im)
{
    if (!im->n_batch)
        return 0;
    jiko_error err;
    char msg[1200];
    for (int attempt = 0; attempt < 8; attempt++) {
        long counts[3] = {0};
        int rc = store_begin(im->db, &err);
        for (long i = 0; rc == 0 && i < im->n_batch; i++) {
            pending *p = &im->batch[i];
            char reason[600];
            if (im->amend_id)
                snprintf(reason, sizeof reason, "amended%s%s (from %s:%ld)",
                         im->amend_reason ? ": " : "", im->amend_reason ? im->amend_reason : "",
                         im->file, p->line);
            else
                snprintf(reason, sizeof reason, "imported from %s:%ld", im->file, p->line);
            store_outcome out;
            rc = store_put(im->db, &p->inc, &p->res, p->text, p->len, reason, im->now_ms, &out,
                           &err);
            if (rc == 0)
                counts[out]++;
        }
        if (rc == 0)
            rc = store_commit(im->db, &err);
        if (rc == 0) {
            for (int k = 0; k < 3; k++)
                im->counts[k] += counts[k];
            im->batch_no++;
            if (im->log_commits)
                fprintf(stderr, "jiko %s: committed batch %ld: %s lines %ld-%ld\n", im->cmd,
                        im->batch_no, im->file, im->batch[0].line, im->batch[im->n_batch - 1].line);
            clear_batch(im);
            return 0;
        }
        jiko_error ignore;
        store_rollback(im->db, &ignore);
        if (rc != -2) {
            fprintf(stderr, "jiko %s: %s\n", im->cmd, error_format(&err, msg, sizeof msg));
            return -1;
        }
        struct timespec ts = {0, (long)(1000000L * (1 + rand() % 50))};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "jiko %s: giving up after repeated conflicts: %s\n", im->cmd,
            error_format(&err, msg, sizeof msg));
    return -1;
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
    pending *p = &im->batch[im->n_batch];
    jiko_error err;
    char msg[1200];
    im->seen++;
    if (incident_parse(&p->inc, text, len, &im->env.cat, im->file, lineno, &err)) {
        fprintf(stderr, "%s\n", error_format(&err, msg, sizeof msg));
        im->rejected++;
        return 0;
    }
    const rulebook *book = rules_select(&im->env.rules, p->inc.started_ms);
    if (!book) {
        error_set(&err, im->file, lineno, "started_at",
                  "no rulebook is in force on that date; the earliest (%s) takes effect from FY%d",
                  im->env.rules.books[0].id, jst_fiscal_year(im->env.rules.books[0].effective));
        fprintf(stderr, "%s\n", error_format(&err, msg, sizeof msg));
        im->rejected++;
        incident_free(&p->inc);
        return 0;
    }
    if (im->amend_id && strcmp(p->inc.id, im->amend_id) != 0) {
        fprintf(stderr, "%s:%ld: field 'id': is \"%s\" but the incident to amend is \"%s\"\n",
                im->file, lineno, p->inc.id, im->amend_id);
        im->rejected++;
        incident_free(&p->inc);
        return 0;
    }
    classify_incident(book, &im->env.cat, &p->inc, im->now_ms, &p->res);
    p->text = malloc(len);
    if (!p->text) {
        incident_free(&p->inc);
        fprintf(stderr, "jiko %s: out of memory\n", im->cmd);
        return -1;
    }
    memcpy(p->text, text, len);
    p->len = len;
    p->line = lineno;
    im->n_batch++;
    progress(im, false);
    if (im->n_batch == im->batch_size)
        return flush(im);
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
        if (lineno == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            s += 3;
            len -= 3;
        }
        while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
            len--;
        size_t k = 0;
        while (k < len && (s[k] == ' ' || s[k] == '\t'))
            k++;
        if (k == len)
            continue;
        rc = one_record(im, s, len, lineno);
    }
    if (rc == 0)
        rc = flush(im);
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

static int run(int argc, char **argv, bool amend)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},      {"batch", required_argument, NULL, 'b'},
        {"log-commits", no_argument, NULL, 'L'},   {"now", required_argument, NULL, 'n'},
        {"lang", required_argument, NULL, 'l'},    {"rules-dir", required_argument, NULL, 'R'},
        {"catalog-dir", required_argument, NULL, 'C'}, {"operator", required_argument, NULL, 'o'},
        {"reason", required_argument, NULL, 'r'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    importer im = {0};
    im.cmd = amend ? "amend" : "import";
    im.batch_size = 1000;
    const char *db = NULL, *now = NULL, *lang = NULL, *rules_dir = NULL, *catalog_dir = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'b': im.batch_size = atol(optarg); break;
        case 'L': im.log_commits = true; break;
        case 'n': now = optarg; break;
        case 'l': lang = optarg; break;
        case 'R': rules_dir = optarg; break;
        case 'C': catalog_dir = optarg; break;
        case 'o': im.amend_op = optarg; break;
        case 'r': im.amend_reason = optarg; break;
        case 'h': help(stdout, amend); return CLI_OK;
        default: help(stderr, amend); return CLI_USAGE;
        }
    }
    if (im.batch_size < 1 || im.batch_size > 1000000) {
        cli_error(im.cmd, "--batch must be 1 to 1000000");
        return CLI_USAGE;
    }
    if (cli_lang(lang, &im.lang)) {
        cli_error(im.cmd, "--lang must be ja or en");
        return CLI_USAGE;
    }
    if (amend) {
        if (optind + 2 != argc) {
            help(stderr, true);
            return CLI_USAGE;
        }
        im.amend_id = argv[optind++];
    } else if (optind >= argc) {
        help(stderr, false);
        return CLI_USAGE;
    }
    im.now_ms = wall_ms();
    if (now) {
        const char *why;
        if (!jst_parse_rfc3339(now, strlen(now), &im.now_ms, &why)) {
            cli_error(im.cmd, "--now '%s': %s", now, why);
            return CLI_USAGE;
        }
    }
    int rc = cli_env_load(&im.env, rules_dir, catalog_dir);
    if (rc)
        return rc;
    rc = cli_store_open(&im.db, db, im.cmd);
    if (rc) {
        cli_env_free(&im.env);
        return rc;
    }
    if (amend) {
        store_row row;
        jiko_error err;
        char msg[1200];
        int found = store_get(im.db, im.amend_op, im.amend_id, &row, &err);
        if (found < 0) {
            cli_error(im.cmd, "%s", error_format(&err, msg, sizeof msg));
            rc = CLI_STORE;
        } else if (found == 0) {
            cli_error(im.cmd, "no incident '%s' in the registry; use 'jiko import' for new ones",
                      im.amend_id);
            rc = CLI_NOT_FOUND;
        }
        if (found > 0)
            store_row_free(&row);
        if (rc) {
            store_close(im.db);
            cli_env_free(&im.env);
            return rc;
        }
    }
    im.batch = calloc((size_t)im.batch_size, sizeof *im.batch);
    im.progress = isatty(STDERR_FILENO) && !im.log_commits;
    im.t_start = mono();
    im.status = CLI_OK;
    for (int i = optind; i < argc && im.status != CLI_STORE; i++) {
        bool is_stdin = strcmp(argv[i], "-") == 0;
        FILE *fp = is_stdin ? stdin : fopen(argv[i], "r");
        if (!fp) {
            cli_error(im.cmd, "%s: %s", argv[i], strerror(errno));
            im.status = CLI_IO;
            continue;
        }
        if (one_stream(&im, fp, is_stdin ? "<stdin>" : argv[i]))
            im.status = CLI_STORE;
        if (!is_stdin)
            fclose(fp);
    }
    clear_batch(&im);
    free(im.batch);
    if (im.lang == CLASSIFY_JA)
        fprintf(stderr, "jiko %s: 新規 %ld、修正 %ld、変更なし %ld、却下 %ld\n", im.cmd,
                im.counts[STORE_STORED], im.counts[STORE_AMENDED], im.counts[STORE_UNCHANGED],
                im.rejected);
    else
        fprintf(stderr, "jiko %s: %ld stored, %ld amended, %ld unchanged, %ld rejected\n", im.cmd,
                im.counts[STORE_STORED], im.counts[STORE_AMENDED], im.counts[STORE_UNCHANGED],
                im.rejected);
    if (im.status == CLI_OK && im.rejected)
        im.status = CLI_REJECTED;
    store_close(im.db);
    cli_env_free(&im.env);
    return im.status;
}

int cmd_import(int argc, char **argv) { return run(argc, argv, false); }
int cmd_amend(int argc, char **argv) { return run(argc, argv, true); }
