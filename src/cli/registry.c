/*
 * registry.c — reading the registry: `jiko list`, `jiko show`,
 * `jiko history`, `jiko export`.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "store_row.h"
#include "utf8.h"
#include "json_text.h"

typedef struct reader {
    const char *cmd;
    bool json;
    classify_lang lang;
    long n;
} reader;

static void help(FILE *out, const char *cmd)
{
    if (strcmp(cmd, "list") == 0 || strcmp(cmd, "export") == 0)
        fprintf(out,
                "usage: jiko %s [--fy YEAR] [--quarter Q] [--operator NAME] [--report TYPE]\n"
                "                 [--open|--closed] [--db URL]%s\n"
                "\n"
                "%s\n"
                "\n"
                "filters:\n"
                "  --fy YEAR          fiscal year (年度, April to March, by start date in JST)\n"
                "  --quarter Q        fiscal quarter 1-4 (1 = Apr-Jun ... 4 = Jan-Mar)\n"
                "  --operator NAME    reporting operator\n"
                "  --report TYPE      serious, detailed, simple or none\n"
                "  --open, --closed   ongoing incidents only / ended ones only\n",
                cmd, strcmp(cmd, "list") == 0 ? " [--json] [--lang ja|en]" : "",
                strcmp(cmd, "list") == 0
                    ? "List the current version of stored incidents, oldest first."
                    : "Write the current version of stored incidents as JSON Lines, exactly as\n"
                      "stored: 'jiko import' of the output reproduces the same records.");
    else
        fprintf(out,
                "usage: jiko %s ID [--operator NAME] [--db URL] [--json]\n"
                "\n"
                "%s\n",
                cmd,
                strcmp(cmd, "show") == 0
                    ? "Show one stored incident: its current record and classification."
                    : "Show every version of one incident, oldest first, with when and why it "
                      "changed.");
    fprintf(out,
            "\n"
            "  --db URL           registry (default $JIKO_DB or ./jiko.db; postgresql://...)\n"
            "  -h, --help         this help\n"
            "\n"
            "Exit status: 0 ok, 2 usage, 5 registry error, 6 incident not found.\n");
}

static void print_json(json_t *o)
{
    char *s = o ? json_text_of(o, 0, false, NULL) : NULL;
    if (s) {
        puts(s);
        free(s);
    }
    json_decref(o);
}

static int list_row(void *ctx, const store_row *r)
{
    reader *rd = ctx;
    if (rd->json) {
        print_json(store_row_json(r, false));
        rd->n++;
        return 0;
    }
    static const size_t w[] = {24, 24, 16, 10, 10, 10, 9};
    if (rd->n++ == 0) {
        const char *h_en[] = {"OPERATOR", "ID", "START (JST)", "DURATION", "USERS", "REPORT", "SERIOUS", "VERSION"};
        const char *h_ja[] = {"事業者", "ID", "発生日時", "継続時間", "影響利用者数", "報告", "重大区分", "版"};
        const char **h = rd->lang == CLASSIFY_JA ? h_ja : h_en;
        for (int i = 0; i < 7; i++)
            cli_pad(stdout, h[i], w[i]);
        printf("%s\n", h[7]);
    }
    char start[40], shortstart[20], dur[32], users[24], ver[12];
    jst_format(r->started_ms, start, sizeof start);
    snprintf(shortstart, sizeof shortstart, "%.10s %.5s", start, start + 11);
    if (r->ongoing)
        snprintf(dur, sizeof dur, "%s", rd->lang == CLASSIFY_JA ? "継続中" : "ongoing");
    else
        jst_format_duration(r->ended_ms - r->started_ms, dur, sizeof dur);
    snprintf(users, sizeof users, "%lld", (long long)r->users);
    snprintf(ver, sizeof ver, "%d", r->version);
    const char *cols[] = {r->op, r->id, shortstart, dur, users, r->report,
                          r->serious_categories[0] ? r->serious_categories : "-", ver};
    for (int i = 0; i < 7; i++)
        cli_pad(stdout, cols[i], w[i]);
    printf("%s\n", cols[7]);
    return 0;
}

static int export_row(void *ctx, const store_row *r)
{
    reader *rd = ctx;
    puts(r->record);
    rd->n++;
    return 0;
}

static int history_row(void *ctx, const store_row *r)
{
    reader *rd = ctx;
    rd->n++;
    if (rd->json) {
        print_json(store_version_json(r));
        return 0;
    }
    char t[40];
    printf("%s %d  %s  ", rd->lang == CLASSIFY_JA ? "版" : "version", r->version,
           jst_format(r->changed_ms, t, sizeof t));
    utf8_print_safe(stdout, r->reason); /* names files as given: may hold anything */
    fputs("\n  ", stdout);
    utf8_print_safe(stdout, r->record);
    putchar('\n');
    return 0;
}

