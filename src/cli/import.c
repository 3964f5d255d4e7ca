/*
 * import.c — `jiko import` and `jiko amend`: validate, classify and store
 * incidents in the registry.  The work is the library's (registry/import.h):
 * this file reads the options, opens what the import needs and prints what
 * happens.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "import.h"
#include "json_arena.h"

typedef struct shell {
    const char *cmd;
    bool log_commits;
} shell;

static void on_reject(void *ctx, const jiko_error *why)
{
    (void)ctx;
    cli_print_error(why);
}

static void on_commit(void *ctx, long batch_no, const char *file, long first, long last)
{
    const shell *sh = ctx;
    if (sh->log_commits)
        fprintf(stderr, "jiko %s: committed batch %ld: %s lines %ld-%ld\n", sh->cmd, batch_no, file,
                first, last);
}

static void on_progress(void *ctx, const char *file, long records, double seconds, bool final)
{
    (void)ctx;
    fprintf(stderr, "\r%s: %ld records, %.0f/s%s", file, records,
            seconds > 0 ? records / seconds : 0, final ? "\n" : "   ");
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

    shell sh = {amend ? "amend" : "import", false};
    import_opts io = {0};
    io.batch_size = IMPORT_BATCH_DEFAULT;
    /* Before any jansson value exists: records are parsed into the import's
     * arenas (json_arena.h; the hook is process-global, and this process
     * runs one command). */
    json_arena_install();
    const char *db = NULL, *now = NULL, *lang = NULL, *rules_dir = NULL, *catalog_dir = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'b':
            if (cli_opt_long(sh.cmd, "--batch", "a record count from 1 to 1000000", optarg, 1,
                             IMPORT_BATCH_MAX, &io.batch_size))
                return CLI_USAGE;
            break;
        case 'L': sh.log_commits = true; break;
        case 'n': now = optarg; break;
        case 'l': lang = optarg; break;
        case 'R': rules_dir = optarg; break;
        case 'C': catalog_dir = optarg; break;
        case 'o': io.amend_op = optarg; break;
        case 'r': io.amend_reason = optarg; break;
        case 'h': help(stdout, amend); return CLI_OK;
        default: help(stderr, amend); return CLI_USAGE;
        }
    }
    classify_lang ui;
    if (cli_lang(lang, &ui)) {
        cli_error(sh.cmd, "--lang must be ja or en");
        return CLI_USAGE;
    }
    if (amend) {
        if (optind + 2 != argc) {
            help(stderr, true);
            return CLI_USAGE;
        }
        io.amend_id = argv[optind++];
    } else if (optind >= argc) {
        help(stderr, false);
        return CLI_USAGE;
    }
    if (cli_now(now, &io.intake.now_ms, sh.cmd))
        return CLI_USAGE;
    cli_env env;
    int rc = cli_env_load(&env, rules_dir, catalog_dir);
    if (rc)
        return rc;
    store *db_handle;
    if ((rc = cli_store_open(&db_handle, db, !amend, sh.cmd))) {
        cli_env_free(&env);
        return rc;
    }
    io.db = db_handle;
    io.intake.cat = &env.cat;
    io.intake.rules = &env.rules;
    io.on_reject = on_reject;
    io.on_commit = on_commit;
    if (isatty(STDERR_FILENO) && !sh.log_commits)
        io.on_progress = on_progress;
    io.ctx = &sh;
    import_run *im;
    jiko_error err;
    if (import_open(&im, &io, &err)) {
        if (err.kind == JIKO_ERR_NOT_FOUND)
            cli_error(sh.cmd, "%s; use 'jiko import' for new ones", err.message);
        else
            cli_fail(sh.cmd, &err);
        store_close(db_handle);
        cli_env_free(&env);
        return cli_status(&err);
    }
    int status = CLI_OK;
    bool store_failed = false;
    for (int i = optind; i < argc && !store_failed; i++) {
        const char *name;
        FILE *fp = cli_open_input(argv[i], sh.cmd, &name);
        if (!fp) {
            status = CLI_IO;
            continue;
        }
        if (import_stream(im, fp, name, &err)) {
            if (import_failed(im)) {
                store_failed = true; /* import_close reports it */
            } else {
                cli_fail(sh.cmd, &err);
                status = cli_status(&err);
            }
        }
        if (fp != stdin)
            fclose(fp);
    }
    import_counts n;
    if (import_close(im, &n, &err)) {
        cli_fail(sh.cmd, &err);
        status = cli_status(&err);
    }
    if (ui == CLASSIFY_JA)
        fprintf(stderr, "jiko %s: 新規 %ld、修正 %ld、変更なし %ld、却下 %ld\n", sh.cmd, n.stored,
                n.amended, n.unchanged, n.rejected);
    else
        fprintf(stderr, "jiko %s: %ld stored, %ld amended, %ld unchanged, %ld rejected\n", sh.cmd,
                n.stored, n.amended, n.unchanged, n.rejected);
    if (status == CLI_OK && n.rejected)
        status = CLI_REJECTED;
    store_close(db_handle);
    cli_env_free(&env);
    return status;
}

int cmd_import(int argc, char **argv) { return run(argc, argv, false); }
int cmd_amend(int argc, char **argv) { return run(argc, argv, true); }
