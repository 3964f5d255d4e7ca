/*
 * main.c — the jiko command: dispatches to one subcommand per file
 * (classify.c, rules.c, ...), each with its own --help.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "store.h"

#ifndef JIKO_VERSION
#define JIKO_VERSION "0.1.0"
#endif

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} commands[] = {
    {"classify", cmd_classify, "decide which report an incident owes, with deadlines"},
    {"rules", cmd_rules, "list and show the rulebooks (reporting rules as data)"},
    {"import", cmd_import, "validate, classify and store incidents in the registry"},
    {"amend", cmd_amend, "store a new version of one incident, keeping its history"},
    {"list", cmd_list, "list stored incidents (filters: fiscal year, quarter, operator, ...)"},
    {"show", cmd_show, "show one stored incident"},
    {"history", cmd_history, "every version of one incident, with when and why it changed"},
    {"export", cmd_export, "write stored incidents as JSON Lines"},
    {"report", cmd_report, "yearly statistics as MIC publishes them, case sheets, quarterly batches"},
    {"synth", cmd_synth, "synthetic incidents that reproduce a published year (FY2021)"},
    {"detect", cmd_detect, "score KPI series for anomalies (CSV, Influx, NAB layout)"},
    {"forecast", cmd_forecast, "when will a disk, memory or session table reach its limit?"},
    {"serve", cmd_serve, "the HTTP API over the registry, with tokens, limits and /metrics"},
    {"token", cmd_token, "API tokens for the server: create, list, revoke"},
    {"replay", cmd_replay, "send a recorded KPI file to a server, as if it were happening now"},
    {"notice", cmd_notice, "public notices: drafts of 初報/続報/復旧報, the status page and Atom feed"},
    {"webhook", cmd_webhook, "outgoing webhooks: queue a test event, deliver, list the outbox"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "jiko (事故) — telecom accident reporting under Japan's Telecommunications Business Act\n"
            "\n"
            "usage: jiko COMMAND [OPTIONS] [ARGS]\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "  jiko COMMAND --help   options of one command\n"
            "  jiko --version        version\n"
            "\n"
            "Exit status: 0 ok, 1 some records rejected, 2 usage error, 3 rulebook or\n"
            "catalog error, 4 file error, 5 registry error, 6 incident not found,\n"
            "7 out of memory.\n"
            "Manual: docs/jiko.1.md\n");
}

/* Every command's output is checked here, once: a write that failed at
 * any point (a full disk, /dev/full, a closed pipe's reader gone) makes
 * the command fail with a message, whatever it printed before. */
static int finish(const char *cmd, int status)
{
    errno = 0;
    int flushed = fflush(stdout);
    if (flushed != 0 || ferror(stdout)) {
        int e = errno;
        if (e)
            cli_error(cmd, "cannot write the output: %s", strerror(e));
        else
            cli_error(cmd, "cannot write the output");
        if (status == CLI_OK || status == CLI_REJECTED || status == CLI_WARNING)
            status = CLI_IO;
    }
    return status;
}

int main(int argc, char **argv)
{
    store_process_setup();
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (argc > 2 && strcmp(argv[1], "help") == 0) {
            for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
                if (strcmp(argv[2], commands[i].name) == 0) {
                    char *av[] = {argv[2], "--help", NULL};
                    return commands[i].fn(2, av);
                }
        }
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("jiko %s\n", JIKO_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return finish(commands[i].name, commands[i].fn(argc - 1, argv + 1));
    fprintf(stderr, "jiko: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