static int run(int argc, char **argv, const char *cmd)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},       {"fy", required_argument, NULL, 'y'},
        {"quarter", required_argument, NULL, 'q'},  {"operator", required_argument, NULL, 'o'},
        {"report", required_argument, NULL, 'r'},   {"open", no_argument, NULL, 'O'},
        {"closed", no_argument, NULL, 'c'},         {"json", no_argument, NULL, 'j'},
        {"lang", required_argument, NULL, 'l'},     {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    reader rd = {cmd, false, CLASSIFY_EN, 0};
    store_filter f = {.open = -1};
    const char *db = NULL, *lang = NULL;
    bool by_id = strcmp(cmd, "show") == 0 || strcmp(cmd, "history") == 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'y':
            if (cli_opt_fy(cmd, optarg, &f.fiscal_year))
                return CLI_USAGE;
            break;
        case 'q': {
            long q;
            if (cli_opt_long(cmd, "--quarter", "a fiscal quarter 1-4", optarg, 1, 4, &q))
                return CLI_USAGE;
            f.quarter = (int)q;
            break;
        }
        case 'o': f.op = optarg; break;
        case 'r': f.report = optarg; break;
        case 'O': f.open = 1; break;
        case 'c': f.open = 0; break;
        case 'j': rd.json = true; break;
        case 'l': lang = optarg; break;
        case 'h': help(stdout, cmd); return CLI_OK;
        default: help(stderr, cmd); return CLI_USAGE;
        }
    }
    if (cli_lang(lang, &rd.lang)) {
        cli_error(cmd, "--lang must be ja or en");
        return CLI_USAGE;
    }
    if (f.report && strcmp(f.report, "serious") && strcmp(f.report, "detailed") &&
        strcmp(f.report, "simple") && strcmp(f.report, "none")) {
        cli_error(cmd, "--report expects serious, detailed, simple or none, got '%s'", f.report);
        return CLI_USAGE;
    }
    if (by_id ? optind + 1 != argc : optind != argc) {
        help(stderr, cmd);
        return CLI_USAGE;
    }
    store *s;
    int rc = cli_store_open(&s, db, false, cmd);
    if (rc)
        return rc;
    jiko_error err;
    int r = 0;
    if (!by_id) {
        r = store_list(s, &f, strcmp(cmd, "export") == 0 ? export_row : list_row, &rd, &err);
        if (r == 0 && rd.n == 0 && strcmp(cmd, "list") == 0 && !rd.json)
            fprintf(stderr, "jiko list: no incidents match\n");
    } else {
        store_row row;
        int found = store_get(s, f.op, argv[optind], &row, &err);
        if (found < 0)
            r = -1;
        else if (found == 0) {
            cli_error(cmd, "no incident '%s' in the registry", argv[optind]);
            rc = CLI_NOT_FOUND;
        } else if (strcmp(cmd, "show") == 0) {
            if (rd.json)
                print_json(store_row_json(&row, true));
            else {
                /* straight to stdout: no text to allocate (and none that
                 * json_arena's hook could own) */
                json_t *o = store_row_json(&row, true);
                if (o && json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0)
                    putchar('\n');
                json_decref(o);
            }
            store_row_free(&row);
        } else {
            r = store_history(s, row.op, row.id, history_row, &rd, &err);
            store_row_free(&row);
        }
    }
    if (r < 0)
        rc = cli_fail(cmd, &err);
    store_close(s);
    return rc;
}

int cmd_list(int argc, char **argv) { return run(argc, argv, "list"); }
int cmd_show(int argc, char **argv) { return run(argc, argv, "show"); }
int cmd_history(int argc, char **argv) { return run(argc, argv, "history"); }
int cmd_export(int argc, char **argv) { return run(argc, argv, "export"); }
