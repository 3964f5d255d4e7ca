/*
 * cli.h — shared pieces of the jiko command line: exit codes, loading the
 * rulebooks and catalogs, input files, language choice.
 */
#ifndef JIKO_CLI_H
#define JIKO_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "catalog.h"
#include "classify.h"
#include "rules.h"
#include "store.h"

/* Exit codes (documented in docs/jiko.1.md). */
enum {
    CLI_OK = 0,
    CLI_REJECTED = 1, /* some input records were rejected; the rest were processed */
    CLI_USAGE = 2,    /* bad command line */
    CLI_CONFIG = 3,   /* rulebooks or catalogs could not be loaded */
    CLI_IO = 4,       /* an input or output file could not be read or written */
    CLI_STORE = 5,    /* the registry could not be opened, read or written */
    CLI_NOT_FOUND = 6, /* the incident asked for is not in the registry */
    CLI_NOMEM = 7,     /* out of memory */
    CLI_WARNING = 10   /* jiko forecast: the final forecast warns */
};

/* The exit status for a library error, by its kind: the one place where
 * kinds become exit codes (invalid input 1, config 3, I/O 4, registry,
 * conflict, retry and forbidden 5, not found 6, out of memory 7). */
int cli_status(const jiko_error *e);

/* Print a rejected record's or line's error as "FILE:LINE: field 'F':
 * message" on standard error. */
void cli_print_error(const jiko_error *e);

/* Print "jiko CMD: FILE:LINE: field 'F': message" and return cli_status.
 * A conflict (an id stored for several operators) adds the option that
 * resolves it. */
int cli_fail(const char *cmd, const jiko_error *e);

/* A number option's value, strictly (num.h): the whole text, in range.
 * Prints "jiko CMD: OPT expects WHAT, got 'ARG'" and returns -1 otherwise. */
int cli_opt_long(const char *cmd, const char *opt, const char *what, const char *arg, long min,
                 long max, long *out);
int cli_opt_double(const char *cmd, const char *opt, const char *what, const char *arg,
                   double *out);

/* The fiscal-year option (--fy): a year from CLI_FY_MIN to CLI_FY_MAX. */
#define CLI_FY_MIN 1900
#define CLI_FY_MAX 9999
int cli_opt_fy(const char *cmd, const char *arg, int *fy);

/* --now TIME, or the clock when NULL.  Prints the error and returns -1 for a
 * time that is not RFC 3339. */
int cli_now(const char *arg, int64_t *ms, const char *cmd);

typedef struct cli_env {
    catalog cat;
    rules_set rules;
    const char *rules_dir, *catalog_dir;
} cli_env;

/* Resolve the data directories (option, then $JIKO_RULES_DIR /
 * $JIKO_CATALOG_DIR, then the built-in data directory) and load them.
 * Prints the error and returns CLI_CONFIG on failure. */
int cli_env_load(cli_env *env, const char *rules_dir, const char *catalog_dir);
void cli_env_free(cli_env *env);

/* --lang value, or from $LANG when NULL.  Returns -1 for an unknown value. */
int cli_lang(const char *arg, classify_lang *out);

/* Print "jiko CMD: message" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Open an input file, or standard input for "-"; *name is what errors call
 * it.  Prints the error and returns NULL when it cannot be opened. */
FILE *cli_open_input(const char *path, const char *cmd, const char **name);

/* The command's one optional FILE operand, after the options (standard
 * input when absent), opened with cli_open_input.  On failure returns NULL
 * with *status CLI_USAGE (more than one operand; usage(stderr) was called)
 * or CLI_IO (the file could not be opened; the error was printed). */
FILE *cli_open_operand(int argc, char **argv, const char *cmd, void (*usage)(FILE *),
                       const char **name, int *status);

/* "YYYY-MM-DD HH:MM:SS" in JST for a table column, or "-" for 0. */
const char *cli_jst_short(int64_t ms, char *buf, size_t size);

/* Left-justify s in `width` terminal columns (wide characters count 2). */
void cli_pad(FILE *out, const char *s, size_t width);

/* The registry's URL: --db value, else $JIKO_DB, else ./jiko.db. */
const char *cli_db_url(const char *arg);

/* Open the registry: --db value, else $JIKO_DB, else ./jiko.db; `create`
 * for the commands that write it (import), else it must exist and is
 * opened read-only when it cannot be written.  Prints the error and
 * returns its exit status on failure. */
int cli_store_open(store **db, const char *url, bool create, const char *cmd);

int cmd_classify(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_amend(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_detect(int argc, char **argv);
int cmd_forecast(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_webhook(int argc, char **argv);
int cmd_notice(int argc, char **argv);

#endif
